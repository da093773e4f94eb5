//! `async_semaphore`: tokio multi-thread runtime, N tasks, Semaphore(C), one shared Client.

use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::strategy::{Pool, Strategy, StrategyError};
use super::tasks::join_all;
use crate::clients::reqwest_client::{Offloaded, reqwest_client};
use crate::clients::request::tasks::{self, Slot};
use crate::clients::runtime::{Tokio, multi_thread_runtime};
use crate::model::job::Job;
use crate::model::tally::Tally;
use crate::model::subject::{RunsOn, HeldBy, ClientLib, Holds, Kind, Subject, Family, Part};


/// The facts of `async_semaphore`.
pub const STRATEGY: Strategy = Strategy {
    subject: Subject {
            name: "async_semaphore",
            models: "tokio multi-thread, N tasks, Semaphore(C), shared reqwest Client (asyncio + Semaphore)",
            holds: Holds::Concurrency,
            held_by: HeldBy::Task,
            runs_on: RunsOn::Tokio,
            client: ClientLib::Reqwest,
            protocol: None,
            connection_per_request: false,
            kind: Kind::Strategy,
            family: Some(Family {
                model: "tokio tasks",
                part: Part::Library,
            }),
    },
    pool: Pool::SharedClient,
    run,
};

/// Runs `semaphore_tasks` on a multi-thread runtime.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let runtime = multi_thread_runtime(job).map_err(StrategyError::Runtime)?;
    runtime.block_on(semaphore_tasks(job, tally, CpuWork::OnTheTask))
}

/// Where a response's CPU work (`--cpu-us`) runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum CpuWork {
    /// On the task that got the response, so on a runtime worker.
    OnTheTask,
    /// On tokio's blocking pool, awaited by the task (`async_cpu_offload`).
    OnTheBlockingPool,
}

/// Spawns all N tasks at once; each waits for one of C permits before its request. Shared
/// with `async_current_thread` and `async_cpu_offload`, so each differs from this strategy
/// only in its runtime or where the CPU work runs.
pub(super) async fn semaphore_tasks(
    job: &Arc<Job>,
    tally: &Arc<Tally>,
    cpu_work: CpuWork,
) -> Result<(), StrategyError> {
    let client = reqwest_client(job)?;
    let permits = Arc::new(Semaphore::new(job.concurrency));
    let mut tasks = JoinSet::new();
    for _ in 0..job.requests {
        let (client, permits) = (client.clone(), Arc::clone(&permits));
        let (job, tally) = (Arc::clone(job), Arc::clone(tally));
        tasks.spawn(async move {
            let _permit = permits.acquire().await;
            match cpu_work {
                CpuWork::OnTheTask => {
                    tasks::request::<Tokio, _>(&client, &mut Slot::default(), &job, &tally).await;
                }
                CpuWork::OnTheBlockingPool => {
                    let client = Offloaded {
                        client,
                        job: Arc::clone(&job),
                    };
                    tasks::request::<Tokio, _>(&client, &mut Slot::default(), &job, &tally).await;
                }
            }
        });
    }
    join_all(tasks, tally).await;
    Ok(())
}

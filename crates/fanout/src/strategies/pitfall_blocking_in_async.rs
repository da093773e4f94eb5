//! `pitfall_blocking_in_async`: a blocking ureq call inside async tasks — each call stalls a
//! runtime worker, so only about as many requests as workers are ever in flight.

use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::strategy::{Pool, Strategy, StrategyError};
use super::tasks::join_all;
use crate::clients::runtime::multi_thread_runtime;
use crate::clients::request::blocking;
use crate::clients::ureq_agent::{self, Ureq, ureq_agent};
use crate::model::job::Job;
use crate::model::tally::Tally;
use crate::model::subject::{RunsOn, HeldBy, ClientLib, Cost, Holds, Kind, Pitfall, Subject};


/// The facts of `pitfall_blocking_in_async`.
pub const STRATEGY: Strategy = Strategy {
    subject: Subject {
            name: "pitfall_blocking_in_async",
            models: "ureq called inside async tasks: in flight = tokio workers (requests.get in a coroutine)",
            holds: Holds::Workers,
            held_by: HeldBy::Task,
            runs_on: RunsOn::Tokio,
            client: ClientLib::Ureq,
            protocol: None,
            connection_per_request: false,
            kind: Kind::Pitfall(Pitfall {
                mistake: "blocking calls inside async tasks",
                spoils: "async_semaphore",
                costs: Cost::Wall,
                because: "in flight = the runtime's workers",
            }),
            family: None,
    },
    pool: Pool::SharedAgent,
    run,
};

/// Like `async_semaphore`, but the request inside each task is ureq's blocking call.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let runtime = multi_thread_runtime(job).map_err(StrategyError::Runtime)?;
    runtime.block_on(async {
        let client = Ureq {
            uri: ureq_agent::target(job)?,
            agent: ureq_agent(job, job.concurrency),
        };
        let permits = Arc::new(Semaphore::new(job.concurrency));
        let mut tasks = JoinSet::new();
        for _ in 0..job.requests {
            let (client, permits) = (client.clone(), Arc::clone(&permits));
            let (job, tally) = (Arc::clone(job), Arc::clone(tally));
            tasks.spawn(async move {
                let _permit = permits.acquire().await;
                // The pitfall: blocks the worker thread.
                blocking::request(&client, &mut None, &job, &tally);
            });
        }
        join_all(tasks, tally).await;
        Ok(())
    })
}

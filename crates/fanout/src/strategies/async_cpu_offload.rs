//! `async_cpu_offload`: `async_semaphore` with each response's CPU work (`--cpu-us`) moved to
//! tokio's blocking pool, so the runtime workers only do I/O. Its twin is `async_semaphore`.

use std::sync::Arc;

use super::strategy::{Pool, Strategy, StrategyError};
use super::async_semaphore::{CpuWork, semaphore_tasks};
use crate::clients::runtime::multi_thread_runtime;
use crate::model::job::Job;
use crate::model::tally::Tally;
use crate::model::subject::{RunsOn, HeldBy, ClientLib, Holds, Kind, Subject};


/// The facts of `async_cpu_offload`.
pub const STRATEGY: Strategy = Strategy {
    subject: Subject {
            name: "async_cpu_offload",
            models: "async_semaphore with each response's CPU work (--cpu-us) in spawn_blocking, off the runtime workers",
            holds: Holds::Concurrency,
            held_by: HeldBy::Task,
            runs_on: RunsOn::Tokio,
            client: ClientLib::Reqwest,
            protocol: None,
            connection_per_request: false,
            kind: Kind::Strategy,
            family: None,
    },
    pool: Pool::SharedClient,
    run,
};

/// N tasks, Semaphore(C), one shared Client on a multi-thread runtime; the CPU work of each
/// response runs in `spawn_blocking` (tokio's pool, up to 512 threads), awaited by its task.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let runtime = multi_thread_runtime(job).map_err(StrategyError::Runtime)?;
    runtime.block_on(semaphore_tasks(job, tally, CpuWork::OnTheBlockingPool))
}

//! `async_current_thread`: tokio current-thread runtime, N tasks, Semaphore(C) — every task on
//! one thread, like asyncio's event loop.

use std::sync::Arc;

use super::strategy::{Pool, Strategy, StrategyError};
use super::async_semaphore::{CpuWork, semaphore_tasks};
use crate::clients::runtime::current_thread_runtime;
use crate::model::job::Job;
use crate::model::tally::Tally;
use crate::model::subject::{RunsOn, HeldBy, ClientLib, Holds, Kind, Subject};


/// The facts of `async_current_thread`.
pub const STRATEGY: Strategy = Strategy {
    subject: Subject {
            name: "async_current_thread",
            models: "tokio current-thread runtime, N tasks, Semaphore(C) (asyncio's single thread)",
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

/// `async_semaphore`'s tasks, on a current-thread runtime: the twin differs only here.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let runtime = current_thread_runtime().map_err(StrategyError::Runtime)?;
    runtime.block_on(semaphore_tasks(job, tally, CpuWork::OnTheTask))
}

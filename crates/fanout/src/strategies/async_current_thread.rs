//! `async_current_thread`: tokio current-thread runtime, N tasks, Semaphore(C) — every task on
//! one thread, like asyncio's event loop.

use std::sync::Arc;

use super::StrategyError;
use super::async_semaphore::{CpuWork, semaphore_tasks};
use crate::client::current_thread_runtime;
use crate::job::{Job, Tally};

/// `async_semaphore`'s tasks, on a current-thread runtime: the twin differs only here.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let runtime = current_thread_runtime().map_err(StrategyError::Runtime)?;
    runtime.block_on(semaphore_tasks(job, tally, CpuWork::OnTheTask))
}

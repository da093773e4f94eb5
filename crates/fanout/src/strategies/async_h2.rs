//! `async_h2`: `async_semaphore` over HTTP/2 — N tasks, Semaphore(C), one reqwest Client with
//! HTTP/2 prior knowledge, so C requests in flight are C streams on as few connections as the
//! client opens (the server's count says how many). Its twin is `async_semaphore`.

use std::sync::Arc;

use super::StrategyError;
use super::async_semaphore::{CpuWork, semaphore_tasks};
use crate::client::multi_thread_runtime;
use crate::job::{Job, Tally};

/// `async_semaphore`'s tasks; the point's protocol is HTTP/2 (the strategy's fixed protocol),
/// so the client they share is built for it.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let runtime = multi_thread_runtime(job).map_err(StrategyError::Runtime)?;
    runtime.block_on(semaphore_tasks(job, tally, CpuWork::OnTheTask))
}

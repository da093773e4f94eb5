//! `async_cpu_offload`: `async_semaphore` with each response's CPU work (`--cpu-us`) moved to
//! tokio's blocking pool, so the runtime workers only do I/O. Its twin is `async_semaphore`.

use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{StrategyError, join_all};
use crate::client::{get_async_offloaded, multi_thread_runtime, reqwest_client};
use crate::job::{Job, Tally};

/// N tasks, Semaphore(C), one shared Client; the CPU work of each response runs in
/// `spawn_blocking` (tokio's pool, up to 512 threads), awaited by its task.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let runtime = multi_thread_runtime(job).map_err(StrategyError::Runtime)?;
    runtime.block_on(async {
        let client = reqwest_client(job).map_err(StrategyError::Client)?;
        let permits = Arc::new(Semaphore::new(job.concurrency));
        let mut tasks = JoinSet::new();
        for _ in 0..job.requests {
            let (client, permits) = (client.clone(), Arc::clone(&permits));
            let (job, tally) = (Arc::clone(job), Arc::clone(tally));
            tasks.spawn(async move {
                let _permit = permits.acquire().await;
                get_async_offloaded(&client, &job, &tally).await;
            });
        }
        join_all(tasks, tally).await;
        Ok(())
    })
}

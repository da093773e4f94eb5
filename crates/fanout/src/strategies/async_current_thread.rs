//! `async_current_thread`: tokio current-thread runtime, N tasks, Semaphore(C) — every task on
//! one thread, like asyncio's event loop.

use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{StrategyError, join_all};
use crate::client::{current_thread_runtime, get_async, reqwest_client};
use crate::job::{Job, Tally};

/// Spawns all N tasks at once; each waits for one of C permits before its request.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let runtime = current_thread_runtime().map_err(StrategyError::Runtime)?;
    runtime.block_on(async {
        let client = reqwest_client(job).map_err(StrategyError::Client)?;
        let permits = Arc::new(Semaphore::new(job.concurrency));
        let mut tasks = JoinSet::new();
        for _ in 0..job.requests {
            let (client, permits) = (client.clone(), Arc::clone(&permits));
            let (job, tally) = (Arc::clone(job), Arc::clone(tally));
            tasks.spawn(async move {
                let _permit = permits.acquire().await;
                get_async(&client, &job, &tally).await;
            });
        }
        join_all(tasks, tally).await;
        Ok(())
    })
}

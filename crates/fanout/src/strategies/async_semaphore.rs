//! `async_semaphore`: tokio multi-thread runtime, N tasks, Semaphore(C), one shared Client.

use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{StrategyError, join_all};
use crate::client::{get_async, multi_thread_runtime, reqwest_client};
use crate::job::{Job, Tally};

/// Runs `semaphore_tasks` on a multi-thread runtime.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let runtime = multi_thread_runtime(job).map_err(StrategyError::Runtime)?;
    runtime.block_on(semaphore_tasks(job, tally))
}

/// Spawns all N tasks at once; each waits for one of C permits before its request. Shared
/// with `async_current_thread`, so the two differ only in their runtime.
pub(super) async fn semaphore_tasks(
    job: &Arc<Job>,
    tally: &Arc<Tally>,
) -> Result<(), StrategyError> {
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
}

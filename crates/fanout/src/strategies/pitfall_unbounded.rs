//! `pitfall_unbounded`: all N tasks at once with no limit — `gather()` without a semaphore.

use std::sync::Arc;

use tokio::task::JoinSet;

use super::{StrategyError, join_all};
use crate::client::{get_async, multi_thread_runtime, reqwest_client};
use crate::job::{Job, Tally};

/// Spawns N tasks that all start their request at once: C is ignored, N are in flight.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let runtime = multi_thread_runtime(job).map_err(StrategyError::Runtime)?;
    runtime.block_on(async {
        let client = reqwest_client(job).map_err(StrategyError::Client)?;
        let mut tasks = JoinSet::new();
        for _ in 0..job.requests {
            let client = client.clone();
            let (job, tally) = (Arc::clone(job), Arc::clone(tally));
            tasks.spawn(async move {
                get_async(&client, &job, &tally).await;
            });
        }
        join_all(tasks, tally).await;
        Ok(())
    })
}

//! `pitfall_blocking_in_async`: a blocking ureq call inside async tasks — each call stalls a
//! runtime worker, so only about as many requests as workers are ever in flight.

use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::{StrategyError, join_all};
use crate::client::{get_blocking, multi_thread_runtime, ureq_agent};
use crate::job::{Job, Tally};

/// Like `async_semaphore`, but the request inside each task is ureq's blocking call.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let runtime = multi_thread_runtime(job).map_err(StrategyError::Runtime)?;
    runtime.block_on(async {
        let agent = ureq_agent(job, job.concurrency);
        let permits = Arc::new(Semaphore::new(job.concurrency));
        let mut tasks = JoinSet::new();
        for _ in 0..job.requests {
            let (agent, permits) = (agent.clone(), Arc::clone(&permits));
            let (job, tally) = (Arc::clone(job), Arc::clone(tally));
            tasks.spawn(async move {
                let _permit = permits.acquire().await;
                get_blocking(&agent, &job, &tally); // the pitfall: blocks the worker thread
            });
        }
        join_all(tasks, tally).await;
        Ok(())
    })
}

//! `async_buffered`: one stream of N request futures, `buffer_unordered(C)`, one shared Client:
//! no task per request; the futures are polled by the one task that drives the stream.

use std::sync::Arc;

use futures::StreamExt;

use super::StrategyError;
use crate::client::{get_async, multi_thread_runtime, reqwest_client};
use crate::job::{Job, Tally};

/// Drives N request futures, at most C at once, from a single task.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let runtime = multi_thread_runtime(job).map_err(StrategyError::Runtime)?;
    runtime.block_on(async {
        let client = reqwest_client(job).map_err(StrategyError::Client)?;
        futures::stream::iter(0..job.requests)
            .map(|_| get_async(&client, job, tally))
            .buffer_unordered(job.concurrency)
            .for_each(|()| async {})
            .await;
        Ok(())
    })
}

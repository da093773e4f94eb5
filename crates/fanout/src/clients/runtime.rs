//! The tokio runtimes the async strategies build, and a request's wait for its due time on
//! them.

use std::time::Instant;

use crate::model::job::Job;
use crate::model::tally::Tally;

/// [`Job::due`] on a tokio client: the wait is a timer, not a sleep.
pub async fn begin(job: &Job, tally: &Tally) -> Option<Instant> {
    let due = job.due(tally)?;
    if due > Instant::now() {
        tokio::time::sleep_until(due.into()).await;
    }
    Some(due)
}

/// A multi-thread runtime with the job's worker count (tokio's default stack size: the
/// workers are few, `--stack-kib` is about per-request threads).
pub fn multi_thread_runtime(job: &Job) -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(job.tokio_workers())
        .enable_all()
        .build()
}

/// A current-thread runtime: every task on the calling thread.
pub fn current_thread_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

//! The tokio runtimes the async strategies build.

use crate::model::job::Job;

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

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

/// Waits until the request sent at `sent` is to be hedged ([`Job::hedge_wait`], asked again
/// as the estimate it rests on moves); never returns without hedging.
pub async fn hedge_moment(job: &Job, tally: &Tally, sent: Instant) {
    while let Some(wait) = job.hedge_wait(tally, sent) {
        tokio::time::sleep(wait).await;
    }
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

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::model::settings::Settings;

    #[test]
    fn a_percentile_hedge_waits_for_its_estimate_then_comes_for_a_request_sent_before_it() {
        let settings = Settings {
            hedge_after_percentile: Some(50.0),
            ..Settings::default()
        };
        let job = Job::new("http://127.0.0.1:1/get".into(), 10, 1_000, settings);
        let tally = Tally::default();
        let sent = Instant::now();
        current_thread_runtime().expect("runtime").block_on(async {
            // No answers yet, no estimate: the hedge does not come, however long one waits.
            let early =
                tokio::time::timeout(Duration::from_millis(50), hedge_moment(&job, &tally, sent));
            assert!(early.await.is_err(), "hedged without an estimate");
            // 100 answers of 1 ms: the median is known, and the request sent before it is
            // long past it.
            for _ in 0..crate::model::tally::HEDGE_ESTIMATE_MIN {
                tally.record(Duration::from_millis(1), Ok(()));
            }
            let late =
                tokio::time::timeout(Duration::from_secs(10), hedge_moment(&job, &tally, sent));
            assert!(late.await.is_ok(), "the hedge never came");
        });
    }
}

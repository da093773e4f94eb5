//! The tokio runtimes the async strategies build, and tokio's timers for the request driver.

use std::future::Future;
use std::time::{Duration, Instant};

use super::request::tasks::Timer;
use crate::model::job::Job;

/// tokio's timers, for the async request driver.
#[derive(Debug, Clone, Copy)]
pub struct Tokio;

impl Timer for Tokio {
    type Alarm = tokio::time::Sleep;
    fn sleep(for_how_long: Duration) -> impl Future<Output = ()> {
        tokio::time::sleep(for_how_long)
    }
    fn alarm(at: Instant) -> Self::Alarm {
        tokio::time::sleep_until(at.into())
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
    use std::time::Instant;

    use super::*;
    use crate::clients::request::tasks::hedge_moment;
    use crate::model::settings::Settings;
    use crate::model::tally::Tally;

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
            let early = tokio::time::timeout(
                Duration::from_millis(50),
                hedge_moment::<Tokio>(&job, &tally, sent),
            );
            assert!(early.await.is_err(), "hedged without an estimate");
            // 100 answers of 1 ms: the median is known, and the request sent before it is
            // long past it.
            for _ in 0..crate::model::tally::HEDGE_ESTIMATE_MIN {
                tally.record(Duration::from_millis(1), Ok(()));
            }
            let late = tokio::time::timeout(
                Duration::from_secs(10),
                hedge_moment::<Tokio>(&job, &tally, sent),
            );
            assert!(late.await.is_ok(), "the hedge never came");
        });
    }
}

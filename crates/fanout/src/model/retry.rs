//! Retries (`--retries K`): which failed attempts go again — a 5xx status or a connection
//! reset, the outcomes a server or its network gives back at once — after how long (an
//! exponential backoff with full jitter: a random wait of up to `--retry-backoff-ms` × 2^k
//! before retry k + 1), within the request's deadline and the retry budget.

use std::time::{Duration, Instant};

use super::error_kind::ErrorKind;
use super::job::Job;
use super::tally::Tally;

/// Whether a failed attempt is one a retry may mend: the server answered 5xx, or the
/// connection was reset under it. A timeout is not (its deadline is spent), nor is a response
/// that came wrong.
pub fn retryable(kind: ErrorKind) -> bool {
    match kind {
        ErrorKind::HttpStatus(code) => code >= 500,
        ErrorKind::ConnectionReset => true,
        _ => false,
    }
}

/// The backoff before retry `attempt + 1` (`attempt` retries made so far): a random wait of
/// up to `base` × 2^attempt, "full jitter", so that requests failed together do not come back
/// together.
pub fn backoff(base: Duration, attempt: u32) -> Duration {
    let cap = base.saturating_mul(1 << attempt.min(20));
    let cap_us = u64::try_from(cap.as_micros()).unwrap_or(u64::MAX);
    Duration::from_micros(fastrand::u64(0..=cap_us))
}

impl Job {
    /// How long to wait before the request sent at `sent` goes again after `outcome`, its
    /// attempt `attempt` (0: the first send): `None` when it is not to — the outcome is no
    /// failure a retry mends, the `--retries` are spent, its deadline would pass during the
    /// wait, or the budget refuses (counted in `tally` as refused; a retry allowed is counted
    /// as sent).
    pub fn retry_wait<T>(
        &self,
        tally: &Tally,
        attempt: u32,
        outcome: &Result<T, ErrorKind>,
        sent: Instant,
    ) -> Option<Duration> {
        let s = &self.settings;
        let failed = outcome.as_ref().err().copied().is_some_and(retryable);
        if !failed || attempt >= s.max_retries {
            return None;
        }
        let wait = backoff(Duration::from_millis(s.retry_backoff_ms), attempt);
        let left = (sent + self.timeout()).checked_duration_since(Instant::now())?;
        (wait < left && tally.retry(s.retry_budget)).then_some(wait)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::settings::Settings;

    #[test]
    fn only_a_5xx_or_a_reset_is_retried() {
        assert!(retryable(ErrorKind::HttpStatus(503)));
        assert!(retryable(ErrorKind::ConnectionReset));
        for kind in [
            ErrorKind::HttpStatus(404),
            ErrorKind::Timeout,
            ErrorKind::Truncated,
            ErrorKind::BodyMismatch,
        ] {
            assert!(!retryable(kind), "{kind:?}");
        }
    }

    #[test]
    fn the_backoff_doubles_its_cap_and_jitters_below_it() {
        let base = Duration::from_millis(10);
        for attempt in 0..4 {
            let cap = base * (1 << attempt);
            let waits: Vec<_> = (0..200).map(|_| backoff(base, attempt)).collect();
            assert!(waits.iter().all(|w| *w <= cap), "{attempt}: above {cap:?}");
            assert!(
                waits.iter().any(|w| *w > cap / 2),
                "{attempt}: never near its cap"
            );
            assert!(waits.iter().any(|w| *w < cap / 2), "{attempt}: no jitter");
        }
    }

    #[test]
    fn a_retry_goes_only_for_a_mendable_failure_within_its_count_deadline_and_budget() {
        let job = |retries, budget| {
            let settings = Settings {
                max_retries: retries,
                retry_budget: budget,
                retry_backoff_ms: 1,
                ..Settings::default()
            };
            Job::new("http://127.0.0.1:1/get".into(), 1, 10, settings)
        };
        let tally = Tally::default();
        let _sent = tally.start();
        let reset: Result<(), _> = Err(ErrorKind::ConnectionReset);
        let now = Instant::now();
        assert!(job(2, None).retry_wait(&tally, 0, &reset, now).is_some());
        assert!(
            job(2, None).retry_wait(&tally, 2, &reset, now).is_none(),
            "spent"
        );
        assert!(
            job(0, None).retry_wait(&tally, 0, &reset, now).is_none(),
            "none asked"
        );
        let ok: Result<(), ErrorKind> = Ok(());
        assert!(job(2, None).retry_wait(&tally, 0, &ok, now).is_none());
        let timeout: Result<(), _> = Err(ErrorKind::Timeout);
        assert!(job(2, None).retry_wait(&tally, 0, &timeout, now).is_none());
        let long_ago = now - Duration::from_secs(3_600);
        assert!(
            job(2, None)
                .retry_wait(&tally, 0, &reset, long_ago)
                .is_none(),
            "past its deadline"
        );
        // One retry counted so far against 1 request sent: a 100% budget refuses a second.
        assert!(
            job(2, Some(100.0))
                .retry_wait(&tally, 0, &reset, now)
                .is_none()
        );
        let r = tally.summary().retries;
        assert_eq!((r.sent, r.refused), (1, 1), "{r:?}");
    }
}

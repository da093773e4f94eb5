//! Per-second intervals of an open-loop run: for the requests due in each second, how many
//! ended ok, failed or were dropped, and their latency (an HdrHistogram per second: p50, p99,
//! max) — the time series of a ramp, where a queue builds and drains.

use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// One second of a run, as the report keeps it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Interval {
    /// Its start, seconds after the timed region's.
    pub t_s: u32,
    /// Requests due in it that ended ok.
    pub ok: u64,
    /// Requests due in it that failed.
    pub failed: u64,
    /// Requests due in it that were dropped (not started within the bound).
    pub dropped: u64,
    /// Latency of its ok requests from their due time, ms: median.
    pub p50_ms: f64,
    /// 99th percentile.
    pub p99_ms: f64,
    /// Largest.
    pub max_ms: f64,
}

/// The intervals being counted, each second's latency in a histogram of its own (2
/// significant digits, 100 µs to 1 hour).
#[derive(Debug)]
pub struct Intervals {
    origin: Instant,
    seconds: Vec<Second>,
}

#[derive(Debug)]
struct Second {
    ok: u64,
    failed: u64,
    dropped: u64,
    latency: Histogram<u32>,
}

impl Second {
    fn new() -> Self {
        let latency = Histogram::new_with_bounds(1, 36_000_000, 2).expect("valid bounds");
        Self {
            ok: 0,
            failed: 0,
            dropped: 0,
            latency,
        }
    }
}

impl Intervals {
    /// Intervals from `origin`, with `expected_s` seconds made ready now (before the timed
    /// region, so the histograms are not counted as the strategy's heap).
    pub fn new(origin: Instant, expected_s: usize) -> Self {
        let seconds = (0..expected_s).map(|_| Second::new()).collect();
        Self { origin, seconds }
    }

    fn second(&mut self, due: Instant) -> &mut Second {
        let i = due.saturating_duration_since(self.origin).as_secs() as usize;
        while self.seconds.len() <= i {
            self.seconds.push(Second::new());
        }
        &mut self.seconds[i]
    }

    /// An ok request due at `due`, done after `latency`.
    pub fn ok(&mut self, due: Instant, latency: Duration) {
        let s = self.second(due);
        s.ok += 1;
        let units = (latency.as_micros() / 100).max(1);
        s.latency
            .saturating_record(u64::try_from(units).unwrap_or(u64::MAX));
    }

    /// A failed request due at `due`.
    pub fn failed(&mut self, due: Instant) {
        self.second(due).failed += 1;
    }

    /// A request due at `due`, dropped.
    pub fn dropped(&mut self, due: Instant) {
        self.second(due).dropped += 1;
    }

    /// The seconds that had requests due, read out.
    pub fn summary(&self) -> Vec<Interval> {
        let ms = |units: u64| units as f64 / 10.0;
        let last = self
            .seconds
            .iter()
            .rposition(|s| s.ok + s.failed + s.dropped > 0);
        let Some(last) = last else { return Vec::new() };
        self.seconds[..=last]
            .iter()
            .enumerate()
            .map(|(i, s)| Interval {
                t_s: i as u32,
                ok: s.ok,
                failed: s.failed,
                dropped: s.dropped,
                p50_ms: if s.ok > 0 {
                    ms(s.latency.value_at_quantile(0.5))
                } else {
                    0.0
                },
                p99_ms: if s.ok > 0 {
                    ms(s.latency.value_at_quantile(0.99))
                } else {
                    0.0
                },
                max_ms: if s.ok > 0 { ms(s.latency.max()) } else { 0.0 },
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_are_counted_in_the_second_they_fell_due() {
        let t0 = Instant::now();
        let mut intervals = Intervals::new(t0, 1);
        intervals.ok(t0, Duration::from_millis(100));
        intervals.ok(
            t0 + Duration::from_millis(1_500),
            Duration::from_millis(900),
        );
        intervals.failed(t0 + Duration::from_millis(1_600));
        intervals.dropped(t0 + Duration::from_millis(3_100));
        let s = intervals.summary();
        assert_eq!(s.len(), 4);
        assert_eq!(s[0].ok, 1);
        assert!(
            (s[0].p99_ms - 100.0).abs() < 1.0,
            "2 digits: {}",
            s[0].p99_ms
        );
        assert_eq!((s[1].ok, s[1].failed), (1, 1));
        assert!((s[1].max_ms - 900.0).abs() < 10.0, "{}", s[1].max_ms);
        assert_eq!((s[2].ok, s[2].failed, s[2].dropped), (0, 0, 0));
        assert_eq!(s[3].dropped, 1);
    }
}

//! What a strategy records per request: the [`Tally`] of outcomes and latencies, the count
//! of requests in flight, and its summary for the report.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use super::error_kind::ErrorKind;
use super::intervals::{Interval, Intervals};

/// Outcomes of a point's requests: ok count, errors by kind, latency of ok requests; and the
/// requests in flight now, as the client itself counts them. Shared by every thread or task
/// of a strategy; one short lock per request.
#[derive(Debug)]
pub struct Tally {
    inner: Mutex<TallyInner>,
    in_flight: AtomicUsize,
    /// Requests sent so far (each [`Tally::start`]): what a hedge budget is a share of.
    started: AtomicUsize,
    /// Hedge threads (or coroutines) running now: the blocking driver's hedges; a task's hedge
    /// is no thread.
    hedge_threads: AtomicUsize,
}

/// A hedge thread running: counted from [`Tally::hedge_thread`] until dropped.
#[derive(Debug)]
pub struct HedgeThreadGuard<'a>(&'a Tally);

impl Drop for HedgeThreadGuard<'_> {
    fn drop(&mut self) {
        self.0.hedge_threads.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A request in flight: counted from [`Tally::start`] (its send) until recorded with
/// [`InFlightGuard::record`] or dropped (cancelled or unwound).
#[derive(Debug)]
pub struct InFlightGuard<'a> {
    tally: &'a Tally,
    sent: Instant,
}

impl InFlightGuard<'_> {
    /// When the request was sent (its deadline counts from here).
    pub fn sent(&self) -> Instant {
        self.sent
    }

    /// Records the request's outcome as [`Tally::record`] does; a timeout also with how long
    /// after its send it came (against the deadline, its overshoot).
    pub fn record(self, latency: Duration, outcome: Result<(), ErrorKind>) {
        if outcome == Err(ErrorKind::Timeout) {
            let us = u64::try_from(self.sent.elapsed().as_micros()).unwrap_or(u64::MAX);
            self.tally.lock().timed_out_us.saturating_record(us.max(1));
        }
        self.tally.record(latency, outcome);
    }
}

impl Drop for InFlightGuard<'_> {
    fn drop(&mut self) {
        self.tally.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

#[derive(Debug)]
struct TallyInner {
    ok: u64,
    dropped: u64,
    errors: BTreeMap<ErrorKind, u64>,
    setup_errors: BTreeMap<ErrorKind, u64>,
    latency_us: Histogram<u64>,
    /// Timed-out requests: how long after its send each timeout came, µs.
    timed_out_us: Histogram<u64>,
    /// Open loop only: the same outcomes per second of due time.
    intervals: Option<Intervals>,
    hedges: Hedges,
    retries: Retries,
    /// The latest online latency estimate (`--hedge-after pNN`): its percentile, the ok count
    /// it was read at, and its value.
    estimate: Option<(f64, u64, Duration)>,
}

/// Ok requests before `--hedge-after pNN` estimates the percentile, at least (none is hedged
/// earlier); [`crate::model::job::Job::hedge_at`] asks for a round's worth, C, when C is more.
pub const HEDGE_ESTIMATE_MIN: u64 = 100;
/// The estimate is read again from the histogram once this many more requests have answered:
/// a percentile walk per request would cost more than the hedge saves.
const ESTIMATE_EVERY: u64 = 32;

/// A strategy's hedges (`--hedge-after-ms`): second copies of slow requests, and which of the
/// two answered first. The loser is cancelled: its future dropped and its socket closed, which
/// the server counts as a request its client abandoned.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Hedges {
    /// Second copies sent.
    pub sent: u64,
    /// Of those, the ones that answered first (the original cancelled).
    pub won: u64,
    /// Hedges not sent because the budget (`--hedge-max-extra`) was spent.
    pub refused: u64,
    /// Hedge threads still running when the strategy had ended (`thread_raw`): a loser whose
    /// socket its winner shut down ends at once, one still connecting once it is connected;
    /// 0 where a hedge is a future, which stops when dropped.
    #[serde(default)]
    pub running_at_end: u64,
}

/// A strategy's retries (`--retries`): attempts sent again after a 5xx or a reset.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Retries {
    /// Attempts sent again.
    pub sent: u64,
    /// Requests that ended ok after at least one retry.
    pub recovered: u64,
    /// Retries not sent because the budget (`--retry-budget`) was spent.
    pub refused: u64,
}

/// A [`Tally`] read out for the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TallySummary {
    /// Requests answered 200 with the expected body.
    pub ok: u64,
    /// At `--rate`: requests that could not start within the bound after their due time, and
    /// were not sent; `ok + sum(errors) + dropped = N`.
    #[serde(default)]
    pub dropped: u64,
    /// Failed requests by [`ErrorKind::key`]; `ok + sum(errors) + dropped = N`.
    pub errors: BTreeMap<String, u64>,
    /// Failures that were not requests' own, by [`ErrorKind::key`] (a pool thread the OS
    /// refused: `thread_spawn`, and the pool is smaller).
    pub setup_errors: BTreeMap<String, u64>,
    /// Latency of ok requests, milliseconds.
    pub latency_ms: Latency,
    /// The same latencies whole: the HdrHistogram of µs (3 significant digits) in its own V2
    /// deflate encoding, base64, as a line of HdrHistogram's logs carries it — what its
    /// tools (the percentile plotter) read and a percentile spectrum is drawn from; absent
    /// where none was recorded (no ok request, a peer that gives percentiles only, a run
    /// made before it was kept).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub latency_histogram: Option<String>,
    /// Timed-out requests: how long after its send each came back as a timeout, ms (all zero
    /// when none did). Minus the timeout, what the deadline overshot.
    #[serde(default)]
    pub timed_out_after_ms: Latency,
    /// At `--rate`: the requests due in each second of the run, their outcomes and latency.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub intervals: Vec<Interval>,
    /// Hedged requests, with `--hedge-after-ms` (all zero without).
    #[serde(default)]
    pub hedges: Hedges,
    /// Retried requests, with `--retries` (all zero without).
    #[serde(default)]
    pub retries: Retries,
}

/// Latency percentiles in milliseconds (HdrHistogram, 3 significant digits).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile (0 in runs made before it was read).
    #[serde(default)]
    pub p999: f64,
    /// Largest.
    pub max: f64,
}

/// 1 µs to 1 hour, 3 significant digits; a longer latency saturates at the top.
fn latency_histogram() -> Histogram<u64> {
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

impl Latency {
    /// The percentiles of a histogram of microseconds (all zero when it is empty).
    fn of(latency_us: &Histogram<u64>) -> Self {
        if latency_us.is_empty() {
            return Self::default();
        }
        let ms = |us: u64| us as f64 / 1000.0;
        Self {
            p50: ms(latency_us.value_at_quantile(0.50)),
            p90: ms(latency_us.value_at_quantile(0.90)),
            p99: ms(latency_us.value_at_quantile(0.99)),
            p999: ms(latency_us.value_at_quantile(0.999)),
            max: ms(latency_us.max()),
        }
    }

    /// The percentiles of latencies in milliseconds, computed exactly as a [`Tally`]'s are
    /// (a peer's list, say), and their histogram encoded as [`TallySummary::latency_histogram`];
    /// negative or non-finite values are not latencies and are left out.
    pub fn of_millis(latencies_ms: &[f64]) -> (Self, Option<String>) {
        let mut histogram = latency_histogram();
        for &ms in latencies_ms
            .iter()
            .filter(|ms| ms.is_finite() && **ms >= 0.0)
        {
            histogram.saturating_record(((ms * 1000.0) as u64).max(1));
        }
        (Self::of(&histogram), encode(&histogram))
    }
}

/// `histogram` in HdrHistogram's V2 deflate encoding, base64; `None` when it is empty (or,
/// never seen, cannot be encoded).
fn encode(histogram: &Histogram<u64>) -> Option<String> {
    use base64::Engine as _;
    use hdrhistogram::serialization::Serializer as _;
    if histogram.is_empty() {
        return None;
    }
    let mut bytes = Vec::new();
    hdrhistogram::serialization::V2DeflateSerializer::new()
        .serialize(histogram, &mut bytes)
        .ok()?;
    Some(base64::engine::general_purpose::STANDARD.encode(bytes))
}

/// The histogram of µs a [`TallySummary::latency_histogram`] holds, or why it is not one.
pub fn decode_latency_histogram(encoded: &str) -> Result<Histogram<u64>, String> {
    use base64::Engine as _;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded.trim())
        .map_err(|e| format!("not base64: {e}"))?;
    hdrhistogram::serialization::Deserializer::new()
        .deserialize(&mut bytes.as_slice())
        .map_err(|e| format!("not an HdrHistogram: {e:?}"))
}

impl Default for Tally {
    fn default() -> Self {
        Self {
            inner: Mutex::new(TallyInner {
                ok: 0,
                dropped: 0,
                errors: BTreeMap::new(),
                setup_errors: BTreeMap::new(),
                latency_us: latency_histogram(),
                timed_out_us: latency_histogram(),
                intervals: None,
                hedges: Hedges::default(),
                retries: Retries::default(),
                estimate: None,
            }),
            in_flight: AtomicUsize::new(0),
            started: AtomicUsize::new(0),
            hedge_threads: AtomicUsize::new(0),
        }
    }
}

impl Tally {
    /// A tally that also counts per second of due time from `origin` (open loop), with
    /// `expected_s` seconds made ready before the timed region.
    pub fn with_intervals(origin: Instant, expected_s: usize) -> Self {
        let tally = Self::default();
        tally.lock().intervals = Some(Intervals::new(origin, expected_s));
        tally
    }

    /// Counts a request in flight until the returned guard is dropped.
    pub fn start(&self) -> InFlightGuard<'_> {
        self.start_at(Instant::now())
    }

    /// [`Tally::start`] for a request sent at `sent`, an instant its caller has read.
    pub fn start_at(&self, sent: Instant) -> InFlightGuard<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        self.started.fetch_add(1, Ordering::Relaxed);
        InFlightGuard { tally: self, sent }
    }

    /// Requests in flight now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Records one request's outcome; `latency` counts only for ok requests.
    pub fn record(&self, latency: Duration, outcome: Result<(), ErrorKind>) {
        let mut t = self.lock();
        let due = t.intervals.is_some().then(|| Instant::now() - latency);
        match outcome {
            Ok(()) => {
                t.ok += 1;
                let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
                t.latency_us.saturating_record(us.max(1));
                if let (Some(intervals), Some(due)) = (&mut t.intervals, due) {
                    intervals.ok(due, latency);
                }
            }
            Err(kind) => {
                *t.errors.entry(kind).or_default() += 1;
                if let (Some(intervals), Some(due)) = (&mut t.intervals, due) {
                    intervals.failed(due);
                }
            }
        }
    }

    /// Records a request that failed before it started (no latency).
    pub fn fail(&self, kind: ErrorKind) {
        *self.lock().errors.entry(kind).or_default() += 1;
    }

    /// Records a request dropped at `--rate`: due too long ago when a slot could take it.
    pub fn drop_request(&self) {
        let mut t = self.lock();
        t.dropped += 1;
        if let Some(intervals) = &mut t.intervals {
            intervals.dropped(Instant::now());
        }
    }

    /// Records a failure that is not a request's, e.g. a pool thread that could not be spawned.
    pub fn setup_error(&self, kind: ErrorKind) {
        *self.lock().setup_errors.entry(kind).or_default() += 1;
    }

    /// Whether a hedge may go out within a budget of `percent` of the requests sent so far
    /// (`None`: no cap) — a budget that refills as requests go, as Finagle's retry budget does,
    /// rather than one the run's first slow requests spend; counted as sent if so, as refused
    /// if not.
    pub fn hedge(&self, percent: Option<f64>) -> bool {
        self.spend(percent, |t| (&mut t.hedges.sent, &mut t.hedges.refused))
    }

    /// Whether one more of a budgeted kind may go out within `percent` of the requests sent
    /// so far (`None`: no cap), a budget that refills as requests go; counted in the (sent,
    /// refused) pair `counts` picks.
    fn spend(
        &self,
        percent: Option<f64>,
        counts: impl FnOnce(&mut TallyInner) -> (&mut u64, &mut u64),
    ) -> bool {
        let started = self.started.load(Ordering::Relaxed) as f64;
        let mut t = self.lock();
        let (sent, refused) = counts(&mut t);
        let allowed = percent.is_none_or(|p| (*sent + 1) as f64 <= started * p / 100.0);
        if allowed {
            *sent += 1;
        } else {
            *refused += 1;
        }
        allowed
    }

    /// The `percentile` of the ok requests' latency so far (from their due times), once
    /// `at_least` have answered: read afresh every [`ESTIMATE_EVERY`] answers. Early on the
    /// estimate runs low — the slowest requests of the first round have not answered yet.
    pub fn latency_estimate(&self, percentile: f64, at_least: u64) -> Option<Duration> {
        let mut t = self.lock();
        if t.ok < at_least {
            return None;
        }
        match t.estimate {
            Some((p, at, value)) if p == percentile && t.ok < at + ESTIMATE_EVERY => Some(value),
            _ => {
                let us = t.latency_us.value_at_quantile(percentile / 100.0);
                let value = Duration::from_micros(us);
                t.estimate = Some((percentile, t.ok, value));
                Some(value)
            }
        }
    }

    /// Whether a retry may go out within a budget of `percent` of the requests sent so far
    /// (`None`: no cap), as [`Tally::hedge`] decides for a hedge; counted as sent if so, as
    /// refused if not.
    pub fn retry(&self, percent: Option<f64>) -> bool {
        self.spend(percent, |t| (&mut t.retries.sent, &mut t.retries.refused))
    }

    /// Records that a request retried at least once ended ok.
    pub fn retry_recovered(&self) {
        self.lock().retries.recovered += 1;
    }

    /// Takes back a hedge [`Tally::hedge`] allowed but that could not start (`kind`: no
    /// thread, no socket): a setup error, not a hedge sent.
    pub fn hedge_not_started(&self, kind: ErrorKind) {
        let mut t = self.lock();
        t.hedges.sent = t.hedges.sent.saturating_sub(1);
        *t.setup_errors.entry(kind).or_default() += 1;
    }

    /// Counts a hedge thread running until the returned guard is dropped.
    pub fn hedge_thread(&self) -> HedgeThreadGuard<'_> {
        self.hedge_threads.fetch_add(1, Ordering::Relaxed);
        HedgeThreadGuard(self)
    }

    /// Records that a hedge answered before its original.
    pub fn hedge_won(&self) {
        self.lock().hedges.won += 1;
    }

    /// Requests recorded so far: ok, failed or dropped.
    pub fn count(&self) -> u64 {
        let t = self.lock();
        t.ok + t.dropped + t.errors.values().sum::<u64>()
    }

    /// Reads the tally out.
    pub fn summary(&self) -> TallySummary {
        let t = self.lock();
        TallySummary {
            ok: t.ok,
            dropped: t.dropped,
            errors: t.errors.iter().map(|(k, n)| (k.key(), *n)).collect(),
            setup_errors: t.setup_errors.iter().map(|(k, n)| (k.key(), *n)).collect(),
            latency_ms: Latency::of(&t.latency_us),
            latency_histogram: encode(&t.latency_us),
            timed_out_after_ms: Latency::of(&t.timed_out_us),
            hedges: Hedges {
                running_at_end: self.hedge_threads.load(Ordering::Relaxed) as u64,
                ..t.hedges
            },
            retries: t.retries,
            intervals: t
                .intervals
                .as_ref()
                .map(Intervals::summary)
                .unwrap_or_default(),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, TallyInner> {
        // A panic while holding the lock cannot leave the counters half-updated.
        self.inner
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_latencies_are_kept_whole_and_read_back_as_the_percentiles_were() {
        let tally = Tally::default();
        assert_eq!(tally.summary().latency_histogram, None, "none recorded");
        for ms in 1..=1_000 {
            tally.record(Duration::from_millis(ms), Ok(()));
        }
        let summary = tally.summary();
        let encoded = summary.latency_histogram.expect("kept");
        let histogram = decode_latency_histogram(&encoded).expect("decoded");
        assert_eq!(histogram.len(), 1_000);
        let p99_ms = histogram.value_at_quantile(0.99) as f64 / 1000.0;
        assert_eq!(p99_ms, summary.latency_ms.p99);
        // A peer's list, the same way.
        let listed: Vec<f64> = (1..=1_000).map(f64::from).collect();
        let (latency, encoded) = Latency::of_millis(&listed);
        assert_eq!(latency, summary.latency_ms);
        assert_eq!(encoded.as_deref(), Some(encoded_of(&histogram).as_str()));
        assert!(decode_latency_histogram("not base64!").is_err());
        assert!(
            decode_latency_histogram("aGVsbG8=").is_err(),
            "base64, not a histogram"
        );
    }

    fn encoded_of(histogram: &Histogram<u64>) -> String {
        encode(histogram).expect("encoded")
    }

    #[test]
    fn the_latency_estimate_waits_for_enough_answers_and_follows_them() {
        let tally = Tally::default();
        let ms = Duration::from_millis;
        for _ in 0..HEDGE_ESTIMATE_MIN - 1 {
            tally.record(ms(10), Ok(()));
        }
        assert_eq!(
            tally.latency_estimate(95.0, HEDGE_ESTIMATE_MIN),
            None,
            "too few answers yet"
        );
        tally.record(ms(10), Ok(()));
        let first = tally
            .latency_estimate(95.0, HEDGE_ESTIMATE_MIN)
            .expect("estimated");
        assert!(first.abs_diff(ms(10)) < ms(1), "{first:?}");
        // Slower answers move it, but only once it is read again.
        for _ in 0..ESTIMATE_EVERY - 1 {
            tally.record(ms(200), Ok(()));
        }
        assert_eq!(
            tally.latency_estimate(95.0, HEDGE_ESTIMATE_MIN),
            Some(first),
            "not read again yet"
        );
        tally.record(ms(200), Ok(()));
        let second = tally
            .latency_estimate(95.0, HEDGE_ESTIMATE_MIN)
            .expect("estimated");
        assert!(second.abs_diff(ms(200)) < ms(1), "{second:?}");
        assert!(
            tally
                .latency_estimate(50.0, HEDGE_ESTIMATE_MIN)
                .is_some_and(|p50| p50 < second)
        );
    }

    #[test]
    fn a_hedge_budget_is_a_share_of_the_requests_sent_so_far() {
        let tally = Tally::default();
        assert!(tally.hedge(None), "no cap");
        let tally = Tally::default();
        assert!(!tally.hedge(Some(10.0)), "nothing sent yet: no room");
        for _ in 0..20 {
            drop(tally.start());
        }
        assert!(
            tally.hedge(Some(10.0)) && tally.hedge(Some(10.0)),
            "10% of 20"
        );
        assert!(!tally.hedge(Some(10.0)), "spent until more go");
        for _ in 0..10 {
            drop(tally.start());
        }
        assert!(tally.hedge(Some(10.0)), "refilled: 10% of 30");
        let h = tally.summary().hedges;
        assert_eq!((h.sent, h.refused), (3, 2));
    }

    #[test]
    fn a_timeout_is_also_told_how_long_after_its_send_it_came() {
        let tally = Tally::default();
        tally.start().record(Duration::from_millis(5), Ok(()));
        assert_eq!(
            tally.summary().timed_out_after_ms,
            Latency::default(),
            "no timeout yet"
        );
        let sent = tally.start();
        std::thread::sleep(Duration::from_millis(2));
        sent.record(Duration::from_millis(1), Err(ErrorKind::Timeout));
        let s = tally.summary();
        assert!(s.timed_out_after_ms.max >= 2.0, "{s:?}");
        assert_eq!((s.ok, s.errors["timeout"]), (1, 1));
        assert_eq!(tally.in_flight(), 0);
    }

    #[test]
    fn ok_and_errors_add_up_and_latency_counts_only_ok_requests() {
        let tally = Tally::default();
        for ms in [10, 20, 30, 40] {
            tally.record(Duration::from_millis(ms), Ok(()));
        }
        tally.record(Duration::from_secs(99), Err(ErrorKind::Timeout));
        tally.record(Duration::from_millis(1), Err(ErrorKind::HttpStatus(503)));
        tally.fail(ErrorKind::ThreadSpawn);
        tally.setup_error(ErrorKind::ThreadSpawn);
        {
            let _one = tally.start();
            let _two = tally.start();
            assert_eq!(tally.in_flight(), 2);
        }
        assert_eq!(tally.in_flight(), 0);
        let s = tally.summary();
        assert_eq!(s.ok, 4);
        assert_eq!(tally.count(), 7);
        let keys: Vec<_> = s.errors.iter().map(|(k, n)| (k.as_str(), *n)).collect();
        assert_eq!(keys, [("http_503", 1), ("thread_spawn", 1), ("timeout", 1)]);
        assert_eq!(s.setup_errors["thread_spawn"], 1);
        assert!(
            (39.9..=40.1).contains(&s.latency_ms.max),
            "{:?}",
            s.latency_ms
        );
        assert!(
            (19.9..=20.1).contains(&s.latency_ms.p50),
            "{:?}",
            s.latency_ms
        );
    }
}

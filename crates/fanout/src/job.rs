//! What a strategy is asked to do ([`Job`]) and what it records per request ([`Tally`]).

use std::collections::BTreeMap;
use std::io;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Mutex, OnceLock};
use std::time::Duration;

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

use crate::workload::Settings;

/// One measured point's work, as handed to a strategy.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    /// Full request URL, delay and body size included.
    url: String,
    /// `url` parsed for reqwest and for ureq, once per job (not once per request).
    #[serde(skip)]
    parsed: OnceLock<Result<(reqwest::Url, ureq::http::Uri), String>>,
    /// Requests in flight at once (C).
    pub concurrency: usize,
    /// Requests in all (N).
    pub requests: usize,
    /// The point's settings, whole: a new one reaches every strategy without a change here.
    pub settings: Settings,
    /// Over HTTPS: the one certificate (PEM) the clients trust.
    #[serde(default)]
    pub tls_root_pem: Option<String>,
    /// The CPU work per ok response, once calibrated ([`Job::calibrate_cpu_work`]).
    #[serde(skip)]
    cpu_work: Option<CpuWork>,
}

/// CPU work per response: `passes` rounds of FNV-1a over a copy of the response body.
#[derive(Debug, Clone, PartialEq)]
struct CpuWork {
    passes: u64,
    body: Vec<u8>,
    /// What the passes took when calibrated, µs.
    calibrated_us: f64,
}

/// `passes` rounds of FNV-1a over `body` (the round number mixed in, so an empty body is
/// work too); the result is opaque to the optimizer.
fn hash_passes(body: &[u8], passes: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for pass in 0..passes {
        h = (h ^ pass).wrapping_mul(0x0000_0100_0000_01b3);
        for &byte in body {
            h = (h ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        h = std::hint::black_box(h);
    }
    h
}

impl Job {
    /// The job of `concurrency`, `requests` and `settings` at `url`.
    pub fn new(url: String, concurrency: usize, requests: usize, settings: Settings) -> Self {
        Self {
            url,
            parsed: OnceLock::new(),
            concurrency,
            requests,
            settings,
            tls_root_pem: None,
            cpu_work: None,
        }
    }

    /// Measures how many hashing passes over the body take `--cpu-us` of CPU time on this
    /// machine (growing batches until one takes 20 ms), for [`Job::spend_cpu`]; nothing to do
    /// at 0 µs. Run by the worker before its timed region.
    pub fn calibrate_cpu_work(&mut self) {
        let us = self.settings.cpu_us;
        if us == 0 {
            return;
        }
        let body = mock_server::response_body(self.body_len());
        // This thread's CPU time where the OS tells it (a preempted calibration would
        // otherwise count time it did not run), wall time elsewhere.
        let cpu_now = || {
            crate::meter::Usage::of_this_thread()
                .map(|u| Duration::from_secs_f64(u.user_s + u.sys_s))
        };
        let wall = std::time::Instant::now();
        let since = |cpu_start: Option<Duration>| match (cpu_start, cpu_now()) {
            (Some(start), Some(now)) => now.saturating_sub(start),
            _ => wall.elapsed(),
        };
        let mut passes: u64 = 1;
        let per_us = loop {
            let start = cpu_now();
            hash_passes(&body, passes);
            let took = since(start);
            if took >= Duration::from_millis(20) {
                break passes as f64 / (took.as_secs_f64() * 1e6);
            }
            passes = passes.saturating_mul(2);
        };
        let passes = ((us as f64 * per_us).round() as u64).max(1);
        self.cpu_work = Some(CpuWork {
            passes,
            body,
            calibrated_us: passes as f64 / per_us,
        });
    }

    /// The calibrated CPU work per response, µs (`None` without `--cpu-us`).
    pub fn cpu_work_us(&self) -> Option<f64> {
        self.cpu_work.as_ref().map(|w| w.calibrated_us)
    }

    /// Does the job's CPU work for one ok response on the calling thread: hashing the
    /// response body (checked equal to the server's pattern, so its copy is hashed) the
    /// calibrated number of times. Nothing without `--cpu-us`.
    pub fn spend_cpu(&self) {
        if let Some(work) = &self.cpu_work {
            hash_passes(&work.body, work.passes);
        }
    }

    /// The request URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The URL parsed: for reqwest (`Ok.0`) and for ureq (`Ok.1`); the parser's words if not.
    pub fn parsed_url(&self) -> Result<&(reqwest::Url, ureq::http::Uri), &str> {
        let parsed = self.parsed.get_or_init(|| {
            let for_reqwest = reqwest::Url::parse(&self.url).map_err(|e| e.to_string())?;
            let for_ureq = self
                .url
                .parse::<ureq::http::Uri>()
                .map_err(|e| e.to_string())?;
            Ok((for_reqwest, for_ureq))
        });
        parsed.as_ref().map_err(String::as_str)
    }

    /// Per-request timeout, the same for every client.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.settings.timeout_ms)
    }

    /// Stack size of every thread a thread strategy spawns.
    pub fn stack_bytes(&self) -> usize {
        self.settings.stack_kib * 1024
    }

    /// Worker threads of multi-thread tokio runtimes.
    pub fn tokio_workers(&self) -> usize {
        self.settings.tokio_workers
    }

    /// Length of the body every response must carry ([`mock_server::response_body`]).
    pub fn body_len(&self) -> usize {
        self.settings.body_bytes
    }
}

/// Why a request did not count as ok. The JSON key is [`ErrorKind::key`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ErrorKind {
    /// The per-request timeout elapsed.
    Timeout,
    /// Nothing listening (ECONNREFUSED).
    ConnectionRefused,
    /// The peer reset or closed the connection mid-request.
    ConnectionReset,
    /// Out of file descriptors (EMFILE/ENFILE).
    TooManyOpenFiles,
    /// Out of local ports (EADDRNOTAVAIL).
    AddrNotAvailable,
    /// The OS refused a new thread (EAGAIN from clone).
    ThreadSpawn,
    /// A status other than 200.
    HttpStatus(u16),
    /// A 200 whose body was not the expected one.
    BodyMismatch,
    /// A response the client could not read as HTTP/1.1 (malformed, chunked, too large a head,
    /// bytes after the body).
    BadResponse,
    /// The server's certificate was not trusted (or the TLS handshake failed on it).
    TlsCertificate,
    /// Any other TLS failure.
    Tls,
    /// A task or thread panicked.
    Panic,
    /// Never attempted: the strategy stopped before it (see `strategy_error`).
    NotRun,
    /// Lost with its worker process: it crashed, was killed, or printed no report.
    WorkerFailed,
    /// Any other I/O error.
    Io,
    /// Anything else the client reported.
    Other,
}

impl ErrorKind {
    /// The name used in `errors` of the JSON report.
    pub fn key(self) -> String {
        match self {
            Self::Timeout => "timeout".into(),
            Self::ConnectionRefused => "connection_refused".into(),
            Self::ConnectionReset => "connection_reset".into(),
            Self::TooManyOpenFiles => "too_many_open_files".into(),
            Self::AddrNotAvailable => "addr_not_available".into(),
            Self::ThreadSpawn => "thread_spawn".into(),
            Self::HttpStatus(code) => format!("http_{code}"),
            Self::BodyMismatch => "body_mismatch".into(),
            Self::BadResponse => "bad_response".into(),
            Self::TlsCertificate => "tls_certificate".into(),
            Self::Tls => "tls".into(),
            Self::Panic => "panic".into(),
            Self::NotRun => "not_run".into(),
            Self::WorkerFailed => "worker_failed".into(),
            Self::Io => "io".into(),
            Self::Other => "other".into(),
        }
    }

    /// Classifies an I/O error by its kind and OS error number.
    pub fn from_io(e: &io::Error) -> Self {
        use nix::errno::Errno;
        if let Some(errno) = e.raw_os_error() {
            if matches!(Errno::from_raw(errno), Errno::EMFILE | Errno::ENFILE) {
                return Self::TooManyOpenFiles;
            }
        }
        match e.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Self::Timeout,
            io::ErrorKind::ConnectionRefused => Self::ConnectionRefused,
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::UnexpectedEof => Self::ConnectionReset,
            io::ErrorKind::AddrNotAvailable => Self::AddrNotAvailable,
            _ => Self::Io,
        }
    }

    /// Classifies a rustls error: a certificate not trusted, or another TLS failure.
    pub fn from_tls(e: &rustls::Error) -> Self {
        match e {
            rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented => {
                Self::TlsCertificate
            }
            _ => Self::Tls,
        }
    }

    /// Classifies any error by the first rustls error in its source chain (also where an I/O
    /// error carries it), if there is one.
    pub fn from_tls_chain(e: &(dyn std::error::Error + 'static)) -> Option<Self> {
        let mut current = Some(e);
        while let Some(err) = current {
            if let Some(ureq::Error::Io(io)) = err.downcast_ref::<ureq::Error>() {
                if let Some(tls) = io.get_ref().and_then(|i| i.downcast_ref::<rustls::Error>()) {
                    return Some(Self::from_tls(tls));
                }
            }
            if let Some(tls) = err.downcast_ref::<rustls::Error>() {
                return Some(Self::from_tls(tls));
            }
            // An I/O error may carry another, which carries the TLS one (hyper's connector
            // wraps tokio-rustls's): look inside each layer.
            let mut inner = err.downcast_ref::<io::Error>().and_then(io::Error::get_ref);
            while let Some(wrapped) = inner {
                if let Some(tls) = wrapped.downcast_ref::<rustls::Error>() {
                    return Some(Self::from_tls(tls));
                }
                inner = wrapped
                    .downcast_ref::<io::Error>()
                    .and_then(io::Error::get_ref);
            }
            current = err.source();
        }
        None
    }

    /// Classifies any error by the first I/O error in its source chain, if there is one.
    pub fn from_chain(e: &(dyn std::error::Error + 'static)) -> Option<Self> {
        let mut current = Some(e);
        while let Some(err) = current {
            if let Some(io) = err.downcast_ref::<io::Error>() {
                return Some(Self::from_io(io));
            }
            current = err.source();
        }
        None
    }
}

/// Outcomes of a point's requests: ok count, errors by kind, latency of ok requests; and the
/// requests in flight now, as the client itself counts them. Shared by every thread or task
/// of a strategy; one short lock per request.
#[derive(Debug)]
pub struct Tally {
    inner: Mutex<TallyInner>,
    in_flight: AtomicUsize,
}

/// A request in flight: counted from [`Tally::start`] until dropped (done, failed, cancelled
/// or unwound).
#[derive(Debug)]
pub struct InFlight<'a>(&'a AtomicUsize);

impl Drop for InFlight<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

#[derive(Debug)]
struct TallyInner {
    ok: u64,
    errors: BTreeMap<ErrorKind, u64>,
    setup_errors: BTreeMap<ErrorKind, u64>,
    latency_us: Histogram<u64>,
}

/// A [`Tally`] read out for the report.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct TallySummary {
    /// Requests answered 200 with the expected body.
    pub ok: u64,
    /// Failed requests by [`ErrorKind::key`]; `ok + sum(errors) = N`.
    pub errors: BTreeMap<String, u64>,
    /// Failures that were not requests' own, by [`ErrorKind::key`] (a pool thread the OS
    /// refused: `thread_spawn`, and the pool is smaller).
    pub setup_errors: BTreeMap<String, u64>,
    /// Latency of ok requests, milliseconds.
    pub latency_ms: Latency,
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
            max: ms(latency_us.max()),
        }
    }

    /// The percentiles of latencies in milliseconds, computed exactly as a [`Tally`]'s are
    /// (a peer's list, say); negative or non-finite values are not latencies and are left out.
    pub fn of_millis(latencies_ms: &[f64]) -> Self {
        let mut histogram = latency_histogram();
        for &ms in latencies_ms
            .iter()
            .filter(|ms| ms.is_finite() && **ms >= 0.0)
        {
            histogram.saturating_record(((ms * 1000.0) as u64).max(1));
        }
        Self::of(&histogram)
    }
}

impl Default for Tally {
    fn default() -> Self {
        Self {
            inner: Mutex::new(TallyInner {
                ok: 0,
                errors: BTreeMap::new(),
                setup_errors: BTreeMap::new(),
                latency_us: latency_histogram(),
            }),
            in_flight: AtomicUsize::new(0),
        }
    }
}

impl Tally {
    /// Counts a request in flight until the returned guard is dropped.
    pub fn start(&self) -> InFlight<'_> {
        self.in_flight.fetch_add(1, Ordering::Relaxed);
        InFlight(&self.in_flight)
    }

    /// Requests in flight now.
    pub fn in_flight(&self) -> usize {
        self.in_flight.load(Ordering::Relaxed)
    }

    /// Records one request's outcome; `latency` counts only for ok requests.
    pub fn record(&self, latency: Duration, outcome: Result<(), ErrorKind>) {
        let mut t = self.lock();
        match outcome {
            Ok(()) => {
                t.ok += 1;
                let us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
                t.latency_us.saturating_record(us.max(1));
            }
            Err(kind) => *t.errors.entry(kind).or_default() += 1,
        }
    }

    /// Records a request that failed before it started (no latency).
    pub fn fail(&self, kind: ErrorKind) {
        *self.lock().errors.entry(kind).or_default() += 1;
    }

    /// Records a failure that is not a request's, e.g. a pool thread that could not be spawned.
    pub fn setup_error(&self, kind: ErrorKind) {
        *self.lock().setup_errors.entry(kind).or_default() += 1;
    }

    /// Requests recorded so far, ok or not.
    pub fn count(&self) -> u64 {
        let t = self.lock();
        t.ok + t.errors.values().sum::<u64>()
    }

    /// Reads the tally out.
    pub fn summary(&self) -> TallySummary {
        let t = self.lock();
        TallySummary {
            ok: t.ok,
            errors: t.errors.iter().map(|(k, n)| (k.key(), *n)).collect(),
            setup_errors: t.setup_errors.iter().map(|(k, n)| (k.key(), *n)).collect(),
            latency_ms: Latency::of(&t.latency_us),
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

    #[test]
    fn io_errors_are_classified_by_os_error_and_kind() {
        let emfile = io::Error::from_raw_os_error(nix::errno::Errno::EMFILE as i32);
        assert_eq!(ErrorKind::from_io(&emfile), ErrorKind::TooManyOpenFiles);
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(ErrorKind::from_io(&refused), ErrorKind::ConnectionRefused);
        let no_port = io::Error::from_raw_os_error(nix::errno::Errno::EADDRNOTAVAIL as i32);
        assert_eq!(ErrorKind::from_io(&no_port), ErrorKind::AddrNotAvailable);
    }

    #[derive(Debug, thiserror::Error)]
    #[error("client failed")]
    struct Wrapper(#[source] io::Error);

    #[test]
    fn the_first_io_error_in_a_source_chain_decides_the_kind() {
        let wrapped = Wrapper(io::Error::from(io::ErrorKind::TimedOut));
        assert_eq!(ErrorKind::from_chain(&wrapped), Some(ErrorKind::Timeout));
        assert_eq!(ErrorKind::from_chain(&std::fmt::Error), None);
    }
}

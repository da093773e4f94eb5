//! A point's workload: the rule for its defaults, the settings beyond C, N and D, and the
//! flags that set them (each also a `FANOUT_*` variable, which is how `cargo bench` takes them).
//!
//! A new workload knob is one field of [`Settings`] with its flag, and its use: `run`,
//! `sweep`, `doctor`, the benches, `plan.json`, every point's JSON, `SETUP.md` and compare's
//! "same workload" check all take [`Settings`] whole.
//!
//! The rule for defaults keeps the offered load C/D at most [`OFFERED_RPS_CAP`] requests per
//! second, well below what this kind of 2-core machine serves (tens of thousands per second,
//! shared by client and server), so a point measures the concurrency model, not CPU
//! saturation: D = max(100 ms, C / 5,000 s). N = 2·C, so each point has a ramp-up round and a
//! steady round.

use std::time::Duration;

use clap::builder::RangedU64ValueParser;
use serde::{Deserialize, Serialize};

use crate::job::Job;
use crate::strategies::Strategy;

/// The rule for default workloads, in words (for `--help`, `SETUP.md` and the README).
pub const RULE: &str = "N = 2·C; D = max(100 ms, C / 5,000 s), so the offered load C/D \
stays at or below 5,000 requests/s — well under what a 2-core machine serves — and a point \
measures the concurrency model, not CPU saturation.";

/// How ideal wall time follows from the workload, in words (for `SETUP.md` and the README).
pub const IDEAL_RULE: &str = "ideal wall = R + (ceil(N/C) − 1) × mean delay + the delay's \
C/(C+1) quantile (the expected slowest of a round of C), R the connection set-up delay paid \
once per slot; with every delay D that is ceil(N/C) × D. Uniform D ± J: mean D, quantile \
D − J + 2J·p. Lognormal of median D and shape σ: mean D·e^(σ²/2), quantile D·e^(σ·Φ⁻¹(p)).";

/// Default requests per in-flight slot: N = K·C.
pub const REQUESTS_PER_SLOT: usize = 2;
/// Offered load, C/D, that default delays never exceed.
pub const OFFERED_RPS_CAP: u64 = 5_000;
/// Shortest default delay.
pub const MIN_DELAY_MS: u64 = 100;
/// Default per-request timeout.
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;
/// Default stack of threads spawned per request or pool slot: Rust's own default (2 MiB),
/// which is reserved address space; only the pages a thread touches become resident.
pub const DEFAULT_STACK_KIB: usize = 2048;
/// Response body size asked of the server.
pub const DEFAULT_BODY_BYTES: usize = 32;

/// The default delay for concurrency C: max(100 ms, C / 5,000 s), in ms.
pub fn default_delay_ms(concurrency: usize) -> u64 {
    let per_cap = (concurrency as u64 * 1000).div_ceil(OFFERED_RPS_CAP);
    per_cap.max(MIN_DELAY_MS)
}

/// Cores available to this process.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// A flag's parser for a `usize` in `range`.
fn usize_in(range: std::ops::RangeInclusive<u64>) -> RangedU64ValueParser<usize> {
    RangedU64ValueParser::new().range(range)
}

/// A point's settings beyond strategy, C, N and D: the same for every point of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clap::Args)]
pub struct Settings {
    /// Per-request timeout, ms (both clients).
    #[arg(long, env = "FANOUT_TIMEOUT_MS", default_value_t = DEFAULT_TIMEOUT_MS,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000))]
    pub timeout_ms: u64,
    /// Stack size of each thread the thread strategies spawn, KiB.
    #[arg(long, env = "FANOUT_STACK_KIB", default_value_t = DEFAULT_STACK_KIB,
          value_parser = usize_in(16..=1_048_576))]
    pub stack_kib: usize,
    /// Worker threads of multi-thread tokio runtimes [default: cores].
    #[arg(long = "workers", env = "FANOUT_WORKERS", default_value_t = cores(),
          hide_default_value = true, value_parser = usize_in(1..=1024))]
    pub tokio_workers: usize,
    /// Response body size, bytes (the server's default cap is 10 MiB).
    #[arg(long, env = "FANOUT_BODY_BYTES", default_value_t = DEFAULT_BODY_BYTES,
          value_parser = usize_in(0..=10 * 1024 * 1024))]
    #[serde(default = "default_body_bytes")]
    pub body_bytes: usize,
    /// CPU work per ok response, µs: hashing the body (FNV-1a, passes calibrated on this
    /// machine before the timed region), on the thread or task that got the response.
    #[arg(long, env = "FANOUT_CPU_US", default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=1_000_000))]
    #[serde(default)]
    pub cpu_us: u64,
    /// Connection set-up cost, ms: the server holds the first request on each new connection
    /// this much longer (a handshake's worth; later requests on it do not pay).
    #[arg(long, env = "FANOUT_CONNECT_DELAY_MS", default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=60_000))]
    #[serde(default)]
    pub connect_delay_ms: u64,
    /// How the server's delay varies around D: `uniform` (D ± --jitter-ms) or `lognormal`
    /// (median D, shape --delay-sigma: a heavy tail).
    #[arg(long, env = "FANOUT_DELAY_DIST", value_enum, default_value_t = DelayDist::Uniform)]
    #[serde(default)]
    pub delay_dist: DelayDist,
    /// Half-width of a uniform delay's spread, ms (at most D).
    #[arg(long, env = "FANOUT_JITTER_MS", default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=60_000))]
    #[serde(default)]
    pub jitter_ms: u64,
    /// HTTPS: the server serves TLS with a self-signed certificate made at start, and the
    /// clients trust that certificate only (ureq and reqwest, rustls).
    #[arg(long, env = "FANOUT_TLS")]
    #[serde(default)]
    pub tls: bool,
    /// HTTP version: `h1` (HTTP/1.1, a connection per request in flight) or `h2` (HTTP/2 with
    /// prior knowledge: requests as streams over few connections; reqwest strategies only).
    #[arg(long, env = "FANOUT_PROTOCOL", value_enum, default_value_t = Protocol::H1)]
    #[serde(default)]
    pub protocol: Protocol,
    /// Shape σ of a lognormal delay (its p99 is D·e^(2.33σ)).
    #[arg(long, env = "FANOUT_DELAY_SIGMA", default_value_t = DEFAULT_SIGMA, value_parser = sigma)]
    #[serde(default = "default_sigma")]
    pub delay_sigma: f64,
}

/// Default shape of a lognormal delay: its p99 is 10.2 × the median, its mean 1.65 ×.
pub const DEFAULT_SIGMA: f64 = 1.0;

fn default_body_bytes() -> usize {
    DEFAULT_BODY_BYTES
}

fn default_sigma() -> f64 {
    DEFAULT_SIGMA
}

/// Parses a lognormal shape: a number from 0.05 to the server's cap.
fn sigma(raw: &str) -> Result<f64, String> {
    let max = mock_server::routes::MAX_SIGMA;
    raw.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| (0.05..=max).contains(s))
        .ok_or_else(|| format!("must be a number from 0.05 to {max}"))
}

/// The HTTP version a point's clients speak.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// HTTP/1.1.
    #[default]
    H1,
    /// HTTP/2 with prior knowledge (h2c).
    H2,
}

/// How the server's delay varies around D.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum DelayDist {
    /// D ± a uniform jitter (none by default: every delay is D).
    #[default]
    Uniform,
    /// Lognormal of median D and shape σ.
    Lognormal,
}

impl Default for Settings {
    fn default() -> Self {
        Self {
            timeout_ms: DEFAULT_TIMEOUT_MS,
            stack_kib: DEFAULT_STACK_KIB,
            tokio_workers: cores(),
            body_bytes: DEFAULT_BODY_BYTES,
            cpu_us: 0,
            connect_delay_ms: 0,
            delay_dist: DelayDist::Uniform,
            jitter_ms: 0,
            delay_sigma: DEFAULT_SIGMA,
            protocol: Protocol::H1,
            tls: false,
        }
    }
}

/// A setting a sweep can vary across points, beside C: its x axis when it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Knob {
    /// `cpu_us`: CPU work per response.
    CpuUs,
    /// `connect_delay_ms`: connection set-up delay.
    ConnectDelayMs,
}

impl Knob {
    /// Every knob.
    pub const ALL: [Self; 2] = [Self::CpuUs, Self::ConnectDelayMs];

    /// Its value in `settings`.
    pub fn value(self, settings: &Settings) -> u64 {
        match self {
            Self::CpuUs => settings.cpu_us,
            Self::ConnectDelayMs => settings.connect_delay_ms,
        }
    }

    /// `settings` with this knob at `value`.
    pub fn set(self, settings: &mut Settings, value: u64) {
        match self {
            Self::CpuUs => settings.cpu_us = value,
            Self::ConnectDelayMs => settings.connect_delay_ms = value,
        }
    }

    /// Its name in a point's JSON (and a table's column).
    pub fn key(self) -> &'static str {
        match self {
            Self::CpuUs => "cpu_us",
            Self::ConnectDelayMs => "connect_delay_ms",
        }
    }

    /// What it is, for a chart's axis.
    pub fn label(self) -> &'static str {
        match self {
            Self::CpuUs => "CPU work per response, µs",
            Self::ConnectDelayMs => "connection set-up delay R, ms",
        }
    }
}

/// How N and D follow from C: the default rule, or a fixed delay and another multiple.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, clap::Args)]
pub struct Sizing {
    /// Server delay per request, ms [default: the rule below, per C].
    #[arg(long, env = "FANOUT_DELAY_MS", value_parser = clap::value_parser!(u64).range(0..=60_000))]
    pub delay_ms: Option<u64>,
    /// Requests per in-flight slot: N = K·C.
    #[arg(long, env = "FANOUT_REQUESTS_PER_SLOT", default_value_t = REQUESTS_PER_SLOT,
          value_parser = usize_in(1..=1_000))]
    pub requests_per_slot: usize,
}

impl Default for Sizing {
    fn default() -> Self {
        Self {
            delay_ms: None,
            requests_per_slot: REQUESTS_PER_SLOT,
        }
    }
}

/// Everything about a point but its strategy and C: what `run`, `sweep`, `doctor` and the
/// benches take as flags (or `FANOUT_*` variables).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, clap::Args)]
pub struct Workload {
    /// N and D per C.
    #[command(flatten)]
    #[serde(flatten)]
    pub sizing: Sizing,
    /// The rest.
    #[command(flatten)]
    #[serde(flatten)]
    pub settings: Settings,
}

impl Workload {
    /// The point of `strategy` at concurrency C under this workload.
    pub fn point(&self, strategy: &'static Strategy, concurrency: usize) -> Point {
        let mut settings = self.settings.clone();
        // A strategy made for one protocol (async_h2) speaks it whatever the flag says.
        if let Some(protocol) = strategy.protocol {
            settings.protocol = protocol;
        }
        Point {
            strategy,
            concurrency,
            requests: self.sizing.requests_per_slot * concurrency,
            delay_ms: self
                .sizing
                .delay_ms
                .unwrap_or_else(|| default_delay_ms(concurrency)),
            settings,
        }
    }
}

/// A workload that cannot be measured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkloadError {
    /// One point's timeout is not above its delay.
    #[error(
        "--timeout-ms {timeout_ms} must be above the delay ({delay_ms} ms): every request would time out"
    )]
    TimeoutNotAboveDelay {
        /// The timeout, ms.
        timeout_ms: u64,
        /// The delay, ms.
        delay_ms: u64,
    },
    /// A uniform jitter wider than the delay it varies.
    #[error(
        "--jitter-ms {jitter_ms} must be at most the delay ({delay_ms} ms at C = {concurrency}): a delay cannot go below 0"
    )]
    JitterAboveDelay {
        /// The jitter, ms.
        jitter_ms: u64,
        /// The delay, ms.
        delay_ms: u64,
        /// The point's concurrency.
        concurrency: usize,
    },
    /// The timeout is not above the delay of some point of a plan.
    #[error(
        "--timeout-ms {timeout_ms} must be above the delay of every point ({delay_ms} ms at C = {concurrency}): its requests would all time out"
    )]
    TimeoutNotAboveSomeDelay {
        /// The timeout, ms.
        timeout_ms: u64,
        /// The longest delay, ms.
        delay_ms: u64,
        /// The point's concurrency.
        concurrency: usize,
    },
}

/// One measured point: a strategy and its workload. In JSON, its fields (and its settings')
/// stand at the top level of a point's object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// The strategy (its name in JSON).
    pub strategy: &'static Strategy,
    /// Requests in flight (C).
    pub concurrency: usize,
    /// Requests in all (N).
    pub requests: usize,
    /// Server delay per request (D), ms.
    pub delay_ms: u64,
    /// Everything else.
    #[serde(flatten)]
    pub settings: Settings,
}

impl Point {
    /// A point with every default applied for `strategy` at concurrency C.
    pub fn new(strategy: &'static Strategy, concurrency: usize) -> Self {
        Workload::default().point(strategy, concurrency)
    }

    /// Checks that the point can be measured at all: its timeout above its longest planned
    /// delay (D, plus the connection set-up delay, plus a uniform jitter), a jitter no wider
    /// than D.
    pub fn validate(&self) -> Result<(), WorkloadError> {
        let s = &self.settings;
        let uniform = s.delay_dist == DelayDist::Uniform;
        if uniform && s.jitter_ms > self.delay_ms {
            return Err(WorkloadError::JitterAboveDelay {
                jitter_ms: s.jitter_ms,
                delay_ms: self.delay_ms,
                concurrency: self.concurrency,
            });
        }
        let jitter = if uniform { s.jitter_ms } else { 0 };
        let longest = self.delay_ms + s.connect_delay_ms + jitter;
        if s.timeout_ms <= longest {
            return Err(WorkloadError::TimeoutNotAboveDelay {
                timeout_ms: s.timeout_ms,
                delay_ms: longest,
            });
        }
        Ok(())
    }

    /// True when `other` is the same workload (whatever its strategy and C): compare's test
    /// for two runs' points to be comparable.
    pub fn same_workload(&self, other: &Self) -> bool {
        (self.requests, self.delay_ms, &self.settings)
            == (other.requests, other.delay_ms, &other.settings)
    }

    /// `strategy/C`, as criterion IDs and messages name a point.
    pub fn name(&self) -> String {
        format!("{}/{}", self.strategy.name, self.concurrency)
    }

    /// Requests the strategy holds in flight by design: C, N for `pitfall_unbounded`, 1 for
    /// `sequential`, the worker count for `pitfall_blocking_in_async`.
    pub fn in_flight(&self) -> usize {
        self.strategy.in_flight.of(self)
    }

    /// Ideal wall time: R + (ceil(N/C) − 1) × mean delay + the delay's C/(C+1) quantile
    /// (the expected slowest of a round's C): ceil(N/C) × D when every delay is D. R, the
    /// connection set-up delay, is paid once per slot by an ideal client.
    pub fn ideal_s(&self) -> f64 {
        let c = self.concurrency.max(1);
        let rounds = self.requests.div_ceil(c) as f64;
        let delay = self.delay();
        let slowest = delay.quantile_ms(c as f64 / (c as f64 + 1.0));
        let ms = self.settings.connect_delay_ms as f64 + (rounds - 1.0) * delay.mean_ms() + slowest;
        ms / 1000.0
    }

    /// The distribution of this point's server delays.
    pub fn delay(&self) -> Delay {
        let d = self.delay_ms as f64;
        match self.settings.delay_dist {
            DelayDist::Uniform => Delay::Uniform {
                low_ms: d - self.settings.jitter_ms as f64,
                high_ms: d + self.settings.jitter_ms as f64,
            },
            DelayDist::Lognormal => Delay::Lognormal {
                median_ms: d,
                sigma: self.settings.delay_sigma,
            },
        }
    }

    /// The shortest wall time the strategy can take here, given what it holds in flight by
    /// design: ceil(N / in-flight) × D. Used to skip points that cannot finish in time.
    pub fn least_wall_s(&self) -> f64 {
        let rounds = self.requests.div_ceil(self.in_flight());
        rounds as f64 * self.delay_ms as f64 / 1000.0
    }

    /// Why the strategy cannot run this point within `limit`, if it cannot: it needs at least
    /// [`Point::least_wall_s`] by design.
    pub fn too_slow(&self, limit: Duration) -> Option<String> {
        let least = self.least_wall_s();
        (least > limit.as_secs_f64()).then(|| {
            format!(
                "needs at least {least:.0} s (ceil(N / {} in flight) × D), above the {} s limit",
                self.in_flight(),
                limit.as_secs()
            )
        })
    }

    /// Why the strategy cannot run this point's protocol, if it cannot: ureq, the raw clients
    /// and the peers speak HTTP/1.1 only; the raw clients and the peers plain HTTP only.
    pub fn unsupported(&self) -> Option<String> {
        let client = self.strategy.client;
        if self.settings.protocol == Protocol::H2 && !client.speaks_h2() {
            return Some(format!("{} speaks HTTP/1.1 only", self.strategy.name));
        }
        (self.settings.tls && !client.speaks_tls())
            .then(|| format!("{} speaks plain HTTP only (no TLS)", self.strategy.name))
    }

    /// Why this point is not run within `limit`, if it is not: too slow by design, a
    /// protocol its client cannot speak, or a peer that is not installed.
    pub fn cannot_run(&self, limit: Duration) -> Option<String> {
        self.too_slow(limit)
            .or_else(|| self.unsupported())
            .or_else(|| self.strategy.missing())
    }

    /// The job a worker runs for this point against `base_url` (no trailing slash): the
    /// server's query parameters carry the delay, its spread, the connection set-up delay and
    /// the body size (the parameters left at their defaults are left out).
    pub fn job(&self, base_url: &str) -> Job {
        use std::fmt::Write as _;
        let s = &self.settings;
        let mut url = format!(
            "{base_url}/get?delay_ms={}&bytes={}",
            self.delay_ms, s.body_bytes
        );
        match s.delay_dist {
            DelayDist::Uniform if s.jitter_ms > 0 => {
                let _ = write!(url, "&jitter_ms={}", s.jitter_ms);
            }
            DelayDist::Uniform => {}
            DelayDist::Lognormal => {
                let _ = write!(url, "&delay_dist=lognormal&sigma={}", s.delay_sigma);
            }
        }
        if s.connect_delay_ms > 0 {
            let _ = write!(url, "&connect_delay_ms={}", s.connect_delay_ms);
        }
        Job::new(url, self.concurrency, self.requests, self.settings.clone())
    }
}

/// A distribution of server delays, with the two figures ideal wall times use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Delay {
    /// Uniform from `low_ms` to `high_ms` (a point delay when they are equal).
    Uniform {
        /// Shortest delay.
        low_ms: f64,
        /// Longest delay.
        high_ms: f64,
    },
    /// Lognormal of median `median_ms` and shape `sigma`.
    Lognormal {
        /// Median delay.
        median_ms: f64,
        /// Shape σ (of the delay's logarithm).
        sigma: f64,
    },
}

impl Delay {
    fn lognormal(median_ms: f64, sigma: f64) -> Option<statrs::distribution::LogNormal> {
        statrs::distribution::LogNormal::new(median_ms.ln(), sigma).ok()
    }

    /// Mean delay, ms.
    pub fn mean_ms(&self) -> f64 {
        use statrs::statistics::Distribution as _;
        match *self {
            Self::Uniform { low_ms, high_ms } => (low_ms + high_ms) / 2.0,
            Self::Lognormal { median_ms, sigma } => Self::lognormal(median_ms, sigma)
                .and_then(|d| d.mean())
                .unwrap_or(median_ms),
        }
    }

    /// The delay not exceeded with probability `p`, ms.
    pub fn quantile_ms(&self, p: f64) -> f64 {
        use statrs::distribution::ContinuousCDF as _;
        match *self {
            Self::Uniform { low_ms, high_ms } => low_ms + (high_ms - low_ms) * p,
            Self::Lognormal { median_ms, sigma } => {
                Self::lognormal(median_ms, sigma).map_or(median_ms, |d| d.inverse_cdf(p))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies;

    fn strategy(name: &str) -> &'static Strategy {
        strategies::find(name).expect("strategy")
    }

    #[test]
    fn default_delays_keep_offered_load_under_the_cap() {
        assert_eq!(default_delay_ms(10), 100);
        assert_eq!(default_delay_ms(500), 100);
        assert_eq!(default_delay_ms(1_000), 200);
        assert_eq!(default_delay_ms(10_000), 2_000);
        for c in [1, 10, 100, 999, 1_000, 10_000, 123_457] {
            let rps = c as f64 * 1000.0 / default_delay_ms(c) as f64;
            assert!(rps <= OFFERED_RPS_CAP as f64, "C={c}: {rps} rps");
        }
    }

    #[test]
    fn ideal_and_least_wall_follow_what_a_strategy_holds_in_flight() {
        let at = |name| {
            let mut p = Point::new(strategy(name), 100);
            p.settings.tokio_workers = 2;
            p
        };
        let p = at("thread_pool");
        assert_eq!(p.requests, 200);
        assert!((p.ideal_s() - 0.2).abs() < 1e-9);
        assert!((p.least_wall_s() - 0.2).abs() < 1e-9);
        assert!((at("sequential").least_wall_s() - 20.0).abs() < 1e-9);
        assert!((at("pitfall_blocking_in_async").least_wall_s() - 10.0).abs() < 1e-9);
        assert!((at("pitfall_unbounded").least_wall_s() - 0.1).abs() < 1e-9);
        let limit = Duration::from_secs(5);
        assert_eq!(p.too_slow(limit), None);
        assert_eq!(
            at("sequential").too_slow(limit).as_deref(),
            Some("needs at least 20 s (ceil(N / 1 in flight) × D), above the 5 s limit")
        );
        assert_eq!(
            p.job("http://h:1").url(),
            "http://h:1/get?delay_ms=100&bytes=32"
        );
    }

    #[test]
    fn a_timeout_at_or_below_the_delay_is_refused() {
        let mut p = Point::new(strategy("thread_pool"), 10);
        assert_eq!(p.validate(), Ok(()));
        p.settings.timeout_ms = p.delay_ms;
        assert_eq!(
            p.validate().map_err(|e| e.to_string()),
            Err(
                "--timeout-ms 100 must be above the delay (100 ms): every request would time out"
                    .into()
            )
        );
    }

    #[test]
    fn a_point_is_flat_in_json_and_its_workload_compares_whole() {
        let p = Point::new(strategy("thread_pool"), 10);
        let json = serde_json::to_value(&p).expect("json");
        assert_eq!(json["strategy"], "thread_pool");
        assert_eq!(json["timeout_ms"], DEFAULT_TIMEOUT_MS);
        assert_eq!(serde_json::from_value::<Point>(json).expect("read"), p);
        let other = Point::new(strategy("async_semaphore"), 10);
        assert!(p.same_workload(&other));
        let mut bigger = other.clone();
        bigger.settings.body_bytes += 1;
        assert!(!p.same_workload(&bigger));
    }
}

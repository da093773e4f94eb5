//! A point's workload as data: the rule for its defaults and the settings beyond C, N and D,
//! the schema of `plan.json` and of every point's JSON. The flags that set them are the
//! command line's (`planning/flags.rs`), converted into these.
//!
//! A new workload knob is one field of [`Settings`], its flag in `SettingsFlags` and the
//! line converting it, and its use: `run`, `sweep`, `doctor`, the benches, `plan.json`, every
//! point's JSON, `SETUP.md` and compare's "same workload" check all take [`Settings`] whole.
//!
//! The rule for defaults keeps the offered load C/D at most [`OFFERED_RPS_CAP`] requests per
//! second, well below what this kind of 2-core machine serves (tens of thousands per second,
//! shared by client and server), so a point measures the concurrency model, not CPU
//! saturation: D = max(100 ms, C / 5,000 s). N = 2·C, so each point has a ramp-up round and a
//! steady round.

use serde::{Deserialize, Serialize};

use super::rate::RateProfile;
use super::schedule::Arrival;
use crate::os::cores;

/// The rule for default workloads, in words (for `--help`, `SETUP.md` and the README).
pub const RULE: &str = "N = 2·C; D = max(100 ms, C / 5,000 s), so the offered load C/D \
stays at or below 5,000 requests/s — well under what a 2-core machine serves — and a point \
measures the concurrency model, not CPU saturation.";

/// How ideal wall time follows from the workload, in words (for `SETUP.md` and the README).
pub const IDEAL_RULE: &str = "ideal wall = R + (ceil(N/C) − 1) × mean delay + the delay's \
C/(C+1) quantile (the expected slowest of a round of C), R the connection set-up delay paid \
once per slot; with every delay D that is ceil(N/C) × D. Uniform D ± J: mean D, quantile \
D − J + 2J·p. Lognormal of median D and shape σ: mean D·e^(σ²/2), quantile D·e^(σ·Φ⁻¹(p)). \
A straggler share P slowed X times: mean (1 − P + P·X) × the mean, quantile where \
(1 − P)·F(t) + P·F(t / X) reaches p.";

/// Default backoff cap before the first retry, ms.
pub const DEFAULT_RETRY_BACKOFF_MS: u64 = 10;
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
/// Default stack of each may coroutine: may's own default (0x1000 words, 32 KiB on 64-bit),
/// mapped whole (only touched pages become resident) with a guard page below it.
pub const DEFAULT_COROUTINE_STACK_KIB: usize = 32;
/// Loopback addresses the server fanout starts listens at, unless asked otherwise: 16 on
/// Linux, where all of 127.0.0.0/8 is the loopback's; elsewhere (macOS, the BSDs) only
/// 127.0.0.1 is, unless an administrator adds more.
pub const DEFAULT_LOOPBACK_ADDRESSES: u32 = if cfg!(target_os = "linux") { 16 } else { 1 };
/// Response body size asked of the server.
pub const DEFAULT_BODY_BYTES: usize = 32;

/// The default delay for concurrency C: max(100 ms, C / 5,000 s), in ms.
pub fn default_delay_ms(concurrency: usize) -> u64 {
    let per_cap = (concurrency as u64 * 1000).div_ceil(OFFERED_RPS_CAP);
    per_cap.max(MIN_DELAY_MS)
}

/// A point's settings beyond strategy, C, N and D: the same for every point of a sweep.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// Per-request timeout, ms (both clients).
    pub timeout_ms: u64,
    /// Stack size of each thread the thread strategies spawn, KiB.
    pub stack_kib: usize,
    /// Stack size of each coroutine the coroutine strategies spawn (may), KiB.
    #[serde(default = "default_coroutine_stack_kib")]
    pub coroutine_stack_kib: usize,
    /// Worker threads of multi-thread tokio runtimes [default: cores].
    pub tokio_workers: usize,
    /// Response body size, bytes (the server's default cap is 10 MiB).
    #[serde(default = "default_body_bytes")]
    pub body_bytes: usize,
    /// CPU work per ok response, µs: hashing the body (FNV-1a, passes calibrated on this
    /// machine before the timed region), on the thread or task that got the response.
    #[serde(default)]
    pub cpu_us: u64,
    /// Connection set-up cost, ms: the server holds the first request on each new connection
    /// this much longer (a handshake's worth; later requests on it do not pay).
    #[serde(default)]
    pub connect_delay_ms: u64,
    /// How the server's delay varies around D: `uniform` (D ± --jitter-ms) or `lognormal`
    /// (median D, shape --delay-sigma: a heavy tail).
    #[serde(default)]
    pub delay_dist: DelayDist,
    /// Half-width of a uniform delay's spread, ms (at most D).
    #[serde(default)]
    pub jitter_ms: u64,
    /// HTTPS: the server serves TLS with a self-signed certificate made at start, and the
    /// clients trust that certificate only (ureq and reqwest, rustls).
    #[serde(default)]
    pub tls: bool,
    /// HTTP version: `h1` (HTTP/1.1, a connection per request in flight) or `h2` (HTTP/2 with
    /// prior knowledge: requests as streams over few connections; reqwest strategies only).
    #[serde(default)]
    pub protocol: Protocol,
    /// Open loop: requests fall due at this rate, per second, whether or not the client has a
    /// free slot; latency counts from the due time. `A..B[..C]` ramps through the rates, evenly
    /// spaced in time [default: closed loop — the next request starts when one ends].
    #[serde(default)]
    pub rate: Option<RateProfile>,
    /// How due times are spaced at --rate: `constant` or `poisson`.
    #[serde(default)]
    pub arrival: Arrival,
    /// At --rate, a request that cannot start within this long after its due time is dropped,
    /// ms [default: the timeout].
    #[serde(default)]
    pub drop_after_ms: Option<u64>,
    /// Hedge: a request not answered this long after its send goes again, on a connection of
    /// its own, and whichever answers first wins, the other cancelled, ms [default: none].
    #[serde(default)]
    pub hedge_after_ms: Option<u64>,
    /// Hedge after the point's own latency percentile so far (`p95`, `p99.9`): estimated
    /// online from the requests answered until then, once max(100, C) have — a round's worth
    /// [default: none].
    #[serde(default)]
    pub hedge_after_percentile: Option<f64>,
    /// At most this many hedges, in percent of the requests sent so far (a budget that
    /// refills as requests go, as Finagle's) [default: no cap].
    #[serde(default)]
    pub hedge_max_extra: Option<f64>,
    /// Retries: a request whose attempt failed with a 5xx status or a connection reset goes
    /// again, up to this many times, within its deadline, after a backoff (`--retry-backoff-ms`).
    #[serde(default)]
    pub max_retries: u32,
    /// The backoff's cap before the first retry, ms, doubling for each retry after it; the
    /// wait is a random share of it ("full jitter").
    #[serde(default = "default_retry_backoff_ms")]
    pub retry_backoff_ms: u64,
    /// At most this many retries, in percent of the requests sent so far (a budget that
    /// refills as requests go) [default: no cap].
    #[serde(default)]
    pub retry_budget: Option<f64>,
    /// Shape σ of a lognormal delay (its p99 is D·e^(2.33σ)).
    #[serde(default = "default_sigma")]
    pub delay_sigma: f64,
    /// Loopback addresses the server fanout starts listens at, one port (127.0.0.1 and the
    /// ones after it): each point is sent to the one with the fewest sockets left by earlier
    /// points, and clients that dial for themselves spread new connections over all, so none
    /// waits for ports or crowds one range; 1 puts every connection on one destination
    /// [default: 16 on Linux, 1 elsewhere].
    // Left out where not given, so that folders recorded before it redraw unchanged.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loopback_addresses: Option<u32>,
    /// The server's profile and limits, for the server fanout starts (with `--url` the
    /// server's own apply: each point's `server.limits` says which).
    #[serde(flatten, default)]
    pub server: mock_server::ServerFlags,
    /// A fault the server injects, asked for with every request (so every client, the peers
    /// included, meets the same ones): its kind, share, seed and window (docs/mock-server.md).
    #[serde(flatten, default)]
    pub fault: mock_server::FaultFlags,
    /// A share of requests the server serves slower (`--straggler-p P --straggler-x X`,
    /// seeded): the tail hedging is for (docs/mock-server.md).
    #[serde(flatten, default)]
    pub straggler: mock_server::StragglerFlags,
}

/// Default shape of a lognormal delay: its p99 is 10.2 × the median, its mean 1.65 ×.
pub const DEFAULT_SIGMA: f64 = mock_server::query::DEFAULT_SIGMA;

fn default_coroutine_stack_kib() -> usize {
    DEFAULT_COROUTINE_STACK_KIB
}

fn default_body_bytes() -> usize {
    DEFAULT_BODY_BYTES
}

fn default_sigma() -> f64 {
    DEFAULT_SIGMA
}

fn default_retry_backoff_ms() -> u64 {
    DEFAULT_RETRY_BACKOFF_MS
}

/// The HTTP version a point's clients speak.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
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
            coroutine_stack_kib: DEFAULT_COROUTINE_STACK_KIB,
            tokio_workers: cores(),
            body_bytes: DEFAULT_BODY_BYTES,
            cpu_us: 0,
            connect_delay_ms: 0,
            delay_dist: DelayDist::Uniform,
            jitter_ms: 0,
            delay_sigma: DEFAULT_SIGMA,
            protocol: Protocol::H1,
            tls: false,
            rate: None,
            arrival: Arrival::Constant,
            drop_after_ms: None,
            hedge_after_ms: None,
            hedge_after_percentile: None,
            hedge_max_extra: None,
            max_retries: 0,
            retry_backoff_ms: DEFAULT_RETRY_BACKOFF_MS,
            retry_budget: None,
            loopback_addresses: None,
            server: mock_server::ServerFlags::default(),
            fault: mock_server::FaultFlags::default(),
            straggler: mock_server::StragglerFlags::default(),
        }
    }
}

impl Settings {
    /// Whether requests are hedged: after a fixed delay or a latency percentile.
    pub fn hedging(&self) -> bool {
        self.hedge_after_ms.is_some() || self.hedge_after_percentile.is_some()
    }
}

/// How N and D follow from C: the default rule, or a fixed delay and another multiple.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Sizing {
    /// Server delay per request, ms [default: the rule below, per C].
    pub delay_ms: Option<u64>,
    /// Requests per in-flight slot: N = K·C.
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
/// benches make from their flags ([`crate::planning::flags::WorkloadFlags`]).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Workload {
    /// N and D per C.
    #[serde(flatten)]
    pub sizing: Sizing,
    /// The rest.
    #[serde(flatten)]
    pub settings: Settings,
}

//! The command line's flags that make a workload: each setting's flag under its help heading
//! (workload, client, server, faults and deadlines, tails) and its range (its `FANOUT_*`
//! variable is derived from its name: `variables.rs`), converted into the plain data a point
//! records ([`Workload`], [`Settings`]).
//! Renaming a flag here renames nothing in a point's JSON.

use clap::builder::RangedU64ValueParser;

use crate::model::rate::RateProfile;
use crate::model::schedule::Arrival;
use crate::model::settings::{
    DEFAULT_BODY_BYTES, DEFAULT_COROUTINE_STACK_KIB, DEFAULT_RETRY_BACKOFF_MS, DEFAULT_SIGMA,
    DEFAULT_STACK_KIB, DEFAULT_TIMEOUT_MS, DelayDist, Protocol, REQUESTS_PER_SLOT, Settings,
    Sizing, Workload,
};
use crate::os::cores;

/// The flags of a [`Workload`].
#[derive(Debug, Clone, PartialEq, clap::Args)]
pub struct WorkloadFlags {
    /// N and D per C.
    #[command(flatten)]
    pub sizing: SizingFlags,
    /// The rest.
    #[command(flatten)]
    pub settings: SettingsFlags,
}

impl WorkloadFlags {
    /// The workload these flags set.
    pub fn workload(&self) -> Workload {
        Workload {
            sizing: Sizing::from(&self.sizing),
            settings: Settings::from(&self.settings),
        }
    }
}

/// The flags of [`Sizing`]: how N and D follow from C.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::Args)]
pub struct SizingFlags {
    /// Server delay per request, ms [default: the rule below, per C].
    #[arg(long, value_parser = clap::value_parser!(u64).range(0..=60_000),
          help_heading = "Workload")]
    pub delay_ms: Option<u64>,
    /// Requests per in-flight slot: N = K·C.
    #[arg(long, default_value_t = REQUESTS_PER_SLOT,
          value_parser = usize_in(1..=1_000), help_heading = "Workload")]
    pub requests_per_slot: usize,
}

impl From<&SizingFlags> for Sizing {
    fn from(flags: &SizingFlags) -> Self {
        Self {
            delay_ms: flags.delay_ms,
            requests_per_slot: flags.requests_per_slot,
        }
    }
}

/// The flags of [`Settings`], each under its help heading.
#[derive(Debug, Clone, PartialEq, clap::Args)]
pub struct SettingsFlags {
    /// Per-request timeout, ms (both clients).
    #[arg(long, default_value_t = DEFAULT_TIMEOUT_MS,
          value_parser = clap::value_parser!(u64).range(1..=3_600_000), help_heading = "Faults and deadlines")]
    pub timeout_ms: u64,
    /// Stack size of each thread the thread strategies spawn, KiB.
    #[arg(long, default_value_t = DEFAULT_STACK_KIB,
          value_parser = usize_in(16..=1_048_576), help_heading = "Client")]
    pub stack_kib: usize,
    /// Stack size of each coroutine the coroutine strategies spawn (may), KiB.
    #[arg(long, default_value_t = DEFAULT_COROUTINE_STACK_KIB,
          value_parser = usize_in(8..=65_536), help_heading = "Client")]
    pub coroutine_stack_kib: usize,
    /// Worker threads of multi-thread tokio runtimes [default: cores].
    #[arg(long = "workers", default_value_t = cores(),
          hide_default_value = true, value_parser = usize_in(1..=1024), help_heading = "Client")]
    pub tokio_workers: usize,
    /// Response body size, bytes (the server's default cap is 10 MiB).
    #[arg(long, default_value_t = DEFAULT_BODY_BYTES,
          value_parser = usize_in(0..=10 * 1024 * 1024), help_heading = "Workload")]
    pub body_bytes: usize,
    /// CPU work per ok response, µs: hashing the body (FNV-1a, passes calibrated on this
    /// machine before the timed region), on the thread or task that got the response.
    #[arg(long, default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=1_000_000), help_heading = "Workload")]
    pub cpu_us: u64,
    /// Connection set-up cost, ms: the server holds the first request on each new connection
    /// this much longer (a handshake's worth; later requests on it do not pay).
    #[arg(long, default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=60_000), help_heading = "Workload")]
    pub connect_delay_ms: u64,
    /// How the server's delay varies around D: `uniform` (D ± --jitter-ms) or `lognormal`
    /// (median D, shape --delay-sigma: a heavy tail).
    #[arg(long, value_enum, default_value_t = DelayDist::Uniform, help_heading = "Workload")]
    pub delay_dist: DelayDist,
    /// Half-width of a uniform delay's spread, ms (at most D).
    #[arg(long, default_value_t = 0,
          value_parser = clap::value_parser!(u64).range(0..=60_000), help_heading = "Workload")]
    pub jitter_ms: u64,
    /// HTTPS: the server serves TLS with a self-signed certificate made at start, and the
    /// clients trust that certificate only (ureq and reqwest, rustls).
    #[arg(long, help_heading = "Client")]
    pub tls: bool,
    /// HTTP version: `h1` (HTTP/1.1, a connection per request in flight) or `h2` (HTTP/2 with
    /// prior knowledge: requests as streams over few connections; reqwest strategies only).
    #[arg(long, value_enum, default_value_t = Protocol::H1, help_heading = "Client")]
    pub protocol: Protocol,
    /// Open loop: requests fall due at this rate, per second, whether or not the client has a
    /// free slot; latency counts from the due time. `A..B[..C]` ramps through the rates, evenly
    /// spaced in time [default: closed loop — the next request starts when one ends].
    #[arg(long, value_parser = RateProfile::parse, help_heading = "Workload")]
    pub rate: Option<RateProfile>,
    /// How due times are spaced at --rate: `constant` or `poisson`.
    #[arg(long, value_enum, default_value_t = Arrival::Constant, help_heading = "Workload")]
    pub arrival: Arrival,
    /// At --rate, a request that cannot start within this long after its due time is dropped,
    /// ms [default: the timeout].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=3_600_000), help_heading = "Workload")]
    pub drop_after_ms: Option<u64>,
    /// Hedge: a request not answered this long after its send goes again, on a connection of
    /// its own, and whichever answers first wins, the other cancelled, ms [default: none].
    #[arg(long, value_parser = clap::value_parser!(u64).range(1..=3_600_000), help_heading = "Tails")]
    pub hedge_after_ms: Option<u64>,
    /// Hedge after the point's own latency percentile so far (`p95`, `p99.9`): estimated
    /// online from the requests answered until then, once max(100, C) have — a round's worth
    /// [default: none].
    #[arg(long = "hedge-after", value_parser = hedge_percentile, conflicts_with = "hedge_after_ms", help_heading = "Tails")]
    pub hedge_after_percentile: Option<f64>,
    /// At most this many hedges, in percent of the requests sent so far (a budget that
    /// refills as requests go, as Finagle's) [default: no cap].
    #[arg(long, value_parser = hedge_budget, help_heading = "Tails")]
    pub hedge_max_extra: Option<f64>,
    /// Retries: a request whose attempt failed with a 5xx status or a connection reset goes
    /// again, up to this many times, within its deadline, after a backoff (`--retry-backoff-ms`).
    #[arg(long = "retries", default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=10), help_heading = "Faults and deadlines")]
    pub max_retries: u32,
    /// The backoff's cap before the first retry, ms, doubling for each retry after it; the
    /// wait is a random share of it ("full jitter").
    #[arg(long, default_value_t = DEFAULT_RETRY_BACKOFF_MS,
          value_parser = clap::value_parser!(u64).range(1..=60_000), help_heading = "Faults and deadlines")]
    pub retry_backoff_ms: u64,
    /// At most this many retries, in percent of the requests sent so far (a budget that
    /// refills as requests go) [default: no cap].
    #[arg(long, value_parser = retry_budget, help_heading = "Faults and deadlines")]
    pub retry_budget: Option<f64>,
    /// Shape σ of a lognormal delay (its p99 is D·e^(2.33σ)).
    #[arg(long, default_value_t = DEFAULT_SIGMA, value_parser = sigma, help_heading = "Workload")]
    pub delay_sigma: f64,
    /// Loopback addresses the server fanout starts listens at, one port (127.0.0.1 and the
    /// ones after it): each point is sent to the one with the fewest sockets left by earlier
    /// points, and clients that dial for themselves spread new connections over all, so none
    /// waits for ports or crowds one range; 1 puts every connection on one destination
    /// [default: 16 on Linux, 1 elsewhere].
    #[arg(long, value_parser = clap::value_parser!(u32).range(1..=4096), help_heading = "Server")]
    pub loopback_addresses: Option<u32>,
    /// The server's profile and limits, for the server fanout starts (with `--url` the
    /// server's own apply: each point's `server.limits` says which).
    #[command(flatten, next_help_heading = "Server")]
    pub server: mock_server::ServerFlags,
    /// A fault the server injects, asked for with every request (so every client, the peers
    /// included, meets the same ones): its kind, share, seed and window (docs/mock-server.md).
    #[command(flatten, next_help_heading = "Faults and deadlines")]
    pub fault: mock_server::FaultFlags,
    /// A share of requests the server serves slower (`--straggler-p P --straggler-x X`,
    /// seeded): the tail hedging is for (docs/mock-server.md).
    #[command(flatten, next_help_heading = "Tails")]
    pub straggler: mock_server::StragglerFlags,
}

impl From<&SettingsFlags> for Settings {
    fn from(flags: &SettingsFlags) -> Self {
        Self {
            timeout_ms: flags.timeout_ms,
            stack_kib: flags.stack_kib,
            coroutine_stack_kib: flags.coroutine_stack_kib,
            tokio_workers: flags.tokio_workers,
            body_bytes: flags.body_bytes,
            cpu_us: flags.cpu_us,
            connect_delay_ms: flags.connect_delay_ms,
            delay_dist: flags.delay_dist,
            jitter_ms: flags.jitter_ms,
            tls: flags.tls,
            protocol: flags.protocol,
            rate: flags.rate.clone(),
            arrival: flags.arrival,
            drop_after_ms: flags.drop_after_ms,
            hedge_after_ms: flags.hedge_after_ms,
            hedge_after_percentile: flags.hedge_after_percentile,
            hedge_max_extra: flags.hedge_max_extra,
            max_retries: flags.max_retries,
            retry_backoff_ms: flags.retry_backoff_ms,
            retry_budget: flags.retry_budget,
            delay_sigma: flags.delay_sigma,
            loopback_addresses: flags.loopback_addresses,
            server: flags.server.clone(),
            fault: flags.fault.clone(),
            straggler: flags.straggler,
        }
    }
}

/// A flag's parser for a `usize` in `range`.
fn usize_in(range: std::ops::RangeInclusive<u64>) -> RangedU64ValueParser<usize> {
    RangedU64ValueParser::new().range(range)
}

fn retry_budget(raw: &str) -> Result<f64, String> {
    mock_server::params::number("--retry-budget", raw, 0.0, 100.0).map_err(|e| e.to_string())
}

fn hedge_budget(raw: &str) -> Result<f64, String> {
    mock_server::params::number("--hedge-max-extra", raw, 0.0, 100.0).map_err(|e| e.to_string())
}

/// Parses a latency percentile to hedge after: `pNN`, above 0 and below 100.
fn hedge_percentile(raw: &str) -> Result<f64, String> {
    raw.trim()
        .strip_prefix('p')
        .and_then(|n| n.parse::<f64>().ok())
        .filter(|p| *p > 0.0 && *p < 100.0)
        .ok_or_else(|| {
            format!("must be a percentile `pNN` above p0 and below p100 (p95, p99.9), not `{raw}`")
        })
}

/// Parses a lognormal shape: a number in the server's range.
fn sigma(raw: &str) -> Result<f64, String> {
    let range = mock_server::delay::SIGMA_RANGE;
    raw.trim()
        .parse::<f64>()
        .ok()
        .filter(|s| range.contains(s))
        .ok_or_else(|| format!("must be a number from {} to {}", range.start(), range.end()))
}

#[cfg(test)]
mod tests {
    use clap::{CommandFactory as _, FromArgMatches as _};

    use super::*;

    #[derive(clap::Parser)]
    struct Flags {
        #[command(flatten)]
        workload: WorkloadFlags,
    }

    /// The workload `args` set, no `FANOUT_*` variable read (the server's profile flags name
    /// theirs in the mock server's crate; `variables.rs` adds the rest).
    fn workload(args: &[&str]) -> Workload {
        let command = Flags::command().mut_args(|arg| arg.env(None));
        let matches = command
            .try_get_matches_from(std::iter::once("fanout").chain(args.iter().copied()))
            .expect("parses");
        Flags::from_arg_matches(&matches)
            .expect("parses")
            .workload
            .workload()
    }

    #[test]
    fn no_flag_makes_the_default_workload_and_a_flag_sets_its_own_field_only() {
        assert_eq!(workload(&[]), Workload::default());
        let set = workload(&[
            "--timeout-ms",
            "1500",
            "--retries",
            "2",
            "--hedge-after",
            "p99",
            "--fault",
            "reset",
            "--delay-ms",
            "7",
        ]);
        let mut expected = Workload::default();
        expected.sizing.delay_ms = Some(7);
        expected.settings.timeout_ms = 1500;
        expected.settings.max_retries = 2;
        expected.settings.hedge_after_percentile = Some(99.0);
        expected.settings.fault.fault = Some(mock_server::FaultKind::Reset);
        assert_eq!(set, expected);
    }
}

//! The peer protocol: the one JSON line a peer prints, read into a worker's report (missing
//! outcomes count as `not_run`; more outcomes than requests, or garbage, fail the point).

use std::collections::BTreeMap;

use serde::Deserialize;

use super::error::PeerError;
use crate::model::error_kind::ErrorKind;
use crate::model::subject::Subject;
use crate::model::tally::{Latency, TallySummary};
use crate::model::worker_report::{PeerConfig, WorkerReport};

/// The line a peer prints (the protocol above).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PeerLine {
    /// Requests answered 200 with the expected body.
    pub ok: u64,
    /// Failed requests by fanout's error kind.
    pub errors: BTreeMap<String, u64>,
    /// Wall time of the peer's timed region, seconds.
    pub wall_s: f64,
    /// Every ok request's latency, ms.
    #[serde(default)]
    pub latencies_ms: Option<Vec<f64>>,
    /// Or the percentiles the peer computed itself, ms.
    #[serde(default)]
    pub latency_ms: Option<Latency>,
    /// Resident memory just before the timed region.
    #[serde(default)]
    pub rss_before_bytes: Option<u64>,
    /// User CPU seconds of the timed region.
    #[serde(default)]
    pub timed_cpu_user_s: Option<f64>,
    /// System CPU seconds of the timed region.
    #[serde(default)]
    pub timed_cpu_sys_s: Option<f64>,
    /// What the peer runs with: `{name: version}`.
    #[serde(default)]
    pub versions: BTreeMap<String, String>,
    /// Why the peer stopped early, if it did.
    #[serde(default)]
    pub strategy_error: Option<String>,
}

/// The report of the last line of `stdout` that follows the protocol, for a job of
/// `requests` requests, or why there is none.
pub fn last_line(peer: &Subject, stdout: &str, requests: u64) -> Result<WorkerReport, PeerError> {
    let mut last_error = None;
    for line in stdout
        .lines()
        .rev()
        .filter(|l| l.trim_start().starts_with('{'))
    {
        match serde_json::from_str::<PeerLine>(line) {
            Ok(parsed) => return to_report(peer, parsed, requests),
            Err(e) => last_error = last_error.or(Some(e)),
        }
    }
    Err(match last_error {
        Some(e) => PeerError::BadLine(e),
        None => PeerError::NoLine {
            stdout: stdout.to_owned(),
        },
    })
}

/// The worker report of a protocol `line` of `peer` for a job of `requests` requests, or why
/// the line cannot be one.
pub fn to_report(peer: &Subject, line: PeerLine, requests: u64) -> Result<WorkerReport, PeerError> {
    if !(line.wall_s.is_finite() && line.wall_s > 0.0) {
        return Err(PeerError::BadWall(line.wall_s));
    }
    let mut errors = line.errors;
    let accounted = line.ok + errors.values().sum::<u64>();
    if accounted > requests {
        return Err(PeerError::TooManyOutcomes {
            accounted,
            requests,
        });
    }
    if accounted < requests {
        *errors.entry(ErrorKind::NotRun.key()).or_default() += requests - accounted;
    }
    let (latency_ms, latency_histogram) = match (line.latencies_ms, line.latency_ms) {
        (Some(all), _) => Latency::of_millis(&all),
        (None, Some(percentiles)) => (percentiles, None),
        (None, None) => (Latency::default(), None),
    };
    Ok(WorkerReport {
        tally: TallySummary {
            ok: line.ok,
            dropped: 0,
            errors,
            setup_errors: BTreeMap::new(),
            latency_ms,
            latency_histogram,
            // A peer does not say when its timeouts came back.
            timed_out_after_ms: Latency::default(),
            intervals: Vec::new(),
            // A peer hedges and retries nothing (fanout asks none to).
            hedges: Default::default(),
            retries: Default::default(),
        },
        wall_s: line.wall_s,
        rss_before_bytes: line.rss_before_bytes.unwrap_or(0),
        timed_cpu_user_s: line.timed_cpu_user_s,
        timed_cpu_sys_s: line.timed_cpu_sys_s,
        strategy_error: line.strategy_error,
        peer: Some(PeerConfig {
            models: peer.models.to_owned(),
            versions: line.versions,
        }),
        ..WorkerReport::default()
    })
}

//! The line a worker prints about itself — fanout's own worker or a peer program: its
//! requests' outcomes, its timed region and what it measured inside. What the harness
//! measures of the process from outside sits beside it in a point's report, not in it.

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use super::client_config::ClientConfig;
use super::leftovers::Leftovers;
use super::memory::InFlightSample;
use super::tally::TallySummary;

/// What a worker measured about itself: its one JSON line.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkerReport {
    /// Outcomes of the requests.
    #[serde(flatten)]
    pub tally: TallySummary,
    /// Wall time of the timed region: runtime/pool/client built, every request, teardown.
    pub wall_s: f64,
    /// Resident memory just before the timed region.
    pub rss_before_bytes: u64,
    /// Peak resident memory as the worker saw it itself (fanout's worker: `VmHWM`; a peer
    /// does not say): what a point reports where the OS tells nothing from outside.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub own_peak_rss_bytes: Option<u64>,
    /// Heap bytes live just before the timed region (`None`: heap not counted).
    pub heap_before_bytes: Option<u64>,
    /// Most heap bytes live at once in the timed region (sampled every 20 ms).
    pub heap_peak_bytes: Option<u64>,
    /// Allocations in the timed region (reallocations included).
    pub allocations: Option<u64>,
    /// Most requests in flight at once by the client's own count (sampled every 20 ms).
    #[serde(default)]
    pub client_peak_in_flight: u64,
    /// Requests in flight over the timed region, by the worker's sampler (for the point's
    /// timeline, where the harness pairs them with resident memory; a point's JSON does not
    /// keep them).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub in_flight_samples: Vec<InFlightSample>,
    /// CPU seconds (user + system) of the worker's sampler thread: the meter's own cost inside
    /// the measured process (fanout's worker only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub meter_cpu_s: Option<f64>,
    /// Bytes allocated in the timed region.
    pub allocated_bytes: Option<u64>,
    /// User CPU seconds of the timed region as the worker measured it (fanout's worker: its
    /// sampler thread's share taken out), when it tells.
    #[serde(default)]
    pub timed_cpu_user_s: Option<f64>,
    /// System CPU seconds of the timed region as the worker measured it, when it tells.
    #[serde(default)]
    pub timed_cpu_sys_s: Option<f64>,
    /// Why the strategy stopped before running its requests, if it did.
    pub strategy_error: Option<String>,
    /// The settings the clients ran with.
    pub client_config: Option<ClientConfig>,
    /// The CPU work per ok response as calibrated in the worker, µs (`None` without
    /// `--cpu-us`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_work_us: Option<f64>,
    /// What the strategy left behind once it had returned — open files, threads, resident
    /// memory, live heap against just before the timed region (`None`: a peer, or a run
    /// before 2026-12-03).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub leftovers: Option<Leftovers>,
    /// A peer's model and versions (fanout's own workers: `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<PeerConfig>,
}

/// The line a worker prints while the client holds its designed in-flight count: the
/// harness splits the worker's memory from outside when it reads one. In JSON,
/// `{"holding": {…}}`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Holding {
    /// The monotonic clock then, ns.
    pub t_ns: u64,
    /// Requests in flight then, by the client's count.
    pub in_flight: u64,
    /// Heap bytes live then (`None` without the counting allocator).
    pub heap_bytes: Option<u64>,
}

/// A [`Holding`] as its line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct HoldingLine {
    /// What the worker held.
    pub holding: Holding,
}

/// Why a worker's stdout holds no report.
#[derive(Debug, thiserror::Error)]
pub enum ReportLineError {
    /// Its last line that looked like one (a JSON object) does not read as a report.
    #[error("worker's report line does not read: {stdout:?}")]
    Unreadable {
        /// Everything it printed.
        stdout: String,
        /// The parser's words.
        #[source]
        source: serde_json::Error,
    },
    /// It printed nothing that looks like one.
    #[error("worker printed no report: {stdout:?}")]
    Missing {
        /// Everything it printed.
        stdout: String,
    },
}

impl WorkerReport {
    /// The report line in fanout's worker's `stdout`: the last line that parses as one; if
    /// none does, why the last line that looked like one (a JSON object) did not.
    pub fn from_stdout(stdout: &str) -> Result<Self, ReportLineError> {
        let mut first_error = None;
        for line in stdout.lines().rev() {
            match serde_json::from_str(line) {
                Ok(report) => return Ok(report),
                Err(e) if first_error.is_none() && line.trim_start().starts_with('{') => {
                    first_error = Some(e);
                }
                Err(_) => {}
            }
        }
        let stdout = stdout.to_owned();
        Err(match first_error {
            Some(source) => ReportLineError::Unreadable { stdout, source },
            None => ReportLineError::Missing { stdout },
        })
    }
}

/// What a peer ran with, recorded beside (or instead of) `client_config`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PeerConfig {
    /// What it models.
    pub models: String,
    /// Versions it reported (language, libraries).
    pub versions: BTreeMap<String, String>,
}

//! oha's JSON, read as a protocol line: `peers/oha.json` gives oha its own arguments and says
//! it prints `oha_json`. oha names hyper's body error by its message alone, "error reading a
//! body from connection", for a reset and a short body alike, so its file says
//! `reset_reads_as_truncated`.

use std::collections::BTreeMap;

use serde::Deserialize;

use super::error::PeerError;
use super::protocol::PeerLine;
use crate::model::error_kind::ErrorKind;
use crate::model::tally::Latency;

/// oha's `--output-format json` summary, the parts read here (times in seconds).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OhaOutput {
    summary: OhaSummary,
    latency_percentiles: BTreeMap<String, Option<f64>>,
    #[serde(default)]
    status_code_distribution: BTreeMap<String, u64>,
    #[serde(default)]
    error_distribution: BTreeMap<String, u64>,
}

#[derive(Debug, Deserialize)]
struct OhaSummary {
    total: f64,
    slowest: Option<f64>,
}

/// oha's JSON as a protocol line: 200s are ok, other statuses `http_CODE`, its error messages
/// classified by what they say.
pub fn line(output: &str) -> Result<PeerLine, PeerError> {
    let oha: OhaOutput = serde_json::from_str(output).map_err(PeerError::OhaJson)?;
    let mut errors = BTreeMap::new();
    let mut ok = 0;
    for (code, n) in oha.status_code_distribution {
        if code == "200" {
            ok += n;
        } else {
            *errors.entry(format!("http_{code}")).or_default() += n;
        }
    }
    for (message, n) in oha.error_distribution {
        *errors.entry(classify_message(&message)).or_default() += n;
    }
    let ms = |key: &str| {
        oha.latency_percentiles
            .get(key)
            .copied()
            .flatten()
            .unwrap_or(0.0)
            * 1000.0
    };
    Ok(PeerLine {
        ok,
        errors,
        wall_s: oha.summary.total,
        latencies_ms: None,
        latency_ms: Some(Latency {
            p50: ms("p50"),
            p90: ms("p90"),
            p99: ms("p99"),
            p999: ms("p99.9"),
            max: oha.summary.slowest.unwrap_or(0.0) * 1000.0,
        }),
        rss_before_bytes: None,
        timed_cpu_user_s: None,
        timed_cpu_sys_s: None,
        versions: BTreeMap::new(),
        strategy_error: None,
    })
}

/// fanout's error kind for an error message (oha reports messages, not kinds).
fn classify_message(message: &str) -> String {
    let m = message.to_ascii_lowercase();
    let kind = if m.contains("timeout") || m.contains("timed out") {
        ErrorKind::Timeout
    } else if m.contains("connection refused") {
        ErrorKind::ConnectionRefused
    } else if m.contains("before message length")
        || m.contains("incomplete")
        || m.contains("error reading a body")
    {
        // hyper's "end of file before message length reached", or its body error by its
        // message alone ("error reading a body from connection", what oha prints for a body
        // cut short by a close or a reset): a body cut short.
        ErrorKind::Truncated
    } else if m.contains("reset") || m.contains("broken pipe") || m.contains("closed") {
        ErrorKind::ConnectionReset
    } else if m.contains("too many open files") {
        ErrorKind::TooManyOpenFiles
    } else if m.contains("address not available") {
        ErrorKind::AddrNotAvailable
    } else {
        ErrorKind::Other
    };
    kind.key()
}

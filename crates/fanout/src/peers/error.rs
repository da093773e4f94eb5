//! Why a peer could not be run or read: each reason in its own words, the parser's error kept
//! as the source.

/// Why a peer's program cannot be started, or its output is no report.
#[derive(Debug, thiserror::Error)]
pub enum PeerError {
    /// Its program is not installed.
    #[error("{0}")]
    NotInstalled(String),
    /// It printed no line that looks like a report.
    #[error("the peer printed no report line: {stdout:?}")]
    NoLine {
        /// Everything it printed.
        stdout: String,
    },
    /// Its last report-like line does not follow the protocol.
    #[error("the peer's report line does not follow the protocol")]
    BadLine(#[source] serde_json::Error),
    /// oha's JSON does not read as its summary.
    #[error("oha's JSON output")]
    OhaJson(#[source] serde_json::Error),
    /// Its timed region is no time.
    #[error("the peer reported wall_s = {0}")]
    BadWall(f64),
    /// It accounted for more requests than it was given.
    #[error("the peer reported {accounted} outcomes for {requests} requests")]
    TooManyOutcomes {
        /// Outcomes reported.
        accounted: u64,
        /// Requests in the job.
        requests: u64,
    },
}

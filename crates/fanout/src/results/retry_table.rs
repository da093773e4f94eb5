//! The retry table of a run with `--retries`: per strategy and fault a retry may mend (a
//! reset, a stream reset, a 5xx), the faults injected, the attempts sent again and the
//! requests they mended, and what the retries cost in tail and wall time — medians of the
//! repeats (`render::retry_table` lays it out like the summary table).

use mock_server::FaultKind;

use crate::analysis::figures::{
    FAULTS_INJECTED, Figure, P99, RETRIES_RECOVERED, RETRY_EXTRA, WALL,
};
use crate::record::report::PointReport;

/// The columns.
pub const COLUMNS: &[&Figure] = &[
    &FAULTS_INJECTED,
    &RETRY_EXTRA,
    &RETRIES_RECOVERED,
    &P99,
    &WALL,
];

/// The faults a retry may mend: those that fail an attempt with a reset or a 5xx.
const MENDABLE: [FaultKind; 3] = [FaultKind::Reset, FaultKind::RstStream, FaultKind::Status];

/// The points the table shows: those that retried and asked for a mendable fault (or none).
pub fn rows(points: &[PointReport]) -> Vec<PointReport> {
    points
        .iter()
        .filter(|r| r.point.settings.max_retries > 0)
        .filter(|r| {
            r.point
                .settings
                .fault
                .fault
                .is_none_or(|kind| MENDABLE.contains(&kind))
        })
        .cloned()
        .collect()
}

/// What the table shows, in words.
pub const ABOUT: &str = "An attempt that failed with a reset or a 5xx goes again (`--retries`), \
     after a random wait of up to `retry_backoff_ms` × 2^k, within the request's deadline. \
     Injected: the faults the server injected, the retries' attempts included (each meets the \
     fault's share again). Retried: attempts sent again, in percent of N — the retry \
     amplification less one; over HTTP/1.1 a fault fails one attempt, over HTTP/2 a reset \
     fails every stream of its connection. Recovered: requests that ended ok after a retry. \
     Errors: the requests that failed all the same. Medians of the repeats, their range in \
     brackets.";

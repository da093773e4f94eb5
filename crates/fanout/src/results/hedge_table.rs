//! The hedging table of a run that hedges (`--hedge-after-ms`, `--hedge-after pNN`): per
//! strategy and hedge delay, the tail it cut (p99, p99.9), the load it cost (hedges in percent
//! of N), the hedges that won, the losers the server saw cancelled and those still running, what
//! the process held at peak, and the wall time — medians of the repeats (`render::hedge_table`
//! lays it out like the summary table).

use crate::analysis::figures::{
    Figure, HEDGE_EXTRA, HEDGES_RUNNING, HEDGES_WON, P99, P999, PEAK_OPEN_FDS, PEAK_RSS,
    PEAK_THREADS, SERVER_CALM_GOAWAYS, SERVER_CANCELLED, WALL,
};
use crate::record::report::PointReport;

/// The columns.
pub const COLUMNS: &[&Figure] = &[
    &P99,
    &P999,
    &HEDGE_EXTRA,
    &HEDGES_WON,
    &SERVER_CANCELLED,
    &SERVER_CALM_GOAWAYS,
    &HEDGES_RUNNING,
    &PEAK_THREADS,
    &PEAK_OPEN_FDS,
    &PEAK_RSS,
    &WALL,
];

/// What the table shows, in words; `None` when no point hedged (no table).
pub fn about(points: &[PointReport]) -> Option<&'static str> {
    points.iter().any(|r| r.point.settings.hedging()).then_some(
        "A request not answered within `hedge_after` of its send (a fixed delay, or the \
             point's latency percentile so far) goes again on a connection of its own (a \
             stream of its own over HTTP/2; from a thread of its own for threads); the first \
             answer wins and the other copy is cancelled. Extra load: \
             hedges sent, in percent of N. Hedges won: those that answered before their \
             original. Server: cancelled: the copies the server saw abandoned by their client \
             (at most one per hedge; fewer where the loser was dropped before it reached the \
             server). Server: calm GOAWAYs: HTTP/2 connections the server ended for more \
             client-reset streams than it had accepted. Losers running: hedge threads not yet \
             stopped when the strategy ended. Threads, open files and RSS: the process's peak, the \
             hedges' included. Medians of the repeats, their range in \
             brackets.",
    )
}

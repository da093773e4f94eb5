//! The hedging table of a run that varies or sets `--hedge-after-ms`: per strategy and hedge
//! delay, the tail it cut (p99, p99.9), the load it cost (hedges in percent of N), the hedges
//! that won, the losers the server saw cancelled, and the wall time — medians of the repeats
//! (`render::hedge_table` lays it out like the summary table).

use super::figures::{
    Figure, HEDGE_EXTRA, HEDGES_WON, P99, P999, SERVER_CALM_GOAWAYS, SERVER_CANCELLED, WALL,
};
use super::report::PointReport;

/// The columns.
pub const COLUMNS: &[&Figure] = &[
    &P99,
    &P999,
    &HEDGE_EXTRA,
    &HEDGES_WON,
    &SERVER_CANCELLED,
    &SERVER_CALM_GOAWAYS,
    &WALL,
];

/// What the table shows, in words; `None` when no point hedged (no table).
pub fn about(points: &[PointReport]) -> Option<&'static str> {
    points
        .iter()
        .any(|r| r.point.settings.hedge_after_ms.is_some())
        .then_some(
            "A request not answered `hedge_after_ms` after its send goes again on a connection \
             of its own; the first answer wins and the other copy is cancelled. Extra load: \
             hedges sent, in percent of N. Hedges won: those that answered before their \
             original. Server: cancelled: the copies the server saw abandoned by their client \
             (at most one per hedge; fewer where the loser was dropped before it reached the \
             server). Server: calm GOAWAYs: HTTP/2 connections the server ended for more \
             client-reset streams than it had accepted. Medians of the repeats, their range in \
             brackets.",
        )
}

//! The outcome table of a run with injected faults: per strategy and fault, what the server
//! injected against what the client recorded (`findings::faults`), the blast radius, the
//! deadline's overshoot, connections opened per request, and what the server held for the
//! stalls its clients abandoned.

use super::markdown::{Align, Table};

use crate::analysis::figures::{
    CONNECTIONS_PER_REQUEST, DEADLINE_OVERSHOOT_P99, Figure, LEFT_FDS, LEFT_HEAP, LEFT_THREADS,
    PEAK_CLIENT_KERNEL, PEAK_OPEN_FDS, PEAK_RSS, PEAK_THREADS, TIME_WAIT_BEFORE, median_and_range,
};
use crate::analysis::findings::faults::{FaultOutcome, of};
use crate::analysis::statistics::{Cell, Spread, cells, ranged};
use crate::record::report::PointReport;

/// The table, a row per strategy and fault over its measured repeats; `None` when no point
/// asked for a fault.
pub fn table(points: &[PointReport]) -> Option<String> {
    let faulted: Vec<(Cell<'_>, Vec<FaultOutcome>)> = cells(points)
        .into_iter()
        .map(|cell| {
            let outcomes: Vec<FaultOutcome> =
                cell.measured.iter().copied().filter_map(of).collect();
            (cell, outcomes)
        })
        .filter(|(_, outcomes)| !outcomes.is_empty())
        .collect();
    let first = faulted.first()?.0.measured[0];
    let repeats = faulted.iter().map(|(c, _)| c.measured.len()).max()?;
    let mut table = header();
    for (cell, outcomes) in &faulted {
        table.row(row(cell, outcomes, points));
    }
    Some(format!("{}{table}", about(first, repeats)))
}

/// What the table's columns mean, for a run of `first`'s workload over `repeats` repeats.
fn about(first: &PointReport, repeats: usize) -> String {
    let over = if repeats == 1 {
        "One run.".to_owned()
    } else {
        format!(
            "Over {repeats} repeats: the median, with the range where they differ (held at peak \
             and left after: medians; stalls held: the median p50 and the longest)."
        )
    };
    format!(
        "C = {}, D = {} ms, a {} ms deadline (`--timeout-ms`). Injected: the server's count; \
         seen: the requests the client recorded in the class that fault causes (a stall: \
         timeout; a reset: connection_reset; a truncation: truncated; a status: http_CODE; a \
         trickle or an accept stall: timeout, where the deadline met it); ✓ where the counts \
         agree — one failure per fault, at least one over HTTP/2 for a reset, none for a close \
         or a GOAWAY, nothing failed in another class; with `--retries`, an attempt sent again \
         counts as a fault seen — ✗ where they do not (in how many repeats). Failed per fault: \
         every failure over the faults injected \
         (1 when one fault fails one request). Overshoot: how long after the deadline a \
         timed-out request came back. Held: how long the server held a stalled request before \
         its client went. Held at peak: the client's most threads, open files, resident memory \
         and own kernel memory at once. Left after: the open files, threads and live heap \
         (KiB) still there once the strategy had returned, above just before it ran. TIME_WAIT: \
         the machine's sockets in TIME_WAIT as the point started, each a local port an \
         earlier point's closed connection still held. {over}\n\n",
        first.point.concurrency, first.point.delay_ms, first.point.settings.timeout_ms,
    )
}

/// The table's heading: text columns left, counts and figures right.
fn header() -> Table {
    Table::new(
        [
            ("strategy", Align::Left),
            ("fault", Align::Left),
            ("injected", Align::Right),
            ("seen", Align::Right),
            ("agree", Align::Left),
        ]
        .into_iter()
        .chain(
            [
                "failed",
                "failed per fault",
                "ok",
                "overshoot p99, ms",
                "connections / request",
                "stalls held p50 / max, ms",
                "held at peak: threads / files / RSS MiB / kernel MiB",
                "left after: files / threads / heap KiB",
                "TIME_WAIT",
            ]
            .map(|h| (h, Align::Right)),
        ),
    )
}

/// A cell's row over its measured repeats' `outcomes`.
fn row(cell: &Cell<'_>, outcomes: &[FaultOutcome], points: &[PointReport]) -> Vec<String> {
    let o = &outcomes[0];
    let count = |read: fn(&FaultOutcome) -> f64, digits: usize| {
        ranged(Spread::of(outcomes.iter().map(read)), |v| {
            format!("{v:.digits$}")
        })
    };
    let figure = |f: &Figure| median_and_range(cell, points, f);
    let median = |f: &Figure| {
        f.spread(cell, points)
            .map_or("–".to_owned(), |s| f.format(s.median))
    };
    let stalls: Vec<_> = cell
        .measured
        .iter()
        .filter_map(|r| r.server.as_ref().map(|s| s.stall_held_us))
        .filter(|h| h.count > 0)
        .collect();
    let held = Spread::of(stalls.iter().map(|h| h.p50 as f64 / 1e3))
        .zip(stalls.iter().map(|h| h.max).max())
        .map_or("–".to_owned(), |(p50, max)| {
            format!("{:.0} / {:.0}", p50.median, max as f64 / 1e3)
        });
    let disagreeing = outcomes.iter().filter(|o| !o.agrees).count();
    let agree = match disagreeing {
        0 => "✓".to_owned(),
        _ if outcomes.len() == 1 => "✗".to_owned(),
        n => format!("✗ in {n} of {}", outcomes.len()),
    };
    let retried = outcomes.iter().any(|o| o.retried > 0);
    let ok = ranged(cell.spread(|r| r.worker.tally.ok as f64), |v| {
        format!("{v:.0}")
    });
    vec![
        cell.key.strategy.to_owned(),
        format!("{} {}%", o.kind.name(), o.p * 100.0),
        count(|o| o.injected as f64, 0),
        match (o.expect.class(), retried) {
            (None, _) => "–".to_owned(),
            (Some(_), false) => count(|o| o.seen as f64, 0),
            (Some(_), true) => format!(
                "{} + {} retried",
                count(|o| o.seen as f64, 0),
                count(|o| o.retried as f64, 0)
            ),
        },
        agree,
        count(|o| o.failed as f64, 0),
        ranged(
            Spread::of(outcomes.iter().filter_map(|o| o.blast_radius)),
            |v| format!("{v:.2}"),
        ),
        ok,
        figure(&DEADLINE_OVERSHOOT_P99),
        figure(&CONNECTIONS_PER_REQUEST),
        held,
        [
            &PEAK_THREADS,
            &PEAK_OPEN_FDS,
            &PEAK_RSS,
            &PEAK_CLIENT_KERNEL,
        ]
        .map(median)
        .join(" / "),
        [&LEFT_FDS, &LEFT_THREADS, &LEFT_HEAP]
            .map(median)
            .join(" / "),
        figure(&TIME_WAIT_BEFORE),
    ]
}

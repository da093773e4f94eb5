//! The outcome table of a run with injected faults: per strategy and fault, what the server
//! injected against what the client recorded (`findings::faults`), the blast radius, the
//! deadline's overshoot, connections opened per request, and what the server held for the
//! stalls its clients abandoned.

use std::fmt::Write as _;

use super::figures::{
    CONNECTIONS_PER_REQUEST, DEADLINE_OVERSHOOT_P99, Figure, LEFT_FDS, LEFT_HEAP, LEFT_THREADS,
    PEAK_CLIENT_KERNEL, PEAK_OPEN_FDS, PEAK_RSS, PEAK_THREADS, TIME_WAIT_BEFORE,
};
use super::findings::faults::of;
use super::report::{Outcome, PointReport};
use crate::planning::catalog;

/// The table (each point's first measured repeat); `None` when no point asked for a fault.
pub fn table(points: &[PointReport]) -> Option<String> {
    let faulted: Vec<&PointReport> = points
        .iter()
        .filter(|r| r.outcome == Outcome::Measured && r.repeat == 1 && of(r).is_some())
        .collect();
    let first = faulted.first()?;
    let mut s = format!(
        "C = {}, D = {} ms, a {} ms deadline (`--timeout-ms`). Injected: the server's count; \
         seen: the requests the client recorded in the class that fault causes (a stall: \
         timeout; a reset: connection_reset; a truncation: truncated; a status: http_CODE; a \
         trickle or an accept stall: timeout, where the deadline met it); ✓ where the counts \
         agree — one failure per fault, at least one over HTTP/2 for a reset, none for a close \
         or a GOAWAY, nothing failed in another class; with `--retries`, an attempt sent again \
         counts as a fault seen — ✗ where they do not. Failed per fault: every failure over the faults injected \
         (1 when one fault fails one request). Overshoot: how long after the deadline a \
         timed-out request came back. Held: how long the server held a stalled request before \
         its client went. Held at peak: the client's most threads, open files, resident memory \
         and own kernel memory at once. Left after: the open files, threads and live heap \
         (KiB) still there once the strategy had returned, above just before it ran. TIME_WAIT: \
         the machine's sockets in TIME_WAIT as the point started, each a local port an \
         earlier point's closed connection still held. Each point's first repeat.\n\n",
        first.point.concurrency, first.point.delay_ms, first.point.settings.timeout_ms,
    );
    s.push_str(
        "| strategy | fault | injected | seen | agree | failed | failed per fault | ok | overshoot p99, ms | connections / request | stalls held p50 / max, ms | held at peak: threads / files / RSS MiB / kernel MiB | left after: files / threads / heap KiB | TIME_WAIT |\n\
         |---|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for strategy in catalog::present(faulted.iter().map(|r| &r.point)) {
        for r in faulted.iter().filter(|r| r.point.strategy == strategy) {
            let Some(o) = of(r) else { continue };
            let figure = |f: &Figure| {
                f.of(r)
                    .filter(|v| v.is_finite())
                    .map_or("–".to_owned(), |v| f.format(v))
            };
            let held = r
                .server
                .as_ref()
                .map(|s| s.stall_held_us)
                .filter(|h| h.count > 0)
                .map_or("–".to_owned(), |h| {
                    format!("{:.0} / {:.0}", h.p50 as f64 / 1e3, h.max as f64 / 1e3)
                });
            let _ = writeln!(
                s,
                "| {} | {} {}% | {} | {} | {} | {} | {} | {} | {} | {} | {held} | {} | {} | {} |",
                strategy.name,
                o.kind.name(),
                o.p * 100.0,
                o.injected,
                match (o.expect.class(), o.retried) {
                    (None, _) => "–".to_owned(),
                    (Some(_), 0) => o.seen.to_string(),
                    (Some(_), retried) => format!("{} + {retried} retried", o.seen),
                },
                if o.agrees { "✓" } else { "✗" },
                o.failed,
                o.blast_radius.map_or("–".to_owned(), |b| format!("{b:.2}")),
                r.worker.tally.ok,
                figure(&DEADLINE_OVERSHOOT_P99),
                figure(&CONNECTIONS_PER_REQUEST),
                [
                    &PEAK_THREADS,
                    &PEAK_OPEN_FDS,
                    &PEAK_RSS,
                    &PEAK_CLIENT_KERNEL
                ]
                .map(figure)
                .join(" / "),
                [&LEFT_FDS, &LEFT_THREADS, &LEFT_HEAP]
                    .map(figure)
                    .join(" / "),
                figure(&TIME_WAIT_BEFORE),
            );
        }
    }
    Some(s)
}

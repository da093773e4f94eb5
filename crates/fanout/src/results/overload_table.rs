//! The overload table of a ramp run: per strategy, what it held at its worst — requests in
//! flight, threads, resident memory, the server's open connections — what it dropped, and
//! how it took the overload (`findings::overload`).

use std::fmt::Write as _;

use super::findings::overload::of;
use super::report::{Outcome, PointReport};
use crate::planning::catalog;

/// The overload table of a ramp run (each strategy's first measured repeat); `None` when no
/// point ramps.
pub fn table(points: &[PointReport]) -> Option<String> {
    let ramps: Vec<&PointReport> = points
        .iter()
        .filter(|r| r.outcome == Outcome::Measured && of(r).is_some())
        .collect();
    let first = ramps.first()?;
    let rate = first.point.settings.rate.as_ref()?;
    let mut s = format!(
        "Offered {rate} requests/s (evenly spaced in time, linear between), C = {}, D = {} ms, \
         a request not started within {} ms of its due time dropped. Each strategy's first repeat.\n\n",
        first.point.concurrency,
        first.point.delay_ms,
        first
            .point
            .settings
            .drop_after_ms
            .unwrap_or(first.point.settings.timeout_ms),
    );
    s.push_str(
        "| strategy | capacity T / W, /s | ok | dropped | failed | seconds over 2·D | recovery after the rate fell below capacity, s | peak in flight (server) | peak threads | peak RSS, MiB | peak connections open (server) |\n\
         |---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n",
    );
    for strategy in catalog::present(ramps.iter().map(|r| &r.point)) {
        let Some(r) = ramps.iter().find(|r| r.point.strategy == strategy) else {
            continue;
        };
        let Some(o) = of(r) else { continue };
        let t = &r.worker.tally;
        let failed: u64 = t.errors.values().sum();
        let server = r.server.as_ref();
        let or_dash = |v: Option<String>| v.unwrap_or_else(|| "–".into());
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {failed} | {} | {} | {} | {} | {} | {} |",
            strategy.name,
            super::findings::capacity_cell(o.capacity),
            t.ok,
            t.dropped,
            o.seconds_over,
            o.recovery_s
                .map_or("not within the run".into(), |v| format!("{v:.1}")),
            or_dash(server.map(|s| s.peak_in_flight.to_string())),
            or_dash(r.metered.peak_threads.map(|v| v.to_string())),
            or_dash(
                r.metered
                    .peak_rss_bytes
                    .map(|b| format!("{:.1}", b as f64 / 1048576.0))
            ),
            or_dash(server.map(|s| s.peak_connections_open.to_string())),
        );
    }
    Some(s)
}

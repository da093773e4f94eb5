//! Overload and recovery, from a ramp run (`--rate A..B..A`, the `overload` preset): per
//! strategy, what it held at its worst — requests in flight, threads, resident memory, the
//! server's open connections — what it dropped, the seconds its p99 spent above twice the
//! delay, and how long after the offered rate fell back below its capacity (Little's T / W)
//! its p99 came back under that and stayed.

use std::fmt::Write as _;

use super::report::{Outcome, PointReport};
use crate::model::intervals::Interval;
use crate::model::rate::RateProfile;
use crate::planning::catalog;

/// How one ramp point took its overload.
#[derive(Debug, Clone, PartialEq)]
pub struct Overload {
    /// Little's capacity, requests per second: what it holds in flight by design over the
    /// mean delay.
    pub capacity: f64,
    /// Seconds whose p99 (from the due time) was above twice the mean delay, or that dropped.
    pub seconds_over: usize,
    /// From the offered rate's falling back below capacity to the first second from which
    /// p99 stayed under twice the delay with nothing dropped, s; `None` if not within the run
    /// (or the rate never fell back).
    pub recovery_s: Option<f64>,
}

/// The overload of `r`, a point of a ramp (`None` for any other point).
pub fn of(r: &PointReport) -> Option<Overload> {
    let rate @ RateProfile::Ramp(_) = r.point.settings.rate.as_ref()? else {
        return None;
    };
    let intervals = &r.worker.tally.intervals;
    let delay_ms = r.point.delay().mean_ms();
    let capacity = r.point.in_flight() as f64 / (delay_ms / 1000.0);
    let over = |i: &Interval| i.p99_ms > 2.0 * delay_ms || i.dropped > 0;
    let seconds_over = intervals.iter().filter(|i| over(i)).count();
    // When the rate, past its peak, falls below capacity for good.
    let requests = r.point.requests;
    let span = rate.span_s(requests);
    let steps = (span * 100.0).ceil() as usize;
    let peak_at = (0..=steps)
        .map(|k| k as f64 / 100.0)
        .fold((0.0, 0.0), |best, t| {
            let v = rate.at(t, requests);
            if v > best.1 { (t, v) } else { best }
        })
        .0;
    let back_at = (0..=steps)
        .map(|k| k as f64 / 100.0)
        .filter(|&t| t >= peak_at)
        .find(|&t| rate.at(t, requests) < capacity);
    let recovery_s = back_at.and_then(|back| {
        // The first second at or after `back` from which no later second is over.
        let last_over = intervals.iter().rposition(over);
        let from = match last_over {
            None => return Some(0.0),
            Some(k) => intervals.get(k + 1)?.t_s as f64,
        };
        Some((from - back).max(0.0))
    });
    Some(Overload {
        capacity,
        seconds_over,
        recovery_s,
    })
}

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
            "| {} | {:.0} | {} | {} | {failed} | {} | {} | {} | {} | {} | {} |",
            strategy.name,
            o.capacity,
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

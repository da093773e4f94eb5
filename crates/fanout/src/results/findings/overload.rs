//! How each strategy took an overload, from a ramp run (`--rate A..B..A`, the `overload`
//! preset): the seconds its p99 spent above twice the delay, and how long after the offered
//! rate fell back below its capacity (Little's T / W) its p99 came back under that and stayed.

use super::{capacity, over_the_delay};
use crate::model::intervals::Interval;
use crate::model::rate::RateProfile;
use crate::results::report::PointReport;

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
    let capacity = capacity(r);
    let over = |i: &Interval| over_the_delay(i.p99_ms, i.dropped, delay_ms);
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

//! How each strategy took an overload, from a ramp run (`--rate A..B..A`, the `overload`
//! preset): the seconds its p99 spent above twice the delay, and how long after the offered
//! rate fell back below its capacity (Little's T / W) its p99 came back under that and stayed.

use serde::{Deserialize, Serialize};

use super::{capacity, over_the_delay};
use crate::analysis::statistics::cells;
use crate::model::intervals::Interval;
use crate::model::rate::RateProfile;
use crate::model::subject::Subject;
use crate::record::report::{Outcome, PointReport};

/// How one ramp point took its overload.
#[derive(Debug, Clone, PartialEq)]
pub struct Overload {
    /// Little's capacity, requests per second: what it holds in flight by design over the
    /// mean delay (`None`: no bound by design).
    pub capacity: Option<f64>,
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
        .find(|&t| capacity.is_none_or(|c| rate.at(t, requests) < c));
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

/// The most requests due within any one mean delay of a ramp point: what a client holding
/// every request that arrives would hold at once (Little's λ·W, over the ramp's own shape).
pub fn most_due_within_the_delay(r: &PointReport) -> Option<f64> {
    let rate = r.point.settings.rate.as_ref()?;
    let requests = r.point.requests;
    let w = r.point.delay().mean_ms() / 1000.0;
    let step = 0.01;
    let steps = (rate.span_s(requests) / step).ceil() as usize;
    let due: Vec<f64> = (0..=steps)
        .map(|k| rate.at(k as f64 * step, requests) * step)
        .collect();
    let window = (w / step).round().max(1.0) as usize;
    let mut most: f64 = 0.0;
    let mut held = 0.0;
    for (k, d) in due.iter().enumerate() {
        held += d;
        if k >= window {
            held -= due[k - window];
        }
        most = most.max(held);
    }
    Some(most.min(requests as f64))
}

/// How one strategy took an overload past the walls in one repeat.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum Taken {
    /// It ran to the end.
    Measured {
        /// Requests served.
        ok: u64,
        /// Requests dropped unstarted at the drop deadline.
        dropped: u64,
        /// Requests failed, and the class most of them failed with.
        failed: (u64, Option<String>),
        /// The most in flight the server saw at once.
        server_peak: Option<u64>,
        /// Its whole process's peak resident memory, bytes.
        peak_rss: Option<u64>,
    },
    /// It did not finish: why.
    Unmeasured(String),
}

/// An overload run past the walls: what was due at once at most, and how each strategy took
/// it, in the strategies' order; `None` when no point ramps.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PastWalls {
    /// The most requests due within one delay (what an unbounded client would hold).
    pub most_due: f64,
    /// Requests offered per point.
    pub requests: usize,
    /// Each strategy, its capacity (`None`: unbounded) and how it took the ramp in each of its
    /// repeats.
    pub taken: Vec<(&'static Subject, Option<f64>, Vec<Taken>)>,
}

/// The finding of a ramp run read as an overload past the walls.
pub fn past_walls(points: &[PointReport]) -> Option<PastWalls> {
    fn ramps(r: &PointReport) -> bool {
        matches!(r.point.settings.rate, Some(RateProfile::Ramp(_)))
    }
    let first = points.iter().find(|r| ramps(r))?;
    let taken = cells(points)
        .into_iter()
        .filter_map(|cell| {
            let repeats: Vec<&PointReport> = cell
                .measured
                .iter()
                .chain(&cell.unmeasured)
                .copied()
                .filter(|r| ramps(r))
                .collect();
            let capacity = capacity(repeats.first()?);
            Some((
                cell.subject(),
                capacity,
                repeats.into_iter().map(taken).collect(),
            ))
        })
        .collect();
    Some(PastWalls {
        most_due: most_due_within_the_delay(first)?,
        requests: first.point.requests,
        taken,
    })
}

/// How `r`, one repeat of a ramp, took it.
fn taken(r: &PointReport) -> Taken {
    match &r.outcome {
        Outcome::Measured => {
            let t = &r.worker.tally;
            let most = t
                .errors
                .iter()
                .max_by_key(|(_, n)| **n)
                .map(|(k, _)| k.clone());
            Taken::Measured {
                ok: t.ok,
                dropped: t.dropped,
                failed: (r.error_count(), most),
                server_peak: r.server.as_ref().map(|s| s.peak_in_flight),
                peak_rss: r.metered.peak_rss_bytes,
            }
        }
        Outcome::Failed(why) | Outcome::Skipped(why) => Taken::Unmeasured(why.clone()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::report::fixtures::measured;

    fn ramp(strategy: &str, knots: &[f64], requests: usize, delay_ms: u64) -> PointReport {
        let mut r = measured(strategy, 100, 1.0, 8 << 20);
        r.point.settings.rate = Some(RateProfile::Ramp(knots.to_vec()));
        r.point.requests = requests;
        r.point.delay_ms = delay_ms;
        r
    }

    #[test]
    fn the_most_due_within_a_delay_is_lambda_w_over_the_ramps_shape() {
        let flat = ramp("thread_pool", &[1_000.0, 1_000.0], 5_000, 1_000);
        let most = most_due_within_the_delay(&flat).expect("a ramp");
        assert!((most - 1_000.0).abs() < 15.0, "{most}");
        let peak = ramp(
            "thread_pool",
            &[500.0, 4_000.0, 500.0, 500.0],
            30_000,
            10_000,
        );
        let most = most_due_within_the_delay(&peak).expect("a ramp");
        assert!((20_000.0..30_000.0).contains(&most), "{most}");
        let short = ramp("thread_pool", &[1_000.0, 1_000.0], 500, 10_000);
        assert_eq!(
            most_due_within_the_delay(&short),
            Some(500.0),
            "never more than N"
        );
    }

    #[test]
    fn past_the_walls_each_strategy_is_told_by_what_it_served_dropped_and_failed() {
        let mut unbounded = ramp("pitfall_unbounded", &[500.0, 4_000.0], 3_000, 1_000);
        unbounded.worker.tally.ok = 2_000;
        unbounded
            .worker
            .tally
            .errors
            .insert("too_many_open_files".into(), 900);
        unbounded.worker.tally.errors.insert("timeout".into(), 100);
        let mut bounded = ramp("thread_pool", &[500.0, 4_000.0], 3_000, 1_000);
        bounded.worker.tally.ok = 1_000;
        bounded.worker.tally.dropped = 2_000;
        let mut killed = ramp("async_raw", &[500.0, 4_000.0], 3_000, 1_000);
        killed.outcome = Outcome::Failed("killed after the 150 s time limit".into());
        let mut again = bounded.clone();
        again.repeat = 2;
        again.worker.tally.ok = 1_100;
        let f = past_walls(&[unbounded, killed, bounded, again]).expect("ramps");
        assert_eq!(f.requests, 3_000);
        let names: Vec<&str> = f.taken.iter().map(|(n, _, _)| n.name).collect();
        assert_eq!(names, ["thread_pool", "async_raw", "pitfall_unbounded"]);
        let (_, capacity, how) = &f.taken[2];
        assert_eq!(*capacity, None, "no bound by design");
        let [Taken::Measured { failed, .. }] = how.as_slice() else {
            panic!("one measured repeat")
        };
        assert_eq!(*failed, (1_000, Some("too_many_open_files".to_owned())));
        assert!(
            matches!(&f.taken[1].2[..], [Taken::Unmeasured(why)] if why.contains("time limit"))
        );
        assert!(f.taken[0].1.is_some());
        assert_eq!(f.taken[0].2.len(), 2, "every repeat of a strategy is kept");
    }
}

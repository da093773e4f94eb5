//! Where each strategy's queue starts in a run that varies the offered rate: its knee, found
//! on the rate grid and narrowed by bisection, against the capacity Little's law predicts.

use serde::{Deserialize, Serialize};

use super::{capacity, over_the_delay};
use crate::analysis::statistics::Spread;
use crate::model::knob::Knob;
use crate::model::subject::Subject;
use crate::planning::catalog;
use crate::planning::point::Point;
use crate::record::report::{Outcome, PointReport};

/// The bisection stops once the knee's bracket is this narrow, as a share of its upper end.
pub const KNEE_TOLERANCE: f64 = 0.02;

/// One strategy's knee in a run that varies the offered rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Knee {
    /// The strategy.
    pub strategy: &'static Subject,
    /// Little's capacity, per second: what it holds in flight by design over the mean delay
    /// (`None`: no bound by design).
    pub capacity: Option<f64>,
    /// The lowest offered rate whose p99 was above twice the delay, or that dropped requests.
    pub at: Option<u64>,
    /// The highest rate below `at` that kept within the delay (with `at`, the knee's bracket;
    /// without it, the highest rate measured).
    pub below: Option<u64>,
}

impl Knee {
    /// The rate to measure next to narrow the bracket to [`KNEE_TOLERANCE`], if it is wider.
    pub fn next_probe(&self) -> Option<u64> {
        let (lo, hi) = (self.below?, self.at?);
        let mid = lo + (hi - lo) / 2;
        ((hi - lo) as f64 > KNEE_TOLERANCE * hi as f64 && mid > lo).then_some(mid)
    }

    /// The bracket as a table cell: "1000–1020", "none" (never left the delay), or
    /// "≤ 250" (left it at the lowest rate tried).
    pub fn cell(&self) -> String {
        match (self.below, self.at) {
            (_, None) => "none".to_owned(),
            (None, Some(hi)) => format!("≤ {hi}"),
            (Some(lo), Some(hi)) => format!("{lo}–{hi}"),
        }
    }
}

/// The rate offered to `point`, requests due per second (0: closed loop).
fn offered(point: &Point) -> u64 {
    Knob::Rate
        .value(&point.settings)
        .number()
        .unwrap_or_default()
}

/// The offered rates of `points`, each once, lowest first.
pub fn rates(points: &[PointReport]) -> Vec<u64> {
    let mut rates: Vec<u64> = points.iter().map(|r| offered(&r.point)).collect();
    rates.sort_unstable();
    rates.dedup();
    rates
}

/// The rate grid: the offered rates every strategy of `points` ran (the bisection's probes
/// are each one strategy's own).
pub fn grid(points: &[PointReport]) -> Vec<u64> {
    let strategies = catalog::present(points.iter().map(|r| &r.point));
    rates(points)
        .into_iter()
        .filter(|&rate| {
            strategies
                .iter()
                .all(|s| at_rate(points, s, rate).is_some())
        })
        .collect()
}

/// The measured points of `strategy` at offered `rate` (one per repeat).
fn all_at_rate<'a>(
    points: &'a [PointReport],
    strategy: &'a Subject,
    rate: u64,
) -> impl Iterator<Item = &'a PointReport> {
    points.iter().filter(move |r| {
        *r.point.strategy == *strategy
            && offered(&r.point) == rate
            && r.outcome == Outcome::Measured
    })
}

/// The first measured point of `strategy` at offered `rate`.
pub fn at_rate<'a>(
    points: &'a [PointReport],
    strategy: &'a Subject,
    rate: u64,
) -> Option<&'a PointReport> {
    all_at_rate(points, strategy, rate).next()
}

/// Whether `strategy`'s queue had started at `rate`: the median p99 over the repeats above
/// twice the delay, or a median of dropped requests above 0; `None` where it was not measured.
fn over_at(points: &[PointReport], strategy: &Subject, rate: u64) -> Option<bool> {
    let at: Vec<&PointReport> = all_at_rate(points, strategy, rate).collect();
    let first = at.first()?;
    let p99 = Spread::of(at.iter().map(|r| r.worker.tally.latency_ms.p99))?;
    let dropped = Spread::of(at.iter().map(|r| r.worker.tally.dropped as f64))?;
    Some(over_the_delay(
        p99.median,
        dropped.median.ceil() as u64,
        first.point.delay().mean_ms(),
    ))
}

/// `strategy`'s knee among `points`; `None` if it has no measured point.
pub fn of(points: &[PointReport], strategy: &'static Subject) -> Option<Knee> {
    let rates = rates(points);
    let any = rates.iter().find_map(|&r| at_rate(points, strategy, r))?;
    let measured: Vec<(u64, bool)> = rates
        .iter()
        .filter_map(|&rate| Some((rate, over_at(points, strategy, rate)?)))
        .collect();
    let at = measured.iter().find(|(_, over)| *over).map(|(r, _)| *r);
    let below = measured
        .iter()
        .filter(|(rate, over)| !over && at.is_none_or(|a| *rate < a))
        .map(|(r, _)| *r)
        .next_back();
    Some(Knee {
        strategy,
        capacity: capacity(any),
        at,
        below,
    })
}

/// Every strategy's knee in a run that varies the offered rate, in table order.
pub fn knees(points: &[PointReport]) -> Vec<Knee> {
    catalog::present(points.iter().map(|r| &r.point))
        .into_iter()
        .filter_map(|strategy| of(points, strategy))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::rate::RateProfile;
    use crate::record::report::fixtures::measured;

    fn at(rate: u64, p99_ms: f64, dropped: u64) -> PointReport {
        let mut r = measured("thread_pool", 100, 1.0, 8 << 20);
        r.point.settings.rate = Some(RateProfile::Constant(rate as f64));
        r.worker.tally.latency_ms.p99 = p99_ms;
        r.worker.tally.dropped = dropped;
        r
    }

    fn delay() -> f64 {
        measured("thread_pool", 100, 1.0, 8 << 20)
            .point
            .delay()
            .mean_ms()
    }

    #[test]
    fn the_knee_is_the_first_rate_past_twice_the_delay_or_dropping() {
        let d = delay();
        let points = [
            at(500, d * 1.1, 0),
            at(1_000, d * 1.9, 0),
            at(1_500, d, 3),
            at(2_000, d * 5.0, 0),
        ];
        let k = knees(&points);
        assert_eq!(k.len(), 1);
        assert_eq!((k[0].below, k[0].at), (Some(1_000), Some(1_500)));
        assert_eq!(k[0].cell(), "1000–1500");
        let capacity = k[0].capacity.expect("thread_pool is bounded");
        assert!((capacity - 100.0 / (d / 1000.0)).abs() < 1e-9);
        let never = knees(&points[..2])[0];
        assert_eq!((never.at, never.cell()), (None, "none".to_owned()));
        assert_eq!(never.next_probe(), None, "nothing to bisect");
    }

    #[test]
    fn bisection_halves_the_bracket_until_it_is_within_the_tolerance() {
        let d = delay();
        let mut points = vec![at(1_000, d, 0), at(1_250, d * 3.0, 0)];
        let mut probes = Vec::new();
        // A strategy whose true knee is 1,100/s.
        while let Some(rate) = knees(&points)[0].next_probe() {
            probes.push(rate);
            let p99 = if rate >= 1_100 { d * 3.0 } else { d };
            points.push(at(rate, p99, 0));
        }
        assert_eq!(probes, [1_125, 1_062, 1_093, 1_109]);
        let k = knees(&points)[0];
        assert_eq!((k.below, k.at), (Some(1_093), Some(1_109)));
        assert!((1_109 - 1_093) as f64 <= KNEE_TOLERANCE * 1_109.0);
        let mut other = at(1_000, d, 0);
        other.point.strategy = catalog::find("async_raw").expect("in the catalog");
        points.push(other);
        assert_eq!(grid(&points), [1_000], "the probes are one strategy's own");
    }

    #[test]
    fn a_rate_is_over_by_the_median_of_its_repeats_and_the_unbounded_has_no_capacity() {
        let d = delay();
        let points = [
            at(1_000, d * 3.0, 0),
            at(1_000, d, 0),
            at(1_000, d, 0),
            at(1_250, d * 3.0, 0),
        ];
        let k = knees(&points)[0];
        assert_eq!(
            (k.below, k.at),
            (Some(1_000), Some(1_250)),
            "one slow repeat of three"
        );
        let mut unbounded = at(1_000, d, 0);
        unbounded.point.strategy = catalog::find("pitfall_unbounded").expect("in the catalog");
        assert_eq!(knees(&[unbounded])[0].capacity, None);
    }
}

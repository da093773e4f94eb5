//! Where each strategy's queue starts in a run that varies the offered rate: its knee, against
//! the capacity Little's law predicts.

use super::{capacity, over_the_delay};
use crate::model::knob::Knob;
use crate::model::subject::Subject;
use crate::planning::catalog;
use crate::results::report::{Outcome, PointReport};

/// One strategy's knee in a run that varies the offered rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Knee {
    /// The strategy.
    pub strategy: &'static Subject,
    /// Little's capacity: what it holds in flight by design over the mean delay, per second.
    pub capacity: f64,
    /// The lowest offered rate whose p99 was above twice the delay, or that dropped requests.
    pub at: Option<u64>,
}

/// The offered rates of `points`, each once, lowest first.
pub fn rates(points: &[PointReport]) -> Vec<u64> {
    let mut rates: Vec<u64> = points
        .iter()
        .map(|r| Knob::Rate.value(&r.point.settings))
        .collect();
    rates.sort_unstable();
    rates.dedup();
    rates
}

/// The measured point of `strategy` at offered `rate`.
pub fn at_rate<'a>(
    points: &'a [PointReport],
    strategy: &Subject,
    rate: u64,
) -> Option<&'a PointReport> {
    points.iter().find(|r| {
        *r.point.strategy == *strategy
            && Knob::Rate.value(&r.point.settings) == rate
            && r.outcome == Outcome::Measured
    })
}

/// Every strategy's knee in a run that varies the offered rate, in table order.
pub fn knees(points: &[PointReport]) -> Vec<Knee> {
    let rates = rates(points);
    catalog::present(points.iter().map(|r| &r.point))
        .into_iter()
        .filter_map(|strategy| {
            let any = rates.iter().find_map(|&r| at_rate(points, strategy, r))?;
            let delay_ms = any.point.delay().mean_ms();
            let left = |r: &PointReport| {
                let t = &r.worker.tally;
                over_the_delay(t.latency_ms.p99, t.dropped, delay_ms)
            };
            let at = rates
                .iter()
                .copied()
                .find(|&rate| at_rate(points, strategy, rate).is_some_and(left));
            Some(Knee {
                strategy,
                capacity: capacity(any),
                at,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::rate::RateProfile;
    use crate::results::report::fixtures::measured;

    fn at(rate: u64, p99_ms: f64, dropped: u64) -> PointReport {
        let mut r = measured("thread_pool", 100, 1.0, 8 << 20);
        r.point.settings.rate = Some(RateProfile::Constant(rate as f64));
        r.worker.tally.latency_ms.p99 = p99_ms;
        r.worker.tally.dropped = dropped;
        r
    }

    #[test]
    fn the_knee_is_the_first_rate_past_twice_the_delay_or_dropping() {
        let delay = measured("thread_pool", 100, 1.0, 8 << 20)
            .point
            .delay()
            .mean_ms();
        let points = [
            at(500, delay * 1.1, 0),
            at(1_000, delay * 1.9, 0),
            at(1_500, delay, 3),
            at(2_000, delay * 5.0, 0),
        ];
        let k = knees(&points);
        assert_eq!(k.len(), 1);
        assert_eq!(k[0].at, Some(1_500));
        assert!((k[0].capacity - 100.0 / (delay / 1000.0)).abs() < 1e-9);
        assert_eq!(knees(&points[..2])[0].at, None, "never left the delay");
    }
}

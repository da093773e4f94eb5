//! How far each strategy carried in a run over C: the largest C at which it served every
//! request with all C in flight at once by the server's count, and the first C at which it
//! did not, with what stopped it there.

use crate::model::limit::Limit;
use crate::model::subject::Subject;
use crate::planning::catalog;
use crate::results::report::{Outcome, PointReport};

/// How far one strategy carried.
#[derive(Debug, Clone, PartialEq)]
pub struct Reach {
    /// The strategy.
    pub strategy: &'static Subject,
    /// The largest C it carried, if any.
    pub carried: Option<usize>,
    /// The first C (in increasing order) it did not carry, if any.
    pub stopped: Option<Stop>,
}

/// The first point a strategy did not carry, and what is known of why.
#[derive(Debug, Clone, PartialEq)]
pub struct Stop {
    /// Its C.
    pub concurrency: usize,
    /// The OS limit it ran into, if one was recognised.
    pub limit: Option<Limit>,
    /// The machine's value of it then, if recorded.
    pub limit_value: Option<u64>,
    /// Why it was not measured (failed or skipped), first line, if it was not.
    pub unmeasured: Option<String>,
    /// Its requests that failed.
    pub errors: u64,
    /// The most requests the server saw in flight at once, if it answered `/stats`.
    pub server_peak: Option<u64>,
}

/// A point that served every request with all C in flight at once, by the server's count.
pub fn held_all(r: &PointReport) -> bool {
    r.outcome == Outcome::Measured
        && r.error_count() == 0
        && r.server
            .as_ref()
            .is_some_and(|s| s.peak_in_flight >= r.point.concurrency as u64)
}

/// How far `strategy` carried among `points`.
pub fn of(points: &[PointReport], strategy: &'static Subject) -> Reach {
    let mut mine: Vec<&PointReport> = points
        .iter()
        .filter(|r| r.point.strategy == strategy)
        .collect();
    mine.sort_by_key(|r| r.point.concurrency);
    let carried = mine
        .iter()
        .filter(|r| held_all(r))
        .map(|r| r.point.concurrency)
        .max();
    let stopped = mine.into_iter().find(|r| !held_all(r)).map(|r| Stop {
        concurrency: r.point.concurrency,
        limit: r.limit,
        limit_value: r.limit_value,
        unmeasured: match &r.outcome {
            Outcome::Failed(why) | Outcome::Skipped(why) => {
                Some(why.lines().next().unwrap_or_default().to_owned())
            }
            Outcome::Measured => None,
        },
        errors: r.error_count(),
        server_peak: r.server.as_ref().map(|s| s.peak_in_flight),
    });
    Reach {
        strategy,
        carried,
        stopped,
    }
}

/// How far every strategy of `points` carried, in table order.
pub fn all(points: &[PointReport]) -> Vec<Reach> {
    catalog::present(points.iter().map(|r| &r.point))
        .into_iter()
        .map(|s| of(points, s))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::report::fixtures::measured;

    fn seen(c: usize, peak: u64) -> PointReport {
        let mut r = measured("thread_raw", c, 1.0, 8 << 20);
        r.server = Some(mock_server::StatsSnapshot {
            peak_in_flight: peak,
            ..Default::default()
        });
        r
    }

    #[test]
    fn a_strategy_carries_c_only_where_the_server_saw_c_at_once() {
        let points = [seen(100, 100), seen(1_000, 1_000), seen(10_000, 9_000)];
        let reach = of(&points, points[0].point.strategy);
        assert_eq!(reach.carried, Some(1_000));
        let stop = reach.stopped.expect("stopped");
        assert_eq!(stop.concurrency, 10_000);
        assert_eq!(stop.server_peak, Some(9_000));
        assert_eq!((stop.limit, stop.unmeasured, stop.errors), (None, None, 0));
    }
}

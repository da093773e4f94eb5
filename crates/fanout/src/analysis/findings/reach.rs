//! How far each strategy carried in a run over C: the largest C at which it served every
//! request with all C in flight at once by the server's count, and the first C at which it
//! did not, with what stopped it there.

use serde::{Deserialize, Serialize};

use crate::analysis::figures;
use crate::analysis::statistics::Spread;
use crate::model::limit::Limit;
use crate::model::subject::Subject;
use crate::planning::catalog;
use crate::record::report::{Outcome, PointReport};

/// How far one strategy carried.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reach {
    /// The strategy.
    pub strategy: &'static Subject,
    /// The largest C it carried, if any.
    pub carried: Option<usize>,
    /// The first C (in increasing order) it did not carry, if any.
    pub stopped: Option<Stop>,
}

/// The first point a strategy did not carry, and what is known of why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Stop {
    /// Its C.
    pub concurrency: usize,
    /// The OS limit it ran into, if one was recognised.
    pub limit: Option<Limit>,
    /// The machine's value of it then, if recorded.
    pub limit_value: Option<u64>,
    /// Why it was not measured (failed or skipped), first line, if it was not.
    pub unmeasured: Option<String>,
    /// Its requests that failed: the fewest and the most over the repeats that stopped.
    pub errors: (u64, u64),
    /// The most requests the server saw in flight at once there, over the repeats that
    /// stopped, if it answered `/stats`.
    pub server_peak: Option<u64>,
    /// The repeats at this C that stopped short, of how many.
    pub stopped_in: (usize, usize),
}

/// A point that served every request with all C in flight at once, by the server's count.
pub fn held_all(r: &PointReport) -> bool {
    r.outcome == Outcome::Measured
        && r.error_count() == 0
        && r.server
            .as_ref()
            .is_some_and(|s| s.peak_in_flight >= r.point.concurrency as u64)
}

/// How far `strategy` carried among `points`: a C is carried when every repeat of it was.
pub fn of(points: &[PointReport], strategy: &'static Subject) -> Reach {
    let mut by_c: std::collections::BTreeMap<usize, Vec<&PointReport>> = Default::default();
    for r in points.iter().filter(|r| r.point.strategy == strategy) {
        by_c.entry(r.point.concurrency).or_default().push(r);
    }
    let carried = by_c
        .iter()
        .filter(|(_, repeats)| repeats.iter().all(|r| held_all(r)))
        .map(|(&c, _)| c)
        .max();
    let stopped = by_c.into_iter().find_map(|(concurrency, repeats)| {
        let short: Vec<_> = repeats.iter().filter(|r| !held_all(r)).collect();
        // What stopped it, as the first repeat that stopped says.
        let first = short.first()?;
        let errors = short.iter().map(|r| r.error_count());
        Some(Stop {
            concurrency,
            limit: first.limit,
            limit_value: first.limit_value,
            unmeasured: match &first.outcome {
                Outcome::Failed(why) | Outcome::Skipped(why) => {
                    Some(why.lines().next().unwrap_or_default().to_owned())
                }
                Outcome::Measured => None,
            },
            errors: (errors.clone().min()?, errors.max()?),
            server_peak: short
                .iter()
                .filter_map(|r| Some(r.server.as_ref()?.peak_in_flight))
                .max(),
            stopped_in: (short.len(), repeats.len()),
        })
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

/// A strategy's repeats at the largest C it carried: what it cost there, each figure's median
/// and range over those repeats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AtLargest {
    /// The strategy.
    pub strategy: &'static Subject,
    /// Its C.
    pub concurrency: usize,
    /// The repeats there (every one carried it).
    pub repeats: usize,
    /// Wall time, s.
    pub wall_s: Spread,
    /// The worker's peak resident memory, bytes.
    pub peak_rss: Option<Spread>,
    /// The client's own bill per request in flight while it held them: resident memory above
    /// its value before the requests, plus the kernel memory charged to its own cgroup, over
    /// the requests in flight then, bytes; from the peaks where the memory was not split (a
    /// peer); `None` without a cgroup, or a peer that does not say its RSS before.
    pub own_bill_per_request: Option<Spread>,
    /// The worker process's CPU per request, µs ([`figures::CPU_PER_REQUEST`]).
    pub cpu_per_request_us: Spread,
    /// The kernel's system-wide growth per request in flight then (both ends of loopback), bytes.
    pub kernel_per_request: Option<Spread>,
    /// The server's peak resident memory, bytes.
    pub server_rss: Option<Spread>,
    /// The server's CPU seconds over the point.
    pub server_cpu_s: Option<Spread>,
    /// The most the server saw in flight at once, the fewest over the repeats.
    pub server_peak: u64,
}

/// Each strategy's repeats at the largest C it carried, in table order.
pub fn at_largest(points: &[PointReport]) -> Vec<AtLargest> {
    all(points)
        .into_iter()
        .filter_map(|reach| {
            let c = reach.carried?;
            let repeats: Vec<&PointReport> = points
                .iter()
                .filter(|r| r.point.strategy == reach.strategy && r.point.concurrency == c)
                .collect();
            let over = |figure: &dyn Fn(&PointReport) -> Option<f64>| {
                Spread::of(repeats.iter().filter_map(|r| figure(r)))
            };
            // A point carried there held C at once (the server's count): its peaks are then.
            let own_bill =
                |r: &PointReport| r.own_bill_bytes().or_else(|| r.own_bill_from_peaks_bytes());
            let kernel = |r: &PointReport| {
                let b = r.metered.breakdown.as_ref()?;
                let held = Some(b.in_flight).filter(|&n| n > 0)?;
                Some(b.kernel.as_ref()?.total_bytes() as f64 / held as f64)
            };
            Some(AtLargest {
                strategy: reach.strategy,
                concurrency: c,
                repeats: repeats.len(),
                wall_s: over(&|r| Some(r.worker.wall_s))?,
                peak_rss: over(&|r| Some(r.metered.peak_rss_bytes? as f64)),
                own_bill_per_request: over(&own_bill),
                cpu_per_request_us: over(&|r| figures::CPU_PER_REQUEST.of(r))?,
                kernel_per_request: over(&kernel),
                server_rss: over(&|r| Some(r.server.as_ref()?.peak_rss_bytes? as f64)),
                server_cpu_s: over(&|r| r.server.as_ref()?.cpu_s),
                server_peak: repeats
                    .iter()
                    .filter_map(|r| Some(r.server.as_ref()?.peak_in_flight))
                    .min()?,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::report::fixtures::measured;

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
        assert_eq!(
            (stop.limit, stop.unmeasured, stop.errors),
            (None, None, (0, 0))
        );
        assert_eq!(stop.stopped_in, (1, 1));
        let largest = at_largest(&points);
        assert_eq!(largest.len(), 1);
        assert_eq!(
            (largest[0].concurrency, largest[0].server_peak),
            (1_000, 1_000)
        );
        assert_eq!(largest[0].own_bill_per_request, None, "no breakdown read");
    }

    #[test]
    fn a_c_is_carried_only_where_every_repeat_carried_it() {
        let mut second = seen(1_000, 900);
        second.repeat = 2;
        let points = [seen(100, 100), seen(1_000, 1_000), second];
        let reach = of(&points, points[0].point.strategy);
        assert_eq!(reach.carried, Some(100));
        let stop = reach.stopped.expect("stopped");
        assert_eq!(
            (stop.concurrency, stop.stopped_in, stop.server_peak),
            (1_000, (1, 2), Some(900))
        );
        let largest = at_largest(&points);
        assert_eq!((largest[0].concurrency, largest[0].repeats), (100, 1));
    }

    #[test]
    fn the_own_bill_at_the_largest_c_is_rss_grown_and_own_kernel_over_those_held() {
        let mut r = seen(1_000, 1_000);
        r.worker.rss_before_bytes = 1 << 20;
        r.metered.breakdown = Some(crate::model::memory::Breakdown {
            in_flight: 1_000,
            rss_bytes: (1 << 20) + 4_000_000,
            client_kernel: Some(crate::model::memory::ClientKernel {
                kernel_bytes: 1_000_000,
                tcp_bytes: 0,
            }),
            ..Default::default()
        });
        let largest = at_largest(&[r]);
        assert_eq!(
            largest[0].own_bill_per_request.map(|s| s.median),
            Some(5_000.0)
        );
    }
}

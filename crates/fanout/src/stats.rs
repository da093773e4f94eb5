//! Statistics over a run's rows: rows grouped per (strategy, C), medians and min–max over
//! repeats, and memory per in-flight request fitted across concurrency.

use std::collections::BTreeMap;

use crate::report::{Outcome, PointReport};
use crate::strategies::{self, Strategy};

/// Median, min and max of a figure over repeats.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Spread {
    /// Median (mean of the middle two for an even count).
    pub median: f64,
    /// Smallest.
    pub min: f64,
    /// Largest.
    pub max: f64,
}

impl Spread {
    /// The spread of `values`; `None` when there are none.
    pub fn of(values: impl IntoIterator<Item = f64>) -> Option<Self> {
        let mut v: Vec<f64> = values.into_iter().filter(|x| x.is_finite()).collect();
        if v.is_empty() {
            return None;
        }
        v.sort_by(f64::total_cmp);
        let n = v.len();
        let median = if n % 2 == 1 {
            v[n / 2]
        } else {
            (v[n / 2 - 1] + v[n / 2]) / 2.0
        };
        Some(Self {
            median,
            min: v[0],
            max: v[n - 1],
        })
    }

    /// (max − min) / median: how far repeats disagree, relative to their median.
    pub fn relative_range(&self) -> f64 {
        if self.median == 0.0 {
            0.0
        } else {
            (self.max - self.min) / self.median.abs()
        }
    }
}

/// The repeats of one (strategy, concurrency) point.
#[derive(Debug, Clone)]
pub struct Cell<'a> {
    /// Strategy name.
    pub strategy: &'a str,
    /// Concurrency.
    pub concurrency: usize,
    /// Measured repeats.
    pub measured: Vec<&'a PointReport>,
    /// Repeats not measured (skipped or failed), with their outcome.
    pub unmeasured: Vec<&'a PointReport>,
}

impl Cell<'_> {
    /// Spread of a figure over the measured repeats.
    pub fn spread(&self, figure: impl Fn(&PointReport) -> f64) -> Option<Spread> {
        Spread::of(self.measured.iter().map(|r| figure(r)))
    }

    /// True when any measured repeat is marked (listen overflow or errors).
    pub fn marked(&self) -> bool {
        self.measured.iter().any(|r| r.marked())
    }
}

/// The figures charted and compared, by name.
pub mod figure {
    use crate::report::PointReport;

    /// Wall time, seconds.
    pub fn wall_s(r: &PointReport) -> f64 {
        r.worker.wall_s
    }
    /// Peak RSS, MiB.
    pub fn peak_rss_mib(r: &PointReport) -> f64 {
        r.worker.peak_rss_bytes as f64 / (1024.0 * 1024.0)
    }
    /// Ok requests per second.
    pub fn throughput_rps(r: &PointReport) -> f64 {
        r.throughput_rps
    }
    /// p99 latency, ms.
    pub fn p99_ms(r: &PointReport) -> f64 {
        r.worker.tally.latency_ms.p99
    }
    /// Efficiency.
    pub fn efficiency(r: &PointReport) -> f64 {
        r.efficiency
    }
    /// Peak threads.
    pub fn peak_threads(r: &PointReport) -> f64 {
        r.worker.peak_threads as f64
    }
    /// CPU user + system, seconds.
    pub fn cpu_s(r: &PointReport) -> f64 {
        r.worker.cpu_user_s + r.worker.cpu_sys_s
    }
    /// Requests in flight the server saw at most.
    pub fn server_peak_in_flight(r: &PointReport) -> f64 {
        r.server.map_or(f64::NAN, |s| s.peak_in_flight as f64)
    }
}

/// Groups rows by (strategy in the order of the table, concurrency ascending).
pub fn cells(points: &[PointReport]) -> Vec<Cell<'_>> {
    let order = |s: &Strategy| strategies::ALL.iter().position(|t| t == s);
    let mut map: BTreeMap<(Option<usize>, &str, usize), Cell<'_>> = BTreeMap::new();
    for r in points {
        let p = &r.point;
        let cell = map
            .entry((order(p.strategy), p.strategy.name, p.concurrency))
            .or_insert_with(|| Cell {
                strategy: p.strategy.name,
                concurrency: p.concurrency,
                measured: Vec::new(),
                unmeasured: Vec::new(),
            });
        if r.outcome == Outcome::Measured {
            cell.measured.push(r);
        } else {
            cell.unmeasured.push(r);
        }
    }
    map.into_values().collect()
}

/// Peak RSS fitted as a line over the requests in flight by design (C for bounded strategies,
/// N for `pitfall_unbounded`), per strategy (least squares over every measured repeat).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MemoryFit {
    /// Slope: bytes per request in flight.
    pub bytes_per_request: f64,
    /// Intercept: bytes at zero concurrency.
    pub base_bytes: f64,
    /// Points fitted.
    pub points: usize,
}

/// Fits peak RSS = base + slope × in-flight for `strategy`; `None` with fewer than two
/// distinct values.
pub fn memory_fit(points: &[PointReport], strategy: &str) -> Option<MemoryFit> {
    let xy: Vec<(f64, f64)> = points
        .iter()
        .filter(|r| r.point.strategy.name == strategy && r.outcome == Outcome::Measured)
        .map(|r| (r.point.in_flight() as f64, r.worker.peak_rss_bytes as f64))
        .collect();
    let n = xy.len() as f64;
    let mean_x = xy.iter().map(|p| p.0).sum::<f64>() / n;
    let mean_y = xy.iter().map(|p| p.1).sum::<f64>() / n;
    let sxx: f64 = xy.iter().map(|p| (p.0 - mean_x).powi(2)).sum();
    if xy.len() < 2 || sxx == 0.0 {
        return None;
    }
    let sxy: f64 = xy.iter().map(|p| (p.0 - mean_x) * (p.1 - mean_y)).sum();
    let slope = sxy / sxx;
    Some(MemoryFit {
        bytes_per_request: slope,
        base_bytes: mean_y - slope * mean_x,
        points: xy.len(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::fixtures::measured;

    #[test]
    fn spreads_take_the_median_and_the_range() {
        let s = Spread::of([3.0, 1.0, 2.0]).expect("values");
        assert_eq!((s.median, s.min, s.max), (2.0, 1.0, 3.0));
        assert_eq!(
            Spread::of([1.0, 2.0, 3.0, 10.0]).map(|s| s.median),
            Some(2.5)
        );
        assert!((s.relative_range() - 1.0).abs() < 1e-12);
        assert_eq!(Spread::of([]), None);
        assert_eq!(Spread::of([f64::NAN, 4.0]).map(|s| s.median), Some(4.0));
    }

    #[test]
    fn the_memory_fit_recovers_a_known_line() {
        // 40 KiB per request on top of 5 MiB, measured at three concurrencies, twice each.
        let line = |c: usize| 5 * 1024 * 1024 + 40 * 1024 * c as u64;
        let points: Vec<_> = [10, 1_000, 10_000, 10, 1_000, 10_000]
            .into_iter()
            .map(|c| measured("thread_pool", c, 1.0, line(c)))
            .collect();
        let fit = memory_fit(&points, "thread_pool").expect("fit");
        assert!(
            (fit.bytes_per_request - 40.0 * 1024.0).abs() < 1e-6,
            "{fit:?}"
        );
        assert!(
            (fit.base_bytes - 5.0 * 1024.0 * 1024.0).abs() < 1e-3,
            "{fit:?}"
        );
        assert_eq!(fit.points, 6);
        assert_eq!(memory_fit(&points[..1], "thread_pool"), None);
        assert_eq!(memory_fit(&points, "async_semaphore"), None);
    }
}

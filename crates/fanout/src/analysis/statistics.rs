//! Statistics over a run's rows: rows grouped per point key (strategy, C, varied setting,
//! protocol, server profile: `planning/key.rs`), medians and min–max over
//! repeats, and memory per in-flight request fitted across concurrency.

use std::collections::BTreeMap;

use crate::model::knob::Knob;
use crate::model::subject::Subject;
use crate::planning::key::PointKey;
use crate::record::report::{Outcome, PointReport};

/// Median, min and max of a figure over repeats.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
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

/// A median with the repeats' range where it shows in the digits given: `6.2 (6.0–6.5)`;
/// `–` where there is none.
pub fn ranged(s: Option<Spread>, show: impl Fn(f64) -> String) -> String {
    s.map_or("–".to_owned(), |s| {
        let (low, high) = (show(s.min), show(s.max));
        if low == high {
            show(s.median)
        } else {
            format!("{} ({low}–{high})", show(s.median))
        }
    })
}

/// The repeats of one (strategy, concurrency, varied setting) point.
#[derive(Debug, Clone)]
pub struct Cell<'a> {
    /// Its key: strategy, C, the value of the setting the run varies ([`varied_knob`]),
    /// protocol and server profile.
    pub key: PointKey,
    /// Measured repeats.
    pub measured: Vec<&'a PointReport>,
    /// Repeats not measured (skipped or failed), with their outcome.
    pub unmeasured: Vec<&'a PointReport>,
}

impl Cell<'_> {
    /// Its strategy (or peer), which outlives the cell.
    pub fn subject(&self) -> &'static Subject {
        self.measured
            .iter()
            .chain(&self.unmeasured)
            .next()
            .expect("a cell holds at least one repeat")
            .point
            .strategy
    }

    /// Spread of a figure over the measured repeats.
    pub fn spread(&self, figure: impl Fn(&PointReport) -> f64) -> Option<Spread> {
        Spread::of(self.measured.iter().map(|r| figure(r)))
    }

    /// True when any measured repeat is marked (listen overflow or errors).
    pub fn marked(&self) -> bool {
        self.measured.iter().any(|r| r.marked())
    }
}

/// The setting the points vary beside C (a `--workload` preset), if they vary one: as their
/// plan recorded it in each point ([`Point::varied`]).
///
/// [`Point::varied`]: crate::planning::point::Point::varied
pub fn varied_knob(points: &[PointReport]) -> Option<Knob> {
    if let Some(varied) = points.iter().find_map(|r| r.point.varied) {
        return Some(varied.knob());
    }
    // Points recorded before a point kept its plan's varied setting: the setting whose value
    // differs among them.
    Knob::ALL.into_iter().find(|knob| {
        let mut values = points.iter().map(|r| knob.value(&r.point.settings));
        values
            .next()
            .is_some_and(|first| values.any(|v| v != first))
    })
}

/// Groups rows by (strategy in the order of the table, varied setting, concurrency).
pub fn cells(points: &[PointReport]) -> Vec<Cell<'_>> {
    cells_varying(points, varied_knob(points))
}

/// `points` grouped into cells by their key in a run that varies `knob`, in table order.
pub fn cells_varying(points: &[PointReport], knob: Option<Knob>) -> Vec<Cell<'_>> {
    let mut map: BTreeMap<PointKey, Cell<'_>> = BTreeMap::new();
    for r in points {
        let key = PointKey::of(&r.point, knob);
        let cell = map.entry(key).or_insert_with(|| Cell {
            key,
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

/// A least-squares line y = base + slope × x over every measured repeat of a strategy.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LineFit {
    /// What one more x adds to y.
    pub slope: f64,
    /// y at x = 0.
    pub base: f64,
    /// Points fitted.
    pub points: usize,
}

/// Fits `y` over `x` for `strategy`'s measured points that have a `y` and lost no request (a
/// point whose requests failed held less than its design, and would bend the line); `None`
/// with fewer than two distinct x.
pub fn line_fit(
    points: &[PointReport],
    strategy: &str,
    x: impl Fn(&PointReport) -> f64,
    y: impl Fn(&PointReport) -> Option<f64>,
) -> Option<LineFit> {
    let xy: Vec<(f64, f64)> = points
        .iter()
        .filter(|r| r.point.strategy.name == strategy && r.outcome == Outcome::Measured)
        .filter(|r| r.error_count() == 0)
        .filter_map(|r| Some((x(r), y(r)?)))
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
    Some(LineFit {
        slope,
        base: mean_y - slope * mean_x,
        points: xy.len(),
    })
}

/// Requests held in flight by design: C, N for `pitfall_unbounded` (the x of memory fits).
pub fn in_flight(r: &PointReport) -> f64 {
    r.point.in_flight() as f64
}

/// Peak RSS fitted over the requests in flight by design, per strategy: the slope is what one
/// more request in flight costs, bytes.
pub fn memory_fit(points: &[PointReport], strategy: &str) -> Option<LineFit> {
    line_fit(points, strategy, in_flight, |r| {
        Some(r.peak_rss_bytes() as f64)
    })
}

/// Where the bytes and the work of one more request go, per strategy: each part of the
/// [`crate::model::memory::Breakdown`] fitted over the requests in flight (bytes per request in
/// flight), allocations and CPU fitted over N (per request, setup excluded).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct WhereBytesGo {
    /// Peak RSS, per request in flight.
    pub rss: Option<LineFit>,
    /// Live heap at the breakdown (allocated: the counting allocator's bytes, touched or not),
    /// per request in flight.
    pub heap: Option<LineFit>,
    /// Resident thread stacks, per request in flight.
    pub stacks: Option<LineFit>,
    /// RSS − heap − stacks, per request in flight: the rest of RSS (binary, runtime, allocator
    /// slack) where positive; where negative, heap allocated and never touched (see
    /// [`WhereBytesGo::heap_not_resident`]).
    pub other: Option<LineFit>,
    /// Kernel TCP socket buffers (both ends on loopback), per request in flight.
    pub kernel: Option<LineFit>,
    /// Kernel stacks (system-wide), per request in flight.
    pub kernel_stacks: Option<LineFit>,
    /// Slab, reclaimable and not (system-wide: both ends of each connection), per request in
    /// flight.
    pub slab: Option<LineFit>,
    /// Page tables (system-wide), per request in flight.
    pub page_tables: Option<LineFit>,
    /// The client's own kernel memory (its cgroup: its ends of connections alone), per
    /// request in flight.
    pub client_kernel: Option<LineFit>,
    /// Allocations per request.
    pub allocations: Option<LineFit>,
    /// CPU seconds per request.
    pub cpu: Option<LineFit>,
}

impl WhereBytesGo {
    /// The fits of `strategy`'s points.
    pub fn of(points: &[PointReport], strategy: &str) -> Self {
        let part = |y: fn(&crate::model::memory::Breakdown) -> Option<f64>| {
            line_fit(points, strategy, in_flight, move |r| {
                y(r.metered.breakdown.as_ref()?)
            })
        };
        let requests = |r: &PointReport| r.point.requests as f64;
        Self {
            rss: memory_fit(points, strategy),
            heap: part(|b| Some(b.heap_bytes? as f64)),
            stacks: part(|b| Some(b.stack_bytes as f64)),
            other: part(|b| Some(b.other_bytes as f64)),
            kernel: part(|b| Some(b.kernel_tcp_bytes? as f64)),
            kernel_stacks: part(|b| Some(b.kernel.as_ref()?.kernel_stack_bytes as f64)),
            slab: part(|b| Some(b.kernel.as_ref()?.slab_bytes() as f64)),
            page_tables: part(|b| Some(b.kernel.as_ref()?.page_tables_bytes as f64)),
            client_kernel: part(|b| Some(b.client_kernel?.kernel_bytes as f64)),
            allocations: line_fit(points, strategy, requests, |r| {
                Some(r.worker.allocations? as f64)
            }),
            cpu: line_fit(points, strategy, requests, |r| Some(r.cpu_s())),
        }
    }

    /// The whole bill per request in flight: the client's resident memory plus the kernel's
    /// stacks, slab and page tables grown beside it (system-wide: on loopback the slab holds
    /// the server's end of each connection too).
    pub fn whole_bill(&self) -> Option<f64> {
        let kernel = self.kernel_stacks?.slope + self.slab?.slope + self.page_tables?.slope;
        Some(self.rss?.slope + kernel)
    }

    /// The client's own bill per request in flight: its resident memory plus the kernel
    /// memory charged to its cgroup (the server's ends of connections excluded).
    pub fn client_bill(&self) -> Option<f64> {
        Some(self.rss?.slope + self.client_kernel?.slope)
    }

    /// What one more request in flight adds to RSS besides heap and stacks: `other`'s slope where
    /// positive, else 0 (the heap then outgrew RSS: see [`Self::heap_not_resident`]).
    pub fn other_resident(&self) -> Option<f64> {
        Some(self.other?.slope.max(0.0))
    }

    /// Heap allocated per request in flight that RSS does not hold (besides the stacks):
    /// −`other`'s slope where negative, else 0 — memory handed out and never touched holds no
    /// page, so the live heap the allocator counts can grow faster than RSS.
    pub fn heap_not_resident(&self) -> Option<f64> {
        Some((-self.other?.slope).max(0.0))
    }

    /// Heap + stacks + other over the RSS slope: how well the parts account for the whole.
    pub fn parts_over_rss(&self) -> Option<f64> {
        let parts = self.heap?.slope + self.stacks?.slope + self.other?.slope;
        Some(parts / self.rss?.slope)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::report::fixtures::measured;

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
        assert!((fit.slope - 40.0 * 1024.0).abs() < 1e-6, "{fit:?}");
        assert!((fit.base - 5.0 * 1024.0 * 1024.0).abs() < 1e-3, "{fit:?}");
        assert_eq!(fit.points, 6);
        assert_eq!(memory_fit(&points[..1], "thread_pool"), None);
        assert_eq!(memory_fit(&points, "async_semaphore"), None);
    }

    #[test]
    fn where_the_bytes_go_fits_each_part_of_a_synthetic_breakdown() {
        // 2 KiB heap, 8 KiB stacks, 1 KiB other, 4 KiB kernel per request in flight; 30
        // allocations and 10 µs of CPU per request, on top of fixed costs.
        let points: Vec<_> = [10, 100, 1_000]
            .into_iter()
            .map(|c| {
                let kib = |k: u64| k * 1024 * c as u64;
                let (heap, stacks, other) = (kib(2) + 100_000, kib(8), kib(1) + 4_000_000);
                let rss = heap + stacks + other;
                let mut r = measured("thread_raw", c, 1.0, rss);
                let kernel = crate::model::memory::KernelGrowth {
                    kernel_stack_bytes: kib(16) as i64 + 50_000,
                    slab_unreclaimable_bytes: kib(5) as i64,
                    slab_reclaimable_bytes: kib(3) as i64 - 20_000,
                    page_tables_bytes: kib(1) as i64 / 2,
                    ..Default::default()
                };
                let mut breakdown = crate::model::memory::Breakdown::of(
                    c as u64,
                    rss,
                    Some(heap),
                    stacks,
                    Some(kib(4) as i64),
                    Some(kernel),
                    1.0,
                );
                breakdown.client_kernel = Some(crate::model::memory::ClientKernel {
                    kernel_bytes: kib(20) + 1_000_000,
                    tcp_bytes: 0,
                });
                r.metered.breakdown = Some(breakdown);
                r.worker.allocations = Some(30 * r.point.requests as u64 + 500);
                r.metered.cpu_user_s = 10e-6 * r.point.requests as f64 + 0.01;
                r
            })
            .collect();
        let w = WhereBytesGo::of(&points, "thread_raw");
        let kib = |f: Option<LineFit>| f.map(|f| (f.slope / 1024.0 * 1000.0).round() / 1000.0);
        assert_eq!(
            (kib(w.heap), kib(w.stacks), kib(w.other), kib(w.kernel)),
            (Some(2.0), Some(8.0), Some(1.0), Some(4.0))
        );
        assert_eq!(
            (kib(w.kernel_stacks), kib(w.slab), kib(w.page_tables)),
            (Some(16.0), Some(8.0), Some(0.5))
        );
        let bill = w.whole_bill().expect("whole bill") / 1024.0;
        assert!((bill - (11.0 + 16.0 + 8.0 + 0.5)).abs() < 1e-6, "{bill}");
        // The client's own: its RSS and its cgroup's kernel memory (20 KiB), not the
        // system-wide parts.
        let own = w.client_bill().expect("client bill") / 1024.0;
        assert!((own - (11.0 + 20.0)).abs() < 1e-6, "{own}");
        assert!((w.allocations.expect("fit").slope - 30.0).abs() < 1e-9);
        assert!((w.cpu.expect("fit").slope - 10e-6).abs() < 1e-12);
        let sum = w.parts_over_rss().expect("all parts");
        assert!((sum - 1.0).abs() < 1e-9, "{sum}");
    }

    #[test]
    fn heap_allocated_beyond_what_is_resident_is_its_own_part_and_no_part_is_negative() {
        // Per request in flight: 36 KiB of heap allocated, 27 KiB resident in all, no stacks:
        // 9 KiB of the heap was never touched.
        let points: Vec<_> = [10, 100, 1_000]
            .into_iter()
            .map(|c| {
                let kib = |k: u64| k * 1024 * c as u64;
                let (rss, heap) = (kib(27) + 4_000_000, kib(36) + 4_000_000);
                let mut r = measured("async_semaphore", c, 1.0, rss);
                r.metered.breakdown = Some(crate::model::memory::Breakdown::of(
                    c as u64,
                    rss,
                    Some(heap),
                    0,
                    None,
                    None,
                    1.0,
                ));
                r
            })
            .collect();
        let w = WhereBytesGo::of(&points, "async_semaphore");
        let kib = |f: Option<f64>| f.map(|f| (f / 1024.0 * 1000.0).round() / 1000.0);
        assert_eq!(
            (
                kib(w.heap.map(|f| f.slope)),
                kib(w.heap_not_resident()),
                kib(w.other_resident())
            ),
            (Some(36.0), Some(9.0), Some(0.0))
        );
        let sum = w.parts_over_rss().expect("all parts");
        assert!((sum - 1.0).abs() < 1e-9, "{sum}");
    }
}

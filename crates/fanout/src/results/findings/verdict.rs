//! The verdict of a run, from its own rows: at each C (and each value of a varied setting),
//! among the strategies and peers that hold C in flight (pitfalls aside) and served every
//! request, the extremes of wall time, peak RSS and CPU by median.

use super::Ranked;
use crate::model::knob::Knob;
use crate::model::subject::Holds;
use crate::results::figures::{self, Figure};
use crate::results::report::{Outcome, PointReport};
use crate::results::statistics::{Cell, cells, varied_knob};

/// The verdict: one entry per C (and varied value) with two or more strategies to compare.
#[derive(Debug, Clone, PartialEq)]
pub struct Verdict {
    /// The setting the run varies beside C, if any.
    pub knob: Option<Knob>,
    /// Each comparison, by C then by the varied value.
    pub at: Vec<VerdictAt>,
}

/// The extremes at one C.
#[derive(Debug, Clone, PartialEq)]
pub struct VerdictAt {
    /// The concurrency.
    pub concurrency: usize,
    /// The varied setting's value, if the run varies one.
    pub varied: Option<u64>,
    /// Least and most median wall time.
    pub wall: Extremes,
    /// Least and most median peak RSS.
    pub peak_rss: Extremes,
    /// Least and most median CPU.
    pub cpu: Extremes,
}

/// The least and the most of a figure.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Extremes {
    /// The lowest median.
    pub least: Ranked,
    /// The highest median.
    pub most: Ranked,
}

/// Counts in the verdict: measured, every request ok, none dropped, holding C by design, not
/// a pitfall (pitfalls have their own section).
fn compared(r: &PointReport) -> bool {
    r.outcome == Outcome::Measured
        && r.error_count() == 0
        && r.worker.tally.dropped == 0
        && r.point.strategy.holds == Holds::Concurrency
        && r.point.strategy.kind.pitfall().is_none()
}

/// The verdict of `points`.
pub fn of(points: &[PointReport]) -> Verdict {
    let clean: Vec<PointReport> = points.iter().filter(|r| compared(r)).cloned().collect();
    let all_cells = cells(&clean);
    let mut groups: Vec<(usize, Option<u64>)> = Vec::new();
    for cell in &all_cells {
        if !groups.contains(&(cell.concurrency, cell.varied)) {
            groups.push((cell.concurrency, cell.varied));
        }
    }
    groups.sort_unstable();
    let mut at = Vec::new();
    for (concurrency, varied) in groups {
        let here: Vec<&Cell<'_>> = all_cells
            .iter()
            .filter(|cell| (cell.concurrency, cell.varied) == (concurrency, varied))
            .collect();
        if here.len() < 2 {
            continue;
        }
        let extremes = |f: &Figure| {
            let mut ranked: Vec<(f64, &str)> = here
                .iter()
                .map(|cell| {
                    let median = f.spread(cell, &clean).map_or(f64::NAN, |sp| sp.median);
                    (median, cell.strategy)
                })
                .collect();
            ranked.sort_by(|a, b| a.0.total_cmp(&b.0));
            let rank = |(median, strategy): (f64, &str)| Ranked {
                // The subject's own name, which outlives these cells.
                strategy: clean
                    .iter()
                    .find(|r| r.point.strategy.name == strategy)
                    .map_or("", |r| r.point.strategy.name),
                median,
            };
            Extremes {
                least: rank(ranked[0]),
                most: rank(ranked[ranked.len() - 1]),
            }
        };
        at.push(VerdictAt {
            concurrency,
            varied,
            wall: extremes(&figures::WALL),
            peak_rss: extremes(&figures::PEAK_RSS),
            cpu: extremes(&figures::CPU),
        });
    }
    Verdict {
        knob: varied_knob(&clean),
        at,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::report::fixtures::measured;

    #[test]
    fn the_verdict_ranks_what_holds_c_and_served_every_request_pitfalls_aside() {
        let mut failing = measured("thread_raw", 100, 0.01, 1 << 20);
        failing.worker.tally.errors.insert("timeout".into(), 1);
        let points = vec![
            measured("thread_pool", 100, 0.4, 40 << 20),
            measured("async_semaphore", 100, 0.2, 10 << 20),
            measured("pitfall_unbounded", 100, 0.1, 5 << 20),
            failing,
            measured("sequential", 100, 9.0, 1 << 20),
        ];
        let v = of(&points);
        assert_eq!(v.at.len(), 1);
        let at = &v.at[0];
        assert_eq!(at.concurrency, 100);
        assert_eq!(at.wall.least.strategy, "async_semaphore");
        assert_eq!(at.wall.most.strategy, "thread_pool");
        assert_eq!(at.peak_rss.least.median, (10 << 20) as f64 / 1048576.0);
        assert!(
            of(&points[..1]).at.is_empty(),
            "one strategy: nothing to compare"
        );
    }
}

//! The verdict of a run, from its own rows: at each C (and each value of a varied setting),
//! among the strategies and peers that held C in flight (by the server's count, pitfalls
//! aside) and served every request, the extremes of wall time, peak RSS and CPU by median —
//! and whether they are apart beyond the repeats' ranges, so a tie is not told as a ranking.

use serde::{Deserialize, Serialize};

use super::Ranked;
use crate::analysis::figures::{self, Figure};
use crate::analysis::statistics::{Cell, cells, varied_knob};
use crate::model::knob::{Knob, Varied};
use crate::model::subject::{Holds, Subject};
use crate::record::report::{Outcome, PointReport};

/// The verdict: one entry per C (and varied value) with two or more strategies to compare.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verdict {
    /// The setting the run varies beside C, if any.
    pub knob: Option<Knob>,
    /// Each comparison, by C then by the varied value.
    pub at: Vec<VerdictAt>,
}

/// The extremes at one C.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct VerdictAt {
    /// The concurrency.
    pub concurrency: usize,
    /// The varied setting's value, if the run varies one.
    pub varied: Option<Varied>,
    /// Least and most median wall time.
    pub wall: Extremes,
    /// Least and most median peak RSS.
    pub peak_rss: Extremes,
    /// Least and most median CPU.
    pub cpu: Extremes,
}

/// The least and the most of a figure.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Extremes {
    /// The lowest median.
    pub least: Ranked,
    /// The highest median.
    pub most: Ranked,
    /// The others whose repeats' range overlaps the least's: the least is not alone.
    pub tied_with_least: Vec<&'static Subject>,
    /// The others whose repeats' range overlaps the most's.
    pub tied_with_most: Vec<&'static Subject>,
    /// Whether the least's and the most's ranges do not overlap, each of two repeats or more:
    /// a difference beyond noise (one repeat has no range to tell noise by).
    pub apart: bool,
    /// The fewer repeats of the two ends.
    pub repeats: usize,
}

/// Counts in the verdict: measured, every request ok, none dropped, holding C by design and
/// seen holding it (the server's peak in flight, where the server counted), not a pitfall
/// (pitfalls have their own section).
fn compared(r: &PointReport) -> bool {
    let seen_holding = r
        .server
        .as_ref()
        .is_none_or(|s| s.peak_in_flight >= r.point.in_flight() as u64);
    r.outcome == Outcome::Measured
        && r.error_count() == 0
        && r.worker.tally.dropped == 0
        && r.point.strategy.holds == Holds::Concurrency
        && r.point.strategy.kind.pitfall().is_none()
        && seen_holding
}

/// The verdict of `points`.
pub fn of(points: &[PointReport]) -> Verdict {
    let clean: Vec<PointReport> = points.iter().filter(|r| compared(r)).cloned().collect();
    let all_cells = cells(&clean);
    let mut groups: Vec<(usize, Option<Varied>)> = Vec::new();
    for cell in &all_cells {
        if !groups.contains(&(cell.key.concurrency, cell.key.varied)) {
            groups.push((cell.key.concurrency, cell.key.varied));
        }
    }
    groups.sort_unstable();
    let mut at = Vec::new();
    for (concurrency, varied) in groups {
        let here: Vec<&Cell<'_>> = all_cells
            .iter()
            .filter(|cell| (cell.key.concurrency, cell.key.varied) == (concurrency, varied))
            .collect();
        if here.len() < 2 {
            continue;
        }
        let extremes = |f: &Figure| {
            // (median, min, max, cell) per cell, by median.
            let mut ranked: Vec<(f64, f64, f64, &Cell<'_>)> = here
                .iter()
                .map(|cell| {
                    let sp = f.spread(cell, &clean);
                    let (median, min, max) = sp.map_or((f64::NAN, f64::NAN, f64::NAN), |sp| {
                        (sp.median, sp.min, sp.max)
                    });
                    (median, min, max, *cell)
                })
                .collect();
            ranked.sort_by(|a, b| a.0.total_cmp(&b.0));
            let (least, most) = (ranked[0], ranked[ranked.len() - 1]);
            let repeats = least.3.measured.len().min(most.3.measured.len());
            let rank = |(median, _, _, cell): (f64, f64, f64, &Cell<'_>)| Ranked {
                strategy: cell.subject(),
                median,
            };
            Extremes {
                least: rank(least),
                most: rank(most),
                tied_with_least: ranked[1..]
                    .iter()
                    .filter(|(_, min, _, _)| *min <= least.2)
                    .map(|r| r.3.subject())
                    .collect(),
                tied_with_most: ranked[..ranked.len() - 1]
                    .iter()
                    .filter(|(_, _, max, _)| *max >= most.1)
                    .map(|r| r.3.subject())
                    .collect(),
                apart: least.2 < most.1 && repeats >= 2,
                repeats,
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
    use crate::record::report::fixtures::measured;

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
        assert_eq!(at.wall.least.strategy.name, "async_semaphore");
        assert_eq!(at.wall.most.strategy.name, "thread_pool");
        assert_eq!(at.peak_rss.least.median, (10 << 20) as f64 / 1048576.0);
        assert!(
            of(&points[..1]).at.is_empty(),
            "one strategy: nothing to compare"
        );
    }

    #[test]
    fn a_tie_within_the_repeats_is_no_difference_and_holding_c_means_the_server_saw_c() {
        let walls = |name: &str, walls: [f64; 3]| {
            walls.map(|w| {
                let mut r = measured(name, 100, w, 1 << 20);
                r.server = Some(mock_server::StatsSnapshot {
                    peak_in_flight: 100,
                    ..Default::default()
                });
                r
            })
        };
        let mut points: Vec<PointReport> = walls("thread_pool", [0.30, 0.32, 0.40])
            .into_iter()
            .chain(walls("async_semaphore", [0.28, 0.31, 0.35]))
            .collect();
        let at = &of(&points).at[0];
        assert!(!at.wall.apart, "the ranges overlap: {:?}", at.wall);
        // A third strategy, far apart: the fastest while the server saw its 100 at once, left
        // out once the server saw only 27.
        let py = walls("peer:py_threads", [0.10, 0.11, 0.12]);
        let with = |more: &[PointReport]| [points.as_slice(), more].concat();
        let at = &of(&with(&py)).at[0];
        assert_eq!(at.wall.least.strategy.name, "peer:py_threads", "it held C");
        let mut short = py;
        for r in &mut short {
            r.server.as_mut().expect("server").peak_in_flight = 27;
        }
        points.extend(short);
        let at = &of(&points).at[0];
        assert_ne!(
            at.wall.least.strategy.name, "peer:py_threads",
            "it did not hold C"
        );
        // One far slower: apart from the fastest, who is tied with the other.
        points.extend(walls("thread_per_request", [0.9, 1.0, 1.1]));
        let at = &of(&points).at[0];
        assert!(at.wall.apart, "{:?}", at.wall);
        assert_eq!(at.wall.most.strategy.name, "thread_per_request");
        assert_eq!(at.wall.tied_with_least.len(), 1, "{:?}", at.wall);
    }
}

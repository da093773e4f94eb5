//! `fanout compare OLD NEW`: per matching point, NEW/OLD of the medians of the figures
//! [`figures::COMPARED`] lists, flagged where the change is beyond the noise the repeats show.

use crate::analysis::figures::{self, Better, Figure};
use crate::analysis::statistics::{Cell, Spread, cells_varying, varied_knob};
use crate::model::knob::{Knob, Varied};
use crate::record::report::PointReport;

/// A change smaller than this is never flagged, whatever the repeats say: with one repeat
/// (or identical ones) the spread is zero, but no run on a shared machine is that quiet.
pub const NOISE_FLOOR: f64 = 0.05;

/// One figure of one point, old against new.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Strategy name.
    pub strategy: String,
    /// The value of the setting the run varies, as a table shows it (`reset 1%`), if it
    /// varies one.
    pub varied: Option<String>,
    /// Concurrency.
    pub concurrency: usize,
    /// The figure's key (one of [`figures::COMPARED`]), or `errors` (listed only when they rose).
    pub figure: &'static str,
    /// Which way the figure improves.
    pub better: Better,
    /// Old median.
    pub old: f64,
    /// New median.
    pub new: f64,
    /// new / old.
    pub ratio: f64,
    /// The noise threshold: the larger relative range of the two sides' repeats, at least
    /// [`NOISE_FLOOR`].
    pub noise: f64,
}

impl Change {
    /// Beyond the noise, up or down.
    pub fn flagged(&self) -> bool {
        (self.ratio - 1.0).abs() > self.noise
    }

    /// new / old turned so that above 1 is worse, whichever way the figure improves.
    fn worsening(&self) -> f64 {
        match self.better {
            Better::Lower => self.ratio,
            Better::Higher => 1.0 / self.ratio,
        }
    }

    /// Beyond the noise, for the worse.
    pub fn worse(&self) -> bool {
        self.flagged() && self.worsening() > 1.0
    }

    /// Beyond the noise and worse by more than `pct` percent.
    pub fn regression_above(&self, pct: f64) -> bool {
        self.flagged() && self.worsening() > 1.0 + pct / 100.0
    }
}

/// Two runs side by side: the changes of points measured in both, and the points that could
/// not be compared, with why.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Comparison {
    /// Per point and figure.
    pub changes: Vec<Change>,
    /// Points measured in OLD but not in NEW (skipped, failed, or missing): regressions too.
    pub lost: Vec<String>,
    /// Points whose workloads differ (N, D or any setting): not compared.
    pub different: Vec<String>,
}

/// A cell as `compare` names it: `strategy/C`, and the varied setting's value where the run
/// varies one (`thread_pool/100 fault=reset 1%`).
fn cell_name(cell: &Cell<'_>, knob: Option<Knob>) -> String {
    let mut name = format!("{}/{}", cell.key.strategy, cell.key.concurrency);
    if let Some((knob, value)) = knob.zip(cell.key.varied) {
        name.push_str(&format!(" {}={}", knob.key(), value.show()));
    }
    name
}

/// True when two cells were measured with the same workload (their first measured repeats').
fn same_workload(old: &Cell<'_>, new: &Cell<'_>) -> bool {
    match (old.measured.first(), new.measured.first()) {
        (Some(o), Some(n)) => o.point.same_workload(&n.point),
        _ => false,
    }
}

/// Compares `new` with `old`, point by point.
pub fn changes(old: &[PointReport], new: &[PointReport]) -> Comparison {
    // Both runs' cells keyed by the setting OLD varies: a faults run's every fault cell meets
    // its own in NEW (a NEW varying another setting differs in workload, and says so).
    let knob = varied_knob(old);
    let new_cells = cells_varying(new, knob);
    let mut out = Comparison::default();
    for old_cell in cells_varying(old, knob) {
        if old_cell.measured.is_empty() {
            continue;
        }
        let name = cell_name(&old_cell, knob);
        let new_cell = new_cells
            .iter()
            .find(|c| c.key == old_cell.key)
            .filter(|c| !c.measured.is_empty());
        let Some(new_cell) = new_cell else {
            out.lost.push(name);
            continue;
        };
        if !same_workload(&old_cell, new_cell) {
            out.different.push(name);
            continue;
        }
        let varied = old_cell.key.varied.map(Varied::show);
        for figure in figures::COMPARED {
            if let Some(change) = change((&old_cell, old), (new_cell, new), figure, &varied) {
                out.changes.push(change);
            }
        }
        // Failed requests can make a run look fast: more of them is a regression, always.
        let errors = |c: &Cell<'_>| {
            c.spread(|r| r.error_count() as f64)
                .map_or(0.0, |s| s.median)
        };
        let (before, after) = (errors(&old_cell), errors(new_cell));
        if after > before {
            out.changes.push(Change {
                strategy: old_cell.key.strategy.to_owned(),
                varied,
                concurrency: old_cell.key.concurrency,
                figure: "errors",
                better: Better::Lower,
                old: before,
                new: after,
                ratio: if before > 0.0 {
                    after / before
                } else {
                    f64::INFINITY
                },
                noise: 0.0,
            });
        }
    }
    out
}

/// One figure of a cell, old against new (each cell with the points of its run, which a fitted
/// figure reads).
fn change(
    (old, old_points): (&Cell<'_>, &[PointReport]),
    (new, new_points): (&Cell<'_>, &[PointReport]),
    figure: &'static Figure,
    varied: &Option<String>,
) -> Option<Change> {
    let (o, n): (Spread, Spread) = (
        figure.spread(old, old_points)?,
        figure.spread(new, new_points)?,
    );
    if o.median <= 0.0 {
        return None;
    }
    Some(Change {
        strategy: old.key.strategy.to_owned(),
        varied: varied.clone(),
        concurrency: old.key.concurrency,
        figure: figure.key,
        better: figure.better,
        old: o.median,
        new: n.median,
        ratio: n.median / o.median,
        noise: o.relative_range().max(n.relative_range()).max(NOISE_FLOOR),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::report::fixtures::measured;
    use crate::results::render::changes_table;

    fn run(strategy: &str, walls: &[f64]) -> Vec<PointReport> {
        walls
            .iter()
            .map(|&w| {
                let mut r = measured(strategy, 100, w, 10 << 20);
                r.worker.tally.latency_ms.p99 = 100.0;
                r
            })
            .collect()
    }

    #[test]
    fn a_change_beyond_the_repeats_spread_is_flagged_and_one_within_is_not() {
        let old = run("thread_pool", &[1.0, 1.1, 0.9]); // spread ±20%
        let slower = run("thread_pool", &[1.5, 1.5, 1.5]);
        let wall = |cs: Comparison| {
            cs.changes
                .into_iter()
                .find(|c| c.figure == "wall")
                .expect("wall")
        };
        let c = wall(changes(&old, &slower));
        assert!((c.ratio - 1.5).abs() < 1e-9 && c.flagged(), "{c:?}");
        assert!(c.regression_above(10.0) && !c.regression_above(60.0));
        let c = wall(changes(&old, &run("thread_pool", &[1.1, 1.1, 1.1])));
        assert!(!c.flagged(), "{c:?}");
        // Unchanged memory and latency are never flagged.
        assert!(
            changes(&old, &slower)
                .changes
                .iter()
                .filter(|c| c.figure != "wall")
                .all(|c| !c.flagged())
        );
    }

    #[test]
    fn only_points_measured_in_both_runs_with_one_workload_are_compared() {
        let old = run("thread_pool", &[1.0]);
        let elsewhere = changes(&old, &run("async_semaphore", &[1.0]));
        assert!(elsewhere.changes.is_empty());
        assert_eq!(elsewhere.lost, ["thread_pool/100"]);
        let mut slower_server = run("thread_pool", &[1.0]);
        slower_server[0].point.delay_ms += 1;
        assert_eq!(changes(&old, &slower_server).different, ["thread_pool/100"]);
        let t = changes_table(&changes(&old, &run("thread_pool", &[0.5])).changes);
        assert!(
            t.contains("| thread_pool | 100 | wall | 1.000 | 0.500 | 0.500 | ±5% | ▼ better |"),
            "{t}"
        );
    }

    #[test]
    fn failing_requests_are_a_regression_even_when_everything_got_faster() {
        let old = run("thread_pool", &[1.0]);
        let mut failing = run("thread_pool", &[0.1]);
        failing[0].worker.tally.errors = [("connection_refused".to_owned(), 5)].into();
        let c = changes(&old, &failing);
        let errors = c
            .changes
            .iter()
            .find(|c| c.figure == "errors")
            .expect("errors listed");
        assert!(errors.regression_above(1000.0), "{errors:?}");
    }

    #[test]
    fn a_figure_where_more_is_better_regresses_when_it_falls() {
        let halved = Change {
            strategy: "thread_pool".into(),
            varied: None,
            concurrency: 100,
            figure: "throughput",
            better: Better::Higher,
            old: 1000.0,
            new: 500.0,
            ratio: 0.5,
            noise: NOISE_FLOOR,
        };
        assert!(halved.worse() && halved.regression_above(50.0));
        assert!(!halved.regression_above(150.0));
        let doubled = Change {
            new: 2000.0,
            ratio: 2.0,
            ..halved.clone()
        };
        assert!(doubled.flagged() && !doubled.worse() && !doubled.regression_above(0.0));
    }

    #[test]
    fn a_run_varying_a_setting_pairs_every_cell_with_its_own_value() {
        use mock_server::FaultKind;
        // A faults run: the same strategy and C under no fault and under 1% resets; in NEW
        // only the reset cell is slower.
        let faulted = |wall: f64, fault: Option<FaultKind>| {
            let mut r = measured("thread_pool", 100, wall, 10 << 20);
            r.point.settings.fault.fault = fault;
            r.point.settings.fault.fault_p = if fault.is_some() { 0.01 } else { 0.0 };
            r
        };
        let old = vec![faulted(1.0, None), faulted(1.0, Some(FaultKind::Reset))];
        let new = vec![faulted(1.0, None), faulted(2.0, Some(FaultKind::Reset))];
        let comparison = changes(&old, &new);
        assert!(comparison.lost.is_empty() && comparison.different.is_empty());
        let walls: Vec<_> = comparison
            .changes
            .iter()
            .filter(|c| c.figure == "wall")
            .map(|c| (c.varied.clone().unwrap_or_default(), c.ratio))
            .collect();
        assert_eq!(walls.len(), 2, "{walls:?}");
        assert!(walls.contains(&("none".into(), 1.0)), "{walls:?}");
        assert!(walls.contains(&("reset 1%".into(), 2.0)), "{walls:?}");
    }
}

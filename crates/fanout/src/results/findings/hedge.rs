//! What hedging bought per model in a run that varies the hedge delay: the deepest cut of
//! p99.9 within a load budget with no request failed, and the storm — the most extra load any
//! delay sent.

use super::super::figures::{HEDGE_EXTRA, P999};
use super::super::report::PointReport;
use super::super::statistics::{Cell, cells, varied_knob};
use crate::model::knob::Knob;
use crate::planning::catalog;

/// The extra load, in percent of N, within which a cut counts (Dean and Barroso's bound for
/// hedging after the p95).
pub const BUDGET_PCT: f64 = 5.0;

/// One strategy's hedging: its p99.9 unhedged, its best hedge within [`BUDGET_PCT`], and its
/// storm. Medians of the repeats.
#[derive(Debug, Clone, PartialEq)]
pub struct HedgeFinding {
    /// The strategy.
    pub strategy: &'static str,
    /// p99.9 without hedging, ms.
    pub unhedged_ms: f64,
    /// The lowest p99.9 of a hedge delay within the budget that failed no request, if any:
    /// the delay as shown, its p99.9 in ms and its extra load in percent.
    pub best: Option<(String, f64, f64)>,
    /// The hedge delay that sent the most extra requests, and how many, in percent of N.
    pub storm: (String, f64),
}

/// Each strategy's hedging finding, where the points vary the hedge delay.
pub fn of(points: &[PointReport]) -> Vec<HedgeFinding> {
    if varied_knob(points) != Some(Knob::HedgeAfter) {
        return Vec::new();
    }
    let cells = cells(points);
    let median =
        |c: &Cell<'_>, f: &super::super::figures::Figure| f.spread(c, points).map(|s| s.median);
    catalog::present(points.iter().map(|r| &r.point))
        .into_iter()
        .filter_map(|subject| {
            let mine: Vec<&Cell<'_>> = cells
                .iter()
                .filter(|c| c.strategy == subject.name && !c.measured.is_empty())
                .collect();
            let unhedged = mine.iter().find(|c| c.varied == Some(0))?;
            let hedged = || mine.iter().filter(|c| c.varied.is_some_and(|v| v > 0));
            let shown = |c: &Cell<'_>| Knob::HedgeAfter.show(c.varied.unwrap_or(0));
            let failed = |c: &Cell<'_>| {
                c.spread(|r| r.error_count() as f64)
                    .map_or(0.0, |s| s.median)
            };
            let best = hedged()
                .filter_map(|c| Some((c, median(c, &P999)?, median(c, &HEDGE_EXTRA)?)))
                .filter(|(c, _, extra)| *extra <= BUDGET_PCT && failed(c) == 0.0)
                .min_by(|a, b| a.1.total_cmp(&b.1))
                .map(|(c, p999, extra)| (shown(c), p999, extra));
            let storm = hedged()
                .filter_map(|c| Some((shown(c), median(c, &HEDGE_EXTRA)?)))
                .max_by(|a, b| a.1.total_cmp(&b.1))?;
            Some(HedgeFinding {
                strategy: subject.name,
                unhedged_ms: median(unhedged, &P999)?,
                best,
                storm,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::results::report::fixtures::measured;

    /// A point of `strategy` at C = 1,000, N = 5,000, hedged after `after_ms` (0: none): its
    /// p99.9, hedges sent and requests failed.
    fn hedged_point(
        strategy: &str,
        after_ms: u64,
        p999: f64,
        sent: u64,
        failed: u64,
    ) -> PointReport {
        let mut r = measured(strategy, 1_000, 1.0, 1);
        r.point.requests = 5_000;
        Knob::HedgeAfter.set(&mut r.point.settings, after_ms);
        let tally = &mut r.worker.tally;
        tally.ok = 5_000 - failed;
        if failed > 0 {
            tally.errors.insert("connection_reset".to_owned(), failed);
        }
        tally.latency_ms.p999 = p999;
        tally.hedges.sent = sent;
        r
    }

    #[test]
    fn the_best_cut_stays_within_the_budget_and_fails_nothing() {
        let points = vec![
            hedged_point("async_raw", 0, 5_000.0, 0, 0),
            // The deepest cut, but 60% more requests: the storm, not the best.
            hedged_point("async_raw", 110, 250.0, 3_000, 0),
            hedged_point("async_raw", 150, 260.0, 150, 0),
            // Cheaper and lower still, but it failed requests.
            hedged_point("async_raw", 200, 255.0, 60, 7),
            hedged_point("async_raw", 300, 410.0, 65, 0),
        ];
        let found = of(&points);
        assert_eq!(found.len(), 1, "{found:?}");
        let f = &found[0];
        assert_eq!(f.unhedged_ms, 5_000.0);
        assert_eq!(f.best, Some(("150 ms".to_owned(), 260.0, 3.0)));
        assert_eq!(f.storm, ("110 ms".to_owned(), 60.0));
    }
}

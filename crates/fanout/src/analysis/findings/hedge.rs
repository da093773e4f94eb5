//! What hedging bought per model in a run that varies the hedge delay: each delay's p99.9,
//! extra load and failures, its frontier, the deepest cut of p99.9 within a load budget with
//! no request failed, and the storm — the most extra load any delay sent.

use serde::{Deserialize, Serialize};

use crate::analysis::figures::{Figure, HEDGE_EXTRA, P999};
use crate::analysis::statistics::{Cell, cells, varied_knob};
use crate::model::knob::{HedgeAt, Knob, Varied};
use crate::model::subject::Subject;
use crate::planning::catalog;
use crate::record::report::PointReport;

/// The extra load, in percent of N, within which a cut counts (Dean and Barroso's bound for
/// hedging after the p95).
pub const BUDGET_PCT: f64 = 5.0;

/// One hedge delay of a strategy, medians of the repeats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HedgePoint {
    /// The delay as shown (`150 ms`, `p95`).
    pub after: String,
    /// p99.9 of the requests that succeeded, ms.
    pub p999_ms: f64,
    /// Hedges sent, in percent of N.
    pub extra_pct: f64,
    /// Requests failed.
    pub failed: f64,
}

/// One strategy's hedging: its p99.9 unhedged, each hedge delay, its best hedge within
/// [`BUDGET_PCT`], and its storm. Medians of the repeats.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HedgeFinding {
    /// The strategy.
    pub strategy: &'static Subject,
    /// p99.9 without hedging, ms.
    pub unhedged_ms: f64,
    /// Each hedge delay measured, by extra load.
    pub points: Vec<HedgePoint>,
    /// The lowest p99.9 of a hedge delay within the budget that failed no request, if any:
    /// the delay as shown, its p99.9 in ms and its extra load in percent.
    pub best: Option<(String, f64, f64)>,
    /// The hedge delay that sent the most extra requests, and how many, in percent of N.
    pub storm: (String, f64),
}

impl HedgeFinding {
    /// Whether `p` is on the frontier: it failed no request, and no other delay of the model
    /// that failed none is as cheap and as low, and cheaper or lower. A point that failed
    /// requests never is: its tail is of the requests that survived.
    pub fn on_frontier(&self, p: &HedgePoint) -> bool {
        let clean = |q: &&HedgePoint| q.failed == 0.0;
        clean(&p)
            && !self.points.iter().filter(clean).any(|q| {
                q.extra_pct <= p.extra_pct
                    && q.p999_ms <= p.p999_ms
                    && (q.extra_pct < p.extra_pct || q.p999_ms < p.p999_ms)
            })
    }
}

/// Each strategy's hedging finding, where the points vary the hedge delay.
pub fn of(points: &[PointReport]) -> Vec<HedgeFinding> {
    if varied_knob(points) != Some(Knob::HedgeAfter) {
        return Vec::new();
    }
    let cells = cells(points);
    let median = |c: &Cell<'_>, f: &Figure| f.spread(c, points).map(|s| s.median);
    catalog::present(points.iter().map(|r| &r.point))
        .into_iter()
        .filter_map(|subject| {
            let mine: Vec<&Cell<'_>> = cells
                .iter()
                .filter(|c| c.key.strategy == subject.name && !c.measured.is_empty())
                .collect();
            let never = Varied::HedgeAfter(HedgeAt::Never);
            let unhedged = mine.iter().find(|c| c.key.varied == Some(never))?;
            let mut hedged: Vec<HedgePoint> = mine
                .iter()
                .filter(|c| c.key.varied.is_some_and(|v| v != never))
                .filter_map(|c| {
                    Some(HedgePoint {
                        after: c.key.varied?.show(),
                        p999_ms: median(c, &P999)?,
                        extra_pct: median(c, &HEDGE_EXTRA)?,
                        failed: c.spread(|r| r.error_count() as f64)?.median,
                    })
                })
                .collect();
            hedged.sort_by(|a, b| a.extra_pct.total_cmp(&b.extra_pct));
            let best = hedged
                .iter()
                .filter(|p| p.extra_pct <= BUDGET_PCT && p.failed == 0.0)
                .min_by(|a, b| a.p999_ms.total_cmp(&b.p999_ms))
                .map(|p| (p.after.clone(), p.p999_ms, p.extra_pct));
            let storm = hedged
                .iter()
                .max_by(|a, b| a.extra_pct.total_cmp(&b.extra_pct))
                .map(|p| (p.after.clone(), p.extra_pct))?;
            Some(HedgeFinding {
                strategy: subject,
                unhedged_ms: median(unhedged, &P999)?,
                points: hedged,
                best,
                storm,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::report::fixtures::measured;

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
        let at = if after_ms == 0 {
            HedgeAt::Never
        } else {
            HedgeAt::Ms(after_ms)
        };
        r.point.vary(Varied::HedgeAfter(at));
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
        // On the frontier, by extra load: 300 ms (the cheapest), 150 ms, 110 ms (the lowest);
        // not 200 ms, cheaper and lower still, for it failed requests.
        let frontier: Vec<&str> = f
            .points
            .iter()
            .filter(|p| f.on_frontier(p))
            .map(|p| p.after.as_str())
            .collect();
        assert_eq!(frontier, ["300 ms", "150 ms", "110 ms"], "{f:?}");
    }
}

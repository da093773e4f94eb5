//! Everything one run folder's points say, computed once: the folder's `findings.json`, which
//! its `summary.md` and the blocks of `fanout docs` read instead of working it out again. The
//! answer, which sets several folders side by side, is the one finding made across folders.

use serde::{Deserialize, Serialize};

use super::answer::{self, Decision};
use super::faults::{self, BurstOutcome, FaultsFinding};
use super::hedge::{self, HedgeFinding};
use super::knee::{self, Knee};
use super::overload::{self, PastWalls};
use super::reach::{self, AtLargest, Reach};
use super::verdict::{self, Verdict};
use crate::analysis::statistics::varied_knob;
use crate::model::knob::Knob;
use crate::model::subject::Subject;
use crate::record::report::PointReport;

/// A run folder's findings. A finding that does not apply to the run (knees on a run at one
/// rate, faults where none was asked for) is empty.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Findings {
    /// The fastest and slowest, leanest and heaviest, at each C (and varied value).
    pub verdict: Verdict,
    /// Where each strategy's queue starts, on a run that varies the offered rate.
    pub knees: Vec<Knee>,
    /// How far each strategy carried C, and what stopped it.
    pub reach: Vec<Reach>,
    /// What each strategy cost at the largest C it carried.
    pub at_largest: Vec<AtLargest>,
    /// How far apart the strategies' walls are at 1,000 and 10,000, and each pitfall's cost.
    pub decision: Decision,
    /// What the injected faults did, over every faulted point.
    pub faults: Option<FaultsFinding>,
    /// On a run with stalls: each strategy's outcome in each of its repeats.
    pub burst: Vec<(&'static Subject, Vec<BurstOutcome>)>,
    /// What hedging bought each strategy, on a run that varies the hedge delay.
    pub hedge: Vec<HedgeFinding>,
    /// How each strategy took a ramp past what it can hold.
    pub past_walls: Option<PastWalls>,
}

/// The findings of `points`, one run folder's.
pub fn of(points: &[PointReport]) -> Findings {
    Findings {
        verdict: verdict::of(points),
        knees: if varied_knob(points) == Some(Knob::Rate) {
            knee::knees(points)
        } else {
            Vec::new()
        },
        reach: reach::all(points),
        at_largest: reach::at_largest(points),
        decision: answer::decision(points),
        faults: faults::finding(points),
        burst: faults::burst(points),
        hedge: hedge::of(points),
        past_walls: overload::past_walls(points),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::report::fixtures::measured;

    #[test]
    fn findings_read_back_from_json_as_they_were_written() {
        let points = [
            measured("thread_pool", 100, 1.0, 8 << 20),
            measured("async_semaphore", 100, 0.5, 4 << 20),
            measured("thread_pool", 1_000, 2.0, 16 << 20),
        ];
        let findings = of(&points);
        assert!(!findings.verdict.at.is_empty(), "two strategies at C = 100");
        assert!(findings.faults.is_none() && findings.knees.is_empty());
        let json = serde_json::to_string_pretty(&findings).expect("serializes");
        let back: Findings = serde_json::from_str(&json).expect("reads back");
        assert_eq!(back, findings);
    }
}

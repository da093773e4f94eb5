//! Whether the client's own kernel bill, fitted over C from its cgroup, agrees with the floors
//! measured the same way before the points: a parked thread and an idle connection's client
//! end, each in a cgroup of its own.

use super::answer::models;
use crate::analysis::statistics::WhereBytesGo;
use crate::model::subject::{HeldBy, RunsOn};
use crate::record::report::PointReport;

/// How far two figures may differ and still agree, as a share of the floor.
pub const AGREEMENT: f64 = 0.2;

/// One strategy's fitted own kernel memory per request in flight beside its floor, bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct OwnBillCheck {
    /// The strategy.
    pub strategy: &'static str,
    /// What one more request in flight adds to the worker's cgroup's kernel memory (fitted).
    pub fitted: f64,
    /// The floor of what it holds per request, measured the same way.
    pub floor: f64,
    /// What the floor is made of.
    pub floor_is: &'static str,
}

impl OwnBillCheck {
    /// Whether the two agree within [`AGREEMENT`].
    pub fn agrees(&self) -> bool {
        (self.fitted - self.floor).abs() <= AGREEMENT * self.floor
    }
}

/// The check for the OS threads' floor (a thread and a socket per request) and tokio's floor
/// (a socket per request; the first floor held by a task on tokio, HTTP/1.1's) among `points`,
/// against a parked thread's own kernel memory and an idle connection's client end (bytes);
/// a floor without a fitted cgroup slope is left out.
pub fn check(points: &[PointReport], thread_own: f64, client_end: f64) -> Vec<OwnBillCheck> {
    let floors = models();
    let thread = floors.iter().find(|m| m.floor.held_by == HeldBy::Thread);
    let task = floors
        .iter()
        .find(|m| m.floor.held_by == HeldBy::Task && m.floor.runs_on == RunsOn::Tokio);
    [
        (
            thread,
            thread_own + client_end,
            "a parked thread + an idle connection's client end",
        ),
        (task, client_end, "an idle connection's client end"),
    ]
    .into_iter()
    .filter_map(|(model, floor, floor_is)| {
        let strategy = model?.floor.name;
        Some(OwnBillCheck {
            strategy,
            fitted: WhereBytesGo::of(points, strategy).client_kernel?.slope,
            floor,
            floor_is,
        })
    })
    .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fit_agrees_with_its_floor_within_a_fifth_of_it() {
        let at = |fitted| OwnBillCheck {
            strategy: "a floor",
            fitted,
            floor: 3_000.0,
            floor_is: "",
        };
        assert!(at(3_500.0).agrees());
        assert!(at(2_400.0).agrees());
        assert!(!at(3_700.0).agrees());
        assert!(check(&[], 27_000.0, 3_800.0).is_empty(), "nothing fitted");
    }
}

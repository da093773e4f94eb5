//! Findings: what a run's points say, as typed values — the verdict, the knees, overload and
//! recovery, what an injected fault did, what hedging bought, how far each strategy carried,
//! the decision and the answer — computed here and only formatted by the writers of
//! `crate::results` (`render`, `docs_text`, `overload_table`, the charts).

pub mod answer;
pub mod faults;
pub mod folder;
pub mod hedge;
pub mod knee;
pub mod overload;
pub mod own_bill;
pub mod reach;
pub mod verdict;

use serde::{Deserialize, Serialize};

use crate::model::subject::{Holds, Subject};
use crate::record::report::PointReport;

/// The one rule of "its queue has started": a p99 (from the due time) above twice the mean
/// delay, or requests dropped. The knees and the overload seconds both use it.
pub fn over_the_delay(p99_ms: f64, dropped: u64, delay_ms: f64) -> bool {
    p99_ms > 2.0 * delay_ms || dropped > 0
}

/// Little's capacity of `r`'s strategy, requests per second: what it holds in flight by
/// design over the mean delay; `None` for a strategy with no bound by design (the unbounded
/// pitfall holds whatever arrives, so its T grows with the offered rate until a wall stops it).
pub fn capacity(r: &PointReport) -> Option<f64> {
    (r.point.strategy.holds != Holds::All)
        .then(|| r.point.in_flight() as f64 / (r.point.delay().mean_ms() / 1000.0))
        // No delay bounds no rate: unbounded too (and JSON has no infinity).
        .filter(|c| c.is_finite())
}

/// A strategy and its median of a figure.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Ranked {
    /// The strategy.
    pub strategy: &'static Subject,
    /// Its median (`null` in JSON where the figure was not recorded).
    #[serde(with = "nan_as_null")]
    pub median: f64,
}

/// An `f64` that may be NaN (a figure not recorded), written as JSON's `null` and read back
/// as NaN: JSON has no NaN.
pub mod nan_as_null {
    use serde::{Deserialize, Deserializer, Serializer};

    /// NaN as `null`, any other value as itself.
    pub fn serialize<S: Serializer>(value: &f64, s: S) -> Result<S::Ok, S::Error> {
        if value.is_nan() {
            s.serialize_none()
        } else {
            s.serialize_f64(*value)
        }
    }

    /// `null` as NaN.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_queue_has_started_past_twice_the_delay_or_at_the_first_drop() {
        assert!(!over_the_delay(200.0, 0, 100.0));
        assert!(over_the_delay(200.1, 0, 100.0));
        assert!(over_the_delay(10.0, 1, 100.0));
    }
}

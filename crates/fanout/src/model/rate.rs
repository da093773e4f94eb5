//! An open-loop rate (`--rate`): constant (`1000`), or a ramp through rates evenly spaced in
//! time, linear between them (`500..2000`, `500..2000..500`: rising into overload and falling
//! back). In a point's JSON a constant rate is a number, a ramp the list of its rates.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// The most requests per second a rate may ask for.
pub const MOST_RATE: f64 = 1e6;

/// Requests falling due per second over a point's run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RateProfile {
    /// The same rate throughout.
    Constant(f64),
    /// Through these rates (two or more), evenly spaced over the run, linear between them.
    Ramp(Vec<f64>),
}

impl RateProfile {
    /// Parses `R` or `A..B[..C…]`: each a number of requests per second above 0, at most
    /// [`MOST_RATE`].
    pub fn parse(raw: &str) -> Result<Self, String> {
        let bad = || {
            "must be a number of requests per second above 0, at most 1000000, or a ramp A..B[..C] of them"
                .to_owned()
        };
        let rates = raw
            .split("..")
            .map(|r| {
                r.trim()
                    .parse::<f64>()
                    .ok()
                    .filter(|r| r.is_finite() && *r > 0.0 && *r <= MOST_RATE)
            })
            .collect::<Option<Vec<f64>>>()
            .ok_or_else(bad)?;
        Ok(match rates.as_slice() {
            [] => return Err(bad()),
            [rate] => Self::Constant(*rate),
            _ => Self::Ramp(rates),
        })
    }

    /// The rates it passes through, in order (one for a constant rate).
    pub fn knots(&self) -> &[f64] {
        match self {
            Self::Constant(rate) => std::slice::from_ref(rate),
            Self::Ramp(rates) => rates,
        }
    }

    /// Its mean rate over the run: the mean of its segments' means.
    pub fn mean(&self) -> f64 {
        let k = self.knots();
        match k.len() {
            1 => k[0],
            n => k.windows(2).map(|w| (w[0] + w[1]) / 2.0).sum::<f64>() / (n - 1) as f64,
        }
    }

    /// The highest rate it reaches.
    pub fn peak(&self) -> f64 {
        self.knots().iter().copied().fold(0.0, f64::max)
    }

    /// The run's length for `requests` requests at this profile, seconds: N / mean rate.
    pub fn span_s(&self, requests: usize) -> f64 {
        requests as f64 / self.mean()
    }

    /// The rate asked for `t_s` seconds into a run of `requests` (the last rate past its end).
    pub fn at(&self, t_s: f64, requests: usize) -> f64 {
        let k = self.knots();
        if k.len() == 1 {
            return k[0];
        }
        let segment = self.span_s(requests) / (k.len() - 1) as f64;
        let j = ((t_s / segment).floor().max(0.0) as usize).min(k.len() - 2);
        let into = ((t_s - j as f64 * segment) / segment).clamp(0.0, 1.0);
        k[j] + (k[j + 1] - k[j]) * into
    }

    /// When, after the first, a request falls due whose place in the schedule is `count`
    /// (request i's is i for evenly spaced arrivals; a Poisson process's, the sum of i unit
    /// exponential gaps): the inverse of the profile's cumulative count, over a run of
    /// `requests`. Past the run's end the last rate goes on.
    pub fn due_after_first(&self, count: f64, requests: usize) -> Duration {
        let k = self.knots();
        if k.len() == 1 {
            return Duration::from_secs_f64(count / k[0]);
        }
        let segment = self.span_s(requests) / (k.len() - 1) as f64;
        let (mut left, mut t) = (count, 0.0);
        for w in k.windows(2) {
            let (r0, r1) = (w[0], w[1]);
            let in_segment = (r0 + r1) / 2.0 * segment;
            if left <= in_segment {
                // r0·τ + (r1 − r0)·τ² / (2·segment) = left, for τ in the segment.
                let a = (r1 - r0) / (2.0 * segment);
                let tau = if a.abs() < 1e-12 {
                    left / r0
                } else {
                    (-r0 + (r0 * r0 + 4.0 * a * left).sqrt()) / (2.0 * a)
                };
                return Duration::from_secs_f64(t + tau);
            }
            left -= in_segment;
            t += segment;
        }
        Duration::from_secs_f64(t + left / k[k.len() - 1])
    }
}

impl fmt::Display for RateProfile {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let knots: Vec<String> = self.knots().iter().map(|r| format!("{r}")).collect();
        f.write_str(&knots.join(".."))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_and_ramps_parse_and_bad_ones_are_refused() {
        assert_eq!(
            RateProfile::parse("1000"),
            Ok(RateProfile::Constant(1000.0))
        );
        let ramp = RateProfile::parse("500..2000..500").expect("ramp");
        assert_eq!(ramp.knots(), [500.0, 2000.0, 500.0]);
        assert_eq!(ramp.to_string(), "500..2000..500");
        for bad in [
            "", "0", "-5", "abc", "inf", "2000000", "500..", "..500", "500..0",
        ] {
            assert!(RateProfile::parse(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn a_ramp_spends_its_requests_as_its_rate_says() {
        // 100 → 300/s: mean 200/s, so 2,000 requests take 10 s; the first half of the time
        // carries (100 + 200) / 2 · 5 = 750 of them.
        let ramp = RateProfile::Ramp(vec![100.0, 300.0]);
        assert!((ramp.span_s(2_000) - 10.0).abs() < 1e-9);
        let half = ramp.due_after_first(750.0, 2_000).as_secs_f64();
        assert!((half - 5.0).abs() < 1e-6, "{half}");
        let end = ramp.due_after_first(2_000.0, 2_000).as_secs_f64();
        assert!((end - 10.0).abs() < 1e-6, "{end}");
        assert!((ramp.at(5.0, 2_000) - 200.0).abs() < 1e-9);
        // Up and down again: symmetric, the peak at the middle.
        let hill = RateProfile::Ramp(vec![500.0, 2000.0, 500.0]);
        assert_eq!(hill.peak(), 2000.0);
        let middle = hill.due_after_first(6_250.0, 12_500).as_secs_f64();
        assert!(
            (middle - hill.span_s(12_500) / 2.0).abs() < 1e-6,
            "{middle}"
        );
        // A constant rate is i / R.
        let flat = RateProfile::Constant(100.0);
        assert_eq!(flat.due_after_first(3.0, 10), Duration::from_millis(30));
    }

    #[test]
    fn a_constant_rate_is_a_number_in_json_and_a_ramp_a_list() {
        let flat = serde_json::to_string(&RateProfile::Constant(1000.0)).expect("json");
        assert_eq!(flat, "1000.0");
        let ramp: RateProfile = serde_json::from_str("[500, 2000]").expect("ramp");
        assert_eq!(ramp, RateProfile::Ramp(vec![500.0, 2000.0]));
    }
}

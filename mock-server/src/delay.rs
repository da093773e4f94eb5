//! A request's delay as a distribution: D with a uniform spread of ± J, or a lognormal of
//! median D and shape σ. The server draws from it; fanout takes its mean and quantiles for
//! the ideal wall time — the same maths on both sides.

use statrs::distribution::{ContinuousCDF as _, LogNormal};
use statrs::statistics::Distribution as _;

/// The shapes σ a lognormal delay may have: beyond 3 the tail is all there is; below 0.05 it
/// is a fixed delay in all but name.
pub const SIGMA_RANGE: std::ops::RangeInclusive<f64> = 0.05..=3.0;

/// How delays spread around D.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Spread {
    /// D ± a uniform `jitter_ms` (0: every delay is D).
    Uniform {
        /// Half-width of the spread, ms.
        jitter_ms: u64,
    },
    /// Lognormal of median D and shape `sigma`.
    Lognormal {
        /// Shape σ of the delay's logarithm.
        sigma: f64,
    },
}

/// The distribution of a request's delay.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Delay {
    /// D: the fixed delay, the centre of a uniform spread, or a lognormal's median, ms.
    pub delay_ms: u64,
    /// How delays spread around D.
    pub spread: Spread,
}

impl Delay {
    /// A fixed delay of `delay_ms`.
    pub fn fixed(delay_ms: u64) -> Self {
        Self {
            delay_ms,
            spread: Spread::Uniform { jitter_ms: 0 },
        }
    }

    fn lognormal(&self, sigma: f64) -> Option<LogNormal> {
        LogNormal::new((self.delay_ms as f64).ln(), sigma).ok()
    }

    /// One delay drawn from the distribution, whole ms; never below 0.
    pub fn sample_ms(&self) -> u64 {
        let d = self.delay_ms;
        match self.spread {
            Spread::Uniform { jitter_ms: 0 } => d,
            Spread::Uniform { jitter_ms } => {
                let offset = fastrand::u64(0..=jitter_ms.saturating_mul(2));
                d.saturating_add(offset).saturating_sub(jitter_ms)
            }
            Spread::Lognormal { sigma } => match self.lognormal(sigma) {
                Some(distribution) if d > 0 => {
                    // Open interval: the quantile of 0 or 1 is not a delay.
                    let u = fastrand::f64().clamp(f64::EPSILON, 1.0 - f64::EPSILON);
                    distribution.inverse_cdf(u).round() as u64
                }
                _ => d,
            },
        }
    }

    /// The mean delay, ms.
    pub fn mean_ms(&self) -> f64 {
        let d = self.delay_ms as f64;
        match self.spread {
            Spread::Uniform { .. } => d,
            Spread::Lognormal { sigma } => {
                self.lognormal(sigma).and_then(|l| l.mean()).unwrap_or(d)
            }
        }
    }

    /// The probability that a delay is at most `t_ms`.
    pub fn cdf(&self, t_ms: f64) -> f64 {
        let d = self.delay_ms as f64;
        match self.spread {
            Spread::Uniform { jitter_ms: 0 } => f64::from(u8::from(t_ms >= d)),
            Spread::Uniform { jitter_ms } => {
                let j = jitter_ms as f64;
                ((t_ms - (d - j)) / (2.0 * j)).clamp(0.0, 1.0)
            }
            Spread::Lognormal { sigma } => match self.lognormal(sigma) {
                Some(l) if d > 0.0 => l.cdf(t_ms.max(0.0)),
                _ => f64::from(u8::from(t_ms >= d)),
            },
        }
    }

    /// The delay not exceeded with probability `p`, ms.
    pub fn quantile_ms(&self, p: f64) -> f64 {
        let d = self.delay_ms as f64;
        match self.spread {
            Spread::Uniform { jitter_ms } => {
                let j = jitter_ms as f64;
                d - j + 2.0 * j * p
            }
            Spread::Lognormal { sigma } => self.lognormal(sigma).map_or(d, |l| l.inverse_cdf(p)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lognormal_delays_have_the_median_and_spread_asked_for() {
        let delay = Delay {
            delay_ms: 100,
            spread: Spread::Lognormal { sigma: 1.0 },
        };
        let mut draws: Vec<u64> = (0..20_000).map(|_| delay.sample_ms()).collect();
        draws.sort_unstable();
        let median = draws[draws.len() / 2] as f64;
        assert!((90.0..=110.0).contains(&median), "median {median}");
        // The 99th percentile of a lognormal of σ = 1 is the median × e^2.326 ≈ 10.2×.
        let p99 = draws[draws.len() * 99 / 100] as f64;
        assert!((800.0..=1300.0).contains(&p99), "p99 {p99}");
        assert!((delay.quantile_ms(0.99) / 1023.0 - 1.0).abs() < 0.01);
        assert!(
            (delay.mean_ms() / 164.87 - 1.0).abs() < 0.01,
            "mean e^(σ²/2)·D"
        );
        let zero = Delay {
            delay_ms: 0,
            ..delay
        };
        assert_eq!(zero.sample_ms(), 0);
    }

    #[test]
    fn uniform_delays_stay_within_the_spread_and_never_below_zero() {
        let delay = Delay {
            delay_ms: 10,
            spread: Spread::Uniform { jitter_ms: 10 },
        };
        let draws: Vec<u64> = (0..5_000).map(|_| delay.sample_ms()).collect();
        assert!(draws.iter().all(|&d| d <= 20));
        assert!(
            draws.contains(&0) && draws.contains(&20),
            "both ends are drawn"
        );
        assert_eq!(delay.quantile_ms(0.5), 10.0);
        assert_eq!(delay.quantile_ms(1.0), 20.0);
        assert_eq!(Delay::fixed(7).sample_ms(), 7);
    }
}

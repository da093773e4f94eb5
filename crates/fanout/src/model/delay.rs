//! The distribution of a point's server delays, with the two figures ideal wall times use.

/// A distribution of server delays, with the two figures ideal wall times use.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Delay {
    /// Uniform from `low_ms` to `high_ms` (a point delay when they are equal).
    Uniform {
        /// Shortest delay.
        low_ms: f64,
        /// Longest delay.
        high_ms: f64,
    },
    /// Lognormal of median `median_ms` and shape `sigma`.
    Lognormal {
        /// Median delay.
        median_ms: f64,
        /// Shape σ (of the delay's logarithm).
        sigma: f64,
    },
}

impl Delay {
    fn lognormal(median_ms: f64, sigma: f64) -> Option<statrs::distribution::LogNormal> {
        statrs::distribution::LogNormal::new(median_ms.ln(), sigma).ok()
    }

    /// Mean delay, ms.
    pub fn mean_ms(&self) -> f64 {
        use statrs::statistics::Distribution as _;
        match *self {
            Self::Uniform { low_ms, high_ms } => (low_ms + high_ms) / 2.0,
            Self::Lognormal { median_ms, sigma } => Self::lognormal(median_ms, sigma)
                .and_then(|d| d.mean())
                .unwrap_or(median_ms),
        }
    }

    /// The delay not exceeded with probability `p`, ms.
    pub fn quantile_ms(&self, p: f64) -> f64 {
        use statrs::distribution::ContinuousCDF as _;
        match *self {
            Self::Uniform { low_ms, high_ms } => low_ms + (high_ms - low_ms) * p,
            Self::Lognormal { median_ms, sigma } => {
                Self::lognormal(median_ms, sigma).map_or(median_ms, |d| d.inverse_cdf(p))
            }
        }
    }
}

//! A paired comparison of two builds or settings (`fanout ab`): per point and figure, the
//! ratio NEW / OLD of each round — both sides measured back to back in that round, so the
//! machine's drift between rounds cancels — summarised as the geometric mean of the rounds'
//! ratios with a bootstrap confidence interval, and a verdict only where that interval lies
//! wholly beyond a stated threshold of no change.

/// What a comparison concluded for one point and figure.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// The interval lies wholly above 1 + threshold.
    Up,
    /// The interval lies wholly below 1 / (1 + threshold).
    Down,
    /// Neither: no change can be told at this threshold from these rounds.
    Unclear,
}

/// The rounds' ratios of one point and figure, summarised.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Paired {
    /// Rounds with both sides measured.
    pub rounds: usize,
    /// The geometric mean of the rounds' NEW / OLD ratios.
    pub ratio: f64,
    /// The bootstrap confidence interval of that mean, low and high.
    pub low: f64,
    /// See `low`.
    pub high: f64,
    /// What the interval says at the threshold.
    pub verdict: Verdict,
}

/// How a comparison is summarised.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Test {
    /// The change below which no verdict is given: 0.02 is 2%.
    pub threshold: f64,
    /// The interval's confidence: 0.95.
    pub confidence: f64,
    /// Bootstrap resamples.
    pub resamples: usize,
    /// The resampling's seed, so a comparison redraws the same.
    pub seed: u64,
}

impl Default for Test {
    fn default() -> Self {
        Self {
            threshold: 0.02,
            confidence: 0.95,
            resamples: 10_000,
            seed: 0x00fa_4007,
        }
    }
}

impl Test {
    /// `pairs` of (OLD, NEW) figures, one per round, summarised; `None` with fewer than two
    /// usable rounds (a round whose OLD figure is not above 0 cannot give a ratio).
    pub fn compare(&self, pairs: &[(f64, f64)]) -> Option<Paired> {
        let logs: Vec<f64> = pairs
            .iter()
            .filter(|(old, new)| *old > 0.0 && *new > 0.0)
            .map(|(old, new)| (new / old).ln())
            .collect();
        if logs.len() < 2 {
            return None;
        }
        let mean = |xs: &[f64]| xs.iter().sum::<f64>() / xs.len() as f64;
        let mut rng = fastrand::Rng::with_seed(self.seed);
        let mut means: Vec<f64> = (0..self.resamples)
            .map(|_| {
                let total: f64 = (0..logs.len()).map(|_| logs[rng.usize(..logs.len())]).sum();
                total / logs.len() as f64
            })
            .collect();
        means.sort_by(f64::total_cmp);
        let tail = (1.0 - self.confidence) / 2.0;
        let at =
            |q: f64| means[((q * (means.len() - 1) as f64).round() as usize).min(means.len() - 1)];
        let (low, high) = (at(tail).exp(), at(1.0 - tail).exp());
        let beyond = 1.0 + self.threshold;
        let verdict = if low > beyond {
            Verdict::Up
        } else if high < 1.0 / beyond {
            Verdict::Down
        } else {
            Verdict::Unclear
        };
        Some(Paired {
            rounds: logs.len(),
            ratio: mean(&logs).exp(),
            low,
            high,
            verdict,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `n` rounds of (OLD, NEW) with NEW = OLD × `shift`, each side wobbling by up to
    /// `noise` (a fixed pseudo-random sequence).
    fn rounds(n: usize, shift: f64, noise: f64, seed: u64) -> Vec<(f64, f64)> {
        let mut rng = fastrand::Rng::with_seed(seed);
        let mut wobble = || 1.0 + noise * (2.0 * rng.f64() - 1.0);
        (0..n)
            .map(|_| (100.0 * wobble(), 100.0 * shift * wobble()))
            .collect()
    }

    #[test]
    fn a_shift_well_beyond_the_noise_and_threshold_gets_a_verdict_and_none_does_not() {
        let test = Test::default();
        let slower = test.compare(&rounds(20, 1.10, 0.03, 1)).expect("rounds");
        assert_eq!(slower.verdict, Verdict::Up, "{slower:?}");
        assert!(
            slower.low <= slower.ratio && slower.ratio <= slower.high,
            "{slower:?}"
        );
        assert!((slower.ratio - 1.10).abs() < 0.03, "{slower:?}");
        let faster = test.compare(&rounds(20, 0.90, 0.03, 2)).expect("rounds");
        assert_eq!(faster.verdict, Verdict::Down, "{faster:?}");
        let same = test.compare(&rounds(20, 1.0, 0.03, 3)).expect("rounds");
        assert_eq!(same.verdict, Verdict::Unclear, "{same:?}");
        // A change inside the threshold is no verdict however sure the interval is.
        let tiny = test.compare(&rounds(20, 1.01, 0.0, 4)).expect("rounds");
        assert_eq!(tiny.verdict, Verdict::Unclear, "{tiny:?}");
    }

    #[test]
    fn the_same_rounds_give_the_same_interval_and_too_few_give_none() {
        let test = Test::default();
        let data = rounds(10, 1.05, 0.05, 5);
        assert_eq!(test.compare(&data), test.compare(&data));
        assert_eq!(test.compare(&data[..1]), None);
        assert_eq!(test.compare(&[(0.0, 1.0), (0.0, 2.0)]), None);
    }
}

//! A tail worth cutting: a seeded share of requests served much slower than the rest
//! (`straggler_p=P&straggler_x=X&straggler_seed=S`: the delay drawn, times X, for a share P),
//! the mixture that makes hedging pay ("The Tail at Scale"). The server draws which requests
//! straggle; fanout takes the mixture's mean and quantiles for the ideal wall time — the same
//! maths on both sides, as for the delay itself.

use serde::{Deserialize, Serialize};

use crate::delay::Delay;
use crate::params::{self, BadParam};

/// The largest slow-down a straggler may have.
pub const MAX_X: f64 = 1_000.0;
/// A straggler's slow-down when the request names none.
pub const DEFAULT_X: f64 = 50.0;

/// A share of requests slowed by a factor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Straggler {
    /// The share of requests that straggle, 0–1.
    pub p: f64,
    /// How many times their drawn delay a straggler waits (1–[`MAX_X`]).
    pub x: f64,
    /// The draw's seed: the same seed slows the same request numbers.
    pub seed: u64,
}

impl Straggler {
    /// Its query parameters, each with a leading `&`.
    pub fn to_query(&self) -> String {
        format!(
            "&straggler_p={}&straggler_x={}&straggler_seed={}",
            self.p, self.x, self.seed
        )
    }

    /// The straggler a query asks for (`get` looks a parameter up): none without
    /// `straggler_p`, or with a share of 0.
    pub fn parse<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Option<Self>, BadParam> {
        let Some(raw) = get("straggler_p") else {
            return Ok(None);
        };
        let p = params::number("straggler_p", raw, 0.0, 1.0)?;
        let x = match get("straggler_x") {
            Some(raw) => params::number("straggler_x", raw, 1.0, MAX_X)?,
            None => DEFAULT_X,
        };
        let seed = match get("straggler_seed") {
            Some(raw) => params::integer("straggler_seed", raw, 0, u64::MAX)?,
            None => 0,
        };
        Ok((p > 0.0).then_some(Self { p, x, seed }))
    }

    /// Whether the `n`-th request since the last reset straggles.
    pub fn hits(&self, n: u64) -> bool {
        crate::draw::hits(self.seed, n, self.p)
    }

    /// A delay of `ms` as a straggler serves it.
    pub fn slowed(&self, ms: u64) -> u64 {
        (ms as f64 * self.x).round() as u64
    }
}

/// The delay a request is served with: its distribution, and a straggler share on top.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ServedDelay {
    /// The distribution every request draws from.
    pub base: Delay,
    /// The share slowed, if any.
    pub straggler: Option<Straggler>,
}

impl ServedDelay {
    /// The mean delay, ms: (1 − P) · mean + P · X · mean.
    pub fn mean_ms(&self) -> f64 {
        let mean = self.base.mean_ms();
        self.straggler
            .map_or(mean, |s| mean * (1.0 - s.p + s.p * s.x))
    }

    /// The delay not exceeded with probability `q`, ms: where the mixture's distribution,
    /// (1 − P) · F(t) + P · F(t / X), reaches `q` (found by bisection; without stragglers the
    /// base distribution's own quantile).
    pub fn quantile_ms(&self, q: f64) -> f64 {
        let Some(s) = self.straggler else {
            return self.base.quantile_ms(q);
        };
        let cdf = |t: f64| (1.0 - s.p) * self.base.cdf(t) + s.p * self.base.cdf(t / s.x);
        // The mixture's quantile lies between the base's and X times the base's.
        let (mut lo, mut hi) = (0.0, s.x * self.base.quantile_ms(q.max(1.0 - 1e-9)).max(1.0));
        for _ in 0..80 {
            let mid = (lo + hi) / 2.0;
            if cdf(mid) >= q {
                hi = mid;
            } else {
                lo = mid;
            }
        }
        hi
    }
}

/// The flags of a straggler share, shared by `mock-server` (its default for every `/get`) and
/// `fanout` (a workload setting, sent with every request).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(default)]
pub struct StragglerFlags {
    /// The share of requests served slower, 0–1 (0: none).
    #[arg(long, default_value_t = 0.0, value_parser = parse_share)]
    pub straggler_p: f64,
    /// How many times its drawn delay a straggler waits.
    #[arg(long, default_value_t = DEFAULT_X, value_parser = parse_x)]
    pub straggler_x: f64,
    /// The straggler draw's seed (the same seed slows the same request numbers).
    #[arg(long, default_value_t = 0)]
    pub straggler_seed: u64,
}

impl Default for StragglerFlags {
    fn default() -> Self {
        Self {
            straggler_p: 0.0,
            straggler_x: DEFAULT_X,
            straggler_seed: 0,
        }
    }
}

impl StragglerFlags {
    /// The straggler share these flags ask for, if any.
    pub fn straggler(&self) -> Option<Straggler> {
        (self.straggler_p > 0.0).then_some(Straggler {
            p: self.straggler_p,
            x: self.straggler_x,
            seed: self.straggler_seed,
        })
    }
}

fn parse_share(raw: &str) -> Result<f64, String> {
    params::number("--straggler-p", raw, 0.0, 1.0).map_err(|e| e.to_string())
}

fn parse_x(raw: &str) -> Result<f64, String> {
    params::number("--straggler-x", raw, 1.0, MAX_X).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> Result<Option<Straggler>, BadParam> {
        Straggler::parse(crate::params::lookup_in(query))
    }

    #[test]
    fn a_query_names_its_share_and_slow_down_and_bad_ones_are_refused() {
        let s = Straggler {
            p: 0.01,
            x: 50.0,
            seed: 3,
        };
        assert_eq!(parse(&s.to_query()), Ok(Some(s)));
        assert_eq!(parse("straggler_p=0"), Ok(None));
        assert_eq!(parse("delay_ms=5"), Ok(None));
        assert_eq!(
            parse("straggler_p=0.1").map(|s| s.map(|s| s.x)),
            Ok(Some(DEFAULT_X))
        );
        let bad = parse("straggler_p=1.5").expect_err("outside 0–1");
        assert_eq!(
            bad.to_string(),
            "straggler_p must be a number from 0 to 1, got \"1.5\""
        );
        assert!(
            parse("straggler_p=0.1&straggler_x=0.5").is_err(),
            "a slow-down below 1"
        );
    }

    #[test]
    fn the_mixture_quantile_jumps_to_the_stragglers_past_their_share() {
        let served = ServedDelay {
            base: Delay::fixed(100),
            straggler: Some(Straggler {
                p: 0.01,
                x: 50.0,
                seed: 0,
            }),
        };
        assert!(
            (served.mean_ms() - 149.0).abs() < 1e-9,
            "0.99·100 + 0.01·5000"
        );
        assert!((served.quantile_ms(0.98) - 100.0).abs() < 0.01);
        assert!((served.quantile_ms(0.995) - 5_000.0).abs() < 0.01);
        let plain = ServedDelay {
            straggler: None,
            ..served
        };
        assert_eq!(plain.quantile_ms(0.995), 100.0);
    }
}

//! A point's workload and its defaults: requests N, server delay D, timeout, thread stacks.
//!
//! The rule for defaults keeps the offered load C/D at most [`OFFERED_RPS_CAP`] requests per
//! second, well below what this kind of 2-core machine serves (tens of thousands per second,
//! shared by client and server), so a point measures the concurrency model, not CPU
//! saturation: D = max(100 ms, C / 5,000 s). N = 2·C, so each point has a ramp-up round and a
//! steady round.

use std::time::Duration;

use serde::{Deserialize, Serialize};

use crate::job::Job;
use crate::strategies::Strategy;

/// The rule for default workloads, in words (for `--help`, `SETUP.md` and the README).
pub const RULE: &str = "N = 2·C; D = max(100 ms, C / 5,000 s), so the offered load C/D \
stays at or below 5,000 requests/s — well under what a 2-core machine serves — and a point \
measures the concurrency model, not CPU saturation.";

/// Default requests per in-flight slot: N = K·C.
pub const REQUESTS_PER_SLOT: usize = 2;
/// Offered load, C/D, that default delays never exceed.
pub const OFFERED_RPS_CAP: u64 = 5_000;
/// Shortest default delay.
pub const MIN_DELAY_MS: u64 = 100;
/// Default per-request timeout.
pub const DEFAULT_TIMEOUT_MS: u64 = 30_000;
/// Default stack of threads spawned per request or pool slot: Rust's own default (2 MiB),
/// which is reserved address space; only the pages a thread touches become resident.
pub const DEFAULT_STACK_KIB: usize = 2048;
/// Response body size asked of the server.
pub const DEFAULT_BODY_BYTES: usize = 32;

/// The default delay for concurrency C: max(100 ms, C / 5,000 s), in ms.
pub fn default_delay_ms(concurrency: usize) -> u64 {
    let per_cap = (concurrency as u64 * 1000).div_ceil(OFFERED_RPS_CAP);
    per_cap.max(MIN_DELAY_MS)
}

/// One measured point: a strategy and its workload.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// Strategy name.
    pub strategy: String,
    /// Requests in flight (C).
    pub concurrency: usize,
    /// Requests in all (N).
    pub requests: usize,
    /// Server delay per request (D), ms.
    pub delay_ms: u64,
    /// Per-request timeout, ms.
    pub timeout_ms: u64,
    /// Response body size, bytes.
    pub body_bytes: usize,
    /// Stack of threads spawned by thread strategies, KiB.
    pub stack_kib: usize,
    /// Worker threads of multi-thread tokio runtimes.
    pub tokio_workers: usize,
}

impl Point {
    /// A point with every default applied for `strategy` at concurrency C.
    pub fn new(strategy: &str, concurrency: usize) -> Self {
        Self {
            strategy: strategy.to_owned(),
            concurrency,
            requests: REQUESTS_PER_SLOT * concurrency,
            delay_ms: default_delay_ms(concurrency),
            timeout_ms: DEFAULT_TIMEOUT_MS,
            body_bytes: DEFAULT_BODY_BYTES,
            stack_kib: DEFAULT_STACK_KIB,
            tokio_workers: cores(),
        }
    }

    /// Ideal wall time: ceil(N/C) × D.
    pub fn ideal_s(&self) -> f64 {
        let rounds = self.requests.div_ceil(self.concurrency.max(1));
        rounds as f64 * self.delay_ms as f64 / 1000.0
    }

    /// The shortest wall time `strategy` can take here, given what it holds in flight by
    /// design: ceil(N / in-flight) × D. Used to skip points that cannot finish in time.
    pub fn least_wall_s(&self, strategy: &Strategy) -> f64 {
        let in_flight = strategy.in_flight.of(&self.job(""));
        let rounds = self.requests.div_ceil(in_flight);
        rounds as f64 * self.delay_ms as f64 / 1000.0
    }

    /// Why `strategy` cannot run this point within `limit`, if it cannot: it needs at least
    /// [`Point::least_wall_s`] by design.
    pub fn too_slow(&self, strategy: &Strategy, limit: Duration) -> Option<String> {
        let least = self.least_wall_s(strategy);
        (least > limit.as_secs_f64()).then(|| {
            format!(
                "needs at least {least:.0} s (ceil(N / {} in flight) × D), above the {} s limit",
                strategy.in_flight.of(&self.job("")),
                limit.as_secs()
            )
        })
    }

    /// The job a worker runs for this point against `base_url` (no trailing slash).
    pub fn job(&self, base_url: &str) -> Job {
        Job {
            url: format!(
                "{base_url}/get?delay_ms={}&bytes={}",
                self.delay_ms, self.body_bytes
            ),
            concurrency: self.concurrency,
            requests: self.requests,
            body_len: self.body_bytes,
            timeout: Duration::from_millis(self.timeout_ms),
            stack_bytes: self.stack_kib * 1024,
            tokio_workers: self.tokio_workers,
        }
    }
}

/// Cores available to this process.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategies;

    #[test]
    fn default_delays_keep_offered_load_under_the_cap() {
        assert_eq!(default_delay_ms(10), 100);
        assert_eq!(default_delay_ms(500), 100);
        assert_eq!(default_delay_ms(1_000), 200);
        assert_eq!(default_delay_ms(10_000), 2_000);
        for c in [1, 10, 100, 999, 1_000, 10_000, 123_457] {
            let rps = c as f64 * 1000.0 / default_delay_ms(c) as f64;
            assert!(rps <= OFFERED_RPS_CAP as f64, "C={c}: {rps} rps");
        }
    }

    #[test]
    fn ideal_and_least_wall_follow_what_a_strategy_holds_in_flight() {
        let p = Point {
            tokio_workers: 2,
            ..Point::new("thread_pool", 100)
        };
        assert_eq!(p.requests, 200);
        assert!((p.ideal_s() - 0.2).abs() < 1e-9);
        let find = |name| strategies::find(name).expect("strategy");
        assert!((p.least_wall_s(find("thread_pool")) - 0.2).abs() < 1e-9);
        assert!((p.least_wall_s(find("sequential")) - 20.0).abs() < 1e-9);
        assert!((p.least_wall_s(find("pitfall_blocking_in_async")) - 10.0).abs() < 1e-9);
        assert!((p.least_wall_s(find("pitfall_unbounded")) - 0.1).abs() < 1e-9);
        let limit = Duration::from_secs(5);
        assert_eq!(p.too_slow(find("thread_pool"), limit), None);
        assert_eq!(
            p.too_slow(find("sequential"), limit).as_deref(),
            Some("needs at least 20 s (ceil(N / 1 in flight) × D), above the 5 s limit")
        );
        assert_eq!(
            p.job("http://h:1").url,
            "http://h:1/get?delay_ms=100&bytes=32"
        );
    }
}

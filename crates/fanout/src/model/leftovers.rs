//! What a strategy left behind in its worker once it returned: open files, threads, resident
//! memory and live heap against what the worker held just before the timed region.

use serde::{Deserialize, Serialize};

/// What a worker process held at one moment, read by itself.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Held {
    /// Open files (`None`: the OS does not tell).
    pub open_fds: Option<u64>,
    /// Live threads (`None`: the OS does not tell).
    pub threads: Option<u64>,
    /// Resident memory, bytes.
    pub rss_bytes: u64,
    /// Heap bytes live (`None`: heap not counted).
    pub heap_live_bytes: Option<i64>,
}

/// The worker's holdings just before the timed region and once the strategy had returned
/// and released what it would (its runtime, pools and clients dropped).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Leftovers {
    /// Just before the timed region (its sampler not yet started).
    pub before: Held,
    /// After it, once open files and threads were back to `before`, had held still for
    /// 100 ms, or [`Leftovers::SETTLE_MS`] had passed (its sampler stopped).
    pub after: Held,
    /// How long after the strategy returned `after` was read, ms: the time its sockets and
    /// threads took to go, or to stop going where some stayed.
    pub settled_ms: f64,
}

impl Leftovers {
    /// The longest the worker waits for open files and threads to fall back, ms.
    pub const SETTLE_MS: u64 = 1_000;

    /// Open files the strategy left open.
    pub fn fds(&self) -> Option<i64> {
        Some(self.after.open_fds? as i64 - self.before.open_fds? as i64)
    }

    /// Threads the strategy left running.
    pub fn threads(&self) -> Option<i64> {
        Some(self.after.threads? as i64 - self.before.threads? as i64)
    }

    /// Heap bytes the strategy left live.
    pub fn heap_bytes(&self) -> Option<i64> {
        Some(self.after.heap_live_bytes? - self.before.heap_live_bytes?)
    }

    /// Resident memory above the baseline, as a share of it (0.05: 5% above).
    pub fn rss_share(&self) -> f64 {
        (self.after.rss_bytes as f64 - self.before.rss_bytes as f64)
            / self.before.rss_bytes.max(1) as f64
    }

    /// True once nothing the strategy opened is still open or running.
    pub fn released(&self) -> bool {
        self.fds().is_none_or(|n| n <= 0) && self.threads().is_none_or(|n| n <= 0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leftovers_are_the_differences_and_released_means_none_stayed() {
        let held = |fds, threads, rss, heap| Held {
            open_fds: Some(fds),
            threads: Some(threads),
            rss_bytes: rss,
            heap_live_bytes: Some(heap),
        };
        let mut left = Leftovers {
            before: held(5, 1, 1_000, 100),
            after: held(5, 1, 1_100, 164),
            settled_ms: 0.0,
        };
        assert!(left.released());
        assert_eq!(
            (left.fds(), left.threads(), left.heap_bytes()),
            (Some(0), Some(0), Some(64))
        );
        assert!((left.rss_share() - 0.1).abs() < 1e-9);
        left.after.threads = Some(3);
        assert!(!left.released(), "two threads stayed");
        assert_eq!(left.threads(), Some(2));
        left.after = Held {
            open_fds: None,
            threads: None,
            ..left.after
        };
        assert!(left.released(), "what is not told is not counted as left");
        assert_eq!(left.fds(), None);
    }
}

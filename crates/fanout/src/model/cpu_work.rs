//! CPU work per response (`--cpu-us`): hashing passes over the body, calibrated on this
//! machine before the timed region.

use std::time::{Duration, Instant};

/// CPU work per response: `passes` rounds of FNV-1a over a copy of the response body.
#[derive(Debug, Clone, PartialEq)]
pub struct CpuWork {
    passes: u64,
    body: Vec<u8>,
    /// What the passes took when calibrated, µs.
    calibrated_us: f64,
}

/// `passes` rounds of FNV-1a over `body` (the round number mixed in, so an empty body is
/// work too); the result is opaque to the optimizer.
fn hash_passes(body: &[u8], passes: u64) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for pass in 0..passes {
        h = (h ^ pass).wrapping_mul(0x0000_0100_0000_01b3);
        for &byte in body {
            h = (h ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3);
        }
        h = std::hint::black_box(h);
    }
    h
}

impl CpuWork {
    /// Measures how many passes over `body` take `us` of CPU time on this machine (growing
    /// batches until one takes 20 ms).
    pub fn calibrate(us: u64, body: Vec<u8>) -> Self {
        // This thread's CPU time where the OS tells it (a preempted calibration would
        // otherwise count time it did not run), wall time elsewhere.
        let cpu_now = || {
            crate::os::this_thread_rusage().map(|u| {
                let secs = |t: nix::sys::time::TimeVal| {
                    Duration::new(t.tv_sec() as u64, t.tv_usec() as u32 * 1000)
                };
                secs(u.user_time()) + secs(u.system_time())
            })
        };
        let wall = Instant::now();
        let since = |cpu_start: Option<Duration>| match (cpu_start, cpu_now()) {
            (Some(start), Some(now)) => now.saturating_sub(start),
            _ => wall.elapsed(),
        };
        let mut passes: u64 = 1;
        let per_us = loop {
            let start = cpu_now();
            hash_passes(&body, passes);
            let took = since(start);
            if took >= Duration::from_millis(20) {
                break passes as f64 / (took.as_secs_f64() * 1e6);
            }
            passes = passes.saturating_mul(2);
        };
        let passes = ((us as f64 * per_us).round() as u64).max(1);
        Self {
            passes,
            body,
            calibrated_us: passes as f64 / per_us,
        }
    }

    /// What one response's work took when calibrated, µs.
    pub fn calibrated_us(&self) -> f64 {
        self.calibrated_us
    }

    /// One response's work on the calling thread: the calibrated passes over the body.
    pub fn spend(&self) {
        hash_passes(&self.body, self.passes);
    }
}

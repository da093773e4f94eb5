//! Where a worker's resident memory goes: the split by cause near its peak ([`Breakdown`])
//! and its timeline ([`TimelineSample`]), as a worker reports them.

use serde::{Deserialize, Serialize};

/// A moment of a point: resident memory (`memory-stats`, from `statm` on Linux) and the
/// client's requests in flight.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TimelineSample {
    /// Since the sampler started, just before the timed region, ms.
    pub t_ms: f64,
    /// Resident memory, bytes.
    pub rss_bytes: u64,
    /// Requests in flight, by the client's count.
    pub in_flight: u64,
}

/// Resident memory split by cause at one moment: the heap's live bytes, the resident pages
/// of thread stacks, and the rest (binary, runtime, allocator slack: RSS minus the two); and
/// beside it the kernel's TCP socket memory above what it was before the job.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Breakdown {
    /// Requests in flight then, by the client's count.
    pub in_flight: u64,
    /// Resident memory then (the sum of every mapping's `Rss`).
    pub rss_bytes: u64,
    /// Heap bytes live then (`None` without the counting allocator: then `other` holds it).
    pub heap_bytes: Option<u64>,
    /// Resident pages of thread stacks then.
    pub stack_bytes: u64,
    /// Resident memory neither heap nor stacks: RSS − heap − stacks. Negative when live heap
    /// bytes were allocated but never touched (not yet resident).
    pub other_bytes: i64,
    /// TCP socket memory of the whole network namespace above its value before the job: on
    /// loopback both ends' (the server's sockets too).
    pub kernel_tcp_bytes: Option<i64>,
    /// Wall time the breakdown took (mostly reading `/proc/self/smaps`), ms.
    pub took_ms: f64,
}

impl Breakdown {
    /// The breakdown of these parts, `other` being what RSS holds besides heap and stacks.
    pub fn of(
        in_flight: u64,
        rss_bytes: u64,
        heap_bytes: Option<u64>,
        stack_bytes: u64,
        kernel_tcp_bytes: Option<i64>,
        took_ms: f64,
    ) -> Self {
        let other_bytes = rss_bytes as i64 - heap_bytes.unwrap_or(0) as i64 - stack_bytes as i64;
        Self {
            in_flight,
            rss_bytes,
            heap_bytes,
            stack_bytes,
            other_bytes,
            kernel_tcp_bytes,
            took_ms,
        }
    }
}

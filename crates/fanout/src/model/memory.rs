//! Where a worker's memory goes: its resident memory split by cause near its peak and the
//! kernel's own memory grown beside it ([`Breakdown`], [`KernelGrowth`]), and its timeline
//! ([`TimelineSample`]).

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::os::KernelMemory;

/// A moment of a point: what the worker held, read by the harness from outside (resident
/// memory and threads from `/proc/PID/status`, open files from `/proc/PID/fd`, kernel memory
/// from its memory cgroup), and its requests in flight (by the client's own count).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct TimelineSample {
    /// Since the worker's sampler started, just before the timed region, ms.
    pub t_ms: f64,
    /// Resident memory, bytes.
    pub rss_bytes: u64,
    /// Requests in flight, by the client's count.
    pub in_flight: u64,
    /// Live threads (`None`: not read, or a run before 2026-12-03).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub threads: Option<u64>,
    /// Open files — its sockets, mostly (`None`: not read, or a run before 2026-12-03).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub open_fds: Option<u64>,
    /// The worker's own kernel memory (its memory cgroup's `memory.kmem.usage_in_bytes`:
    /// kernel stacks, page tables, socket slab and buffers of its ends alone), bytes (`None`:
    /// no cgroup, or a run before 2026-12-03).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel_bytes: Option<u64>,
}

/// What the harness read of a worker at one moment, from outside.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProcessSample {
    /// The monotonic clock then ([`crate::os::monotonic_ns`]), ns.
    pub t_ns: u64,
    /// Resident memory, bytes.
    pub rss_bytes: u64,
    /// Live threads.
    pub threads: u64,
    /// Open files, as last read (read less often than the rest).
    pub open_fds: Option<u64>,
    /// Its memory cgroup's kernel memory, bytes.
    pub kernel_bytes: Option<u64>,
}

/// The client's requests in flight at one moment, as the worker's sampler counts them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct InFlightSample {
    /// The monotonic clock then ([`crate::os::monotonic_ns`]), ns.
    pub t_ns: u64,
    /// Requests in flight.
    pub in_flight: u64,
}

/// The most samples a timeline keeps.
pub const TIMELINE_SAMPLES: usize = 100;

/// The timeline of a point: the worker's in-flight samples, each beside the last reading
/// the harness took of it at or before it (`read`, in time order), cut to at most
/// [`TIMELINE_SAMPLES`].
pub fn timeline(in_flight: &[InFlightSample], read: &[ProcessSample]) -> Vec<TimelineSample> {
    let Some(start) = in_flight.first().map(|s| s.t_ns) else {
        return Vec::new();
    };
    let mut at = 0;
    let merged: Vec<TimelineSample> = in_flight
        .iter()
        .filter_map(|s| {
            while at + 1 < read.len() && read[at + 1].t_ns <= s.t_ns {
                at += 1;
            }
            let r = read.get(at)?;
            (r.t_ns <= s.t_ns).then(|| TimelineSample {
                t_ms: (s.t_ns - start) as f64 / 1e6,
                rss_bytes: r.rss_bytes,
                in_flight: s.in_flight,
                threads: Some(r.threads),
                open_fds: r.open_fds,
                kernel_bytes: r.kernel_bytes,
            })
        })
        .collect();
    downsample(&merged, TIMELINE_SAMPLES)
}

/// `samples` cut into at most `most` equal runs, each kept as its first time and its largest
/// figures (so no peak is lost).
pub fn downsample(samples: &[TimelineSample], most: usize) -> Vec<TimelineSample> {
    if samples.len() <= most {
        return samples.to_vec();
    }
    samples
        .chunks(samples.len().div_ceil(most))
        .map(|run| TimelineSample {
            t_ms: run[0].t_ms,
            rss_bytes: run.iter().map(|s| s.rss_bytes).max().unwrap_or(0),
            in_flight: run.iter().map(|s| s.in_flight).max().unwrap_or(0),
            threads: run.iter().filter_map(|s| s.threads).max(),
            open_fds: run.iter().filter_map(|s| s.open_fds).max(),
            kernel_bytes: run.iter().filter_map(|s| s.kernel_bytes).max(),
        })
        .collect()
}

/// Resident memory split by cause at one moment: the heap's live bytes, the resident pages
/// of thread stacks, and the rest (binary, runtime, allocator slack: RSS minus the two); and
/// beside it what the kernel's own memory grew by since before the worker started.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
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
    /// The kernel's own memory then above its value before the worker started
    /// (system-wide: see [`KernelGrowth`]); `None` where the OS does not tell, and in runs
    /// before 2026-12-01.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kernel: Option<KernelGrowth>,
    /// The worker's own kernel memory then, from its memory cgroup: its ends of connections
    /// alone, the server's excluded (`None` where no cgroup could be made: see
    /// `cgroup_missing`).
    #[serde(default)]
    pub client_kernel: Option<ClientKernel>,
    /// Wall time the breakdown took the harness (mostly reading `/proc/PID/smaps`), ms.
    pub took_ms: f64,
}

/// A worker's own kernel memory, read from its memory cgroup, bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClientKernel {
    /// Kernel stacks, page tables and slab charged to the worker (cgroup v1
    /// `memory.kmem.usage_in_bytes`).
    pub kernel_bytes: u64,
    /// TCP buffers charged to it (`memory.kmem.tcp.usage_in_bytes`).
    pub tcp_bytes: u64,
}

/// A worker's memory cgroup's peaks over its life, bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct CgroupPeaks {
    /// Its kernel memory at most (`memory.kmem.max_usage_in_bytes`).
    pub kernel_bytes: u64,
    /// Its user and kernel memory together at most (`memory.max_usage_in_bytes`).
    pub memory_bytes: u64,
}

/// What the kernel's own memory grew by, system-wide: none of it is in any process's RSS. On
/// loopback it holds both ends of every connection (the server's sockets too) and whatever
/// else the machine did meanwhile; fits over many points, against a baseline read just before
/// each worker, keep the part that grows with the requests in flight.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct KernelGrowth {
    /// `KernelStack`: kernel stacks of the threads added (16 KiB each on x86_64).
    pub kernel_stack_bytes: i64,
    /// `SUnreclaim`: slab the kernel cannot reclaim (task structs, sockets, files, epoll).
    pub slab_unreclaimable_bytes: i64,
    /// `SReclaimable`: slab it can reclaim (dentries and inodes of sockets, …).
    pub slab_reclaimable_bytes: i64,
    /// `PageTables`: page tables of every process.
    pub page_tables_bytes: i64,
    /// Live slab objects of every cache, in bytes (`/proc/slabinfo`: active objects × size;
    /// `None` where it is not readable, as without root): unlike the slab pages above, not
    /// hidden when new objects land in free room of slabs already there.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slab_object_bytes: Option<i64>,
    /// The slab caches whose live objects moved by at least [`KernelGrowth::CACHE_FLOOR`]
    /// bytes, by name (empty where `/proc/slabinfo` is not readable).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub slab_caches: BTreeMap<String, i64>,
}

impl KernelGrowth {
    /// Smallest move of a slab cache that is recorded: below it, noise.
    pub const CACHE_FLOOR: i64 = 64 * 1024;

    /// What grew from `before` to `after`.
    pub fn between(before: &KernelMemory, after: &KernelMemory) -> Self {
        let grew = |a: u64, b: u64| a as i64 - b as i64;
        let slab_caches = after
            .slab_caches
            .iter()
            .map(|(name, &now)| {
                let was = before.slab_caches.get(name).copied().unwrap_or(0);
                (name.clone(), grew(now, was))
            })
            .filter(|(_, moved)| moved.abs() >= Self::CACHE_FLOOR)
            .collect();
        Self {
            kernel_stack_bytes: grew(after.kernel_stack_bytes, before.kernel_stack_bytes),
            slab_unreclaimable_bytes: grew(
                after.slab_unreclaimable_bytes,
                before.slab_unreclaimable_bytes,
            ),
            slab_reclaimable_bytes: grew(
                after.slab_reclaimable_bytes,
                before.slab_reclaimable_bytes,
            ),
            page_tables_bytes: grew(after.page_tables_bytes, before.page_tables_bytes),
            slab_object_bytes: (!before.slab_caches.is_empty() && !after.slab_caches.is_empty())
                .then(|| {
                    let total = |k: &KernelMemory| k.slab_caches.values().sum::<u64>();
                    grew(total(after), total(before))
                }),
            slab_caches,
        }
    }

    /// Slab grown: its live objects where `/proc/slabinfo` tells them, else its pages of both
    /// kinds.
    pub fn slab_bytes(&self) -> i64 {
        self.slab_object_bytes
            .unwrap_or(self.slab_unreclaimable_bytes + self.slab_reclaimable_bytes)
    }

    /// Kernel stacks, slab and page tables together.
    pub fn total_bytes(&self) -> i64 {
        self.kernel_stack_bytes + self.slab_bytes() + self.page_tables_bytes
    }
}

impl Breakdown {
    /// The breakdown of these parts, `other` being what RSS holds besides heap and stacks.
    pub fn of(
        in_flight: u64,
        rss_bytes: u64,
        heap_bytes: Option<u64>,
        stack_bytes: u64,
        kernel_tcp_bytes: Option<i64>,
        kernel: Option<KernelGrowth>,
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
            kernel,
            // Read from the worker's cgroup, where it has one: set by the harness beside.
            client_kernel: None,
            took_ms,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_long_timeline_keeps_its_peaks_in_fewer_samples() {
        let samples: Vec<_> = (0..1000)
            .map(|i| TimelineSample {
                t_ms: i as f64,
                rss_bytes: if i == 537 { 99 } else { 1 },
                in_flight: i,
                open_fds: (i == 250).then_some(7),
                ..TimelineSample::default()
            })
            .collect();
        let short = downsample(&samples, TIMELINE_SAMPLES);
        assert_eq!(short.len(), 100);
        assert_eq!(short.iter().map(|s| s.rss_bytes).max(), Some(99));
        assert_eq!(short[1].t_ms, 10.0);
        assert_eq!(short[99].in_flight, 999);
        assert_eq!(short[25].open_fds, Some(7), "a figure read once is kept");
        assert_eq!(
            short[24].open_fds, None,
            "and not made up where it was not read"
        );
        assert_eq!(downsample(&samples[..5], 100).len(), 5);
    }

    #[test]
    fn the_timeline_pairs_each_in_flight_sample_with_the_reading_before_it() {
        let in_flight = [
            InFlightSample {
                t_ns: 1_000_000,
                in_flight: 0,
            },
            InFlightSample {
                t_ns: 3_000_000,
                in_flight: 5,
            },
            InFlightSample {
                t_ns: 5_000_000,
                in_flight: 9,
            },
        ];
        let read = |t_ns, rss_bytes, threads| ProcessSample {
            t_ns,
            rss_bytes,
            threads,
            open_fds: Some(threads + 3),
            kernel_bytes: None,
        };
        let reads = [
            read(500_000, 10, 1),
            read(2_000_000, 20, 2),
            read(4_500_000, 40, 4),
        ];
        let t = timeline(&in_flight, &reads);
        let pairs: Vec<_> = t
            .iter()
            .map(|s| (s.t_ms, s.rss_bytes, s.in_flight, s.threads, s.open_fds))
            .collect();
        assert_eq!(
            pairs,
            [
                (0.0, 10, 0, Some(1), Some(4)),
                (2.0, 20, 5, Some(2), Some(5)),
                (4.0, 40, 9, Some(4), Some(7))
            ]
        );
        assert!(
            timeline(&in_flight, &[read(9_000_000, 1, 1)]).is_empty(),
            "no read before them"
        );
    }

    #[test]
    fn the_breakdown_adds_up_to_rss_and_the_kernel_growth_to_its_parts() {
        let b = Breakdown::of(100, 10_000, Some(3_000), 2_000, Some(500), None, 1.0);
        assert_eq!(b.other_bytes, 5_000);
        let b = Breakdown::of(100, 10_000, None, 2_000, None, None, 1.0);
        assert_eq!(
            b.other_bytes, 8_000,
            "without heap counts, other holds the heap"
        );
        let before = KernelMemory {
            kernel_stack_bytes: 100,
            slab_caches: [("TCP".to_owned(), 1 << 20), ("dentry".to_owned(), 1 << 20)].into(),
            ..KernelMemory::default()
        };
        let after = KernelMemory {
            kernel_stack_bytes: 16_484,
            slab_unreclaimable_bytes: 7_000,
            page_tables_bytes: 500,
            slab_caches: [
                ("TCP".to_owned(), 2 << 20),
                ("dentry".to_owned(), (1 << 20) + 10),
            ]
            .into(),
            ..KernelMemory::default()
        };
        let g = KernelGrowth::between(&before, &after);
        assert_eq!(g.kernel_stack_bytes, 16_384);
        assert_eq!(g.slab_object_bytes, Some((1 << 20) + 10));
        assert_eq!(
            g.total_bytes(),
            16_384 + (1 << 20) + 10 + 500,
            "live objects over pages"
        );
        assert_eq!(
            g.slab_caches,
            [("TCP".to_owned(), 1 << 20)].into(),
            "dentry moved too little"
        );
    }
}

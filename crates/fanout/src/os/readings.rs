//! What the OS tells, as plain data: another process's status, a reaped child's usage, the
//! kernel's listen-queue counters.

use serde::{Deserialize, Serialize};

/// What `/proc/PID/status` tells of another process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessStatus {
    /// Peak resident memory since its exec (`VmHWM`), bytes.
    pub peak_rss_bytes: u64,
    /// Resident memory now (`VmRSS`), bytes.
    pub rss_bytes: u64,
    /// Live threads now.
    pub threads: u64,
}

/// The kernel's own memory, system-wide (`/proc/meminfo`, `/proc/net/sockstat`, and
/// `/proc/slabinfo` where readable): none of it is in any process's RSS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KernelMemory {
    /// `KernelStack`: every thread's kernel stack.
    pub kernel_stack_bytes: u64,
    /// `SUnreclaim`: slab the kernel cannot reclaim (task structs, sockets, …).
    pub slab_unreclaimable_bytes: u64,
    /// `SReclaimable`: slab it can (dentries, inodes, …).
    pub slab_reclaimable_bytes: u64,
    /// `PageTables`: every process's page tables.
    pub page_tables_bytes: u64,
    /// `TCP: mem` of `/proc/net/sockstat`: buffered TCP data of the namespace.
    pub tcp_buffer_bytes: u64,
    /// Bytes of live objects in each slab cache (active objects × object size), by name;
    /// empty where `/proc/slabinfo` is not readable (it needs root).
    pub slab_caches: std::collections::BTreeMap<String, u64>,
}

/// A child that ended: its wait status and its own resource usage, all threads, dead ones
/// included (`wait4`). Unlike `ru_maxrss`, which inherits the spawning parent's peak, CPU time
/// and context switches are the child's alone.
#[derive(Debug, Clone, Copy)]
pub struct Reaped {
    /// The raw wait status (`ExitStatusExt::from_raw`).
    pub status: i32,
    /// User CPU seconds.
    pub user_s: f64,
    /// System CPU seconds.
    pub sys_s: f64,
    /// Voluntary context switches.
    pub voluntary: u64,
    /// Involuntary context switches.
    pub involuntary: u64,
}

/// The kernel's TCP counters that reveal a listen queue overflowing (`/proc/net/netstat`):
/// when they move during a point, SYN retransmits have added whole seconds to it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListenCounters {
    /// TcpExt ListenOverflows: connections the accept queue had no room for.
    pub listen_overflows: u64,
    /// TcpExt ListenDrops: SYNs dropped at a listening socket, overflows included.
    pub listen_drops: u64,
    /// TcpExt TCPSynRetrans: SYNs sent again.
    pub syn_retrans: u64,
}

impl ListenCounters {
    /// How much each counter moved from `earlier` to `self`.
    pub fn since(&self, earlier: &Self) -> Self {
        Self {
            listen_overflows: self
                .listen_overflows
                .saturating_sub(earlier.listen_overflows),
            listen_drops: self.listen_drops.saturating_sub(earlier.listen_drops),
            syn_retrans: self.syn_retrans.saturating_sub(earlier.syn_retrans),
        }
    }

    /// True when a listen queue overflowed or dropped SYNs (used on a difference). SYN
    /// retransmits alone do not count: that counter is the whole network namespace's, moved
    /// by any process's connection to any host.
    pub fn overflowed(&self) -> bool {
        self.listen_overflows > 0 || self.listen_drops > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_listen_overflows_or_drops_mark_a_point() {
        let c = ListenCounters {
            listen_overflows: 12,
            listen_drops: 15,
            syn_retrans: 40,
        };
        let later = ListenCounters {
            listen_overflows: 13,
            ..c
        };
        assert!(later.since(&c).overflowed());
        assert!(!c.since(&c).overflowed());
        let retried = ListenCounters {
            syn_retrans: 41,
            ..c
        };
        assert!(
            !retried.since(&c).overflowed(),
            "SYN retransmits alone do not mark a point"
        );
    }
}

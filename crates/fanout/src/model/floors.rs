//! The floors per request in flight: what the kernel and each model must hold at least, as
//! measured on a machine (`run/floors.rs`), so a strategy's bill reads as floor + overhead.

use serde::{Deserialize, Serialize};

/// The floors per unit, bytes (`None` where the OS or the build does not tell).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Floors {
    /// A parked thread's kernel stack (`KernelStack`).
    pub thread_kernel_stack: Option<f64>,
    /// A parked thread's unreclaimable slab (its task struct and friends).
    pub thread_slab: Option<f64>,
    /// A parked thread's page tables.
    pub thread_page_tables: Option<f64>,
    /// A parked thread's resident user stack (the pages it touched: `/proc/self/smaps`).
    pub thread_user_stack: Option<f64>,
    /// An idle loopback connection's slab, both ends (its sockets, inodes, dentries, files).
    pub connection_slab_both_ends: Option<f64>,
    /// An idle tokio task's heap (its state and the runtime's hold on it), by the counting
    /// allocator.
    pub task_heap: Option<f64>,
    /// A parked thread's kernel memory charged to its process's own memory cgroup: measured
    /// the way a worker's own kernel bill is.
    #[serde(default)]
    pub thread_kernel_own: Option<f64>,
    /// An idle loopback connection's client end, charged to the client's own cgroup (the
    /// server's end is not).
    #[serde(default)]
    pub connection_client_end: Option<f64>,
    /// Why the two above were not measured, if they were not (no cgroup could be made).
    #[serde(default)]
    pub own_missing: Option<String>,
}

impl Floors {
    /// The server's end of an idle loopback connection: both ends' slab less the client's
    /// end, bytes (both measured).
    pub fn connection_server_end(&self) -> Option<f64> {
        Some(self.connection_slab_both_ends? - self.connection_client_end?)
    }
}

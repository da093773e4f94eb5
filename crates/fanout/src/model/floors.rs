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
}

//! The floors: what the kernel and each model must hold per request in flight at least, measured
//! on this machine with nothing else in between — threads parked on a barrier, idle loopback
//! connections, idle tokio tasks — so each strategy's bill reads as floor + overhead.

use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use crate::metering::alloc::HeapCounts;
use crate::model::floors::Floors;
use crate::model::memory::KernelGrowth;
use crate::os;

/// Threads, connections and tasks each floor is measured over.
const THREADS: usize = 1_000;
const CONNECTIONS: usize = 1_000;
const TASKS: usize = 100_000;

/// Measures the floors in this process (a second or so): connections, then threads with the
/// connections still open (a teardown frees slab late, through RCU, and would blur the next
/// reading), then tasks.
pub fn measure() -> Floors {
    let mut floors = Floors::default();
    let per = |bytes: i64, n: usize| Some(bytes as f64 / n as f64);

    // Connections, both ends in this process: what one request's socket costs the kernel. Kept
    // open until the threads are read: their teardown would blur that reading.
    let mut open = Vec::new();
    if let (Some(before), Ok(listener)) = (os::kernel_memory(), TcpListener::bind("127.0.0.1:0")) {
        let pairs: Vec<_> = listener
            .local_addr()
            .into_iter()
            .flat_map(|addr| (0..CONNECTIONS).map(move |_| TcpStream::connect(addr)))
            .filter_map(Result::ok)
            .filter_map(|client| Some((client, listener.accept().ok()?)))
            .collect();
        if pairs.len() == CONNECTIONS {
            floors.connection_slab_both_ends = os::kernel_memory().and_then(|during| {
                per(
                    KernelGrowth::between(&before, &during).slab_bytes(),
                    CONNECTIONS,
                )
            });
        }
        open = pairs;
    }

    // Threads: spawned with Rust's default stack, each touching what a started thread does.
    if let Some(before) = os::kernel_memory() {
        let (stacks_before, _) = stacks();
        let mut parked = os::parked::Parked::new();
        parked.spawn(THREADS, false);
        if parked.len() == THREADS {
            let during = os::kernel_memory();
            let (stacks_during, _) = stacks();
            if let Some(during) = during {
                let g = KernelGrowth::between(&before, &during);
                floors.thread_kernel_stack = per(g.kernel_stack_bytes, THREADS);
                floors.thread_slab = per(g.slab_bytes(), THREADS);
                floors.thread_page_tables = per(g.page_tables_bytes, THREADS);
            }
            floors.thread_user_stack = stacks_during
                .zip(stacks_before)
                .and_then(|(d, b)| per(d as i64 - b as i64, THREADS));
        }
        drop(parked);
    }
    drop(open);

    // Tasks: idle futures on a current-thread runtime, counted by the allocator.
    if let (Some(before), Ok(runtime)) = (
        HeapCounts::now(),
        tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build(),
    ) {
        let release = Arc::new(AtomicBool::new(false));
        let heap = runtime.block_on(async {
            let tasks: Vec<_> = (0..TASKS)
                .map(|_| {
                    let release = Arc::clone(&release);
                    tokio::spawn(async move {
                        while !release.load(Ordering::Relaxed) {
                            tokio::time::sleep(Duration::from_secs(3600)).await;
                        }
                    })
                })
                .collect();
            tokio::task::yield_now().await;
            let during = HeapCounts::now();
            release.store(true, Ordering::Relaxed);
            tasks.into_iter().for_each(|t| t.abort());
            during
        });
        floors.task_heap = heap.and_then(|h| per(h.live_bytes - before.live_bytes, TASKS));
    }
    floors
}

/// [`measure`], and the floors measured in a cgroup of their own by a probe (`exe` in its
/// role): what a parked thread and an idle connection's client end charge their own cgroup.
pub fn measure_with_own(exe: &std::path::Path) -> Floors {
    let mut floors = measure();
    match super::cgroup_floors::measure(exe) {
        Ok(own) => {
            floors.thread_kernel_own = own.thread_kernel;
            floors.connection_client_end = own.connection_client_end;
        }
        Err(why) => floors.own_missing = Some(format!("{why:#}")),
    }
    floors
}

/// Resident thread stacks of this process now (Rust's default 2 MiB stacks), if the OS tells.
fn stacks() -> (Option<u64>, Option<u64>) {
    let sizes = [crate::metering::sampler::DEFAULT_STACK_BYTES];
    match os::resident_stacks_and_total(std::process::id(), &sizes) {
        Some((stacks, total)) => (Some(stacks), Some(total)),
        None => (None, None),
    }
}

//! The floor probe: run in a memory cgroup of its own (`cgroup_floors.rs` starts it), it
//! holds the client ends of idle connections and parked threads, reads what its cgroup was
//! charged for each, and prints one JSON line.

use std::net::TcpStream;

use serde::{Deserialize, Serialize};

use crate::os;

/// Threads and connections each figure is measured over.
pub const THREADS: usize = 1_000;
/// Connections the client ends are measured over.
pub const CONNECTIONS: usize = 1_000;
/// Where the probe connects: the listener of the process that started it.
pub const ADDR_VAR: &str = "FANOUT_PROBE_ADDR";

/// What the probe reports, bytes per unit (`None`: not read).
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct OwnFloors {
    /// A parked thread's kernel memory charged to its process's cgroup.
    pub thread_kernel: Option<f64>,
    /// An idle loopback connection's client end, charged to the client's cgroup.
    pub connection_client_end: Option<f64>,
}

/// The probe's side: connects, parks, reads its cgroup each time, prints one JSON line.
pub fn probe() -> anyhow::Result<()> {
    let addr = std::env::var(ADDR_VAR)?;
    let own = || os::cgroup::own_kernel_bytes();
    let per = |before: Option<u64>, after: Option<u64>, n: usize| {
        Some((after? as f64 - before? as f64) / n as f64)
    };
    // Connections first, kept open while the threads are read (a teardown frees slab late).
    let before = own();
    let open: Vec<TcpStream> = (0..CONNECTIONS)
        .filter_map(|_| TcpStream::connect(&addr).ok())
        .collect();
    std::thread::sleep(std::time::Duration::from_millis(50));
    let connection_client_end = (open.len() == CONNECTIONS)
        .then(|| per(before, own(), CONNECTIONS))
        .flatten();
    let before = own();
    let mut parked = os::parked::Parked::new();
    parked.spawn(THREADS, false);
    let thread_kernel = (parked.len() == THREADS)
        .then(|| per(before, own(), THREADS))
        .flatten();
    drop(parked);
    drop(open);
    let report = OwnFloors {
        thread_kernel,
        connection_client_end,
    };
    println!("{}", serde_json::to_string(&report)?);
    Ok(())
}

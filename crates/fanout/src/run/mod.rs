//! Running: the server points are measured against, the harness (one worker process per
//! point, time limits, the server's `/stats`), the roles a re-executed binary plays (server,
//! worker, floor probe), the floors (in this process, and in a cgroup of their own), the sweep
//! loop over a plan, the preflight of the OS's limits, and `fanout ab`'s paired rounds.

pub mod ab;
pub mod cgroup_floors;
pub mod error;
pub mod floor_probe;
pub mod floors;
pub mod harness;
pub mod ports;
pub mod preflight;
pub mod raise;
pub mod role;
pub mod server;
pub mod stats_client;
pub mod sweep;
pub mod worker;

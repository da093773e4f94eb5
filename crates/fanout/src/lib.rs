//! fanout: N HTTP requests in flight from Rust — OS threads or async tasks, measured.
//!
//! - [`strategies`]: the ten ways to have N requests in flight, one module each.
//! - [`client`]: the ureq and reqwest clients with comparable settings; one request each way.
//! - [`job`]: what a strategy is asked to do, and the tally of what happened.
//! - [`workload`]: a point (strategy × C × N × D) and the rule for its defaults.
//! - [`meter`]: RSS, peak RSS, threads, CPU, context switches, kernel listen counters.
//! - [`worker`]: the worker role: one fresh process measures one point.
//! - [`harness`]: the orchestrator: server process, worker processes, joined reports.
//! - [`cli`]: the `fanout` command line.

pub mod cli;
pub mod client;
pub mod harness;
pub mod job;
pub mod meter;
pub mod strategies;
pub mod worker;
pub mod workload;

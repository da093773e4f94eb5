//! fanout: N HTTP requests in flight from Rust — OS threads or async tasks, measured.
//!
//! - [`strategies`]: the ways to have N requests in flight, one module each.
//! - [`peers`]: programs of other languages and tools (Python, Go, oha) run as a point's
//!   worker, and the protocol they speak.
//! - [`client`]: the ureq and reqwest clients with comparable settings; one request each way.
//! - [`raw`]: the floor strategies' own HTTP/1.1 client, no library; blocking and async twins.
//! - [`job`]: what a strategy is asked to do, and the tally of what happened.
//! - [`workload`]: a point (strategy × C × N × D × settings), the rule for its defaults, and
//!   the flags that set it.
//! - [`plan`]: strategies × concurrency × repeats, built and checked from the flags.
//! - [`report`]: the results model: one point's report, as JSON stores it.
//! - [`meter`]: RSS, peak RSS, threads, CPU, context switches, kernel listen counters.
//! - [`alloc`]: the worker's counting allocator: live heap, allocations, bytes allocated.
//! - [`worker`]: the worker role: one fresh process measures one point.
//! - [`process_meter`]: a worker process metered from outside, fanout's and a peer's alike.
//! - [`harness`]: the orchestrator: server process, worker processes, a report per point.
//! - [`sweep`]: a plan's points, repeated, into a run folder.
//! - [`run_folder`]: a run folder on disk: setup, plan, points, and the files drawn from them.
//! - [`stats`], [`render`], [`charts`], [`compare`]: medians and fits, tables and text, SVG
//!   charts, run against run.
//! - [`system`], [`preflight`]: the machine, its OS limits, which would cap which point.
//! - [`os`]: every read of `/proc` and `/sys` (Linux), and the portable fallbacks elsewhere.
//! - [`cli`]: the `fanout` command line.

pub mod alloc;
pub mod charts;
pub mod cli;
pub mod client;
pub mod compare;
pub mod harness;
pub mod job;
pub mod meter;
pub mod os;
pub mod peers;
pub mod plan;
pub mod preflight;
pub mod process_meter;
pub mod raw;
pub mod render;
pub mod report;
pub mod run_folder;
pub mod stats;
pub mod strategies;
pub mod sweep;
pub mod system;
pub mod worker;
pub mod workload;

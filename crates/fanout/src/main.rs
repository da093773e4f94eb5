//! `fanout`: OS threads vs async tasks for N HTTP requests in flight, measured.

use std::process::ExitCode;

/// Counts the heap of the worker role (and costs the other roles a few atomic adds).
#[global_allocator]
static HEAP: fanout::metering::alloc::Counting = fanout::metering::alloc::Counting;

fn main() -> ExitCode {
    // Re-executed as the mock server or a worker, it plays that role and stops.
    fanout::cli::main_with(&[])
}

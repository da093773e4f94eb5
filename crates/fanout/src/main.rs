//! `fanout`: OS threads vs async tasks for N HTTP requests in flight, measured.

use std::process::ExitCode;

/// Counts the heap of the worker role (and costs the other roles a few atomic adds).
#[global_allocator]
static HEAP: fanout::metering::alloc::Counting = fanout::metering::alloc::Counting;

fn main() -> ExitCode {
    // Re-executed as the mock server or a worker: play that role and stop.
    if let Some(code) = fanout::run::role::play_role() {
        return code;
    }
    fanout::cli::main()
}

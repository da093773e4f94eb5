//! Metering: inside the worker (the counting allocator, the sampler, the worker's own CPU
//! time) and outside it (a worker process metered by the harness from `/proc/PID` and
//! `wait4`, fanout's worker and a peer's program alike).

pub mod alloc;
pub mod leftovers;
pub mod outside;
pub mod sampler;
pub mod usage;

//! `thread_per_request`: a new OS thread per request, at most C alive at once.

use std::sync::Arc;
use std::thread;

use super::StrategyError;
use crate::client::{get_blocking, ureq_agent};
use crate::job::{ErrorKind, Job, Tally};

/// Spawns one thread per request; a bounded channel of C slots is the limit on live threads.
/// A thread the OS refuses is counted as that request's error, and the run goes on.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let agent = ureq_agent(job);
    let (slot_taken, slot_freed) = crossbeam_channel::bounded::<()>(job.concurrency);
    thread::scope(|scope| {
        for _ in 0..job.requests {
            // Blocks while C requests are in flight.
            if slot_taken.send(()).is_err() {
                break;
            }
            let (agent, slot_freed) = (&agent, &slot_freed);
            let spawned = thread::Builder::new()
                .stack_size(job.stack_bytes)
                .spawn_scoped(scope, move || {
                    get_blocking(agent, job, tally);
                    let _ = slot_freed.recv();
                });
            if spawned.is_err() {
                tally.fail(ErrorKind::ThreadSpawn);
                let _ = slot_freed.recv();
            }
        }
    }); // joins every thread
    Ok(())
}

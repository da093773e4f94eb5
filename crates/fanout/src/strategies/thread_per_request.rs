//! `thread_per_request`: a new OS thread per request, at most C alive at once.

use std::sync::Arc;
use std::thread;

use super::StrategyError;
use crate::client::{get_blocking, ureq_agent};
use crate::job::{ErrorKind, Job, Tally};

/// Spawns one thread per request. C slots, each an Agent keeping its one connection, pass
/// through a bounded channel: a new thread takes a slot and gives it back when done, so at
/// most C requests are in flight and connections are reused (see [`crate::client::ureq_agent`] for why
/// not one shared Agent). A thread the OS refuses is counted as that request's error.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    // Never more slots than requests (the same bound as `InFlight::of`).
    let slots = job.concurrency.min(job.requests).max(1);
    let (give_back, take) = crossbeam_channel::bounded(slots);
    for _ in 0..slots {
        let _ = give_back.send(ureq_agent(job, 1));
    }
    thread::scope(|scope| {
        for _ in 0..job.requests {
            // Blocks while all C slots are in flight.
            let Ok(agent) = take.recv() else { break };
            let slot_return = &give_back;
            let spawned = thread::Builder::new()
                .stack_size(job.stack_bytes())
                .spawn_scoped(scope, move || {
                    get_blocking(&agent, job, tally);
                    let _ = slot_return.send(agent);
                });
            if spawned.is_err() {
                tally.fail(ErrorKind::ThreadSpawn);
                // The slot's Agent went down with the closure: put a fresh one back.
                let _ = give_back.send(ureq_agent(job, 1));
            }
        }
    }); // joins every thread
    Ok(())
}

//! `thread_per_request`: a new OS thread per request, at most C alive at once.

use std::sync::Arc;
use std::thread;

use super::strategy::{Pool, Strategy, StrategyError};
use crate::clients::request::blocking;
use crate::clients::ureq_agent::{self, Ureq, ureq_agent};
use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;
use crate::model::tally::Tally;
use crate::model::subject::{RunsOn, HeldBy, ClientLib, Holds, Kind, Subject};


/// The facts of `thread_per_request`.
pub const STRATEGY: Strategy = Strategy {
    subject: Subject {
            name: "thread_per_request",
            models: "a new OS thread per request, at most C alive (threading.Thread per URL)",
            holds: Holds::Concurrency,
            held_by: HeldBy::Thread,
            runs_on: RunsOn::Threads,
            client: ClientLib::Ureq,
            protocol: None,
            connection_per_request: false,
            kind: Kind::Strategy,
            family: None,
    },
    pool: Pool::AgentPerThread,
    run,
};

/// Spawns one thread per request. C slots, each an Agent keeping its one connection, pass
/// through a bounded channel: a new thread takes a slot and gives it back when done, so at
/// most C requests are in flight and connections are reused (see [`crate::clients::ureq_agent::ureq_agent`] for why
/// not one shared Agent). A thread the OS refuses is counted as that request's error.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    // Never more slots than requests (the same bound as `Point::in_flight`).
    let uri = ureq_agent::target(job)?;
    let slots = job.concurrency.min(job.requests).max(1);
    let (give_back, take) = crossbeam_channel::bounded(slots);
    let slot_client = || Ureq {
        agent: ureq_agent(job, 1),
        uri: uri.clone(),
    };
    for _ in 0..slots {
        let _ = give_back.send(slot_client());
    }
    thread::scope(|scope| {
        for _ in 0..job.requests {
            // Blocks while all C slots are in flight.
            let Ok(client) = take.recv() else { break };
            let slot_return = &give_back;
            let spawned = thread::Builder::new()
                .stack_size(job.stack_bytes())
                .spawn_scoped(scope, move || {
                    blocking::request(&client, &mut None, job, tally);
                    let _ = slot_return.send(client);
                });
            if spawned.is_err() {
                tally.fail(ErrorKind::ThreadSpawn);
                // The slot's Agent went down with the closure: put a fresh one back.
                let _ = give_back.send(slot_client());
            }
        }
    }); // joins every thread
    Ok(())
}

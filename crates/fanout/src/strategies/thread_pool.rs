//! `thread_pool`: C long-lived threads pull requests from a crossbeam channel.

use std::sync::Arc;
use std::thread;

use super::strategy::{Pool, Strategy, StrategyError};
use super::threads;
use crate::clients::request::blocking;
use crate::clients::ureq_agent::{self, Ureq, ureq_agent};
use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;
use crate::model::tally::Tally;
use crate::model::subject::{RunsOn, HeldBy, ClientLib, Holds, Kind, Subject, Family, Part};


/// The facts of `thread_pool`.
pub const STRATEGY: Strategy = Strategy {
    subject: Subject {
            name: "thread_pool",
            models: "C long-lived threads pull from a crossbeam channel, an Agent each (ThreadPoolExecutor)",
            holds: Holds::Concurrency,
            held_by: HeldBy::Thread,
            runs_on: RunsOn::Threads,
            client: ClientLib::Ureq,
            protocol: None,
            connection_per_request: false,
            kind: Kind::Strategy,
            family: Some(Family {
                model: "OS threads",
                part: Part::Library,
            }),
    },
    pool: Pool::AgentPerThread,
    run,
};

/// Queues N requests, then C worker threads take them one at a time until the queue is empty.
/// Each worker has an Agent keeping its one connection (see [`crate::clients::ureq_agent::ureq_agent`] for why not one
/// shared Agent). A worker the OS refuses leaves a smaller pool (recorded as a setup error);
/// the others still serve every request.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let uri = &ureq_agent::target(job)?;
    let (queue, work) = crossbeam_channel::bounded::<()>(job.requests);
    for _ in 0..job.requests {
        let _ = queue.send(());
    }
    drop(queue); // workers stop when the queue is empty
    thread::scope(|scope| {
        let work = &work;
        let workers = threads::spawn_slots(scope, job, tally, |_| {
            move || {
                let client = Ureq {
                    agent: ureq_agent(job, 1),
                    uri: uri.clone(),
                };
                while work.recv().is_ok() {
                    blocking::request(&client, &mut None, job, tally);
                }
            }
        });
        if workers == 0 {
            // Nobody to do the work: the requests fail rather than vanish.
            while work.recv().is_ok() {
                tally.fail(ErrorKind::ThreadSpawn);
            }
        }
    }); // joins every worker
    Ok(())
}

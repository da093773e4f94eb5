//! `smol_raw`: the tasks' floor on a second runtime — C smol tasks (async-executor on the
//! worker threads, async-io's reactor), each owning one keep-alive socket, taking requests
//! one at a time; the shared raw codec, no client library. Twin of `async_raw`: what differs
//! is the runtime, not the model.

use std::sync::Arc;

use super::strategy::{Pool, Strategy, StrategyError};
use crate::clients::raw::{Countdown, RawRequest};
use crate::clients::raw_smol::RawSmol;
use crate::clients::request::tasks::{self, Slot};
use crate::clients::smol::{self, Smol};
use crate::model::job::Job;
use crate::model::subject::{ClientLib, HeldBy, Holds, Kind, RunsOn, Subject, Family, Part};
use crate::model::tally::Tally;

/// The facts of `smol_raw`.
pub const STRATEGY: Strategy = Strategy {
    subject: Subject {
        name: "smol_raw",
        models: "the tasks' floor on smol: C smol tasks, one keep-alive socket each, no client library",
        holds: Holds::Concurrency,
        held_by: HeldBy::Task,
        runs_on: RunsOn::Smol,
        client: ClientLib::Raw,
        protocol: None,
        connection_per_request: false,
        kind: Kind::Strategy,
        family: Some(Family {
            model: "smol tasks",
            part: Part::Floor,
        }),
    },
    pool: Pool::SocketPerSlot,
    run,
};

/// C slots, each a task with its own connection, until N requests are taken: no future per
/// request waits anywhere.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let request = Arc::new(RawRequest::for_job(job)?);
    let work = Arc::new(Countdown::new(job.requests));
    let slots = (0..job.concurrency.min(job.requests)).map(|_| {
        let (client, work) = (RawSmol::new(&request), Arc::clone(&work));
        let (job, tally) = (Arc::clone(job), Arc::clone(tally));
        async move {
            let mut slot = Slot::default();
            while work.take() {
                tasks::request::<Smol, _>(&client, &mut slot, &job, &tally).await;
            }
        }
    });
    smol::run_tasks(job, slots, tally);
    Ok(())
}

//! `uring_raw`: completion-based I/O's floor — C compio tasks spread over one io_uring
//! runtime per worker thread, each owning one keep-alive socket, taking requests one at a
//! time; the shared raw codec, no client library. Twin of `async_raw`: the same slots, the
//! kernel completing reads and writes instead of reporting readiness.

use std::sync::Arc;

use super::strategy::{Pool, Strategy, StrategyError};
use crate::clients::raw::{Countdown, RawRequest};
use crate::clients::raw_uring::RawUring;
use crate::clients::request::tasks::{self, Slot};
use crate::clients::uring::{self, Compio};
use crate::model::job::Job;
use crate::model::subject::{ClientLib, HeldBy, Holds, Kind, RunsOn, Subject, Family, Part};
use crate::model::tally::Tally;

/// The facts of `uring_raw`.
pub const STRATEGY: Strategy = Strategy {
    subject: Subject {
        name: "uring_raw",
        models: "completion I/O's floor: C compio tasks on io_uring, a runtime per core, one keep-alive socket each, no client library",
        holds: Holds::Concurrency,
        held_by: HeldBy::Task,
        runs_on: RunsOn::Compio,
        client: ClientLib::Raw,
        protocol: None,
        connection_per_request: false,
        kind: Kind::Strategy,
        family: Some(Family {
            model: "io_uring tasks (compio)",
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
    let slots = job.concurrency.min(job.requests);
    let ran = uring::spread(job, slots, tally, || Ok(()), |()| {
        let (client, work) = (RawUring::new(&request), Arc::clone(&work));
        let (job, tally) = (Arc::clone(job), Arc::clone(tally));
        async move {
            let mut slot = Slot::default();
            while work.take() {
                tasks::request::<Compio, _>(&client, &mut slot, &job, &tally).await;
            }
        }
    });
    ran.map_err(StrategyError::Runtime)
}

//! `uring_cyper`: completion-based I/O through a client library — C compio tasks spread over
//! one io_uring runtime per worker thread, each taking requests one at a time through its
//! thread's cyper client (hyper on compio). Twin of `uring_raw`: what cyper and hyper's pool
//! cost on top of the floor.

use std::sync::Arc;

use super::strategy::{Pool, Strategy, StrategyError};
use crate::clients::cyper_client::{self, Cyper, cyper_client};
use crate::clients::request::tasks::{self, Slot};
use crate::clients::raw::Countdown;
use crate::clients::uring::{self, Compio};
use crate::model::job::Job;
use crate::model::subject::{ClientLib, HeldBy, Holds, Kind, RunsOn, Subject, Family, Part};
use crate::model::tally::Tally;

/// The facts of `uring_cyper`.
pub const STRATEGY: Strategy = Strategy {
    subject: Subject {
        name: "uring_cyper",
        models: "completion I/O with a client: C compio tasks on io_uring, a runtime per core, a cyper client per runtime",
        holds: Holds::Concurrency,
        held_by: HeldBy::Task,
        runs_on: RunsOn::Compio,
        client: ClientLib::Cyper,
        protocol: None,
        connection_per_request: false,
        kind: Kind::Strategy,
        family: Some(Family {
            model: "io_uring tasks (compio)",
            part: Part::Library,
        }),
    },
    pool: Pool::ClientPerThread,
    run,
};

/// C slots, each a task taking requests until N are taken, through its thread's client.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let url = Arc::new(cyper_client::target(job)?);
    let work = Arc::new(Countdown::new(job.requests));
    let slots = job.concurrency.min(job.requests);
    let client = || cyper_client().map_err(std::io::Error::other);
    let ran = uring::spread(job, slots, tally, client, |client| {
        let client = Cyper {
            client: client.clone(),
            url: Arc::clone(&url),
        };
        let (work, job, tally) = (Arc::clone(&work), Arc::clone(job), Arc::clone(tally));
        async move {
            let mut slot = Slot::default();
            while work.take() {
                tasks::request::<Compio, _>(&client, &mut slot, &job, &tally).await;
            }
        }
    });
    ran.map_err(StrategyError::Runtime)
}

//! `async_hyper`: hyper without reqwest — C tokio tasks, each owning one HTTP/1.1 connection
//! through hyper's `client::conn`, taking requests one at a time. Twin of `async_raw` (the same
//! slots, hyper's codec in place of the raw one); `async_semaphore` is this plus reqwest.

use std::sync::Arc;

use tokio::task::JoinSet;

use super::strategy::{Pool, Strategy, StrategyError};
use super::tasks::join_all;
use crate::clients::hyper_conn::Target;
use crate::clients::request::tasks::{self, Slot};
use crate::clients::raw::Countdown;
use crate::clients::runtime::{Tokio, multi_thread_runtime};
use crate::model::job::Job;
use crate::model::subject::{RunsOn, HeldBy, ClientLib, Holds, Kind, Subject};
use crate::model::tally::Tally;

/// The facts of `async_hyper`.
pub const STRATEGY: Strategy = Strategy {
    subject: Subject {
        name: "async_hyper",
        models: "hyper without reqwest: C tokio tasks, one hyper client::conn HTTP/1.1 connection each",
        holds: Holds::Concurrency,
        held_by: HeldBy::Task,
        runs_on: RunsOn::Tokio,
        client: ClientLib::Hyper,
        protocol: None,
        connection_per_request: false,
        kind: Kind::Strategy,
        family: None,
    },
    pool: Pool::SocketPerSlot,
    run,
};

/// C slots, each a task with its own hyper connection, until N requests are taken.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let target = Arc::new(Target::for_job(job)?);
    let work = Arc::new(Countdown::new(job.requests));
    let runtime = multi_thread_runtime(job).map_err(StrategyError::Runtime)?;
    runtime.block_on(async {
        let mut slots = JoinSet::new();
        for _ in 0..job.concurrency.min(job.requests) {
            let (target, work) = (Arc::clone(&target), Arc::clone(&work));
            let (job, tally) = (Arc::clone(job), Arc::clone(tally));
            slots.spawn(async move {
                let mut slot = Slot::default();
                while work.take() {
                    tasks::request::<Tokio, _>(&*target, &mut slot, &job, &tally).await;
                }
            });
        }
        join_all(slots, tally).await;
        Ok(())
    })
}

//! `pitfall_unbounded`: all N tasks at once with no limit — `gather()` without a semaphore.

use std::sync::Arc;

use tokio::task::JoinSet;

use super::strategy::{Pool, Strategy, StrategyError};
use super::tasks::join_all;
use crate::clients::reqwest_client::reqwest_client;
use crate::clients::request::tasks::{self, Slot};
use crate::clients::runtime::{Tokio, multi_thread_runtime};
use crate::model::job::Job;
use crate::model::tally::Tally;
use crate::model::subject::{RunsOn, HeldBy, ClientLib, Cost, Holds, Kind, Pitfall, Subject};


/// The facts of `pitfall_unbounded`.
pub const STRATEGY: Strategy = Strategy {
    subject: Subject {
            name: "pitfall_unbounded",
            models: "all N tasks at once, no limit (gather() with no semaphore)",
            holds: Holds::All,
            held_by: HeldBy::Task,
            runs_on: RunsOn::Tokio,
            client: ClientLib::Reqwest,
            protocol: None,
            connection_per_request: false,
            kind: Kind::Pitfall(Pitfall {
                mistake: "no bound at all",
                spoils: "async_semaphore",
                costs: Cost::PeakRss,
                because: "all N spawned at once",
            }),
            family: None,
    },
    pool: Pool::SharedClient,
    run,
};

/// Spawns N tasks that all start their request at once: C is ignored, N are in flight.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let runtime = multi_thread_runtime(job).map_err(StrategyError::Runtime)?;
    runtime.block_on(async {
        let client = reqwest_client(job)?;
        let mut tasks = JoinSet::new();
        for _ in 0..job.requests {
            let client = client.clone();
            let (job, tally) = (Arc::clone(job), Arc::clone(tally));
            tasks.spawn(async move {
                tasks::request::<Tokio, _>(&client, &mut Slot::default(), &job, &tally).await;
            });
        }
        join_all(tasks, tally).await;
        Ok(())
    })
}

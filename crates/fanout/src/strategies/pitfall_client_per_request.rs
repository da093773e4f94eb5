//! `pitfall_client_per_request`: a new reqwest Client per request, so no connection is ever
//! reused — a fresh session per request.

use std::sync::Arc;

use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::strategy::{Pool, Strategy, StrategyError};
use super::tasks::join_all;
use crate::clients::reqwest_client::reqwest_client;
use crate::clients::request::tasks::{self, Slot};
use crate::clients::runtime::{Tokio, multi_thread_runtime};
use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;
use crate::model::tally::Tally;
use crate::model::subject::{RunsOn, HeldBy, ClientLib, Cost, Holds, Kind, Pitfall, Subject};


/// The facts of `pitfall_client_per_request`.
pub const STRATEGY: Strategy = Strategy {
    subject: Subject {
            name: "pitfall_client_per_request",
            models: "a new reqwest Client per request: a new connection each (a fresh session per request)",
            holds: Holds::Concurrency,
            held_by: HeldBy::Task,
            runs_on: RunsOn::Tokio,
            client: ClientLib::Reqwest,
            protocol: None,
            connection_per_request: true,
            kind: Kind::Pitfall(Pitfall {
                mistake: "a new client per request",
                spoils: "async_semaphore",
                costs: Cost::Wall,
                because: "a connection per request",
            }),
            family: None,
    },
    pool: Pool::ClientPerRequest,
    run,
};

/// Like `async_semaphore`, but each task builds (and drops) its own Client.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let runtime = multi_thread_runtime(job).map_err(StrategyError::Runtime)?;
    runtime.block_on(async {
        // The URL is checked once, as every strategy does; the pitfall builds a client for
        // every request after that.
        drop(reqwest_client(job)?);
        let permits = Arc::new(Semaphore::new(job.concurrency));
        let mut tasks = JoinSet::new();
        for _ in 0..job.requests {
            let permits = Arc::clone(&permits);
            let (job, tally) = (Arc::clone(job), Arc::clone(tally));
            tasks.spawn(async move {
                let _permit = permits.acquire().await;
                match reqwest_client(&job) {
                    // The pitfall.
                    Ok(client) => tasks::request::<Tokio, _>(&client, &mut Slot::default(), &job, &tally).await,
                    Err(_) => tally.fail(ErrorKind::Other),
                }
            });
        }
        join_all(tasks, tally).await;
        Ok(())
    })
}

//! `async_buffered`: one stream of N request futures, `buffer_unordered(C)`, one shared Client:
//! no task per request; the futures are polled by the one task that drives the stream.

use std::sync::Arc;

use futures::StreamExt;

use super::strategy::{Pool, Strategy, StrategyError};
use crate::clients::reqwest_client::reqwest_client;
use crate::clients::request::tasks::{self, Slot};
use crate::clients::runtime::{Tokio, multi_thread_runtime};
use crate::model::job::Job;
use crate::model::tally::Tally;
use crate::model::subject::{RunsOn, HeldBy, ClientLib, Holds, Kind, Subject};


/// The facts of `async_buffered`.
pub const STRATEGY: Strategy = Strategy {
    subject: Subject {
            name: "async_buffered",
            models: "one stream, buffer_unordered(C), shared Client (idiomatic Rust; no task per request)",
            holds: Holds::Concurrency,
            held_by: HeldBy::Task,
            runs_on: RunsOn::Tokio,
            client: ClientLib::Reqwest,
            protocol: None,
            connection_per_request: false,
            kind: Kind::Strategy,
            family: None,
    },
    pool: Pool::SharedClient,
    run,
};

/// Drives N request futures, at most C at once, from a single task.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let runtime = multi_thread_runtime(job).map_err(StrategyError::Runtime)?;
    runtime.block_on(async {
        let client = &reqwest_client(job)?;
        futures::stream::iter(0..job.requests)
            .map(|_| async move { tasks::request::<Tokio, _>(client, &mut Slot::default(), job, tally).await })
            .buffer_unordered(job.concurrency)
            .for_each(|()| async {})
            .await;
        Ok(())
    })
}

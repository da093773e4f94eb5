//! `async_h2_floor`: the HTTP/2 floor — C tokio tasks on a current-thread runtime, each taking
//! requests one at a time as streams on one shared connection, through the `h2` crate alone.
//! Twin of `async_h2` (the same C streams on one connection, no reqwest or hyper) and of
//! `async_raw` (the same slots); unlike both it runs on one thread, as one connection's
//! frames do.

use std::sync::Arc;

use tokio::task::JoinSet;

use super::strategy::{Pool, Strategy, StrategyError};
use super::tasks::join_all;
use crate::clients::h2_conn::{self, Target};
use crate::clients::raw::Countdown;
use crate::clients::runtime::current_thread_runtime;
use crate::model::job::Job;
use crate::model::settings::Protocol;
use crate::model::subject::{RunsOn, HeldBy, ClientLib, Holds, Kind, Subject, Family, Part};
use crate::model::tally::Tally;

/// The facts of `async_h2_floor`.
pub const STRATEGY: Strategy = Strategy {
    subject: Subject {
        name: "async_h2_floor",
        models: "the HTTP/2 floor: C tokio tasks on one thread, streams on one connection, the h2 crate alone",
        holds: Holds::Concurrency,
        held_by: HeldBy::Task,
        runs_on: RunsOn::Tokio,
        client: ClientLib::H2,
        protocol: Some(Protocol::H2),
        connection_per_request: false,
        kind: Kind::Strategy,
        family: Some(Family {
            model: "tokio tasks over HTTP/2",
            part: Part::Floor,
        }),
    },
    pool: Pool::OneConnection,
    run,
};

/// One connection, then C slots taking requests as streams on it until N are taken; a
/// connection that cannot be opened fails every request with its kind.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let target = Arc::new(Target::for_job(job, "the h2 floor").map_err(StrategyError::Url)?);
    let work = Arc::new(Countdown::new(job.requests));
    // One connection is driven by one task: streams on other worker threads would only hand
    // every frame across threads and contend for h2's lock (on the multi-thread runtime it
    // made fewer requests/s beside h2load; results/2026-12-01-throughput has this one's).
    let runtime = current_thread_runtime().map_err(StrategyError::Runtime)?;
    runtime.block_on(async {
        let sender = match h2_conn::connect(&target).await {
            Ok(sender) => sender,
            Err(kind) => {
                while work.take() {
                    tally.fail(kind);
                }
                return Ok(());
            }
        };
        let mut slots = JoinSet::new();
        for _ in 0..job.concurrency.min(job.requests) {
            let (target, work, sender) = (Arc::clone(&target), Arc::clone(&work), sender.clone());
            let (job, tally) = (Arc::clone(job), Arc::clone(tally));
            slots.spawn(async move {
                let mut sender = sender;
                while work.take() {
                    h2_conn::get(&mut sender, &target, &job, &tally).await;
                }
            });
        }
        join_all(slots, tally).await;
        Ok(())
    })
}

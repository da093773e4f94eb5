//! `async_h2_floor`: the HTTP/2 floor — C tokio tasks on a current-thread runtime, each taking
//! requests one at a time as streams, through the `h2` crate alone, on as few connections as
//! the server's stream limit allows: ceil(C / SETTINGS_MAX_CONCURRENT_STREAMS), read from the
//! first connection's SETTINGS (a pool as armeria's and jetty's, where hyper's client keeps one
//! connection and queues past the limit). Twin of `async_h2` (the same streams, no reqwest or
//! hyper) and of `async_raw` (the same slots); unlike both it runs on one thread.

use std::sync::Arc;

use tokio::task::JoinSet;

use super::strategy::{Pool, Strategy, StrategyError};
use super::tasks::join_all;
use crate::clients::h2_conn::{self, OnLine, Target};
use crate::clients::request::tasks::{self, Slot};
use crate::clients::raw::Countdown;
use crate::clients::runtime::{Tokio, current_thread_runtime};
use crate::model::job::Job;
use crate::model::settings::Protocol;
use crate::model::subject::{RunsOn, HeldBy, ClientLib, Holds, Kind, Subject, Family, Part};
use crate::model::tally::Tally;

/// The facts of `async_h2_floor`.
pub const STRATEGY: Strategy = Strategy {
    subject: Subject {
        name: "async_h2_floor",
        models: "the HTTP/2 floor: C tokio tasks on one thread, streams on ceil(C / the server's stream limit) connections, the h2 crate alone",
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
    pool: Pool::StreamsUnderTheLimit,
    run,
};

/// One connection, and as many more as C slots need under the stream limit its server set;
/// then the slots take requests as streams until N are taken, each on its own connection's
/// share, redialled when it ends (reset, or GOAWAY; a request it refused sent again). A
/// first connection that cannot be opened fails every request with its kind; a later one is
/// a setup error, its slots sharing the connections open so far.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let target = Arc::new(Target::for_job(job, "the h2 floor")?);
    let work = Arc::new(Countdown::new(job.requests));
    // One connection is driven by one task: streams on other worker threads would only hand
    // every frame across threads and contend for h2's lock (on the multi-thread runtime it
    // made fewer requests/s beside h2load; results/2026-12-01-throughput has this one's).
    let runtime = current_thread_runtime().map_err(StrategyError::Runtime)?;
    runtime.block_on(async {
        let slots = job.concurrency.min(job.requests);
        let lines = match h2_conn::lines(&target, slots, tally).await {
            Ok(lines) => lines,
            Err(kind) => {
                work.fail_rest(tally, kind);
                return Ok(());
            }
        };
        let mut tasks = JoinSet::new();
        for slot in 0..slots {
            let line = lines.line(slot);
            let (target, work) = (Arc::clone(&target), Arc::clone(&work));
            let (job, tally) = (Arc::clone(job), Arc::clone(tally));
            tasks.spawn(async move {
                let client = OnLine {
                    line: &line,
                    target: &target,
                };
                let mut slot = Slot::on(line.sender().await);
                while work.take() {
                    tasks::request::<Tokio, _>(&client, &mut slot, &job, &tally).await;
                }
            });
        }
        join_all(tasks, tally).await;
        Ok(())
    })
}

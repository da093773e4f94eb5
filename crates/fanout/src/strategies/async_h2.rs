//! `async_h2`: `async_semaphore` over HTTP/2 — N tasks, Semaphore(C), one reqwest Client with
//! HTTP/2 prior knowledge, so C requests in flight are C streams on as few connections as the
//! client opens (the server's count says how many). Its twin is `async_semaphore`.

use std::sync::Arc;

use super::strategy::{Pool, Strategy, StrategyError};
use super::async_semaphore::{CpuWork, semaphore_tasks};
use crate::clients::runtime::multi_thread_runtime;
use crate::model::job::Job;
use crate::model::tally::Tally;
use crate::model::settings::Protocol;
use crate::model::subject::{RunsOn, HeldBy, ClientLib, Holds, Kind, Subject, Family, Part};


/// The facts of `async_h2`.
pub const STRATEGY: Strategy = Strategy {
    subject: Subject {
            name: "async_h2",
            models: "async_semaphore over HTTP/2: C streams on as few connections as the client opens (one reqwest Client, h2c)",
            holds: Holds::Concurrency,
            held_by: HeldBy::Task,
            runs_on: RunsOn::Tokio,
            client: ClientLib::Reqwest,
            protocol: Some(Protocol::H2),
            connection_per_request: false,
            kind: Kind::Strategy,
            family: Some(Family {
                model: "tokio tasks over HTTP/2",
                part: Part::Library,
            }),
    },
    pool: Pool::SharedClient,
    run,
};

/// `async_semaphore`'s tasks over HTTP/2 whatever the job says: the client they share is built
/// for the strategy's own protocol.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let job = Arc::new(job.speaking(Protocol::H2));
    let runtime = multi_thread_runtime(&job).map_err(StrategyError::Runtime)?;
    runtime.block_on(semaphore_tasks(&job, tally, CpuWork::OnTheTask))
}

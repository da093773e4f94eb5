//! `async_spawn_blocking`: blocking ureq calls on tokio's blocking pool, sized to C.

use std::cell::OnceCell;
use std::sync::Arc;

use tokio::task::JoinSet;
use ureq::http::Uri;

use super::strategy::{Pool, Strategy, StrategyError};
use super::tasks::join_all;
use crate::clients::request::blocking;
use crate::clients::ureq_agent::{self, Ureq, ureq_agent};
use crate::model::job::Job;
use crate::model::tally::Tally;
use crate::model::subject::{RunsOn, HeldBy, ClientLib, Holds, Kind, Subject};

thread_local! {
    /// Each blocking-pool thread's Agent, keeping its one connection (see [`crate::clients::ureq_agent::ureq_agent`]).
    static AGENT: OnceCell<ureq::Agent> = const { OnceCell::new() };
}


/// The facts of `async_spawn_blocking`.
pub const STRATEGY: Strategy = Strategy {
    subject: Subject {
            name: "async_spawn_blocking",
            models: "tokio spawn_blocking(ureq), blocking pool sized to C (asyncio.to_thread)",
            holds: Holds::Concurrency,
            held_by: HeldBy::Thread,
            runs_on: RunsOn::Tokio,
            client: ClientLib::Ureq,
            protocol: None,
            connection_per_request: false,
            kind: Kind::Strategy,
            family: None,
    },
    pool: Pool::AgentPerThread,
    run,
};

/// Hands all N blocking requests to `spawn_blocking`; the pool runs at most C at once.
/// Tokio caps the blocking pool at 512 by default, which would silently make this a pool of
/// 512: it is set to C here, with the threads' stack size of the thread strategies.
/// Unlike the thread strategies, a thread the OS refuses is not counted: tokio queues the
/// task for the threads it has (a smaller pool, visible in `peak_threads`), or panics when it
/// has none, which fails the point.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(job.tokio_workers())
        .max_blocking_threads(job.concurrency.min(job.requests).max(1))
        .thread_stack_size(job.stack_bytes())
        .enable_all()
        .build()
        .map_err(StrategyError::Runtime)?;
    let uri = Arc::new(ureq_agent::target(job)?);
    runtime.block_on(async {
        let mut tasks = JoinSet::new();
        for _ in 0..job.requests {
            let (job, tally, uri) = (Arc::clone(job), Arc::clone(tally), Arc::clone(&uri));
            tasks.spawn_blocking(move || {
                AGENT.with(|agent| {
                    let agent = agent.get_or_init(|| ureq_agent(&job, 1)).clone();
                    let client = Ureq {
                        agent,
                        uri: Uri::clone(&uri),
                    };
                    blocking::request(&client, &mut None, &job, &tally);
                });
            });
        }
        join_all(tasks, tally).await;
        Ok(())
    })
}

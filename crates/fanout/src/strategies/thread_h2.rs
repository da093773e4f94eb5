//! `thread_h2`: OS threads over HTTP/2 — C threads, each blocking on one stream at a time of
//! the HTTP/2 floor's connections (ceil(C / the server's stream limit)), which one tokio
//! thread drives. HTTP/1.1 gives a thread a socket, so the open-file limit stops threads
//! first; here C threads share a few connections, and the threads' own limits are what stop
//! them. Twin of `thread_raw` (the same slots) and of `async_h2_floor` (the same streams).

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::thread;

use tokio::sync::Notify;

use super::strategy::{Pool, Strategy, StrategyError};
use crate::clients::h2_conn::{self, Target};
use crate::clients::h2_threads::Blocking;
use crate::clients::raw::Countdown;
use crate::clients::request::blocking;
use crate::clients::runtime::current_thread_runtime;
use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;
use crate::model::settings::Protocol;
use crate::model::subject::{ClientLib, HeldBy, Holds, Kind, RunsOn, Subject};
use crate::model::tally::Tally;

/// The facts of `thread_h2`.
pub const STRATEGY: Strategy = Strategy {
    subject: Subject {
        name: "thread_h2",
        models: "OS threads over HTTP/2: C threads, each blocking on one stream at a time of ceil(C / the server's stream limit) connections, the h2 crate driven by one tokio thread",
        holds: Holds::Concurrency,
        held_by: HeldBy::Thread,
        runs_on: RunsOn::Threads,
        client: ClientLib::H2,
        protocol: Some(Protocol::H2),
        connection_per_request: false,
        kind: Kind::Strategy,
        family: None,
    },
    pool: Pool::StreamsUnderTheLimit,
    run,
};

/// The floor's pool, opened on a current-thread runtime that a thread of its own then drives;
/// C slots, each a thread blocking on its line's streams, until N requests are taken. A
/// thread the OS refuses leaves fewer slots (a setup error); the others still serve every
/// request.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let target = Arc::new(Target::for_job(job, "thread_h2")?);
    let work = Countdown::new(job.requests);
    let runtime = current_thread_runtime().map_err(StrategyError::Runtime)?;
    let slots = job.concurrency.min(job.requests);
    let pool = match runtime.block_on(h2_conn::pool(&target, slots, tally)) {
        Ok(pool) => pool,
        Err(kind) => {
            while work.take() {
                tally.fail(kind);
            }
            return Ok(());
        }
    };
    // The driver runs until the last slot is done with the connections.
    let running = AtomicUsize::new(1);
    let done = Notify::new();
    let finished = || {
        if running.fetch_sub(1, Ordering::AcqRel) == 1 {
            done.notify_one(); // a permit kept if the driver is not waiting yet
        }
    };
    thread::scope(|scope| {
        let driver = thread::Builder::new()
            .name("h2-driver".into())
            .spawn_scoped(scope, || runtime.block_on(done.notified()))
            .map_err(StrategyError::Runtime)?;
        let (work, finished) = (&work, &finished);
        let mut spawned = 0;
        for slot in 0..slots {
            let client = Blocking {
                line: pool.line(slot),
                target: Arc::clone(&target),
                runtime: runtime.handle().clone(),
            };
            running.fetch_add(1, Ordering::AcqRel);
            let thread = thread::Builder::new()
                .stack_size(job.stack_bytes())
                .spawn_scoped(scope, move || {
                    let mut conn = None;
                    while work.take() {
                        blocking::request(&client, &mut conn, job, tally);
                    }
                    finished();
                });
            match thread {
                Ok(_) => spawned += 1,
                Err(_) => {
                    running.fetch_sub(1, Ordering::AcqRel);
                    tally.setup_error(ErrorKind::ThreadSpawn);
                }
            }
        }
        if spawned == 0 {
            while work.take() {
                tally.fail(ErrorKind::ThreadSpawn); // nobody to do it: failed, not vanished
            }
        }
        finished(); // the spawner's own count: the driver may stop once every slot is done
        if let Err(panic) = driver.join() {
            std::panic::resume_unwind(panic);
        }
        Ok(())
    }) // joins every slot
}

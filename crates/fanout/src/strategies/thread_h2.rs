//! `thread_h2`: OS threads over HTTP/2 — C threads, each blocking on one stream at a time of
//! the HTTP/2 floor's connections (ceil(C / the server's stream limit)), which one tokio
//! thread drives. HTTP/1.1 gives a thread a socket, so the open-file limit stops threads
//! first; here C threads share a few connections, and the threads' own limits are what stop
//! them. Twin of `thread_raw` (the same slots) and of `async_h2_floor` (the same streams).

use std::sync::Arc;
use std::thread;

use tokio::sync::Notify;

use super::strategy::{Pool, Strategy, StrategyError};
use super::threads;
use crate::clients::h2_conn::{self, Target};
use crate::clients::h2_threads::{BlockingOnLine, Exchanges};
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

/// The floor's lines, opened on a current-thread runtime that a thread of its own then
/// drives; C slots, each a thread blocking on its line's streams, until N requests are taken.
/// A thread the OS refuses leaves fewer slots (a setup error); the others still serve every
/// request; with no slot, or no driver, every request fails as `thread_spawn`.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let target = Arc::new(Target::for_job(job, "thread_h2")?);
    let work = Countdown::new(job.requests);
    let runtime = current_thread_runtime().map_err(StrategyError::Runtime)?;
    let slots = job.concurrency.min(job.requests);
    let lines = match runtime.block_on(h2_conn::lines(&target, slots, tally)) {
        Ok(lines) => lines,
        Err(kind) => {
            work.fail_rest(tally, kind);
            return Ok(());
        }
    };
    let exchanges = Arc::new(Exchanges::default());
    let stop = Notify::new();
    thread::scope(|scope| {
        let driver = thread::Builder::new()
            .name("h2-driver".into())
            .spawn_scoped(scope, || runtime.block_on(stop.notified()));
        if driver.is_err() {
            work.fail_rest(tally, ErrorKind::ThreadSpawn);
            return;
        }
        // Stops the driver however this closure ends, a slot's panic included: else the
        // driver runs on and the scope never ends.
        let _stop = StopDriver(&stop);
        thread::scope(|slots_scope| {
            let work = &work;
            let spawned = threads::spawn_slots(slots_scope, job, tally, |slot| {
                let client = BlockingOnLine {
                    line: lines.line(slot),
                    target: Arc::clone(&target),
                    runtime: runtime.handle().clone(),
                    exchanges: Arc::clone(&exchanges),
                };
                move || {
                    let mut conn = None;
                    while work.take() {
                        blocking::request(&client, &mut conn, job, tally);
                    }
                }
            });
            if spawned == 0 {
                work.fail_rest(tally, ErrorKind::ThreadSpawn);
            }
        }); // joins every slot
        // A hedge that lost may still be on a stream; each ends by its deadline.
        runtime.handle().block_on(exchanges.ended());
    }); // joins the driver
    Ok(())
}

/// Stops the driver when dropped.
struct StopDriver<'a>(&'a Notify);

impl Drop for StopDriver<'_> {
    fn drop(&mut self) {
        self.0.notify_one(); // a permit kept if the driver is not waiting yet
    }
}

//! `coroutine_raw`: the coroutines' floor — C stackful may coroutines, each owning one
//! keep-alive socket, taking requests one at a time; the shared raw codec on may's socket,
//! which parks the coroutine, not its thread. Twin of `thread_raw`: the same blocking code,
//! a stack per request in flight, but a few OS threads.

use std::sync::Arc;

use may::net::TcpStream;

use super::strategy::{Pool, Strategy, StrategyError};
use crate::clients::coroutine;
use crate::clients::raw::{Countdown, RawBlocking, RawRequest};
use crate::clients::request::blocking;
use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;
use crate::model::subject::{RunsOn, ClientLib, HeldBy, Holds, Kind, Subject, Family, Part};
use crate::model::tally::Tally;

/// The facts of `coroutine_raw`.
pub const STRATEGY: Strategy = Strategy {
    subject: Subject {
        name: "coroutine_raw",
        models: "stackful coroutines' floor: C may coroutines, one keep-alive socket each, no client library",
        holds: Holds::Concurrency,
        held_by: HeldBy::Coroutine,
        runs_on: RunsOn::May,
        client: ClientLib::Raw,
        protocol: None,
        connection_per_request: false,
        kind: Kind::Strategy,
        family: Some(Family {
            model: "stackful coroutines (may)",
            part: Part::Floor,
        }),
    },
    pool: Pool::SocketPerSlot,
    run,
};

/// C slots, each a coroutine with its own connection, until N requests are taken. A
/// coroutine whose stack the OS will not map leaves fewer slots (a setup error); the others
/// still serve every request.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let request = Arc::new(RawRequest::for_job(job)?);
    let work = Arc::new(Countdown::new(job.requests));
    coroutine::configure(job);
    let mut slots = Vec::new();
    for _ in 0..job.concurrency.min(job.requests) {
        let (client, work) = (RawBlocking::<TcpStream>::new(&request), Arc::clone(&work));
        let (slot_job, slot_tally) = (Arc::clone(job), Arc::clone(tally));
        let slot = move || {
            let mut conn = None;
            while work.take() {
                blocking::request(&client, &mut conn, &slot_job, &slot_tally);
            }
        };
        match coroutine::spawn(job.coroutine_stack_bytes(), slot) {
            Ok(handle) => slots.push(handle),
            Err(kind) => tally.setup_error(kind),
        }
    }
    if slots.is_empty() {
        work.fail_rest(tally, ErrorKind::StackMap);
    }
    for slot in slots {
        if slot.join().is_err() {
            tally.setup_error(ErrorKind::Panic);
        }
    }
    Ok(())
}

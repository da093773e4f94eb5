//! `thread_raw`: the threads' floor — C threads, each owning one keep-alive socket, taking
//! requests one at a time; the shared raw codec, no client library. Twin of `async_raw`.

use std::net::TcpStream;
use std::sync::Arc;
use std::thread;

use super::strategy::{Pool, Strategy, StrategyError};
use super::threads;
use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;
use crate::model::tally::Tally;
use crate::clients::raw::{Countdown, RawBlocking, RawRequest};
use crate::clients::request::blocking;
use crate::model::subject::{RunsOn, HeldBy, ClientLib, Holds, Kind, Subject, Family, Part};


/// The facts of `thread_raw`.
pub const STRATEGY: Strategy = Strategy {
    subject: Subject {
            name: "thread_raw",
            models: "the threads' floor: C threads, one keep-alive socket each, no client library",
            holds: Holds::Concurrency,
            held_by: HeldBy::Thread,
            runs_on: RunsOn::Threads,
            client: ClientLib::Raw,
            protocol: None,
            connection_per_request: false,
            kind: Kind::Strategy,
            family: Some(Family {
                model: "OS threads",
                part: Part::Floor,
            }),
    },
    pool: Pool::SocketPerSlot,
    run,
};

/// C slots, each a thread with its own connection, until N requests are taken. A thread the
/// OS refuses leaves fewer slots (a setup error); the others still serve every request.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let client = RawBlocking::<TcpStream>::new(&Arc::new(RawRequest::for_job(job)?));
    let work = Countdown::new(job.requests);
    thread::scope(|scope| {
        let (client, work) = (&client, &work);
        let slots = threads::spawn_slots(scope, job, tally, |_| {
            move || {
                let mut conn = None;
                while work.take() {
                    blocking::request(client, &mut conn, job, tally);
                }
            }
        });
        if slots == 0 {
            work.fail_rest(tally, ErrorKind::ThreadSpawn);
        }
    }); // joins every slot
    Ok(())
}

//! The blocking driver: one request's life on an OS thread or a may coroutine — its due
//! time, its attempts within the first one's deadline (`--retries`, a budget), its hedge
//! (`--hedge-after-ms`, [`super::race`]), the CPU work per response, the outcome and latency
//! recorded. The twin of [`super::tasks`].

use std::sync::Arc;
use std::time::Instant;

use super::exchange::{Exchange, Outcome, World, caught};
use super::race::{self, Race, Winner};
use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;
use crate::model::tally::Tally;

/// One request on the slot's connection `conn` through `client`, recorded in `tally`. The
/// connection is dropped after an error or a response that closes it.
pub fn request<E: Exchange>(
    client: &E,
    conn: &mut Option<E::Conn>,
    job: &Arc<Job>,
    tally: &Arc<Tally>,
) {
    let Some(due) = job.due(tally) else {
        return;
    };
    let early = due.early();
    let sent = if early.is_zero() {
        due.asked
    } else {
        E::World::sleep(early);
        Instant::now()
    };
    // Latency counts from the due time (at --rate; in closed loop, now); the deadline from
    // the send.
    let in_flight = tally.start_at(sent);
    let deadline = sent + job.timeout();
    let mut retries = 0;
    let (outcome, answered) = loop {
        let (outcome, answered) = if job.settings.hedging() {
            hedged(client, conn, job, tally, sent)
        } else {
            (caught(|| client.exchange(conn, job, deadline)), None)
        };
        if !matches!(outcome, Ok(true)) {
            *conn = None;
        }
        match job.retry_wait(tally, retries, &outcome, sent) {
            Some(wait) => E::World::sleep(wait),
            None => break (outcome, answered),
        }
        retries += 1;
    };
    if retries > 0 && outcome.is_ok() {
        tally.retry_recovered();
    }
    // The CPU work counts in the latency. A hedge that won over an original its client could
    // not stop answered when it answered, not when the original ended.
    let worked = Instant::now();
    let outcome = outcome.map(|_| job.spend_cpu());
    let latency = answered.unwrap_or(worked).saturating_duration_since(due.at) + worked.elapsed();
    in_flight.record(latency, outcome);
}

/// The exchange on the slot's connection, raced by a hedge ([`race`]) if it has not
/// answered by the hedge's moment; the winner's outcome, and when it answered if that was
/// the hedge. A hedge that wins leaves its connection to the slot.
fn hedged<E: Exchange>(
    client: &E,
    conn: &mut Option<E::Conn>,
    job: &Arc<Job>,
    tally: &Arc<Tally>,
    sent: Instant,
) -> (Outcome, Option<Instant>) {
    let deadline = sent + job.timeout();
    // The hedge can go only once the original is sent: a blocking connect cannot be stopped.
    if let Err(kind) = caught(|| client.open(conn, deadline)) {
        return (Err(kind), None);
    }
    let race = Race::new(conn.as_ref().and_then(E::stopper));
    race::watch(&race, client, job, tally, sent);
    let original = caught(|| client.exchange(conn, job, deadline));
    match race.original_ended() {
        Winner::Hedge(outcome, answered, spare) => {
            tally.hedge_won();
            *conn = spare;
            (outcome, Some(answered))
        }
        Winner::Original => (original, None),
    }
}

/// OS threads: a blocked thread waits in the kernel; a hedge gets a thread of the job's
/// stack size.
#[derive(Debug, Clone, Copy)]
pub struct Threads;

impl World for Threads {
    fn sleep(for_how_long: std::time::Duration) {
        std::thread::sleep(for_how_long);
    }
    fn spawn(job: &Job, body: Box<dyn FnOnce() + Send>) -> Result<(), ErrorKind> {
        std::thread::Builder::new()
            .stack_size(job.stack_bytes())
            .spawn(body)
            .map(drop)
            .map_err(|_| ErrorKind::ThreadSpawn)
    }
}

//! The async driver: one request's life as a future on any runtime whose timers it is given
//! ([`Timer`]: tokio's, smol's, compio's) — its due time, its attempts within the job's
//! timeout (`--retries`, a budget), its hedge (`--hedge-after-ms`: a second exchange raced
//! with the first, the loser dropped), the CPU work per response, the outcome and latency
//! recorded. The twin of [`super::blocking`].

use std::future::Future;
use std::pin::pin;
use std::time::{Duration, Instant};

use futures::future::{Either, select};

use super::exchange::{AsyncExchange, Outcome};
use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;
use crate::model::tally::Tally;

/// A runtime's timers, as the driver waits on them.
pub trait Timer {
    /// Completes after `for_how_long`.
    fn sleep(for_how_long: Duration) -> impl Future<Output = ()>;
}

/// One request on the slot's connection `conn` through `client`, on the runtime of `T`,
/// recorded in `tally`. The connection is dropped after an error, a timeout or a response
/// that closes it.
pub async fn request<T: Timer, E: AsyncExchange>(
    client: &E,
    conn: &mut Option<E::Conn>,
    job: &Job,
    tally: &Tally,
) {
    let Some(due) = job.due(tally) else {
        return;
    };
    let early = due.saturating_duration_since(Instant::now());
    if !early.is_zero() {
        T::sleep(early).await;
    }
    // Latency counts from the due time (at --rate; in closed loop, now); the timeout from
    // the send.
    let in_flight = tally.start();
    let sent = in_flight.sent();
    let attempts = async {
        let mut retries = 0;
        loop {
            // Boxed: a future's size is that of its largest branch, and the hedge's two
            // exchanges would otherwise sit in every request's future, hedged or not.
            let outcome = if job.settings.hedging() {
                Box::pin(hedged::<T, E>(client, conn, job, tally, sent)).await
            } else {
                client.exchange(conn, job).await
            };
            if !matches!(outcome, Ok(true)) {
                *conn = None;
            }
            match job.retry_wait(tally, retries, &outcome, sent) {
                Some(wait) => T::sleep(wait).await,
                None => break (outcome, retries),
            }
            retries += 1;
        }
    };
    let (outcome, retries) = within::<T, _>(job.timeout(), attempts)
        .await
        .unwrap_or((Err(ErrorKind::Timeout), 0));
    if !matches!(outcome, Ok(true)) {
        *conn = None;
    }
    if retries > 0 && outcome.is_ok() {
        tally.retry_recovered();
    }
    // The CPU work counts in the latency.
    let outcome = match outcome {
        Ok(_) => client.work(job).await,
        Err(kind) => Err(kind),
    };
    in_flight.record(due.elapsed(), outcome);
}

/// `work`'s output if it ends within `limit`; dropped (cancelled) otherwise.
pub async fn within<T: Timer, O>(limit: Duration, work: impl Future<Output = O>) -> Option<O> {
    match select(pin!(work), pin!(T::sleep(limit))).await {
        Either::Left((output, _)) => Some(output),
        Either::Right(((), _)) => None,
    }
}

/// The exchange on the slot's connection and, if it has not answered by its hedge moment
/// ([`Job::hedge_at`]) and the budget allows, the same request again on the client's spare
/// ([`AsyncExchange::spare`]: a connection of its own, or another stream): whichever answers
/// first is the outcome, the other is dropped — its socket closed or its stream reset, which
/// the server counts as a request its client abandoned. A hedge that wins leaves its
/// connection to the slot.
async fn hedged<T: Timer, E: AsyncExchange>(
    client: &E,
    conn: &mut Option<E::Conn>,
    job: &Job,
    tally: &Tally,
    sent: Instant,
) -> Outcome {
    let mut spare = client.spare(conn);
    // Boxed, so that dropping it cancels it here, when the hedge wins.
    let mut first = Box::pin(client.exchange(conn, job));
    let moment = pin!(hedge_moment::<T>(job, tally, sent));
    if let Either::Left((outcome, _)) = select(first.as_mut(), moment).await {
        return outcome;
    }
    if !tally.hedge(job.settings.hedge_max_extra) {
        return first.await;
    }
    let outcome = {
        let second = pin!(client.exchange(&mut spare, job));
        match select(first.as_mut(), second).await {
            Either::Left((outcome, _)) => return outcome,
            Either::Right((outcome, _)) => outcome,
        }
    };
    // The hedge answered first: the original goes, with its connection mid-request.
    drop(first);
    tally.hedge_won();
    *conn = spare;
    outcome
}

/// Waits until the request sent at `sent` is to be hedged ([`Job::hedge_wait`], asked again
/// as the estimate it rests on moves); never returns without hedging.
pub async fn hedge_moment<T: Timer>(job: &Job, tally: &Tally, sent: Instant) {
    while let Some(wait) = job.hedge_wait(tally, sent) {
        T::sleep(wait).await;
    }
}

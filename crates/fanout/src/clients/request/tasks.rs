//! The async driver: one request's life as a future on any runtime whose timers it is given
//! ([`Timer`]: tokio's, smol's, compio's) — its due time, its attempts within the job's
//! timeout (`--retries`, a budget), its hedge (`--hedge-after-ms`: a second exchange raced
//! with the first, the loser dropped), the CPU work per response, the outcome and latency
//! recorded. The twin of [`super::blocking`].

use std::future::Future;
use std::pin::{Pin, pin};
use std::time::{Duration, Instant};

use futures::future::{Either, select};

use super::exchange::{AsyncExchange, Outcome};
use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;
use crate::model::tally::Tally;

/// A runtime's timers, as the driver waits on them.
pub trait Timer {
    /// What [`Timer::alarm`] returns, kept by a slot from one request to the next.
    type Alarm: Future<Output = ()>;
    /// Completes after `for_how_long`.
    fn sleep(for_how_long: Duration) -> impl Future<Output = ()>;
    /// Completes at `at`.
    fn alarm(at: Instant) -> Self::Alarm;
}

/// What a slot keeps from one request to the next: its connection and its deadline's alarm.
pub struct Slot<T: Timer, C> {
    /// The slot's connection: `None` until its client opens one, and after one that cannot
    /// carry the next request.
    pub conn: Option<C>,
    deadline: Deadline<T>,
}

impl<T: Timer, C> Default for Slot<T, C> {
    fn default() -> Self {
        Self {
            conn: None,
            deadline: Deadline::default(),
        }
    }
}

impl<T: Timer, C> Slot<T, C> {
    /// A slot on an open connection.
    pub fn on(conn: C) -> Self {
        Self {
            conn: Some(conn),
            ..Self::default()
        }
    }
}

/// A slot's alarm for its requests' deadlines. A slot's first request races a one-shot timer
/// on its own stack, as a slot made for one request needs; from its second on, the slot
/// keeps one alarm (boxed, to outlive the request) and sets it again only when it rings
/// before the deadline of the request in flight: a request's deadline is later than the last
/// one's, so a slot whose requests answer within their timeout sets one alarm per timeout,
/// not one per request (a timer set and cleared per request was about 5% of the HTTP/2
/// floor's CPU).
struct Deadline<T: Timer> {
    /// The kept alarm and when it rings.
    kept: Option<(Instant, Pin<Box<T::Alarm>>)>,
    /// Whether the slot has had a request: the next keeps its alarm.
    served: bool,
}

impl<T: Timer> Default for Deadline<T> {
    fn default() -> Self {
        Self {
            kept: None,
            served: false,
        }
    }
}

impl<T: Timer> Deadline<T> {
    /// `work`'s output if it ends by `deadline`; `None` otherwise, and the caller drops
    /// (cancels) it. `work` is pinned where the caller made it: taken by value, a request's
    /// exchange would be moved into this future and kept twice (a future's size counts every
    /// place a value was moved through): 1.2 KiB more per request in flight for `async_raw`.
    async fn by<O>(
        &mut self,
        deadline: Instant,
        mut work: Pin<&mut impl Future<Output = O>>,
    ) -> Option<O> {
        if !std::mem::replace(&mut self.served, true) {
            return match select(work, pin!(T::alarm(deadline))).await {
                Either::Left((output, _)) => Some(output),
                Either::Right(((), _)) => None,
            };
        }
        loop {
            let (rings, alarm) = match &mut self.kept {
                Some((rings, alarm)) if *rings <= deadline => (*rings, alarm),
                // None yet, or one later than this deadline (a shorter timeout than the last).
                unset => {
                    let (_, alarm) = unset.insert((deadline, Box::pin(T::alarm(deadline))));
                    (deadline, alarm)
                }
            };
            match select(work.as_mut(), alarm.as_mut()).await {
                Either::Left((output, _)) => return Some(output),
                Either::Right(((), _)) => {
                    self.kept = None;
                    if rings >= deadline {
                        return None;
                    }
                    // An earlier request's deadline: set again for this one.
                }
            }
        }
    }
}

/// One request on the slot's connection through `client`, on the runtime of `T`, recorded
/// in `tally`. The connection is dropped after an error, a timeout or a response that closes
/// it.
pub async fn request<T: Timer, E: AsyncExchange>(
    client: &E,
    slot: &mut Slot<T, E::Conn>,
    job: &Job,
    tally: &Tally,
) {
    let Some(due) = job.due(tally) else {
        return;
    };
    let early = due.early();
    let sent = if early.is_zero() {
        due.asked
    } else {
        T::sleep(early).await;
        Instant::now()
    };
    // Latency counts from the due time (at --rate; in closed loop, now); the timeout from
    // the send.
    let in_flight = tally.start_at(sent);
    let ended = {
        let conn = &mut slot.conn;
        // Made and pinned once, here: the deadline only borrows it, and it is dropped
        // (cancelled, where the deadline passed) at the end of this block.
        let attempts = pin!(async {
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
        });
        slot.deadline.by(sent + job.timeout(), attempts).await
    };
    let (outcome, retries) = ended.unwrap_or((Err(ErrorKind::Timeout), 0));
    if !matches!(outcome, Ok(true)) {
        slot.conn = None;
    }
    if retries > 0 && outcome.is_ok() {
        tally.retry_recovered();
    }
    // The CPU work counts in the latency.
    let outcome = match outcome {
        Ok(_) => client.work(job).await,
        Err(kind) => Err(kind),
    };
    in_flight.record(due.at.elapsed(), outcome);
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::runtime::{Tokio, current_thread_runtime};

    #[test]
    fn an_alarm_set_for_an_earlier_deadline_is_set_again_not_taken_for_this_one() {
        current_thread_runtime().expect("runtime").block_on(async {
            let mut slot = Slot::<Tokio, ()>::default();
            let start = Instant::now();
            // The first request races a timer of its own and keeps none; the second answers
            // at once and leaves the slot's alarm, due in 5 ms.
            let work = pin!(async { 0 });
            let first = slot.deadline.by(start + Duration::from_millis(5), work);
            assert_eq!(first.await, Some(0));
            assert!(
                slot.deadline.kept.is_none(),
                "a first request keeps no alarm"
            );
            let work = pin!(async { 1 });
            let first = slot.deadline.by(start + Duration::from_millis(5), work);
            assert_eq!(first.await, Some(1));
            assert!(slot.deadline.kept.is_some(), "the second keeps its alarm");
            // The next one takes 50 ms against a deadline a minute away: the old alarm rings
            // on the way, and is set again rather than ending it.
            let slow = tokio::time::sleep(Duration::from_millis(50));
            let work = pin!(async {
                slow.await;
                2
            });
            let second = slot.deadline.by(start + Duration::from_secs(60), work);
            assert_eq!(second.await, Some(2));
            // One that never answers ends at its deadline, dropped.
            let work = pin!(std::future::pending::<()>());
            let never = slot
                .deadline
                .by(Instant::now() + Duration::from_millis(20), work);
            assert_eq!(never.await, None);
        });
    }
}

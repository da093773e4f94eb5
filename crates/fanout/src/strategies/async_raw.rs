//! `async_raw`: the tasks' floor — C tokio tasks, each owning one keep-alive socket, taking
//! requests one at a time; the shared raw codec, no client library. Twin of `thread_raw`.

use std::sync::Arc;

use tokio::task::JoinSet;

use super::strategy::{Pool, Strategy, StrategyError};
use super::tasks::join_all;
use crate::clients::request::tasks::{self, Slot};
use crate::clients::runtime::{Tokio, multi_thread_runtime};
use crate::model::job::Job;
use crate::model::tally::Tally;
use crate::clients::raw::{Countdown, RawAsync, RawRequest};
use crate::model::subject::{RunsOn, HeldBy, ClientLib, Holds, Kind, Subject, Family, Part};


/// The facts of `async_raw`.
pub const STRATEGY: Strategy = Strategy {
    subject: Subject {
            name: "async_raw",
            models: "the tasks' floor: C tokio tasks, one keep-alive socket each, no client library",
            holds: Holds::Concurrency,
            held_by: HeldBy::Task,
            runs_on: RunsOn::Tokio,
            client: ClientLib::Raw,
            protocol: None,
            connection_per_request: false,
            kind: Kind::Strategy,
            family: Some(Family {
                model: "tokio tasks",
                part: Part::Floor,
            }),
    },
    pool: Pool::SocketPerSlot,
    run,
};

/// C slots, each a task with its own connection, until N requests are taken: no future per
/// request waits anywhere.
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let client = RawAsync::new(&Arc::new(RawRequest::for_job(job)?));
    let work = Arc::new(Countdown::new(job.requests));
    let runtime = multi_thread_runtime(job).map_err(StrategyError::Runtime)?;
    runtime.block_on(async {
        let mut slots = JoinSet::new();
        for _ in 0..job.concurrency.min(job.requests) {
            let (client, work) = (client.clone(), Arc::clone(&work));
            let (job, tally) = (Arc::clone(job), Arc::clone(tally));
            slots.spawn(async move {
                let mut slot = Slot::default();
                while work.take() {
                    tasks::request::<Tokio, _>(&client, &mut slot, &job, &tally).await;
                }
            });
        }
        join_all(slots, tally).await;
        Ok(())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::clients::request::exchange::AsyncExchange;
    use crate::planning::{catalog, point::Point};

    #[test]
    fn a_request_holds_its_exchange_once_and_little_else() {
        // What a task in flight costs is mostly its request's future: the driver's state
        // around the exchange (deadline, retries) must not hold the exchange twice.
        let point = Point::new(catalog::find("async_raw").expect("a strategy"), 10);
        let job = point.job("http://127.0.0.1:1/");
        let client = RawAsync::new(&Arc::new(RawRequest::for_job(&job).expect("a request")));
        let tally = Tally::default();
        let mut conn = None;
        let exchange = std::mem::size_of_val(&client.exchange(&mut conn, &job));
        let mut slot = Slot::<Tokio, tokio::net::TcpStream>::default();
        let request = std::mem::size_of_val(&tasks::request::<Tokio, _>(
            &client, &mut slot, &job, &tally,
        ));
        assert!(
            request < exchange + 512,
            "a request's future is {request} bytes around an exchange of {exchange}"
        );
    }
}

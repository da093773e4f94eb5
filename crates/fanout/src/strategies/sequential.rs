//! `sequential`: one ureq Agent, one request after another — the synchronous baseline.

use std::sync::Arc;

use super::strategy::{Pool, Strategy, StrategyError};
use crate::clients::request::blocking;
use crate::clients::ureq_agent::{self, Ureq, ureq_agent};
use crate::model::job::Job;
use crate::model::tally::Tally;
use crate::model::subject::{RunsOn, HeldBy, ClientLib, Holds, Kind, Subject};


/// The facts of `sequential`.
pub const STRATEGY: Strategy = Strategy {
    subject: Subject {
            name: "sequential",
            models: "one ureq Agent, one request after another (the synchronous baseline)",
            holds: Holds::One,
            held_by: HeldBy::Thread,
            runs_on: RunsOn::Threads,
            client: ClientLib::Ureq,
            protocol: None,
            connection_per_request: false,
            kind: Kind::Strategy,
            family: None,
    },
    pool: Pool::OneAgent,
    run,
};

/// Runs `job.requests` requests one after another on the calling thread (C is ignored).
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let client = Ureq {
        uri: ureq_agent::target(job)?,
        agent: ureq_agent(job, 1),
    };
    for _ in 0..job.requests {
        blocking::request(&client, &mut None, job, tally);
    }
    Ok(())
}

//! `sequential`: one ureq Agent, one request after another — the synchronous baseline.

use std::sync::Arc;

use super::StrategyError;
use crate::client::{get_blocking, ureq_agent};
use crate::job::{Job, Tally};

/// Runs `job.requests` requests one after another on the calling thread (C is ignored).
pub fn run(job: &Arc<Job>, tally: &Arc<Tally>) -> Result<(), StrategyError> {
    let agent = ureq_agent(job, 1);
    for _ in 0..job.requests {
        get_blocking(&agent, job, tally);
    }
    Ok(())
}

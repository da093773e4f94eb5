//! What every strategy is: its facts (the [`Subject`] face it shares with the peers) and its
//! entry point, one `pub fn run(job, tally)` of the same signature in each strategy's file.

use std::sync::Arc;

use crate::model::job::Job;
use crate::model::subject::Subject;
use crate::model::tally::Tally;

/// A strategy: its facts and its entry point.
#[derive(Debug, Clone, Copy)]
pub struct Strategy {
    /// Its facts: name, model, what it holds in flight, what it runs on.
    pub subject: Subject,
    /// Its entry point: runs the job's N requests, recording each in the tally.
    pub run: RunFn,
}

/// Every strategy's entry point.
pub type RunFn = fn(&Arc<Job>, &Arc<Tally>) -> Result<(), StrategyError>;

/// A failure that stops a strategy before it can run its requests.
#[derive(Debug, thiserror::Error)]
pub enum StrategyError {
    /// The tokio runtime could not be built.
    #[error("building the tokio runtime: {0}")]
    Runtime(#[source] std::io::Error),
    /// The reqwest client could not be built.
    #[error("building the reqwest client: {0}")]
    Client(#[source] reqwest::Error),
    /// The raw client cannot send to this URL.
    #[error("the raw client's request: {0}")]
    RawRequest(String),
}

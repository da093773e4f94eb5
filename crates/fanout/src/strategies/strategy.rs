//! What every strategy is: its facts (the [`Subject`] face it shares with the peers) and its
//! entry point, one `pub fn run(job, tally)` of the same signature in each strategy's file.

use crate::clients::reqwest_client::ClientError;
use crate::clients::url_error::UrlError;
use std::sync::Arc;

use crate::clients;
use crate::model::client_config::ClientConfig;
use crate::model::job::Job;
use crate::model::settings::Settings;
use crate::model::subject::{RunsOn, Subject};
use crate::model::tally::Tally;

/// A strategy: its facts, how it pools connections, and its entry point.
#[derive(Debug, Clone, Copy)]
pub struct Strategy {
    /// Its facts: name, model, what it holds in flight, what it runs on.
    pub subject: Subject,
    /// How it holds its connections.
    pub pool: Pool,
    /// Its entry point: runs the job's N requests, recording each in the tally.
    pub run: RunFn,
}

impl Strategy {
    /// What this strategy configures at concurrency C with `settings`, as its report records.
    pub fn client_config(&self, concurrency: usize, settings: &Settings) -> ClientConfig {
        let pool = self.pool.describe(concurrency);
        let mut config = clients::config::of(self.subject.client, pool, settings);
        let workers = settings.tokio_workers;
        config.runtime = match self.subject.runs_on {
            RunsOn::May => {
                let stack_bytes = settings.coroutine_stack_kib * 1024;
                Some(clients::coroutine::runtime(workers, stack_bytes))
            }
            RunsOn::Compio => Some(clients::uring::described(workers)),
            RunsOn::Smol => Some(clients::smol::described(workers)),
            RunsOn::Threads | RunsOn::Tokio | RunsOn::Own => None,
        };
        config
    }
}

/// How a strategy holds its connections.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Pool {
    /// One ureq Agent keeping one connection, one request after another.
    OneAgent,
    /// An Agent per thread, keeping that thread's one connection (ureq's shared pool scans
    /// every idle connection under one lock).
    AgentPerThread,
    /// One Agent shared by every task, up to C idle connections.
    SharedAgent,
    /// One reqwest Client shared by every request, up to C idle connections.
    SharedClient,
    /// A new reqwest Client, so a new connection, per request.
    ClientPerRequest,
    /// One keep-alive socket per slot (a thread or a task), no pool.
    SocketPerSlot,
    /// As few HTTP/2 connections as the server's stream limit allows for C, every request a
    /// stream on one of them.
    StreamsUnderTheLimit,
    /// One client per runtime thread (cyper on compio), its hyper pool keeping every idle
    /// connection.
    ClientPerThread,
}

impl Pool {
    /// In words, at concurrency C.
    pub fn describe(self, concurrency: usize) -> String {
        match self {
            Self::OneAgent => "one Agent, one connection, one request after another".into(),
            Self::AgentPerThread => "an Agent per thread, keeping its one connection".into(),
            Self::SharedAgent => {
                format!("one Agent shared by every task, up to {concurrency} idle connections")
            }
            Self::SharedClient => {
                format!("one Client shared by every request, up to {concurrency} idle connections")
            }
            Self::ClientPerRequest => "a new Client per request: a new connection each".into(),
            Self::SocketPerSlot => "one keep-alive socket per slot, no pool".into(),
            Self::StreamsUnderTheLimit => {
                "HTTP/2 connections enough for C under the server's stream limit \
                 (ceil(C / SETTINGS_MAX_CONCURRENT_STREAMS), read from its SETTINGS), every \
                 request a stream"
                    .into()
            }
            Self::ClientPerThread => {
                "one cyper Client per runtime thread, its hyper pool keeping every idle connection"
                    .into()
            }
        }
    }
}

/// Every strategy's entry point.
pub type RunFn = fn(&Arc<Job>, &Arc<Tally>) -> Result<(), StrategyError>;

/// A failure that stops a strategy before it can run its requests.
#[derive(Debug, thiserror::Error)]
pub enum StrategyError {
    /// The runtime (tokio's, or compio's on io_uring) could not be built.
    #[error("building the runtime")]
    Runtime(#[source] std::io::Error),
    /// The reqwest client could not be built.
    #[error("building the reqwest client")]
    Client(#[source] reqwest::Error),
    /// The job's URL is not one the strategy's client can send to (the raw codec, hyper's
    /// conn and h2 speak plain `http://` only).
    #[error("the job's URL")]
    Url(#[from] UrlError),
}

/// A reqwest client that could not be made: its URL is the job's, like every client's.
impl From<ClientError> for StrategyError {
    fn from(e: ClientError) -> Self {
        match e {
            ClientError::Url(why) => Self::Url(why),
            ClientError::Build(e) => Self::Client(e),
        }
    }
}

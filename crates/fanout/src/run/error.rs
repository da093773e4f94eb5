//! What can stop the orchestrator: the server, a worker process, an interruption.

use crate::metering::outside::OutsideError;

/// Errors of the orchestrator.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// The server process could not be started or did not announce its address.
    #[error("starting the mock server: {0}")]
    ServerStart(String),
    /// The server stopped answering.
    #[error("the mock server at {url} is not answering: {reason}")]
    ServerGone {
        /// Its base URL.
        url: String,
        /// What failed.
        reason: String,
    },
    /// A worker process could not be run, or SIGINT or SIGTERM stopped it.
    #[error(transparent)]
    Worker(#[from] OutsideError),
}

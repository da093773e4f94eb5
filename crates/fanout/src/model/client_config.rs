//! The client settings a point's strategy ran with, recorded in every result.

use serde::{Deserialize, Serialize};

/// The client settings of a point, recorded in every result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientConfig {
    /// How the reqwest strategies pool connections.
    pub reqwest_pool: String,
    /// How the ureq strategies pool connections.
    pub ureq_pool: String,
    /// ureq's input and output buffer per connection.
    pub ureq_buffer_bytes: usize,
    /// hyper's buffers are not configurable through reqwest: it starts at 8 KiB and grows.
    pub reqwest_buffer: String,
    /// Per-request timeout (both clients), milliseconds.
    pub timeout_ms: u64,
    /// TCP_NODELAY (both clients).
    pub tcp_nodelay: bool,
    /// Stack size of threads spawned by thread strategies, KiB.
    pub thread_stack_kib: usize,
    /// Worker threads of multi-thread tokio runtimes.
    pub tokio_workers: usize,
    /// Over HTTPS (`--tls`): the TLS library, versions and cipher suites both clients offer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<String>,
}

//! The client settings a point's strategy ran with, recorded in every result: what the
//! strategy configured (its client and version as built, its pool, its buffers), not prose
//! about every strategy at once.

use serde::{Deserialize, Serialize};

/// The client settings of a point, recorded in every result.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ClientConfig {
    /// The HTTP client and its version, as built (`ureq 3.1.4`; empty in runs before
    /// 2026-12-01).
    #[serde(default)]
    pub client: String,
    /// How the strategy pools connections, from its facts.
    #[serde(default)]
    pub pool: String,
    /// The client's buffers per connection.
    #[serde(default)]
    pub buffers: String,
    /// Per-request timeout, milliseconds.
    pub timeout_ms: u64,
    /// TCP_NODELAY.
    pub tcp_nodelay: bool,
    /// Stack size of threads spawned by thread strategies, KiB.
    pub thread_stack_kib: usize,
    /// Worker threads of multi-thread tokio runtimes.
    pub tokio_workers: usize,
    /// What ran the requests beyond the settings above, where it matters: may's scheduler
    /// (workers, coroutine stack), compio's driver (io_uring or polling) and its threads.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub runtime: Option<String>,
    /// Over HTTPS (`--tls`): the TLS library and version, protocol versions and cipher
    /// suites offered.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<String>,
    /// Runs before 2026-12-01: the reqwest strategies' pool, whatever the strategy was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reqwest_pool: Option<String>,
    /// Runs before 2026-12-01: the ureq strategies' pool, whatever the strategy was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ureq_pool: Option<String>,
    /// Runs before 2026-12-01: ureq's buffer per connection, bytes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ureq_buffer_bytes: Option<usize>,
    /// Runs before 2026-12-01: hyper's buffers.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reqwest_buffer: Option<String>,
}

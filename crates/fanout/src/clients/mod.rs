//! The HTTP clients the strategies run on, each with the settings every strategy of it
//! shares, one request with the same checks, and a classifier of its own errors into
//! fanout's kinds: ureq (blocking), reqwest and hyper (async, tokio), h2 (HTTP/2 streams),
//! cyper (on compio), fanout's raw HTTP/1.1 codec (blocking, tokio, smol, may coroutine and
//! io_uring twins), TLS, and the runtimes (tokio, smol, may, compio).

pub mod config;
pub mod coroutine;
pub mod cyper_client;
pub mod deadline_keeper;
pub mod destinations;
pub mod h2_conn;
pub mod h2_threads;
pub mod hyper_conn;
pub mod plain_url;
pub mod raw;
pub mod raw_smol;
pub mod raw_uring;
pub mod request;
pub mod reqwest_client;
pub mod runtime;
pub mod smol;
pub mod tls;
pub mod ureq_agent;
pub mod uring;
pub mod url_error;

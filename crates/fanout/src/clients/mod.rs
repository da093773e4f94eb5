//! The HTTP clients the strategies run on, each with the settings every strategy of it
//! shares, one request with the same checks, and a classifier of its own errors into
//! fanout's kinds: ureq (blocking), reqwest (async), fanout's raw HTTP/1.1 codec (blocking
//! and async twins), TLS for the first two, and the tokio runtimes.

pub mod config;
pub mod coroutine;
pub mod cyper_client;
pub mod h2_conn;
pub mod hyper_conn;
pub mod plain_url;
pub mod raw;
pub mod raw_smol;
pub mod raw_uring;
pub mod reqwest_client;
pub mod runtime;
pub mod smol;
pub mod tls;
pub mod ureq_agent;
pub mod uring;

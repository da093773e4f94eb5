//! mock-server: an HTTP delay server whose `/stats` shows what it really saw, so a client's
//! claimed concurrency can be checked against the server's.
//!
//! - [`routes`]: the router — `/get` (the benchmark endpoint), httpbin-compatible `/delay`,
//!   `/status`, `/bytes`, `/health`, and `/stats`, `/stats/reset`.
//! - [`params`]: parameter checks; a bad value is a 400 naming the parameter and its range.
//! - [`stats`]: requests and connections in flight, their peaks, delay overshoot.
//! - [`listener`]: bind with an explicit backlog; count connections; TCP_NODELAY.
//! - [`cli`]: the `mock-server` command line, also run by `fanout` as its server role.
//! - [`run`]: serve until a shutdown signal, then drain for a bounded time.

pub mod cli;
pub mod listener;
pub mod params;
pub mod routes;
pub mod stats;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

pub use routes::{AppState, app};
pub use stats::{Stats, StatsSnapshot};

/// The server's defaults and caps.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// Delay of `/get` and `/health` when the request names none.
    pub default_delay_ms: u64,
    /// Largest delay a request may ask for.
    pub max_delay_ms: u64,
    /// Largest body a request may ask for.
    pub max_bytes: u64,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            default_delay_ms: 0,
            max_delay_ms: 60_000,
            max_bytes: 10 * 1024 * 1024,
        }
    }
}

/// The body of `/get?bytes=N` and `/bytes/N`: `N` bytes of a repeating lowercase alphabet,
/// so a client can check what it read, not only how much.
pub fn response_body(len: usize) -> Vec<u8> {
    response_body_bytes(len).collect()
}

/// The bytes of [`response_body`] one by one, for a client to compare without allocating.
pub fn response_body_bytes(len: usize) -> impl Iterator<Item = u8> {
    (0..len).map(response_body_byte)
}

/// The byte at `index` of every [`response_body`] long enough to have one.
pub fn response_body_byte(index: usize) -> u8 {
    const ALPHABET: &[u8; 26] = b"abcdefghijklmnopqrstuvwxyz";
    ALPHABET[index % ALPHABET.len()]
}

/// Serves `app(state)` on `listener` until `shutdown` completes, then lets requests in flight
/// finish for at most `grace` before returning.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    let (stopping_tx, mut stopping_rx) = tokio::sync::watch::channel(false);
    let signal = async move {
        shutdown.await;
        let _ = stopping_tx.send(true);
    };
    let listener = listener::CountingListener::new(listener, Arc::clone(&state.stats));
    // Each connection gets its own `Connection`: the first request on it is told so.
    let service = app(state).into_make_service_with_connect_info::<routes::Connection>();
    let serve = axum::serve(listener, service).with_graceful_shutdown(signal);
    let deadline = async move {
        let _ = stopping_rx.wait_for(|stopping| *stopping).await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        result = serve => result,
        () = deadline => {
            tracing::warn!("requests still in flight after {grace:?}; stopping anyway");
            Ok(())
        }
    }
}

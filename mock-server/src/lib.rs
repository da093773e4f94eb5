//! mock-server: an HTTP delay server whose `/stats` shows what it really saw, so a client's
//! claimed concurrency can be checked against the server's.
//!
//! - [`routes`]: the router — `/get` (the benchmark endpoint), httpbin-compatible `/delay`,
//!   `/status`, `/bytes`, `/health`, and `/stats`, `/stats/reset`.
//! - [`query`]: the benchmark endpoint's query, typed: written by fanout, read here.
//! - [`delay`]: a request's delay as a distribution: drawn here, its mean and quantiles in
//!   fanout's ideal wall time.
//! - [`params`]: parameter checks; a bad value is a 400 naming the parameter and its range.
//! - [`stats`]: requests and connections in flight, their peaks, delay overshoot.
//! - [`listener`]: bind with an explicit backlog; count connections; TCP_NODELAY.
//! - [`tls`]: HTTPS with a self-signed certificate made at start.
//! - [`cli`]: the `mock-server` command line, also run by `fanout` as its server role.
//! - [`run`]: serve until a shutdown signal, then drain for a bounded time.

pub mod cli;
pub mod delay;
pub mod listener;
pub mod params;
pub mod query;
pub mod routes;
pub mod stats;
pub mod tls;

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
    /// SETTINGS_MAX_CONCURRENT_STREAMS of an HTTP/2 connection: streams one connection may
    /// have open at once.
    pub h2_max_streams: u32,
}

/// Default HTTP/2 stream limit: above the largest C any fanout sweep asks for (its `scale`
/// preset goes to 100,000), so one connection can carry every request in flight.
pub const DEFAULT_H2_MAX_STREAMS: u32 = 200_000;

impl Default for Config {
    fn default() -> Self {
        Self {
            default_delay_ms: 0,
            max_delay_ms: 60_000,
            max_bytes: 10 * 1024 * 1024,
            h2_max_streams: DEFAULT_H2_MAX_STREAMS,
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

/// Serves `app(state)` on `listener` — HTTP/1.1, and HTTP/2 with prior knowledge (h2c) on the
/// same port, told apart by the connection's first bytes — until `shutdown` completes, then
/// lets requests in flight finish for at most `grace` before returning.
pub async fn run(
    listener: TcpListener,
    state: AppState,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    run_with_tls(listener, state, None, shutdown, grace).await
}

/// [`run`], over TLS when `tls` is given (HTTP/2 then by ALPN or by its preface).
///
/// Its own accept loop rather than `axum::serve`: each connection's first request is known, a
/// TLS handshake runs on the connection's own task (never in the accept loop), and HTTP/2 gets
/// the configured stream limit.
pub async fn run_with_tls(
    listener: TcpListener,
    state: AppState,
    tls: Option<tls::Tls>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    use axum::serve::Listener as _;
    use hyper_util::rt::TokioExecutor;
    use hyper_util::server::conn::auto;
    use hyper_util::server::graceful::GracefulShutdown;

    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http2()
        .max_concurrent_streams(state.config.h2_max_streams);
    let stats = Arc::clone(&state.stats);
    let mut listener = listener::CountingListener::new(listener, Arc::clone(&stats));
    let router = app(state);
    let graceful = GracefulShutdown::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            (stream, _) = listener.accept() => {
                let service = ConnectionService {
                    router: router.clone(),
                    connection: routes::Connection::default(),
                };
                let (builder, watcher, tls, stats) =
                    (builder.clone(), graceful.watcher(), tls.clone(), Arc::clone(&stats));
                tokio::spawn(async move {
                    let served = match tls {
                        None => serve(&builder, watcher, stream, service).await,
                        Some(tls) => {
                            let started = std::time::Instant::now();
                            match tls.acceptor().accept(stream).await {
                                Ok(stream) => {
                                    stats.tls_handshake(started.elapsed());
                                    serve(&builder, watcher, stream, service).await
                                }
                                Err(e) => {
                                    stats.tls_handshake_failed();
                                    Err(e.into())
                                }
                            }
                        }
                    };
                    // A client that sends garbage or goes away ends its own connection only.
                    if let Err(e) = served {
                        tracing::debug!("connection ended: {e}");
                    }
                });
            }
            () = &mut shutdown => break,
        }
    }
    drop(listener);
    tokio::select! {
        () = graceful.shutdown() => {}
        () = tokio::time::sleep(grace) => {
            tracing::warn!("requests still in flight after {grace:?}; stopping anyway");
        }
    }
    Ok(())
}

/// The router as one connection's service: every request counts against the connection's
/// first; only one that asks for a connection delay is told which it was (an extension costs
/// an allocation).
#[derive(Clone)]
struct ConnectionService {
    router: axum::Router,
    connection: routes::Connection,
}

impl hyper::service::Service<hyper::Request<hyper::body::Incoming>> for ConnectionService {
    type Response = axum::response::Response;
    type Error = std::convert::Infallible;
    type Future = tower::util::Oneshot<axum::Router, hyper::Request<hyper::body::Incoming>>;

    fn call(&self, mut request: hyper::Request<hyper::body::Incoming>) -> Self::Future {
        use tower::ServiceExt as _;
        let first = self.connection.first_request();
        let asks = request
            .uri()
            .query()
            .is_some_and(query::GetQuery::asks_connect_delay);
        if asks {
            request
                .extensions_mut()
                .insert(routes::FirstOnConnection(first));
        }
        self.router.clone().oneshot(request)
    }
}

/// Serves one connection, HTTP/1.1 or HTTP/2, until it ends or the server drains.
async fn serve<I>(
    builder: &hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    watcher: hyper_util::server::graceful::Watcher,
    io: I,
    service: ConnectionService,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>>
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let connection = builder.serve_connection(hyper_util::rt::TokioIo::new(io), service);
    watcher.watch(connection.into_owned()).await
}

//! mock-server: an HTTP delay server whose `/stats` shows what it really saw, so a client's
//! claimed concurrency can be checked against the server's.
//!
//! - [`routes`]: the router — `/get` (the benchmark endpoint), httpbin-compatible `/delay`,
//!   `/status`, `/bytes`, `/health`, and `/stats`, `/stats/reset`.
//! - [`query`]: the benchmark endpoint's query, typed: written by fanout, read here.
//! - [`delay`]: a request's delay as a distribution: drawn here, its mean and quantiles in
//!   fanout's ideal wall time.
//! - [`fault`]: injected faults — their kinds, the seeded draw of the requests they hit,
//!   their counts.
//! - [`params`]: parameter checks; a bad value is a 400 naming the parameter and its range.
//! - [`stats`]: requests and connections in flight, their peaks, delay overshoot.
//! - [`listener`]: bind with an explicit backlog; count connections; TCP_NODELAY.
//! - [`connection`]: one connection's requests, against its keep-alive limit.
//! - [`profile`]: server profiles — the stream, connection and keep-alive limits of real
//!   servers' defaults.
//! - [`own`]: the server's own peak memory and CPU since `/stats` was reset.
//! - [`tls`]: HTTPS with a self-signed certificate made at start.
//! - [`cli`]: the `mock-server` command line, also run by `fanout` as its server role.
//! - [`run`]: serve until a shutdown signal, then drain for a bounded time.

pub mod cli;
pub mod connection;
pub mod delay;
pub mod draw;
pub mod fault;
pub mod listener;
pub mod own;
pub mod params;
pub mod profile;
pub mod query;
pub mod routes;
pub mod stats;
pub mod straggler;
pub mod tls;

use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;

pub use fault::{Fault, FaultCounts, FaultFlags, FaultKind};
pub use profile::{Profile, ServerFlags, ServerLimits};
pub use routes::{AppState, app};
pub use stats::{Stats, StatsSnapshot};
pub use straggler::{ServedDelay, Straggler, StragglerFlags};

/// The server's defaults and caps.
#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    /// Delay of `/get` and `/health` when the request names none.
    pub default_delay_ms: u64,
    /// Largest delay a request may ask for.
    pub max_delay_ms: u64,
    /// Largest body a request may ask for.
    pub max_bytes: u64,
    /// The profile its limits came from (changed by flags, perhaps).
    pub profile: Profile,
    /// Its stream, connection and keep-alive limits.
    pub limits: ServerLimits,
    /// The fault of every `/get` that names none (`--fault`).
    pub fault: Option<Fault>,
    /// The straggler share of every `/get` that names none (`--straggler-p`).
    pub straggler: Option<Straggler>,
}

impl Default for Config {
    fn default() -> Self {
        Self {
            default_delay_ms: 0,
            max_delay_ms: 60_000,
            max_bytes: 10 * 1024 * 1024,
            profile: Profile::Default,
            limits: Profile::Default.limits(),
            fault: None,
            straggler: None,
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
    run_with_tls(vec![listener], state, None, shutdown, grace).await
}

/// [`run`] on one or more listeners (one port at several loopback addresses), over TLS when
/// `tls` is given (HTTP/2 then by ALPN or by its preface).
///
/// Its own accept loop rather than `axum::serve`: each connection's first request is known, a
/// TLS handshake runs on the connection's own task (never in the accept loop), HTTP/2 gets the
/// configured stream limit, and the profile's connection and keep-alive limits hold: past
/// `max_connections` the loop stops accepting until a connection closes, a connection that
/// has served `keepalive_requests` responses is closed (HTTP/2: GOAWAY), and an HTTP/1.1
/// connection idle for `keepalive_timeout_ms` is closed.
pub async fn run_with_tls(
    listeners: Vec<TcpListener>,
    state: AppState,
    tls: Option<tls::Tls>,
    shutdown: impl Future<Output = ()> + Send + 'static,
    grace: Duration,
) -> std::io::Result<()> {
    use axum::serve::Listener as _;
    use hyper_util::rt::{TokioExecutor, TokioTimer};
    use hyper_util::server::conn::auto;

    let limits = state.config.limits;
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder
        .http2()
        .max_concurrent_streams(limits.h2_max_streams);
    // hyper's header read timeout runs while an HTTP/1.1 connection waits for its next
    // request: the keep-alive idle limit. Without a timer it never fires (no limit).
    if let Some(ms) = limits.keepalive_timeout_ms {
        builder
            .http1()
            .timer(TokioTimer::new())
            .header_read_timeout(Duration::from_millis(ms));
    }
    let stats = Arc::clone(&state.stats);
    let slots = limits
        .max_connections
        .map(|n| Arc::new(tokio::sync::Semaphore::new(n as usize)));
    let mut listener = listener::CountingListener::new(listeners, Arc::clone(&stats));
    let default_fault = state.config.fault.is_some();
    let router = app(state);
    // Every connection task holds a clone: the drain waits for the count to fall back to one.
    let live = Arc::new(());
    let (stop, stopping) = tokio::sync::watch::channel(false);
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        let slot = match &slots {
            None => None,
            Some(slots) => tokio::select! {
                slot = take_slot(slots, &stats) => Some(slot),
                () = &mut shutdown => break,
            },
        };
        let (stream, _) = tokio::select! {
            accepted = listener.accept() => accepted,
            () = &mut shutdown => break,
        };
        let connection = Arc::new(connection::Connection::new(
            limits.keepalive_requests,
            Arc::clone(&stats),
            stream.reset_on_close(),
        ));
        let service = ConnectionService {
            router: router.clone(),
            connection: Arc::clone(&connection),
            default_fault,
        };
        let (builder, tls, stats) = (builder.clone(), tls.clone(), Arc::clone(&stats));
        let (live, stopping) = (Arc::clone(&live), stopping.clone());
        tokio::spawn(async move {
            let _held = (slot, live);
            let ends = Ends {
                connection,
                stopping,
            };
            let served = match tls {
                None => serve(&builder, stream, service, ends).await,
                Some(tls) => {
                    let started = std::time::Instant::now();
                    match tls.acceptor().accept(stream).await {
                        Ok(stream) => {
                            stats.tls_handshake(started.elapsed());
                            serve(&builder, stream, service, ends).await
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
                if calmed(&*e) {
                    stats.calmed();
                }
                tracing::debug!("connection ended: {e}");
            }
        });
    }
    drop(listener);
    let _ = stop.send(true);
    let deadline = tokio::time::Instant::now() + grace;
    while Arc::strong_count(&live) > 1 {
        if tokio::time::Instant::now() >= deadline {
            tracing::warn!("requests still in flight after {grace:?}; stopping anyway");
            break;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    Ok(())
}

/// A permit for one more open connection; counts a wait when none is free.
async fn take_slot(
    slots: &Arc<tokio::sync::Semaphore>,
    stats: &Stats,
) -> tokio::sync::OwnedSemaphorePermit {
    if let Ok(slot) = Arc::clone(slots).try_acquire_owned() {
        return slot;
    }
    stats.connection_limit_wait();
    Arc::clone(slots)
        .acquire_owned()
        .await
        .expect("the semaphore is never closed")
}

/// What can end a connection besides its client: its keep-alive limit, a fault, the server's
/// drain.
struct Ends {
    connection: Arc<connection::Connection>,
    stopping: tokio::sync::watch::Receiver<bool>,
}

/// The router as one connection's service: every request counts against the connection's
/// first; only one that asks for a connection delay is told which it was, and only one that
/// may draw a fault is handed its connection (an extension costs an allocation).
#[derive(Clone)]
struct ConnectionService {
    router: axum::Router,
    connection: Arc<connection::Connection>,
    /// The server has a default fault: every request may draw it.
    default_fault: bool,
}

impl hyper::service::Service<hyper::Request<hyper::body::Incoming>> for ConnectionService {
    type Response = axum::response::Response;
    type Error = std::convert::Infallible;
    type Future = connection::Respond<
        tower::util::Oneshot<axum::Router, hyper::Request<hyper::body::Incoming>>,
    >;

    fn call(&self, mut request: hyper::Request<hyper::body::Incoming>) -> Self::Future {
        use tower::ServiceExt as _;
        let started = self.connection.request_started();
        let first = started.first;
        // HTTP/1.1 says its last response with `Connection: close` (HTTP/2 has GOAWAY and
        // forbids the header).
        let closes = started.last && request.version() < hyper::Version::HTTP_2;
        let raw_query = request.uri().query().unwrap_or("");
        let asks_delay = query::GetQuery::asks_connect_delay(raw_query);
        let may_fault = self.default_fault || query::GetQuery::asks_fault(raw_query);
        if asks_delay {
            request
                .extensions_mut()
                .insert(routes::FirstOnConnection(first));
        }
        if may_fault {
            request
                .extensions_mut()
                .insert(routes::OnConnection(Arc::clone(&self.connection)));
        }
        connection::Respond::new(self.router.clone().oneshot(request), closes)
    }
}

/// Whether a connection ended with h2's own GOAWAY ENHANCE_YOUR_CALM: its guard against a
/// client resetting streams faster than the server accepts them (the rapid-reset attack,
/// CVE-2023-44487), which a storm of cancelled hedges also trips.
fn calmed(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cause = Some(e);
    while let Some(e) = cause {
        if let Some(h2) = e.downcast_ref::<h2::Error>() {
            return h2.is_go_away()
                && !h2.is_remote()
                && h2.reason() == Some(h2::Reason::ENHANCE_YOUR_CALM);
        }
        cause = e.source();
    }
    false
}

/// Serves one connection, HTTP/1.1 or HTTP/2, until it ends; asked to end (its keep-alive
/// limit reached, a fault, or the server draining), it finishes the requests in flight and
/// closes; asked to reset (a fault), it drops everything at once.
async fn serve<I>(
    builder: &hyper_util::server::conn::auto::Builder<hyper_util::rt::TokioExecutor>,
    io: I,
    service: ConnectionService,
    mut ends: Ends,
) -> Result<(), Box<dyn std::error::Error + Send + Sync>>
where
    I: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
{
    let connection = builder
        .serve_connection(hyper_util::rt::TokioIo::new(io), service)
        .into_owned();
    let mut connection = std::pin::pin!(connection);
    let mut closing = false;
    loop {
        tokio::select! {
            served = connection.as_mut() => return served,
            () = ends.connection.close_asked(), if !closing => {
                closing = true;
                connection.as_mut().graceful_shutdown();
            }
            () = ends.connection.reset_asked() => {
                return Err("reset by an injected fault".into());
            }
            _ = ends.stopping.changed(), if !closing => {
                closing = true;
                connection.as_mut().graceful_shutdown();
            }
        }
    }
}

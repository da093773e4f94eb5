//! The router: the benchmark endpoint `/get`, httpbin-compatible endpoints, and `/stats`.

use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant};

use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderValue, StatusCode, Uri, Version, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use futures::StreamExt as _;
use serde_json::json;

use crate::connection::Connection;
use crate::fault::FaultKind;
use crate::params::{self, BadParam};
use crate::query::{self, GetQuery};
use crate::stats::{Stats, StatsSnapshot};
use crate::{Config, response_body};

/// What every handler shares.
#[derive(Debug, Clone)]
pub struct AppState {
    /// Defaults and caps.
    pub config: Config,
    /// Live counters.
    pub stats: Arc<Stats>,
}

/// Builds the router. Every endpoint but `/stats` counts as a request in flight.
pub fn app(state: AppState) -> Router {
    Router::new()
        .route("/", get(get_endpoint))
        .route("/get", get(get_endpoint))
        .route("/delay/{seconds}", get(delay_endpoint))
        .route("/status/{code}", get(status_endpoint))
        .route("/bytes/{n}", get(bytes_endpoint))
        .route("/health", get(health_endpoint))
        .route("/stats", get(stats_endpoint))
        .route("/stats/reset", post(reset_endpoint))
        .fallback(not_found)
        .with_state(state)
}

/// Counts `handler` as a request in flight until it has produced its response. Done in each
/// handler rather than as a middleware layer: a `from_fn` layer boxes every request's future
/// and clones the state twice, which cost the server several percent of its capacity.
async fn in_flight<R: IntoResponse>(stats: &Stats, handler: impl Future<Output = R>) -> Response {
    let guard = stats.request_started();
    let response = handler.await.into_response();
    guard.completed();
    response
}

impl IntoResponse for BadParam {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, format!("{self}\n")).into_response()
    }
}

type Params = Query<Vec<(String, String)>>;

/// Whether a request was the first on its connection: set by [`crate::run`] on requests that
/// ask for `connect_delay_ms`.
#[derive(Debug, Clone, Copy)]
pub struct FirstOnConnection(pub bool);

/// The connection a request arrived on, for the faults that act on it: set by [`crate::run`]
/// on requests that may draw one.
#[derive(Debug, Clone)]
pub struct OnConnection(pub Arc<Connection>);

/// `GET /get?delay_ms=&jitter_ms=&delay_dist=&sigma=&connect_delay_ms=&bytes=&status=&fault=…`:
/// the benchmark endpoint. The delay is `delay_ms`, plus or minus a uniform `jitter_ms`, or,
/// with `delay_dist=lognormal`, drawn from a lognormal of median `delay_ms` and shape `sigma`;
/// the first request on a connection waits `connect_delay_ms` more (a handshake's worth). A
/// request that draws a fault (its own `fault=`, else the server's default) gets it instead of
/// its plain answer: see [`FaultKind`].
async fn get_endpoint(
    State(state): State<AppState>,
    first: Option<Extension<FirstOnConnection>>,
    on: Option<Extension<OnConnection>>,
    version: Version,
    params: Params,
) -> Response {
    // Without it (a router called directly) every request counts as a first.
    let first = first.is_none_or(|Extension(FirstOnConnection(first))| first);
    let on = Arrived {
        first_on_connection: first,
        connection: on.map(|Extension(OnConnection(c))| c),
        http2: version == Version::HTTP_2,
    };
    in_flight(&state.stats, get_response(&state, &params, on)).await
}

/// Where a request arrived: whether first on its connection, the connection (when a fault may
/// act on it), and over which protocol.
struct Arrived {
    first_on_connection: bool,
    connection: Option<Arc<Connection>>,
    http2: bool,
}

async fn get_response(
    state: &AppState,
    params: &Params,
    on: Arrived,
) -> Result<Response, BadParam> {
    let cfg = &state.config;
    let query = GetQuery::parse(params, cfg)?;
    let fault = query.fault.or(cfg.fault);
    let drawn = fault.and_then(|f| state.stats.faults().draw(&f).map(|_| f));
    match drawn.map(|f| f.kind) {
        Some(FaultKind::Stall) => {
            let longest = Duration::from_millis(cfg.max_delay_ms);
            return Ok(stall(&state.stats, longest, body_of(query.bytes)).await);
        }
        Some(FaultKind::Goaway) => close_gracefully(&on),
        _ => {}
    }
    let mut delay_ms = query.delay.sample_ms();
    if let Some(straggler) = query.straggler.or(cfg.straggler)
        && state.stats.straggles(&straggler)
    {
        delay_ms = straggler.slowed(delay_ms);
    }
    if query.connect_delay_ms > 0 && on.first_on_connection {
        state.stats.connection_delayed();
        delay_ms = delay_ms.saturating_add(query.connect_delay_ms);
    }
    delay(
        &state.stats,
        Duration::from_millis(delay_ms.min(cfg.max_delay_ms)),
    )
    .await;
    let status = StatusCode::from_u16(query.status).expect("200..=599 are valid status codes");
    let body = body_of(query.bytes);
    let Some(fault) = drawn else {
        return Ok((status, body).into_response());
    };
    Ok(match fault.kind {
        FaultKind::Stall | FaultKind::Goaway | FaultKind::AcceptStall => {
            (status, body).into_response()
        }
        FaultKind::Status => {
            let code = StatusCode::from_u16(fault.code).expect("500..=599 are valid status codes");
            (code, body).into_response()
        }
        FaultKind::Reset => cut_short(body, Cut::ResetConnection(on.connection)),
        FaultKind::RstStream if on.http2 => cut_short(body, Cut::ResetStream),
        FaultKind::RstStream => cut_short(body, Cut::ResetConnection(on.connection)),
        FaultKind::Truncate => cut_short(body, Cut::End),
        FaultKind::Trickle => trickle(body, Duration::from_millis(fault.trickle_ms)),
        FaultKind::Close if on.http2 => {
            close_gracefully(&on);
            (status, body).into_response()
        }
        FaultKind::Close => {
            let mut response = (status, body).into_response();
            response
                .headers_mut()
                .insert(header::CONNECTION, HeaderValue::from_static("close"));
            response
        }
    })
}

/// Asks the request's connection to close once its requests are answered (HTTP/2: GOAWAY).
fn close_gracefully(on: &Arrived) {
    if let Some(connection) = &on.connection {
        connection.close_gracefully();
    }
}

/// A stalled request: no answer until its client gives up — then the server records how long
/// it held it — or until `longest` has passed, when it is answered late with `body`.
async fn stall(stats: &Stats, longest: Duration, body: Bytes) -> Response {
    /// Records the hold when the handler is dropped unanswered (its client went away).
    struct Held<'a> {
        stats: &'a Stats,
        since: Instant,
        answered: bool,
    }
    impl Drop for Held<'_> {
        fn drop(&mut self) {
            if !self.answered {
                self.stats.stall_abandoned(self.since.elapsed());
            }
        }
    }
    let mut held = Held {
        stats,
        since: Instant::now(),
        answered: false,
    };
    tokio::time::sleep(longest).await;
    held.answered = true;
    (StatusCode::OK, body).into_response()
}

/// How a body is cut off after its first half.
enum Cut {
    /// The connection reset (RST); without a connection to act on (a router called directly),
    /// the body fails instead.
    ResetConnection(Option<Arc<Connection>>),
    /// The body fails: HTTP/2 resets the stream (RST_STREAM), HTTP/1.1 closes the connection.
    ResetStream,
    /// The body ends: fewer bytes than its `Content-Length`, and the connection closed.
    End,
}

/// Time for the head and the first half to leave before the cut, so the client has read
/// them when it comes.
const BEFORE_THE_CUT: Duration = Duration::from_millis(5);

/// `body` promised whole (`Content-Length`), its first half sent, then `cut`.
fn cut_short(body: Bytes, cut: Cut) -> Response {
    let full = body.len();
    let half = body.slice(..full / 2);
    let rest = futures::stream::once(async move {
        tokio::time::sleep(BEFORE_THE_CUT).await;
        match cut {
            Cut::ResetConnection(Some(connection)) => {
                connection.reset();
                // The connection's task drops this response with everything else.
                std::future::pending::<Result<Bytes, std::io::Error>>().await
            }
            Cut::ResetConnection(None) | Cut::ResetStream => {
                Err(std::io::Error::other("cut by an injected fault"))
            }
            Cut::End => Ok(Bytes::new()),
        }
    });
    let chunks = futures::stream::once(async move { Ok(half) }).chain(rest);
    with_length(full, Body::from_stream(chunks))
}

/// `body` a byte every `gap`, its length promised up front.
fn trickle(body: Bytes, gap: Duration) -> Response {
    let full = body.len();
    let bytes = futures::stream::iter(0..full).then(move |i| {
        let byte = body.slice(i..=i);
        async move {
            tokio::time::sleep(gap).await;
            Ok::<_, std::io::Error>(byte)
        }
    });
    with_length(full, Body::from_stream(bytes))
}

fn with_length(len: usize, body: Body) -> Response {
    let mut response = (StatusCode::OK, body).into_response();
    response
        .headers_mut()
        .insert(header::CONTENT_LENGTH, HeaderValue::from(len));
    response
}

/// `GET /delay/{seconds}` (httpbin): waits, then answers JSON.
async fn delay_endpoint(
    State(state): State<AppState>,
    Path(seconds): Path<String>,
    uri: Uri,
) -> Response {
    let response = async {
        let max_s = state.config.max_delay_ms as f64 / 1000.0;
        let seconds = params::number("seconds", &seconds, 0.0, max_s)?;
        delay(&state.stats, Duration::from_secs_f64(seconds)).await;
        Ok::<_, BadParam>(Json(
            json!({ "delay_s": seconds, "url": uri.to_string(), "args": {} }),
        ))
    };
    in_flight(&state.stats, response).await
}

/// `GET /status/{code}` (httpbin): answers with that status and an empty body.
async fn status_endpoint(State(state): State<AppState>, Path(code): Path<String>) -> Response {
    in_flight(&state.stats, async { status_code("code", &code) }).await
}

/// `GET /bytes/{n}` (httpbin): answers `n` bytes (a fixed pattern, see [`response_body`]).
async fn bytes_endpoint(State(state): State<AppState>, Path(n): Path<String>) -> Response {
    let response = async { params::integer("n", &n, 0, state.config.max_bytes).map(body_of) };
    in_flight(&state.stats, response).await
}

/// `GET /health`: `{"status":"ok"}` after the server's default delay.
async fn health_endpoint(State(state): State<AppState>) -> Response {
    let response = async {
        let wait = Duration::from_millis(state.config.default_delay_ms);
        delay(&state.stats, wait).await;
        Json(json!({ "status": "ok" }))
    };
    in_flight(&state.stats, response).await
}

async fn stats_endpoint(State(state): State<AppState>) -> Json<StatsSnapshot> {
    Json(snapshot(&state))
}

async fn reset_endpoint(State(state): State<AppState>) -> Json<StatsSnapshot> {
    state.stats.reset();
    Json(snapshot(&state))
}

/// The counters, with the profile and limits this server runs with.
fn snapshot(state: &AppState) -> StatsSnapshot {
    StatsSnapshot {
        profile: Some(state.config.profile),
        limits: Some(state.config.limits),
        ..state.stats.snapshot()
    }
}

async fn not_found(uri: Uri) -> (StatusCode, String) {
    (
        StatusCode::NOT_FOUND,
        format!("not found: {}\n", uri.path()),
    )
}

/// A final status a response may carry: 200–599 (1xx are not final responses).
fn status_code(name: &'static str, raw: &str) -> Result<StatusCode, BadParam> {
    let code = query::status_code(name, raw)?;
    Ok(StatusCode::from_u16(code).expect("200..=599 are valid status codes"))
}

/// Bodies up to this size are slices of one static copy of the pattern: no allocation.
const STATIC_BODY_LEN: usize = 64 * 1024;
static STATIC_BODY: LazyLock<Vec<u8>> = LazyLock::new(|| response_body(STATIC_BODY_LEN));

fn body_of(len: u64) -> Bytes {
    let len = usize::try_from(len).expect("capped by --max-bytes");
    if len <= STATIC_BODY_LEN {
        Bytes::from_static(&STATIC_BODY[..len])
    } else {
        Bytes::from(response_body(len))
    }
}

/// Sleeps and records how far the real sleep overshot the requested one.
async fn delay(stats: &Stats, wanted: Duration) {
    if wanted.is_zero() {
        return;
    }
    let start = Instant::now();
    tokio::time::sleep(wanted).await;
    stats.record_delay(wanted, start.elapsed());
}

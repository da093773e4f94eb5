//! hyper without reqwest: one HTTP/1.1 connection per slot through hyper's `client::conn`
//! (no pool, no connector, no reqwest), the request's parts built once, the same checks as
//! every client's, and hyper's errors in fanout's kinds. What is left over the raw codec is
//! hyper's; what reqwest adds over this is reqwest's.

use http_body_util::{BodyExt as _, Empty};
use hyper::body::Bytes;
use hyper::client::conn::http1::SendRequest;
use hyper_util::rt::TokioIo;

use super::plain_url::PlainUrl;
use super::request::exchange::{AsyncExchange, Outcome};
use super::url_error::UrlError;
use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;

/// What every request of a job sends: its URL and `Host`, parsed once.
#[derive(Debug, Clone)]
pub struct Target {
    url: PlainUrl,
    host: hyper::header::HeaderValue,
}

impl Target {
    /// The job's URL as hyper sends it (`http://HOST:PORT/PATH`; plain HTTP only).
    pub fn for_job(job: &Job) -> Result<Self, UrlError> {
        let url = PlainUrl::for_job(job, "hyper's client::conn")?;
        let host = url
            .authority
            .parse()
            .map_err(|e| UrlError::failed(job.url(), "its host is no header value", e))?;
        Ok(Self { url, host })
    }

    fn request(&self) -> hyper::Request<Empty<Bytes>> {
        let mut request = hyper::Request::new(Empty::new());
        *request.uri_mut() = self.url.uri.clone();
        request
            .headers_mut()
            .insert(hyper::header::HOST, self.host.clone());
        request
    }
}

/// hyper's exchange: the slot's connection opened, and its connection task spawned, when
/// there is none.
impl AsyncExchange for Target {
    type Conn = SendRequest<Empty<Bytes>>;
    async fn exchange(&self, conn: &mut Option<Self::Conn>, job: &Job) -> Outcome {
        exchange(conn, self, job).await.map(|()| true)
    }
}

async fn exchange(
    conn: &mut Option<SendRequest<Empty<Bytes>>>,
    target: &Target,
    job: &Job,
) -> Result<(), ErrorKind> {
    let io = |e: std::io::Error| ErrorKind::from_io(&e);
    // A kept connection the server has closed since its last response (`Connection: close`
    // at its keep-alive limit, or idle too long) fails no request: a new one is opened, as
    // the raw clients and every pool do.
    if let Some(sender) = conn.as_mut()
        && (sender.is_closed() || sender.ready().await.is_err())
    {
        *conn = None;
    }
    let sender = match conn {
        Some(sender) => sender,
        None => {
            let stream = target.url.dial().await.map_err(io)?;
            stream.set_nodelay(true).map_err(io)?;
            let (sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(stream))
                .await
                .map_err(|e| hyper_error_kind(&e))?;
            // The connection's own task reads and writes the socket; it ends with the sender.
            tokio::spawn(connection);
            conn.insert(sender)
        }
    };
    sender.ready().await.map_err(|e| hyper_error_kind(&e))?;
    let response = sender
        .send_request(target.request())
        .await
        .map_err(|e| hyper_error_kind(&e))?;
    let status = response.status().as_u16();
    let body = response
        .into_body()
        .collect()
        .await
        .map_err(|e| hyper_error_kind(&e))?
        .to_bytes();
    job.check_response(status, &body)
}

/// A connection closed, a message cut short or a request cancelled: what a peer that
/// closed mid-response looks like to hyper (ureq sees an `UnexpectedEof`).
fn cut_short(e: &hyper::Error) -> bool {
    e.is_incomplete_message() || e.is_closed() || e.is_canceled() || dispatch_gone(e)
}

/// A request still queued in hyper's client when its connection's task ended (the server
/// closed or reset the connection): hyper calls it `DispatchGone` ("runtime dropped the
/// dispatch task") and gives no predicate for it, so its kind's name is read.
fn dispatch_gone(e: &hyper::Error) -> bool {
    e.is_user() && format!("{e:?}").contains("DispatchGone")
}

/// Whether a hyper error anywhere in `e`'s chain was cut short ([`cut_short`]): for the
/// clients built on hyper (reqwest, cyper), whose own errors wrap it.
pub fn cut_short_in_chain(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut source = Some(e);
    while let Some(err) = source {
        if err.downcast_ref::<hyper::Error>().is_some_and(cut_short) {
            return true;
        }
        source = err.source();
    }
    false
}

/// fanout's kind of a hyper error: its I/O cause where it has one; a connection closed or a
/// message cut short is a reset, as ureq's `UnexpectedEof` is.
pub fn hyper_error_kind(e: &hyper::Error) -> ErrorKind {
    if let Some(kind) = ErrorKind::from_chain(e).or_else(|| super::h2_conn::kind_in_chain(e)) {
        return kind;
    }
    if cut_short(e) {
        return ErrorKind::ConnectionReset;
    }
    if e.is_timeout() {
        return ErrorKind::Timeout;
    }
    if e.is_parse() {
        return ErrorKind::BadResponse;
    }
    ErrorKind::Other
}

//! cyper, compio's HTTP client (hyper's legacy client on compio's sockets): one client per
//! runtime thread, one request with the same checks as reqwest's, and a classifier of its
//! errors into fanout's kinds.

use super::request::exchange::{AsyncExchange, Outcome};
use super::url_error::UrlError;
use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;

/// The client of one runtime thread. cyper has no pool, timeout or TCP_NODELAY setting of its
/// own: hyper's pool keeps every idle connection (no cap per host), the timeout is ours.
pub fn cyper_client() -> Result<cyper::Client, cyper::Error> {
    cyper::Client::builder().no_proxy().build()
}

/// The job's URL parsed for cyper, once per strategy (not once per request); the parser's
/// words if it does not parse.
pub fn target(job: &Job) -> Result<url::Url, UrlError> {
    url::Url::parse(job.url()).map_err(|e| UrlError::failed(job.url(), "does not parse", e))
}

/// cyper's exchange: a runtime thread's client and the job's URL (from [`target`]); its
/// hyper pool keeps the connections, so a slot keeps none.
#[derive(Clone)]
pub struct Cyper {
    /// The runtime thread's client.
    pub client: cyper::Client,
    /// Where every request goes.
    pub url: std::sync::Arc<url::Url>,
}

impl AsyncExchange for Cyper {
    type Conn = ();
    async fn exchange(&self, _: &mut Option<()>, job: &Job) -> Outcome {
        fetch(&self.client, &self.url, job).await.map(|()| true)
    }
}

/// One request: status 200 and the expected body, read to the end.
async fn fetch(client: &cyper::Client, url: &url::Url, job: &Job) -> Result<(), ErrorKind> {
    let response = client
        .get(url.clone())
        .map_err(|e| cyper_error_kind(&e))?
        .send()
        .await
        .map_err(|e| cyper_error_kind(&e))?;
    let status = response.status().as_u16();
    let body = response.bytes().await.map_err(|e| cyper_error_kind(&e))?;
    job.check_response(status, &body)
}

/// fanout's kind of a cyper error: an I/O error anywhere in its chain, else hyper's word.
pub fn cyper_error_kind(e: &cyper::Error) -> ErrorKind {
    if let Some(kind) = ErrorKind::from_chain(e) {
        return kind;
    }
    // A peer that closed mid-response is a hyper error with no I/O source.
    if super::hyper_conn::cut_short_in_chain(e) {
        return ErrorKind::ConnectionReset;
    }
    ErrorKind::Other
}

//! cyper, compio's HTTP client (hyper's legacy client on compio's sockets): one client per
//! runtime thread, one request with the same checks as reqwest's, and a classifier of its
//! errors into fanout's kinds.

use super::url_error::UrlError;
use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;
use crate::model::tally::Tally;

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

/// One request through `client` to `url` (the job's, from [`target`]), with the same checks
/// as reqwest's (`reqwest_client`).
pub async fn get(client: &cyper::Client, url: &url::Url, job: &Job, tally: &Tally) {
    let Some(due) = job.due(tally) else {
        return;
    };
    compio::time::sleep_until(due).await;
    // Latency counts from the due time (at --rate; in closed loop, now); the timeout from
    // the send.
    let in_flight = tally.start();
    let outcome = compio::time::timeout(job.timeout(), fetch(client, url, job))
        .await
        .unwrap_or(Err(ErrorKind::Timeout))
        .map(|()| job.spend_cpu());
    in_flight.record(due.elapsed(), outcome);
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

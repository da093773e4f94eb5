//! A job's URL as the clients without a connector send it (hyper's `client::conn`, h2): plain
//! `http://HOST:PORT/PATH`, parsed once per job.

use super::url_error::UrlError;
use crate::model::job::Job;

/// The job's URI and the `HOST:PORT` its connections go to.
#[derive(Debug, Clone)]
pub struct PlainUrl {
    /// The request URI (scheme and authority included: h2 sends them as pseudo-headers).
    pub uri: hyper::Uri,
    /// `HOST:PORT`, to connect to and to send as `Host`.
    pub authority: String,
}

impl PlainUrl {
    /// The job's URL, or why `client` cannot send to it (not plain `http://`, no host).
    pub fn for_job(job: &Job, client: &str) -> Result<Self, UrlError> {
        let uri: hyper::Uri = job
            .url()
            .parse()
            .map_err(|e| UrlError::failed(job.url(), "does not parse", e))?;
        if uri.scheme_str() != Some("http") {
            return Err(UrlError::refused(
                job.url(),
                format!("{client} speaks plain http:// only"),
            ));
        }
        let authority = uri
            .authority()
            .ok_or_else(|| UrlError::refused(job.url(), "no host"))?
            .to_string();
        Ok(Self { uri, authority })
    }
}

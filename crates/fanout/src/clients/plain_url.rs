//! A job's URL as the clients without a connector send it (hyper's `client::conn`, h2): plain
//! `http://HOST:PORT/PATH`, parsed once per job.

use super::destinations::Destinations;
use super::url_error::UrlError;
use crate::model::job::Job;

/// The job's URI, the `HOST:PORT` it names, and the addresses its connections go to.
#[derive(Debug, Clone)]
pub struct PlainUrl {
    /// The request URI (scheme and authority included: h2 sends them as pseudo-headers).
    pub uri: hyper::Uri,
    /// `HOST:PORT`, sent as `Host`.
    pub authority: String,
    /// Where new connections go where they spread over the server's addresses.
    destinations: Option<Destinations>,
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
        Ok(Self {
            uri,
            authority,
            destinations: Destinations::of_job(job),
        })
    }

    /// A new TCP connection: to the job's next destination where its connections spread over
    /// the server's addresses, else to the authority (each of its addresses tried in turn, as
    /// tokio does: `localhost` may name `::1` before `127.0.0.1`).
    pub async fn dial(&self) -> std::io::Result<tokio::net::TcpStream> {
        match &self.destinations {
            Some(destinations) => tokio::net::TcpStream::connect(destinations.next()).await,
            None => tokio::net::TcpStream::connect(&self.authority).await,
        }
    }
}

//! The async client: reqwest (on hyper) with the settings every reqwest strategy shares, one
//! request with the same checks as every client's, and its errors in fanout's kinds.

use std::sync::Arc;

use super::destinations::Destinations;
use super::request::exchange::{AsyncExchange, Outcome};
use super::tls;
use super::url_error::UrlError;
use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;
use crate::model::settings::Protocol;

/// A reqwest client and the job's URL parsed for it once (not once per request); a clone
/// shares both.
#[derive(Debug, Clone)]
pub struct Reqwest {
    client: reqwest::Client,
    url: Arc<reqwest::Url>,
}

/// Why a reqwest client could not be made.
#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    /// The job's URL does not parse.
    #[error("the job's URL")]
    Url(#[from] UrlError),
    /// reqwest refused the configuration.
    #[error("building the reqwest client")]
    Build(#[source] reqwest::Error),
}

/// A reqwest client pooling up to C idle connections, with the job's timeout, speaking
/// HTTP/1.1 or (`--protocol h2`) HTTP/2 with prior knowledge.
pub fn reqwest_client(job: &Job) -> Result<Reqwest, ClientError> {
    // reqwest is built without a crypto provider of its own (ureq's ring serves both): it
    // needs the process default even for plain HTTP. Already installed is fine.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let mut builder = reqwest::Client::builder()
        .pool_max_idle_per_host(job.concurrency)
        .timeout(job.timeout())
        .tcp_nodelay(true)
        .no_proxy();
    builder = match job.settings.protocol {
        Protocol::H1 => builder.http1_only(),
        Protocol::H2 => builder.http2_prior_knowledge(),
    };
    let spread = Destinations::of_job(job);
    if let Some(destinations) = &spread {
        builder = builder.dns_resolver(InTurn(destinations.clone()));
    }
    // Always our own TLS configuration, even for plain HTTP: reqwest's default one loads the
    // platform's certificate store for every Client built (20,000 times for a client per
    // request at C = 10,000, where it made 1–4 thousand requests time out).
    let client = builder
        .tls_backend_preconfigured(tls::rustls_config(job))
        .build()
        .map_err(ClientError::Build)?;
    let mut reqwest = Reqwest::with_client(client, job)?;
    if spread.is_some() {
        // hyper dials an IP-literal host itself; a name goes through the resolver, which
        // hands out the destinations in turn. The server's certificate names `localhost`.
        let _ = Arc::make_mut(&mut reqwest.url).set_host(Some(SPREAD_HOST));
    }
    Ok(reqwest)
}

/// The name the URL's host becomes where the job's connections spread over several
/// destinations: resolved by [`InTurn`] alone.
const SPREAD_HOST: &str = "localhost";

/// A resolver that answers every name with the job's next destination.
struct InTurn(Destinations);

impl reqwest::dns::Resolve for InTurn {
    fn resolve(&self, _name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let addr = self.0.next();
        Box::pin(std::future::ready(Ok(
            Box::new(std::iter::once(addr)) as reqwest::dns::Addrs
        )))
    }
}

impl Reqwest {
    /// A client built elsewhere (a user's own, with their pool settings) sending the job's
    /// request, with the same checks and error kinds as fanout's reqwest strategies.
    pub fn with_client(client: reqwest::Client, job: &Job) -> Result<Self, ClientError> {
        let url = reqwest::Url::parse(job.url())
            .map_err(|e| UrlError::failed(job.url(), "does not parse", e))?;
        Ok(Self {
            client,
            url: Arc::new(url),
        })
    }
}

/// reqwest's exchange: its pool keeps the connections, so a slot keeps none; the job's CPU
/// work (`--cpu-us`) runs inline, on the runtime worker polling the task.
impl AsyncExchange for Reqwest {
    type Conn = ();
    async fn exchange(&self, _: &mut Option<()>, job: &Job) -> Outcome {
        fetch_async(self, job).await.map(|()| true)
    }
}

/// A reqwest client whose CPU work per response goes off the runtime: to tokio's blocking
/// pool (`spawn_blocking`), the fix tokio documents for work that would stall a worker.
#[derive(Debug, Clone)]
pub struct Offloaded {
    /// The client.
    pub client: Reqwest,
    /// The job, for the blocking pool's closure to own.
    pub job: Arc<Job>,
}

impl AsyncExchange for Offloaded {
    type Conn = ();
    async fn exchange(&self, _: &mut Option<()>, job: &Job) -> Outcome {
        fetch_async(&self.client, job).await.map(|()| true)
    }
    async fn work(&self, _: &Job) -> Result<(), ErrorKind> {
        let job = Arc::clone(&self.job);
        let worked = tokio::task::spawn_blocking(move || job.spend_cpu()).await;
        worked.map_err(|_| ErrorKind::Panic)
    }
}

/// One async request: status 200 and the expected body, read to the end.
async fn fetch_async(client: &Reqwest, job: &Job) -> Result<(), ErrorKind> {
    let response = client
        .client
        .get(reqwest::Url::clone(&client.url))
        .send()
        .await
        .map_err(|e| reqwest_error_kind(&e))?;
    let status = response.status().as_u16();
    let body = response.bytes().await.map_err(|e| reqwest_error_kind(&e))?;
    job.check_response(status, &body)
}

/// fanout's kind of a reqwest error (a TLS failure also where an I/O error carries it).
pub fn reqwest_error_kind(e: &reqwest::Error) -> ErrorKind {
    if e.is_timeout() {
        return ErrorKind::Timeout;
    }
    // A TLS failure reaches hyper as an I/O error: look for it first.
    if let Some(kind) = tls::kind_in_chain(e) {
        return kind;
    }
    // An I/O error anywhere in the chain, or (over HTTP/2) h2's, which hides its I/O cause.
    if let Some(kind) = ErrorKind::from_chain(e).or_else(|| super::h2_conn::kind_in_chain(e)) {
        return kind;
    }
    // A peer that closed mid-response is an I/O error to ureq (UnexpectedEof) but a hyper
    // error with no I/O source: count both as the same kind.
    if super::hyper_conn::cut_short_in_chain(e) {
        return ErrorKind::ConnectionReset;
    }
    ErrorKind::Other
}

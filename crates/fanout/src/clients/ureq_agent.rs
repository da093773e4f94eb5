//! The blocking client: ureq with the settings every ureq strategy shares, one request with
//! the same checks as every client's, and its errors in fanout's kinds.
//!
//! Left at their defaults ureq and reqwest differ in ways that are not the concurrency
//! model's — ureq's buffer sizes and idle pool, its resolver thread per connection — and a
//! chart would measure those; so both get comparable settings, recorded in every result
//! (`config.rs`). "Fairness" in `docs/cli.md` says what each setting removed.

use std::net::{IpAddr, SocketAddr};
use std::time::Instant;

use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{Connector as _, DefaultConnector, NextTimeout, TcpConnector};

use super::destinations::Destinations;
use super::request::blocking::Threads;
use super::request::exchange::{Exchange, Outcome};
use super::tls;
use super::url_error::UrlError;
use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;

/// ureq's input and output buffer per connection, matched to hyper's initial 8 KiB read buffer.
pub const UREQ_BUFFER_BYTES: usize = 8 * 1024;

/// A ureq agent keeping up to `idle` idle connections, with small buffers and the job's timeout.
///
/// The thread strategies give each thread slot an Agent of its own keeping its one
/// connection, not one shared Agent: ureq 3's idle pool scans every idle connection under one
/// lock on each checkout and return (45% of a `thread_pool` profile with 10,000 idle
/// connections), where hyper's pool is a hash map.
pub fn ureq_agent(job: &Job, idle: usize) -> ureq::Agent {
    let mut config = ureq::Agent::config_builder();
    if let Some(tls) = job.tls_root_pem.as_deref().and_then(tls::ureq_tls_trusting) {
        config = config.tls_config(tls);
    }
    let config = config
        .max_idle_connections(idle)
        .max_idle_connections_per_host(idle)
        .input_buffer_size(UREQ_BUFFER_BYTES)
        .output_buffer_size(UREQ_BUFFER_BYTES)
        .timeout_global(Some(job.timeout()))
        .no_delay(true)
        .http_status_as_error(false)
        .proxy(None)
        .build();
    let resolver = DestinationResolver {
        destinations: Destinations::of_job(job),
        default: DefaultResolver::default(),
    };
    if job.url().starts_with("https:") {
        ureq::Agent::with_parts(config, DefaultConnector::new(), resolver)
    } else {
        // Plain HTTP: TCP alone. ureq's default chain with rustls in it costs every thread
        // resident stack even for plain connections (32 against 23 KiB per thread measured at
        // C = 1,000 … 10,000): a cost of TLS support, not of the model.
        let tcp = ().chain(TcpConnector::default());
        ureq::Agent::with_parts(config, tcp, resolver)
    }
}

/// Resolves an IP-literal host in place, as hyper does — to the job's next destination where
/// the server listens at several — and any other host with ureq's own resolver. (With any
/// timeout set, ureq resolves every new connection's host on a thread of its own, even an IP
/// literal: a hidden thread per connection in the thread strategies.)
#[derive(Debug)]
pub struct DestinationResolver {
    destinations: Option<Destinations>,
    default: DefaultResolver,
}

impl Resolver for DestinationResolver {
    fn resolve(
        &self,
        uri: &Uri,
        config: &ureq::config::Config,
        timeout: NextTimeout,
    ) -> Result<ResolvedSocketAddrs, ureq::Error> {
        let host = uri.host().unwrap_or_default();
        let ip = host.trim_matches(['[', ']']).parse::<IpAddr>();
        match ip {
            Ok(ip) => {
                let mut addrs = self.empty();
                let addr = match &self.destinations {
                    Some(destinations) => destinations.next(),
                    None => SocketAddr::new(ip, uri.port_u16().unwrap_or(default_port(uri))),
                };
                addrs.push(addr);
                Ok(addrs)
            }
            Err(_) => self.default.resolve(uri, config, timeout),
        }
    }
}

/// The port a URL without one means: its scheme's.
fn default_port(uri: &Uri) -> u16 {
    match uri.scheme_str() {
        Some("https") => 443,
        _ => 80,
    }
}

/// The job's URL parsed for ureq, once per strategy (not once per request); the parser's words
/// if it does not parse.
pub fn target(job: &Job) -> Result<Uri, UrlError> {
    job.url()
        .parse::<Uri>()
        .map_err(|e| UrlError::failed(job.url(), "does not parse", e))
}

/// ureq's exchange: an Agent (its pool keeps the connections, so a slot keeps none) and the
/// job's URL (from [`target`]). A hedge goes through the same Agent, which dials it a
/// connection of its own; ureq gives no handle on the socket a call blocks in, so neither
/// copy of a hedged request can be stopped: the loser runs on to its end.
#[derive(Debug, Clone)]
pub struct Ureq {
    /// The Agent.
    pub agent: ureq::Agent,
    /// Where every request goes.
    pub uri: Uri,
}

impl Exchange for Ureq {
    type Conn = ();
    type World = Threads;
    /// One call, status 200 and the expected body read to the end, by `deadline` (a retry
    /// gets what is left of the first attempt's).
    fn exchange(&self, _: &mut Option<()>, job: &Job, deadline: Instant) -> Outcome {
        let left = deadline.saturating_duration_since(Instant::now());
        let mut response = self
            .agent
            .get(self.uri.clone())
            .config()
            .timeout_global(Some(left))
            .build()
            .call()
            .map_err(|e| before_the_head(ureq_error_kind(&e)))?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .read_to_vec()
            .map_err(|e| ureq_error_kind(&e))?;
        job.check_response(status, &body)?;
        Ok(true)
    }
}

/// A call's error, met before any response head: a peer that closed there ended the
/// connection under the request (a reset, as the raw codec and hyper count it), where ureq
/// says only that the stream ended early.
fn before_the_head(kind: ErrorKind) -> ErrorKind {
    match kind {
        ErrorKind::Truncated => ErrorKind::ConnectionReset,
        other => other,
    }
}

/// fanout's kind of a ureq error (a TLS failure also where an I/O error carries it).
pub fn ureq_error_kind(e: &ureq::Error) -> ErrorKind {
    // ureq carries a TLS failure inside its I/O error.
    if let Some(kind) = match e {
        ureq::Error::Io(io) => tls::kind_in_io(io),
        other => tls::kind_in_chain(other),
    } {
        return kind;
    }
    match e {
        ureq::Error::Rustls(tls) => tls::kind_of(tls),
        ureq::Error::Timeout(_) => ErrorKind::Timeout,
        ureq::Error::StatusCode(code) => ErrorKind::HttpStatus(*code),
        ureq::Error::Io(io) => ErrorKind::from_io(io),
        other => ErrorKind::from_chain(other).unwrap_or(ErrorKind::Other),
    }
}

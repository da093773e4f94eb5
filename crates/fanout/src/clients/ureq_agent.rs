//! The blocking client: ureq with the settings every ureq strategy shares, one request with
//! the same checks as every client's, and its errors in fanout's kinds.
//!
//! Left at their defaults ureq and reqwest differ in ways that are not the concurrency
//! model's — ureq's buffer sizes and idle pool, its resolver thread per connection — and a
//! chart would measure those; so both get comparable settings, recorded in every result
//! (`config.rs`). "Fairness" in `docs/cli.md` says what each setting removed.

use std::net::{IpAddr, SocketAddr};

use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{Connector as _, DefaultConnector, NextTimeout, TcpConnector};

use super::tls;
use super::url_error::UrlError;
use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;
use crate::model::tally::Tally;

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
    if job.url().starts_with("https:") {
        ureq::Agent::with_parts(
            config,
            DefaultConnector::new(),
            IpLiteralResolver::default(),
        )
    } else {
        // Plain HTTP: TCP alone. ureq's default chain with rustls in it costs every thread
        // resident stack even for plain connections (32 against 23 KiB per thread measured at
        // C = 1,000 … 10,000): a cost of TLS support, not of the model.
        let tcp = ().chain(TcpConnector::default());
        ureq::Agent::with_parts(config, tcp, IpLiteralResolver::default())
    }
}

/// Resolves an IP-literal host in place, as hyper does; any other host goes to ureq's own
/// resolver. (With any timeout set, ureq resolves every new connection's host on a thread of
/// its own, even an IP literal: a hidden thread per connection in the thread strategies.)
#[derive(Debug, Default)]
pub struct IpLiteralResolver(DefaultResolver);

impl Resolver for IpLiteralResolver {
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
                addrs.push(SocketAddr::new(ip, uri.port_u16().unwrap_or(80)));
                Ok(addrs)
            }
            Err(_) => self.0.resolve(uri, config, timeout),
        }
    }
}

/// The job's URL parsed for ureq, once per strategy (not once per request); the parser's words
/// if it does not parse.
pub fn target(job: &Job) -> Result<Uri, UrlError> {
    job.url()
        .parse::<Uri>()
        .map_err(|e| UrlError::failed(job.url(), "does not parse", e))
}

/// One blocking request through `agent` to `uri` (the job's, from [`target`]): status 200 and the expected body, read to the end.
/// A panic inside the client counts as this request's error instead of taking the thread
/// (and, in `thread_per_request`, its slot) down with it.
pub fn get_blocking(agent: &ureq::Agent, uri: &Uri, job: &Job, tally: &Tally) {
    let Some(due) = job.begin_blocking(tally) else {
        return;
    };
    // Latency counts from the due time (at --rate; in closed loop, now); ureq's timeout from
    // the send.
    let in_flight = tally.start();
    let request = || {
        agent
            .get(uri.clone())
            .call()
            .map_err(|e| ureq_error_kind(&e))
            .and_then(|mut response| {
                let status = response.status().as_u16();
                let body = response
                    .body_mut()
                    .read_to_vec()
                    .map_err(|e| ureq_error_kind(&e))?;
                job.check_response(status, &body)?;
                job.spend_cpu();
                Ok(())
            })
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(request))
        .unwrap_or(Err(ErrorKind::Panic));
    in_flight.record(due.elapsed(), outcome);
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

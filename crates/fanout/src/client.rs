//! The two HTTP clients with comparable settings, one request each way with the same checks,
//! and the tokio runtimes the async strategies build.
//!
//! Left at their defaults the clients differ in ways that are not the concurrency model's —
//! ureq's buffer sizes and idle pool, its resolver thread per connection — and a chart would
//! measure those; so both get the settings of [`ClientConfig`], recorded in every result. The
//! README's "Fairness" paragraph says what each setting removed, with the measurements.

use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use ureq::http::Uri;
use ureq::unversioned::resolver::{DefaultResolver, ResolvedSocketAddrs, Resolver};
use ureq::unversioned::transport::{Connector as _, DefaultConnector, NextTimeout, TcpConnector};

use crate::job::{ErrorKind, Job, Tally};
use crate::workload::Protocol;
use crate::workload::Settings;

/// ureq's input and output buffer per connection, matched to hyper's initial 8 KiB read buffer.
pub const UREQ_BUFFER_BYTES: usize = 8 * 1024;

/// The client settings of a point, recorded in every result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClientConfig {
    /// How the reqwest strategies pool connections.
    pub reqwest_pool: String,
    /// How the ureq strategies pool connections.
    pub ureq_pool: String,
    /// ureq's input and output buffer per connection.
    pub ureq_buffer_bytes: usize,
    /// hyper's buffers are not configurable through reqwest: it starts at 8 KiB and grows.
    pub reqwest_buffer: String,
    /// Per-request timeout (both clients), milliseconds.
    pub timeout_ms: u64,
    /// TCP_NODELAY (both clients).
    pub tcp_nodelay: bool,
    /// Stack size of threads spawned by thread strategies, KiB.
    pub thread_stack_kib: usize,
    /// Worker threads of multi-thread tokio runtimes.
    pub tokio_workers: usize,
    /// Over HTTPS (`--tls`): the TLS library, versions and cipher suites both clients offer.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls: Option<String>,
}

impl ClientConfig {
    /// The settings every strategy uses at concurrency C with `settings`.
    pub fn of(concurrency: usize, settings: &Settings) -> Self {
        Self {
            reqwest_pool: format!("one Client, up to {concurrency} idle connections"),
            ureq_pool: "an Agent per thread slot, keeping its one connection".into(),
            ureq_buffer_bytes: UREQ_BUFFER_BYTES,
            reqwest_buffer: "hyper default (8 KiB read buffer, grows)".into(),
            timeout_ms: settings.timeout_ms,
            tcp_nodelay: true,
            thread_stack_kib: settings.stack_kib,
            tokio_workers: settings.tokio_workers,
            tls: settings.tls.then(|| {
                let suites: Vec<String> = rustls::crypto::ring::default_provider()
                    .cipher_suites
                    .iter()
                    .map(|s| format!("{:?}", s.suite()))
                    .collect();
                format!(
                    "rustls 0.23 (ring), TLS 1.3 and 1.2, suites {}; trusting the server's own certificate only",
                    suites.join(", ")
                )
            }),
        }
    }
}

/// A ureq agent keeping up to `idle` idle connections, with small buffers and the job's timeout.
///
/// The thread strategies give each thread slot an Agent of its own keeping its one
/// connection, not one shared Agent: ureq 3's idle pool scans every idle connection under one
/// lock on each checkout and return (45% of a `thread_pool` profile with 10,000 idle
/// connections), where hyper's pool is a hash map.
pub fn ureq_agent(job: &Job, idle: usize) -> ureq::Agent {
    let mut config = ureq::Agent::config_builder();
    if let Some(tls) = job.tls_root_pem.as_deref().and_then(ureq_tls_trusting) {
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

/// A reqwest client pooling up to C idle connections, with the job's timeout, speaking
/// HTTP/1.1 or (`--protocol h2`) HTTP/2 with prior knowledge.
pub fn reqwest_client(job: &Job) -> Result<reqwest::Client, reqwest::Error> {
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
    // Always our own TLS configuration, even for plain HTTP: reqwest's default one loads the
    // platform's certificate store for every Client built (20,000 times for a client per
    // request at C = 10,000, where it made 1–4 thousand requests time out).
    builder
        .tls_backend_preconfigured(rustls_config(job))
        .build()
}

/// The rustls configuration of a job's reqwest clients, made once per (certificate, protocol):
/// ring, TLS 1.3 and 1.2, trusting the job's certificate only (none for plain HTTP), ALPN for
/// the protocol.
fn rustls_config(job: &Job) -> rustls::ClientConfig {
    type Key = (Option<String>, Protocol);
    static MADE: std::sync::Mutex<Vec<(Key, rustls::ClientConfig)>> =
        std::sync::Mutex::new(Vec::new());
    let key: Key = (job.tls_root_pem.clone(), job.settings.protocol);
    let mut made = MADE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, config)) = made.iter().find(|(k, _)| *k == key) {
        return config.clone();
    }
    let mut roots = rustls::RootCertStore::empty();
    if let Some(root) = tls_root_der(job) {
        // A certificate that does not parse leaves the store empty: every request then fails
        // as tls_certificate.
        let _ = roots.add(rustls::pki_types::CertificateDer::from(root));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the safe default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = match job.settings.protocol {
        Protocol::H1 => vec![b"http/1.1".to_vec()],
        Protocol::H2 => vec![b"h2".to_vec()],
    };
    made.push((key, config.clone()));
    config
}

/// The certificate a job's clients trust over HTTPS, DER; `None` for plain HTTP (or a PEM that
/// does not parse, which then fails every request as `tls_certificate`).
fn tls_root_der(job: &Job) -> Option<Vec<u8>> {
    pem_to_der(job.tls_root_pem.as_deref()?)
}

/// ureq's TLS settings trusting the one certificate `pem` (rustls), if it parses.
pub fn ureq_tls_trusting(pem: &str) -> Option<ureq::tls::TlsConfig> {
    use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};
    let root = pem_to_der(pem)?;
    let roots = RootCerts::Specific(Arc::new(vec![Certificate::from_der(&root).to_owned()]));
    Some(
        TlsConfig::builder()
            .provider(TlsProvider::Rustls)
            .root_certs(roots)
            .build(),
    )
}

/// A PEM certificate's DER bytes, if it parses.
pub fn pem_to_der(pem: &str) -> Option<Vec<u8>> {
    use rustls::pki_types::pem::PemObject as _;
    rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes())
        .ok()
        .map(|c| c.to_vec())
}

/// One blocking request through `agent`: status 200 and the expected body, read to the end.
/// A panic inside the client counts as this request's error instead of taking the thread
/// (and, in `thread_per_request`, its slot) down with it.
pub fn get_blocking(agent: &ureq::Agent, job: &Job, tally: &Tally) {
    let _in_flight = tally.start();
    let start = Instant::now();
    let request = || {
        let (_, uri) = job.parsed_url().map_err(|_| ErrorKind::Other)?;
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
                check(status, &body, job)?;
                job.spend_cpu();
                Ok(())
            })
    };
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(request))
        .unwrap_or(Err(ErrorKind::Panic));
    tally.record(start.elapsed(), outcome);
}

/// One async request through `client`, with the same checks as [`get_blocking`]; the job's
/// CPU work (`--cpu-us`) runs inline, on the runtime worker polling this task.
pub async fn get_async(client: &reqwest::Client, job: &Job, tally: &Tally) {
    let _in_flight = tally.start();
    let start = Instant::now();
    let outcome = fetch_async(client, job).await.map(|()| job.spend_cpu());
    tally.record(start.elapsed(), outcome);
}

/// [`get_async`] with the CPU work moved off the runtime: to tokio's blocking pool
/// (`spawn_blocking`), the fix tokio documents for work that would stall a worker.
pub async fn get_async_offloaded(client: &reqwest::Client, job: &Arc<Job>, tally: &Tally) {
    let _in_flight = tally.start();
    let start = Instant::now();
    let mut outcome = fetch_async(client, job).await;
    if outcome.is_ok() {
        let job = Arc::clone(job);
        let worked = tokio::task::spawn_blocking(move || job.spend_cpu()).await;
        outcome = worked.map_err(|_| ErrorKind::Panic);
    }
    tally.record(start.elapsed(), outcome);
}

/// One async request: status 200 and the expected body, read to the end.
async fn fetch_async(client: &reqwest::Client, job: &Job) -> Result<(), ErrorKind> {
    let (url, _) = job.parsed_url().map_err(|_| ErrorKind::Other)?;
    let response = client
        .get(url.clone())
        .send()
        .await
        .map_err(|e| reqwest_error_kind(&e))?;
    let status = response.status().as_u16();
    let body = response.bytes().await.map_err(|e| reqwest_error_kind(&e))?;
    check(status, &body, job)
}

fn check(status: u16, body: &[u8], job: &Job) -> Result<(), ErrorKind> {
    if status != 200 {
        return Err(ErrorKind::HttpStatus(status));
    }
    let expected = mock_server::response_body_bytes(job.body_len());
    if body.len() != job.body_len() || !body.iter().copied().eq(expected) {
        return Err(ErrorKind::BodyMismatch);
    }
    Ok(())
}

/// fanout's kind of a ureq error (a TLS failure also where an I/O error carries it).
pub fn ureq_error_kind(e: &ureq::Error) -> ErrorKind {
    if let Some(kind) = ErrorKind::from_tls_chain(e) {
        return kind;
    }
    match e {
        ureq::Error::Rustls(tls) => ErrorKind::from_tls(tls),
        ureq::Error::Timeout(_) => ErrorKind::Timeout,
        ureq::Error::StatusCode(code) => ErrorKind::HttpStatus(*code),
        ureq::Error::Io(io) => ErrorKind::from_io(io),
        other => ErrorKind::from_chain(other).unwrap_or(ErrorKind::Other),
    }
}

fn reqwest_error_kind(e: &reqwest::Error) -> ErrorKind {
    if e.is_timeout() {
        return ErrorKind::Timeout;
    }
    // A TLS failure reaches hyper as an I/O error: look for it first.
    if let Some(kind) = ErrorKind::from_tls_chain(e) {
        return kind;
    }
    if let Some(kind) = ErrorKind::from_chain(e) {
        return kind;
    }
    // A peer that closed mid-response is an I/O error to ureq (UnexpectedEof) but a hyper
    // error with no I/O source: count both as the same kind.
    let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = source {
        if let Some(h) = err.downcast_ref::<hyper::Error>() {
            if h.is_incomplete_message() || h.is_closed() || h.is_canceled() {
                return ErrorKind::ConnectionReset;
            }
        }
        source = err.source();
    }
    ErrorKind::Other
}

/// A multi-thread runtime with the job's worker count (tokio's default stack size: the
/// workers are few, `--stack-kib` is about per-request threads).
pub fn multi_thread_runtime(job: &Job) -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(job.tokio_workers())
        .enable_all()
        .build()
}

/// A current-thread runtime: every task on the calling thread.
pub fn current_thread_runtime() -> std::io::Result<tokio::runtime::Runtime> {
    tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
}

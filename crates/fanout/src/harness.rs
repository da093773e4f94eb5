//! The orchestrator: starts the mock server as its own process, runs each point in a fresh
//! worker process (fanout's own, or a peer's program) metered from outside, and hands what it
//! left behind (exit status, report line, the process's figures, the server's `/stats`, the
//! kernel's counters) to [`PointReport::from_run`].
//!
//! Both roles are this same executable run again (`std::env::current_exe()`) with
//! [`ROLE_VAR`] set, so neither `cargo bench` nor the CLI needs another binary's path.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitCode, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

use clap::Parser;
use mock_server::StatsSnapshot;

use crate::meter::ListenCounters;
use crate::peers;
use crate::process_meter;
use crate::report::{PointReport, ServerSaw};
use crate::strategies::Worker;
use crate::worker::{self, JOB_VAR, WorkerInput};
use crate::workload::Point;

/// Environment variable naming the role a re-executed binary plays: `server` or `worker`.
pub const ROLE_VAR: &str = "FANOUT_ROLE";

/// Plays the role named in [`ROLE_VAR`], if any, and returns its exit code; `None` when this
/// process is the orchestrator. Call it first thing in `main`.
pub fn play_role() -> Option<ExitCode> {
    let role = std::env::var(ROLE_VAR).ok()?;
    let result = match role.as_str() {
        "server" => mock_server::cli::main(mock_server::cli::Args::parse()),
        "worker" => worker::main().map_err(anyhow::Error::from),
        other => Err(anyhow::anyhow!(
            "{ROLE_VAR}={other:?}: expected server or worker"
        )),
    };
    Some(match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("fanout {role}: {e:#}");
            ExitCode::FAILURE
        }
    })
}

/// Errors of the orchestrator.
#[derive(Debug, thiserror::Error)]
pub enum HarnessError {
    /// The server process could not be started or did not announce its address.
    #[error("starting the mock server: {0}")]
    ServerStart(String),
    /// The server stopped answering.
    #[error("the mock server at {url} is not answering: {reason}")]
    ServerGone {
        /// Its base URL.
        url: String,
        /// What failed.
        reason: String,
    },
    /// A worker process could not be started.
    #[error("starting a worker: {0}")]
    WorkerStart(#[source] std::io::Error),
    /// SIGINT or SIGTERM arrived: the worker was stopped.
    #[error("interrupted")]
    Interrupted,
}

/// Set by SIGINT or SIGTERM once [`stop_on_signals`] has run.
static INTERRUPTED: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// From now on SIGINT and SIGTERM do not kill this process: they set a flag that stops the
/// running worker and makes [`run_point`] return [`HarnessError::Interrupted`], so the caller
/// can keep what was measured and stop the server (no orphan processes).
pub fn stop_on_signals() -> std::io::Result<()> {
    let flag = INTERRUPTED.get_or_init(Arc::default);
    for signal in [signal_hook::consts::SIGINT, signal_hook::consts::SIGTERM] {
        signal_hook::flag::register(signal, Arc::clone(flag))?;
    }
    Ok(())
}

/// True once SIGINT or SIGTERM arrived (after [`stop_on_signals`]).
pub fn interrupted() -> bool {
    INTERRUPTED.get().is_some_and(|f| f.load(Ordering::Relaxed))
}

/// A mock-server process owned by the orchestrator; stopped (SIGTERM, then SIGKILL) on drop.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    url: String,
}

impl ServerProcess {
    /// Starts `exe` in the server role on a free loopback port and waits for its address; with
    /// `tls_ca_out`, serving HTTPS and writing its certificate there.
    pub fn start(exe: &Path, tls_ca_out: Option<&Path>) -> Result<Self, HarnessError> {
        let mut command = Command::new(exe);
        command
            .env(ROLE_VAR, "server")
            .env("RUST_LOG", "warn")
            .args(["--addr", "127.0.0.1:0"]);
        if let Some(path) = tls_ca_out {
            command.arg("--tls").arg("--tls-ca-out").arg(path);
        }
        let mut child = command
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| HarnessError::ServerStart(format!("{}: {e}", exe.display())))?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let mut first = String::new();
        let read = BufReader::new(stdout).read_line(&mut first);
        let url = match read {
            Ok(_) => first
                .trim_end()
                .strip_prefix("listening on ")
                .map(str::to_owned),
            Err(_) => None,
        };
        let Some(url) = url else {
            let _ = child.kill();
            let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
            return Err(HarnessError::ServerStart(format!(
                "no 'listening on' line (got {first:?}; {status})"
            )));
        };
        Ok(Self { child, url })
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> &str {
        &self.url
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        stop_child(&mut self.child, Duration::from_secs(6));
    }
}

/// SIGTERM, a bounded wait, then SIGKILL.
fn stop_child(child: &mut Child, grace: Duration) {
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    if let Ok(Some(_)) = child.try_wait() {
        return; // reaped already: its pid may be someone else's by now
    }
    if let Ok(pid) = i32::try_from(child.id()) {
        let _ = kill(Pid::from_raw(pid), Signal::SIGTERM);
    }
    let deadline = Instant::now() + grace;
    while Instant::now() < deadline {
        if let Ok(Some(_)) = child.try_wait() {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = child.kill();
    let _ = child.wait();
}

/// Where points are sent: a base URL and, over HTTPS, the certificate to trust.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Base URL, without a trailing slash.
    pub base_url: String,
    /// The server's certificate (PEM) when it serves HTTPS and this process started it.
    pub ca_pem: Option<String>,
}

/// The server points are measured against: one this process started (stopped on drop), or
/// one at a URL the user gave.
#[derive(Debug)]
pub struct Target {
    server: Option<ServerProcess>,
    endpoint: Endpoint,
}

impl Target {
    /// The server at `url`, or, without one, a new server process (`exe` in its role), serving
    /// HTTPS with a certificate of its own when `tls` (the certificate is read back for the
    /// clients to trust).
    pub fn new(exe: &Path, url: Option<&str>, tls: bool) -> Result<Self, HarnessError> {
        Ok(match url {
            Some(url) => Self {
                server: None,
                endpoint: Endpoint {
                    base_url: url.trim_end_matches('/').to_owned(),
                    ca_pem: None,
                },
            },
            None => {
                let ca_path = tls.then(|| {
                    std::env::temp_dir().join(format!("fanout-ca-{}.pem", std::process::id()))
                });
                let server = ServerProcess::start(exe, ca_path.as_deref())?;
                let ca_pem = match &ca_path {
                    Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
                        HarnessError::ServerStart(format!("reading {}: {e}", path.display()))
                    })?),
                    None => None,
                };
                let base_url = server.url().to_owned();
                Self {
                    server: Some(server),
                    endpoint: Endpoint { base_url, ca_pem },
                }
            }
        })
    }

    /// Where points are sent.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Stops the server if this process started it.
    pub fn stop(self) {
        drop(self.server);
    }
}

/// Runs `point` in a fresh worker process against the server at `base_url` — `exe` in the
/// worker role, or a peer's program — resetting the server's stats before and reading them
/// after, and meters the process from outside either way ([`process_meter`]). A worker still
/// running after `time_limit` is killed and the point recorded as failed; a point whose
/// strategy needs longer than that by design, or whose peer is not installed, is skipped.
pub fn run_point(
    exe: &Path,
    endpoint: &Endpoint,
    point: &Point,
    time_limit: Duration,
) -> Result<PointReport, HarnessError> {
    let base_url = endpoint.base_url.as_str();
    if let Some(why) = point.cannot_run(time_limit) {
        return Ok(PointReport::skipped(point, why));
    }
    let mut job = point.job(base_url);
    job.tls_root_pem = endpoint.ca_pem.clone();
    let command = match point.strategy.worker {
        Worker::InProcess(_) => {
            let input = WorkerInput {
                strategy: point.strategy,
                job,
                in_flight: point.in_flight(),
            };
            let mut command = Command::new(exe);
            command.env(ROLE_VAR, "worker").env(
                JOB_VAR,
                serde_json::to_string(&input).expect("a job serializes"),
            );
            command
        }
        Worker::Peer(program) => match peers::command(program, &job) {
            Ok(command) => command,
            Err(why) => return Ok(PointReport::skipped(point, why)),
        },
    };
    let stats = StatsClient::new(endpoint);
    stats.reset()?;
    let listen_before = ListenCounters::now();
    let finished = process_meter::run(command, time_limit)?;
    let listen = match (listen_before, ListenCounters::now()) {
        (Some(before), Some(after)) => after.since(&before),
        _ => ListenCounters::default(),
    };
    let server = stats.read()?;
    Ok(PointReport::from_run(
        point,
        finished.end,
        &finished.stdout,
        &finished.metered,
        server,
        listen,
    ))
}

/// Reads and resets a server's `/stats`. A server without it (`--url` to another server, or
/// to an HTTPS server whose certificate this process does not trust) gives `None`; a server
/// that does not answer at all is an error.
#[derive(Debug)]
pub struct StatsClient {
    agent: ureq::Agent,
    base_url: String,
}

impl StatsClient {
    /// A client for the server at `endpoint` (trusting its certificate over HTTPS).
    pub fn new(endpoint: &Endpoint) -> Self {
        let base_url = endpoint.base_url.as_str();
        let mut config = ureq::Agent::config_builder();
        if let Some(tls) = endpoint
            .ca_pem
            .as_deref()
            .and_then(crate::client::ureq_tls_trusting)
        {
            config = config.tls_config(tls);
        }
        let config = config
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .proxy(None)
            // Keep the one connection across long points: a new one would count as the
            // point's.
            .max_idle_age(Duration::from_secs(24 * 3600))
            .build();
        Self {
            agent: ureq::Agent::new_with_config(config),
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
    }

    fn gone(&self, reason: impl ToString) -> HarnessError {
        HarnessError::ServerGone {
            url: self.base_url.clone(),
            reason: reason.to_string(),
        }
    }

    /// Waits (up to 10 s) for requests of an earlier point — a killed worker's — to leave
    /// the server, then `POST /stats/reset`; Ok even when the server has no such endpoint.
    pub fn reset(&self) -> Result<(), HarnessError> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.in_flight()? > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let url = format!("{}/stats/reset", self.base_url);
        let mut response = match self.agent.post(&url).send_empty() {
            Ok(response) => response,
            Err(e) if untrusted(&e) => return Ok(()),
            Err(e) => return Err(self.gone(e)),
        };
        // Read to the end so the connection goes back to the pool: a new one for the final
        // GET /stats would count among the point's connections.
        let _ = response.body_mut().read_to_vec();
        Ok(())
    }

    /// `GET /stats`, or `None` when the server has none.
    pub fn read(&self) -> Result<Option<ServerSaw>, HarnessError> {
        Ok(self.snapshot()?.map(ServerSaw::from))
    }

    fn in_flight(&self) -> Result<u64, HarnessError> {
        Ok(self.snapshot()?.map_or(0, |s| s.in_flight))
    }

    fn snapshot(&self) -> Result<Option<StatsSnapshot>, HarnessError> {
        let url = format!("{}/stats", self.base_url);
        let mut response = match self.agent.get(&url).call() {
            Ok(response) => response,
            Err(e) if untrusted(&e) => return Ok(None),
            Err(e) => return Err(self.gone(e)),
        };
        // Read to the end whatever the status, so the connection is kept.
        let body = response
            .body_mut()
            .read_to_string()
            .map_err(|e| self.gone(e))?;
        if response.status() != 200 {
            return Ok(None);
        }
        Ok(serde_json::from_str(&body).ok())
    }
}

/// True when the server's certificate is not trusted (an HTTPS `--url` whose certificate this
/// process was not given): its `/stats` is unreadable, as a server without one, and the
/// point's clients will say why in their errors.
fn untrusted(e: &ureq::Error) -> bool {
    crate::client::ureq_error_kind(e) == crate::job::ErrorKind::TlsCertificate
}

/// The executable to re-run in the server and worker roles: this one.
pub fn current_exe() -> std::io::Result<PathBuf> {
    std::env::current_exe()
}

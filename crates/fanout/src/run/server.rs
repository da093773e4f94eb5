//! The server points are measured against: a mock-server process the orchestrator starts (and
//! stops), or one at a URL the user gave.

use std::io::{BufRead, BufReader};
use std::net::SocketAddrV4;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub use mock_server::ServerFlags;

use super::error::HarnessError;
use super::role::ROLE_VAR;
use crate::model::settings::{DEFAULT_LOOPBACK_ADDRESSES, Settings};

/// A mock-server process owned by the orchestrator; stopped (SIGTERM, then SIGKILL) on drop.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    url: String,
    loopback: Vec<SocketAddrV4>,
}

impl ServerProcess {
    /// Starts `exe` in the server role on a free port at `loopback_addresses` loopback
    /// addresses (127.0.0.1 and the ones after it) with the profile and limits of `server`
    /// and waits for its address; with `tls_ca_out`, serving HTTPS and writing its
    /// certificate there.
    pub fn start(
        exe: &Path,
        server: &ServerFlags,
        loopback_addresses: u32,
        tls_ca_out: Option<&Path>,
    ) -> Result<Self, HarnessError> {
        let mut command = Command::new(exe);
        command
            .env(ROLE_VAR, "server")
            .env("RUST_LOG", "warn")
            .args(["--addr", "127.0.0.1:0", "--exit-when-stdin-closes"])
            .arg(format!("--loopback-addresses={loopback_addresses}"))
            .args(server.to_args());
        if let Some(path) = tls_ca_out {
            command.arg("--tls").arg("--tls-ca-out").arg(path);
        }
        // This process keeps the write end of the server's stdin (in `child`): if it dies,
        // however it dies, the pipe closes and the server stops rather than outliving it.
        let mut child = command
            .stdin(Stdio::piped())
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
        let first_addr = url
            .as_deref()
            .and_then(|u| u.split_once("://"))
            .and_then(|(_, addr)| addr.parse::<SocketAddrV4>().ok());
        let (Some(url), Some(first_addr)) = (url, first_addr) else {
            let _ = child.kill();
            let status = child.wait().map(|s| s.to_string()).unwrap_or_default();
            return Err(HarnessError::ServerStart(format!(
                "no 'listening on' line with an IPv4 address (got {first:?}; {status})"
            )));
        };
        // The server listens at the addresses after the first one, on its port: it says
        // so only by having started (it exits with an error where it could not bind one).
        let loopback =
            mock_server::listener::loopback_run((*first_addr.ip()).into(), loopback_addresses)
                .map_err(HarnessError::ServerStart)?
                .into_iter()
                .filter_map(|ip| match ip {
                    std::net::IpAddr::V4(ip) => Some(SocketAddrV4::new(ip, first_addr.port())),
                    std::net::IpAddr::V6(_) => None,
                })
                .collect();
        Ok(Self {
            child,
            url,
            loopback,
        })
    }

    /// Base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The loopback addresses it listens at, one port.
    pub fn loopback(&self) -> &[SocketAddrV4] {
        &self.loopback
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
    /// The loopback addresses a server this process started listens at, one port, each
    /// point sent to one of them ([`super::ports::settle`]); empty for a server at a URL.
    pub loopback: Vec<SocketAddrV4>,
}

impl Endpoint {
    /// The base URL's scheme: `http` or `https`.
    pub fn scheme(&self) -> &str {
        self.base_url.split_once("://").map_or("http", |(s, _)| s)
    }
}

/// The server points are measured against: one this process started (stopped on drop), or
/// one at a URL the user gave.
#[derive(Debug)]
pub struct Target {
    server: Option<ServerProcess>,
    endpoint: Endpoint,
}

impl Target {
    /// The server at `url`, or, without one, a new server process (`exe` in its role) with
    /// the profile and limits of `settings`, serving HTTPS with a certificate of its own when
    /// they ask for TLS (the certificate is read back for the clients to trust). Server flags
    /// beside a `url` are refused: that server runs with its own.
    pub fn new(exe: &Path, url: Option<&str>, settings: &Settings) -> Result<Self, HarnessError> {
        let tls = settings.tls;
        if url.is_some() && settings.server != ServerFlags::default() {
            return Err(HarnessError::ServerStart(
                "--profile, --h2-max-streams, --max-connections and --keepalive-* set up the \
                 server fanout starts; the server at --url runs with its own limits (each \
                 point records them from its /stats)"
                    .into(),
            ));
        }
        if url.is_some() && settings.loopback_addresses.is_some() {
            return Err(HarnessError::ServerStart(
                "--loopback-addresses sets up the server fanout starts; points go to the \
                 server at --url as its URL says"
                    .into(),
            ));
        }
        Ok(match url {
            Some(url) => Self {
                server: None,
                endpoint: Endpoint {
                    base_url: url.trim_end_matches('/').to_owned(),
                    ca_pem: None,
                    loopback: Vec::new(),
                },
            },
            None => {
                let ca_path = tls.then(|| {
                    std::env::temp_dir().join(format!("fanout-ca-{}.pem", std::process::id()))
                });
                let addresses = settings
                    .loopback_addresses
                    .unwrap_or(DEFAULT_LOOPBACK_ADDRESSES);
                let server =
                    ServerProcess::start(exe, &settings.server, addresses, ca_path.as_deref())?;
                let ca_pem = match &ca_path {
                    Some(path) => Some(std::fs::read_to_string(path).map_err(|e| {
                        HarnessError::ServerStart(format!("reading {}: {e}", path.display()))
                    })?),
                    None => None,
                };
                let endpoint = Endpoint {
                    base_url: server.url().to_owned(),
                    ca_pem,
                    loopback: server.loopback().to_vec(),
                };
                Self {
                    server: Some(server),
                    endpoint,
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

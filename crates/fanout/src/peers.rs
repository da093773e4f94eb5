//! Peers: client programs in other languages and tools — the articles' own Python, Go, and the
//! oha load generator — run as a point's worker and metered from outside exactly like
//! fanout's own (see `process_meter`). They live in `peers/` and are installed by
//! `scripts/peers.sh` under `target/peers/`; none is needed to build or test fanout.
//!
//! The peer protocol: fanout runs `PROGRAM URL C N TIMEOUT_MS` (the request URL, requests in
//! flight at most, requests in all, per-request timeout). The peer prints one JSON line on
//! stdout (the last line that parses counts):
//!
//! - required: `ok` (requests answered 200), `errors` (`{kind: count}`, fanout's kinds where
//!   they apply: `timeout`, `connection_refused`, `connection_reset`, `too_many_open_files`,
//!   `addr_not_available`, `thread_spawn`, `http_CODE`, `io`, `other`), `wall_s` (its timed
//!   region: client and pool built, every request, teardown; not the interpreter's start-up);
//! - optional: `latencies_ms` (every ok request's latency: fanout computes the percentiles as it
//!   does its own) or `latency_ms` (`{p50, p90, p99, max}`), `rss_before_bytes` (resident memory
//!   just before the timed region), `timed_cpu_user_s` / `timed_cpu_sys_s` (CPU of the timed
//!   region), `versions` (`{name: version}`), `strategy_error` (why it stopped early).
//!
//! After its line a peer may read stdin to its end: fanout closes it once it has read the
//! peer's peak memory, which is then exact. Requests a peer did not account for count as
//! `not_run` errors (ok + errors = N, always); more outcomes than requests fail the point.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Mutex;

use serde::{Deserialize, Serialize};

use crate::job::{ErrorKind, Job, Latency, TallySummary};
use crate::report::WorkerReport;
use crate::strategies::{ClientLib, InFlight, Strategy, Worker};

/// Prefix of every peer's name: `peer:py_aiohttp`.
pub const PREFIX: &str = "peer:";
/// A variable `FANOUT_PEER_<NAME>` naming a program adds `peer:<name>` (any protocol-speaking
/// program: a test's fake, your own client).
pub const CUSTOM_VAR_PREFIX: &str = "FANOUT_PEER_";
/// A variable naming where the peers are installed, if not in `target/peers/`.
pub const DIR_VAR: &str = "FANOUT_PEERS_DIR";
/// What installs the built-in peers.
pub const INSTALL: &str = "scripts/peers.sh";

/// How a peer is started and read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Program {
    /// A script in `peers/`, run by the Python of `target/peers/venv`.
    Python(&'static str),
    /// The Go peer, built by `scripts/peers.sh` into `target/peers/bin/`.
    Go,
    /// oha (`target/peers/bin/oha` or on PATH): its own arguments, its JSON read by an adapter.
    Oha,
    /// A program speaking the protocol, named by a `FANOUT_PEER_<NAME>` variable.
    Custom(&'static str),
}

/// The built-in peers.
pub const BUILT_IN: &[Strategy] = &[
    Strategy {
        name: "peer:py_aiohttp",
        models: "Python asyncio + aiohttp: one ClientSession, TCPConnector(limit=C), Semaphore(C), gather",
        in_flight: InFlight::Concurrency,
        os_threads: false,
        client: ClientLib::Peer,
        protocol: None,
        connection_per_request: false,
        worker: Worker::Peer(Program::Python("py_aiohttp.py")),
    },
    Strategy {
        name: "peer:py_threads",
        models: "Python requests.Session with a pool of C connections + ThreadPoolExecutor(C)",
        in_flight: InFlight::Concurrency,
        os_threads: true,
        client: ClientLib::Peer,
        protocol: None,
        connection_per_request: false,
        worker: Worker::Peer(Program::Python("py_threads.py")),
    },
    Strategy {
        name: "peer:py_to_thread",
        models: "Python asyncio.to_thread(requests) under Semaphore(C): the default executor's min(32, CPUs + 4) threads",
        in_flight: InFlight::PythonDefaultExecutor,
        os_threads: true,
        client: ClientLib::Peer,
        protocol: None,
        connection_per_request: false,
        worker: Worker::Peer(Program::Python("py_to_thread.py")),
    },
    Strategy {
        name: "peer:py_httpx",
        models: "Python httpx.AsyncClient with Limits(max_connections=C), gather",
        in_flight: InFlight::Concurrency,
        os_threads: false,
        client: ClientLib::Peer,
        protocol: None,
        connection_per_request: false,
        worker: Worker::Peer(Program::Python("py_httpx.py")),
    },
    Strategy {
        name: "peer:go",
        models: "Go net/http: a goroutine per request under a channel semaphore, MaxIdleConnsPerHost = C",
        in_flight: InFlight::Concurrency,
        os_threads: false,
        client: ClientLib::Peer,
        protocol: None,
        connection_per_request: false,
        worker: Worker::Peer(Program::Go),
    },
    Strategy {
        name: "peer:oha",
        models: "oha -n N -c C: a dedicated Rust load generator (tokio + hyper), C connections",
        in_flight: InFlight::Concurrency,
        os_threads: false,
        client: ClientLib::Peer,
        protocol: None,
        connection_per_request: false,
        worker: Worker::Peer(Program::Oha),
    },
];

/// The repository's root, where `peers/` and `target/peers/` are.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// Where `scripts/peers.sh` installs: `FANOUT_PEERS_DIR`, or `target/peers/` of the repository.
fn installed_dir() -> PathBuf {
    std::env::var_os(DIR_VAR).map_or_else(|| root().join("target/peers"), PathBuf::from)
}

/// The peer named `name` (`peer:NAME`): built in, or a program named by `FANOUT_PEER_<NAME>`.
pub fn find(name: &str) -> Option<&'static Strategy> {
    if let Some(peer) = BUILT_IN.iter().find(|p| p.name == name) {
        return Some(peer);
    }
    let short = name.strip_prefix(PREFIX)?;
    if short.is_empty() || !short.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return None;
    }
    let var = format!("{CUSTOM_VAR_PREFIX}{}", short.to_ascii_uppercase());
    let program = std::env::var(var).ok().filter(|p| !p.trim().is_empty())?;
    Some(custom(name, program))
}

/// A peer of a custom program, made once per name (and kept: points refer to it by pointer).
fn custom(name: &str, program: String) -> &'static Strategy {
    static MADE: Mutex<Vec<&'static Strategy>> = Mutex::new(Vec::new());
    let mut made = MADE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(peer) = made.iter().find(|p| p.name == name) {
        return peer;
    }
    let program: &'static str = Box::leak(program.into_boxed_str());
    let peer = Box::leak(Box::new(Strategy {
        name: Box::leak(name.to_owned().into_boxed_str()),
        models: Box::leak(format!("a custom peer: {program}").into_boxed_str()),
        in_flight: InFlight::Concurrency,
        os_threads: false,
        client: ClientLib::Peer,
        protocol: None,
        connection_per_request: false,
        worker: Worker::Peer(Program::Custom(program)),
    }));
    made.push(peer);
    peer
}

/// The built-in peers whose programs are installed.
pub fn installed() -> Vec<&'static Strategy> {
    BUILT_IN
        .iter()
        .filter(|p| match p.worker {
            Worker::Peer(program) => locate(program).is_ok(),
            Worker::InProcess(_) => false,
        })
        .collect()
}

/// The program and the arguments that start `program`, or why it cannot be started (not
/// installed, and what installs it).
fn locate(program: Program) -> Result<(PathBuf, Vec<String>), String> {
    let dir = installed_dir();
    let exists = |path: PathBuf, what: &str| {
        if path.is_file() {
            Ok(path)
        } else {
            Err(format!(
                "{what} is not installed ({} missing): run {INSTALL}",
                path.display()
            ))
        }
    };
    match program {
        Program::Python(script) => {
            let python = exists(dir.join("venv/bin/python"), "the peers' Python venv")?;
            let script = exists(root().join("peers").join(script), "the peer script")?;
            // -B: no bytecode files written into peers/.
            Ok((python, vec!["-B".into(), script.display().to_string()]))
        }
        Program::Go => Ok((
            exists(dir.join("bin/fanout-go-peer"), "the Go peer")?,
            vec![],
        )),
        Program::Oha => {
            let local = dir.join("bin/oha");
            let on_path = std::env::var_os("PATH")
                .into_iter()
                .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
                .map(|d| d.join("oha"))
                .find(|p| p.is_file());
            let oha = if local.is_file() {
                Some(local)
            } else {
                on_path
            };
            oha.map(|p| (p, vec![])).ok_or_else(|| {
                format!(
                    "oha is not installed (not in {} nor on PATH): run {INSTALL}",
                    dir.join("bin").display()
                )
            })
        }
        Program::Custom(path) => Ok((PathBuf::from(path), vec![])),
    }
}

/// The command that runs `job` with `program`, or why it cannot run here.
pub fn command(program: Program, job: &Job) -> Result<Command, String> {
    let (path, mut args) = locate(program)?;
    match program {
        Program::Oha => args.extend([
            "-n".into(),
            job.requests.to_string(),
            "-c".into(),
            job.concurrency.to_string(),
            "-t".into(),
            format!("{}ms", job.settings.timeout_ms),
            "--no-tui".into(),
            "--output-format".into(),
            "json".into(),
            job.url().to_owned(),
        ]),
        _ => args.extend([
            job.url().to_owned(),
            job.concurrency.to_string(),
            job.requests.to_string(),
            job.settings.timeout_ms.to_string(),
        ]),
    }
    let mut command = Command::new(path);
    command.args(args);
    Ok(command)
}

/// Why `program` cannot run here, if it cannot.
pub fn missing(program: Program) -> Option<String> {
    locate(program).err()
}

/// The line a peer prints (the protocol above).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct PeerLine {
    ok: u64,
    errors: BTreeMap<String, u64>,
    wall_s: f64,
    #[serde(default)]
    latencies_ms: Option<Vec<f64>>,
    #[serde(default)]
    latency_ms: Option<Latency>,
    #[serde(default)]
    rss_before_bytes: Option<u64>,
    #[serde(default)]
    timed_cpu_user_s: Option<f64>,
    #[serde(default)]
    timed_cpu_sys_s: Option<f64>,
    #[serde(default)]
    versions: BTreeMap<String, String>,
    #[serde(default)]
    strategy_error: Option<String>,
}

/// What a peer ran with, recorded beside (or instead of) `client_config`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PeerConfig {
    /// What it models.
    pub models: String,
    /// Versions it reported (language, libraries).
    pub versions: BTreeMap<String, String>,
}

/// The worker report of `peer`'s `stdout` for a job of `requests` requests, or why there is
/// none.
pub fn read_report(peer: &Strategy, stdout: &str, requests: u64) -> Result<WorkerReport, String> {
    let Worker::Peer(program) = peer.worker else {
        return Err(format!("{} is not a peer", peer.name));
    };
    if program == Program::Oha {
        // oha prints one JSON document over many lines.
        let mut line = oha_line(stdout)?;
        line.versions = versions_of(Program::Oha);
        return to_report(peer, line, requests);
    }
    let mut last_error = None;
    for line in stdout
        .lines()
        .rev()
        .filter(|l| l.trim_start().starts_with('{'))
    {
        match serde_json::from_str::<PeerLine>(line).map_err(|e| e.to_string()) {
            Ok(parsed) => return to_report(peer, parsed, requests),
            Err(e) => last_error = last_error.or(Some(e)),
        }
    }
    Err(match last_error {
        Some(e) => format!("the peer's report line does not follow the protocol: {e}"),
        None => format!("the peer printed no report line: {stdout:?}"),
    })
}

fn to_report(peer: &Strategy, line: PeerLine, requests: u64) -> Result<WorkerReport, String> {
    if !(line.wall_s.is_finite() && line.wall_s > 0.0) {
        return Err(format!("the peer reported wall_s = {}", line.wall_s));
    }
    let mut errors = line.errors;
    let accounted = line.ok + errors.values().sum::<u64>();
    if accounted > requests {
        return Err(format!(
            "the peer reported {accounted} outcomes for {requests} requests"
        ));
    }
    if accounted < requests {
        *errors.entry(ErrorKind::NotRun.key()).or_default() += requests - accounted;
    }
    let latency_ms = match (line.latencies_ms, line.latency_ms) {
        (Some(all), _) => Latency::of_millis(&all),
        (None, Some(percentiles)) => percentiles,
        (None, None) => Latency::default(),
    };
    Ok(WorkerReport {
        tally: TallySummary {
            ok: line.ok,
            errors,
            setup_errors: BTreeMap::new(),
            latency_ms,
        },
        wall_s: line.wall_s,
        rss_before_bytes: line.rss_before_bytes.unwrap_or(0),
        timed_cpu_user_s: line.timed_cpu_user_s,
        timed_cpu_sys_s: line.timed_cpu_sys_s,
        strategy_error: line.strategy_error,
        peer: Some(PeerConfig {
            models: peer.models.to_owned(),
            versions: line.versions,
        }),
        ..WorkerReport::default()
    })
}

/// oha's `--output-format json` summary, the parts read here (times in seconds).
#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
struct OhaOutput {
    summary: OhaSummary,
    latency_percentiles: BTreeMap<String, Option<f64>>,
    #[serde(default)]
    status_code_distribution: BTreeMap<String, u64>,
    #[serde(default)]
    error_distribution: BTreeMap<String, u64>,
}

#[derive(Debug, Deserialize)]
struct OhaSummary {
    total: f64,
    slowest: Option<f64>,
}

/// oha's JSON as a protocol line: 200s are ok, other statuses `http_CODE`, its error messages
/// classified by what they say.
fn oha_line(output: &str) -> Result<PeerLine, String> {
    let oha: OhaOutput =
        serde_json::from_str(output).map_err(|e| format!("oha's JSON output: {e}"))?;
    let mut errors = BTreeMap::new();
    let mut ok = 0;
    for (code, n) in oha.status_code_distribution {
        if code == "200" {
            ok += n;
        } else {
            *errors.entry(format!("http_{code}")).or_default() += n;
        }
    }
    for (message, n) in oha.error_distribution {
        *errors.entry(classify_message(&message)).or_default() += n;
    }
    let ms = |key: &str| {
        oha.latency_percentiles
            .get(key)
            .copied()
            .flatten()
            .unwrap_or(0.0)
            * 1000.0
    };
    Ok(PeerLine {
        ok,
        errors,
        wall_s: oha.summary.total,
        latencies_ms: None,
        latency_ms: Some(Latency {
            p50: ms("p50"),
            p90: ms("p90"),
            p99: ms("p99"),
            max: oha.summary.slowest.unwrap_or(0.0) * 1000.0,
        }),
        rss_before_bytes: None,
        timed_cpu_user_s: None,
        timed_cpu_sys_s: None,
        versions: BTreeMap::new(),
        strategy_error: None,
    })
}

/// fanout's error kind for an error message (oha reports messages, not kinds).
fn classify_message(message: &str) -> String {
    let m = message.to_ascii_lowercase();
    let kind = if m.contains("timeout") || m.contains("timed out") {
        ErrorKind::Timeout
    } else if m.contains("connection refused") {
        ErrorKind::ConnectionRefused
    } else if m.contains("reset") || m.contains("broken pipe") || m.contains("closed") {
        ErrorKind::ConnectionReset
    } else if m.contains("too many open files") {
        ErrorKind::TooManyOpenFiles
    } else if m.contains("address not available") {
        ErrorKind::AddrNotAvailable
    } else {
        ErrorKind::Other
    };
    kind.key()
}

/// The versions of what the installed peers run with, for SETUP.md.
pub fn versions() -> BTreeMap<String, String> {
    [Program::Python("py_aiohttp.py"), Program::Go, Program::Oha]
        .into_iter()
        .flat_map(versions_of)
        .collect()
}

/// What `program` runs with, asked of it (`python -c`, the Go peer's `-version`,
/// `oha --version`); empty when it is not installed.
fn versions_of(program: Program) -> BTreeMap<String, String> {
    let mut versions = BTreeMap::new();
    let Ok((path, _)) = locate(program) else {
        return versions;
    };
    let ask = |args: &[&str]| -> Option<String> {
        let out = Command::new(&path).args(args).output().ok()?;
        out.status
            .success()
            .then(|| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    match program {
        Program::Python(_) => {
            let script = "import sys, importlib.metadata as m\n\
                print('python', sys.version.split()[0])\n\
                for p in ('aiohttp', 'requests', 'httpx'):\n    print(p, m.version(p))";
            for line in ask(&["-c", script]).unwrap_or_default().lines() {
                if let Some((name, version)) = line.split_once(' ') {
                    versions.insert(name.to_owned(), version.to_owned());
                }
            }
        }
        Program::Go => {
            versions.extend(ask(&["-version"]).map(|v| ("go".to_owned(), v)));
        }
        Program::Oha => {
            let version = ask(&["--version"]);
            versions.extend(
                version.map(|v| ("oha".to_owned(), v.trim_start_matches("oha ").to_owned())),
            );
        }
        Program::Custom(_) => {}
    }
    versions
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oha() -> &'static Strategy {
        BUILT_IN.iter().find(|p| p.name == "peer:oha").expect("oha")
    }

    #[test]
    fn ohas_json_is_read_as_a_protocol_line() {
        // The fields read here, as oha 1.16 prints them (pretty-printed, times in seconds).
        let output = r#"{
  "summary": {"successRate": 0.9, "total": 0.5, "slowest": 0.2, "fastest": 0.1},
  "latencyPercentiles": {"p10": 0.1, "p50": 0.11, "p90": 0.15, "p99": 0.19, "p99.9": null},
  "statusCodeDistribution": {"200": 7, "503": 1},
  "errorDistribution": {"connection closed before message completed": 1, "timeout": 1}
}"#;
        let r = read_report(oha(), output, 11).expect("read");
        assert_eq!(r.tally.ok, 7);
        let errors: Vec<_> = r
            .tally
            .errors
            .iter()
            .map(|(k, n)| (k.as_str(), *n))
            .collect();
        assert_eq!(
            errors,
            [
                ("connection_reset", 1),
                ("http_503", 1),
                ("not_run", 1),
                ("timeout", 1)
            ]
        );
        assert_eq!(r.wall_s, 0.5);
        assert!((r.tally.latency_ms.p99 - 190.0).abs() < 1e-9);
        assert!((r.tally.latency_ms.max - 200.0).abs() < 1e-9);
        assert!(read_report(oha(), "oha: error", 10).is_err());
    }

    #[test]
    fn a_peer_is_found_by_name_and_a_custom_one_only_through_its_variable() {
        assert!(find("peer:py_aiohttp").is_some());
        // No FANOUT_PEER_UNIT_TEST_UNSET in the environment; a name no variable can carry.
        assert!(find("peer:unit_test_unset").is_none());
        assert!(find("peer:bad name").is_none());
        assert!(
            find("py_aiohttp").is_none(),
            "peers are named with their prefix"
        );
    }
}

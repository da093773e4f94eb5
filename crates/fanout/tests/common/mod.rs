//! What the integration tests share: running the `fanout` binary and reading its one JSON
//! report, the accounting every report must satisfy, a mock server of a test's own, and how
//! a check this machine cannot make says so.

// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

use serde_json::Value;

/// `fanout ARGS`: its output.
pub fn fanout(args: &[&str]) -> Output {
    fanout_with(args, &[])
}

/// `fanout ARGS` with these environment variables set: its output.
pub fn fanout_with(args: &[&str], vars: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_fanout"))
        .args(args)
        .envs(vars.iter().copied())
        .output()
        .expect("run fanout")
}

/// `fanout ARGS`, which must succeed: its stdout. When it fails, the panic shows what ran
/// and everything it said, so a failing test needs no rerun to be read.
pub fn succeeds(args: &[&str]) -> String {
    succeeds_with(args, &[])
}

/// [`succeeds`] with these environment variables set.
pub fn succeeds_with(args: &[&str], vars: &[(&str, &str)]) -> String {
    let out = fanout_with(args, vars);
    if !out.status.success() {
        panic!("{}", told("expected success", args, vars, &out));
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `fanout ARGS`, which must fail, and without a panic: its stderr. When it succeeds, the
/// panic shows what ran and everything it said.
pub fn fails(args: &[&str]) -> String {
    fails_with(args, &[])
}

/// [`fails`] with these environment variables set.
pub fn fails_with(args: &[&str], vars: &[(&str, &str)]) -> String {
    let out = fanout_with(args, vars);
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    if out.status.success() || stderr.contains("panicked") {
        panic!("{}", told("expected a clean failure", args, vars, &out));
    }
    stderr
}

/// What a test's `fanout` process was, did and said, for a failed expectation.
fn told(expected: &str, args: &[&str], vars: &[(&str, &str)], out: &Output) -> String {
    let vars: String = vars.iter().map(|(k, v)| format!("{k}={v} ")).collect();
    format!(
        "\n\n{expected}: {vars}fanout {}\nexit: {}\n\nstdout:\n{}\n\nstderr:\n{}\n",
        args.join(" "),
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr),
    )
}

/// What `fanout run --json` left: its exit code, its report (`Null` when it printed none),
/// its stderr.
pub struct Ran {
    /// The exit code.
    pub code: Option<i32>,
    /// The one JSON report.
    pub report: Value,
    /// What it said on stderr.
    pub stderr: String,
}

/// `fanout run --json ARGS`.
pub fn run_json(args: &[&str]) -> Ran {
    let mut all = vec!["run", "--json"];
    all.extend_from_slice(args);
    ran(&fanout(&all))
}

/// What a `fanout run --json` process left, from its output.
pub fn ran(out: &Output) -> Ran {
    let stdout = String::from_utf8_lossy(&out.stdout);
    Ran {
        code: out.status.code(),
        report: serde_json::from_str(stdout.trim()).unwrap_or(Value::Null),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
    }
}

/// A report's failed requests, every kind.
pub fn errors(r: &Value) -> u64 {
    r["errors"]
        .as_object()
        .expect("an errors object")
        .values()
        .filter_map(Value::as_u64)
        .sum()
}

/// ok + errors + dropped of a report: N, always.
pub fn accounted(r: &Value) -> u64 {
    let dropped = r["dropped"].as_u64().unwrap_or(0);
    r["ok"].as_u64().expect("ok") + errors(r) + dropped
}

/// A mock server of the test's own: the fanout binary in its server role with `args`, on a
/// free loopback port; killed on drop.
pub struct Server {
    /// The process (a test may kill it to see what a sweep does without its server).
    pub child: Child,
    /// Its base URL, as it announced it.
    pub url: String,
    /// The one connection `/stats` is read over: opened and then reset away at start, so it
    /// is not among the connections a test counts.
    stats_agent: ureq::Agent,
}

impl Server {
    /// Starts one with these extra arguments (`--tls`, `--h2-max-streams 5`, …).
    pub fn start(args: &[&str]) -> Self {
        let mut child = Command::new(env!("CARGO_BIN_EXE_fanout"))
            .env("FANOUT_ROLE", "server")
            .env("RUST_LOG", "error")
            .args(["--addr", "127.0.0.1:0", "--exit-when-stdin-closes"])
            .args(args)
            // A test binary that aborts closes the pipe, and its servers stop with it instead
            // of holding the test log's pipe open.
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the server");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("first line");
        let url = line
            .trim()
            .strip_prefix("listening on ")
            .expect("address")
            .to_owned();
        let stats_agent = ureq::Agent::new_with_defaults();
        // Over plain HTTP only: a server with `--tls` is not read here (its certificate is
        // its own), and the tests that start one do not read its stats.
        if let Ok(mut reset) = stats_agent.post(format!("{url}/stats/reset")).send_empty() {
            let _ = reset.body_mut().read_to_vec();
        }
        Self {
            child,
            url,
            stats_agent,
        }
    }
}

impl Server {
    /// What the server saw since it started (`GET /stats`, over a connection it does not
    /// count).
    pub fn stats(&self) -> mock_server::StatsSnapshot {
        let body = self
            .stats_agent
            .get(format!("{}/stats", self.url))
            .call()
            .expect("GET /stats")
            .body_mut()
            .read_to_string()
            .expect("body");
        serde_json::from_str(&body).expect("a stats snapshot")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A check this machine cannot make says so, and CI counts it (`fanout::os::skip`).
#[allow(unused_imports)]
pub use fanout::os::skip::skipped;

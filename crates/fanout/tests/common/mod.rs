//! What the integration tests share: a mock server of a test's own, and how a check this
//! machine cannot make says so.

// Each test binary compiles this module and uses only part of it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

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
            .args(["--addr", "127.0.0.1:0"])
            .args(args)
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

/// A check this machine cannot make: says why on stderr and, where CI asks for it
/// (`FANOUT_SKIPPED_LOG`, a file), appends `test: why` to that file, which `.ci/run` counts in
/// its closing line — a skipped check is never a silent pass.
pub fn skipped(test: &str, why: &str) {
    eprintln!("skipped: {test}: {why}");
    if let Some(path) = std::env::var_os("FANOUT_SKIPPED_LOG") {
        use std::io::Write as _;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path);
        if let Ok(mut file) = file {
            let _ = writeln!(file, "{test}: {why}");
        }
    }
}

//! What the integration tests share: a mock server of a test's own.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// A mock server of the test's own: the fanout binary in its server role with `args`, on a
/// free loopback port; killed on drop.
pub struct Server {
    /// The process (a test may kill it to see what a sweep does without its server).
    pub child: Child,
    /// Its base URL, as it announced it.
    pub url: String,
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
        Self { child, url }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

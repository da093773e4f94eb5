//! The floors made the way a worker's own kernel bill is: a probe (`floor_probe.rs`: this
//! binary again, in the role `floor-probe`) runs in a memory cgroup of its own, parks threads
//! and holds the client ends of idle connections to a listener here, and reports what its
//! cgroup was charged for each — the server's ends stay out, in this process. Set beside a
//! strategy's per-request figure from its cgroup, it says how much of that figure the model
//! must hold at least.

use std::net::{TcpListener, TcpStream};

use anyhow::Context as _;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use super::floor_probe::{ADDR_VAR, CONNECTIONS, OwnFloors};
use super::role::ROLE_VAR;
use crate::os::cgroup::MemoryCgroup;

/// Runs the probe in a memory cgroup of its own and reads its report; why not, if it could
/// not (no cgroup here, or the probe failed).
pub fn measure(exe: &std::path::Path) -> anyhow::Result<OwnFloors> {
    let cgroup = MemoryCgroup::create()?;
    let listener = TcpListener::bind("127.0.0.1:0").context("a listener")?;
    let addr = listener.local_addr().context("the listener's address")?;
    // The server's ends, accepted here (outside the probe's cgroup) and held till it is done;
    // the acceptor stops once told, woken by one connection of this process's own (a probe
    // that failed early leaves it waiting otherwise).
    let done = Arc::new(AtomicBool::new(false));
    let accepting = std::thread::spawn({
        let done = Arc::clone(&done);
        move || {
            let mut held = Vec::with_capacity(CONNECTIONS);
            while !done.load(Ordering::Relaxed) {
                match listener.accept() {
                    Ok((stream, _)) => held.push(stream),
                    Err(_) => break,
                }
            }
            held
        }
    });
    let ran = run_probe(exe, &cgroup, &addr.to_string());
    done.store(true, Ordering::Relaxed);
    drop(TcpStream::connect(addr));
    drop(accepting.join());
    let out = ran?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).with_context(|| {
        format!(
            "the probe's report {line:?} (its stderr: {:?})",
            String::from_utf8_lossy(&out.stderr).trim()
        )
    })
}

/// Runs the probe (`exe` in its role) inside `cgroup`, its connections to `addr`.
fn run_probe(
    exe: &std::path::Path,
    cgroup: &MemoryCgroup,
    addr: &str,
) -> anyhow::Result<std::process::Output> {
    let procs = cgroup.procs()?;
    let mut command = Command::new(exe);
    command
        .env(ROLE_VAR, "floor-probe")
        .env(ADDR_VAR, addr)
        .stdout(Stdio::piped());
    crate::metering::outside::join_in_child(&mut command, &procs);
    command.output().context("running the probe")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_probe_that_never_connects_is_said_not_waited_for() {
        if let Err(why) = MemoryCgroup::create() {
            crate::os::skip::skipped("cgroup_floors", &why.to_string());
            return;
        }
        // `true` exits at once, connecting nowhere and printing nothing.
        let said = format!(
            "{:#}",
            measure(std::path::Path::new("/bin/true")).expect_err("no report")
        );
        assert!(said.contains("the probe's report"), "{said}");
    }
}

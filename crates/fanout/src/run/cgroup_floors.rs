//! The floors made the way a worker's own kernel bill is: a probe (`floor_probe.rs`: this
//! binary again, in the role `floor-probe`) runs in a memory cgroup of its own, parks threads
//! and holds the client ends of idle connections to a listener here, and reports what its
//! cgroup was charged for each — the server's ends stay out, in this process. Set beside a
//! strategy's per-request figure from its cgroup, it says how much of that figure the model
//! must hold at least.

use std::net::{TcpListener, TcpStream};
use std::process::{Command, Stdio};

use super::floor_probe::{ADDR_VAR, CONNECTIONS, OwnFloors};
use super::role::ROLE_VAR;
use crate::os::cgroup::MemoryCgroup;

/// Runs the probe in a memory cgroup of its own and reads its report; why not, if it could
/// not (no cgroup here, or the probe failed).
pub fn measure(exe: &std::path::Path) -> Result<OwnFloors, String> {
    let cgroup = MemoryCgroup::create()?;
    let listener = TcpListener::bind("127.0.0.1:0").map_err(|e| format!("a listener: {e}"))?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    // The server's ends, accepted here (outside the probe's cgroup) and held till it is done.
    let accepting = std::thread::spawn(move || {
        (0..CONNECTIONS)
            .map_while(|_| listener.accept().ok().map(|(s, _)| s))
            .collect::<Vec<TcpStream>>()
    });
    let procs = cgroup
        .procs()
        .map_err(|e| format!("its cgroup.procs: {e}"))?;
    let mut command = Command::new(exe);
    command
        .env(ROLE_VAR, "floor-probe")
        .env(ADDR_VAR, addr.to_string())
        .stdout(Stdio::piped());
    crate::metering::outside::join_in_child(&mut command, &procs);
    let out = command
        .output()
        .map_err(|e| format!("running the probe: {e}"))?;
    drop(accepting.join());
    let stdout = String::from_utf8_lossy(&out.stdout);
    let line = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(line).map_err(|e| {
        format!(
            "the probe's report ({e}): {line:?}; {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

//! Linux: `/proc/self/status`, `/proc/net/netstat`, `/proc/sys`, the cgroup tree, and
//! `getrusage(RUSAGE_THREAD)`.

use std::collections::BTreeMap;
use std::path::Path;

use crate::meter::ListenCounters;

/// A field of a `/proc` status-like file such as `VmHWM:    1234 kB` or `Threads:  5`; sizes
/// in kB are returned in bytes.
fn status_field(status: &str, name: &str) -> Option<u64> {
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))?;
    let mut words = line.split_whitespace();
    let value: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") => value.checked_mul(1024),
        Some(_) => None,
        None => Some(value),
    }
}

fn read_trimmed(path: impl AsRef<Path>) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
}

fn own_status(name: &str) -> Option<u64> {
    status_field(&std::fs::read_to_string("/proc/self/status").ok()?, name)
}

/// This process's resident memory now, bytes (`VmRSS`).
pub fn rss_bytes() -> Option<u64> {
    own_status("VmRSS")
}

/// This process's peak resident memory since exec, bytes (`VmHWM`; unlike a waited child's
/// `ru_maxrss`, not inherited from the parent).
pub fn peak_rss_bytes() -> Option<u64> {
    own_status("VmHWM")
}

/// This process's live threads now.
pub fn threads() -> Option<u64> {
    own_status("Threads")
}

/// `getrusage(RUSAGE_THREAD)`: the calling thread's CPU time and context switches.
pub fn this_thread_rusage() -> Option<nix::sys::resource::Usage> {
    nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_THREAD).ok()
}

/// The kernel's TCP listen-queue counters now (`/proc/net/netstat`).
pub fn listen_counters() -> Option<ListenCounters> {
    parse_netstat(&std::fs::read_to_string("/proc/net/netstat").ok()?)
}

/// Parses the text of `/proc/net/netstat` (a header line and a value line per group).
fn parse_netstat(netstat: &str) -> Option<ListenCounters> {
    let mut lines = netstat.lines();
    while let (Some(names), Some(values)) = (lines.next(), lines.next()) {
        let (Some(names), Some(values)) = (
            names.strip_prefix("TcpExt:"),
            values.strip_prefix("TcpExt:"),
        ) else {
            continue;
        };
        let fields: BTreeMap<&str, u64> = names
            .split_whitespace()
            .zip(values.split_whitespace())
            .filter_map(|(n, v)| Some((n, v.parse().ok()?)))
            .collect();
        let get = |name| fields.get(name).copied().unwrap_or(0);
        return Some(ListenCounters {
            listen_overflows: get("ListenOverflows"),
            listen_drops: get("ListenDrops"),
            syn_retrans: get("TCPSynRetrans"),
        });
    }
    None
}

/// A sysctl by its dotted name (`kernel.pid_max`), as text.
pub fn sysctl(name: &str) -> Option<String> {
    read_trimmed(Path::new("/proc/sys").join(name.replace('.', "/")))
}

/// The smallest `pids.max` from this process's cgroup up to the root (v2, or v1's pids
/// controller); `None` when unlimited or absent.
pub fn cgroup_pids_max() -> Option<u64> {
    let cgroups = read_trimmed("/proc/self/cgroup")?;
    let (base, path) = cgroups.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        match controllers {
            "" => Some(("/sys/fs/cgroup".to_owned(), path.to_owned())),
            c if c.split(',').any(|c| c == "pids") => {
                Some(("/sys/fs/cgroup/pids".to_owned(), path.to_owned()))
            }
            _ => None,
        }
    })?;
    let mut dir = Path::new(&base).join(path.trim_start_matches('/'));
    let mut smallest: Option<u64> = None;
    loop {
        let max = read_trimmed(dir.join("pids.max")).and_then(|m| m.parse::<u64>().ok());
        if let Some(max) = max {
            smallest = Some(smallest.map_or(max, |s| s.min(max)));
        }
        if dir == Path::new(&base) || !dir.pop() {
            return smallest;
        }
    }
}

/// The CPU model (`/proc/cpuinfo`).
pub fn cpu_model() -> Option<String> {
    read_trimmed("/proc/cpuinfo")?
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
        .map(|(_, model)| model.trim().to_owned())
}

/// Total memory, bytes (`/proc/meminfo`).
pub fn memory_bytes() -> Option<u64> {
    status_field(&read_trimmed("/proc/meminfo")?, "MemTotal")
}

/// The host's name (`/etc/hostname`, or the kernel's node name).
pub fn host_name() -> Option<String> {
    read_trimmed("/etc/hostname").or_else(|| sysctl("kernel.hostname"))
}

/// The kernel and its release, e.g. `Linux 6.1.0`.
pub fn kernel() -> Option<String> {
    sysctl("kernel.osrelease").map(|release| format!("Linux {release}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Name:\tfanout\nVmHWM:\t   20480 kB\nVmRSS:\t    1024 kB\nThreads:\t7\n";

    #[test]
    fn status_fields_are_read_in_bytes_or_plain_counts() {
        assert_eq!(status_field(STATUS, "VmHWM"), Some(20_480 * 1024));
        assert_eq!(status_field(STATUS, "VmRSS"), Some(1024 * 1024));
        assert_eq!(status_field(STATUS, "Threads"), Some(7));
        assert_eq!(status_field(STATUS, "VmSwap"), None);
        assert_eq!(status_field("Vm:\tlots kB\n", "Vm"), None);
    }

    #[test]
    fn netstat_counters_are_found_in_the_tcpext_group() {
        let text = "TcpExt: SyncookiesSent ListenOverflows ListenDrops TCPSynRetrans\n\
                    TcpExt: 0 12 15 40\n\
                    IpExt: InNoRoutes\nIpExt: 0\n";
        let c = parse_netstat(text).expect("TcpExt");
        assert_eq!(
            (c.listen_overflows, c.listen_drops, c.syn_retrans),
            (12, 15, 40)
        );
        assert_eq!(parse_netstat("Ip: 1\nIp: 2\n"), None);
    }

    #[test]
    fn sysctls_are_read_by_their_dotted_names() {
        let pid_max: u64 = sysctl("kernel.pid_max")
            .and_then(|v| v.parse().ok())
            .expect("kernel.pid_max");
        assert!(pid_max > 0);
        assert_eq!(sysctl("no.such.sysctl"), None);
        assert!(kernel().is_some_and(|k| k.starts_with("Linux ")));
    }
}

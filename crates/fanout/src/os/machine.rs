//! The machine and the OS limits that cap concurrency: read once, written into every run
//! folder's `SETUP.md`.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

/// What a run folder records about the machine it ran on.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Machine {
    /// The host's name.
    pub host: String,
    /// CPU model.
    pub cpu: String,
    /// Cores available to this process.
    pub cores: usize,
    /// Total memory, bytes.
    pub memory_bytes: u64,
    /// Kernel and release, e.g. `Linux 6.1.0`.
    pub kernel: String,
    /// The limits that matter at 10,000 in flight.
    pub limits: Limits,
}

/// OS limits, each `None` where it cannot be read.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Limits {
    /// Soft open-file limit (after fanout raised it to the hard one).
    pub open_files_soft: Option<u64>,
    /// Hard open-file limit.
    pub open_files_hard: Option<u64>,
    /// `kernel.threads-max`.
    pub threads_max: Option<u64>,
    /// `kernel.pid_max`.
    pub pid_max: Option<u64>,
    /// `vm.max_map_count`.
    pub max_map_count: Option<u64>,
    /// The smallest `pids.max` of this process's cgroup and its ancestors (v2, or v1's pids
    /// controller); `None` when unlimited or absent.
    pub cgroup_pids_max: Option<u64>,
    /// Soft `RLIMIT_NPROC` (processes and threads of this user; not enforced for root).
    pub nproc_soft: Option<u64>,
    /// `net.core.somaxconn`.
    pub somaxconn: Option<u64>,
    /// `net.ipv4.tcp_max_syn_backlog`.
    pub tcp_max_syn_backlog: Option<u64>,
    /// `net.ipv4.ip_local_port_range`, low and high.
    pub local_ports: Option<(u64, u64)>,
}

impl Limits {
    /// Reads every limit now.
    pub fn read() -> Self {
        let (soft, hard) = match rlimit::getrlimit(rlimit::Resource::NOFILE) {
            Ok((soft, hard)) => (Some(soft), Some(hard)),
            Err(_) => (None, None),
        };
        let number = |name: &str| crate::os::sysctl(name)?.parse::<u64>().ok();
        let ports = crate::os::sysctl("net.ipv4.ip_local_port_range").and_then(|s| {
            let mut it = s.split_whitespace().map(str::parse::<u64>);
            match (it.next(), it.next()) {
                (Some(Ok(lo)), Some(Ok(hi))) => Some((lo, hi)),
                _ => None,
            }
        });
        Self {
            open_files_soft: soft,
            open_files_hard: hard,
            threads_max: number("kernel.threads-max"),
            pid_max: number("kernel.pid_max"),
            max_map_count: number("vm.max_map_count"),
            cgroup_pids_max: crate::os::cgroup_pids_max(),
            nproc_soft: rlimit::getrlimit(rlimit::Resource::NPROC)
                .ok()
                .map(|(soft, _)| soft)
                .filter(|&soft| soft != rlimit::INFINITY),
            // The server's own reader: the cap on the backlog it listens with.
            somaxconn: mock_server::listener::somaxconn().map(u64::from),
            tcp_max_syn_backlog: number("net.ipv4.tcp_max_syn_backlog"),
            local_ports: ports,
        }
    }
}

impl Machine {
    /// Reads the machine now.
    pub fn read() -> Self {
        let unknown = || "unknown".to_owned();
        Self {
            host: crate::os::host_name().unwrap_or_else(unknown),
            cpu: crate::os::cpu_model().unwrap_or_else(unknown),
            cores: super::cores(),
            memory_bytes: crate::os::memory_bytes().unwrap_or(0),
            kernel: crate::os::kernel().unwrap_or_else(unknown),
            limits: Limits::read(),
        }
    }

    /// The machine as markdown list items.
    pub fn markdown(&self) -> String {
        let l = &self.limits;
        let show = |v: Option<u64>| v.map_or("unknown".to_owned(), |v| v.to_string());
        let mut s = String::new();
        let _ = writeln!(s, "- Host: {}", self.host);
        let _ = writeln!(s, "- CPU: {} ({} cores available)", self.cpu, self.cores);
        let _ = writeln!(
            s,
            "- Memory: {:.1} GiB",
            self.memory_bytes as f64 / (1u64 << 30) as f64
        );
        let _ = writeln!(s, "- Kernel: {}", self.kernel);
        let _ = writeln!(
            s,
            "- Open files: soft {}, hard {}; RLIMIT_NPROC soft {}",
            show(l.open_files_soft),
            show(l.open_files_hard),
            l.nproc_soft
                .map_or("unlimited".to_owned(), |v| v.to_string())
        );
        let _ = writeln!(
            s,
            "- kernel.threads-max {}, kernel.pid_max {}, vm.max_map_count {}, cgroup pids.max {}",
            show(l.threads_max),
            show(l.pid_max),
            show(l.max_map_count),
            l.cgroup_pids_max
                .map_or("max or absent".to_owned(), |v| v.to_string())
        );
        let ports = l
            .local_ports
            .map_or("unknown".to_owned(), |(lo, hi)| format!("{lo}–{hi}"));
        let _ = writeln!(
            s,
            "- net.core.somaxconn {}, net.ipv4.tcp_max_syn_backlog {}, local ports {ports}",
            show(l.somaxconn),
            show(l.tcp_max_syn_backlog)
        );
        s
    }
}

/// The toolchain and the versions of the crates that matter, recorded at build time.
pub fn build_info() -> String {
    format!(
        "- {}\n- Crates: {}\n",
        env!("FANOUT_RUSTC_VERSION"),
        env!("FANOUT_CRATE_VERSIONS")
    )
}

/// The current git commit of the working directory, if it is a git checkout.
pub fn git_commit() -> Option<String> {
    let out = std::process::Command::new("git")
        .args(["rev-parse", "--short", "HEAD"])
        .output()
        .ok()?;
    let commit = String::from_utf8(out.stdout).ok()?.trim().to_owned();
    (out.status.success() && !commit.is_empty()).then_some(commit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_machine_is_read_with_its_limits() {
        let m = Machine::read();
        assert!(m.cores >= 1);
        assert!(m.memory_bytes > 0);
        assert!(m.limits.open_files_hard.is_some());
        let md = m.markdown();
        assert!(md.contains("- Open files: soft "), "{md}");
        assert!(build_info().contains("rustc "), "{}", build_info());
        assert!(build_info().contains("tokio "), "{}", build_info());
    }
}

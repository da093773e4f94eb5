//! The machine and the OS limits that cap concurrency: read once, recorded in every run
//! folder's `SETUP.md` (`results::setup` writes it).

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
    /// Whether the CPU says it runs under a hypervisor (`None`: not read, or a run before it
    /// was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hypervisor: Option<bool>,
    /// Whether SMT is on, so that two of the cores share one physical core.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub smt: Option<bool>,
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
    /// How many local ports `net.ipv4.ip_local_port_range` holds.
    pub fn local_port_count(&self) -> Option<u64> {
        self.local_ports.map(|(lo, hi)| hi.saturating_sub(lo) + 1)
    }

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
            hypervisor: crate::os::under_hypervisor(),
            smt: crate::os::smt_active(),
            memory_bytes: crate::os::memory_bytes().unwrap_or(0),
            kernel: crate::os::kernel().unwrap_or_else(unknown),
            limits: Limits::read(),
        }
    }
}

/// The toolchain this build was made with (`rustc --version`), recorded at build time.
pub const RUSTC: &str = env!("FANOUT_RUSTC_VERSION");

/// This build's profile: `release`, or `debug` — unoptimized, with deeper stack frames and
/// more CPU per request, so its figures are not comparable with a release build's.
pub const BUILD: &str = if cfg!(debug_assertions) {
    "debug (unoptimized: not comparable with release runs)"
} else {
    "release"
};

/// The versions of the crates that matter in this build, recorded at build time.
pub const CRATES: &str = env!("FANOUT_CRATE_VERSIONS");

/// The commit this build was made from (`-dirty` where its compiled sources differed from it;
/// `None` for a build outside a git checkout), with `-dirty` added where the peers' programs,
/// which run from the working tree, differ from it now: what a run's points really ran.
pub fn git_commit() -> Option<String> {
    let built = option_env!("FANOUT_BUILD_COMMIT").filter(|c| !c.is_empty())?;
    if built.ends_with("-dirty") {
        return Some(built.to_owned());
    }
    // `--no-optional-locks`: reading the tree must not take the index lock a user's git holds.
    let peers_changed = std::process::Command::new("git")
        .args([
            "--no-optional-locks",
            "status",
            "--porcelain",
            "--untracked-files=no",
            "--",
        ])
        .arg(":(top)peers")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .is_some_and(|out| !out.stdout.is_empty());
    Some(if peers_changed {
        format!("{built}-dirty")
    } else {
        built.to_owned()
    })
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
        assert!(RUSTC.contains("rustc "), "{RUSTC}");
        assert!(CRATES.contains("tokio "), "{CRATES}");
    }
}

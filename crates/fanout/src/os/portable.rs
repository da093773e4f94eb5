//! Off Linux: resident memory from `memory-stats`, its peak from `getrusage`, the host and
//! kernel from `uname`. Threads, listen-queue counters, sysctls and cgroups are not read
//! (`None`): results say "unknown" for them, and the preflight checks only what it can read.

use super::readings::{ListenCounters, ProcessStatus};

/// This process's resident memory now, bytes.
pub fn rss_bytes() -> Option<u64> {
    memory_stats::memory_stats().and_then(|m| u64::try_from(m.physical_mem).ok())
}

/// This process's peak resident memory, bytes: `getrusage(RUSAGE_SELF).ru_maxrss`, which
/// macOS gives in bytes and the other Unixes in KiB. Where the kernel carries the peak of the
/// process image before `exec` over (Linux does), it can exceed the worker's own peak.
pub fn peak_rss_bytes() -> Option<u64> {
    let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF).ok()?;
    let max_rss = u64::try_from(usage.max_rss()).ok()?;
    if cfg!(target_os = "macos") {
        Some(max_rss)
    } else {
        max_rss.checked_mul(1024)
    }
}

/// The calling thread's own usage: not read off Linux (the thread sampler's cost is then not
/// taken out of the process's figures).
pub fn this_thread_rusage() -> Option<nix::sys::resource::Usage> {
    None
}

/// Listen-queue counters: not read off Linux.
pub fn listen_counters() -> Option<ListenCounters> {
    None
}

/// TCP sockets in TIME_WAIT: not read here.
pub fn time_wait_sockets() -> Option<u64> {
    None
}

/// Sockets at each destination: not read here.
pub fn sockets_at(_destinations: &[std::net::SocketAddrV4]) -> Option<Vec<u64>> {
    None
}

/// Resident thread stacks: not read off Linux.
pub fn resident_stacks_and_total(_pid: u32, _stack_sizes: &[u64]) -> Option<(u64, u64)> {
    None
}

/// Memory mappings of this process: not read off Linux.
pub fn mapping_count() -> Option<u64> {
    None
}

/// The kernel's own memory: not read off Linux.
pub fn kernel_memory() -> Option<super::readings::KernelMemory> {
    None
}

/// Kernel socket memory: not read off Linux.
pub fn tcp_socket_memory_bytes() -> Option<u64> {
    None
}

/// Sysctls: not read off Linux.
pub fn sysctl(_name: &str) -> Option<String> {
    None
}

/// Setting a sysctl is Linux's alone.
pub fn set_sysctl(name: &str, _value: &str) -> std::io::Result<()> {
    Err(std::io::Error::new(
        std::io::ErrorKind::Unsupported,
        format!("{name}: sysctls are Linux's"),
    ))
}

/// cgroups: Linux only.
pub fn cgroup_pids_max() -> Option<u64> {
    None
}

/// The CPU model: not read off Linux.
pub fn cpu_model() -> Option<String> {
    None
}

/// Whether the CPU runs under a hypervisor: not read off Linux.
pub fn under_hypervisor() -> Option<bool> {
    None
}

/// Whether SMT is on: not read off Linux.
pub fn smt_active() -> Option<bool> {
    None
}

/// Steal time: not read off Linux.
pub fn steal_s() -> Option<f64> {
    None
}

/// Total memory: not read off Linux.
pub fn memory_bytes() -> Option<u64> {
    None
}

/// The host's name (`uname`).
pub fn host_name() -> Option<String> {
    let name = nix::sys::utsname::uname().ok()?;
    Some(name.nodename().to_string_lossy().into_owned())
}

/// The kernel and its release (`uname`).
pub fn kernel() -> Option<String> {
    let name = nix::sys::utsname::uname().ok()?;
    Some(format!(
        "{} {}",
        name.sysname().to_string_lossy(),
        name.release().to_string_lossy()
    ))
}

/// Another process's memory and threads: no portable source tells them from outside.
pub fn process_status(_pid: u32) -> Option<ProcessStatus> {
    None
}

/// Another process's open files: no portable source tells them from outside.
pub fn open_fd_count(_pid: u32) -> Option<u64> {
    None
}

#[cfg(test)]
mod tests {
    /// On Linux, the fallback's figures agree with `/proc`'s.
    #[cfg(target_os = "linux")]
    #[test]
    fn the_portable_figures_agree_with_linux() {
        let (rss, proc_rss) = (
            super::rss_bytes().expect("rss"),
            super::super::linux::rss_bytes().expect("VmRSS"),
        );
        let close = |a: u64, b: u64| a.abs_diff(b) < 4 << 20;
        assert!(close(rss, proc_rss), "memory-stats {rss}, VmRSS {proc_rss}");
        let (peak, hwm) = (
            super::peak_rss_bytes().expect("ru_maxrss"),
            super::super::linux::peak_rss_bytes().expect("VmHWM"),
        );
        // ru_maxrss may carry the pre-exec peak (cargo's), never less than VmHWM.
        assert!(peak + (4 << 20) >= hwm, "ru_maxrss {peak}, VmHWM {hwm}");
        assert_eq!(super::kernel(), super::super::linux::kernel());
    }
}

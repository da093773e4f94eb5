//! Everything fanout reads from the operating system about this process and this machine,
//! in one place: on Linux from `/proc` and `/sys` (`linux.rs`), elsewhere from portable sources
//! (`portable.rs`: `memory-stats` for RSS, `getrusage` for the peak) with what they cannot
//! tell left as `None`. The rest of the crate calls these functions and never opens a `/proc`
//! path itself.
//!
//! What each platform measures is listed in `docs/limits.md` ("Platforms").

pub mod cgroup;
pub mod machine;
pub mod parked;
pub mod readings;
pub mod signals;
pub mod skip;

pub use readings::{KernelMemory, ListenCounters, ProcessStatus, Reaped};

#[cfg(target_os = "linux")]
mod linux;
// Compiled on Linux too when testing, so the fallback is checked against Linux's own figures.
#[cfg(any(test, not(target_os = "linux")))]
#[cfg_attr(target_os = "linux", allow(dead_code))]
mod portable;

#[cfg(target_os = "linux")]
pub use linux::*;
#[cfg(not(target_os = "linux"))]
pub use portable::*;

/// Cores available to this process.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// The monotonic clock now, ns (`CLOCK_MONOTONIC`: the same clock in every process of the
/// machine, so a worker's samples and the harness's line up).
pub fn monotonic_ns() -> u64 {
    nix::time::clock_gettime(nix::time::ClockId::CLOCK_MONOTONIC)
        .map(|t| t.tv_sec() as u64 * 1_000_000_000 + t.tv_nsec() as u64)
        .unwrap_or(0)
}

/// Whether this process runs as root, which lifts `RLIMIT_NPROC` (CAP_SYS_RESOURCE).
pub fn running_as_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// Reaps child `pid` if it has ended (`wait4` with `WNOHANG`), with its resource usage;
/// `Ok(None)` while it runs.
// `wait4` is the one POSIX call that returns a child's status and its rusage together; nix
// does not wrap it.
#[allow(unsafe_code)]
pub fn reap_with_usage(pid: u32) -> std::io::Result<Option<Reaped>> {
    let pid = libc::pid_t::try_from(pid).map_err(std::io::Error::other)?;
    let mut status: libc::c_int = 0;
    // SAFETY: an all-zero `rusage` is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: both pointers are to live locals of the right types for the whole call.
    let reaped = unsafe { libc::wait4(pid, &mut status, libc::WNOHANG, &mut usage) };
    match reaped {
        -1 => Err(std::io::Error::last_os_error()),
        0 => Ok(None),
        _ => {
            let secs = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
            Ok(Some(Reaped {
                status,
                user_s: secs(usage.ru_utime),
                sys_s: secs(usage.ru_stime),
                voluntary: u64::try_from(usage.ru_nvcsw).unwrap_or(0),
                involuntary: u64::try_from(usage.ru_nivcsw).unwrap_or(0),
            }))
        }
    }
}

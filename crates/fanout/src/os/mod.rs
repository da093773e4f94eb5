//! Everything fanout reads from the operating system about this process and this machine,
//! in one place: on Linux from `/proc` and `/sys` (`linux.rs`), elsewhere from portable sources
//! (`portable.rs`: `memory-stats` for RSS, `getrusage` for the peak) with what they cannot
//! tell left as `None`. The rest of the crate calls these functions and never opens a `/proc`
//! path itself.
//!
//! What each platform measures is listed in the README ("Platforms").

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

/// Whether this process runs as root, which lifts `RLIMIT_NPROC` (CAP_SYS_RESOURCE).
pub fn running_as_root() -> bool {
    nix::unistd::geteuid().is_root()
}

/// What `/proc/PID/status` tells of another process.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessStatus {
    /// Peak resident memory since its exec (`VmHWM`), bytes.
    pub peak_rss_bytes: u64,
    /// Live threads now.
    pub threads: u64,
}

/// A child that ended: its wait status and its own resource usage, all threads, dead ones
/// included (`wait4`). Unlike `ru_maxrss`, which inherits the spawning parent's peak, CPU time
/// and context switches are the child's alone.
#[derive(Debug, Clone, Copy)]
pub struct Reaped {
    /// The raw wait status (`ExitStatusExt::from_raw`).
    pub status: i32,
    /// User CPU seconds.
    pub user_s: f64,
    /// System CPU seconds.
    pub sys_s: f64,
    /// Voluntary context switches.
    pub voluntary: u64,
    /// Involuntary context switches.
    pub involuntary: u64,
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

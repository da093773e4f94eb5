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

//! The server's own cost since `/stats` was last reset: its peak resident memory and its CPU
//! time, so a reader of a point sees whether the server, not the client, was the bottleneck;
//! and the file descriptors it holds now, so a sweep shows the server leaks none.

use std::sync::Mutex;

/// The server's CPU time when `/stats` was last reset, and the readers of its own figures.
#[derive(Debug, Default)]
pub struct Own {
    cpu_at_reset_s: Mutex<f64>,
}

impl Own {
    /// Starts counting again from now: the heap's free memory given back to the OS, the CPU
    /// time so far set aside, and the kernel's high-water mark of resident memory reset
    /// to the current RSS (Linux: `/proc/self/clear_refs`; elsewhere the peak stays the
    /// process's whole life's).
    pub fn reset(&self) {
        // First, so the CPU the trim takes is not the next point's.
        give_back_free_heap();
        if let (Some(now), Ok(mut at)) = (cpu_s(), self.cpu_at_reset_s.lock()) {
            *at = now;
        }
        if cfg!(target_os = "linux") {
            let _ = std::fs::write("/proc/self/clear_refs", "5");
        }
    }

    /// CPU seconds (user and system) since the last reset; `None` where the OS does not tell.
    pub fn cpu_s(&self) -> Option<f64> {
        let at = self.cpu_at_reset_s.lock().map_or(0.0, |at| *at);
        Some((cpu_s()? - at).max(0.0))
    }

    /// The most resident memory since the last reset, bytes (`VmHWM`); `None` off Linux.
    pub fn peak_rss_bytes(&self) -> Option<u64> {
        let status = std::fs::read_to_string("/proc/self/status").ok()?;
        let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
        let kib: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
        Some(kib * 1024)
    }

    /// File descriptors open right now (`/proc/self/fd`, less the one reading it); `None`
    /// off Linux.
    pub fn open_fds(&self) -> Option<u64> {
        let entries = std::fs::read_dir("/proc/self/fd").ok()?;
        Some((entries.count() as u64).saturating_sub(1))
    }
}

/// Returns the heap's free pages to the OS (glibc's `malloc_trim`). After a point of a million
/// connections glibc kept 3.8 GB of freed memory resident, so every later point read that as
/// its own peak; elsewhere nothing is done.
fn give_back_free_heap() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim takes no pointer and only releases free heap pages; glibc makes it
    // safe to call from any thread at any time.
    #[allow(unsafe_code)]
    unsafe {
        nix::libc::malloc_trim(0);
    }
}

/// This process's CPU time so far, user and system, in seconds.
fn cpu_s() -> Option<f64> {
    use nix::sys::resource::{UsageWho, getrusage};
    let usage = getrusage(UsageWho::RUSAGE_SELF).ok()?;
    let seconds = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
    Some(seconds(usage.user_time()) + seconds(usage.system_time()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_counts_from_the_reset_and_the_peak_and_the_files_are_this_processes() {
        let own = Own::default();
        own.reset();
        let spin = std::time::Instant::now();
        while spin.elapsed() < std::time::Duration::from_millis(30) {
            std::hint::black_box(0u64);
        }
        let cpu = own.cpu_s().expect("rusage");
        assert!(cpu > 0.0 && cpu < cpu_s().expect("rusage"), "{cpu}");
        if cfg!(target_os = "linux") {
            assert!(own.peak_rss_bytes().is_some_and(|b| b > 0));
            // At least stdin, stdout and stderr (other tests open files meanwhile).
            assert!(own.open_fds().is_some_and(|n| n >= 3));
        }
    }

    /// Freed heap memory held between live blocks is given back at a reset, so the peak read
    /// after it starts from what is in use: 48 blocks of 512 KiB each freed beside a small
    /// block kept, below glibc's mmap threshold once raised, are resident until trimmed.
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    #[test]
    fn a_reset_gives_the_heaps_free_memory_back() {
        let own = Own::default();
        let resident = || {
            let status = std::fs::read_to_string("/proc/self/status").expect("status");
            let line = status
                .lines()
                .find(|l| l.starts_with("VmRSS:"))
                .expect("VmRSS");
            line.split_whitespace()
                .nth(1)
                .expect("kib")
                .parse::<u64>()
                .expect("a number")
                * 1024
        };
        // Blocks from the heap, not mmap: the threshold rises past a block once one is freed.
        drop(vec![0u8; 1 << 20]);
        let mut kept = Vec::new();
        let mut freed = Vec::new();
        for _ in 0..48 {
            freed.push(vec![1u8; 512 << 10]);
            kept.push(vec![1u8; 64]);
        }
        drop(freed);
        let before = resident();
        own.reset();
        let after = own.peak_rss_bytes().expect("VmHWM");
        assert!(
            after + (12 << 20) < before,
            "resident {before} before the reset, peak {after} after it"
        );
        drop(kept);
    }
}

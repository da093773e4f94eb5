//! A memory cgroup of a worker's own, so the kernel memory the worker itself holds — its
//! threads' kernel stacks, its page tables, its sockets' slab — is read apart from the rest of
//! the machine's (the mock server's end of every loopback connection above all).
//!
//! cgroup v1's memory controller (as on this project's reference machine): a child of this
//! process's own memory cgroup, `memory.kmem.usage_in_bytes` and its `max_usage`, and
//! `memory.max_usage_in_bytes`. cgroup v2 is not made here: its rule that a cgroup with
//! controllers for its children holds no process itself would need fanout moved to a leaf
//! first; there, as without the controller or the permission, [`MemoryCgroup::create`] says
//! why and the point keeps the system-wide figure alone.

use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU64, Ordering};

/// A memory cgroup made for one worker; removed when dropped (any process left in it moved
/// back to this process's cgroup first).
#[derive(Debug)]
pub struct MemoryCgroup {
    dir: PathBuf,
    parent: PathBuf,
}

/// What a cgroup's kernel memory is at one moment, bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KernelNow {
    /// `memory.kmem.usage_in_bytes`: kernel stacks, page tables, slab charged to the cgroup.
    pub kernel_bytes: u64,
    /// `memory.kmem.tcp.usage_in_bytes`: TCP buffers charged to it (v1 counts them only
    /// once a TCP limit is set; fanout sets one at the maximum).
    pub tcp_bytes: u64,
}

/// A cgroup's peaks over its life, bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Peaks {
    /// `memory.kmem.max_usage_in_bytes`.
    pub kernel_bytes: u64,
    /// `memory.max_usage_in_bytes`: user and kernel memory together.
    pub memory_bytes: u64,
}

/// Why a worker gets no memory cgroup of its own here.
#[derive(Debug, thiserror::Error)]
pub enum CgroupError {
    /// Only cgroup v2 is mounted (see the module's comment).
    #[error("cgroup v2 only: a worker's own cgroup is made on v1's memory controller")]
    V2Only,
    /// Neither v1's memory controller nor v2.
    #[error("no memory cgroup controller mounted")]
    NoController,
    /// v1's memory controller without its kernel-memory accounting.
    #[error("{}: no memory.kmem.usage_in_bytes", .0.display())]
    NoKernelAccounting(PathBuf),
    /// A cgroup file or directory the OS refused.
    #[error("{what} {}", .path.display())]
    Io {
        /// What was being done.
        what: &'static str,
        /// To which file.
        path: PathBuf,
        /// The OS's error.
        #[source]
        source: std::io::Error,
    },
}

/// This process's own memory cgroup (v1), from `/proc/self/cgroup`.
fn own_v1_dir() -> Result<PathBuf, CgroupError> {
    let own = Path::new("/proc/self/cgroup");
    let cgroups = std::fs::read_to_string(own).map_err(|source| CgroupError::Io {
        what: "reading",
        path: own.into(),
        source,
    })?;
    // Each line is `ID:CONTROLLERS:PATH`.
    let path = cgroups
        .lines()
        .filter_map(|l| {
            let mut parts = l.splitn(3, ':').skip(1);
            Some((parts.next()?, parts.next()?))
        })
        .find(|(controllers, _)| controllers.split(',').any(|c| c == "memory"))
        .map(|(_, path)| path.to_owned());
    let Some(path) = path else {
        let v2 = Path::new("/sys/fs/cgroup/cgroup.controllers").exists();
        return Err(if v2 {
            CgroupError::V2Only
        } else {
            CgroupError::NoController
        });
    };
    let dir = Path::new("/sys/fs/cgroup/memory").join(path.trim_start_matches('/'));
    if dir.join("memory.kmem.usage_in_bytes").exists() {
        Ok(dir)
    } else {
        Err(CgroupError::NoKernelAccounting(dir))
    }
}

/// The kernel memory charged to this process's own memory cgroup now (v1), bytes.
pub fn own_kernel_bytes() -> Option<u64> {
    std::fs::read_to_string(own_v1_dir().ok()?.join("memory.kmem.usage_in_bytes"))
        .ok()?
        .trim()
        .parse()
        .ok()
}

impl MemoryCgroup {
    /// Makes a new child of this process's memory cgroup, or says why it cannot.
    pub fn create() -> Result<Self, CgroupError> {
        static MADE: AtomicU64 = AtomicU64::new(0);
        let parent = own_v1_dir()?;
        let name = format!(
            "fanout-{}-{}",
            std::process::id(),
            MADE.fetch_add(1, Ordering::Relaxed)
        );
        let dir = parent.join(name);
        std::fs::create_dir(&dir).map_err(|source| CgroupError::Io {
            what: "making",
            path: dir.clone(),
            source,
        })?;
        let cgroup = Self { dir, parent };
        // v1 counts a cgroup's TCP buffers only once it has a TCP limit: the largest there is.
        let _ = std::fs::write(
            cgroup.dir.join("memory.kmem.tcp.limit_in_bytes"),
            "9223372036854771712",
        );
        Ok(cgroup)
    }

    /// Its directory.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Its `cgroup.procs`, opened for writing: a child writes `0` to it (after fork, before
    /// exec) to move itself in, so everything it allocates from its first instruction on is
    /// charged here.
    pub fn procs(&self) -> Result<File, CgroupError> {
        let path = self.dir.join("cgroup.procs");
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .map_err(|source| CgroupError::Io {
                what: "opening",
                path,
                source,
            })
    }

    /// True when process `pid` is in it.
    pub fn holds(&self, pid: u32) -> bool {
        std::fs::read_to_string(self.dir.join("cgroup.procs"))
            .is_ok_and(|procs| procs.lines().any(|l| l.trim() == pid.to_string()))
    }

    fn number(&self, file: &str) -> Option<u64> {
        std::fs::read_to_string(self.dir.join(file))
            .ok()?
            .trim()
            .parse()
            .ok()
    }

    /// Its kernel memory now.
    pub fn kernel_now(&self) -> Option<KernelNow> {
        Some(KernelNow {
            kernel_bytes: self.number("memory.kmem.usage_in_bytes")?,
            tcp_bytes: self.number("memory.kmem.tcp.usage_in_bytes").unwrap_or(0),
        })
    }

    /// Its peaks so far.
    pub fn peaks(&self) -> Option<Peaks> {
        Some(Peaks {
            kernel_bytes: self.number("memory.kmem.max_usage_in_bytes")?,
            memory_bytes: self.number("memory.max_usage_in_bytes")?,
        })
    }
}

impl Drop for MemoryCgroup {
    fn drop(&mut self) {
        // A cgroup with a process in it cannot go: whatever is left moves to the parent.
        if let Ok(procs) = std::fs::read_to_string(self.dir.join("cgroup.procs")) {
            for pid in procs.lines() {
                let _ = std::fs::write(self.parent.join("cgroup.procs"), pid);
            }
        }
        // Charges still held (page cache, slab freed late) move up as it goes.
        if let Err(e) = std::fs::remove_dir(&self.dir) {
            eprintln!("fanout: could not remove {}: {e}", self.dir.display());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cgroup_is_made_read_and_removed_or_says_why_not() {
        let cgroup = match MemoryCgroup::create() {
            Ok(cgroup) => cgroup,
            Err(why) => {
                crate::os::skip::skipped("os::cgroup", &why.to_string());
                return;
            }
        };
        let dir = cgroup.dir().to_path_buf();
        assert!(dir.is_dir());
        let now = cgroup.kernel_now().expect("readable");
        assert_eq!(now.kernel_bytes, 0, "nothing in it yet: {now:?}");
        assert!(cgroup.peaks().is_some());
        assert!(!cgroup.holds(std::process::id()));
        drop(cgroup);
        assert!(!dir.exists(), "removed");
    }
}

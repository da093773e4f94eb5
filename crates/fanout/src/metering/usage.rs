//! CPU time and context switches of this process or thread (`getrusage`).

/// CPU time and context switches of this process, all threads, dead ones included.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Usage {
    /// User CPU seconds.
    pub user_s: f64,
    /// System CPU seconds.
    pub sys_s: f64,
    /// Voluntary context switches (waits).
    pub voluntary: u64,
    /// Involuntary context switches (preemptions).
    pub involuntary: u64,
}

impl Usage {
    /// `getrusage(RUSAGE_SELF)` now.
    pub fn now() -> nix::Result<Self> {
        let usage = nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_SELF)?;
        Ok(Self::from(usage))
    }

    /// The calling thread's own usage, where the OS tells it ([`crate::os::this_thread_rusage`]).
    pub fn of_this_thread() -> Option<Self> {
        crate::os::this_thread_rusage().map(Self::from)
    }

    /// What was used between `earlier` and `self` (or `self` without `earlier`'s part).
    pub fn since(&self, earlier: &Self) -> Self {
        Self {
            user_s: (self.user_s - earlier.user_s).max(0.0),
            sys_s: (self.sys_s - earlier.sys_s).max(0.0),
            voluntary: self.voluntary.saturating_sub(earlier.voluntary),
            involuntary: self.involuntary.saturating_sub(earlier.involuntary),
        }
    }
}

impl From<nix::sys::resource::Usage> for Usage {
    fn from(u: nix::sys::resource::Usage) -> Self {
        let secs = |t: nix::sys::time::TimeVal| t.tv_sec() as f64 + t.tv_usec() as f64 / 1e6;
        Self {
            user_s: secs(u.user_time()),
            sys_s: secs(u.system_time()),
            voluntary: u64::try_from(u.voluntary_context_switches()).unwrap_or(0),
            involuntary: u64::try_from(u.involuntary_context_switches()).unwrap_or(0),
        }
    }
}

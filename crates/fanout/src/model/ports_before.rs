//! The local ports a point found taken when it started: sockets earlier points (or anything
//! else on the machine) left in TIME_WAIT, and how long the harness waited for them to go.
//! A point that redials under a fault needs free ports; one that starts with the range full
//! of an earlier point's closed connections measures that point as much as its own.

use serde::{Deserialize, Serialize};

/// TIME_WAIT sockets when the point's worker started, and the wait before.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct PortsBefore {
    /// TCP sockets in TIME_WAIT on the machine as the worker started (`None`: not read on this
    /// platform).
    #[serde(default)]
    pub time_wait_before: Option<u64>,
    /// Seconds the harness waited first for earlier points' TIME_WAIT to go, because the point
    /// would open more connections than the free local ports.
    #[serde(default)]
    pub ports_waited_s: f64,
}

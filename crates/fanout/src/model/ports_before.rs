//! The local ports a point found taken when it started: sockets earlier points (or anything
//! else on the machine) left in TIME_WAIT, the destination the point was sent to among the
//! server's loopback addresses, and how long the harness waited for ports to free. A point
//! that starts with its destination's ports full of an earlier point's closed connections
//! measures that point as much as its own: connects search longer for a port, or fail.

use serde::{Deserialize, Serialize};

/// TIME_WAIT sockets when the point's worker started, the destination chosen, and the wait
/// before.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PortsBefore {
    /// TCP sockets in TIME_WAIT on the machine as the worker started (`None`: not read on this
    /// platform).
    #[serde(default)]
    pub time_wait_before: Option<u64>,
    /// Seconds the harness spent choosing the destination and waiting for earlier points'
    /// sockets to go, where the point's connections would not have found free local ports
    /// (`run/ports.rs`).
    #[serde(default)]
    pub ports_waited_s: f64,
    /// Loopback addresses the server listened on (one port): the point was sent to the one
    /// with the fewest sockets first, and the clients that dial for themselves spread their
    /// connections over all (the server's `destinations_used` says how many they reached); 1
    /// with a server at `--url` (and in points recorded before there was a choice).
    // This and the two below are left out at their defaults, so that folders recorded
    // before them redraw unchanged.
    #[serde(default = "one", skip_serializing_if = "is_one")]
    pub destinations: u32,
    /// The address and port the point was sent to (its URL's; its connections' first), when
    /// the harness chose it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub destination: Option<String>,
    /// Sockets toward that destination (their remote end) as the worker started, TIME_WAIT,
    /// closing or open: 4-tuples toward it its connects could not take (`None`: not read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_at_destination: Option<u64>,
}

fn one() -> u32 {
    1
}

fn is_one(n: &u32) -> bool {
    *n == 1
}

impl Default for PortsBefore {
    fn default() -> Self {
        Self {
            time_wait_before: None,
            ports_waited_s: 0.0,
            destinations: one(),
            destination: None,
            held_at_destination: None,
        }
    }
}

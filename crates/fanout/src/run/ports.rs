//! Before a point: wait, up to a TIME_WAIT's length, for the local ports earlier points'
//! closed connections still hold, when the point would otherwise open more connections than
//! the free ports. A point's figures are then its own, not its predecessor's.

use std::time::{Duration, Instant};

use crate::model::ports_before::PortsBefore;
use crate::os;

/// How long a closed connection holds its local port in Linux (`TCP_TIMEWAIT_LEN`), and so
/// the longest wait that can help.
const TIME_WAIT: Duration = Duration::from_secs(60);

/// Waits while the TIME_WAIT sockets and the `connections` the point will open exceed the
/// `ports` of the local range (and some are still going), at most [`TIME_WAIT`] and a second;
/// says what it found and how long it waited.
pub fn settle(connections: usize, ports: Option<usize>) -> PortsBefore {
    let started = Instant::now();
    let mut time_wait = os::time_wait_sockets();
    while let (Some(tw), Some(ports)) = (time_wait, ports)
        && tw > 0
        && tw as usize + connections > ports
        && started.elapsed() < TIME_WAIT + Duration::from_secs(1)
    {
        std::thread::sleep(Duration::from_millis(500));
        time_wait = os::time_wait_sockets();
    }
    PortsBefore {
        time_wait_before: time_wait,
        ports_waited_s: started.elapsed().as_secs_f64(),
    }
}

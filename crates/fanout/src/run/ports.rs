//! Before a point: choose its destination among the server's loopback addresses — the one
//! with the fewest sockets left by earlier points — and wait, up to a TIME_WAIT's length,
//! only where even that one has too few free ports for the connections the point will open.
//! A point's figures are then its own, not its predecessor's: on one destination, a point
//! after 9,000 closed connections connected three times slower (the kernel's search for a
//! free port), and a scale sweep spent most of its time waiting.

use std::net::{SocketAddr, SocketAddrV4};
use std::time::{Duration, Instant};

use super::server::Endpoint;
use crate::model::ports_before::PortsBefore;
use crate::os;

/// How long a closed connection holds its local port in Linux (`TCP_TIMEWAIT_LEN`), and so
/// the longest wait that can help.
const TIME_WAIT: Duration = Duration::from_secs(60);

/// Where a point is sent: its base URL, and every address its connections may spread over.
#[derive(Debug, Clone)]
pub struct Sent {
    /// The base URL, at the chosen destination.
    pub base_url: String,
    /// The server's loopback addresses, the chosen one first (empty: the URL's alone).
    pub destinations: Vec<SocketAddr>,
    /// What the point found there.
    pub before: PortsBefore,
}

/// Where the point is sent and what its ports looked like: the least-held of the endpoint's
/// loopback addresses first (its own URL where it has none), after waiting (at most
/// [`TIME_WAIT`] and a second) while the sockets in the way and the connections the point
/// will open exceed the `ports` of the local range at some destination it uses. A client
/// that `spreads` puts a share of its `connections` at every address, beside the most-held
/// one's sockets; one that does not puts them all at the chosen one. With no choice, the
/// sockets in the way are every TIME_WAIT socket of the machine.
pub fn settle(
    endpoint: &Endpoint,
    connections: usize,
    spreads: bool,
    ports: Option<usize>,
) -> Sent {
    let started = Instant::now();
    loop {
        let time_wait = os::time_wait_sockets();
        let held = os::sockets_at(&endpoint.loopback).unwrap_or_default();
        let at: Vec<(SocketAddrV4, u64)> = endpoint.loopback.iter().copied().zip(held).collect();
        // The least held, the first of those tied.
        let chosen = at.iter().copied().min_by_key(|&(_, held)| held);
        let (in_the_way, opened) = match chosen {
            Some(_) if spreads => (
                at.iter().map(|&(_, held)| held).max(),
                connections.div_ceil(at.len()),
            ),
            Some((_, held)) => (Some(held), connections),
            None => (time_wait, connections),
        };
        let short = matches!((in_the_way, ports),
            (Some(n), Some(ports)) if n > 0 && n as usize + opened > ports);
        if !short || started.elapsed() >= TIME_WAIT + Duration::from_secs(1) {
            let base_url = match chosen {
                Some((addr, _)) => format!("{}://{addr}", endpoint.scheme()),
                None => endpoint.base_url.clone(),
            };
            let destinations = match chosen {
                Some((first, _)) => {
                    let at = endpoint.loopback.iter().position(|a| *a == first);
                    let mut turn = endpoint.loopback.clone();
                    turn.rotate_left(at.unwrap_or(0));
                    turn.into_iter().map(SocketAddr::V4).collect()
                }
                None => Vec::new(),
            };
            let before = PortsBefore {
                time_wait_before: time_wait,
                ports_waited_s: started.elapsed().as_secs_f64(),
                destinations: endpoint.loopback.len().max(1) as u32,
                destination: chosen.map(|(addr, _)| addr.to_string()),
                held_at_destination: chosen.map(|(_, held)| held),
            };
            return Sent {
                base_url,
                destinations,
                before,
            };
        }
        std::thread::sleep(Duration::from_millis(500));
    }
}

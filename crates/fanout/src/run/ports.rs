//! Before a point: choose its destination among the server's loopback addresses — the one
//! with the fewest sockets earlier points left toward it — and wait, up to a TIME_WAIT's
//! length, only where the ports the point will need at some address it uses are not free.
//! A point's figures are then its own, not its predecessor's: on one destination, connects
//! after 9,000 closed connections took three times as long (the kernel's search for a free
//! port), and a scale sweep spent most of its time waiting.

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

/// Where the point is sent and what its ports looked like, after waiting (at most
/// [`TIME_WAIT`] and a second) while [`choose`] finds the ports short.
pub fn settle(
    endpoint: &Endpoint,
    connections: usize,
    spreads: bool,
    ports: Option<usize>,
) -> Sent {
    let started = Instant::now();
    loop {
        let time_wait = os::time_wait_sockets();
        let held = os::sockets_at(&endpoint.loopback);
        let choice = choose(&endpoint.loopback, held.as_deref(), connections, spreads);
        let in_the_way = match (&endpoint.loopback[..], choice.in_the_way) {
            ([], _) => time_wait,
            (_, counted) => counted,
        };
        let short = matches!((in_the_way, ports),
            (Some(n), Some(ports)) if n > 0 && n as usize + choice.opened > ports);
        if !short || started.elapsed() >= TIME_WAIT + Duration::from_secs(1) {
            let base_url = match choice.first {
                Some(addr) => format!("{}://{addr}", endpoint.scheme()),
                None => endpoint.base_url.clone(),
            };
            let destinations: Vec<SocketAddr> = match choice.first {
                Some(first) => {
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
                destinations: destinations.len().max(1) as u32,
                destination: choice.first.map(|addr| addr.to_string()),
                held_at_destination: choice.held_at_first,
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

/// What [`choose`] found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Choice {
    /// The address the point is sent to first (`None`: no addresses, the URL's own).
    pub first: Option<SocketAddrV4>,
    /// Sockets toward it (`None`: not read here).
    pub held_at_first: Option<u64>,
    /// Sockets in the way at the address the point will find fullest (`None`: not read).
    pub in_the_way: Option<u64>,
    /// Connections the point will open there.
    pub opened: usize,
}

/// The least-held of `loopback` (the first of those tied; the first where `held`, the
/// sockets toward each, is unknown), and what stands in the way of `connections`: a client
/// that `spreads` puts a share of them at every address, beside the most-held one's sockets;
/// one that does not puts them all at the chosen one.
pub fn choose(
    loopback: &[SocketAddrV4],
    held: Option<&[u64]>,
    connections: usize,
    spreads: bool,
) -> Choice {
    let Some(held) = held.filter(|h| h.len() == loopback.len() && !h.is_empty()) else {
        return Choice {
            first: loopback.first().copied(),
            held_at_first: None,
            in_the_way: None,
            opened: connections,
        };
    };
    let (at, least) = held
        .iter()
        .copied()
        .enumerate()
        .min_by_key(|&(_, n)| n)
        .expect("not empty");
    let (in_the_way, opened) = match spreads {
        true => (
            held.iter().copied().max(),
            connections.div_ceil(loopback.len()),
        ),
        false => (Some(least), connections),
    };
    Choice {
        first: Some(loopback[at]),
        held_at_first: Some(least),
        in_the_way,
        opened,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(n: u8) -> Vec<SocketAddrV4> {
        (1..=n)
            .map(|i| SocketAddrV4::new([127, 0, 0, i].into(), 80))
            .collect()
    }

    #[test]
    fn the_least_held_address_goes_first_and_a_spreading_client_is_held_to_the_fullest() {
        let loopback = addrs(4);
        let c = choose(&loopback, Some(&[5, 2, 9, 2]), 100, true);
        assert_eq!(c.first, Some(loopback[1]), "the first of those tied");
        assert_eq!(
            (c.held_at_first, c.in_the_way, c.opened),
            (Some(2), Some(9), 25)
        );
        let c = choose(&loopback, Some(&[5, 2, 9, 2]), 100, false);
        assert_eq!((c.in_the_way, c.opened), (Some(2), 100));
    }

    #[test]
    fn unknown_counts_still_send_the_point_to_the_first_address_and_say_so() {
        let loopback = addrs(3);
        let c = choose(&loopback, None, 10, true);
        assert_eq!(c.first, Some(loopback[0]));
        assert_eq!((c.held_at_first, c.in_the_way), (None, None));
        assert_eq!(choose(&[], Some(&[]), 10, true).first, None);
    }
}

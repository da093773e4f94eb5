//! Where a job's new connections go: the URL's address, or, where the server listens at
//! several loopback addresses (one port), each of them in turn. Each destination address has
//! its own range of local ports, so a point that dials many connections — redials after
//! timeouts, a connection per request — spreads its port search over all of them instead of
//! crowding one range. Every client that dials for itself takes its addresses from here; the
//! server's `/stats` counts how many it saw (`destinations_used`).

use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use crate::model::job::Job;

/// The addresses a job's connections go to, handed out in turn (shared by every slot).
#[derive(Debug, Clone)]
pub struct Destinations {
    addrs: Arc<[SocketAddr]>,
    next: Arc<AtomicUsize>,
}

impl Destinations {
    /// The job's addresses where the harness gave it several (the URL's first); `None`
    /// otherwise — a server at a URL the user gave, or one address asked for — and the client
    /// dials its URL as it would anyway.
    pub fn of_job(job: &Job) -> Option<Self> {
        let spread = job.destinations();
        (spread.len() > 1).then(|| Self::over(spread.into()))
    }

    /// `addrs` in turn.
    fn over(addrs: Arc<[SocketAddr]>) -> Self {
        // Each new set starts a turn further on: the thread strategies build one per thread
        // slot (a ureq Agent each), whose first connections then spread as well.
        static MADE: AtomicUsize = AtomicUsize::new(0);
        let start = MADE.fetch_add(1, Ordering::Relaxed);
        Self {
            addrs,
            next: Arc::new(AtomicUsize::new(start)),
        }
    }

    /// One address only: every connection goes there.
    pub fn one(addr: SocketAddr) -> Self {
        Self::over(Arc::new([addr]))
    }

    /// The address the next new connection goes to.
    pub fn next(&self) -> SocketAddr {
        // Relaxed: the turn only spreads connections; no other memory hangs on it.
        let turn = self.next.fetch_add(1, Ordering::Relaxed);
        self.addrs[turn % self.addrs.len()]
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::settings::Settings;

    fn job(destinations: &[&str]) -> Job {
        let mut job = Job::new("http://127.0.0.2:80/get".into(), 1, 1, Settings::default());
        job.set_destinations(destinations.iter().map(|d| d.parse().unwrap()).collect());
        job
    }

    #[test]
    fn connections_take_the_destinations_in_turn_and_a_job_with_one_has_none() {
        let spread = Destinations::of_job(&job(&["127.0.0.2:80", "127.0.0.3:80"])).expect("two");
        let turns: Vec<_> = (0..4).map(|_| spread.next().to_string()).collect();
        assert_ne!(turns[0], turns[1]);
        assert_eq!(turns[0], turns[2]);
        assert_eq!(turns[1], turns[3]);
        assert!(Destinations::of_job(&job(&[])).is_none());
        assert!(Destinations::of_job(&job(&["127.0.0.2:80"])).is_none());
        let one: SocketAddr = "127.0.0.2:80".parse().unwrap();
        assert_eq!(Destinations::one(one).next(), one);
    }
}

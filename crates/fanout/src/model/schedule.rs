//! Open-loop load (`--rate R`): the requests of a point fall due on a schedule — evenly spaced,
//! or a Poisson process — whether or not the client has a free slot. A request's latency counts
//! from its due time (coordinated omission corrected: the wait for a slot is the client's), and a
//! request that cannot start within a bound after its due time is dropped, not sent.
//!
//! Every client takes its next due time as it is about to send ([`Schedule::ticket`]), so each
//! model takes work at a rate its own way with no change to its file: a pool of T slots starts
//! the next due request when a slot frees (saturating at λ·W = T), a thread or task per request
//! (bounded by C, or not for the pitfall) waits for its due time once it exists.

use std::sync::OnceLock;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::rate::RateProfile;

/// How due times are spaced.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, clap::ValueEnum)]
#[serde(rename_all = "lowercase")]
pub enum Arrival {
    /// Evenly: request i falls due at i / R.
    #[default]
    Constant,
    /// A Poisson process of rate R: exponential gaps of mean 1 / R (a fixed seed, so every
    /// run of a point has the same schedule).
    Poisson,
}

/// When a request may start.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ticket {
    /// At its due time, this instant (waited for when it is still ahead; past when the client
    /// is late): its latency counts from it.
    At(Instant),
    /// Not at all: it could not start within the bound after its due time.
    Dropped,
}

/// The due times of a point's N requests, from the moment the first is asked for.
#[derive(Debug)]
pub struct Schedule {
    /// Request i's due time after the first's.
    offsets: Vec<Duration>,
    /// How late a request may start before it is dropped.
    drop_after: Duration,
    first: OnceLock<Instant>,
    next: AtomicUsize,
}

impl Schedule {
    /// The schedule of `requests` requests at `rate` per second, spaced as `arrival` says,
    /// each dropped if it cannot start within `drop_after` of its due time.
    pub fn new(
        rate: &RateProfile,
        arrival: Arrival,
        requests: usize,
        drop_after: Duration,
    ) -> Self {
        let mut rng = fastrand::Rng::with_seed(0x5eed_0a11);
        // Each request's place in a unit-rate schedule, mapped through the profile: a ramp is
        // the same process with its clock sped up and slowed down.
        let mut count = 0.0_f64;
        let offsets = (0..requests)
            .map(|i| {
                let offset = rate.due_after_first(count, requests);
                count = match arrival {
                    Arrival::Constant => (i + 1) as f64,
                    // Inverse transform of a uniform draw in (0, 1]: a unit exponential gap.
                    Arrival::Poisson => count - (1.0 - rng.f64()).ln(),
                };
                offset
            })
            .collect();
        Self {
            offsets,
            drop_after,
            first: OnceLock::new(),
            next: AtomicUsize::new(0),
        }
    }

    /// The next request's due time (the first one's is now), and whether it may still start:
    /// the caller waits until it, then sends.
    pub fn ticket(&self, now: Instant) -> Ticket {
        let i = self.next.fetch_add(1, Ordering::Relaxed);
        let first = *self.first.get_or_init(|| now);
        let offset = self.offsets.get(i).or(self.offsets.last()).copied();
        let due = first + offset.unwrap_or_default();
        if now.saturating_duration_since(due) > self.drop_after {
            Ticket::Dropped
        } else {
            Ticket::At(due)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn constant_arrivals_are_evenly_spaced_and_poisson_ones_average_the_rate() {
        let even = Schedule::new(
            &RateProfile::Constant(100.0),
            Arrival::Constant,
            5,
            Duration::from_secs(1),
        );
        let t0 = Instant::now();
        assert_eq!(even.ticket(t0), Ticket::At(t0));
        let offsets: Vec<_> = even.offsets.iter().map(|d| d.as_secs_f64()).collect();
        let expected = [0.0, 0.01, 0.02, 0.03, 0.04];
        assert!(
            offsets
                .iter()
                .zip(expected)
                .all(|(a, b)| (a - b).abs() < 1e-9),
            "{offsets:?}"
        );
        let poisson = Schedule::new(
            &RateProfile::Constant(1_000.0),
            Arrival::Poisson,
            20_001,
            Duration::from_secs(1),
        );
        let span = poisson.offsets.last().expect("offsets").as_secs_f64();
        assert!(
            (span / 20.0 - 1.0).abs() < 0.05,
            "20,000 gaps of 1 ms on average: {span} s"
        );
        let again = Schedule::new(
            &RateProfile::Constant(1_000.0),
            Arrival::Poisson,
            20_001,
            Duration::from_secs(1),
        );
        assert_eq!(
            poisson.offsets, again.offsets,
            "the same schedule every run"
        );
    }

    #[test]
    fn a_request_asked_for_too_late_after_its_due_time_is_dropped() {
        let schedule = Schedule::new(
            &RateProfile::Constant(10.0),
            Arrival::Constant,
            3,
            Duration::from_millis(50),
        );
        let t0 = Instant::now();
        assert_eq!(schedule.ticket(t0), Ticket::At(t0));
        // Request 1 is due at t0 + 100 ms: asked for early, it waits until then.
        assert_eq!(
            schedule.ticket(t0 + Duration::from_millis(20)),
            Ticket::At(t0 + Duration::from_millis(100))
        );
        // Request 2 is due at t0 + 200 ms: asked for 30 ms late, it counts from its due time.
        assert_eq!(
            schedule.ticket(t0 + Duration::from_millis(230)),
            Ticket::At(t0 + Duration::from_millis(200))
        );
        // Past the schedule, the last due time stands; asked for 100 ms late: dropped.
        assert_eq!(
            schedule.ticket(t0 + Duration::from_millis(300)),
            Ticket::Dropped
        );
    }
}

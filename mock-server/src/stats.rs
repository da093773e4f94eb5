//! What the server really saw: requests and connections in flight, their peaks, and how far
//! each served delay overshot the one requested.

use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use hdrhistogram::Histogram;

use crate::fault::{FaultCounts, Injector};
use crate::own::Own;
use crate::profile::{Profile, ServerLimits};
use serde::{Deserialize, Serialize};

/// Live counters, shared by the router and the listener. Relaxed atomics: each counter is
/// exact on its own; a snapshot is not one instant across counters, nor needs to be. Gauges (`in_flight`,
/// `connections_open`) are never reset; counters and peaks are, by [`Stats::reset`].
#[derive(Debug)]
pub struct Stats {
    requests_served: AtomicU64,
    requests_cancelled: AtomicU64,
    in_flight: AtomicU64,
    peak_in_flight: AtomicU64,
    connections_accepted: AtomicU64,
    connections_open: AtomicU64,
    peak_connections_open: AtomicU64,
    accept_errors: AtomicU64,
    connections_delayed: AtomicU64,
    tls_handshakes: AtomicU64,
    tls_handshake_failures: AtomicU64,
    /// TLS handshakes' durations (accept to finished), in microseconds.
    tls_handshake_us: Mutex<Histogram<u64>>,
    /// Served delay minus requested delay, in microseconds.
    overshoot_us: Mutex<Histogram<u64>>,
    /// Times the accept loop waited for a connection to close (at `max_connections`).
    connection_limit_waits: AtomicU64,
    /// Connections the server ended for their keep-alive limits (responses, idle time).
    keepalive_closes: AtomicU64,
    /// The server's own peak memory and CPU since the last reset.
    own: Own,
    /// Injected faults: the draw, the counts by kind, the listener's pause.
    faults: Injector,
    /// How long each stalled request was held before its client gave up, microseconds.
    stall_held_us: Mutex<Histogram<u64>>,
    /// Requests that asked for a straggler share: the next one's number in the draw.
    straggler_draws: AtomicU64,
    /// Requests the draw slowed.
    stragglers: AtomicU64,
    /// HTTP/2 connections h2 ended with GOAWAY ENHANCE_YOUR_CALM.
    calm_goaways: AtomicU64,
    /// The local addresses (one port, several loopback addresses) that accepted a connection
    /// since the last reset.
    destinations: Mutex<std::collections::BTreeSet<std::net::SocketAddr>>,
}

/// A copy of [`Stats`] at one moment: the JSON body of `GET /stats`, and what fanout records
/// of a point as `server` (the same type on both sides). Fields added after the first runs
/// read as 0 from runs made before them.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct StatsSnapshot {
    /// Requests whose handler completed (any status) since the last reset.
    pub requests_served: u64,
    /// Requests dropped before their handler completed (client went away) since the last reset.
    pub requests_cancelled: u64,
    /// Requests being handled right now (`/stats` itself excluded).
    #[serde(default)]
    pub in_flight: u64,
    /// Highest `in_flight` since the last reset.
    pub peak_in_flight: u64,
    /// TCP connections accepted since the last reset.
    pub connections_accepted: u64,
    /// TCP connections open right now.
    #[serde(default)]
    pub connections_open: u64,
    /// Highest `connections_open` since the last reset.
    pub peak_connections_open: u64,
    /// Failed `accept` calls (e.g. EMFILE) since the last reset.
    #[serde(default)]
    pub accept_errors: u64,
    /// Connections whose first request paid `connect_delay_ms` since the last reset.
    #[serde(default)]
    pub connections_delayed: u64,
    /// TLS handshakes completed since the last reset (`--tls`).
    #[serde(default)]
    pub tls_handshakes: u64,
    /// TLS handshakes that failed (a client that does not trust the certificate, say).
    #[serde(default)]
    pub tls_handshake_failures: u64,
    /// How long completed handshakes took, accept to finished, microseconds.
    #[serde(default)]
    pub tls_handshake_us: PercentilesUs,
    /// How much served delays overshot the requested ones since the last reset.
    #[serde(default)]
    pub delay_overshoot_us: PercentilesUs,
    /// Times the server stopped accepting for a while: as many connections open as its
    /// `max_connections` allows.
    #[serde(default)]
    pub connection_limit_waits: u64,
    /// Connections the server ended for their keep-alive limits since the last reset.
    #[serde(default)]
    pub keepalive_closes: u64,
    /// The server's own peak resident memory since the last reset, bytes.
    #[serde(default)]
    pub peak_rss_bytes: Option<u64>,
    /// The server's own CPU time (user and system) since the last reset, s.
    #[serde(default)]
    pub cpu_s: Option<f64>,
    /// Faults injected since the last reset, by kind.
    #[serde(default)]
    pub faults: FaultCounts,
    /// Stalled requests whose client gave up (`count`), and how long the server held each
    /// before it did, µs: the client's deadline as the server saw it.
    #[serde(default)]
    pub stall_held_us: PercentilesUs,
    /// Requests served as stragglers (their delay times `straggler_x`) since the last reset.
    #[serde(default)]
    pub stragglers: u64,
    /// HTTP/2 connections the server ended with GOAWAY ENHANCE_YOUR_CALM since the last reset:
    /// h2's guard against a client resetting more streams than it has accepted (CVE-2023-44487).
    #[serde(default)]
    pub calm_goaways: u64,
    /// Local addresses (the server listens at one port on one or more loopback addresses)
    /// that accepted a connection since the last reset: how many destinations a client's
    /// connections really spread over (a harness's own connection to `/stats` among them).
    // Left out at 0 (no connection, or a server before it), so that points recorded before
    // it redraw unchanged.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub destinations_used: u64,
    /// File descriptors the server holds right now (its listener and connections among
    /// them): back to where it was after every point, or the server leaks.
    #[serde(default)]
    pub open_fds: Option<u64>,
    /// The profile the server runs with (`None` from servers older than the profiles).
    #[serde(default)]
    pub profile: Option<Profile>,
    /// The limits it runs with.
    #[serde(default)]
    pub limits: Option<ServerLimits>,
}

/// Percentiles of a duration in microseconds: (served delay − requested delay) over delayed
/// requests, or TLS handshake times.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct PercentilesUs {
    /// Durations measured.
    pub count: u64,
    /// Median.
    pub p50: u64,
    /// 99th percentile.
    pub p99: u64,
    /// Largest.
    pub max: u64,
}

impl Default for Stats {
    fn default() -> Self {
        Self {
            requests_served: AtomicU64::new(0),
            requests_cancelled: AtomicU64::new(0),
            in_flight: AtomicU64::new(0),
            peak_in_flight: AtomicU64::new(0),
            connections_accepted: AtomicU64::new(0),
            connections_open: AtomicU64::new(0),
            peak_connections_open: AtomicU64::new(0),
            accept_errors: AtomicU64::new(0),
            connections_delayed: AtomicU64::new(0),
            tls_handshakes: AtomicU64::new(0),
            tls_handshake_failures: AtomicU64::new(0),
            tls_handshake_us: Mutex::new(
                Histogram::new_with_bounds(1, 60_000_000, 3).expect("valid histogram bounds"),
            ),
            overshoot_us: Mutex::new(new_histogram()),
            connection_limit_waits: AtomicU64::new(0),
            keepalive_closes: AtomicU64::new(0),
            own: Own::default(),
            faults: Injector::default(),
            stall_held_us: Mutex::new(new_histogram()),
            straggler_draws: AtomicU64::new(0),
            stragglers: AtomicU64::new(0),
            calm_goaways: AtomicU64::new(0),
            destinations: Mutex::default(),
        }
    }
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

fn new_histogram() -> Histogram<u64> {
    // 1 µs to 1 hour at 3 significant digits; larger values saturate at the top.
    Histogram::new_with_bounds(1, 3_600_000_000, 3).expect("valid histogram bounds")
}

impl Stats {
    /// Marks a request as started; the returned guard ends it.
    pub fn request_started(&self) -> RequestGuard<'_> {
        let now = self.in_flight.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak_in_flight.fetch_max(now, Ordering::Relaxed);
        RequestGuard {
            stats: self,
            completed: false,
        }
    }

    /// Marks a connection as accepted at local address `at`; the returned guard closes it
    /// when dropped.
    pub fn connection_opened(
        self: &std::sync::Arc<Self>,
        at: std::net::SocketAddr,
    ) -> ConnectionGuard {
        if let Ok(mut seen) = self.destinations.lock() {
            seen.insert(at);
        }
        self.connections_accepted.fetch_add(1, Ordering::Relaxed);
        let now = self.connections_open.fetch_add(1, Ordering::Relaxed) + 1;
        self.peak_connections_open.fetch_max(now, Ordering::Relaxed);
        ConnectionGuard {
            stats: std::sync::Arc::clone(self),
        }
    }

    /// Counts a failed `accept`; returns how many there were since the last reset.
    pub fn accept_failed(&self) -> u64 {
        self.accept_errors.fetch_add(1, Ordering::Relaxed) + 1
    }

    /// Counts a wait of the accept loop for a connection to close.
    pub fn connection_limit_wait(&self) {
        self.connection_limit_waits.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a connection ended for its keep-alive limits.
    pub fn keepalive_close(&self) {
        self.keepalive_closes.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a connection whose first request paid the connection set-up delay.
    pub fn connection_delayed(&self) {
        self.connections_delayed.fetch_add(1, Ordering::Relaxed);
    }

    /// Counts a completed TLS handshake and how long it took.
    pub fn tls_handshake(&self, took: Duration) {
        self.tls_handshakes.fetch_add(1, Ordering::Relaxed);
        let us = u64::try_from(took.as_micros()).unwrap_or(u64::MAX);
        if let Ok(mut h) = self.tls_handshake_us.lock() {
            h.saturating_record(us.max(1));
        }
    }

    /// Counts a failed TLS handshake.
    pub fn tls_handshake_failed(&self) {
        self.tls_handshake_failures.fetch_add(1, Ordering::Relaxed);
    }

    /// Records how long a delay really took against the one requested.
    pub fn record_delay(&self, requested: Duration, served: Duration) {
        let over = served.saturating_sub(requested).as_micros();
        let over = u64::try_from(over).unwrap_or(u64::MAX);
        if let Ok(mut h) = self.overshoot_us.lock() {
            h.saturating_record(over);
        }
    }

    /// The faults injected, and the draw that picks the requests they hit.
    pub fn faults(&self) -> &Injector {
        &self.faults
    }

    /// Whether this request, one of those asking for `straggler`, is slowed (counted if so):
    /// the draw's next number against its share.
    pub fn straggles(&self, straggler: &crate::straggler::Straggler) -> bool {
        let n = self.straggler_draws.fetch_add(1, Ordering::Relaxed);
        let hit = straggler.hits(n);
        if hit {
            self.stragglers.fetch_add(1, Ordering::Relaxed);
        }
        hit
    }

    /// Records an HTTP/2 connection h2 ended with GOAWAY ENHANCE_YOUR_CALM.
    pub fn calmed(&self) {
        self.calm_goaways.fetch_add(1, Ordering::Relaxed);
    }

    /// Records a stalled request its client gave up on after `held`.
    pub fn stall_abandoned(&self, held: Duration) {
        let us = u64::try_from(held.as_micros()).unwrap_or(u64::MAX);
        if let Ok(mut h) = self.stall_held_us.lock() {
            h.saturating_record(us.max(1));
        }
    }

    /// Zeroes counters and the overshoot histogram; peaks restart from the current gauges.
    pub fn reset(&self) {
        self.faults.reset();
        self.straggler_draws.store(0, Ordering::Relaxed);
        self.stragglers.store(0, Ordering::Relaxed);
        self.calm_goaways.store(0, Ordering::Relaxed);
        if let Ok(mut seen) = self.destinations.lock() {
            seen.clear();
        }
        if let Ok(mut h) = self.stall_held_us.lock() {
            h.reset();
        }
        self.requests_served.store(0, Ordering::Relaxed);
        self.requests_cancelled.store(0, Ordering::Relaxed);
        self.connections_accepted.store(0, Ordering::Relaxed);
        self.accept_errors.store(0, Ordering::Relaxed);
        self.connections_delayed.store(0, Ordering::Relaxed);
        self.tls_handshakes.store(0, Ordering::Relaxed);
        self.tls_handshake_failures.store(0, Ordering::Relaxed);
        self.connection_limit_waits.store(0, Ordering::Relaxed);
        self.keepalive_closes.store(0, Ordering::Relaxed);
        self.own.reset();
        if let Ok(mut h) = self.tls_handshake_us.lock() {
            h.reset();
        }
        let in_flight = self.in_flight.load(Ordering::Relaxed);
        self.peak_in_flight.store(in_flight, Ordering::Relaxed);
        let open = self.connections_open.load(Ordering::Relaxed);
        self.peak_connections_open.store(open, Ordering::Relaxed);
        if let Ok(mut h) = self.overshoot_us.lock() {
            h.reset();
        }
    }

    /// Reads every counter.
    pub fn snapshot(&self) -> StatsSnapshot {
        let percentiles = |h: &Mutex<Histogram<u64>>| match h.lock() {
            Ok(h) if !h.is_empty() => PercentilesUs {
                count: h.len(),
                p50: h.value_at_quantile(0.50),
                p99: h.value_at_quantile(0.99),
                max: h.max(),
            },
            _ => PercentilesUs::default(),
        };
        let delay_overshoot_us = percentiles(&self.overshoot_us);
        StatsSnapshot {
            requests_served: self.requests_served.load(Ordering::Relaxed),
            requests_cancelled: self.requests_cancelled.load(Ordering::Relaxed),
            in_flight: self.in_flight.load(Ordering::Relaxed),
            peak_in_flight: self.peak_in_flight.load(Ordering::Relaxed),
            connections_accepted: self.connections_accepted.load(Ordering::Relaxed),
            connections_open: self.connections_open.load(Ordering::Relaxed),
            peak_connections_open: self.peak_connections_open.load(Ordering::Relaxed),
            accept_errors: self.accept_errors.load(Ordering::Relaxed),
            connections_delayed: self.connections_delayed.load(Ordering::Relaxed),
            tls_handshakes: self.tls_handshakes.load(Ordering::Relaxed),
            tls_handshake_failures: self.tls_handshake_failures.load(Ordering::Relaxed),
            tls_handshake_us: percentiles(&self.tls_handshake_us),
            delay_overshoot_us,
            connection_limit_waits: self.connection_limit_waits.load(Ordering::Relaxed),
            keepalive_closes: self.keepalive_closes.load(Ordering::Relaxed),
            peak_rss_bytes: self.own.peak_rss_bytes(),
            cpu_s: self.own.cpu_s(),
            open_fds: self.own.open_fds(),
            faults: self.faults.counts(),
            stall_held_us: percentiles(&self.stall_held_us),
            stragglers: self.stragglers.load(Ordering::Relaxed),
            calm_goaways: self.calm_goaways.load(Ordering::Relaxed),
            destinations_used: self.destinations.lock().map_or(0, |seen| seen.len() as u64),
            // The server's configuration: filled in by `/stats` from its own.
            profile: None,
            limits: None,
        }
    }
}

/// One request in flight. [`RequestGuard::completed`] counts it as served; dropping it
/// without that (the client went away mid-delay) counts it as cancelled.
#[derive(Debug)]
pub struct RequestGuard<'a> {
    stats: &'a Stats,
    completed: bool,
}

impl RequestGuard<'_> {
    /// The handler produced its response.
    pub fn completed(mut self) {
        self.completed = true;
    }
}

impl Drop for RequestGuard<'_> {
    fn drop(&mut self) {
        let counter = if self.completed {
            &self.stats.requests_served
        } else {
            &self.stats.requests_cancelled
        };
        counter.fetch_add(1, Ordering::Relaxed);
        self.stats.in_flight.fetch_sub(1, Ordering::Relaxed);
    }
}

/// One open connection; dropping it closes it in the counters.
#[derive(Debug)]
pub struct ConnectionGuard {
    stats: std::sync::Arc<Stats>,
}

impl Drop for ConnectionGuard {
    fn drop(&mut self) {
        self.stats.connections_open.fetch_sub(1, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    #[test]
    fn peaks_follow_gauges_and_reset_restarts_them_from_now() {
        let stats = Arc::new(Stats::default());
        let a = stats.request_started();
        let b = stats.request_started();
        let conn = stats.connection_opened("127.0.0.1:1".parse().expect("addr"));
        a.completed();
        drop(b); // never completed: cancelled
        let s = stats.snapshot();
        assert_eq!((s.in_flight, s.peak_in_flight), (0, 2));
        assert_eq!((s.requests_served, s.requests_cancelled), (1, 1));
        assert_eq!((s.connections_open, s.connections_accepted), (1, 1));
        let other = stats.connection_opened("127.0.0.2:1".parse().expect("addr"));
        let again = stats.connection_opened("127.0.0.1:1".parse().expect("addr"));
        assert_eq!(stats.snapshot().destinations_used, 2);
        drop((other, again));

        stats.reset();
        let s = stats.snapshot();
        assert_eq!(s.destinations_used, 0);
        assert_eq!((s.peak_in_flight, s.requests_served), (0, 0));
        assert_eq!((s.connections_accepted, s.peak_connections_open), (0, 1));
        drop(conn);
        assert_eq!(stats.snapshot().connections_open, 0);
    }

    #[test]
    fn overshoot_percentiles_come_from_recorded_delays() {
        let stats = Stats::default();
        let want = Duration::from_millis(100);
        for extra_us in [200, 200, 200, 5_000] {
            stats.record_delay(want, want + Duration::from_micros(extra_us));
        }
        // A delay served early counts as zero overshoot, not a wrapped huge number.
        stats.record_delay(want, Duration::from_millis(99));
        let o = stats.snapshot().delay_overshoot_us;
        assert_eq!(o.count, 5);
        assert!((199..=201).contains(&o.p50), "p50 {}", o.p50);
        assert!((4_990..=5_010).contains(&o.max), "max {}", o.max);
        stats.reset();
        assert_eq!(
            stats.snapshot().delay_overshoot_us,
            PercentilesUs::default()
        );
    }
}

//! What a strategy is asked to do: the [`Job`] of one point, as handed to a worker.

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use super::cpu_work::CpuWork;
use super::error_kind::ErrorKind;
use super::schedule::{Schedule, Ticket};
use super::settings::{Protocol, Settings};
use super::tally::{HEDGE_ESTIMATE_MIN, Tally};

/// How often an unanswered request asks again when it is hedged ([`Job::hedge_at`]) while
/// the latency percentile it waits for is not yet estimated.
pub const HEDGE_RECHECK: Duration = Duration::from_millis(5);

/// When a request falls due, as [`Job::due`] found it: one clock read serves both instants
/// (a closed loop's request is due when asked for, and sent then).
#[derive(Debug, Clone, Copy)]
pub struct Due {
    /// The instant its latency counts from.
    pub at: Instant,
    /// When it was asked for.
    pub asked: Instant,
}

impl Due {
    /// How long before its due time it was asked for: what its model waits before sending.
    pub fn early(&self) -> Duration {
        self.at.saturating_duration_since(self.asked)
    }
}

/// One measured point's work, as handed to a strategy.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Job {
    /// Full request URL, delay and body size included.
    url: String,
    /// Requests in flight at once (C).
    pub concurrency: usize,
    /// Requests in all (N).
    pub requests: usize,
    /// The point's settings, whole: a new one reaches every strategy without a change here.
    pub settings: Settings,
    /// Over HTTPS: the one certificate (PEM) the clients trust.
    #[serde(default)]
    pub tls_root_pem: Option<String>,
    /// The addresses the server listens at, one port, the URL's first: a client that dials
    /// for itself spreads its connections over them (`clients::destinations`); empty: the
    /// URL's address alone.
    #[serde(default)]
    destinations: Vec<std::net::SocketAddr>,
    /// The CPU work per ok response, once calibrated ([`Job::calibrate_cpu_work`]).
    #[serde(skip)]
    cpu_work: Option<CpuWork>,
    /// At `--rate`, the requests' due times ([`Job::arm_schedule`]); `None`: closed loop.
    #[serde(skip)]
    schedule: Option<Arc<Schedule>>,
}

impl Job {
    /// The job of `concurrency`, `requests` and `settings` at `url`.
    pub fn new(url: String, concurrency: usize, requests: usize, settings: Settings) -> Self {
        Self {
            url,
            concurrency,
            requests,
            settings,
            tls_root_pem: None,
            destinations: Vec::new(),
            cpu_work: None,
            schedule: None,
        }
    }

    /// At `--rate`, makes the schedule the requests fall due on (its clock starts with the
    /// first request asked for, after the strategy's set-up); nothing to do in closed loop.
    pub fn arm_schedule(&mut self) {
        let s = &self.settings;
        if let Some(rate) = &s.rate {
            let drop_after = Duration::from_millis(s.drop_after_ms.unwrap_or(s.timeout_ms));
            let schedule = Schedule::new(rate, s.arrival, self.requests, drop_after);
            self.schedule = Some(Arc::new(schedule));
        }
    }

    /// When one request is due: in closed loop now; at `--rate`, its due time (which may be
    /// ahead: the caller waits for it as its model waits). `None` when it is dropped
    /// (recorded in `tally`: it is not sent).
    pub fn due(&self, tally: &Tally) -> Option<Due> {
        let now = Instant::now();
        let Some(schedule) = &self.schedule else {
            return Some(Due {
                at: now,
                asked: now,
            });
        };
        match schedule.ticket(now) {
            Ticket::At(due) => Some(Due {
                at: due,
                asked: now,
            }),
            Ticket::Dropped => {
                tally.drop_request();
                None
            }
        }
    }

    /// This job spoken over `protocol`: what a strategy made for one protocol runs, whatever
    /// the job it was handed says.
    pub fn speaking(&self, protocol: Protocol) -> Self {
        let mut job = self.clone();
        job.settings.protocol = protocol;
        job
    }

    /// Calibrates the job's CPU work per response (`--cpu-us`) on this machine; nothing to do
    /// at 0 µs. Run by the worker before its timed region.
    pub fn calibrate_cpu_work(&mut self) {
        let us = self.settings.cpu_us;
        if us > 0 {
            let body = mock_server::response_body(self.body_len());
            self.cpu_work = Some(CpuWork::calibrate(us, body));
        }
    }

    /// The calibrated CPU work per response, µs (`None` without `--cpu-us`).
    pub fn cpu_work_us(&self) -> Option<f64> {
        self.cpu_work.as_ref().map(CpuWork::calibrated_us)
    }

    /// Does the job's CPU work for one ok response on the calling thread; nothing without
    /// `--cpu-us`.
    pub fn spend_cpu(&self) {
        if let Some(work) = &self.cpu_work {
            work.spend();
        }
    }

    /// Checks one response as every client must: status 200 and exactly the body the server
    /// sends for this job's size ([`mock_server::response_body`]).
    pub fn check_response(&self, status: u16, body: &[u8]) -> Result<(), ErrorKind> {
        if status != 200 {
            return Err(ErrorKind::HttpStatus(status));
        }
        let expected = mock_server::response_body_bytes(self.body_len());
        if body.len() != self.body_len() || !body.iter().copied().eq(expected) {
            return Err(ErrorKind::BodyMismatch);
        }
        Ok(())
    }

    /// The request URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The addresses the server listens at, the URL's first; empty: the URL's alone.
    pub fn destinations(&self) -> &[std::net::SocketAddr] {
        &self.destinations
    }

    /// Sets the addresses the job's connections may spread over (the URL's first).
    pub fn set_destinations(&mut self, destinations: Vec<std::net::SocketAddr>) {
        self.destinations = destinations;
    }

    /// Per-request timeout, the same for every client.
    pub fn timeout(&self) -> Duration {
        Duration::from_millis(self.settings.timeout_ms)
    }

    /// When a request sent at `sent` is hedged, as known now: `sent` plus `--hedge-after-ms`,
    /// or plus the point's latency percentile so far (`--hedge-after pNN`, once max(100, C)
    /// requests have answered). `None` while that estimate waits for them, or without hedging: a request still unanswered
    /// asks again after [`HEDGE_RECHECK`], so one sent before the estimate existed is hedged
    /// by it all the same.
    pub fn hedge_at(&self, tally: &Tally, sent: Instant) -> Option<Instant> {
        let after = match (
            self.settings.hedge_after_ms,
            self.settings.hedge_after_percentile,
        ) {
            (Some(ms), _) => Duration::from_millis(ms),
            // A round's worth of answers at least: the first answers of a round are its
            // fastest, and an estimate from them would hedge most of the rest.
            (None, Some(percentile)) => {
                let at_least = HEDGE_ESTIMATE_MIN.max(self.concurrency as u64);
                tally.latency_estimate(percentile, at_least)?
            }
            (None, None) => return None,
        };
        Some(sent + after)
    }

    /// How long a request sent at `sent` and still unanswered waits before it looks at its
    /// hedge again: until its hedge moment ([`Job::hedge_at`]), [`HEDGE_RECHECK`] while the
    /// estimate it rests on waits for answers, or `None` once the hedge is due. Only for a job
    /// that hedges (one that does not would wait for ever).
    pub fn hedge_wait(&self, tally: &Tally, sent: Instant) -> Option<Duration> {
        match self.hedge_at(tally, sent) {
            Some(at) => at
                .checked_duration_since(Instant::now())
                .filter(|wait| !wait.is_zero()),
            None => Some(HEDGE_RECHECK),
        }
    }

    /// Stack size of every thread a thread strategy spawns.
    pub fn stack_bytes(&self) -> usize {
        self.settings.stack_kib * 1024
    }

    /// Stack size of each coroutine the coroutine strategies spawn, bytes.
    pub fn coroutine_stack_bytes(&self) -> usize {
        self.settings.coroutine_stack_kib * 1024
    }

    /// Worker threads of multi-thread tokio runtimes.
    pub fn tokio_workers(&self) -> usize {
        self.settings.tokio_workers
    }

    /// Length of the body every response must carry ([`mock_server::response_body`]).
    pub fn body_len(&self) -> usize {
        self.settings.body_bytes
    }
}

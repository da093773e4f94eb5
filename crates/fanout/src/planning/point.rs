//! One measured point: a strategy (or peer) and its workload — C, N, D and the settings —
//! with what follows from them: the ideal wall time, what the subject holds in flight, the
//! job a worker is handed. In JSON a point is flat, its subject by name (read back through
//! the catalog, `catalog.rs`).

use std::time::Duration;

use mock_server::delay::{Delay, Spread};
use mock_server::query::GetQuery;
use mock_server::straggler::ServedDelay;
use serde::{Deserialize, Serialize};

use crate::model::job::Job;
use crate::model::knob::Varied;
use crate::model::settings::{DelayDist, Protocol, Settings, Workload, default_delay_ms};
use crate::model::subject::Subject;

/// A workload that cannot be measured.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WorkloadError {
    /// The fault's flags do not fit together.
    #[error("{0}")]
    Fault(String),
    /// A hedge budget with no hedging to bound.
    #[error(
        "--hedge-max-extra {0} bounds hedges, but no point hedges: add --hedge-after-ms (or --workload hedge)"
    )]
    BudgetWithoutHedging(String),
    /// A retry budget with no retries to bound.
    #[error("--retry-budget {0} bounds retries, but none is asked for: add --retries K")]
    BudgetWithoutRetries(String),
    /// One point's timeout is not above its delay.
    #[error(
        "--timeout-ms {timeout_ms} must be above the delay ({delay_ms} ms): every request would time out"
    )]
    TimeoutNotAboveDelay {
        /// The timeout, ms.
        timeout_ms: u64,
        /// The delay, ms.
        delay_ms: u64,
    },
    /// A delay the mock server refuses (it answers 400 above its `--max-delay-ms`).
    #[error(
        "the delay {delay_ms} ms (at C = {concurrency}) is above the mock server's largest, {max_ms} ms (its default --max-delay-ms): it would answer every request 400; set --delay-ms"
    )]
    DelayAboveServerMax {
        /// The longest delay a request would ask, ms.
        delay_ms: u64,
        /// The server's largest, ms.
        max_ms: u64,
        /// The point's concurrency.
        concurrency: usize,
    },
    /// A uniform jitter wider than the delay it varies.
    #[error(
        "--jitter-ms {jitter_ms} must be at most the delay ({delay_ms} ms at C = {concurrency}): a delay cannot go below 0"
    )]
    JitterAboveDelay {
        /// The jitter, ms.
        jitter_ms: u64,
        /// The delay, ms.
        delay_ms: u64,
        /// The point's concurrency.
        concurrency: usize,
    },
    /// The timeout is not above the delay of some point of a plan.
    #[error(
        "--timeout-ms {timeout_ms} must be above the delay of every point ({delay_ms} ms at C = {concurrency}): its requests would all time out"
    )]
    TimeoutNotAboveSomeDelay {
        /// The timeout, ms.
        timeout_ms: u64,
        /// The longest delay, ms.
        delay_ms: u64,
        /// The point's concurrency.
        concurrency: usize,
    },
}

/// One measured point: a strategy and its workload. In JSON, its fields (and its settings')
/// stand at the top level of a point's object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Point {
    /// The strategy (its name in JSON).
    pub strategy: &'static Subject,
    /// Requests in flight (C).
    pub concurrency: usize,
    /// Requests in all (N).
    pub requests: usize,
    /// Server delay per request (D), ms.
    pub delay_ms: u64,
    /// Everything else.
    #[serde(flatten)]
    pub settings: Settings,
    /// The setting its plan varied beside C, at its value here: what sets its cell apart
    /// from the plan's others. `None` where the plan varied nothing, and in points recorded
    /// before a point kept it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub varied: Option<Varied>,
}

impl Point {
    /// The point of `strategy` at concurrency C under `workload`.
    pub fn of(workload: &Workload, strategy: &'static Subject, concurrency: usize) -> Self {
        let mut settings = workload.settings.clone();
        // A strategy made for one protocol (async_h2) speaks it whatever the flag says.
        if let Some(protocol) = strategy.protocol {
            settings.protocol = protocol;
        }
        Self {
            strategy,
            concurrency,
            requests: workload.sizing.requests_per_slot * concurrency,
            delay_ms: workload
                .sizing
                .delay_ms
                .unwrap_or_else(|| default_delay_ms(concurrency)),
            settings,
            varied: None,
        }
    }

    /// This point with its plan's varied setting at `value`.
    pub fn vary(&mut self, value: Varied) {
        value.set(&mut self.settings);
        self.varied = Some(value);
    }

    /// A point with every default applied for `strategy` at concurrency C.
    pub fn new(strategy: &'static Subject, concurrency: usize) -> Self {
        Self::of(&Workload::default(), strategy, concurrency)
    }

    /// Checks that the point can be measured at all: its timeout above its longest planned
    /// delay (D, plus the connection set-up delay, plus a uniform jitter), a jitter no wider
    /// than D.
    pub fn validate(&self) -> Result<(), WorkloadError> {
        let s = &self.settings;
        let uniform = s.delay_dist == DelayDist::Uniform;
        if uniform && s.jitter_ms > self.delay_ms {
            return Err(WorkloadError::JitterAboveDelay {
                jitter_ms: s.jitter_ms,
                delay_ms: self.delay_ms,
                concurrency: self.concurrency,
            });
        }
        s.fault.fault().map_err(WorkloadError::Fault)?;
        if let (Some(budget), 0) = (s.retry_budget, s.max_retries) {
            return Err(WorkloadError::BudgetWithoutRetries(budget.to_string()));
        }
        let jitter = if uniform { s.jitter_ms } else { 0 };
        let max_ms = mock_server::Config::default().max_delay_ms;
        if self.delay_ms + jitter > max_ms || s.connect_delay_ms > max_ms {
            return Err(WorkloadError::DelayAboveServerMax {
                delay_ms: (self.delay_ms + jitter).max(s.connect_delay_ms),
                max_ms,
                concurrency: self.concurrency,
            });
        }
        let longest = self.delay_ms + s.connect_delay_ms + jitter;
        if s.timeout_ms <= longest {
            return Err(WorkloadError::TimeoutNotAboveDelay {
                timeout_ms: s.timeout_ms,
                delay_ms: longest,
            });
        }
        Ok(())
    }

    /// True when `other` is the same workload (whatever its strategy and C): compare's test
    /// for two runs' points to be comparable.
    pub fn same_workload(&self, other: &Self) -> bool {
        (self.requests, self.delay_ms, &self.settings)
            == (other.requests, other.delay_ms, &other.settings)
    }

    /// `strategy/C`, as criterion IDs and messages name a point.
    pub fn name(&self) -> String {
        format!("{}/{}", self.strategy.name, self.concurrency)
    }

    /// Requests the strategy holds in flight by design: C, N for `pitfall_unbounded`, 1 for
    /// `sequential`, the worker count for `pitfall_blocking_in_async` — and over HTTP/2, for a
    /// client that keeps one connection, at most the stream limit of the server fanout starts
    /// (the rest wait inside the client).
    pub fn in_flight(&self) -> usize {
        let by_design = self.held_by_design();
        let one_connection = self.settings.protocol == Protocol::H2
            && self.strategy.client.keeps_one_h2_connection()
            && !self.strategy.connection_per_request;
        // 0: a stream limit not recorded (points measured before the profiles).
        let limit = self.settings.server.limits().h2_max_streams as usize;
        if one_connection && limit > 0 {
            by_design.min(limit)
        } else {
            by_design
        }
    }

    /// Connections the point holds open at once, by its strategy's design: one per request in
    /// flight over HTTP/1.1 (and for a client that dials per request); over HTTP/2, one for a
    /// client that keeps one connection (reqwest), and ceil(in flight / the server's stream
    /// limit) for one that opens more as the limit fills (`async_h2_floor`: 7,813 at a
    /// million under the limit of 128). The preflight's open-file and port checks and the
    /// harness's wait for ports read this.
    pub fn sockets(&self) -> usize {
        let in_flight = self.in_flight();
        let over_h2 = self.settings.protocol == Protocol::H2 && self.strategy.speaks(Protocol::H2);
        if !over_h2 || self.strategy.connection_per_request {
            return in_flight;
        }
        if self.strategy.client.keeps_one_h2_connection() {
            return 1;
        }
        // 0: a stream limit not recorded (points measured before the profiles).
        match self.settings.server.limits().h2_max_streams as usize {
            0 => 1,
            limit => in_flight.div_ceil(limit).max(1),
        }
    }

    /// Connections the point opens in all: one per request for a strategy that dials per
    /// request, else [`Self::sockets`] and one more per request an injected fault closes
    /// (a reset, a truncated answer or an error's close makes the client dial again; over
    /// HTTP/2 the streams share their connections, and an accept stall closes none).
    pub fn connections(&self) -> usize {
        if self.strategy.connection_per_request {
            return self.requests;
        }
        let redials = match self.settings.fault.fault() {
            Ok(Some(fault))
                if self.protocol() != Protocol::H2
                    && fault.kind != mock_server::FaultKind::AcceptStall =>
            {
                (fault.p * self.requests as f64).ceil() as usize
            }
            _ => 0,
        };
        self.sockets() + redials
    }

    /// Requests the strategy holds in flight by its own design, before any server limit: C,
    /// N for `pitfall_unbounded`, 1 for `sequential`, the worker count for
    /// `pitfall_blocking_in_async`.
    pub fn held_by_design(&self) -> usize {
        let workers = self.settings.tokio_workers;
        self.strategy
            .holds
            .of(self.concurrency, self.requests, workers)
    }

    /// Ideal wall time (at `--rate`: the last due time (N − 1) / R plus R and the mean delay):
    /// R + (ceil(N/C) − 1) × mean delay + the delay's C/(C+1) quantile
    /// (the expected slowest of a round's C): ceil(N/C) × D when every delay is D. R, the
    /// connection set-up delay, is paid once per slot by an ideal client.
    pub fn ideal_s(&self) -> f64 {
        // At --rate the last request falls due at (N − 1) / R and takes its delay.
        if let Some(rate) = &self.settings.rate {
            let last = self.requests.saturating_sub(1) as f64;
            let last_due = rate.due_after_first(last, self.requests).as_secs_f64();
            let ms = self.settings.connect_delay_ms as f64 + self.delay().mean_ms();
            return last_due + ms / 1000.0;
        }
        let c = self.concurrency.max(1);
        let rounds = self.requests.div_ceil(c) as f64;
        let delay = self.delay();
        let slowest = delay.quantile_ms(c as f64 / (c as f64 + 1.0));
        let ms = self.settings.connect_delay_ms as f64 + (rounds - 1.0) * delay.mean_ms() + slowest;
        ms / 1000.0
    }

    /// What this point asks the server for on every request.
    pub fn query(&self) -> GetQuery {
        let s = &self.settings;
        let spread = match s.delay_dist {
            DelayDist::Uniform => Spread::Uniform {
                jitter_ms: s.jitter_ms,
            },
            DelayDist::Lognormal => Spread::Lognormal {
                sigma: s.delay_sigma,
            },
        };
        GetQuery {
            delay: Delay {
                delay_ms: self.delay_ms,
                spread,
            },
            connect_delay_ms: s.connect_delay_ms,
            // A window that ends before it starts is refused by `validate`.
            fault: s.fault.fault().ok().flatten(),
            straggler: s.straggler.straggler(),
            ..GetQuery::new(self.delay_ms, s.body_bytes as u64)
        }
    }

    /// The distribution of this point's server delays, stragglers included.
    pub fn delay(&self) -> ServedDelay {
        self.query().served_delay()
    }

    /// The shortest wall time the strategy can take here, given what it holds in flight by
    /// design: ceil(N / in-flight) × D. Used to skip points that cannot finish in time.
    pub fn least_wall_s(&self) -> f64 {
        let rounds = self.requests.div_ceil(self.in_flight());
        let by_design = rounds as f64 * self.delay_ms as f64 / 1000.0;
        let by_schedule = self.settings.rate.as_ref().map_or(0.0, |rate| {
            let last = self.requests.saturating_sub(1) as f64;
            rate.due_after_first(last, self.requests).as_secs_f64()
        });
        by_design.max(by_schedule)
    }

    /// Why the strategy cannot run this point within `limit`, if it cannot: it needs at least
    /// [`Point::least_wall_s`] by design.
    pub fn too_slow(&self, limit: Duration) -> Option<String> {
        let least = self.least_wall_s();
        let why = match self.settings.rate {
            Some(_) => "the schedule's (N − 1) / R, or ceil(N / in flight) × D".to_owned(),
            None => format!("ceil(N / {} in flight) × D", self.in_flight()),
        };
        (least > limit.as_secs_f64()).then(|| {
            format!(
                "needs at least {least:.0} s ({why}), above the {} s limit",
                limit.as_secs()
            )
        })
    }

    /// The protocol the point speaks: the strategy's own, else `--protocol`'s.
    pub fn protocol(&self) -> Protocol {
        self.strategy.protocol.unwrap_or(self.settings.protocol)
    }

    /// Why the strategy cannot run this point's protocol, if it cannot: ureq, the raw clients
    /// and the peers speak HTTP/1.1 only (but the h2 clients, and the peers whose file says
    /// `h2`, HTTP/2 only); the raw clients and the peers plain HTTP only.
    pub fn unsupported(&self) -> Option<String> {
        let client = self.strategy.client;
        if self.settings.protocol == Protocol::H2 && !self.strategy.speaks(Protocol::H2) {
            return Some(format!("{} speaks HTTP/1.1 only", self.strategy.name));
        }
        if self.settings.protocol == Protocol::H1 && !self.strategy.speaks(Protocol::H1) {
            return Some(format!("{} speaks HTTP/2 only", self.strategy.name));
        }
        if self.settings.tls && !client.speaks_tls() {
            return Some(format!(
                "{} speaks plain HTTP only (no TLS)",
                self.strategy.name
            ));
        }
        let rate = self.settings.rate.as_ref()?;
        let peer = crate::peers::find(self.strategy.name)?;
        crate::peers::cannot_take(peer, rate)
    }

    /// The job a worker runs for this point against `base_url` (no trailing slash): the
    /// server's query carries the delay, its spread, the connection set-up delay and the body
    /// size ([`GetQuery`]).
    pub fn job(&self, base_url: &str) -> Job {
        let url = format!("{base_url}/get?{}", self.query().to_query());
        Job::new(url, self.concurrency, self.requests, self.settings.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::settings::{DEFAULT_TIMEOUT_MS, OFFERED_RPS_CAP};
    use crate::planning::catalog;

    fn strategy(name: &str) -> &'static Subject {
        catalog::find(name).expect("strategy")
    }

    #[test]
    fn default_delays_keep_offered_load_under_the_cap() {
        assert_eq!(default_delay_ms(10), 100);
        assert_eq!(default_delay_ms(500), 100);
        assert_eq!(default_delay_ms(1_000), 200);
        assert_eq!(default_delay_ms(10_000), 2_000);
        for c in [1, 10, 100, 999, 1_000, 10_000, 123_457] {
            let rps = c as f64 * 1000.0 / default_delay_ms(c) as f64;
            assert!(rps <= OFFERED_RPS_CAP as f64, "C={c}: {rps} rps");
        }
    }

    #[test]
    fn ideal_and_least_wall_follow_what_a_strategy_holds_in_flight() {
        let at = |name| {
            let mut p = Point::new(strategy(name), 100);
            p.settings.tokio_workers = 2;
            p
        };
        let p = at("thread_pool");
        assert_eq!(p.requests, 200);
        assert!((p.ideal_s() - 0.2).abs() < 1e-9);
        assert!((p.least_wall_s() - 0.2).abs() < 1e-9);
        assert!((at("sequential").least_wall_s() - 20.0).abs() < 1e-9);
        assert!((at("pitfall_blocking_in_async").least_wall_s() - 10.0).abs() < 1e-9);
        assert!((at("pitfall_unbounded").least_wall_s() - 0.1).abs() < 1e-9);
        let limit = Duration::from_secs(5);
        assert_eq!(p.too_slow(limit), None);
        assert_eq!(
            at("sequential").too_slow(limit).as_deref(),
            Some("needs at least 20 s (ceil(N / 1 in flight) × D), above the 5 s limit")
        );
        assert_eq!(
            p.job("http://h:1").url(),
            "http://h:1/get?delay_ms=100&bytes=32"
        );
    }

    #[test]
    fn a_client_keeping_one_http2_connection_holds_at_most_the_servers_stream_limit() {
        let workload = Workload::default(); // the default profile: 128 streams
        let reqwest = Point::of(&workload, strategy("async_h2"), 10_000);
        assert_eq!(reqwest.in_flight(), 128);
        // The h2 floor opens connections enough; over HTTP/1.1 the limit is not the server's
        // stream limit; a point measured before the profiles knows no limit.
        assert_eq!(
            Point::of(&workload, strategy("async_h2_floor"), 10_000).in_flight(),
            10_000
        );
        assert_eq!(
            Point::of(&workload, strategy("async_semaphore"), 10_000).in_flight(),
            10_000
        );
        let mut unrecorded = reqwest.clone();
        unrecorded.settings.server.profile = mock_server::Profile::Unrecorded;
        assert_eq!(unrecorded.in_flight(), 10_000);
        let mut more = reqwest.clone();
        more.settings.server.h2_max_streams = Some(250);
        assert_eq!(more.in_flight(), 250);
    }

    #[test]
    fn a_delay_the_server_would_refuse_is_refused_before_it_runs() {
        let mut p = Point::new(strategy("async_h2_floor"), 1_000_000);
        p.settings.timeout_ms = 300_000;
        let err = p.validate().expect_err("D = 200 s by the rule");
        assert!(
            err.to_string()
                .contains("above the mock server's largest, 60000 ms"),
            "{err}"
        );
        p.delay_ms = 30_000;
        assert!(p.validate().is_ok());
    }

    #[test]
    fn a_timeout_at_or_below_the_delay_is_refused() {
        let mut p = Point::new(strategy("thread_pool"), 10);
        assert_eq!(p.validate(), Ok(()));
        p.settings.timeout_ms = p.delay_ms;
        assert_eq!(
            p.validate().map_err(|e| e.to_string()),
            Err(
                "--timeout-ms 100 must be above the delay (100 ms): every request would time out"
                    .into()
            )
        );
    }

    #[test]
    fn a_point_is_flat_in_json_and_its_workload_compares_whole() {
        let p = Point::new(strategy("thread_pool"), 10);
        let json = serde_json::to_value(&p).expect("json");
        assert_eq!(json["strategy"], "thread_pool");
        assert_eq!(json["timeout_ms"], DEFAULT_TIMEOUT_MS);
        assert_eq!(serde_json::from_value::<Point>(json).expect("read"), p);
        let other = Point::new(strategy("async_semaphore"), 10);
        assert!(p.same_workload(&other));
        let mut bigger = other.clone();
        bigger.settings.body_bytes += 1;
        assert!(!p.same_workload(&bigger));
    }
}

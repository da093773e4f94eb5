//! The results model: what one point produced — the object `fanout run --json` prints and
//! `points.jsonl` stores, one per line — and the pure mapping to it from what a run left
//! behind: how the worker ended, its report line, the server's view, the kernel's counters.
//!
//! In JSON a point's object is flat: the point's own fields (strategy, C, N, D, settings),
//! its outcome, the worker's figures and the listen-queue counters at the top level, the
//! server's view under `server` and the client settings under `client_config`.
//! [`PointReport::from_json_line`] also reads the layout of runs made before that
//! (with the point repeated under `point` and the counters under `listen`).

use std::process::ExitStatus;
use std::time::Duration;

use mock_server::StatsSnapshot;
use serde::{Deserialize, Serialize};

use crate::client::ClientConfig;
use crate::job::{ErrorKind, TallySummary};
use crate::meter::{Breakdown, ListenCounters, TimelineSample};
use crate::peers::{self, PeerConfig};
use crate::process_meter::Metered;
use crate::strategies::Worker;
use crate::workload::Point;

/// What the server saw during a point.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct ServerSaw {
    /// Most requests in flight at once.
    pub peak_in_flight: u64,
    /// TCP connections accepted.
    pub connections_accepted: u64,
    /// Most connections open at once.
    pub peak_connections_open: u64,
    /// Requests answered.
    pub requests_served: u64,
    /// Requests the client abandoned mid-delay.
    pub requests_cancelled: u64,
    /// Connections whose first request paid the connection set-up delay.
    #[serde(default)]
    pub connections_delayed: u64,
    /// TLS handshakes completed (`--tls`).
    #[serde(default)]
    pub tls_handshakes: u64,
    /// TLS handshakes that failed.
    #[serde(default)]
    pub tls_handshake_failures: u64,
    /// Median TLS handshake, accept to finished, µs.
    #[serde(default)]
    pub tls_handshake_p50_us: u64,
    /// 99th percentile TLS handshake, µs.
    #[serde(default)]
    pub tls_handshake_p99_us: u64,
}

impl From<StatsSnapshot> for ServerSaw {
    fn from(s: StatsSnapshot) -> Self {
        Self {
            peak_in_flight: s.peak_in_flight,
            connections_accepted: s.connections_accepted,
            peak_connections_open: s.peak_connections_open,
            requests_served: s.requests_served,
            requests_cancelled: s.requests_cancelled,
            connections_delayed: s.connections_delayed,
            tls_handshakes: s.tls_handshakes,
            tls_handshake_failures: s.tls_handshake_failures,
            tls_handshake_p50_us: s.tls_handshake_us.p50,
            tls_handshake_p99_us: s.tls_handshake_us.p99,
        }
    }
}

/// How a point ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "status", content = "reason", rename_all = "snake_case")]
pub enum Outcome {
    /// The worker ran and reported.
    Measured,
    /// Not run, and why.
    Skipped(String),
    /// The worker crashed, was killed, or did not report.
    Failed(String),
}

/// What a worker measured about itself: its one JSON line.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WorkerReport {
    /// Outcomes of the requests.
    #[serde(flatten)]
    pub tally: TallySummary,
    /// Wall time of the timed region: runtime/pool/client built, every request, teardown.
    pub wall_s: f64,
    /// Wall time of the whole process from outside, spawn to exit (start-up included).
    #[serde(default)]
    pub process_wall_s: Option<f64>,
    /// Resident memory just before the timed region.
    pub rss_before_bytes: u64,
    /// Peak resident memory of the process (`VmHWM`, read from outside).
    pub peak_rss_bytes: u64,
    /// True when the peak was read after the report line, before the process exited (exact);
    /// false when it is the last sample (2 ms) before it exited.
    #[serde(default)]
    pub peak_rss_read_at_report: bool,
    /// Most threads alive at once (sampled from outside every 2 ms: every thread of the
    /// process, a worker's own sampler thread included).
    pub peak_threads: u64,
    /// Heap bytes live just before the timed region (`None`: heap not counted).
    pub heap_before_bytes: Option<u64>,
    /// Most heap bytes live at once in the timed region (sampled every 2 ms).
    pub heap_peak_bytes: Option<u64>,
    /// Allocations in the timed region (reallocations included).
    pub allocations: Option<u64>,
    /// Most requests in flight at once by the client's own count (sampled every 2 ms).
    #[serde(default)]
    pub client_peak_in_flight: u64,
    /// Resident memory by cause near the peak, while the client held its designed in-flight
    /// count (`None`: it never did, or the OS does not tell).
    pub breakdown: Option<Breakdown>,
    /// Resident memory and requests in flight over the timed region, sampled every 2 ms and
    /// cut to at most 100 samples.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<TimelineSample>,
    /// Bytes allocated in the timed region.
    pub allocated_bytes: Option<u64>,
    /// User CPU seconds of the whole process (`wait4`, from outside: start-up included).
    pub cpu_user_s: f64,
    /// System CPU seconds of the whole process (`wait4`, from outside).
    pub cpu_sys_s: f64,
    /// Voluntary context switches of the whole process (`wait4`, from outside).
    pub ctx_voluntary: u64,
    /// Involuntary context switches of the whole process (`wait4`, from outside).
    pub ctx_involuntary: u64,
    /// User CPU seconds of the timed region as the worker measured it (fanout's worker: its
    /// sampler thread's share taken out), when it tells.
    #[serde(default)]
    pub timed_cpu_user_s: Option<f64>,
    /// System CPU seconds of the timed region as the worker measured it, when it tells.
    #[serde(default)]
    pub timed_cpu_sys_s: Option<f64>,
    /// Why the strategy stopped before running its requests, if it did.
    pub strategy_error: Option<String>,
    /// The settings the clients ran with.
    pub client_config: Option<ClientConfig>,
    /// The CPU work per ok response as calibrated in the worker, µs (`None` without
    /// `--cpu-us`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cpu_work_us: Option<f64>,
    /// A peer's model and versions (fanout's own workers: `None`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peer: Option<PeerConfig>,
}

impl WorkerReport {
    /// Takes the figures measured from outside in place of the worker's own, so every row,
    /// fanout's or a peer's, is compared on figures taken one way. Where the OS does not tell
    /// memory or threads from outside, the worker's own stay.
    fn metered_from_outside(&mut self, metered: &Metered) {
        self.process_wall_s = Some(metered.wall_s);
        if let Some(peak) = metered.peak_rss_bytes {
            self.peak_rss_bytes = peak;
            self.peak_rss_read_at_report = metered.peak_rss_read_at_report;
        }
        if let Some(threads) = metered.peak_threads {
            self.peak_threads = threads;
        }
        self.cpu_user_s = metered.cpu_user_s;
        self.cpu_sys_s = metered.cpu_sys_s;
        self.ctx_voluntary = metered.ctx_voluntary;
        self.ctx_involuntary = metered.ctx_involuntary;
    }
}

/// How a worker process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerEnd {
    /// It exited (or a signal ended it) with this status.
    Exited(ExitStatus),
    /// It was still running at the time limit, and was killed.
    KilledAtLimit(Duration),
}

/// One point's full result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PointReport {
    /// The point as run.
    #[serde(flatten)]
    pub point: Point,
    /// Which repeat of this point in a sweep, from 1.
    #[serde(default = "first_repeat")]
    pub repeat: u32,
    /// Measured, skipped or failed.
    #[serde(flatten)]
    pub outcome: Outcome,
    /// Ideal wall time ceil(N/C)·D, seconds.
    pub ideal_s: f64,
    /// ideal / wall × ok / N: 1.0 is perfect, failed requests count against it.
    pub efficiency: f64,
    /// Ok requests per second of wall time.
    pub throughput_rps: f64,
    /// Allocations per request (all N; setup included).
    pub allocs_per_request: Option<f64>,
    /// Bytes allocated per request (all N; setup included).
    pub alloc_bytes_per_request: Option<f64>,
    /// Figures the worker measured about itself.
    #[serde(flatten)]
    pub worker: WorkerReport,
    /// What the server saw, when it has `/stats`.
    pub server: Option<ServerSaw>,
    /// How far the kernel's listen-queue counters moved during the point; any overflow or
    /// drop marks the point.
    #[serde(flatten)]
    pub listen: ListenCounters,
}

fn first_repeat() -> u32 {
    1
}

impl PointReport {
    /// A point not run, and why.
    pub fn skipped(point: &Point, why: String) -> Self {
        Self::unrun(point, Outcome::Skipped(why))
    }

    /// A report with no worker figures: skipped, or failed with every request lost.
    fn unrun(point: &Point, outcome: Outcome) -> Self {
        let mut worker = WorkerReport::default();
        if matches!(outcome, Outcome::Failed(_)) {
            // ok + errors = N, always: a worker that did not report lost all its requests.
            let lost = (ErrorKind::WorkerFailed.key(), point.requests as u64);
            worker.tally.errors = [lost].into();
        }
        Self {
            point: point.clone(),
            repeat: 1,
            outcome,
            ideal_s: point.ideal_s(),
            efficiency: 0.0,
            throughput_rps: 0.0,
            allocs_per_request: None,
            alloc_bytes_per_request: None,
            worker,
            server: None,
            listen: ListenCounters::default(),
        }
    }

    /// The report of a worker run: measured when the worker exited successfully and its
    /// `stdout` holds a report line (the last one that parses; a peer's in the peer
    /// protocol), failed otherwise. Either way it carries what was `metered` from outside.
    pub fn from_run(
        point: &Point,
        end: WorkerEnd,
        stdout: &str,
        metered: &Metered,
        server: Option<ServerSaw>,
        listen: ListenCounters,
    ) -> Self {
        let failure = match end {
            WorkerEnd::KilledAtLimit(limit) => {
                Some(format!("killed after the {} s time limit", limit.as_secs()))
            }
            WorkerEnd::Exited(status) if !status.success() => {
                let who = match point.strategy.worker {
                    Worker::InProcess(_) => "worker",
                    Worker::Peer(_) => "peer",
                };
                Some(format!("{who} {status}"))
            }
            WorkerEnd::Exited(_) => None,
        };
        let line = match point.strategy.worker {
            Worker::InProcess(_) => stdout
                .lines()
                .rev()
                .find_map(|line| serde_json::from_str(line).ok())
                .ok_or_else(|| format!("worker printed no report: {stdout:?}")),
            Worker::Peer(_) => peers::read_report(point.strategy, stdout, point.requests as u64),
        };
        let mut report = match (failure, line) {
            (None, Ok(worker)) => Self::measured(point, worker),
            (None, Err(why)) | (Some(why), _) => Self::unrun(point, Outcome::Failed(why)),
        };
        report.worker.metered_from_outside(metered);
        report.server = server;
        report.listen = listen;
        report
    }

    /// A measured report of `worker`'s figures.
    fn measured(point: &Point, worker: WorkerReport) -> Self {
        let mut report = Self::unrun(point, Outcome::Measured);
        let (ok, wall) = (worker.tally.ok as f64, worker.wall_s);
        if wall > 0.0 {
            report.efficiency = report.ideal_s / wall * ok / point.requests.max(1) as f64;
            report.throughput_rps = ok / wall;
        }
        let per_request = |n: Option<u64>| n.map(|n| n as f64 / point.requests.max(1) as f64);
        report.allocs_per_request = per_request(worker.allocations);
        report.alloc_bytes_per_request = per_request(worker.allocated_bytes);
        report.worker = worker;
        report
    }

    /// Reads one line of `points.jsonl` or of `fanout run --json`, in this layout or the
    /// earlier one.
    pub fn from_json_line(line: &str) -> Result<Self, serde_json::Error> {
        let mut value: serde_json::Value = serde_json::from_str(line)?;
        if let Some(object) = value.as_object_mut() {
            // Earlier layout: the point repeated under `point` (with fields found only
            // there), the counters under `listen`.
            if let Some(serde_json::Value::Object(point)) = object.remove("point") {
                for (key, v) in point {
                    object.entry(key).or_insert(v);
                }
            }
            if let Some(serde_json::Value::Object(listen)) = object.remove("listen") {
                object.extend(listen);
            }
        }
        serde_json::from_value(value)
    }

    /// True when the kernel's listen-queue counters moved or requests failed: the point's
    /// figures include setup trouble, and tables and charts mark it.
    pub fn marked(&self) -> bool {
        self.listen.overflowed() || self.error_count() > 0
    }

    /// Total failed requests.
    pub fn error_count(&self) -> u64 {
        self.worker.tally.errors.values().sum()
    }

    /// Peak RSS above the RSS before the job, per request in flight by design, bytes; `None`
    /// when the worker did not report its RSS before (a peer may not).
    pub fn rss_per_in_flight_bytes(&self) -> Option<f64> {
        let before = self.worker.rss_before_bytes;
        if before == 0 {
            return None;
        }
        let grown = self.worker.peak_rss_bytes.saturating_sub(before);
        Some(grown as f64 / self.point.in_flight().max(1) as f64)
    }
}

/// Reports built for tests elsewhere in the crate.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;
    use crate::strategies;

    /// A measured point of `strategy` at C with every request ok and the given figures.
    pub(crate) fn measured(strategy: &str, c: usize, wall_s: f64, peak_rss: u64) -> PointReport {
        let point = Point::new(strategies::find(strategy).expect("strategy"), c);
        let worker = WorkerReport {
            wall_s,
            peak_rss_bytes: peak_rss,
            tally: TallySummary {
                ok: point.requests as u64,
                ..TallySummary::default()
            },
            ..WorkerReport::default()
        };
        PointReport::measured(&point, worker)
    }
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;

    use super::*;
    use crate::strategies;

    fn point() -> Point {
        let mut p = Point::new(strategies::find("thread_pool").expect("strategy"), 10);
        p.requests = 20;
        p.delay_ms = 100;
        p
    }

    fn line(ok: u64, errors: u64, wall_s: f64) -> String {
        let mut worker = WorkerReport {
            wall_s,
            ..WorkerReport::default()
        };
        worker.tally.ok = ok;
        if errors > 0 {
            worker.tally.errors = [("timeout".to_owned(), errors)].into();
        }
        serde_json::to_string(&worker).expect("json")
    }

    const EXIT_0: i32 = 0;
    const EXIT_1: i32 = 1 << 8;
    const SIGKILL: i32 = 9;

    fn exited(raw: i32) -> WorkerEnd {
        WorkerEnd::Exited(ExitStatus::from_raw(raw))
    }

    #[test]
    fn a_worker_that_reported_is_measured_with_its_efficiency_and_throughput() {
        let server = Some(ServerSaw {
            peak_in_flight: 10,
            ..ServerSaw::default()
        });
        let stdout = format!("a log line\n{}\n", line(18, 2, 0.4));
        let r = PointReport::from_run(
            &point(),
            exited(EXIT_0),
            &stdout,
            &Metered::default(),
            server,
            Default::default(),
        );
        assert_eq!(r.outcome, Outcome::Measured);
        assert_eq!(r.worker.tally.ok + r.error_count(), 20);
        // ideal 0.2 s over 0.4 s, 18 of 20 ok.
        assert!((r.efficiency - 0.45).abs() < 1e-9, "{r:?}");
        assert!((r.throughput_rps - 45.0).abs() < 1e-9, "{r:?}");
        assert_eq!(r.server, server);
        assert!(r.marked(), "errors mark a point");
    }

    #[test]
    fn figures_metered_from_outside_replace_the_workers_own() {
        let mut own = WorkerReport {
            wall_s: 0.3,
            peak_rss_bytes: 1,
            peak_threads: 1,
            cpu_user_s: 9.0,
            timed_cpu_user_s: Some(0.1),
            ..WorkerReport::default()
        };
        own.tally.ok = 20;
        let metered = Metered {
            wall_s: 0.5,
            peak_rss_bytes: Some(5 << 20),
            peak_rss_read_at_report: true,
            peak_threads: Some(12),
            cpu_user_s: 0.2,
            cpu_sys_s: 0.1,
            ctx_voluntary: 7,
            ctx_involuntary: 3,
        };
        let stdout = serde_json::to_string(&own).expect("json");
        let r = PointReport::from_run(
            &point(),
            exited(EXIT_0),
            &stdout,
            &metered,
            None,
            Default::default(),
        );
        let w = &r.worker;
        assert_eq!(w.wall_s, 0.3, "wall time stays the timed region's");
        assert_eq!(w.process_wall_s, Some(0.5));
        assert_eq!((w.peak_rss_bytes, w.peak_threads), (5 << 20, 12));
        assert!(w.peak_rss_read_at_report);
        assert_eq!((w.cpu_user_s, w.cpu_sys_s), (0.2, 0.1));
        assert_eq!((w.ctx_voluntary, w.ctx_involuntary), (7, 3));
        assert_eq!(
            w.timed_cpu_user_s,
            Some(0.1),
            "the worker's own CPU kept beside"
        );
    }

    #[test]
    fn a_worker_that_failed_loses_every_request_with_the_reason() {
        let cases = [
            (exited(EXIT_1), line(20, 0, 0.2), "worker exit status: 1"),
            (exited(SIGKILL), String::new(), "SIGKILL"),
            (
                WorkerEnd::KilledAtLimit(Duration::from_secs(60)),
                String::new(),
                "killed after the 60 s time limit",
            ),
            (
                exited(EXIT_0),
                "garbage\n".into(),
                "worker printed no report: \"garbage\\n\"",
            ),
        ];
        for (end, stdout, why) in cases {
            let r = PointReport::from_run(
                &point(),
                end,
                &stdout,
                &Metered::default(),
                None,
                Default::default(),
            );
            let Outcome::Failed(reason) = &r.outcome else {
                panic!("{end:?}: {r:?}");
            };
            assert!(reason.contains(why), "{reason}");
            assert_eq!(r.worker.tally.ok, 0);
            assert_eq!(r.worker.tally.errors["worker_failed"], 20);
            assert_eq!(r.efficiency, 0.0);
        }
    }

    #[test]
    fn listen_overflows_mark_a_point_and_skips_carry_their_reason() {
        let overflowed = ListenCounters {
            listen_overflows: 3,
            ..Default::default()
        };
        let r = PointReport::from_run(
            &point(),
            exited(EXIT_0),
            &line(20, 0, 0.2),
            &Metered::default(),
            None,
            overflowed,
        );
        assert!(r.marked());
        let skipped = PointReport::skipped(&point(), "too slow".into());
        assert_eq!(skipped.outcome, Outcome::Skipped("too slow".into()));
        assert_eq!(skipped.error_count(), 0, "a skipped point lost no request");
    }

    /// A line of the reference run of 2026-11-23, in the layout before this one.
    const EARLIER_LAYOUT: &str = r#"{"strategy":"thread_pool","concurrency":10,"requests":20,"delay_ms":100,"repeat":2,"status":"measured","ideal_s":0.2,"efficiency":0.97,"throughput_rps":97.0,"ok":20,"errors":{},"setup_errors":{},"latency_ms":{"p50":101.8,"p90":102.0,"p99":102.2,"max":102.2},"wall_s":0.205,"rss_before_bytes":4055040,"peak_rss_bytes":5083136,"peak_threads":11,"cpu_user_s":0.0,"cpu_sys_s":0.002,"ctx_voluntary":20,"ctx_involuntary":19,"strategy_error":null,"client_config":{"reqwest_pool":"one Client, up to 10 idle connections","ureq_pool":"an Agent per thread slot, keeping its one connection","ureq_buffer_bytes":8192,"reqwest_buffer":"hyper default (8 KiB read buffer, grows)","timeout_ms":30000,"tcp_nodelay":true,"thread_stack_kib":2048,"tokio_workers":2},"server":{"peak_in_flight":10,"connections_accepted":10,"peak_connections_open":11,"requests_served":20,"requests_cancelled":0},"listen_overflows":1,"listen":{"listen_overflows":1,"listen_drops":1,"syn_retrans":0},"point":{"strategy":"thread_pool","concurrency":10,"requests":20,"delay_ms":100,"timeout_ms":30000,"body_bytes":32,"stack_kib":2048,"tokio_workers":2}}"#;

    #[test]
    fn the_earlier_layout_is_read_and_this_one_round_trips() {
        let r = PointReport::from_json_line(EARLIER_LAYOUT).expect("earlier layout");
        assert_eq!(r.point.strategy.name, "thread_pool");
        assert_eq!((r.point.concurrency, r.repeat), (10, 2));
        assert_eq!(r.point.settings.tokio_workers, 2);
        assert_eq!(r.listen.listen_drops, 1);
        assert_eq!(r.worker.peak_threads, 11);
        let line = serde_json::to_string(&r).expect("json");
        assert_eq!(PointReport::from_json_line(&line).expect("this layout"), r);
        let flat: serde_json::Value = serde_json::from_str(&line).expect("json");
        assert!(
            flat.get("point").is_none() && flat.get("listen").is_none(),
            "{flat}"
        );
        assert_eq!(flat["listen_drops"], 1);
    }
}

//! The results model: what one point produced — the object `fanout run --json` prints and
//! `points.jsonl` stores, one per line — and the pure mapping to it from what a run left
//! behind: how the worker ended, its report line, the server's view, the kernel's counters.
//!
//! In JSON a point's object is flat: the point's own fields (strategy, C, N, D, settings),
//! its outcome, the worker's figures and the listen-queue counters at the top level, the
//! server's view under `server` and the client settings under `client_config`.
//! [`PointReport::from_json_line`] also reads the layout of runs made before that
//! (with the point repeated under `point` and the counters under `listen`).

use mock_server::StatsSnapshot;
use serde::{Deserialize, Serialize};

use super::limit;
use crate::metering::outside::{Metered, WorkerEnd};
use crate::model::error_kind::ErrorKind;
use crate::model::limit::Limit;
use crate::model::memory::{TimelineSample, timeline};
use crate::model::ports_before::PortsBefore;
use crate::model::subject::Kind;
use crate::model::worker_report::WorkerReport;
use crate::os::ListenCounters;
use crate::os::machine::Limits;
use crate::planning::point::Point;

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
    /// Figures the worker measured about itself: its report line.
    #[serde(flatten)]
    pub worker: WorkerReport,
    /// Figures the harness measured of the worker process from outside.
    #[serde(flatten)]
    pub metered: Metered,
    /// What the server saw during the point, when it has `/stats` (its own snapshot type).
    pub server: Option<StatsSnapshot>,
    /// Why `server` is missing, when it is: no `/stats` there, or an answer that does not
    /// parse (and with it the server's own walls unread).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_missing: Option<String>,
    /// Kernel settings `--raise-limits` raised for the run this point was measured in (each
    /// put back after it); empty when none was.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub raised_limits: Vec<crate::model::limit::RaisedLimit>,
    /// How far the kernel's listen-queue counters moved during the point; any overflow or
    /// drop marks the point.
    #[serde(flatten)]
    pub listen: ListenCounters,
    /// The local ports earlier points' closed connections held as this one started, and how
    /// long the harness waited for them first.
    #[serde(flatten)]
    pub ports: PortsBefore,
    /// The OS limit the point ran into, if it did: named from its requests' errors, or from
    /// how its worker ended (its stderr's last words, the threads it reached).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<Limit>,
    /// The machine's value of that limit when the point ran (`None`: none, not a number, or a
    /// run before it was recorded).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit_value: Option<u64>,
    /// CPU seconds the hypervisor ran others on this machine's cores while the point ran
    /// (`/proc/stat`'s steal, every core summed, system-wide; `None` where not read).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steal_s: Option<f64>,
    /// Resident memory and requests in flight over the timed region (at most 100 samples).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<TimelineSample>,
    /// What the figures meant when this point was measured ([`MEASUREMENT_VERSION`]); absent
    /// in the line for version 1, the points measured before it was recorded.
    #[serde(default = "first_version", skip_serializing_if = "is_first_version")]
    pub measurement_version: u32,
}

/// The meaning of the figures a point records: bumped by a change to what a figure measures
/// or how it is counted (not by a change of speed), so that a quoted run folder measured
/// before it is stale (`fanout docs --stale`). A test ties it to the figures' definitions
/// ([`figures::ALL`](crate::analysis::figures::ALL)): changing one fails until this is looked at.
///
/// 1. Every point before the version was recorded, and the request drivers of 4ac0891
///    (one request path; what each figure means unchanged).
pub const MEASUREMENT_VERSION: u32 = 1;

fn first_version() -> u32 {
    1
}

fn is_first_version(version: &u32) -> bool {
    *version == 1
}

/// What a worker run left behind, for [`PointReport::from_run`].
#[derive(Debug)]
pub struct RunLeft<'a> {
    /// How the process ended.
    pub end: WorkerEnd,
    /// Its report line, read from its stdout (fanout's worker's, or a peer's in the peer
    /// protocol), or why there is none.
    pub line: Result<WorkerReport, anyhow::Error>,
    /// The last words on its stderr.
    pub stderr_tail: &'a str,
    /// What the harness measured of it from outside.
    pub metered: Metered,
    /// What the server saw, when it has `/stats`.
    pub server: Option<StatsSnapshot>,
    /// How far the kernel's listen-queue counters moved.
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
            metered: Metered::default(),
            server: None,
            server_missing: None,
            raised_limits: Vec::new(),
            listen: ListenCounters::default(),
            ports: PortsBefore::default(),
            limit: None,
            limit_value: None,
            steal_s: None,
            timeline: Vec::new(),
            measurement_version: MEASUREMENT_VERSION,
        }
    }

    /// The report of a worker run: measured when the worker exited successfully with its
    /// report line, failed otherwise (with the OS limit that ended it, where what it `left`
    /// names one against the machine's `limits`). Either way it carries what was metered from
    /// outside; where the OS tells nothing from outside, the worker's own peak stands in.
    pub fn from_run(point: &Point, left: RunLeft<'_>, limits: &Limits) -> Self {
        let failure = match left.end {
            WorkerEnd::KilledAtLimit(limit) => {
                Some(format!("killed after the {} s time limit", limit.as_secs()))
            }
            WorkerEnd::Exited(status) if !status.success() => {
                let who = match point.strategy.kind {
                    Kind::Strategy | Kind::Pitfall(_) => "worker",
                    Kind::Peer => "peer",
                };
                // Its last words, where it left any: why it stopped, in its own terms.
                let said =
                    last_words(left.stderr_tail).map_or(String::new(), |w| format!(" ({w})"));
                Some(format!("{who} {status}{said}"))
            }
            WorkerEnd::Exited(_) => None,
        };
        let peak_threads = left.metered.peak_threads;
        let maps_per_thread = crate::os::parked::mappings_per_thread();
        let ended_by = failure.as_ref().and_then(|_| {
            limit::from_end(
                &left.end,
                left.stderr_tail,
                peak_threads,
                limits,
                maps_per_thread,
            )
        });
        let mut report = match (failure, left.line) {
            (None, Ok(worker)) => Self::measured(point, worker),
            // Every cause in the chain, in words: the parser's error too.
            (None, Err(why)) => Self::unrun(point, Outcome::Failed(format!("{why:#}"))),
            (Some(why), _) => {
                let why = match ended_by {
                    Some(limit) => format!("{why}: stopped by {limit}"),
                    None => why,
                };
                Self::unrun(point, Outcome::Failed(why))
            }
        };
        report.limit = ended_by
            .or_else(|| limit::from_errors(&report.worker.tally, left.server.as_ref()))
            .map(|l| limit::thread_limit_or_maps(l, peak_threads, limits, maps_per_thread));
        report.limit_value = report.limit.and_then(|l| l.value(limits));
        report.timeline = timeline(&report.worker.in_flight_samples, &left.metered.samples);
        // The samples live on in the timeline; a point's JSON keeps that alone.
        report.worker.in_flight_samples.clear();
        report.metered = left.metered;
        report.metered.samples.clear();
        let own_peak = report.worker.own_peak_rss_bytes;
        report.metered.peak_rss_bytes = report.metered.peak_rss_bytes.or(own_peak);
        report.server = left.server;
        report.listen = left.listen;
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
            // Runs before the server's snapshot was recorded whole flattened its TLS
            // handshake percentiles (count and max were not kept: they read as 0).
            if let Some(serde_json::Value::Object(server)) = object.get_mut("server") {
                let mut handshakes = serde_json::Map::new();
                for (old, new) in [
                    ("tls_handshake_p50_us", "p50"),
                    ("tls_handshake_p99_us", "p99"),
                ] {
                    if let Some(v) = server.remove(old) {
                        handshakes.insert(new.to_owned(), v);
                    }
                }
                if !handshakes.is_empty() {
                    server.insert("tls_handshake_us".to_owned(), handshakes.into());
                }
            }
        }
        serde_json::from_value(value)
    }

    /// True when the kernel's listen-queue counters moved or requests failed: the point's
    /// figures include setup trouble, and tables and charts mark it.
    pub fn marked(&self) -> bool {
        self.listen.overflowed() || self.error_count() > 0 || self.worker.tally.dropped > 0
    }

    /// Total failed requests.
    pub fn error_count(&self) -> u64 {
        self.worker.tally.errors.values().sum()
    }

    /// Peak resident memory of the worker process, bytes (0: not measured).
    pub fn peak_rss_bytes(&self) -> u64 {
        self.metered.peak_rss_bytes.unwrap_or(0)
    }

    /// Most threads the worker process had alive at once (0: not measured).
    pub fn peak_threads(&self) -> u64 {
        self.metered.peak_threads.unwrap_or(0)
    }

    /// Whole-process CPU seconds, user + system (from outside: the tables' figure).
    pub fn cpu_s(&self) -> f64 {
        self.metered.cpu_user_s + self.metered.cpu_sys_s
    }

    /// This point's whole bill per request in flight, bytes: the resident memory above the
    /// RSS before the job plus the kernel's stacks, slab and page tables grown beside it, at
    /// the moment the worker held its in-flight count, over that count (`None`: no breakdown
    /// was read). The run's `whole_bill` figure is the slope of the same over C; one point's
    /// share also carries its fixed costs spread over C.
    pub fn whole_bill_bytes(&self) -> Option<f64> {
        let b = self.metered.breakdown.as_ref()?;
        let k = b.kernel.as_ref()?;
        let before = self.worker.rss_before_bytes;
        let resident = b.rss_bytes.saturating_sub(before) as f64;
        // The same kernel parts the fitted bill takes (`KernelGrowth::total_bytes`).
        let whole = (resident + k.total_bytes() as f64).max(0.0);
        Some(whole / b.in_flight.max(1) as f64)
    }

    /// The client's own bill per request in flight at this point, bytes: its resident memory
    /// above the RSS before the job plus the kernel memory charged to its own memory cgroup,
    /// at the moment it held its in-flight count, over that count (`None`: no breakdown, or no
    /// cgroup of its own). The server's end of each loopback socket is not in it, unlike
    /// [`Self::whole_bill_bytes`]; one point's share carries its fixed costs spread over C.
    pub fn own_bill_bytes(&self) -> Option<f64> {
        let b = self.metered.breakdown.as_ref()?;
        let held = Some(b.in_flight).filter(|&n| n > 0)?;
        let kernel = b.client_kernel?.kernel_bytes as f64;
        let rss = b.rss_bytes as f64 - self.worker.rss_before_bytes as f64;
        Some((rss + kernel) / held as f64)
    }

    /// The client's own bill per request in flight from its peaks, for a worker whose memory
    /// is not split while it holds them (a peer): peak RSS above its RSS before, plus the
    /// peak of its own cgroup's kernel memory, over the requests in flight by design, bytes.
    /// `None` without the RSS before (a peer may not say it) or a cgroup of its own.
    pub fn own_bill_from_peaks_bytes(&self) -> Option<f64> {
        let kernel = self.metered.cgroup_peaks.as_ref()?.kernel_bytes;
        let rss = self.rss_per_in_flight_bytes()?;
        Some(rss + kernel as f64 / self.point.in_flight().max(1) as f64)
    }

    /// Peak RSS above the RSS before the job, per request in flight by design, bytes; `None`
    /// when the worker did not report its RSS before (a peer may not).
    pub fn rss_per_in_flight_bytes(&self) -> Option<f64> {
        let before = self.worker.rss_before_bytes;
        if before == 0 {
            return None;
        }
        let grown = self.peak_rss_bytes().saturating_sub(before);
        Some(grown as f64 / self.point.in_flight().max(1) as f64)
    }
}

/// Reports built for tests elsewhere in the crate.
#[cfg(test)]
pub(crate) mod fixtures {
    use super::*;
    use crate::model::tally::TallySummary;
    use crate::planning::catalog;

    /// A measured point of `strategy` at C with every request ok and the given figures.
    pub(crate) fn measured(strategy: &str, c: usize, wall_s: f64, peak_rss: u64) -> PointReport {
        let point = Point::new(catalog::find(strategy).expect("strategy"), c);
        let worker = WorkerReport {
            wall_s,
            tally: TallySummary {
                ok: point.requests as u64,
                ..TallySummary::default()
            },
            ..WorkerReport::default()
        };
        let mut report = PointReport::measured(&point, worker);
        report.metered.peak_rss_bytes = Some(peak_rss);
        report
    }
}

/// What a process that failed said last: its last panic (where it panicked and the message on
/// the next line), else its last line that is not a backtrace's.
fn last_words(stderr: &str) -> Option<String> {
    let lines: Vec<&str> = stderr.lines().map(str::trim).collect();
    if let Some(at) = lines.iter().rposition(|l| l.contains("panicked at")) {
        let message = lines.get(at + 1).copied().unwrap_or_default();
        return Some(format!("{} {message}", lines[at]).trim().to_owned());
    }
    let backtrace = |l: &&str| {
        l.is_empty()
            || *l == "stack backtrace:"
            || l.starts_with("at ")
            || l.split_once(':')
                .is_some_and(|(n, _)| n.parse::<u32>().is_ok())
            || l.starts_with("note: ")
    };
    lines
        .iter()
        .rev()
        .find(|l| !backtrace(l))
        .map(|l| (*l).to_owned())
}

#[cfg(test)]
mod tests {
    use std::os::unix::process::ExitStatusExt;
    use std::process::ExitStatus;

    use std::time::Duration;

    use super::*;
    use crate::planning::catalog;

    #[test]
    fn a_peers_own_bill_is_its_peaks_over_what_it_held_and_none_without_its_rss_before() {
        let mut r = fixtures::measured("peer:go", 1_000, 1.0, 60 << 20);
        r.metered.cgroup_peaks = Some(crate::model::memory::CgroupPeaks {
            kernel_bytes: 30 << 20,
            memory_bytes: 90 << 20,
        });
        assert_eq!(r.own_bill_from_peaks_bytes(), None, "no RSS before said");
        r.worker.rss_before_bytes = 10 << 20;
        // (60 - 10 + 30) MiB over 1,000 in flight.
        let bill = r.own_bill_from_peaks_bytes().expect("a bill");
        assert!((bill - (80 << 20) as f64 / 1_000.0).abs() < 1e-6, "{bill}");
        r.metered.cgroup_peaks = None;
        assert_eq!(r.own_bill_from_peaks_bytes(), None, "no cgroup of its own");
    }

    fn point() -> Point {
        let mut p = Point::new(catalog::find("thread_pool").expect("strategy"), 10);
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
        let server = Some(StatsSnapshot {
            peak_in_flight: 10,
            ..StatsSnapshot::default()
        });
        let stdout = format!("a log line\n{}\n", line(18, 2, 0.4));
        let r = PointReport::from_run(
            &point(),
            RunLeft {
                end: exited(EXIT_0),
                line: WorkerReport::from_stdout(&stdout).map_err(Into::into),
                stderr_tail: "",
                metered: Metered::default(),
                server,
                listen: Default::default(),
            },
            &Limits::default(),
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
    fn figures_metered_from_outside_stand_beside_the_workers_own() {
        let mut own = WorkerReport {
            wall_s: 0.3,
            own_peak_rss_bytes: Some(1),
            timed_cpu_user_s: Some(0.1),
            ..WorkerReport::default()
        };
        own.tally.ok = 20;
        let metered = Metered {
            process_wall_s: Some(0.5),
            peak_rss_bytes: Some(5 << 20),
            peak_rss_read_at_report: true,
            peak_threads: Some(12),
            cpu_user_s: 0.2,
            cpu_sys_s: 0.1,
            ctx_voluntary: 7,
            ctx_involuntary: 3,
            ..Metered::default()
        };
        let stdout = serde_json::to_string(&own).expect("json");
        let r = PointReport::from_run(
            &point(),
            RunLeft {
                end: exited(EXIT_0),
                line: WorkerReport::from_stdout(&stdout).map_err(Into::into),
                stderr_tail: "",
                metered: metered.clone(),
                server: None,
                listen: Default::default(),
            },
            &Limits::default(),
        );
        // What the figures read: the peaks metered from outside, not the worker's own; the
        // efficiency and throughput from the timed region (0.3 s), not the whole process's
        // (0.5 s); the CPU of the whole process, the timed region's kept beside.
        assert_eq!((r.peak_rss_bytes(), r.peak_threads()), (5 << 20, 12));
        assert!((r.efficiency - 0.2 / 0.3).abs() < 1e-9, "{r:?}");
        assert!((r.throughput_rps - 20.0 / 0.3).abs() < 1e-9, "{r:?}");
        assert!((r.cpu_s() - 0.3).abs() < 1e-9, "{r:?}");
        assert_eq!(r.worker.timed_cpu_user_s, Some(0.1));
        // Where the OS tells nothing from outside, the worker's own peaks stand in.
        let blind = Metered {
            peak_rss_bytes: None,
            peak_threads: None,
            ..metered
        };
        let r = PointReport::from_run(
            &point(),
            RunLeft {
                end: exited(EXIT_0),
                line: WorkerReport::from_stdout(&stdout).map_err(Into::into),
                stderr_tail: "",
                metered: blind.clone(),
                server: None,
                listen: Default::default(),
            },
            &Limits::default(),
        );
        assert_eq!((r.peak_rss_bytes(), r.peak_threads()), (1, 0));
    }

    #[test]
    fn a_failed_workers_last_words_are_in_its_reason() {
        let r = PointReport::from_run(
            &point(),
            RunLeft {
                end: exited(EXIT_1),
                line: WorkerReport::from_stdout("").map_err(Into::into),
                stderr_tail: "a log line\nfanout worker: metering: the sampler thread panicked: boom\n\n",
                metered: Metered::default(),
                server: None,
                listen: Default::default(),
            },
            &Limits::default(),
        );
        let Outcome::Failed(reason) = &r.outcome else {
            panic!("{r:?}");
        };
        assert_eq!(
            reason,
            "worker exit status: 1 (fanout worker: metering: the sampler thread panicked: boom)"
        );
        // A panic's place and message, not its backtrace's last line.
        let tail = "thread '<unnamed>' (8623) panicked at generator-0.8.11/src/rt.rs:356:9:\nassertion failed: is_generator()\nstack backtrace:\n   0: rust_begin_unwind\n             at /rustc/x/panicking.rs:1\n";
        assert_eq!(
            last_words(tail).as_deref(),
            Some(
                "thread '<unnamed>' (8623) panicked at generator-0.8.11/src/rt.rs:356:9: assertion failed: is_generator()"
            )
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
            (
                exited(EXIT_0),
                "{\"ok\": 1, \"wall\n".into(),
                "worker's report line does not read: \"{\\\"ok\\\": 1, \\\"wall\\n\": EOF while parsing",
            ),
        ];
        for (end, stdout, why) in cases {
            let r = PointReport::from_run(
                &point(),
                RunLeft {
                    end,
                    line: WorkerReport::from_stdout(&stdout).map_err(Into::into),
                    stderr_tail: "",
                    metered: Metered::default(),
                    server: None,
                    listen: Default::default(),
                },
                &Limits::default(),
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
    fn a_worker_std_aborted_at_the_map_count_is_a_failed_point_naming_the_limit() {
        let metered = Metered {
            peak_threads: Some(16_369),
            peak_rss_bytes: Some(900 << 20),
            ..Metered::default()
        };
        let limits = Limits {
            max_map_count: Some(65_530),
            ..Limits::default()
        };
        let r = PointReport::from_run(
            &point(),
            RunLeft {
                end: exited(6), // SIGABRT
                line: Err(anyhow::anyhow!("worker printed no report")),
                stderr_tail: "failed to allocate an alternative stack: Cannot allocate memory (os error 12)\nfatal runtime error",
                metered,
                server: None,
                listen: Default::default(),
            },
            &limits,
        );
        let Outcome::Failed(reason) = &r.outcome else {
            panic!("{r:?}");
        };
        assert!(reason.contains("vm.max_map_count"), "{reason}");
        assert_eq!(r.limit, Some(Limit::MaxMapCount));
        assert_eq!(r.peak_threads(), 16_369, "what it reached is kept");
        assert_eq!(r.worker.tally.errors["worker_failed"], 20);
    }

    #[test]
    fn listen_overflows_mark_a_point_and_skips_carry_their_reason() {
        let overflowed = ListenCounters {
            listen_overflows: 3,
            ..Default::default()
        };
        let r = PointReport::from_run(
            &point(),
            RunLeft {
                end: exited(EXIT_0),
                line: WorkerReport::from_stdout(&line(20, 0, 0.2)).map_err(Into::into),
                stderr_tail: "",
                metered: Metered::default(),
                server: None,
                listen: overflowed,
            },
            &Limits::default(),
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
        assert_eq!(r.peak_threads(), 11);
        let line = serde_json::to_string(&r).expect("json");
        assert_eq!(PointReport::from_json_line(&line).expect("this layout"), r);
        let flat: serde_json::Value = serde_json::from_str(&line).expect("json");
        assert!(
            flat.get("point").is_none() && flat.get("listen").is_none(),
            "{flat}"
        );
        assert_eq!(flat["listen_drops"], 1);
    }

    /// What the figures' definitions say, as one number (FNV-1a over each figure's key, label,
    /// unit and about): the same on every machine and toolchain.
    fn fingerprint_of_the_figures() -> u64 {
        let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
        for figure in crate::analysis::figures::ALL {
            let text = format!(
                "{}|{}|{}|{}\n",
                figure.key, figure.label, figure.unit, figure.about
            );
            for byte in text.bytes() {
                hash = (hash ^ u64::from(byte)).wrapping_mul(0x0100_0000_01b3);
            }
        }
        hash
    }

    /// The figures' definitions as of [`MEASUREMENT_VERSION`].
    const FIGURES_AT_THIS_VERSION: u64 = 0xea1b_a4ff_d0a8_3adb;

    #[test]
    fn a_change_to_a_figures_definition_asks_whether_the_measurement_version_must_move() {
        let now = fingerprint_of_the_figures();
        assert_eq!(
            now, FIGURES_AT_THIS_VERSION,
            "a figure's definition changed (analysis/figures.rs): if what it measures or how it \
             is counted changed, bump MEASUREMENT_VERSION (record/report.rs) and rerun the \
             quoted folders; either way record the new fingerprint, {now:#x}"
        );
    }
}

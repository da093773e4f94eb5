//! What an injected fault did to a point: the server's count of it against the outcomes the
//! client recorded, whether they agree, and the blast radius — requests failed per fault
//! injected (1 on HTTP/1.1; on HTTP/2 a reset takes every stream of its connection).

use serde::{Deserialize, Serialize};

use mock_server::{FaultKind, StatsSnapshot};

use crate::analysis::statistics::cells;
use crate::model::error_kind::ErrorKind;
use crate::model::settings::Protocol;
use crate::model::subject::{ClientLib, Subject};
use crate::record::report::PointReport;

/// What a client should record for the requests a fault hits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Expect {
    /// Each fault fails its request, in this class: as many as the server injected.
    OneEach(ErrorKind),
    /// Each fault fails every request on its connection, in this class: at least as many.
    OneOrMoreEach(ErrorKind),
    /// The fault slows requests: any that fail, fail as timeouts (their deadline met it).
    OnlyTimeouts,
    /// The fault costs connections and time, no request (a close, a GOAWAY).
    NoneFail,
}

impl Expect {
    /// The class the fault's failures are recorded in, if it causes any.
    pub fn class(self) -> Option<ErrorKind> {
        match self {
            Self::OneEach(kind) | Self::OneOrMoreEach(kind) => Some(kind),
            Self::OnlyTimeouts => Some(ErrorKind::Timeout),
            Self::NoneFail => None,
        }
    }
}

/// What a client over `protocol` should record for a request hit by `kind` (`code`: a status
/// fault's), `reset` the class it records a reset during the body in ([`reset_class`]).
pub fn expected(kind: FaultKind, code: u16, reset: ErrorKind, protocol: Protocol) -> Expect {
    match kind {
        FaultKind::Stall => Expect::OneEach(ErrorKind::Timeout),
        FaultKind::Reset if protocol == Protocol::H2 => Expect::OneOrMoreEach(reset),
        FaultKind::Reset | FaultKind::RstStream => Expect::OneEach(reset),
        FaultKind::Truncate => Expect::OneEach(ErrorKind::Truncated),
        FaultKind::Status => Expect::OneEach(ErrorKind::HttpStatus(code)),
        FaultKind::Trickle | FaultKind::AcceptStall => Expect::OnlyTimeouts,
        FaultKind::Close | FaultKind::Goaway => Expect::NoneFail,
    }
}

/// The class `subject` records a reset during the body in: `connection_reset`, or
/// `truncated` for a client that cannot tell it from a close. ureq is one: its body reader
/// takes ECONNRESET as the peer's end (ureq 3's `src/run.rs`) and reports the short body; so
/// are the peers whose facts say so (aiohttp, oha).
pub fn reset_class(subject: &Subject) -> ErrorKind {
    let folds = subject.client == ClientLib::Ureq
        || crate::peers::find(subject.name).is_some_and(|p| p.reset_reads_as_truncated);
    if folds {
        ErrorKind::Truncated
    } else {
        ErrorKind::ConnectionReset
    }
}

/// One point's fault, as the server and the client each counted it.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultOutcome {
    /// The fault asked for.
    pub kind: FaultKind,
    /// Its share of requests.
    pub p: f64,
    /// How many the server injected.
    pub injected: u64,
    /// What the client should record.
    pub expect: Expect,
    /// How many requests the client recorded in the expected class.
    pub seen: u64,
    /// Attempts the client sent again (`--retries`): each after one failed attempt, so a
    /// fault retried is a fault seen.
    pub retried: u64,
    /// Requests failed of any class.
    pub failed: u64,
    /// Whether the client's counts agree with the server's as [`Expect`] says.
    pub agrees: bool,
    /// Requests failed per fault injected (`None` when none was).
    pub blast_radius: Option<f64>,
}

/// The fault outcome of `r`, a point that asked for a fault and has the server's counts.
pub fn of(r: &PointReport) -> Option<FaultOutcome> {
    let fault = r.point.settings.fault.fault().ok().flatten()?;
    let server: &StatsSnapshot = r.server.as_ref()?;
    let injected = server.faults.of(fault.kind);
    let tally = &r.worker.tally;
    let failed: u64 = tally.errors.values().sum();
    let expect = expected(
        fault.kind,
        fault.code,
        reset_class(r.point.strategy),
        r.point.protocol(),
    );
    let seen = expect
        .class()
        .map_or(0, |c| tally.errors.get(&c.key()).copied().unwrap_or(0));
    // A retried attempt failed once, as its fault made it: with the requests that failed, it
    // accounts for the faults injected.
    let retried = tally.retries.sent;
    let agrees = match expect {
        Expect::OneEach(_) => seen + retried == injected && failed == seen,
        Expect::OneOrMoreEach(_) => seen + retried >= injected && failed == seen,
        Expect::OnlyTimeouts => failed == seen,
        Expect::NoneFail => failed == 0,
    };
    Some(FaultOutcome {
        kind: fault.kind,
        p: fault.p,
        injected,
        expect,
        seen,
        retried,
        failed,
        agrees,
        blast_radius: (injected > 0).then(|| failed as f64 / injected as f64),
    })
}

#[cfg(test)]
mod tests {
    use mock_server::FaultCounts;

    use super::*;
    use crate::record::report::fixtures::measured;

    /// A point of `strategy` asking for `kind` on 10% of requests, the server having injected
    /// `injected`, the client having recorded `errors`.
    fn faulted(
        strategy: &str,
        kind: FaultKind,
        injected: u64,
        errors: &[(&str, u64)],
    ) -> PointReport {
        let mut r = measured(strategy, 100, 1.0, 1);
        r.point.settings.fault.fault = Some(kind);
        r.point.settings.fault.fault_p = 0.1;
        for (key, n) in errors {
            r.worker.tally.errors.insert((*key).to_owned(), *n);
            r.worker.tally.ok -= n;
        }
        let mut faults = FaultCounts::default();
        match kind {
            FaultKind::Reset => faults.reset = injected,
            FaultKind::Stall => faults.stall = injected,
            FaultKind::Goaway => faults.goaway = injected,
            _ => unimplemented!("not needed here"),
        }
        r.server = Some(StatsSnapshot {
            faults,
            ..StatsSnapshot::default()
        });
        r
    }

    #[test]
    fn counts_agree_one_for_one_and_a_disagreement_is_told() {
        let ok = of(&faulted(
            "async_raw",
            FaultKind::Reset,
            20,
            &[("connection_reset", 20)],
        ))
        .expect("a fault");
        assert!(ok.agrees);
        assert_eq!(ok.blast_radius, Some(1.0));
        let lost = of(&faulted(
            "async_raw",
            FaultKind::Reset,
            20,
            &[("connection_reset", 19)],
        ))
        .expect("a fault");
        assert!(!lost.agrees, "one reset the client did not see as one");
        let other = of(&faulted(
            "async_raw",
            FaultKind::Stall,
            5,
            &[("timeout", 5), ("io", 1)],
        ))
        .expect("a fault");
        assert!(!other.agrees, "a failure of another class");
        // ureq sees a reset mid-body as a truncation.
        let ureq = of(&faulted(
            "thread_pool",
            FaultKind::Reset,
            7,
            &[("truncated", 7)],
        ))
        .expect("a fault");
        assert!(ureq.agrees);
        let goaway = of(&faulted("async_raw", FaultKind::Goaway, 9, &[])).expect("a fault");
        assert!(goaway.agrees && goaway.failed == 0);
        assert_eq!(
            of(&measured("async_raw", 100, 1.0, 1)),
            None,
            "no fault asked"
        );
    }

    #[test]
    fn a_burst_tells_one_failure_per_stall_from_more_and_from_no_result() {
        let kept = faulted("async_raw", FaultKind::Stall, 30, &[("timeout", 30)]);
        let mut amplified = faulted("thread_raw", FaultKind::Stall, 15, &[("timeout", 150)]);
        amplified.worker.wall_s = 46.0;
        let mut killed = faulted("thread_pool", FaultKind::Stall, 0, &[]);
        killed.outcome = crate::record::report::Outcome::Failed("killed".into());
        let mut second = kept.clone();
        second.repeat = 2;
        let told: Vec<(&str, Vec<BurstOutcome>)> = burst(&[kept, amplified, killed, second])
            .into_iter()
            .map(|(s, outcomes)| (s.name, outcomes))
            .collect();
        assert_eq!(
            told,
            vec![
                (
                    "thread_pool",
                    vec![BurstOutcome::Unmeasured("killed".into())]
                ),
                (
                    "thread_raw",
                    vec![BurstOutcome::Amplified {
                        failed: 150,
                        injected: 15,
                        wall_s: 46.0
                    }]
                ),
                (
                    "async_raw",
                    vec![BurstOutcome::OnePerStall, BurstOutcome::OnePerStall]
                ),
            ],
            "every repeat of each, in the strategies' order"
        );
    }

    #[test]
    fn the_finding_names_who_held_the_most_threads_under_stalls_and_what_was_left() {
        let mut threads = faulted("thread_raw", FaultKind::Stall, 10, &[("timeout", 10)]);
        threads.metered.peak_threads = Some(1_002);
        let held = |open_fds, threads| crate::model::leftovers::Held {
            open_fds: Some(open_fds),
            threads: Some(threads),
            ..Default::default()
        };
        threads.worker.leftovers = Some(crate::model::leftovers::Leftovers {
            before: held(10, 1),
            after: held(12, 1),
            settled_ms: 100.0,
        });
        let mut tasks = faulted("async_raw", FaultKind::Stall, 10, &[("timeout", 10)]);
        tasks.metered.peak_threads = Some(3);
        let f = finding(&[threads, tasks]).expect("faulted points");
        let (most, least) = f.held.expect("stall points");
        assert_eq!((most.strategy.name, most.threads), ("thread_raw", 1_002.0));
        assert_eq!((least.strategy.name, least.threads), ("async_raw", 3.0));
        assert_eq!(
            f.left
                .map(|((a, fds), (b, threads))| ((a.name, fds), (b.name, threads))),
            Some((("thread_raw", 2.0), ("thread_raw", 0.0))),
            "only a point with leftovers read counts"
        );
    }

    #[test]
    fn over_http2_a_reset_may_take_more_than_its_own_stream() {
        let mut r = faulted(
            "async_h2_floor",
            FaultKind::Reset,
            3,
            &[("connection_reset", 90)],
        );
        r.point.settings.protocol = Protocol::H2;
        let o = of(&r).expect("a fault");
        assert!(o.agrees);
        assert_eq!(o.blast_radius, Some(30.0));
    }
}

/// A strategy and a figure of it.
pub type Whose = (&'static Subject, f64);

/// What a faults run says across its points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultsFinding {
    /// Points that asked for a fault, each repeat a point.
    pub points: usize,
    /// Those whose counts agree with the server's.
    pub agreeing: usize,
    /// Those that do not: strategy and fault (`reset 1%`).
    pub disagreeing: Vec<(&'static Subject, String)>,
    /// Over the stall points: the least and the most p99 of how far past the deadline a
    /// timed-out request came back, ms, and whose.
    pub overshoot: Option<(Whose, Whose)>,
    /// Requests failed per reset injected: the most over HTTP/1.1, the median over HTTP/2 (of
    /// the points with a reset), the HTTP/2 strategy with the most, and how many HTTP/2
    /// points the median is of.
    pub reset_radius: Option<(f64, f64, &'static Subject, usize)>,
    /// What stalled requests held while they waited out their deadline, at the run's largest
    /// stall share: the strategy with the most threads at peak, then the one with the fewest.
    pub held: Option<(HeldAtPeak, HeldAtPeak)>,
    /// The most open files, then the most threads, any strategy left once it had returned
    /// (above its count before the timed region), over every faulted point, and whose.
    pub left: Option<(Whose, Whose)>,
}

/// A strategy's most threads and its own kernel memory at once, in one point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HeldAtPeak {
    /// Whose.
    pub strategy: &'static Subject,
    /// Threads at peak.
    pub threads: f64,
    /// Its own cgroup's kernel memory at peak, MiB (where a cgroup was made).
    pub kernel_mib: Option<f64>,
    /// The stall share of the point.
    pub p: f64,
}

/// One strategy's point in a stall burst: one failure per stall (its counts agree with the
/// server's), more (how many per stall, and the wall time), or no result (why).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub enum BurstOutcome {
    /// Every stall came back as one timeout and nothing else failed.
    OnePerStall,
    /// More failed than the server stalled (or of other classes).
    Amplified {
        /// Requests failed.
        failed: u64,
        /// Stalls the server injected.
        injected: u64,
        /// The point's wall time, s.
        wall_s: f64,
    },
    /// The point was not measured: why.
    Unmeasured(String),
}

/// A stall burst run (stalls from `fault_after_ms` to `fault_until_ms`): each strategy's
/// outcome in each of its repeats (its cell's, `statistics::cells`: the measured first), in the
/// strategies' order; empty when no point asked for a stall.
pub fn burst(points: &[PointReport]) -> Vec<(&'static Subject, Vec<BurstOutcome>)> {
    use crate::record::report::Outcome;
    fn stalled(r: &PointReport) -> bool {
        r.point
            .settings
            .fault
            .fault()
            .ok()
            .flatten()
            .map(|f| f.kind)
            == Some(FaultKind::Stall)
    }
    cells(points)
        .into_iter()
        .filter(|cell| {
            cell.measured
                .iter()
                .chain(&cell.unmeasured)
                .any(|r| stalled(r))
        })
        .map(|cell| {
            let outcomes = cell
                .measured
                .iter()
                .chain(&cell.unmeasured)
                .map(|r| match (&r.outcome, of(r)) {
                    (Outcome::Measured, Some(o)) if o.agrees => BurstOutcome::OnePerStall,
                    (Outcome::Measured, Some(o)) => BurstOutcome::Amplified {
                        failed: o.failed,
                        injected: o.injected,
                        wall_s: r.worker.wall_s,
                    },
                    (Outcome::Failed(why) | Outcome::Skipped(why), _) => {
                        BurstOutcome::Unmeasured(why.clone())
                    }
                    (Outcome::Measured, None) => {
                        BurstOutcome::Unmeasured("no server counts".into())
                    }
                })
                .collect();
            (cell.subject(), outcomes)
        })
        .collect()
}

/// The finding of a faults run; `None` when no point asked for a fault.
pub fn finding(points: &[PointReport]) -> Option<FaultsFinding> {
    use crate::analysis::figures::DEADLINE_OVERSHOOT_P99;
    use crate::record::report::Outcome;
    let faulted: Vec<(&PointReport, FaultOutcome)> = points
        .iter()
        .filter(|r| r.outcome == Outcome::Measured)
        .filter_map(|r| Some((r, of(r)?)))
        .collect();
    if faulted.is_empty() {
        return None;
    }
    let share = |p: f64| format!("{}%", p * 100.0);
    // Each strategy and fault once, however many of its repeats disagree.
    let mut disagreeing: Vec<(&'static Subject, String)> = Vec::new();
    for (r, o) in faulted.iter().filter(|(_, o)| !o.agrees) {
        let which = (
            r.point.strategy,
            format!("{} {}", o.kind.name(), share(o.p)),
        );
        if !disagreeing.contains(&which) {
            disagreeing.push(which);
        }
    }
    let overshoots: Vec<Whose> = faulted
        .iter()
        .filter(|(_, o)| o.kind == FaultKind::Stall)
        .filter_map(|(r, _)| {
            let v = DEADLINE_OVERSHOOT_P99.of(r)?;
            v.is_finite().then_some((r.point.strategy, v))
        })
        .collect();
    let by = |a: &&Whose, b: &&Whose| a.1.total_cmp(&b.1);
    let overshoot = overshoots
        .iter()
        .min_by(by)
        .zip(overshoots.iter().max_by(by))
        .map(|(a, b)| (*a, *b));
    let radii = |h2: bool| -> Vec<Whose> {
        faulted
            .iter()
            .filter(|(r, o)| {
                o.kind == FaultKind::Reset && (r.point.protocol() == Protocol::H2) == h2
            })
            .filter_map(|(r, o)| Some((r.point.strategy, o.blast_radius?)))
            .collect()
    };
    let (h1, mut h2) = (radii(false), radii(true));
    h2.sort_by(|a, b| a.1.total_cmp(&b.1));
    // A true median: the mean of the middle two where the points are even in number.
    let median_h2 =
        crate::analysis::statistics::Spread::of(h2.iter().map(|m| m.1)).map(|s| s.median);
    let reset_radius = h1
        .iter()
        .map(|r| r.1)
        .max_by(f64::total_cmp)
        .zip(median_h2)
        .zip(h2.last().map(|m| m.0))
        .map(|((most_h1, median_h2), worst)| (most_h1, median_h2, worst, h2.len()));
    use crate::analysis::figures::{LEFT_FDS, LEFT_THREADS, PEAK_CLIENT_KERNEL, PEAK_THREADS};
    let most_stalled = faulted
        .iter()
        .filter(|(_, o)| o.kind == FaultKind::Stall)
        .map(|(_, o)| o.p)
        .max_by(f64::total_cmp);
    let held_at: Vec<HeldAtPeak> = faulted
        .iter()
        .filter(|(_, o)| o.kind == FaultKind::Stall && Some(o.p) == most_stalled)
        .filter_map(|(r, o)| {
            Some(HeldAtPeak {
                strategy: r.point.strategy,
                threads: PEAK_THREADS.of(r).filter(|v| v.is_finite())?,
                kernel_mib: PEAK_CLIENT_KERNEL.of(r).filter(|v| v.is_finite()),
                p: o.p,
            })
        })
        .collect();
    let by_threads = |a: &&HeldAtPeak, b: &&HeldAtPeak| a.threads.total_cmp(&b.threads);
    let held = held_at
        .iter()
        .max_by(by_threads)
        .zip(held_at.iter().min_by(by_threads))
        .map(|(a, b)| (a.clone(), b.clone()));
    let most_left = |f: &crate::analysis::figures::Figure| -> Option<Whose> {
        faulted
            .iter()
            .filter_map(|(r, _)| {
                let v = f.of(r).filter(|v| v.is_finite())?;
                Some((r.point.strategy, v))
            })
            .max_by(|a, b| a.1.total_cmp(&b.1))
    };
    Some(FaultsFinding {
        points: faulted.len(),
        agreeing: faulted.iter().filter(|(_, o)| o.agrees).count(),
        disagreeing,
        overshoot,
        reset_radius,
        held,
        left: most_left(&LEFT_FDS).zip(most_left(&LEFT_THREADS)),
    })
}

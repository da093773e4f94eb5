//! What an injected fault did to a point: the server's count of it against the outcomes the
//! client recorded, whether they agree, and the blast radius — requests failed per fault
//! injected (1 on HTTP/1.1; on HTTP/2 a reset takes every stream of its connection).

use mock_server::{FaultKind, StatsSnapshot};

use crate::model::error_kind::ErrorKind;
use crate::model::settings::Protocol;
use crate::model::subject::ClientLib;
use crate::results::report::PointReport;

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

/// What `client` over `protocol` should record for a request hit by `kind` (`code`: a status
/// fault's). ureq cannot tell a reset during the body from a close: its body reader takes
/// ECONNRESET as the peer's end (ureq 3's `src/run.rs`) and reports the short body, so to
/// ureq a reset is a truncation.
pub fn expected(kind: FaultKind, code: u16, client: ClientLib, protocol: Protocol) -> Expect {
    let reset = if client == ClientLib::Ureq {
        ErrorKind::Truncated
    } else {
        ErrorKind::ConnectionReset
    };
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
        r.point.strategy.client,
        r.point.protocol(),
    );
    let seen = expect
        .class()
        .map_or(0, |c| tally.errors.get(&c.key()).copied().unwrap_or(0));
    let agrees = match expect {
        Expect::OneEach(_) => seen == injected && failed == seen,
        Expect::OneOrMoreEach(_) => seen >= injected && failed == seen,
        Expect::OnlyTimeouts => failed == seen,
        Expect::NoneFail => failed == 0,
    };
    Some(FaultOutcome {
        kind: fault.kind,
        p: fault.p,
        injected,
        expect,
        seen,
        failed,
        agrees,
        blast_radius: (injected > 0).then(|| failed as f64 / injected as f64),
    })
}

#[cfg(test)]
mod tests {
    use mock_server::FaultCounts;

    use super::*;
    use crate::results::report::fixtures::measured;

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

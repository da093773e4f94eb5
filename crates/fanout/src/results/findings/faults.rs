//! What an injected fault did to a point: the server's count of it against the outcome class
//! the client recorded for it, whether they agree, and the blast radius — requests failed per
//! fault injected (1 on HTTP/1.1; on HTTP/2 a reset takes every stream of its connection).

use mock_server::{FaultKind, StatsSnapshot};

use crate::model::error_kind::ErrorKind;
use crate::model::settings::Protocol;
use crate::model::subject::ClientLib;
use crate::results::report::PointReport;

/// The outcome class `client` records for a request hit by `kind`, if the fault fails the
/// request at all (a close, a GOAWAY or an accept stall cost time and connections, not
/// requests; a trickle fails only past the deadline). ureq cannot tell a reset during the
/// body from a close: its body reader takes ECONNRESET as the peer's end (ureq 3's
/// `src/run.rs`) and reports the short body, so to ureq a reset is a truncation.
pub fn expected_class(kind: FaultKind, code: u16, client: ClientLib) -> Option<ErrorKind> {
    match kind {
        FaultKind::Stall => Some(ErrorKind::Timeout),
        FaultKind::Reset | FaultKind::RstStream if client == ClientLib::Ureq => {
            Some(ErrorKind::Truncated)
        }
        FaultKind::Reset | FaultKind::RstStream => Some(ErrorKind::ConnectionReset),
        FaultKind::Truncate => Some(ErrorKind::Truncated),
        FaultKind::Status => Some(ErrorKind::HttpStatus(code)),
        FaultKind::Trickle | FaultKind::Close | FaultKind::Goaway | FaultKind::AcceptStall => None,
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
    /// The class the client should record for each (`None`: the fault fails no request).
    pub class: Option<ErrorKind>,
    /// How many the client recorded in that class.
    pub seen: u64,
    /// Requests failed of any class.
    pub failed: u64,
    /// Whether the counts agree: equal, or — for a reset over HTTP/2, whose connection takes
    /// its other streams with it — at least one failure per fault; for a fault that fails no
    /// request, no failure at all.
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
    let class = expected_class(fault.kind, fault.code, r.point.strategy.client);
    let seen = class.map_or(0, |c| tally.errors.get(&c.key()).copied().unwrap_or(0));
    let spreads = fault.kind == FaultKind::Reset && r.point.protocol() == Protocol::H2;
    let agrees = match class {
        None => failed == 0 || fault.kind == FaultKind::Trickle,
        Some(_) if spreads => seen >= injected && (injected > 0 || seen == 0),
        Some(_) => seen == injected,
    };
    Some(FaultOutcome {
        kind: fault.kind,
        p: fault.p,
        injected,
        class,
        seen,
        failed,
        agrees,
        blast_radius: (injected > 0).then(|| failed as f64 / injected as f64),
    })
}

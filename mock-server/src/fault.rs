//! Injected faults: what a fault is (its kind, the share of requests it hits, its seed, a
//! window in time and the kind's own parameter), which requests get it — a seeded draw per
//! request number, so a run's counts are reproducible whatever the order requests arrive in —
//! and the counts by kind that `/stats` shows. The same [`FaultFlags`] are the server's
//! default (`mock-server --fault …`) and fanout's workload setting, which sends them with every
//! request as [`Fault::to_query`]; [`Fault::parse`] reads them back.

use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::params::{self, BadParam, Expected};

/// What goes wrong with a request that draws a fault (ordered as [`FaultKind::ALL`]).
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    clap::ValueEnum,
)]
#[serde(rename_all = "snake_case")]
pub enum FaultKind {
    /// No response: held until the client gives up (at most the server's `--max-delay-ms`,
    /// then answered late); the server notes how long it held each one its client abandoned.
    Stall,
    /// The head and half the body, then the connection reset (RST: SO_LINGER 0). On HTTP/2
    /// the whole connection goes, every stream on it with it.
    Reset,
    /// A `Content-Length` promised, half the body sent, then the connection closed (FIN).
    Truncate,
    /// A 5xx status (`code`) instead of 200.
    Status,
    /// The body a byte every `trickle_ms`.
    Trickle,
    /// The connection closed after the response despite keep-alive (HTTP/1.1:
    /// `Connection: close`; HTTP/2: GOAWAY after it).
    Close,
    /// HTTP/2: the stream reset (RST_STREAM) after half the body, the connection kept. HTTP/1.1
    /// has no streams: the connection is reset as by `reset`.
    #[value(name = "rst_stream")]
    RstStream,
    /// HTTP/2: GOAWAY when the request arrives (it is answered; new streams go elsewhere).
    /// HTTP/1.1: the connection closed after the response, as by `close`.
    Goaway,
    /// The listener stops accepting connections for `stall_ms` (the request itself is
    /// answered); one drawn during another or within `stall_ms` after it is not one, so
    /// the listener accepts at least half the time.
    #[value(name = "accept_stall")]
    AcceptStall,
}

impl FaultKind {
    /// Every kind, in `/stats` order.
    pub const ALL: [Self; 9] = [
        Self::Stall,
        Self::Reset,
        Self::Truncate,
        Self::Status,
        Self::Trickle,
        Self::Close,
        Self::RstStream,
        Self::Goaway,
        Self::AcceptStall,
    ];

    /// Its place in [`FaultKind::ALL`] (declared in that order).
    pub fn slot(self) -> usize {
        self as usize
    }

    /// Its name in a query and on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Self::Stall => "stall",
            Self::Reset => "reset",
            Self::Truncate => "truncate",
            Self::Status => "status",
            Self::Trickle => "trickle",
            Self::Close => "close",
            Self::RstStream => "rst_stream",
            Self::Goaway => "goaway",
            Self::AcceptStall => "accept_stall",
        }
    }

    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.name() == name)
    }
}

/// The status of a `status` fault when none is named.
pub const DEFAULT_CODE: u16 = 503;
/// A `trickle` fault's gap between bytes when none is named, ms.
pub const DEFAULT_TRICKLE_MS: u64 = 10;
/// How long an `accept_stall` stops the listener when not named, ms.
pub const DEFAULT_STALL_MS: u64 = 1_000;
/// The largest gap or stall a fault may ask for, ms.
pub const MAX_FAULT_MS: u64 = 600_000;

/// One fault, as a request or the server's default asks for it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Fault {
    /// What goes wrong.
    pub kind: FaultKind,
    /// The share of requests it hits, 0–1.
    pub p: f64,
    /// The draw's seed: the same seed hits the same request numbers.
    pub seed: u64,
    /// A `status` fault's code, 500–599.
    pub code: u16,
    /// A `trickle` fault's gap between bytes, ms (at least 1).
    pub trickle_ms: u64,
    /// How long an `accept_stall` stops the listener, ms.
    pub stall_ms: u64,
    /// Only requests arriving this long after `/stats` was last reset (a point's start), ms.
    pub after_ms: Option<u64>,
    /// Only requests arriving before this long after the reset, ms.
    pub until_ms: Option<u64>,
}

impl Fault {
    /// A fault of `kind` on every request, with the defaults for the rest.
    pub fn every(kind: FaultKind) -> Self {
        Self {
            kind,
            p: 1.0,
            seed: 0,
            code: DEFAULT_CODE,
            trickle_ms: DEFAULT_TRICKLE_MS,
            stall_ms: DEFAULT_STALL_MS,
            after_ms: None,
            until_ms: None,
        }
    }

    /// Its query parameters (a leading `&` each): `fault` and `fault_p` always, the rest when
    /// they differ from the defaults.
    pub fn to_query(&self) -> String {
        let mut query = format!("&fault={}&fault_p={}", self.kind.name(), self.p);
        let mut put = |name: &str, value: u64, default: u64| {
            if value != default {
                let _ = write!(query, "&{name}={value}");
            }
        };
        put("fault_seed", self.seed, 0);
        put("fault_code", u64::from(self.code), u64::from(DEFAULT_CODE));
        put("fault_trickle_ms", self.trickle_ms, DEFAULT_TRICKLE_MS);
        put("fault_stall_ms", self.stall_ms, DEFAULT_STALL_MS);
        if let Some(ms) = self.after_ms {
            let _ = write!(query, "&fault_after_ms={ms}");
        }
        if let Some(ms) = self.until_ms {
            let _ = write!(query, "&fault_until_ms={ms}");
        }
        query
    }

    /// The fault a query asks for (`None` without `fault=`), each parameter checked: an
    /// unknown kind, a share outside 0–1, a code outside 500–599, a trickle of 0 ms, or a
    /// window that ends before it starts is a [`BadParam`] naming it.
    pub fn parse<'a>(get: impl Fn(&str) -> Option<&'a str>) -> Result<Option<Self>, BadParam> {
        let Some(raw_kind) = get("fault") else {
            return Ok(None);
        };
        let kind = FaultKind::from_name(raw_kind).ok_or_else(|| BadParam {
            name: "fault",
            expected: Expected::OneOf(
                "stall, reset, truncate, status, trickle, close, rst_stream, goaway, accept_stall",
            ),
            got: raw_kind.to_owned(),
        })?;
        let integer = |name: &'static str, lo: u64, hi: u64, default: u64| match get(name) {
            Some(raw) => params::integer(name, raw, lo, hi),
            None => Ok(default),
        };
        let optional = |name: &'static str| {
            get(name)
                .map(|raw| params::integer(name, raw, 0, u64::MAX))
                .transpose()
        };
        let fault = Self {
            kind,
            p: match get("fault_p") {
                Some(raw) => params::number("fault_p", raw, 0.0, 1.0)?,
                None => 1.0,
            },
            seed: integer("fault_seed", 0, u64::MAX, 0)?,
            code: u16::try_from(integer("fault_code", 500, 599, u64::from(DEFAULT_CODE))?)
                .expect("range-checked to 500..=599"),
            trickle_ms: integer("fault_trickle_ms", 1, MAX_FAULT_MS, DEFAULT_TRICKLE_MS)?,
            stall_ms: integer("fault_stall_ms", 1, MAX_FAULT_MS, DEFAULT_STALL_MS)?,
            after_ms: optional("fault_after_ms")?,
            until_ms: optional("fault_until_ms")?,
        };
        if let (Some(after), Some(until)) = (fault.after_ms, fault.until_ms)
            && until <= after
        {
            return Err(BadParam {
                name: "fault_until_ms",
                expected: Expected::Integer(after + 1, u64::MAX),
                got: until.to_string(),
            });
        }
        Ok(Some(fault))
    }

    /// Whether a request `since_reset` after the reset is inside the fault's window.
    fn in_window(&self, since_reset: Duration) -> bool {
        let ms = u64::try_from(since_reset.as_millis()).unwrap_or(u64::MAX);
        self.after_ms.is_none_or(|after| ms >= after)
            && self.until_ms.is_none_or(|until| ms < until)
    }

    /// Whether the `n`-th request that asked for this fault gets it: a seeded hash of `n`
    /// against the share, so the same seed hits the same request numbers.
    fn hits(&self, n: u64) -> bool {
        crate::draw::hits(self.seed, n, self.p)
    }
}

/// Faults injected since the last reset, by kind: the `faults` of `/stats`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct FaultCounts {
    /// Requests stalled.
    pub stall: u64,
    /// Connections reset.
    pub reset: u64,
    /// Bodies truncated.
    pub truncate: u64,
    /// 5xx statuses sent.
    pub status: u64,
    /// Bodies trickled.
    pub trickle: u64,
    /// Connections closed after a response.
    pub close: u64,
    /// Streams reset (HTTP/2) or connections reset for it (HTTP/1.1).
    pub rst_stream: u64,
    /// GOAWAYs sent (HTTP/2) or connections closed for it (HTTP/1.1).
    pub goaway: u64,
    /// Times the listener stopped accepting.
    pub accept_stall: u64,
}

impl FaultCounts {
    /// The count of `kind`.
    pub fn of(&self, kind: FaultKind) -> u64 {
        match kind {
            FaultKind::Stall => self.stall,
            FaultKind::Reset => self.reset,
            FaultKind::Truncate => self.truncate,
            FaultKind::Status => self.status,
            FaultKind::Trickle => self.trickle,
            FaultKind::Close => self.close,
            FaultKind::RstStream => self.rst_stream,
            FaultKind::Goaway => self.goaway,
            FaultKind::AcceptStall => self.accept_stall,
        }
    }

    /// Every fault injected, of any kind.
    pub fn total(&self) -> u64 {
        FaultKind::ALL.into_iter().map(|k| self.of(k)).sum()
    }
}

/// The server's faults since the last reset: the draw's request numbers, the counts, the
/// listener's pause.
#[derive(Debug)]
pub struct Injector {
    /// Requests that asked for a fault inside its window: the next one's number.
    asked: AtomicU64,
    injected: [AtomicU64; FaultKind::ALL.len()],
    reset_at: Mutex<Instant>,
    /// Until when the listener does not accept.
    accept_paused_until: Mutex<Option<Instant>>,
}

impl Default for Injector {
    fn default() -> Self {
        Self {
            asked: AtomicU64::new(0),
            injected: Default::default(),
            reset_at: Mutex::new(Instant::now()),
            accept_paused_until: Mutex::new(None),
        }
    }
}

impl Injector {
    /// Draws for a request asking `fault`: `Some(kind)` when it gets it (counted).
    pub fn draw(&self, fault: &Fault) -> Option<FaultKind> {
        let since = self
            .reset_at
            .lock()
            .map_or(Duration::ZERO, |at| at.elapsed());
        if !fault.in_window(since) {
            return None;
        }
        let n = self.asked.fetch_add(1, Ordering::Relaxed);
        if !fault.hits(n) {
            return None;
        }
        if fault.kind == FaultKind::AcceptStall && !self.stop_accepting(fault.stall_ms) {
            return None;
        }
        self.injected[fault.kind.slot()].fetch_add(1, Ordering::Relaxed);
        Some(fault.kind)
    }

    /// Stops the listener for `stall_ms` unless a stall began less than twice that long ago:
    /// stalls never overlap and the listener accepts at least half the time. Without the
    /// gap, requests queued in the backlog during a stall draw the next as they are
    /// accepted, and the listener never comes back. True when a stall began.
    fn stop_accepting(&self, stall_ms: u64) -> bool {
        let Ok(mut until) = self.accept_paused_until.lock() else {
            return false;
        };
        let now = Instant::now();
        let stall = Duration::from_millis(stall_ms);
        if until.is_some_and(|u| now < u + stall) {
            return false;
        }
        *until = Some(now + stall);
        true
    }

    /// How much longer the listener is to stop accepting, if it is.
    pub fn accept_pause(&self) -> Option<Duration> {
        let until = (*self.accept_paused_until.lock().ok()?)?;
        Some(until.checked_duration_since(Instant::now())?).filter(|d| !d.is_zero())
    }

    /// The counts by kind.
    pub fn counts(&self) -> FaultCounts {
        let n = |kind: FaultKind| self.injected[kind.slot()].load(Ordering::Relaxed);
        FaultCounts {
            stall: n(FaultKind::Stall),
            reset: n(FaultKind::Reset),
            truncate: n(FaultKind::Truncate),
            status: n(FaultKind::Status),
            trickle: n(FaultKind::Trickle),
            close: n(FaultKind::Close),
            rst_stream: n(FaultKind::RstStream),
            goaway: n(FaultKind::Goaway),
            accept_stall: n(FaultKind::AcceptStall),
        }
    }

    /// Starts again: request numbers from 0, counts zeroed, the window's clock from now.
    pub fn reset(&self) {
        self.asked.store(0, Ordering::Relaxed);
        for count in &self.injected {
            count.store(0, Ordering::Relaxed);
        }
        if let Ok(mut at) = self.reset_at.lock() {
            *at = Instant::now();
        }
    }
}

fn parse_share(raw: &str) -> Result<f64, String> {
    params::number("--fault-p", raw, 0.0, 1.0).map_err(|e| e.to_string())
}

/// The flags of a fault, shared by `mock-server` (its default for every `/get`) and `fanout`
/// (a workload setting, sent with every request). Its default is its flags' defaults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, clap::Args)]
#[serde(default)]
pub struct FaultFlags {
    /// Inject a fault: stall, reset, truncate, status, trickle, close, rst_stream, goaway,
    /// accept_stall (see docs/mock-server.md).
    #[arg(long, value_enum)]
    pub fault: Option<FaultKind>,
    /// The share of requests the fault hits, 0–1.
    #[arg(long, requires = "fault", default_value_t = 1.0, value_parser = parse_share)]
    #[serde(default = "one")]
    pub fault_p: f64,
    /// The fault draw's seed (the same seed hits the same request numbers).
    #[arg(long, requires = "fault", default_value_t = 0)]
    pub fault_seed: u64,
    /// A `status` fault's code.
    #[arg(long, requires = "fault", default_value_t = DEFAULT_CODE, value_parser = clap::value_parser!(u16).range(500..=599))]
    #[serde(default = "default_code")]
    pub fault_code: u16,
    /// A `trickle` fault's gap between body bytes, ms.
    #[arg(long, requires = "fault", default_value_t = DEFAULT_TRICKLE_MS, value_parser = clap::value_parser!(u64).range(1..=MAX_FAULT_MS))]
    #[serde(default = "default_trickle_ms")]
    pub fault_trickle_ms: u64,
    /// How long an `accept_stall` stops the listener, ms.
    #[arg(long, requires = "fault", default_value_t = DEFAULT_STALL_MS, value_parser = clap::value_parser!(u64).range(1..=MAX_FAULT_MS))]
    #[serde(default = "default_stall_ms")]
    pub fault_stall_ms: u64,
    /// Only requests arriving this long after a point starts (the server's stats reset), ms.
    #[arg(long, requires = "fault")]
    pub fault_after_ms: Option<u64>,
    /// Only requests arriving before this long after a point starts, ms.
    #[arg(long, requires = "fault")]
    pub fault_until_ms: Option<u64>,
}

impl Default for FaultFlags {
    fn default() -> Self {
        Self {
            fault: None,
            fault_p: one(),
            fault_seed: 0,
            fault_code: DEFAULT_CODE,
            fault_trickle_ms: DEFAULT_TRICKLE_MS,
            fault_stall_ms: DEFAULT_STALL_MS,
            fault_after_ms: None,
            fault_until_ms: None,
        }
    }
}

fn one() -> f64 {
    1.0
}
fn default_code() -> u16 {
    DEFAULT_CODE
}
fn default_trickle_ms() -> u64 {
    DEFAULT_TRICKLE_MS
}
fn default_stall_ms() -> u64 {
    DEFAULT_STALL_MS
}

impl FaultFlags {
    /// The fault these flags ask for, if any; a window that ends before it starts is an error
    /// naming both flags.
    pub fn fault(&self) -> Result<Option<Fault>, String> {
        let Some(kind) = self.fault else {
            return Ok(None);
        };
        if let (Some(after), Some(until)) = (self.fault_after_ms, self.fault_until_ms)
            && until <= after
        {
            return Err(format!(
                "--fault-until-ms {until} must be after --fault-after-ms {after}"
            ));
        }
        Ok(Some(Fault {
            kind,
            p: self.fault_p,
            seed: self.fault_seed,
            code: self.fault_code,
            trickle_ms: self.fault_trickle_ms,
            stall_ms: self.fault_stall_ms,
            after_ms: self.fault_after_ms,
            until_ms: self.fault_until_ms,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(query: &str) -> Result<Option<Fault>, BadParam> {
        Fault::parse(crate::params::lookup_in(query))
    }

    #[test]
    fn each_kind_sits_at_its_slot_of_all() {
        for (i, kind) in FaultKind::ALL.into_iter().enumerate() {
            assert_eq!(kind.slot(), i, "{}", kind.name());
        }
    }

    #[test]
    fn the_command_line_names_each_kind_as_the_query_does() {
        use clap::ValueEnum as _;
        for kind in FaultKind::ALL {
            let value = kind.to_possible_value().expect("named");
            assert_eq!(value.get_name(), kind.name());
        }
    }

    #[test]
    fn what_a_fault_writes_it_reads_back() {
        let fault = Fault {
            p: 0.1,
            seed: 7,
            code: 502,
            after_ms: Some(1_000),
            until_ms: Some(3_000),
            ..Fault::every(FaultKind::Status)
        };
        assert_eq!(parse(&fault.to_query()), Ok(Some(fault)));
        for kind in FaultKind::ALL {
            let every = Fault::every(kind);
            assert_eq!(parse(&every.to_query()), Ok(Some(every)), "{}", kind.name());
        }
        assert_eq!(parse("delay_ms=1"), Ok(None));
    }

    #[test]
    fn bad_faults_name_the_parameter_and_its_range() {
        let cases = [
            ("fault=explode", "fault must be one of stall, reset"),
            (
                "fault=reset&fault_p=1.5",
                "fault_p must be a number from 0 to 1",
            ),
            (
                "fault=reset&fault_p=-0.1",
                "fault_p must be a number from 0 to 1",
            ),
            (
                "fault=trickle&fault_trickle_ms=0",
                "fault_trickle_ms must be an integer from 1 to",
            ),
            (
                "fault=status&fault_code=404",
                "fault_code must be an integer from 500 to 599",
            ),
            (
                "fault=status&fault_code=600",
                "fault_code must be an integer from 500 to 599",
            ),
            (
                "fault=stall&fault_after_ms=500&fault_until_ms=500",
                "fault_until_ms must be an integer from 501",
            ),
        ];
        for (query, says) in cases {
            let err = parse(query).expect_err(query).to_string();
            assert!(err.starts_with(says), "{query}: {err}");
        }
    }

    #[test]
    fn the_draw_hits_the_share_and_the_same_seed_the_same_requests() {
        let fault = Fault {
            p: 0.1,
            seed: 42,
            ..Fault::every(FaultKind::Reset)
        };
        let hits: Vec<u64> = (0..10_000).filter(|n| fault.hits(*n)).collect();
        assert!((900..=1_100).contains(&hits.len()), "{}", hits.len());
        let again: Vec<u64> = (0..10_000).filter(|n| fault.hits(*n)).collect();
        assert_eq!(hits, again);
        let other = Fault { seed: 43, ..fault };
        assert_ne!(
            hits,
            (0..10_000).filter(|n| other.hits(*n)).collect::<Vec<_>>()
        );
        assert!((0..1_000).all(|n| Fault::every(FaultKind::Reset).hits(n)));
        let never = Fault { p: 0.0, ..fault };
        assert!((0..1_000).all(|n| !never.hits(n)));
    }

    #[test]
    fn the_injector_counts_by_kind_inside_the_window_and_resets() {
        let injector = Injector::default();
        let status = Fault::every(FaultKind::Status);
        for _ in 0..3 {
            assert_eq!(injector.draw(&status), Some(FaultKind::Status));
        }
        let later = Fault {
            after_ms: Some(60_000),
            ..Fault::every(FaultKind::Reset)
        };
        assert_eq!(injector.draw(&later), None, "before its window");
        assert_eq!(injector.counts().status, 3);
        assert_eq!(injector.counts().total(), 3);
        assert_eq!(injector.accept_pause(), None);
        let stall = Fault::every(FaultKind::AcceptStall);
        assert_eq!(injector.draw(&stall), Some(FaultKind::AcceptStall));
        assert!(injector.accept_pause().is_some());
        assert_eq!(injector.draw(&stall), None, "not during a stall");
        assert_eq!(injector.counts().accept_stall, 1, "nor counted");
        injector.reset();
        assert_eq!(injector.counts(), FaultCounts::default());
    }
}

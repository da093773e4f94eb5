//! A setting a sweep can vary across points beside C (`--workload cpu`, `connect`, `rate`,
//! `faults`).

use serde::{Deserialize, Serialize};

use mock_server::FaultKind;

use super::rate::RateProfile;
use super::settings::Settings;

/// A setting a sweep can vary across points, beside C: its x axis when it does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Knob {
    /// `cpu_us`: CPU work per response.
    CpuUs,
    /// `connect_delay_ms`: connection set-up delay.
    ConnectDelayMs,
    /// `rate`: requests falling due per second (open loop; 0 is closed loop).
    Rate,
    /// `fault`: an injected fault's kind and share ([`Varied::Fault`], shown as `reset 1%`).
    Fault,
    /// `hedge_after`: how long a request waits before its hedge goes — a fixed delay in ms,
    /// or a latency percentile ([`HedgeAt`]).
    #[serde(alias = "hedge_after_ms")]
    HedgeAfter,
}

/// The value of a varied setting at one point, typed: what tells the cells of a run apart
/// beside C, in the tables' order (a knob's values by size; no fault, then each kind in
/// [`FaultKind::ALL`]'s order by share; no hedge, then fixed delays, then percentiles).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Varied {
    /// CPU work per response, µs.
    CpuUs(u64),
    /// Connection set-up delay, ms.
    ConnectDelayMs(u64),
    /// Requests falling due per second, the rate's mean (0: closed loop).
    Rate(u64),
    /// An injected fault and its share of requests (`None`: no fault).
    Fault(Option<FaultShare>),
    /// When a request is hedged.
    HedgeAfter(HedgeAt),
}

/// A fault's kind and the share of requests it hits, in millionths.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct FaultShare {
    /// The fault.
    pub kind: FaultKind,
    /// The share of requests it hits, in millionths.
    pub millionths: u32,
}

impl FaultShare {
    /// `kind` hitting a share `p` (0 to 1) of requests.
    pub fn of(kind: FaultKind, p: f64) -> Self {
        Self {
            kind,
            millionths: (p.clamp(0.0, 1.0) * 1e6).round() as u32,
        }
    }

    /// The share, 0 to 1.
    pub fn p(self) -> f64 {
        f64::from(self.millionths) / 1e6
    }
}

/// When a request is hedged: never, after a fixed delay, or at a latency percentile of the
/// point so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum HedgeAt {
    /// No hedging.
    Never,
    /// After this many ms.
    Ms(u64),
    /// At this percentile, in thousandths (`99900`: p99.9).
    Percentile {
        /// The percentile in thousandths.
        thousandths: u32,
    },
}

impl HedgeAt {
    /// At `percentile` (0 to 100).
    pub fn percentile(percentile: f64) -> Self {
        Self::Percentile {
            thousandths: (percentile.clamp(0.0, 100.0) * 1e3).round() as u32,
        }
    }
}

impl Varied {
    /// The setting it is a value of.
    pub fn knob(self) -> Knob {
        match self {
            Self::CpuUs(_) => Knob::CpuUs,
            Self::ConnectDelayMs(_) => Knob::ConnectDelayMs,
            Self::Rate(_) => Knob::Rate,
            Self::Fault(_) => Knob::Fault,
            Self::HedgeAfter(_) => Knob::HedgeAfter,
        }
    }

    /// `settings` with this value.
    pub fn set(self, settings: &mut Settings) {
        match self {
            Self::CpuUs(us) => settings.cpu_us = us,
            Self::ConnectDelayMs(ms) => settings.connect_delay_ms = ms,
            Self::Rate(rate) => {
                settings.rate = (rate > 0).then_some(RateProfile::Constant(rate as f64));
            }
            Self::Fault(None) => settings.fault.fault = None,
            Self::Fault(Some(share)) => {
                settings.fault.fault = Some(share.kind);
                settings.fault.fault_p = share.p();
            }
            Self::HedgeAfter(at) => {
                (settings.hedge_after_ms, settings.hedge_after_percentile) = match at {
                    HedgeAt::Never => (None, None),
                    HedgeAt::Ms(ms) => (Some(ms), None),
                    HedgeAt::Percentile { thousandths } => {
                        (None, Some(f64::from(thousandths) / 1e3))
                    }
                };
            }
        }
    }

    /// The number it is, for a knob whose values are plain numbers (CPU work, set-up delay,
    /// rate); `None` for a fault or a hedge.
    pub fn number(self) -> Option<u64> {
        match self {
            Self::CpuUs(v) | Self::ConnectDelayMs(v) | Self::Rate(v) => Some(v),
            Self::Fault(_) | Self::HedgeAfter(_) => None,
        }
    }

    /// As a table or an axis shows it.
    pub fn show(self) -> String {
        match self {
            Self::CpuUs(v) | Self::ConnectDelayMs(v) | Self::Rate(v) => v.to_string(),
            Self::Fault(None) | Self::HedgeAfter(HedgeAt::Never) => "none".to_owned(),
            Self::Fault(Some(share)) => format!("{} {}%", share.kind.name(), share.p() * 100.0),
            Self::HedgeAfter(HedgeAt::Ms(ms)) => format!("{ms} ms"),
            Self::HedgeAfter(HedgeAt::Percentile { thousandths }) => {
                format!("p{}", f64::from(thousandths) / 1e3)
            }
        }
    }

    /// A value of `knob` as plans saved before values were typed held it, packed in a number:
    /// a fault as (its kind's place in [`FaultKind::ALL`] + 1) × 10,000,000 plus its share in
    /// millionths; a hedge percentile as 1,000,000,000 plus the percentile in thousandths.
    pub fn unpacked(knob: Knob, packed: u64) -> Option<Self> {
        const FAULT_KIND_STEP: u64 = 10_000_000;
        const PERCENTILE_BASE: u64 = 1_000_000_000;
        Some(match knob {
            Knob::CpuUs => Self::CpuUs(packed),
            Knob::ConnectDelayMs => Self::ConnectDelayMs(packed),
            Knob::Rate => Self::Rate(packed),
            Knob::Fault if packed == 0 => Self::Fault(None),
            Knob::Fault => {
                let place = usize::try_from(packed / FAULT_KIND_STEP)
                    .ok()?
                    .checked_sub(1)?;
                Self::Fault(Some(FaultShare {
                    kind: *FaultKind::ALL.get(place)?,
                    millionths: u32::try_from(packed % FAULT_KIND_STEP).ok()?,
                }))
            }
            Knob::HedgeAfter => Self::HedgeAfter(match packed.checked_sub(PERCENTILE_BASE) {
                _ if packed == 0 => HedgeAt::Never,
                Some(thousandths) => HedgeAt::Percentile {
                    thousandths: u32::try_from(thousandths).ok()?,
                },
                None => HedgeAt::Ms(packed),
            }),
        })
    }
}

impl Knob {
    /// Every knob.
    pub const ALL: [Self; 5] = [
        Self::CpuUs,
        Self::ConnectDelayMs,
        Self::Rate,
        Self::Fault,
        Self::HedgeAfter,
    ];

    /// Its value in `settings`.
    pub fn value(self, settings: &Settings) -> Varied {
        match self {
            Self::CpuUs => Varied::CpuUs(settings.cpu_us),
            Self::ConnectDelayMs => Varied::ConnectDelayMs(settings.connect_delay_ms),
            Self::Rate => Varied::Rate(
                settings
                    .rate
                    .as_ref()
                    .map_or(0, |r| r.mean().round() as u64),
            ),
            Self::Fault => Varied::Fault(
                settings
                    .fault
                    .fault
                    .map(|kind| FaultShare::of(kind, settings.fault.fault_p)),
            ),
            Self::HedgeAfter => Varied::HedgeAfter(
                match (settings.hedge_after_ms, settings.hedge_after_percentile) {
                    (Some(ms), _) => HedgeAt::Ms(ms),
                    (None, Some(p)) => HedgeAt::percentile(p),
                    (None, None) => HedgeAt::Never,
                },
            ),
        }
    }

    /// Its name in a point's JSON (and a table's column).
    pub fn key(self) -> &'static str {
        match self {
            Self::CpuUs => "cpu_us",
            Self::ConnectDelayMs => "connect_delay_ms",
            Self::Rate => "rate",
            Self::Fault => "fault",
            Self::HedgeAfter => "hedge_after",
        }
    }

    /// What it is, for a chart's axis.
    pub fn label(self) -> &'static str {
        match self {
            Self::CpuUs => "CPU work per response, µs",
            Self::ConnectDelayMs => "connection set-up delay R, ms",
            Self::Rate => "offered rate, requests due per second",
            Self::Fault => "injected fault and its share of requests",
            Self::HedgeAfter => "hedge after (a delay, or the latency percentile so far)",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fault_value_sets_and_reads_back_its_kind_and_share() {
        let mut settings = Settings::default();
        assert_eq!(Knob::Fault.value(&settings), Varied::Fault(None));
        for kind in FaultKind::ALL {
            for p in [0.01, 0.1, 1.0] {
                let value = Varied::Fault(Some(FaultShare::of(kind, p)));
                value.set(&mut settings);
                assert_eq!(settings.fault.fault, Some(kind));
                assert_eq!(Knob::Fault.value(&settings), value);
            }
        }
        let reset = Varied::Fault(Some(FaultShare::of(FaultKind::Reset, 0.01)));
        assert_eq!(reset.show(), "reset 1%");
        Varied::Fault(None).set(&mut settings);
        assert_eq!(settings.fault.fault, None);
        // The tables' order: no fault, then by kind, then by share.
        let stall = Varied::Fault(Some(FaultShare::of(FaultKind::Stall, 0.1)));
        let reset_more = Varied::Fault(Some(FaultShare::of(FaultKind::Reset, 0.1)));
        assert!(Varied::Fault(None) < stall && stall < reset && reset < reset_more);
    }

    #[test]
    fn a_hedge_value_holds_a_delay_or_a_percentile_and_reads_back() {
        let mut settings = Settings::default();
        let forty = Varied::HedgeAfter(HedgeAt::Ms(40));
        forty.set(&mut settings);
        assert_eq!(
            (settings.hedge_after_ms, settings.hedge_after_percentile),
            (Some(40), None)
        );
        assert_eq!(
            (Knob::HedgeAfter.value(&settings), forty.show()),
            (forty, "40 ms".into())
        );
        let p999 = Varied::HedgeAfter(HedgeAt::percentile(99.9));
        p999.set(&mut settings);
        assert_eq!(
            (settings.hedge_after_ms, settings.hedge_after_percentile),
            (None, Some(99.9))
        );
        assert_eq!(
            (Knob::HedgeAfter.value(&settings), p999.show()),
            (p999, "p99.9".into())
        );
        let never = Varied::HedgeAfter(HedgeAt::Never);
        assert!(
            never < forty && forty < p999,
            "none, delays, then percentiles"
        );
        never.set(&mut settings);
        assert!(!settings.hedging());
        assert_eq!(never.show(), "none");
    }

    #[test]
    fn values_packed_by_earlier_plans_are_read_as_they_were_meant() {
        let reset_10 = Varied::Fault(Some(FaultShare::of(FaultKind::Reset, 0.1)));
        assert_eq!(Varied::unpacked(Knob::Fault, 20_100_000), Some(reset_10));
        assert_eq!(Varied::unpacked(Knob::Fault, 0), Some(Varied::Fault(None)));
        assert_eq!(
            Varied::unpacked(Knob::Fault, 990_000_000),
            None,
            "no such kind"
        );
        assert_eq!(
            Varied::unpacked(Knob::HedgeAfter, 1_000_099_000),
            Some(Varied::HedgeAfter(HedgeAt::percentile(99.0)))
        );
        assert_eq!(
            Varied::unpacked(Knob::HedgeAfter, 130),
            Some(Varied::HedgeAfter(HedgeAt::Ms(130)))
        );
        assert_eq!(Varied::unpacked(Knob::Rate, 750), Some(Varied::Rate(750)));
    }
}

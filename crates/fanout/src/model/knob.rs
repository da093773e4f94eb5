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
    /// `fault`: an injected fault's kind and share, as one value ([`Knob::show`] writes it as
    /// `reset 1%`; 0 is no fault).
    Fault,
    /// `hedge_after`: how long a request waits before its hedge goes — a fixed delay in ms,
    /// or a latency percentile ([`Knob::percentile_value`]; 0 is no hedging).
    #[serde(alias = "hedge_after_ms")]
    HedgeAfter,
}

/// A fault's value as a knob: (its kind's place in [`FaultKind::ALL`] + 1) × this, plus its
/// share in millionths.
const FAULT_KIND_STEP: u64 = 10_000_000;

/// A hedge percentile's value as a knob: this plus the percentile in thousandths (fixed
/// delays, in ms, stay below it).
const PERCENTILE_BASE: u64 = 1_000_000_000;

impl Knob {
    /// Every knob.
    pub const ALL: [Self; 5] = [
        Self::CpuUs,
        Self::ConnectDelayMs,
        Self::Rate,
        Self::Fault,
        Self::HedgeAfter,
    ];

    /// The value of `fault` (a kind and a share) as [`Knob::Fault`] holds it.
    pub fn fault_value(kind: FaultKind, p: f64) -> u64 {
        (kind.slot() as u64 + 1) * FAULT_KIND_STEP + (p.clamp(0.0, 1.0) * 1e6).round() as u64
    }

    /// The kind and share a [`Knob::Fault`] value stands for (`None` for 0, no fault).
    pub fn fault_of(value: u64) -> Option<(FaultKind, f64)> {
        let place = (value / FAULT_KIND_STEP).checked_sub(1)?;
        let kind = *FaultKind::ALL.get(usize::try_from(place).ok()?)?;
        Some((kind, (value % FAULT_KIND_STEP) as f64 / 1e6))
    }

    /// The value of `--hedge-after pNN` as [`Knob::HedgeAfter`] holds it: above every fixed
    /// delay, so a sweep of both shows the fixed delays first.
    pub fn percentile_value(percentile: f64) -> u64 {
        PERCENTILE_BASE + (percentile.clamp(0.0, 100.0) * 1e3).round() as u64
    }

    /// The percentile a [`Knob::HedgeAfter`] value stands for, if it is one.
    fn percentile_of(value: u64) -> Option<f64> {
        value.checked_sub(PERCENTILE_BASE).map(|p| p as f64 / 1e3)
    }

    /// A value of this knob as a table or an axis shows it.
    pub fn show(self, value: u64) -> String {
        match self {
            Self::Fault => match Self::fault_of(value) {
                None => "none".to_owned(),
                Some((kind, p)) => format!("{} {}%", kind.name(), p * 100.0),
            },
            Self::HedgeAfter => match Self::percentile_of(value) {
                _ if value == 0 => "none".to_owned(),
                Some(p) => format!("p{p}"),
                None => format!("{value} ms"),
            },
            _ => value.to_string(),
        }
    }

    /// Its value in `settings`.
    pub fn value(self, settings: &Settings) -> u64 {
        match self {
            Self::CpuUs => settings.cpu_us,
            Self::ConnectDelayMs => settings.connect_delay_ms,
            Self::Rate => settings
                .rate
                .as_ref()
                .map_or(0, |r| r.mean().round() as u64),
            Self::Fault => settings
                .fault
                .fault
                .map_or(0, |kind| Self::fault_value(kind, settings.fault.fault_p)),
            Self::HedgeAfter => match (settings.hedge_after_ms, settings.hedge_after_percentile) {
                (Some(ms), _) => ms,
                (None, Some(p)) => Self::percentile_value(p),
                (None, None) => 0,
            },
        }
    }

    /// `settings` with this knob at `value`.
    pub fn set(self, settings: &mut Settings, value: u64) {
        match self {
            Self::CpuUs => settings.cpu_us = value,
            Self::ConnectDelayMs => settings.connect_delay_ms = value,
            Self::Rate => {
                settings.rate = (value > 0).then_some(RateProfile::Constant(value as f64))
            }
            Self::Fault => match Self::fault_of(value) {
                None => settings.fault.fault = None,
                Some((kind, p)) => {
                    settings.fault.fault = Some(kind);
                    settings.fault.fault_p = p;
                }
            },
            Self::HedgeAfter => {
                let percentile = Self::percentile_of(value);
                settings.hedge_after_percentile = percentile;
                settings.hedge_after_ms = (value > 0 && percentile.is_none()).then_some(value);
            }
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
    fn a_fault_knob_value_sets_and_reads_back_its_kind_and_share() {
        let mut settings = crate::model::settings::Settings::default();
        assert_eq!(Knob::Fault.value(&settings), 0);
        for kind in FaultKind::ALL {
            for p in [0.01, 0.1, 1.0] {
                let value = Knob::fault_value(kind, p);
                Knob::Fault.set(&mut settings, value);
                assert_eq!(settings.fault.fault, Some(kind));
                assert_eq!(Knob::Fault.value(&settings), value);
            }
        }
        assert_eq!(
            Knob::Fault.show(Knob::fault_value(FaultKind::Reset, 0.01)),
            "reset 1%"
        );
        Knob::Fault.set(&mut settings, 0);
        assert_eq!(settings.fault.fault, None);
    }

    #[test]
    fn a_hedge_knob_holds_a_delay_or_a_percentile_and_reads_back() {
        let mut settings = crate::model::settings::Settings::default();
        let knob = Knob::HedgeAfter;
        knob.set(&mut settings, 40);
        assert_eq!(
            (settings.hedge_after_ms, settings.hedge_after_percentile),
            (Some(40), None)
        );
        assert_eq!(
            (knob.value(&settings), knob.show(40)),
            (40, "40 ms".to_owned())
        );
        let p999 = Knob::percentile_value(99.9);
        knob.set(&mut settings, p999);
        assert_eq!(
            (settings.hedge_after_ms, settings.hedge_after_percentile),
            (None, Some(99.9))
        );
        assert_eq!(
            (knob.value(&settings), knob.show(p999)),
            (p999, "p99.9".to_owned())
        );
        assert!(p999 > 3_600_000, "above every fixed delay");
        knob.set(&mut settings, 0);
        assert!(!settings.hedging());
        assert_eq!(knob.show(0), "none");
    }
}

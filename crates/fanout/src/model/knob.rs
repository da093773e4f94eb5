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
    /// `hedge_after_ms`: how long a request waits before its hedge goes (0 is no hedging).
    HedgeAfterMs,
}

/// A fault's value as a knob: (its kind's place in [`FaultKind::ALL`] + 1) × this, plus its
/// share in millionths.
const FAULT_KIND_STEP: u64 = 10_000_000;

impl Knob {
    /// Every knob.
    pub const ALL: [Self; 5] = [
        Self::CpuUs,
        Self::ConnectDelayMs,
        Self::Rate,
        Self::Fault,
        Self::HedgeAfterMs,
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

    /// A value of this knob as a table or an axis shows it.
    pub fn show(self, value: u64) -> String {
        match self {
            Self::Fault => match Self::fault_of(value) {
                None => "none".to_owned(),
                Some((kind, p)) => format!("{} {}%", kind.name(), p * 100.0),
            },
            Self::HedgeAfterMs if value == 0 => "none".to_owned(),
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
            Self::HedgeAfterMs => settings.hedge_after_ms.unwrap_or(0),
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
            Self::HedgeAfterMs => settings.hedge_after_ms = (value > 0).then_some(value),
        }
    }

    /// Its name in a point's JSON (and a table's column).
    pub fn key(self) -> &'static str {
        match self {
            Self::CpuUs => "cpu_us",
            Self::ConnectDelayMs => "connect_delay_ms",
            Self::Rate => "rate",
            Self::Fault => "fault",
            Self::HedgeAfterMs => "hedge_after_ms",
        }
    }

    /// What it is, for a chart's axis.
    pub fn label(self) -> &'static str {
        match self {
            Self::CpuUs => "CPU work per response, µs",
            Self::ConnectDelayMs => "connection set-up delay R, ms",
            Self::Rate => "offered rate, requests due per second",
            Self::Fault => "injected fault and its share of requests",
            Self::HedgeAfterMs => "hedge after, ms (none: no hedging)",
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
}

//! A setting a sweep can vary across points beside C (`--workload cpu`, `connect`, `rate`).

use serde::{Deserialize, Serialize};

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
}

impl Knob {
    /// Every knob.
    pub const ALL: [Self; 3] = [Self::CpuUs, Self::ConnectDelayMs, Self::Rate];

    /// Its value in `settings`.
    pub fn value(self, settings: &Settings) -> u64 {
        match self {
            Self::CpuUs => settings.cpu_us,
            Self::ConnectDelayMs => settings.connect_delay_ms,
            Self::Rate => settings
                .rate
                .as_ref()
                .map_or(0, |r| r.mean().round() as u64),
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
        }
    }

    /// Its name in a point's JSON (and a table's column).
    pub fn key(self) -> &'static str {
        match self {
            Self::CpuUs => "cpu_us",
            Self::ConnectDelayMs => "connect_delay_ms",
            Self::Rate => "rate",
        }
    }

    /// What it is, for a chart's axis.
    pub fn label(self) -> &'static str {
        match self {
            Self::CpuUs => "CPU work per response, µs",
            Self::ConnectDelayMs => "connection set-up delay R, ms",
            Self::Rate => "offered rate, requests due per second",
        }
    }
}

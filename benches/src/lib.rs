//! Support for fanout's criterion benchmarks: [`PeakRss`], a criterion `Measurement` whose
//! values are bytes.

use criterion::Throughput;
use criterion::measurement::{Measurement, ValueFormatter};

/// Peak resident memory of a worker process, in bytes, as a criterion measurement: the
/// `peak_rss` group's report draws memory in KiB/MiB/GiB, and `--save-baseline`/`--baseline`
/// compare memory between commits like time. Only `iter_custom` can produce its values (a
/// worker's `VmHWM` is read in the worker, not around a closure): `start`/`end` measure 1 byte
/// so that a misuse is visible and never a 0 sample, which would abort criterion's analysis.
#[derive(Debug, Clone, Copy, Default)]
pub struct PeakRss;

impl Measurement for PeakRss {
    type Intermediate = ();
    type Value = u64;

    fn start(&self) -> Self::Intermediate {}

    fn end(&self, (): Self::Intermediate) -> Self::Value {
        1
    }

    fn add(&self, v1: &Self::Value, v2: &Self::Value) -> Self::Value {
        v1.saturating_add(*v2)
    }

    fn zero(&self) -> Self::Value {
        0
    }

    fn to_f64(&self, value: &Self::Value) -> f64 {
        *value as f64
    }

    fn formatter(&self) -> &dyn ValueFormatter {
        &BytesFormatter
    }
}

/// Formats byte values in binary units.
#[derive(Debug, Clone, Copy, Default)]
pub struct BytesFormatter;

const UNITS: [(&str, f64); 4] = [
    ("GiB", 1024.0 * 1024.0 * 1024.0),
    ("MiB", 1024.0 * 1024.0),
    ("KiB", 1024.0),
    ("B", 1.0),
];

fn unit_for(typical: f64) -> (&'static str, f64) {
    UNITS
        .iter()
        .copied()
        .find(|(_, size)| typical >= *size)
        .unwrap_or(("B", 1.0))
}

impl ValueFormatter for BytesFormatter {
    fn scale_values(&self, typical_value: f64, values: &mut [f64]) -> &'static str {
        let (unit, size) = unit_for(typical_value);
        values.iter_mut().for_each(|v| *v /= size);
        unit
    }

    fn scale_throughputs(
        &self,
        typical_value: f64,
        _throughput: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        // Bytes per element or per byte have no meaning here; keep the values in bytes.
        let _ = typical_value;
        let _ = values;
        "B"
    }

    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "B"
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn byte_values_scale_to_the_unit_of_the_typical_value() {
        let mut values = [512.0 * 1024.0 * 1024.0, 256.0 * 1024.0 * 1024.0];
        assert_eq!(BytesFormatter.scale_values(values[0], &mut values), "MiB");
        assert_eq!(values, [512.0, 256.0]);
        let mut small = [2048.0];
        assert_eq!(BytesFormatter.scale_values(2048.0, &mut small), "KiB");
        assert_eq!(small, [2.0]);
        let mut huge = [3.0 * 1024.0 * 1024.0 * 1024.0];
        assert_eq!(BytesFormatter.scale_values(huge[0], &mut huge), "GiB");
        let mut tiny = [12.0];
        assert_eq!(BytesFormatter.scale_values(12.0, &mut tiny), "B");
        assert_eq!(
            BytesFormatter.format_value(5.0 * 1024.0 * 1024.0),
            "5.0000 MiB"
        );
    }

    #[test]
    fn every_typical_value_is_scaled_to_between_1_and_1024_of_its_unit() {
        let mut bytes = 1.0;
        while bytes < 64.0 * 1024.0 * 1024.0 * 1024.0 * 1024.0 {
            let mut values = [bytes];
            let unit = BytesFormatter.scale_values(bytes, &mut values);
            let largest = unit == "GiB";
            assert!(
                values[0] >= 1.0 && (values[0] < 1024.0 || largest),
                "{bytes} B → {} {unit}",
                values[0]
            );
            bytes *= 3.7;
        }
    }

    #[test]
    fn sums_saturate_instead_of_wrapping() {
        assert_eq!(PeakRss.add(&u64::MAX, &1), u64::MAX);
        assert_eq!(PeakRss.add(&2, &3), 5);
    }
}

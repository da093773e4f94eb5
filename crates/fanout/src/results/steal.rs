//! How much CPU the hypervisor gave to others while a run's points ran (steal), as one line:
//! on a virtual machine it slows every strategy alike, and a large share makes a run suspect.

use crate::record::report::PointReport;

/// "The hypervisor took …": the median and the largest steal per point, each as a share of
/// one core's time over the point's wall (the cores' steal summed); `None` when no point
/// recorded it (off Linux, or a run before steal was read).
pub fn line(points: &[PointReport]) -> Option<String> {
    let mut shares: Vec<(f64, &PointReport)> = points
        .iter()
        .filter_map(|r| {
            let wall = r.metered.process_wall_s.filter(|w| *w > 0.0)?;
            Some((r.steal_s? / wall, r))
        })
        .collect();
    if shares.is_empty() {
        return None;
    }
    shares.sort_by(|a, b| a.0.total_cmp(&b.0));
    let median = shares[shares.len() / 2].0;
    let (most, at) = shares[shares.len() - 1];
    Some(format!(
        "Steal (CPU time the hypervisor gave to others, from `/proc/stat`): a median {:.1}% of \
         one core's time per point, at most {:.1}% ({}/{}).",
        median * 100.0,
        most * 100.0,
        at.point.strategy.name,
        at.point.concurrency
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::planning::{catalog, point::Point};

    fn point(steal_s: Option<f64>, wall: f64) -> PointReport {
        let strategy = catalog::find("async_raw").expect("strategy");
        let mut r = PointReport::skipped(&Point::new(strategy, 10), String::new());
        r.steal_s = steal_s;
        r.metered.process_wall_s = Some(wall);
        r
    }

    #[test]
    fn steal_is_a_share_of_one_cores_time_over_each_points_wall() {
        let points = [
            point(Some(0.01), 1.0),
            point(Some(0.5), 10.0),
            point(None, 1.0),
        ];
        let said = line(&points).unwrap();
        assert!(said.contains("a median 5.0%"), "{said}");
        assert!(said.contains("at most 5.0%"), "{said}");
        assert_eq!(line(&[point(None, 1.0)]), None);
    }
}

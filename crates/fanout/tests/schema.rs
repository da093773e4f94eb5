//! The documented schema (`docs/schema.md`) and a point's JSON name the same keys: every key a
//! fully populated report serializes is documented, and every documented key is serialized.

use std::collections::BTreeSet;

use fanout::metering::outside::Metered;
use fanout::model::client_config::ClientConfig;
use fanout::model::knob::{FaultShare, Varied};
use fanout::model::limit::Limit;
use fanout::model::memory::{Breakdown, KernelGrowth, TimelineSample};
use fanout::model::worker_report::{PeerConfig, WorkerReport};
use fanout::os::ListenCounters;
use fanout::planning::catalog;
use fanout::planning::point::Point;
use fanout::record::report::{Outcome, PointReport};
use fanout::results::csv::flatten;

/// A report with every optional part present (a failed point, so `reason` is there too).
fn full_report() -> PointReport {
    let mut point = Point::new(catalog::find("thread_pool").expect("strategy"), 10);
    point.settings.loopback_addresses = Some(16);
    point.vary(Varied::Fault(Some(FaultShare::of(
        mock_server::FaultKind::Reset,
        0.01,
    ))));
    let held = fanout::model::leftovers::Held {
        open_fds: Some(1),
        threads: Some(1),
        rss_bytes: 1,
        heap_live_bytes: Some(1),
    };
    let mut worker = WorkerReport {
        wall_s: 0.3,
        own_peak_rss_bytes: Some(1),
        heap_before_bytes: Some(1),
        heap_peak_bytes: Some(1),
        allocations: Some(1),
        allocated_bytes: Some(1),
        meter_cpu_s: Some(0.01),
        timed_cpu_user_s: Some(0.1),
        timed_cpu_sys_s: Some(0.1),
        strategy_error: Some("stopped".into()),
        cpu_work_us: Some(1.0),
        leftovers: Some(fanout::model::leftovers::Leftovers {
            before: held,
            after: held,
            settled_ms: 1.0,
        }),
        client_config: Some(ClientConfig {
            tls: Some("rustls".into()),
            runtime: Some("may".into()),
            reqwest_pool: Some(String::new()),
            ureq_pool: Some(String::new()),
            ureq_buffer_bytes: Some(1),
            reqwest_buffer: Some(String::new()),
            ..ClientConfig::default()
        }),
        peer: Some(PeerConfig {
            models: String::new(),
            versions: [("python".to_owned(), "3".to_owned())].into(),
        }),
        ..WorkerReport::default()
    };
    let kernel = KernelGrowth {
        slab_object_bytes: Some(1 << 20),
        slab_caches: [("TCP".to_owned(), 1 << 20)].into(),
        ..KernelGrowth::default()
    };
    worker.tally.errors = [("timeout".to_owned(), 1)].into();
    worker.tally.setup_errors = [("thread_spawn".to_owned(), 1)].into();
    worker.tally.intervals = vec![fanout::model::intervals::Interval::default()];
    worker.tally.latency_histogram = Some("HISTFAAAAA==".to_owned());
    PointReport {
        point,
        repeat: 1,
        outcome: Outcome::Failed("why".into()),
        ideal_s: 0.2,
        efficiency: 0.5,
        throughput_rps: 1.0,
        allocs_per_request: Some(1.0),
        alloc_bytes_per_request: Some(1.0),
        worker,
        metered: Metered {
            process_wall_s: Some(1.0),
            peak_rss_bytes: Some(1),
            peak_threads: Some(1),
            breakdown: Some(Breakdown {
                client_kernel: Some(fanout::model::memory::ClientKernel {
                    kernel_bytes: 1,
                    tcp_bytes: 1,
                }),
                ..Breakdown::of(1, 1, Some(1), 1, Some(1), Some(kernel), 1.0)
            }),
            cgroup_peaks: Some(fanout::model::memory::CgroupPeaks {
                kernel_bytes: 1,
                memory_bytes: 1,
            }),
            cgroup_missing: Some("why".into()),
            ..Metered::default()
        },
        server: Some(mock_server::StatsSnapshot {
            peak_rss_bytes: Some(1),
            cpu_s: Some(1.0),
            open_fds: Some(1),
            destinations_used: 1,
            profile: Some(mock_server::Profile::Nginx),
            limits: Some(mock_server::Profile::Nginx.limits()),
            ..Default::default()
        }),
        listen: ListenCounters::default(),
        ports: fanout::model::ports_before::PortsBefore {
            time_wait_before: Some(1),
            ports_waited_s: 1.0,
            destinations: 16,
            destination: Some("127.0.0.2:1".into()),
            held_at_destination: Some(1),
        },
        limit: Some(Limit::MaxMapCount),
        limit_value: Some(65_530),
        steal_s: Some(0.1),
        server_missing: Some("why".into()),
        raised_limits: vec![fanout::model::limit::RaisedLimit {
            setting: "kernel.pid_max".into(),
            was: 32_768,
            to: 200_032,
        }],
        timeline: vec![TimelineSample::default()],
        // Not the first: a line carries it only then.
        measurement_version: 2,
    }
}

/// A key with its map-named part in capitals, as the schema writes it.
fn generic(key: &str) -> String {
    for (map, name) in [
        ("errors.", "KIND"),
        ("setup_errors.", "KIND"),
        ("peer.versions.", "NAME"),
        ("breakdown.kernel.slab_caches.", "CACHE"),
        ("varied.", "KNOB"),
    ] {
        if key.starts_with(map) {
            return format!("{map}{name}");
        }
    }
    key.to_owned()
}

/// The keys the schema's tables of fields document: every `key` in a row's first cell, before
/// the table of figures (derived from these fields, generated from their definitions).
fn documented() -> BTreeSet<String> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../docs/schema.md");
    let text = std::fs::read_to_string(path).expect("docs/schema.md");
    let fields = text
        .split("<!-- fanout:figures -->")
        .next()
        .unwrap_or_default();
    let mut keys = BTreeSet::new();
    for row in fields.lines().filter(|l| l.starts_with("| `")) {
        let first = row.split('|').nth(1).unwrap_or_default();
        for (i, part) in first.split('`').enumerate() {
            if i % 2 == 1 {
                keys.insert(part.to_owned());
            }
        }
    }
    keys
}

#[test]
fn every_serialized_key_is_documented_and_every_documented_key_serialized() {
    let json = serde_json::to_value(full_report()).expect("json");
    let serialized: BTreeSet<String> = flatten(&json).iter().map(|(k, _)| generic(k)).collect();
    let documented = documented();
    let undocumented: Vec<_> = serialized.difference(&documented).collect();
    assert!(
        undocumented.is_empty(),
        "in a point's JSON but not in docs/schema.md: {undocumented:?}"
    );
    let stale: Vec<_> = documented.difference(&serialized).collect();
    assert!(
        stale.is_empty(),
        "in docs/schema.md but not in a point's JSON: {stale:?}"
    );
}

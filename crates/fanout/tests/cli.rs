//! The `fanout` binary end to end: `run --json` starts its own server, runs a fresh worker and
//! reports every figure; bad input gets one clear line and a non-zero exit.

mod common;
use common::{accounted, fails, fails_with, fanout, succeeds, succeeds_with};

/// `fanout run --json` of `strategy` at C = 5, N = 15, D = 50 ms against its own server.
fn small_run(strategy: &str) -> String {
    succeeds(&[
        "run",
        "--json",
        "-s",
        strategy,
        "-c",
        "5",
        "-n",
        "15",
        "--delay-ms",
        "50",
    ])
}

#[test]
fn run_json_reports_every_figure_with_ok_plus_errors_equal_to_n() {
    let stdout = small_run("thread_pool");
    let r: serde_json::Value = serde_json::from_str(stdout.trim()).expect("one JSON object");
    for key in [
        "strategy",
        "concurrency",
        "requests",
        "delay_ms",
        "ok",
        "errors",
        "wall_s",
        "ideal_s",
        "efficiency",
        "throughput_rps",
        "rss_before_bytes",
        "peak_rss_bytes",
        "peak_threads",
        "cpu_user_s",
        "cpu_sys_s",
        "ctx_voluntary",
        "ctx_involuntary",
        "latency_ms",
        "server",
        "listen_overflows",
        "client_config",
        "heap_peak_bytes",
        "allocations",
        "allocs_per_request",
    ] {
        assert!(r.get(key).is_some(), "missing {key} in {r}");
    }
    assert_eq!(r["status"], "measured");
    assert_eq!(r["strategy"], "thread_pool");
    assert_eq!(accounted(&r), 15, "ok + errors + dropped = N: {r}");
    assert_eq!(r["server"]["requests_served"], 15);
    assert_eq!(r["server"]["peak_in_flight"], 5);
    assert!((r["ideal_s"].as_f64().expect("ideal") - 0.15).abs() < 1e-9);
    // The worker's own figures: a pool of 5 threads plus main, memory above what it started with.
    assert!(r["peak_threads"].as_u64().expect("threads") >= 6, "{r}");
    assert!(
        r["peak_rss_bytes"].as_u64() > r["rss_before_bytes"].as_u64(),
        "{r}"
    );
    // The timeline's sampled RSS (read by the harness from /proc/PID) is the worker's: never
    // above the kernel's high-water mark (1 MiB for /proc's per-CPU counters), and of its
    // size (the runtime and binary are most of it) — a sample may miss the peak itself on a
    // run this short, so no closer bound.
    let timeline = r["timeline"].as_array().expect("timeline");
    let sampled_peak = timeline
        .iter()
        .filter_map(|s| s["rss_bytes"].as_u64())
        .max()
        .expect("samples") as f64;
    let peak = r["peak_rss_bytes"].as_u64().expect("peak") as f64;
    assert!(
        sampled_peak <= peak + (1 << 20) as f64 && sampled_peak >= peak / 2.0,
        "sampled {sampled_peak}, VmHWM {peak}"
    );
    // The binary counts its worker's heap: every request allocates (ureq's buffers at least).
    assert!(r["allocs_per_request"].as_f64() > Some(1.0), "{r}");
    assert!(r["heap_peak_bytes"].as_u64() > Some(0), "{r}");
    // The meter inside the worker reports its own CPU, a part of the process's.
    let meter = r["meter_cpu_s"].as_f64().expect("meter_cpu_s");
    let cpu = r["cpu_user_s"].as_f64().expect("cpu") + r["cpu_sys_s"].as_f64().expect("cpu");
    assert!(meter > 0.0 && meter < cpu, "meter {meter} s of {cpu} s");
    // The harness split the worker's memory from outside while it held its 5.
    assert_eq!(r["breakdown"]["in_flight"], 5, "{r}");
}

#[test]
fn a_point_run_into_a_low_open_file_limit_names_the_limit() {
    // The limit lowered for fanout and everything it starts (the server too), hard and soft,
    // so fanout cannot raise it back; --force runs the point the preflight would refuse.
    let script = format!(
        "ulimit -n 120 && exec {} run -s async_raw -c 200 -n 200 --delay-ms 50 --timeout-ms 5000 --force --json",
        env!("CARGO_BIN_EXE_fanout")
    );
    let out = std::process::Command::new("sh")
        .args(["-c", &script])
        .output()
        .expect("sh");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let r: serde_json::Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{e}: {stdout} {}", String::from_utf8_lossy(&out.stderr)));
    assert_eq!(r["limit"], "open_files", "{r}");
    assert_eq!(accounted(&r), 200, "ok + errors + dropped = N: {r}");
}

#[test]
fn a_point_that_cannot_finish_in_the_time_limit_is_skipped_with_its_reason() {
    let out = fanout(&[
        "run",
        "-s",
        "sequential",
        "-c",
        "1000",
        "--delay-ms",
        "100",
        "--time-limit-s",
        "5",
    ]);
    assert_eq!(out.status.code(), Some(2));
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("skipped: needs at least 200 s"), "{stdout}");
}

#[test]
fn a_server_with_nothing_listening_is_a_clear_error() {
    let out = fanout(&[
        "run",
        "-s",
        "thread_pool",
        "-c",
        "2",
        "--url",
        "http://127.0.0.1:9",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1));
    assert!(
        stderr.contains("mock server at http://127.0.0.1:9 is not answering"),
        "{stderr}"
    );
}

#[test]
fn bad_input_gets_one_clear_line_and_a_non_zero_exit() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["run", "-s", "nope", "-c", "10"],
            "unknown strategy \"nope\"; valid: sequential, ",
        ),
        (
            &["sweep", "--plan", "/nonexistent/plan.json"],
            "--plan /nonexistent/plan.json: cannot read it",
        ),
        (
            &["sweep", "--plan", "Cargo.toml"],
            "not a fanout plan (see `fanout sweep --print-plan`)",
        ),
        (
            &["run", "-s", "thread_pool", "-c", "0"],
            "invalid value '0' for '--concurrency",
        ),
        (
            &["run", "-s", "thread_pool", "-c", "-5"],
            "unexpected argument '-5'",
        ),
        (
            &["run", "-s", "thread_pool", "-c", "ten"],
            "invalid value 'ten' for '--concurrency",
        ),
        (
            &[
                "run",
                "-s",
                "thread_pool",
                "-c",
                "10",
                "--delay-ms",
                "99999",
            ],
            "--delay-ms",
        ),
        (
            &[
                "run",
                "-s",
                "thread_pool",
                "-c",
                "10",
                "--delay-ms",
                "500",
                "--timeout-ms",
                "500",
            ],
            "--timeout-ms 500 must be above the delay (500 ms)",
        ),
        (
            &["run", "-s", "thread_pool", "-c", "10", "--stack-kib", "1"],
            "--stack-kib",
        ),
        (
            &[
                "run",
                "-s",
                "thread_pool",
                "-c",
                "10",
                "--url",
                "http://127.0.0.1:9",
                "--loopback-addresses",
                "2",
            ],
            "--loopback-addresses sets up the server fanout starts",
        ),
        (
            &[
                "run",
                "-s",
                "async_raw",
                "-c",
                "10",
                "--hedge-max-extra",
                "5",
            ],
            "--hedge-max-extra 5 bounds hedges, but no point hedges",
        ),
        (
            &["sweep", "--quick", "--hedge-max-extra", "5"],
            "--hedge-max-extra 5 bounds hedges, but no point hedges",
        ),
        (
            &["run", "-s", "async_raw", "-c", "10", "--straggler-p", "2"],
            "--straggler-p must be a number from 0 to 1",
        ),
        (
            &["sweep", "--concurrency", "10,abc"],
            "invalid value 'abc' for '--concurrency",
        ),
        (
            &["sweep", "--strategies", "thread_pool,nope"],
            "unknown strategy \"nope\"; valid: all, ",
        ),
        (
            &["sweep", "--repeat", "0"],
            "invalid value '0' for '--repeat",
        ),
        (
            &["sweep", "--concurrency", "10000", "--timeout-ms", "1000"],
            "--timeout-ms 1000 must be above the delay of every point (2000 ms at C = 10000)",
        ),
        (
            &["resume", "/nonexistent-run", "--repeat", "2"],
            "unexpected argument '--repeat'",
        ),
        (
            &["resume", "/nonexistent-run"],
            "/nonexistent-run/plan.json: not a run folder to resume",
        ),
        (
            &["compare", "/nonexistent-a", "/nonexistent-b"],
            "/nonexistent-a: No such file or directory",
        ),
        (
            &["compare", "/a", "/b", "--fail-above", "ten"],
            "\"ten\" is not a percentage",
        ),
        (
            &["run", "-s", "thread_pool", "-c", "10", "--cpu-us=-1"],
            "invalid value '-1' for '--cpu-us <CPU_US>'",
        ),
        (
            &[
                "run",
                "-s",
                "thread_pool",
                "-c",
                "10",
                "--cpu-us",
                "5000000",
            ],
            "5000000 is not in 0..=1000000",
        ),
        (
            &["run", "-s", "thread_pool", "-c", "10", "--delay-sigma", "9"],
            "must be a number from 0.05 to 3",
        ),
        (
            &[
                "run",
                "-s",
                "thread_pool",
                "-c",
                "10",
                "--delay-dist",
                "pareto",
            ],
            "invalid value 'pareto' for '--delay-dist <DELAY_DIST>'",
        ),
        (
            &["run", "-s", "thread_pool", "-c", "10", "--jitter-ms", "500"],
            "--jitter-ms 500 must be at most the delay (100 ms at C = 10)",
        ),
        (
            &[
                "run",
                "-s",
                "thread_pool",
                "-c",
                "10",
                "--connect-delay-ms",
                "30000",
            ],
            "--timeout-ms 30000 must be above the delay (30100 ms)",
        ),
        (
            &["sweep", "--workload", "gpu"],
            "invalid value 'gpu' for '--preset <PRESET>'",
        ),
        (
            &["run", "-s", "async_raw", "-c", "10", "--fault", "explode"],
            "invalid value 'explode' for '--fault <FAULT>'",
        ),
        (
            &[
                "run",
                "-s",
                "async_raw",
                "-c",
                "10",
                "--fault",
                "reset",
                "--fault-p",
                "1.5",
            ],
            "--fault-p must be a number from 0 to 1, got \"1.5\"",
        ),
        (
            &[
                "run",
                "-s",
                "async_raw",
                "-c",
                "10",
                "--fault",
                "status",
                "--fault-code",
                "404",
            ],
            "invalid value '404' for '--fault-code <FAULT_CODE>': 404 is not in 500..=599",
        ),
        (
            &[
                "run",
                "-s",
                "async_raw",
                "-c",
                "10",
                "--fault",
                "trickle",
                "--fault-trickle-ms",
                "0",
            ],
            "invalid value '0' for '--fault-trickle-ms <FAULT_TRICKLE_MS>'",
        ),
        (
            &["run", "-s", "async_raw", "-c", "10", "--fault-p", "0.5"],
            "the following required arguments were not provided",
        ),
        (
            &[
                "sweep",
                "--fault",
                "stall",
                "--fault-after-ms",
                "2000",
                "--fault-until-ms",
                "1000",
            ],
            "--fault-until-ms 1000 must be after --fault-after-ms 2000",
        ),
        (
            &["report", "/nonexistent-run"],
            "/nonexistent-run: not a run folder",
        ),
    ];
    for (args, message) in cases {
        let stderr = fails(args);
        assert!(stderr.contains(message), "{args:?}: {stderr}");
    }
}

#[test]
fn list_names_every_strategy_and_peer() {
    let stdout = succeeds(&["list"]);
    let names: Vec<_> = stdout
        .lines()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    let strategies = fanout::strategies::ALL.iter().map(|s| &s.subject);
    let peers = fanout::peers::all().map(|p| &p.subject);
    for s in strategies.chain(peers) {
        assert!(names.contains(&s.name), "{} not listed: {stdout}", s.name);
    }
    assert!(stdout.contains("installed by scripts/peers.sh"), "{stdout}");
}

#[test]
fn the_fanout_variables_set_what_the_flags_set() {
    let stderr = fails_with(
        &["doctor", "--strategies", "thread_pool"],
        &[("FANOUT_CONCURRENCY", "10,abc")],
    );
    assert!(
        stderr.contains("invalid value 'abc' for '--concurrency"),
        "{stderr}"
    );
    let out = succeeds_with(
        &[
            "run",
            "--json",
            "-s",
            "async_semaphore",
            "-c",
            "3",
            "-n",
            "3",
        ],
        &[("FANOUT_DELAY_MS", "7"), ("FANOUT_BODY_BYTES", "100")],
    );
    let r: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
    assert_eq!(
        (r["delay_ms"].as_u64(), r["body_bytes"].as_u64()),
        (Some(7), Some(100))
    );
    assert_eq!(r["ok"], 3, "{r}");
}

/// Twelve points of the reference run of 2026-11-23, in that run's (earlier) layout.
const FIXTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/run-2026-11-23/points.jsonl"
);

#[test]
fn compare_flags_the_one_point_made_slower_and_fails_above_a_threshold() {
    let scratch = tempfile::tempdir().expect("a temporary folder");
    let dir = scratch.path();
    // The same run with thread_pool at C = 10,000 three times slower in every repeat.
    let slower: Vec<String> = std::fs::read_to_string(FIXTURE)
        .expect("fixture")
        .lines()
        .map(|line| {
            let mut r: serde_json::Value = serde_json::from_str(line).expect("json");
            if r["strategy"] == "thread_pool" && r["concurrency"] == 10_000 {
                let wall = r["wall_s"].as_f64().expect("wall");
                r["wall_s"] = (wall * 3.0).into();
            }
            r.to_string()
        })
        .collect();
    let new = dir.join("points.jsonl");
    std::fs::write(&new, slower.join("\n")).expect("write");
    let new = new.to_str().expect("utf-8");
    let stdout = succeeds(&["compare", FIXTURE, new]);
    let flagged: Vec<&str> = stdout
        .lines()
        .filter(|l| l.contains('▲') || l.contains('▼'))
        .collect();
    assert_eq!(flagged.len(), 1, "one change beyond the noise: {stdout}");
    assert!(
        flagged[0].contains("| thread_pool | 10000 | wall |"),
        "{stdout}"
    );
    // A regression above 50% fails.
    fails(&["compare", FIXTURE, new, "--fail-above", "50"]);
}

#[test]
fn every_committed_run_folder_reads_and_redraws_to_what_is_committed() {
    // `fanout report` on a copy of each committed folder: every line must parse, and the
    // summary, CSV, page and charts it draws must be the committed ones — a renderer changed
    // without its folders redrawn fails here.
    let results = concat!(env!("CARGO_MANIFEST_DIR"), "/../../results");
    let scratch = tempfile::tempdir().expect("a temporary folder");
    let mut redrawn = 0;
    for entry in std::fs::read_dir(results).expect("results/") {
        let dir = entry.expect("entry").path();
        if !dir.join("points.jsonl").is_file() {
            continue;
        }
        let copy = scratch.path().join(dir.file_name().expect("a folder name"));
        std::fs::create_dir_all(&copy).expect("scratch folder");
        for file in std::fs::read_dir(&dir).expect("folder") {
            let file = file.expect("entry").path();
            if file.is_file() {
                std::fs::copy(&file, copy.join(file.file_name().expect("name"))).expect("copy");
            }
        }
        succeeds(&["report", copy.to_str().expect("utf-8")]);
        for file in std::fs::read_dir(&dir).expect("folder") {
            let file = file.expect("entry").path();
            let name = file
                .file_name()
                .expect("name")
                .to_string_lossy()
                .into_owned();
            let drawn = ["findings.json", "summary.md", "points.csv", "index.html"]
                .contains(&name.as_str())
                || name.ends_with(".svg");
            if drawn {
                let committed = std::fs::read(&file).expect("committed file");
                let again = std::fs::read(copy.join(&name)).expect("redrawn file");
                assert!(
                    committed == again,
                    "{}/{name} differs from its redraw: `fanout report {}`",
                    dir.display(),
                    dir.display()
                );
            }
        }
        redrawn += 1;
    }
    assert!(redrawn > 0, "no committed run folder found under {results}");
}

#[test]
fn each_point_goes_to_the_loopback_address_its_predecessors_left_clearest_and_spreads() {
    let scratch = tempfile::tempdir().expect("a temporary folder");
    let out = scratch.path().join("run");
    succeeds(&[
        "sweep",
        "--strategies",
        "thread_raw",
        "--concurrency",
        "4,5",
        "--requests-per-slot",
        "2",
        "--delay-ms",
        "0",
        "--repeat",
        "1",
        "--loopback-addresses",
        "4",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    let points: Vec<serde_json::Value> = std::fs::read_to_string(out.join("points.jsonl"))
        .expect("points.jsonl")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    assert_eq!(points.len(), 2);
    for p in &points {
        assert_eq!(p["destinations"], 4, "{p}");
        assert_eq!(p["ok"], p["requests"], "{p}");
        // Its connections took the 4 addresses in turn, by the server's count (a slot whose
        // thread started after the others had taken its requests opens none).
        let (used, opened) = (
            p["server"]["destinations_used"].as_u64().expect("counted"),
            p["server"]["connections_accepted"]
                .as_u64()
                .expect("counted"),
        );
        assert!(opened >= 1 && used >= opened.min(4) && used <= 4, "{p}");
    }
    // The first point's closed connections stay in TIME_WAIT for a minute, one at each
    // address, and 127.0.0.1 (where the harness's /stats connections go, a new one each
    // point) holds more: the first point went there, the second is sent elsewhere.
    let (first, second) = (&points[0]["destination"], &points[1]["destination"]);
    assert!(
        first.as_str().is_some_and(|d| d.starts_with("127.0.0.")),
        "{first}"
    );
    assert_ne!(first, second);
}

#[test]
fn the_floor_strategies_hold_c_by_the_servers_count() {
    for strategy in ["thread_raw", "async_raw"] {
        let out = small_run(strategy);
        let r: serde_json::Value = serde_json::from_str(&out).expect("one JSON object");
        assert_eq!(r["ok"], 15, "{r}");
        assert_eq!(r["server"]["peak_in_flight"], 5, "{r}");
        assert_eq!(r["server"]["connections_accepted"], 5, "{r}");
    }
}

/// `fanout run --json` of `strategy` at C = 4, N = 40, D = 0 with these extra flags.
fn run_json(strategy: &str, extra: &[&str]) -> serde_json::Value {
    let mut args = vec!["run", "--json", "-s", strategy, "-c", "4", "-n", "40"];
    args.extend(["--delay-ms", "0"]);
    args.extend(extra);
    serde_json::from_str(&succeeds(&args)).expect("json")
}

#[test]
fn the_cpu_work_per_response_is_really_spent() {
    // 20 ms of hashing per response, 40 responses: at least 0.8 s of CPU more than none.
    for strategy in ["thread_pool", "async_semaphore", "async_cpu_offload"] {
        let idle = run_json(strategy, &[]);
        let busy = run_json(strategy, &["--cpu-us", "20000"]);
        let cpu = |r: &serde_json::Value| {
            r["cpu_user_s"].as_f64().expect("user") + r["cpu_sys_s"].as_f64().expect("sys")
        };
        let more = cpu(&busy) - cpu(&idle);
        // Half the calibrated work as the bar: a machine busy elsewhere slows it, never
        // shortens it (CPU time, not wall time).
        assert!(more >= 0.4, "{strategy}: {more:.3} s more CPU");
        assert!(
            busy["cpu_work_us"].as_f64().is_some(),
            "the calibration is reported"
        );
        assert_eq!(busy["ok"], 40, "{strategy}");
        assert!(idle.get("cpu_work_us").is_none());
    }
}

#[test]
fn the_connection_delay_is_paid_once_per_connection_by_the_servers_count() {
    // A pool of 4 connections pays it 4 times; a client per request, 40 times.
    let pooled = run_json("thread_pool", &["--connect-delay-ms", "20"]);
    assert_eq!(pooled["server"]["connections_accepted"], 4);
    assert_eq!(pooled["server"]["connections_delayed"], 4);
    let fresh = run_json("pitfall_client_per_request", &["--connect-delay-ms", "20"]);
    assert_eq!(fresh["server"]["connections_delayed"], 40);
    assert_eq!(
        (pooled["ok"].as_u64(), fresh["ok"].as_u64()),
        (Some(40), Some(40))
    );
}

#[test]
fn ab_pairs_the_rounds_of_two_sides_and_keeps_each_sides_points() {
    let scratch = tempfile::tempdir().expect("a temporary folder");
    let out = scratch.path().join("ab");
    let table = succeeds(&[
        "ab",
        ".",
        ".",
        "-s",
        "thread_raw",
        "-c",
        "2",
        "-n",
        "4",
        "--rounds",
        "2",
        "--args",
        "--delay-ms 0",
        "--new-args",
        "--cpu-us 1",
        "--out",
        out.to_str().expect("utf-8"),
    ]);
    for figure in ["wall", "cpu_per_request", "peak_rss", "p99"] {
        assert!(
            table.contains(&format!("| thread_raw/2 | {figure} | 2 |")),
            "{table}"
        );
    }
    assert!(
        table.contains("NEW: this build with `--cpu-us 1`"),
        "{table}"
    );
    for side in ["old", "new"] {
        let points = std::fs::read_to_string(out.join(side).join("points.jsonl")).expect(side);
        let rounds: Vec<u64> = points
            .lines()
            .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("json"))
            .map(|r| r["repeat"].as_u64().expect("repeat"))
            .collect();
        assert_eq!(rounds, [1, 2], "{side}: each round a repeat");
    }
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("ab.json")).expect("ab.json"))
            .expect("json");
    assert_eq!(json["rows"].as_array().map(Vec::len), Some(4), "{json}");

    let stderr = fails(&["ab", "nowhere", "."]);
    assert!(
        stderr.contains("nowhere: neither `.` (this build), git:REV"),
        "{stderr}"
    );
    let stderr = fails(&["ab", ".", ".", "-s", "no_such"]);
    assert!(stderr.contains("unknown strategy"), "{stderr}");
    // NEW cannot run the point (thread_raw speaks HTTP/1.1 only): nothing is compared, and
    // that is a failure, not an empty report.
    let stderr = fails(&[
        "ab",
        ".",
        ".",
        "-s",
        "thread_raw",
        "-c",
        "2",
        "-n",
        "2",
        "--rounds",
        "2",
        "--new-args",
        "--protocol h2",
        "--out",
        scratch.path().join("h2").to_str().expect("utf-8"),
    ]);
    assert!(
        stderr.contains("no point was measured on both sides"),
        "{stderr}"
    );
}

#[test]
fn a_reader_that_stops_early_ends_a_printing_command_quietly() {
    // A pipe whose reader is gone before the command writes, as `| head` leaves it: each
    // write meets a broken pipe, which ends the listing with success, not a panic.
    let (reader, writer) = std::io::pipe().expect("a pipe");
    drop(reader);
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_fanout"))
        .arg("list")
        .stdout(writer)
        .output()
        .expect("fanout list");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stderr.is_empty(),
        "{:?}: {stderr}",
        out.status
    );
}

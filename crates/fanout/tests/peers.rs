//! The peer protocol end to end, with a fake peer (a shell script of the test's own, named by
//! `FANOUT_PEER_FAKE`): a peer's report is read, its missing requests counted, and a peer that
//! crashes, hangs, prints garbage or breaks the protocol is a failed point with the reason —
//! never a crashed run or sweep. The process is metered from outside like fanout's own worker.

use std::path::PathBuf;
use std::process::Command;

use serde_json::Value;

/// A fake peer: `body` as an executable shell script in a temporary folder (gone when the
/// folder is dropped), and the script's path.
fn fake_peer(name: &str, body: &str) -> (tempfile::TempDir, PathBuf) {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join(name);
    std::fs::write(&path, format!("#!/bin/sh\n{body}\n")).expect("write the fake peer");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).expect("chmod");
    (dir, path)
}

/// `fanout run --json -s peer:fake` at C = 4, N = 8, D = 0 with `script` as the peer; the
/// exit status and the report.
fn run_fake(name: &str, script: &str, extra: &[&str]) -> (bool, Value) {
    let (_dir, peer) = fake_peer(name, script);
    let out = Command::new(env!("CARGO_BIN_EXE_fanout"))
        .args(["run", "--json", "-s", "peer:fake", "-c", "4", "-n", "8"])
        .args(["--delay-ms", "0"])
        .args(extra)
        .env("FANOUT_PEER_FAKE", &peer)
        .output()
        .expect("run fanout");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let report: Value = serde_json::from_str(stdout.trim())
        .unwrap_or_else(|e| panic!("{e}: {stdout} {}", String::from_utf8_lossy(&out.stderr)));
    (out.status.success(), report)
}

fn ok_plus_errors(report: &Value) -> u64 {
    let errors: u64 = report["errors"]
        .as_object()
        .expect("errors")
        .values()
        .map(|n| n.as_u64().expect("count"))
        .sum();
    report["ok"].as_u64().expect("ok") + errors
}

#[test]
fn a_peers_line_is_read_and_its_process_metered_from_outside() {
    // Checks its arguments, spends some CPU, reports, then waits for stdin like the real peers.
    let script = r#"[ "$2 $3 $4" = "4 8 30000" ] || { echo "bad arguments: $*" >&2; exit 9; }
case "$1" in http://127.0.0.1:*/get\?*) ;; *) echo "bad URL $1" >&2; exit 9;; esac
i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done
echo 'a log line'
echo '{"ok":8,"errors":{},"wall_s":0.25,"latencies_ms":[1,2,3,4,5,6,7,100],"rss_before_bytes":1000,"versions":{"fake":"1.0"}}'
cat > /dev/null"#;
    let (success, r) = run_fake("ok", script, &[]);
    assert!(success, "{r}");
    assert_eq!(r["status"], "measured");
    assert_eq!(r["strategy"], "peer:fake");
    assert_eq!((r["ok"].as_u64(), ok_plus_errors(&r)), (Some(8), 8));
    assert_eq!(
        r["wall_s"], 0.25,
        "wall time is the peer's own timed region"
    );
    // Percentiles as fanout computes its own (HdrHistogram, 3 significant digits).
    let max = r["latency_ms"]["max"].as_f64().expect("max");
    assert!((max - 100.0).abs() < 0.1, "{max}");
    assert_eq!(r["peer"]["versions"]["fake"], "1.0");
    // From outside: the whole process's wall, its CPU, memory and threads.
    assert!(r["process_wall_s"].as_f64().expect("process wall") > 0.0);
    let cpu = r["cpu_user_s"].as_f64().expect("cpu") + r["cpu_sys_s"].as_f64().expect("cpu");
    assert!(cpu > 0.0, "{r}");
    assert!(r["peak_rss_bytes"].as_u64().expect("peak") > 1000, "{r}");
    assert_eq!(
        r["peak_rss_read_at_report"], true,
        "read while `cat` held it"
    );
    assert_eq!(r["peak_threads"], 1);
}

#[test]
fn requests_a_peer_did_not_account_for_are_errors_and_its_kinds_are_kept() {
    let line = r#"{"ok":5,"errors":{"timeout":2},"wall_s":0.1,"latency_ms":{"p50":1,"p90":2,"p99":3,"max":4}}"#;
    let (success, r) = run_fake("errors", &format!("echo '{line}'"), &[]);
    assert!(success, "a measured point, errors and all: {r}");
    assert_eq!(r["status"], "measured");
    assert_eq!(r["errors"]["timeout"], 2);
    assert_eq!(r["errors"]["not_run"], 1);
    assert_eq!(ok_plus_errors(&r), 8);
    assert_eq!(r["latency_ms"]["p99"], 3.0);
}

#[test]
fn a_peer_that_crashes_hangs_or_breaks_the_protocol_is_a_failed_point_with_the_reason() {
    let cases = [
        ("crash", "echo 'dying' >&2; exit 3", "peer exit status: 3"),
        (
            "garbage",
            "echo 'not json at all'",
            "printed no report line",
        ),
        (
            "protocol",
            r#"echo '{"ok":"eight","errors":{},"wall_s":1}'"#,
            "does not follow the protocol",
        ),
        (
            "too_many",
            r#"echo '{"ok":9,"errors":{},"wall_s":1}'"#,
            "9 outcomes for 8 requests",
        ),
        ("hang", "sleep 60", "killed after the 1 s time limit"),
    ];
    for (name, script, why) in cases {
        let (success, r) = run_fake(name, script, &["--time-limit-s", "1"]);
        assert!(!success, "{name}: {r}");
        assert_eq!(r["status"], "failed", "{name}: {r}");
        let reason = r["reason"].as_str().expect("reason");
        assert!(reason.contains(why), "{name}: {reason}");
        assert_eq!(
            r["errors"]["worker_failed"], 8,
            "{name}: every request lost"
        );
        assert_eq!(ok_plus_errors(&r), 8);
    }
}

#[test]
fn a_sweep_goes_on_past_a_failing_peer_and_keeps_every_point() {
    let (scratch, peer) = fake_peer("sweep_crash", "exit 1");
    let dir = scratch.path().join("sweep");
    let out = Command::new(env!("CARGO_BIN_EXE_fanout"))
        .args(["sweep", "--strategies", "peer:fake,thread_pool"])
        .args(["--concurrency", "2", "--repeat", "1", "--delay-ms", "0"])
        .arg("--out")
        .arg(&dir)
        .env("FANOUT_PEER_FAKE", &peer)
        .output()
        .expect("run fanout");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let points = std::fs::read_to_string(dir.join("points.jsonl")).expect(&stderr);
    let statuses: Vec<(String, String)> = points
        .lines()
        .map(|l| serde_json::from_str::<Value>(l).expect("json"))
        .map(|v| (v["strategy"].to_string(), v["status"].to_string()))
        .collect();
    assert_eq!(
        statuses,
        [
            ("\"peer:fake\"".into(), "\"failed\"".into()),
            ("\"thread_pool\"".into(), "\"measured\"".into())
        ],
        "{stderr}"
    );
}

#[test]
fn a_peer_not_installed_is_skipped_with_what_installs_it() {
    let empty = tempfile::tempdir().expect("a temporary folder");
    let fanout = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_fanout"))
            .args(args)
            .env("FANOUT_PEERS_DIR", empty.path())
            .output()
            .expect("run fanout")
    };
    let out = fanout(&[
        "run",
        "--json",
        "-s",
        "peer:go",
        "-c",
        "2",
        "--delay-ms",
        "0",
    ]);
    let r: Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(r["status"], "skipped");
    let reason = r["reason"].as_str().expect("reason");
    assert!(reason.contains("scripts/peers.sh"), "{reason}");

    // `peers` with none installed (no program on PATH either: Node.js's peers need only
    // node), and an unknown peer: one clear line each.
    let out = Command::new(env!("CARGO_BIN_EXE_fanout"))
        .args(["sweep", "--strategies", "peers", "--quick"])
        .env("FANOUT_PEERS_DIR", empty.path())
        .env("PATH", empty.path())
        .output()
        .expect("run fanout");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(
        stderr.contains("no peer is installed; scripts/peers.sh"),
        "{stderr}"
    );
    let out = fanout(&["run", "-s", "peer:nope", "-c", "2"]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("FANOUT_PEER_NAME"), "{stderr}");
}

/// `peers/examples/`, where docs/peers.md's example peer and its file are.
fn examples() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../../peers/examples"))
}

#[test]
fn the_documented_peer_described_by_its_file_is_measured_and_checked_by_the_servers_count() {
    // The example docs/peers.md shows is the file measured here.
    let doc =
        std::fs::read_to_string(examples().join("../../docs/peers.md")).expect("docs/peers.md");
    for file in ["perl_threads.pl", "perl_threads.json"] {
        let text = std::fs::read_to_string(examples().join(file)).expect("the example");
        assert!(
            doc.contains(&text),
            "docs/peers.md does not show {file} as it is"
        );
    }
    let perl = Command::new("perl")
        .args(["-Mthreads", "-MHTTP::Tiny", "-e", "1"])
        .output();
    if !perl.is_ok_and(|o| o.status.success()) {
        fanout::os::skip::skipped("the example peer", "no perl with threads and HTTP::Tiny");
        return;
    }
    let run = |extra: &[&str]| -> Value {
        let out = Command::new(env!("CARGO_BIN_EXE_fanout"))
            .args([
                "run",
                "--json",
                "-s",
                "peer:perl_threads",
                "-c",
                "4",
                "-n",
                "20",
            ])
            .args(["--delay-ms", "50"])
            .args(extra)
            .env("FANOUT_PEER_FILES", examples())
            .output()
            .expect("run fanout");
        let stdout = String::from_utf8_lossy(&out.stdout);
        serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("{e}: {stdout} {}", String::from_utf8_lossy(&out.stderr)))
    };
    let r = run(&[]);
    assert_eq!(
        (r["status"].as_str(), r["ok"].as_u64()),
        (Some("measured"), Some(20)),
        "{r}"
    );
    assert_eq!(r["server"]["requests_served"], 20, "{r}");
    assert_eq!(
        r["server"]["peak_in_flight"], 4,
        "four threads, four at once: {r}"
    );
    // Its errors by fanout's kinds, as many as the server injected.
    let r = run(&["--fault", "status", "--fault-p", "0.5"]);
    let injected = r["server"]["faults"]["status"].as_u64().expect("count");
    assert!(injected > 0, "{r}");
    assert_eq!(r["errors"]["http_503"].as_u64(), Some(injected), "{r}");
    assert_eq!(ok_plus_errors(&r), 20, "{r}");
}

#[test]
fn a_described_peer_without_its_program_is_skipped_with_what_installs_it_and_a_bad_file_named() {
    let dir = tempfile::tempdir().expect("a temporary folder");
    std::fs::write(
        dir.path().join("gone.json"),
        r#"{"name": "gone", "models": "a client not installed", "held_by": "task",
            "command": ["fanout-no-such-program", "{url}", "{c}", "{n}", "{timeout_ms}"],
            "install": "build it with make"}"#,
    )
    .expect("write");
    std::fs::write(dir.path().join("broken.json"), "{not json").expect("write");
    let run = |peer: &str| {
        Command::new(env!("CARGO_BIN_EXE_fanout"))
            .args([
                "run",
                "--json",
                "-s",
                peer,
                "-c",
                "2",
                "-n",
                "4",
                "--delay-ms",
                "0",
            ])
            .env("FANOUT_PEER_FILES", dir.path())
            .output()
            .expect("run fanout")
    };
    let out = run("peer:gone");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let r: Value = serde_json::from_str(stdout.trim()).expect("a report");
    assert_eq!(r["status"], "skipped", "{r}");
    let reason = r["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("fanout-no-such-program is not installed (not in ")
            && reason.ends_with("nor on PATH): build it with make"),
        "{r}"
    );
    // A program that is there, with its script in the file's folder missing.
    std::fs::write(
        dir.path().join("scriptless.json"),
        r#"{"name": "scriptless", "models": "a script not there", "held_by": "task",
            "command": ["sh", "{dir}/scriptless.sh", "{url}", "{c}", "{n}", "{timeout_ms}"],
            "install": "write scriptless.sh"}"#,
    )
    .expect("write");
    let out = run("peer:scriptless");
    let r: Value =
        serde_json::from_str(String::from_utf8_lossy(&out.stdout).trim()).expect("a report");
    assert_eq!(r["status"], "skipped", "{r}");
    let reason = r["reason"].as_str().unwrap_or_default();
    assert!(
        reason.contains("scriptless.sh is missing: write scriptless.sh"),
        "{r}"
    );
    let out = run("peer:broken");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("broken.json: not a peer file"), "{stderr}");
}

/// The shipped peers (`peers/*.json`: Python, Go, oha, Node.js and Java) class every fault
/// as fanout's strategies do: the fault table's check, each fault's outcomes against the
/// server's count of it. An installed peer is run under each fault; one that is not is
/// skipped with what installs it.
#[test]
fn the_shipped_peers_files_see_every_fault_as_the_server_injected_it() {
    use fanout::analysis::findings::faults;
    use fanout::record::report::PointReport;
    for peer in fanout::peers::described::shipped() {
        let name = peer.subject.name;
        if let Some(why) = fanout::peers::missing(peer) {
            fanout::os::skip::skipped(name, &why);
            continue;
        }
        for fault in mock_server::FaultKind::ALL.map(mock_server::FaultKind::name) {
            let out = Command::new(env!("CARGO_BIN_EXE_fanout"))
                .args(["run", "--json", "-s", name, "-c", "8", "-n", "48"])
                .args(["--delay-ms", "20", "--timeout-ms", "400"])
                .args([
                    "--fault",
                    fault,
                    "--fault-p",
                    "0.25",
                    "--fault-stall-ms",
                    "200",
                ])
                .output()
                .expect("run fanout");
            let stdout = String::from_utf8_lossy(&out.stdout);
            let r: PointReport = serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
                panic!("{e}: {stdout} {}", String::from_utf8_lossy(&out.stderr))
            });
            let seen =
                faults::of(&r).unwrap_or_else(|| panic!("{name} {fault}: no fault: {stdout}"));
            assert!(
                seen.agrees,
                "{name} under {fault}: injected {}, seen {} of {:?}, failed {}: {stdout}",
                seen.injected, seen.seen, seen.expect, seen.failed
            );
            let tally = &r.worker.tally;
            assert_eq!(
                tally.ok + tally.errors.values().sum::<u64>(),
                48,
                "{stdout}"
            );
        }
    }
}

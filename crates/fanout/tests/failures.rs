//! Failure paths, provoked cheaply: breaking is data, not a crash, and nothing measured is lost.
//! An out-of-file-descriptors worker, a refused point, a worker killed by a signal, the server
//! killed mid-sweep (then resumed), and Ctrl-C leaving no orphan processes.

mod common;

use common::Server;

use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const FANOUT: &str = env!("CARGO_BIN_EXE_fanout");

/// Children of `pid`, from /proc.
fn children(pid: u32) -> Vec<u32> {
    std::fs::read_to_string(format!("/proc/{pid}/task/{pid}/children"))
        .unwrap_or_default()
        .split_whitespace()
        .filter_map(|p| p.parse().ok())
        .collect()
}

fn role_of(pid: u32) -> Option<String> {
    let environ = std::fs::read(format!("/proc/{pid}/environ")).ok()?;
    environ
        .split(|&b| b == 0)
        .find_map(|kv| kv.strip_prefix(b"FANOUT_ROLE="))
        .map(|v| String::from_utf8_lossy(v).into_owned())
}

/// Waits until `pid` has a child playing `role`; returns its pid.
fn wait_for_child(pid: u32, role: &str) -> u32 {
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        if let Some(child) = children(pid)
            .into_iter()
            .find(|&c| role_of(c).as_deref() == Some(role))
        {
            return child;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    panic!("no {role} child of {pid} within 30 s");
}

fn alive(pid: u32) -> bool {
    // A zombie has exited; only its parent's wait is missing.
    std::fs::read_to_string(format!("/proc/{pid}/stat"))
        .is_ok_and(|stat| stat.split_whitespace().nth(2) != Some("Z"))
}

fn signal(pid: u32, name: &str) {
    let ok = Command::new("kill")
        .args([&format!("-{name}"), &pid.to_string()])
        .status();
    assert!(ok.is_ok_and(|s| s.success()), "kill -{name} {pid}");
}

fn json(out: &std::process::Output) -> serde_json::Value {
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "{e}: stdout {stdout:?}, stderr {}",
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

#[test]
fn a_worker_out_of_file_descriptors_counts_emfile_as_errors_and_the_point_is_recorded() {
    let server = Server::start(&[]);
    // 40 open files for fanout and its worker: too few for 100 sockets.
    let script = format!(
        "ulimit -n 40 && exec {FANOUT} run --json --force -s async_semaphore -c 100 --delay-ms 50 --url {}",
        server.url
    );
    let out = Command::new("sh")
        .args(["-c", &script])
        .output()
        .expect("sh");
    let r = json(&out);
    assert_eq!(r["status"], "measured", "{r}");
    let errors = r["errors"].as_object().expect("errors");
    assert!(
        errors
            .get("too_many_open_files")
            .is_some_and(|n| n.as_u64() > Some(0)),
        "{r}"
    );
    let failed: u64 = errors.values().filter_map(serde_json::Value::as_u64).sum();
    assert_eq!(r["ok"].as_u64().expect("ok") + failed, 200, "{r}");
    assert!(String::from_utf8_lossy(&out.stderr).contains("--force: running anyway"));
}

#[test]
fn a_point_that_cannot_fit_is_refused_before_anything_runs() {
    let script = format!("ulimit -n 40 && exec {FANOUT} run -s thread_pool -c 100");
    let out = Command::new("sh")
        .args(["-c", &script])
        .output()
        .expect("sh");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("thread_pool/100: cannot run: open files (RLIMIT_NOFILE)"),
        "{stderr}"
    );
    assert!(stderr.contains("--force"), "{stderr}");
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
}

#[test]
fn a_worker_killed_by_a_signal_is_recorded_with_that_signal() {
    let server = Server::start(&[]);
    let fanout = Command::new(FANOUT)
        .args([
            "run",
            "--json",
            "-s",
            "thread_pool",
            "-c",
            "5",
            "-n",
            "50",
            "--delay-ms",
            "200",
        ])
        .args(["--url", &server.url])
        .stdout(Stdio::piped())
        .spawn()
        .expect("fanout run");
    let worker = wait_for_child(fanout.id(), "worker");
    signal(worker, "KILL");
    let out = fanout.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(1));
    let r = json(&out);
    assert_eq!(r["status"], "failed", "{r}");
    assert!(
        r["reason"]
            .as_str()
            .is_some_and(|why| why.contains("SIGKILL")),
        "{r}"
    );
    // What was measured of it from outside until it died is kept.
    assert!(r["peak_rss_bytes"].as_u64() > Some(0), "{r}");
    assert!(r["process_wall_s"].as_f64() > Some(0.0), "{r}");
}

/// A `fanout run` long enough to be stopped (20 rounds of 500 ms), with its worker's and its
/// server's pids once both have started.
fn a_long_run(stderr: Stdio) -> (std::process::Child, u32, u32) {
    let fanout = Command::new(FANOUT)
        .args([
            "run",
            "-s",
            "thread_pool",
            "-c",
            "5",
            "-n",
            "100",
            "--delay-ms",
            "500",
        ])
        .stdout(Stdio::null())
        .stderr(stderr)
        .spawn()
        .expect("fanout run");
    let worker = wait_for_child(fanout.id(), "worker");
    let server = wait_for_child(fanout.id(), "server");
    (fanout, worker, server)
}

/// Waits (at most `patience`) until neither `worker` nor `server` runs; says which still does.
fn neither_left_running(worker: u32, server: u32, patience: Duration) {
    let deadline = Instant::now() + patience;
    while (alive(worker) || alive(server)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert!(!alive(server), "server {server} left running");
    assert!(!alive(worker), "worker {worker} left running");
}

#[test]
fn ctrl_c_stops_the_worker_and_the_server_and_leaves_no_orphans() {
    let (fanout, worker, server) = a_long_run(Stdio::piped());
    signal(fanout.id(), "INT");
    let out = fanout.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success());
    assert!(stderr.contains("interrupted"), "{stderr}");
    neither_left_running(worker, server, Duration::from_secs(10));
}

#[test]
fn a_killed_fanout_leaves_neither_its_server_nor_its_worker_running() {
    // SIGKILL runs no handler: the server stops because its stdin pipe closed with fanout,
    // the worker because its requests then end and its stdin closed too.
    let (mut fanout, worker, server) = a_long_run(Stdio::null());
    fanout.kill().expect("SIGKILL");
    let _ = fanout.wait();
    neither_left_running(worker, server, Duration::from_secs(20));
}

fn points_in(dir: &Path) -> usize {
    std::fs::read_to_string(dir.join("points.jsonl"))
        .map(|s| s.lines().filter(|l| !l.trim().is_empty()).count())
        .unwrap_or(0)
}

#[test]
fn a_server_killed_mid_sweep_keeps_what_was_measured_and_the_sweep_resumes() {
    let scratch = tempfile::tempdir().expect("a temporary folder");
    // A folder the sweep makes, as a user's is.
    let dir = scratch.path().join("resume");
    let first = Server::start(&[]);
    let args = [
        "--strategies",
        "thread_pool,async_semaphore",
        "--concurrency",
        "5,10",
    ];
    let sweep = Command::new(FANOUT)
        .args(["sweep", "--repeat", "2", "--delay-ms", "300", "--out"])
        .arg(&dir)
        .args(args)
        .args(["--url", &first.url])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("fanout sweep");
    let deadline = Instant::now() + Duration::from_secs(60);
    while points_in(&dir) == 0 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    drop(first); // the server dies mid-sweep
    let out = sweep.wait_with_output().expect("wait");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("not answering"), "{stderr}");
    assert!(
        stderr.contains(&format!("fanout resume {}", dir.display())),
        "{stderr}"
    );
    let kept = points_in(&dir);
    assert!((1..8).contains(&kept), "{kept} points kept");
    assert!(dir.join("summary.md").exists() && dir.join("points.csv").exists());

    let second = Server::start(&[]);
    let out = Command::new(FANOUT)
        .arg("resume")
        .arg(&dir)
        .args(["--url", &second.url])
        .output()
        .expect("fanout resume");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(
        points_in(&dir),
        8,
        "2 strategies × 2 C × 2 repeats, none twice"
    );
    let setup = std::fs::read_to_string(dir.join("SETUP.md")).expect("SETUP.md");
    assert!(setup.contains("- Resumed: "), "{setup}");
    for chart in ["memory.svg", "throughput.svg", "p99.svg", "timeline.svg"] {
        assert!(dir.join(chart).exists(), "{chart}");
    }
}

#[test]
fn a_stats_answer_that_does_not_parse_is_recorded_with_its_reason() {
    use std::io::{Read as _, Write as _};
    // A server whose every answer is 200 "hello": its /get fails the body check and its
    // /stats is no snapshot; the point says so instead of dropping it.
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            std::thread::spawn(move || {
                let mut buf = [0u8; 4096];
                while let Ok(n) = stream.read(&mut buf) {
                    if n == 0 {
                        break;
                    }
                    let answer = "HTTP/1.1 200 OK\r\ncontent-length: 5\r\n\r\nhello";
                    if stream.write_all(answer.as_bytes()).is_err() {
                        break;
                    }
                }
            });
        }
    });
    let ran = common::run_json(&["-s", "thread_raw", "-c", "2", "-n", "4", "--url", &url]);
    let r = &ran.report;
    assert!(r["server"].is_null(), "{r}");
    let why = r["server_missing"].as_str().expect("a reason");
    assert!(
        why.contains("not a stats snapshot") && why.contains("hello"),
        "{why}"
    );
    assert_eq!(common::accounted(r), 4, "{r}");
}

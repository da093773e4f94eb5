//! Open-loop load (`--rate`) through `fanout run`: requests start no earlier than they fall due,
//! latency counts from the due time (a client too small for the rate shows its queue), requests
//! too late are dropped and counted, and ok + errors + dropped = N always. (Lower bounds only:
//! a schedule cannot be beaten, but a busy machine may always be slower.)

mod common;
use common::accounted;

/// `fanout run --json` with a minute's time limit and `args`: exit code, report, stderr.
fn run(args: &[&str]) -> (Option<i32>, serde_json::Value, String) {
    let mut all = vec!["--time-limit-s", "60"];
    all.extend_from_slice(args);
    let ran = common::run_json(&all);
    (ran.code, ran.report, ran.stderr)
}

#[test]
fn requests_fall_due_on_the_schedule_and_a_small_pool_shows_its_queue_in_latency() {
    // 20 requests at 100/s: the last falls due 190 ms after the first, whatever C is.
    let (code, wide, stderr) = run(&[
        "-s",
        "async_raw",
        "-c",
        "20",
        "-n",
        "20",
        "--delay-ms",
        "10",
        "--rate",
        "100",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(wide["rate"], 100.0);
    assert!(
        wide["wall_s"].as_f64() >= Some(0.19),
        "no request before its due time: {wide}"
    );
    assert_eq!(wide["ok"], 20, "{wide}");
    // One slot, 50 ms a request, 100 due a second: each request waits for the one before, so
    // the last, due at 190 ms, cannot end before 20 × 50 ms = 1 s: 0.8 s after it fell due.
    let (code, narrow, stderr) = run(&[
        "-s",
        "thread_pool",
        "-c",
        "1",
        "-n",
        "20",
        "--delay-ms",
        "50",
        "--rate",
        "100",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(narrow["ok"], 20, "{narrow}");
    let max_ms = narrow["latency_ms"]["max"].as_f64().expect("max");
    assert!(
        max_ms >= 790.0,
        "latency counts from the due time: max {max_ms} ms"
    );
    assert_eq!(accounted(&narrow), 20);
}

#[test]
fn requests_that_cannot_start_in_time_are_dropped_and_counted() {
    // Two slots of 100 ms hold 20 requests/s; 100/s fall due, each may be 50 ms late.
    let (code, r, stderr) = run(&[
        "-s",
        "async_raw",
        "-c",
        "2",
        "-n",
        "40",
        "--delay-ms",
        "100",
        "--rate",
        "100",
        "--drop-after-ms",
        "50",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    let dropped = r["dropped"].as_u64().expect("dropped");
    assert!(dropped > 0, "{r}");
    assert_eq!(accounted(&r), 40, "ok + errors + dropped = N: {r}");
    assert!(
        r["server"]["requests_served"].as_u64() < Some(40),
        "dropped requests are not sent: {r}"
    );
}

#[test]
fn a_bad_rate_is_refused_in_one_line() {
    for bad in [
        "0", "-5", "abc", "inf", "2000000", "500..0", "500..", "..500",
    ] {
        let flag = format!("--rate={bad}");
        let (code, _, stderr) = run(&["-s", "async_raw", "-c", "2", &flag]);
        assert_eq!(code, Some(2), "--rate {bad}: {stderr}");
        let first = stderr.lines().next().unwrap_or_default();
        assert!(
            first.contains("--rate") && first.contains("requests per second"),
            "{first}"
        );
    }
}

#[test]
fn a_ramp_spends_its_requests_as_its_rates_say_and_every_second_is_counted() {
    // 20 → 180/s over 300 requests: mean 100/s, 3 s; the first second carries about 47 of them
    // (20 + 160 / 6), the last about 153.
    let (code, r, stderr) = run(&[
        "-s",
        "async_raw",
        "-c",
        "20",
        "-n",
        "300",
        "--delay-ms",
        "10",
        "--rate",
        "20..180",
    ]);
    assert_eq!(code, Some(0), "{stderr}");
    assert_eq!(r["status"], "measured", "{r}");
    assert_eq!(
        r["rate"],
        serde_json::json!([20.0, 180.0]),
        "a ramp is its list of rates"
    );
    let intervals = r["intervals"].as_array().expect("intervals");
    let counted: u64 = intervals
        .iter()
        .map(|i| {
            ["ok", "failed", "dropped"]
                .iter()
                .map(|k| i[k].as_u64().expect(k))
                .sum::<u64>()
        })
        .sum();
    assert_eq!(
        counted, 300,
        "every request in the second it fell due: {intervals:?}"
    );
    assert_eq!(accounted(&r), 300);
    // An interval holds the requests that fell due in it, whenever they ended: its count is
    // the schedule's, not the machine's speed.
    let due = |i: usize| {
        ["ok", "failed", "dropped"]
            .iter()
            .map(|k| intervals[i][k].as_u64().expect(k))
            .sum::<u64>()
    };
    assert!(intervals.len() >= 3, "{intervals:?}");
    assert!((44..=50).contains(&due(0)), "the first second: {}", due(0));
    assert!(
        due(2) > 2 * due(0),
        "the rate rises: {} then {}",
        due(0),
        due(2)
    );
    // Closed loop keeps no intervals.
    let (_, closed, _) = run(&["-s", "async_raw", "-c", "2", "-n", "4", "--delay-ms", "0"]);
    assert!(closed.get("intervals").is_none(), "{closed}");
}

#[test]
fn peers_stay_closed_loop_and_say_so_but_oha_takes_a_constant_rate() {
    let (code, r, stderr) = run(&["-s", "peer:go", "-c", "2", "--rate", "10"]);
    assert_eq!(code, Some(2), "skipped: {stderr}");
    let reason = r["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("closed-loop"), "{r}");
    let (_, r, _) = run(&["-s", "peer:oha", "-c", "2", "--rate", "10..20"]);
    let reason = r["reason"].as_str().unwrap_or_default();
    assert!(reason.contains("constant rate only"), "{r}");
    // oha -q with --latency-correction, where oha is installed (scripts/peers.sh).
    let (_, r, _) = run(&[
        "-s",
        "peer:oha",
        "-c",
        "2",
        "-n",
        "20",
        "--delay-ms",
        "10",
        "--rate",
        "100",
    ]);
    if r["status"] == "skipped" {
        assert!(
            r["reason"].as_str().is_some_and(|w| w.contains("peers.sh")),
            "{r}"
        );
        common::skipped("oha at a rate", "oha is not installed (scripts/peers.sh)");
        return;
    }
    assert_eq!(r["status"], "measured", "{r}");
    assert_eq!(accounted(&r), 20);
    // 20 requests at 100/s take at least the schedule's 190 ms.
    assert!(r["wall_s"].as_f64().expect("wall") >= 0.19, "{r}");
}

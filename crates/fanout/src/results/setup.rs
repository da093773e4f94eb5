//! `SETUP.md`: when a run started, on which commit and build, the machine and its floors,
//! the workload, the peers and what each client configures — from the run's facts, gathered
//! once where the run starts.

use super::markdown::{Align, Table};
use std::collections::BTreeMap;
use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::model::floors::Floors;
use crate::model::settings;
use crate::model::subject::Kind;
use crate::os::machine::{self, Machine};
use crate::peers;
use crate::planning::catalog::{self, Runner};
use crate::planning::plan::Plan;

/// What a run records about where and when it ran, read once as it starts: written to its
/// folder's `facts.json` (what fanout reads back) and told in its `SETUP.md` (for people).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RunFacts {
    /// When it started, RFC 3339 to the second.
    pub started: String,
    /// The git commit of the working directory, if it is a checkout.
    pub commit: Option<String>,
    /// The toolchain of this build.
    pub rustc: String,
    /// The versions of the crates that matter in this build.
    pub crates: String,
    /// The build's profile: `release`, or `debug` (unoptimized: deeper stack frames, more
    /// CPU per request; its figures are not comparable with a release build's).
    pub build: String,
    /// The machine and its limits.
    pub machine: Machine,
    /// The floors measured on it, if they were.
    pub floors: Option<Floors>,
    /// The versions the installed peers run with.
    pub peer_versions: BTreeMap<String, String>,
    /// For a folder made before runs wrote `facts.json`: the file its facts were read from
    /// once, when it was added (the facts that file did not state are absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub backfilled_from: Option<String>,
    /// Kernel settings `--raise-limits` raised for the run (the sweep sets them; `gather`
    /// knows none): `machine` holds their raised values, and each was put back after the run.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub raised_limits: Vec<crate::model::limit::RaisedLimit>,
}

impl RunFacts {
    /// Reads them now: the clock, git, the build, the machine, the peers' programs; with the
    /// floors measured just before.
    pub fn gather(floors: Option<Floors>) -> Self {
        Self {
            started: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            commit: machine::git_commit(),
            rustc: machine::RUSTC.to_owned(),
            crates: machine::CRATES.to_owned(),
            build: machine::BUILD.to_owned(),
            machine: Machine::read(),
            floors,
            peer_versions: peers::versions(),
            backfilled_from: None,
            raised_limits: Vec::new(),
        }
    }
}

/// `SETUP.md`: when, what, where, with which settings.
pub fn setup_markdown(plan: &Plan, facts: &RunFacts, command: &str) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "# Run setup\n");
    let _ = writeln!(s, "- Date: {}", facts.started);
    let _ = writeln!(
        s,
        "- Commit: {}",
        facts
            .commit
            .as_deref()
            .unwrap_or("unknown (not a git checkout)")
    );
    let _ = writeln!(s, "- Command: `{command}`");
    let _ = writeln!(s, "- {}\n- Crates: {}", facts.rustc, facts.crates);
    let _ = writeln!(s, "- Build: {}", facts.build);
    let _ = writeln!(s, "\n## Machine\n");
    s.push_str(&machine_markdown(&facts.machine));
    for r in &facts.raised_limits {
        let _ = writeln!(
            s,
            "- {} raised from {} to {} for this run by --raise-limits, and put back after",
            r.setting, r.was, r.to
        );
    }
    if let Some(floors) = &facts.floors {
        let _ = writeln!(
            s,
            "\n## Floors on this machine\n\nWhat the kernel and each model hold at least, measured \
             before the points with nothing in between (`run/floors.rs`):\n"
        );
        s.push_str(&floors_markdown(floors));
    }
    let _ = writeln!(s, "\n## Workload\n");
    let names: Vec<_> = plan.strategies.iter().map(|s| s.name).collect();
    let _ = writeln!(s, "- Strategies: {}", names.join(", "));
    let concurrency: Vec<_> = plan.concurrency.iter().map(usize::to_string).collect();
    let _ = writeln!(s, "- Concurrency: {}", concurrency.join(", "));
    let sizing = &plan.workload.sizing;
    let _ = writeln!(
        s,
        "- Requests: N = {}·C; delay: {}; repeats: {}; per-point time limit: {} s",
        sizing.requests_per_slot,
        sizing
            .delay_ms
            .map_or("the default rule".to_owned(), |d| format!("{d} ms")),
        plan.repeat,
        plan.time_limit.as_secs()
    );
    // Every setting, by its name in the points' JSON: a new one is listed without a change here.
    if let Ok(serde_json::Value::Object(settings)) = serde_json::to_value(&plan.workload.settings) {
        let settings: Vec<_> = settings.iter().map(|(k, v)| format!("{k} {v}")).collect();
        let _ = writeln!(s, "- Settings: {}", settings.join(", "));
    }
    let server = &plan.workload.settings.server;
    let _ = writeln!(
        s,
        "- Server (the one fanout starts; with --url the server's own, in each point's \
         `server.limits`): profile {}: {}",
        server.profile.name(),
        server.limits()
    );
    if let Ok(Some(fault)) = plan.workload.settings.fault.fault() {
        let _ = writeln!(
            s,
            "- Fault (asked with every request, so a peer meets it too): `{}`",
            fault.to_query().trim_start_matches('&')
        );
    }
    if let Some(straggler) = plan.workload.settings.straggler.straggler() {
        let _ = writeln!(
            s,
            "- Stragglers (asked with every request; the ideal wall time takes the mixture's \
             mean and quantiles): `{}`",
            straggler.to_query().trim_start_matches('&')
        );
    }
    let _ = writeln!(
        s,
        "- Rule for a default workload (where the requests and the delay above are not set): {}",
        settings::RULE
    );
    let _ = writeln!(s, "- Ideal wall time: {}", settings::IDEAL_RULE);
    if let Some(vary) = &plan.vary {
        let values: Vec<_> = vary.values.iter().map(|v| v.show()).collect();
        let _ = writeln!(s, "- Varied: {} = {}", vary.knob.key(), values.join(", "));
    }
    if plan.stop_at_walls {
        let _ = writeln!(
            s,
            "- Walls: once a strategy's point met a named limit, its points at larger C were \
             skipped naming that limit and where it was met"
        );
    }
    if plan.bisect_knees {
        let _ = writeln!(
            s,
            "- Knees: after the rate grid, each strategy's knee narrowed by bisection to within \
             {:.0}% of its rate, each probe measured {} time(s)",
            crate::results::findings::knee::KNEE_TOLERANCE * 100.0,
            plan.repeat
        );
    }
    let peers: Vec<_> = plan
        .strategies
        .iter()
        .filter(|s| s.kind == Kind::Peer)
        .collect();
    if !peers.is_empty() {
        let _ = writeln!(s, "\n## Peers\n");
        for peer in peers {
            let _ = writeln!(s, "- `{}`: {}", peer.name, peer.models);
        }
        let versions: Vec<_> = facts
            .peer_versions
            .iter()
            .map(|(name, version)| format!("{name} {version}"))
            .collect();
        let _ = writeln!(s, "- Versions installed: {}", versions.join(", "));
        let _ = writeln!(
            s,
            "- Metered from outside like fanout's own workers: peak RSS (`VmHWM`), threads, CPU and context switches of the whole process; wall time is each one's own timed region"
        );
    }
    // What each strategy configures, at the plan's first point of it (pools sized to C).
    let points = plan.distinct_points();
    let mut configs = Vec::new();
    for point in &points {
        if let Some(Runner::InProcess(strategy)) = catalog::runner(point.strategy)
            && !configs.iter().any(|(name, _)| *name == point.strategy.name)
        {
            let config = strategy.client_config(point.concurrency, &point.settings);
            configs.push((point.strategy.name, config));
        }
    }
    if let Some((_, first)) = configs.first() {
        let _ = writeln!(
            s,
            "\n## Client settings\n\nEvery client: timeout {} ms, TCP_NODELAY {}, thread stacks \
             {} KiB, {} tokio workers{}. Pools are sized to each point's C (shown at the first).\n",
            first.timeout_ms,
            first.tcp_nodelay,
            first.thread_stack_kib,
            first.tokio_workers,
            first
                .tls
                .as_deref()
                .map_or(String::new(), |tls| format!("; TLS: {tls}"))
        );
        let mut t = Table::new(["strategy", "client", "pool", "buffers"].map(|h| (h, Align::Left)));
        for (name, c) in &configs {
            t.row([
                name.to_string(),
                c.client.to_string(),
                c.pool.to_string(),
                c.buffers.to_string(),
            ]);
        }
        s.push_str(&t.to_string());
    }
    s
}

/// The machine as markdown list items.
pub fn machine_markdown(m: &Machine) -> String {
    let l = &m.limits;
    let show = |v: Option<u64>| v.map_or("unknown".to_owned(), |v| v.to_string());
    let mut s = String::new();
    let _ = writeln!(s, "- Host: {}", m.host);
    let smt = match m.smt {
        Some(true) => ", SMT on: two share a physical core",
        Some(false) => ", SMT off",
        None => "",
    };
    let _ = writeln!(s, "- CPU: {} ({} cores available{smt})", m.cpu, m.cores);
    if m.hypervisor == Some(true) {
        let _ = writeln!(
            s,
            "- A virtual machine: the CPU reports a hypervisor, which may run others on its cores (each point records the steal)"
        );
    }
    let _ = writeln!(
        s,
        "- Memory: {:.1} GiB",
        m.memory_bytes as f64 / (1u64 << 30) as f64
    );
    let _ = writeln!(s, "- Kernel: {}", m.kernel);
    let _ = writeln!(
        s,
        "- Open files: soft {}, hard {}; RLIMIT_NPROC soft {}",
        show(l.open_files_soft),
        show(l.open_files_hard),
        l.nproc_soft
            .map_or("unlimited".to_owned(), |v| v.to_string())
    );
    let _ = writeln!(
        s,
        "- kernel.threads-max {}, kernel.pid_max {}, vm.max_map_count {}, cgroup pids.max {}",
        show(l.threads_max),
        show(l.pid_max),
        show(l.max_map_count),
        l.cgroup_pids_max
            .map_or("max or absent".to_owned(), |v| v.to_string())
    );
    let ports = l
        .local_ports
        .map_or("unknown".to_owned(), |(lo, hi)| format!("{lo}–{hi}"));
    let _ = writeln!(
        s,
        "- net.core.somaxconn {}, net.ipv4.tcp_max_syn_backlog {}, local ports {ports}",
        show(l.somaxconn),
        show(l.tcp_max_syn_backlog)
    );
    s
}

/// The floors as a short markdown list, KiB.
pub fn floors_markdown(f: &Floors) -> String {
    let kib = |v: Option<f64>| v.map_or("–".to_owned(), |b| format!("{:.1} KiB", b / 1024.0));
    let own = match &f.own_missing {
        Some(why) => format!("- in a cgroup of their own: not measured ({why})\n"),
        None => format!(
            "- in a cgroup of their own (as a worker's own kernel bill is read): a parked \
             thread's kernel memory {}; an idle connection's client end {} (so the server's \
             end holds {} of both ends' slab)\n",
            kib(f.thread_kernel_own),
            kib(f.connection_client_end),
            kib(f.connection_server_end()),
        ),
    };
    format!(
        "- a parked thread: kernel stack {}, slab {}, page tables {}, resident user stack {}\n\
         - an idle loopback connection: slab {} (both ends: the server's half is its socket)\n\
         - an idle tokio task: heap {}\n{own}",
        kib(f.thread_kernel_stack),
        kib(f.thread_slab),
        kib(f.thread_page_tables),
        kib(f.thread_user_stack),
        kib(f.connection_slab_both_ends),
        kib(f.task_heap),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn setup_is_written_from_the_facts_given_not_read_anew() {
        let plan = Plan {
            strategies: vec![catalog::find("thread_pool").expect("strategy")],
            concurrency: vec![10],
            repeat: 1,
            time_limit: std::time::Duration::from_secs(60),
            workload: settings::Workload::default(),
            vary: None,
            bisect_knees: false,
            stop_at_walls: false,
        };
        let facts = RunFacts {
            started: "2030-01-02T03:04:05Z".into(),
            commit: None,
            rustc: "rustc 9.9.9".into(),
            crates: "tokio 9".into(),
            build: "release".into(),
            machine: Machine {
                host: "fixture-host".into(),
                ..Machine::default()
            },
            ..RunFacts::default()
        };
        let s = setup_markdown(&plan, &facts, "fanout sweep");
        for line in [
            "- Date: 2030-01-02T03:04:05Z",
            "- Commit: unknown (not a git checkout)",
            "- rustc 9.9.9\n- Crates: tokio 9\n- Build: release",
            "- Host: fixture-host",
            "- Strategies: thread_pool",
            "profile default: 128 HTTP/2 streams per connection, connections unlimited",
        ] {
            assert!(s.contains(line), "{line:?} not in {s}");
        }
        assert!(!s.contains("## Floors"), "{s}");
    }
}

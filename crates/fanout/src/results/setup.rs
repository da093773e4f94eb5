//! `SETUP.md`: when a run started, on which commit and build, the machine and its floors,
//! the workload, the peers and what each client configures — from the run's facts, gathered
//! once where the run starts.

use minijinja::context;

use super::markdown::{Align, Table};
use super::template::{self, without_last_newline};
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

/// `SETUP.md`: when, what, where, with which settings (`templates/setup.md`).
pub fn setup_markdown(plan: &Plan, facts: &RunFacts, command: &str) -> String {
    let cut = without_last_newline;
    let sizing = &plan.workload.sizing;
    let settings = &plan.workload.settings;
    let run = context! {
        started => &facts.started,
        commit => facts.commit.as_deref().unwrap_or("unknown (not a git checkout)"),
        command,
        rustc => &facts.rustc,
        crates => &facts.crates,
        build => &facts.build,
        machine => cut(machine_markdown(&facts.machine)),
        raised => &facts.raised_limits,
        floors => facts.floors.as_ref().map(|f| cut(floors_markdown(f))),
    };
    let names: Vec<_> = plan.strategies.iter().map(|s| s.name).collect();
    let concurrency: Vec<_> = plan.concurrency.iter().map(usize::to_string).collect();
    let workload = context! {
        strategies => names.join(", "),
        concurrency => concurrency.join(", "),
        requests_per_slot => sizing.requests_per_slot.to_string(),
        delay => sizing.delay_ms.map_or("the default rule".to_owned(), |d| format!("{d} ms")),
        repeat => plan.repeat.to_string(),
        time_limit_s => plan.time_limit.as_secs().to_string(),
        settings => every_setting(plan),
        server_profile => settings.server.profile.name(),
        server_limits => settings.server.limits().to_string(),
        fault => settings.fault.fault().ok().flatten()
            .map(|f| f.to_query().trim_start_matches('&').to_owned()),
        straggler => settings.straggler.straggler()
            .map(|s| s.to_query().trim_start_matches('&').to_owned()),
        rule => settings::RULE,
        ideal_rule => settings::IDEAL_RULE,
        varied => plan.vary.as_ref().map(|vary| {
            let values: Vec<_> = vary.values.iter().map(|v| v.show()).collect();
            format!("{} = {}", vary.knob.key(), values.join(", "))
        }),
        stop_at_walls => plan.stop_at_walls,
        knee_tolerance => plan.bisect_knees
            .then(|| format!("{:.0}", crate::analysis::findings::knee::KNEE_TOLERANCE * 100.0)),
    };
    template::fill(
        "setup.md",
        context! { ..run, ..workload, ..peers(plan, facts), ..clients(plan) },
    )
}

/// Every setting, by its name in the points' JSON (a new one is listed without a change
/// here): `name value, …`.
fn every_setting(plan: &Plan) -> Option<String> {
    let Ok(serde_json::Value::Object(settings)) = serde_json::to_value(&plan.workload.settings)
    else {
        return None;
    };
    let settings: Vec<_> = settings.iter().map(|(k, v)| format!("{k} {v}")).collect();
    Some(settings.join(", "))
}

/// The peers of the run and their versions; none without peers.
fn peers(plan: &Plan, facts: &RunFacts) -> minijinja::Value {
    let peers: Vec<minijinja::Value> = plan
        .strategies
        .iter()
        .filter(|s| s.kind == Kind::Peer)
        .map(|peer| context! { name => peer.name, models => peer.models })
        .collect();
    let versions: Vec<_> = facts
        .peer_versions
        .iter()
        .map(|(name, version)| format!("{name} {version}"))
        .collect();
    context! { peers, peer_versions => versions.join(", ") }
}

/// What each strategy's client is set to, at the plan's first point of it (pools sized to
/// C); no table where no strategy runs in fanout's own worker.
fn clients(plan: &Plan) -> minijinja::Value {
    let mut configs = Vec::new();
    for point in &plan.distinct_points() {
        if let Some(Runner::InProcess(strategy)) = catalog::runner(point.strategy)
            && !configs.iter().any(|(name, _)| *name == point.strategy.name)
        {
            let config = strategy.client_config(point.concurrency, &point.settings);
            configs.push((point.strategy.name, config));
        }
    }
    let Some((_, first)) = configs.first() else {
        return context! { clients => "" };
    };
    let mut t = Table::new(["strategy", "client", "pool", "buffers"].map(|h| (h, Align::Left)));
    for (name, c) in &configs {
        t.row([
            name.to_string(),
            c.client.to_string(),
            c.pool.to_string(),
            c.buffers.to_string(),
        ]);
    }
    context! {
        clients => without_last_newline(t.to_string()),
        timeout_ms => first.timeout_ms.to_string(),
        tcp_nodelay => first.tcp_nodelay.to_string(),
        thread_stack_kib => first.thread_stack_kib.to_string(),
        tokio_workers => first.tokio_workers.to_string(),
        tls => first.tls.as_deref().map_or(String::new(), |tls| format!("; TLS: {tls}")),
    }
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

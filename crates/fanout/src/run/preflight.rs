//! Before anything runs: for each point, which OS limit would cap it and the command that
//! raises it. A point that cannot fit is refused; one that may suffer is warned about.

use std::fmt;

use crate::model::limit::Limit;
use crate::model::subject::HeldBy;
use crate::os::machine::Limits;
use crate::planning::point::Point;

/// File descriptors and threads a process needs besides its requests (runtime, pipes,
/// libraries, the sampler), with room to spare.
const FD_MARGIN: usize = 64;
const THREAD_MARGIN: usize = 16;
/// Memory maps of a process besides thread stacks (binary, libraries, heap arenas).
const MAP_MARGIN: usize = 1_000;

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Severity {
    /// The point cannot fit: it is refused unless forced.
    Refuse,
    /// The point may be disturbed (and its results marked).
    Warn,
}

/// One limit that caps one point.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// Refuse or warn.
    pub severity: Severity,
    /// `strategy/C`.
    pub point: String,
    /// The limit.
    pub limit: Limit,
    /// The setting that holds it, as the OS names it (`kernel.pid_max`).
    pub setting: &'static str,
    /// What is needed against what there is.
    pub problem: String,
    /// The command that raises the limit.
    pub fix: String,
    /// What `--raise-limits` sets the setting to, for a kernel setting it raises
    /// ([`RAISABLE`]); `None` for any other.
    pub raise_to: Option<u64>,
}

/// The kernel settings `--raise-limits` raises for a run, and puts back after it: the ones
/// that cap threads machine-wide before memory does.
pub const RAISABLE: [&str; 3] = ["kernel.pid_max", "kernel.threads-max", "vm.max_map_count"];

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let word = match self.severity {
            Severity::Refuse => "cannot run",
            Severity::Warn => "warning",
        };
        write!(
            f,
            "{}: {word}: {}: {}; raise it with `{}`",
            self.point, self.setting, self.problem, self.fix
        )
    }
}

/// What a point needs from the OS, by the design of its strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Needs {
    /// Requests in flight at once.
    pub in_flight: usize,
    /// Connections open at once ([`Point::sockets`]).
    pub sockets: usize,
    /// Open files in the client (its sockets, plus the margin); the server needs as many.
    pub open_files: usize,
    /// Threads in the client.
    pub threads: usize,
    /// Connections opened in all ([`Point::connections`]).
    pub connections: usize,
}

/// What `point` needs, by the design of its strategy.
pub fn needs(point: &Point) -> Needs {
    let in_flight = point.in_flight();
    let threads = if point.strategy.held_by == HeldBy::Thread {
        in_flight + THREAD_MARGIN
    } else {
        point.settings.tokio_workers + THREAD_MARGIN
    };
    let sockets = point.sockets();
    let connections = point.connections();
    Needs {
        in_flight,
        sockets,
        open_files: sockets + FD_MARGIN,
        threads,
        connections,
    }
}

/// Every finding for `points` under `limits`.
pub fn check(points: &[Point], limits: &Limits) -> Vec<Finding> {
    let mut findings = Vec::new();
    for point in points {
        let need = needs(point);
        // `raise_to`: twice what the point needs, for a setting `--raise-limits` raises.
        let mut add = |severity, (limit, setting), problem: String, fix: String, raise_to| {
            findings.push(Finding {
                severity,
                point: point.name(),
                limit,
                setting,
                problem,
                fix,
                raise_to,
            });
        };
        // Beyond C (pitfall_unbounded's N), sockets may not all be open at once: that is the
        // pitfall being measured, so it is a warning, not a refusal.
        let beyond_c = if need.in_flight > point.concurrency {
            Severity::Warn
        } else {
            Severity::Refuse
        };
        if let Some(soft) = limits.open_files_soft
            && need.open_files as u64 > soft
        {
            add(
                beyond_c,
                (Limit::OpenFiles, "open files (RLIMIT_NOFILE)"),
                format!(
                    "needs about {} in the client and as many in the server, the limit is {soft}",
                    need.open_files
                ),
                format!(
                    "ulimit -n {} (above the hard limit: LimitNOFILE or /etc/security/limits.conf)",
                    need.open_files
                ),
                None,
            );
        }
        let thread_limits = [
            (
                (Limit::Threads, "kernel.threads-max"),
                limits.threads_max,
                "sysctl -w kernel.threads-max=",
            ),
            (
                (Limit::Threads, "kernel.pid_max"),
                limits.pid_max,
                "sysctl -w kernel.pid_max=",
            ),
            (
                (Limit::Threads, "cgroup pids.max"),
                limits.cgroup_pids_max,
                "echo N > /sys/fs/cgroup/…/pids.max (or systemd TasksMax=N), N=",
            ),
            (
                (Limit::Threads, "RLIMIT_NPROC"),
                limits.nproc_soft.filter(|_| !crate::os::running_as_root()),
                "ulimit -u ",
            ),
        ];
        for (named, limit, fix) in thread_limits {
            if let Some(limit) = limit
                && need.threads as u64 > limit
            {
                add(
                    Severity::Refuse,
                    named,
                    format!("needs {} threads, the limit is {limit}", need.threads),
                    format!("{fix}{}", need.threads * 2),
                    RAISABLE
                        .contains(&named.1)
                        .then_some(need.threads as u64 * 2),
                );
            }
        }
        if let (Some(maps), Some(per_thread)) = (
            limits.max_map_count,
            crate::os::parked::mappings_per_thread(),
        ) {
            let needed = (need.threads as f64 * per_thread) as usize + MAP_MARGIN;
            if point.strategy.held_by == HeldBy::Thread && needed as u64 > maps {
                let wall = (maps as usize).saturating_sub(MAP_MARGIN) as f64 / per_thread;
                add(
                    Severity::Refuse,
                    (Limit::MaxMapCount, "vm.max_map_count"),
                    format!(
                        "{} threads need about {needed} memory maps ({per_thread:.1} per thread, measured), the limit is {maps}: the worker aborts near {wall:.0} threads",
                        need.threads
                    ),
                    format!("sysctl -w vm.max_map_count={}", needed * 2),
                    Some(needed as u64 * 2),
                );
            }
        }
        if let Some(backlog) = limits.somaxconn {
            let syn_backlog = limits.tcp_max_syn_backlog.unwrap_or(u64::MAX);
            if need.sockets as u64 > backlog.min(syn_backlog) {
                let wanted = need.sockets.max(65_535);
                add(
                    Severity::Warn,
                    (Limit::ListenBacklog, "net.core.somaxconn"),
                    format!(
                        "{} connects at once may overflow the server's accept queue of {backlog} (SYN queue {syn_backlog}); SYN retries add whole seconds (the point is marked if so)",
                        need.sockets
                    ),
                    format!(
                        "sysctl -w net.core.somaxconn={wanted} net.ipv4.tcp_max_syn_backlog={wanted}"
                    ),
                    None,
                );
            }
        }
        if let Some(ports) = limits.local_port_count() {
            let ports = ports as usize;
            if need.sockets > ports {
                add(
                    beyond_c,
                    (Limit::LocalPorts, "net.ipv4.ip_local_port_range"),
                    format!("{} connections at once, {ports} local ports", need.sockets),
                    "sysctl -w net.ipv4.ip_local_port_range='1024 65535'".into(),
                    None,
                );
            } else if need.connections > ports / 2 {
                add(
                    Severity::Warn,
                    (Limit::LocalPorts, "net.ipv4.ip_local_port_range"),
                    format!(
                        "opens {} connections; closed ones hold their port in TIME_WAIT for 60 s and there are {ports}: expect addr_not_available, more so in repeats",
                        need.connections
                    ),
                    "sysctl -w net.ipv4.ip_local_port_range='1024 65535'".into(),
                    None,
                );
            }
        }
    }
    findings
}

/// The findings that refuse their point.
pub fn refusals(findings: &[Finding]) -> impl Iterator<Item = &Finding> {
    findings.iter().filter(|f| f.severity == Severity::Refuse)
}

/// Findings that say the same of several points, once: one finding whose `point` lists them
/// all (`a/10000, b/10000`), in the order first found.
pub fn grouped(findings: &[Finding]) -> Vec<Finding> {
    let mut groups: Vec<Finding> = Vec::new();
    for f in findings {
        let same = |g: &&mut Finding| {
            (g.severity, g.setting, &g.problem, &g.fix)
                == (f.severity, f.setting, &f.problem, &f.fix)
        };
        match groups.iter_mut().find(same) {
            Some(group) => {
                group.point.push_str(", ");
                group.point.push_str(&f.point);
            }
            None => groups.push(f.clone()),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::settings::Protocol;
    use crate::planning::catalog;

    fn point(name: &str, c: usize) -> Point {
        Point::new(catalog::find(name).expect("strategy"), c)
    }

    fn limits() -> Limits {
        Limits {
            open_files_soft: Some(20_000),
            open_files_hard: Some(20_000),
            threads_max: Some(192_731),
            pid_max: Some(32_768),
            max_map_count: Some(65_530),
            cgroup_pids_max: None,
            nproc_soft: None,
            somaxconn: Some(4_096),
            tcp_max_syn_backlog: Some(2_048),
            local_ports: Some((32_768, 60_999)),
        }
    }

    #[test]
    fn the_connections_a_fault_costs_are_counted_against_the_local_ports() {
        let mut p = point("thread_raw", 10_000);
        p.requests = 100_000;
        assert_eq!(needs(&p).connections, 10_000);
        p.settings.fault.fault = Some(mock_server::FaultKind::Stall);
        p.settings.fault.fault_p = 0.3;
        assert_eq!(needs(&p).connections, 40_000);
        let findings = check(&[p.clone()], &limits());
        let ports = findings
            .iter()
            .find(|f| f.limit == Limit::LocalPorts)
            .expect("the port range named");
        assert!(
            ports.problem.starts_with("opens 40000 connections"),
            "{ports}"
        );
        p.settings.fault.fault = Some(mock_server::FaultKind::AcceptStall);
        assert_eq!(needs(&p).connections, 10_000, "an accept stall closes none");
    }

    #[test]
    fn ten_thousand_fits_this_machine_with_a_backlog_warning_only() {
        let points = [
            point("thread_pool", 10_000),
            point("async_semaphore", 10_000),
        ];
        let findings = check(&points, &limits());
        assert_eq!(refusals(&findings).count(), 0, "{findings:#?}");
        assert!(
            findings.iter().all(|f| f.limit == Limit::ListenBacklog),
            "{findings:#?}"
        );
        let text = findings[0].to_string();
        assert!(
            text.starts_with("thread_pool/10000: warning: net.core.somaxconn: 10000 connects"),
            "{text}"
        );
        // The same warning for both points is said once, naming both.
        let grouped = grouped(&findings);
        assert_eq!(grouped.len(), 1, "{grouped:#?}");
        assert!(
            grouped[0].to_string().starts_with(
                "thread_pool/10000, async_semaphore/10000: warning: net.core.somaxconn"
            ),
            "{}",
            grouped[0]
        );
        assert!(
            text.contains("sysctl -w net.core.somaxconn=65535 net.ipv4.tcp_max_syn_backlog=65535"),
            "{text}"
        );
    }

    #[test]
    fn http2_needs_few_sockets_and_threads_meet_the_map_count() {
        let mut h2 = point("async_h2", 50_000);
        h2.settings.protocol = Protocol::H2;
        assert_eq!(needs(&h2).sockets, 1);
        // The h2 floor opens a connection per stream limit's worth: 7,813 at a million.
        let mut floor = point("async_h2_floor", 1_000_000);
        floor.settings.server.h2_max_streams = Some(128);
        assert_eq!(needs(&floor).sockets, 7_813);
        assert_eq!(needs(&floor).connections, 7_813);
        let findings = check(&[h2], &limits());
        assert_eq!(refusals(&findings).count(), 0, "{findings:#?}");
        if crate::os::parked::mappings_per_thread().is_some() {
            // (The rate itself is checked in tests/kernel.rs, a binary with no other test's
            // threads coming and going.)
            let threads = check(&[point("thread_raw", 17_000)], &limits());
            let maps = refusals(&threads)
                .find(|f| f.limit == Limit::MaxMapCount)
                .expect("refused for the map count");
            assert!(maps.problem.contains("the worker aborts near"), "{maps}");
        } else {
            crate::os::skip::skipped(
                "preflight: threads against the map count",
                "the OS does not tell its mappings here",
            );
        }
    }

    #[test]
    fn a_point_above_the_open_file_limit_is_refused_naming_the_limit() {
        let mut small = limits();
        small.open_files_soft = Some(1_024);
        let findings = check(&[point("async_semaphore", 1_000)], &small);
        let refused: Vec<_> = refusals(&findings).collect();
        assert_eq!(refused.len(), 1, "{findings:#?}");
        assert_eq!(refused[0].limit, Limit::OpenFiles);
        assert!(
            refused[0].to_string().contains("ulimit -n 1064"),
            "{}",
            refused[0]
        );
    }

    #[test]
    fn threads_count_only_for_thread_strategies_and_pitfalls_by_their_design() {
        let mut few = limits();
        few.pid_max = Some(5_000);
        let threads = check(&[point("thread_per_request", 10_000)], &few);
        assert!(
            refusals(&threads).any(|f| f.setting == "kernel.pid_max"),
            "{threads:#?}"
        );
        let tasks = check(&[point("async_semaphore", 10_000)], &few);
        assert_eq!(refusals(&tasks).count(), 0, "{tasks:#?}");
        // pitfall_unbounded holds N = 2·C in flight: a warning, its pathology is the measurement.
        let unbounded = check(&[point("pitfall_unbounded", 10_000)], &limits());
        assert_eq!(refusals(&unbounded).count(), 0, "{unbounded:#?}");
        assert!(
            unbounded.iter().any(|f| f.limit == Limit::OpenFiles),
            "{unbounded:#?}"
        );
        // A client per request opens N connections.
        let fresh = check(&[point("pitfall_client_per_request", 10_000)], &limits());
        assert!(
            fresh.iter().any(|f| f.limit == Limit::LocalPorts),
            "{fresh:#?}"
        );
    }
}

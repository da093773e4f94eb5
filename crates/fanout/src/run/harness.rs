//! The orchestrator's one step: a point run in a fresh worker process (fanout's own, or a
//! peer's program) metered from outside, with what it left behind (exit status, report line,
//! the process's figures, the server's `/stats`, the kernel's counters) handed to
//! [`PointReport::from_run`].

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::error::HarnessError;
use super::role::ROLE_VAR;
use super::server::Endpoint;
use super::stats_client::StatsClient;
use super::worker::{JOB_VAR, WorkerInput};
use crate::metering::outside::{self, Split};
use crate::metering::sampler::DEFAULT_STACK_BYTES;
use crate::model::worker_report::WorkerReport;
use crate::os;
use crate::os::machine::Limits;
use crate::peers;
use crate::planning::catalog::{self, Runner};
use crate::planning::point::Point;
use crate::record::report::{PointReport, RunLeft};

/// Runs `point` in a fresh worker process against the server at `base_url` — `exe` in the
/// worker role, or a peer's program — resetting the server's stats before and reading them
/// after, and meters the process from outside either way ([`outside`]). A worker still
/// running after `time_limit` is killed and the point recorded as failed; a point whose
/// strategy needs longer than that by design, or whose peer is not installed, is skipped.
pub fn run_point(
    exe: &Path,
    endpoint: &Endpoint,
    point: &Point,
    time_limit: Duration,
) -> Result<PointReport, HarnessError> {
    if let Some(why) = catalog::cannot_run(point, time_limit) {
        return Ok(PointReport::skipped(point, why));
    }
    let Some(runner) = catalog::runner(point.strategy) else {
        let why = format!("{} is in no catalog", point.strategy.name);
        return Ok(PointReport::skipped(point, why));
    };
    // A peer that is not installed is skipped before any wait for ports.
    if let Runner::Peer(peer) = runner
        && let Err(why) = peers::command(peer, &point.job(&endpoint.base_url))
    {
        return Ok(PointReport::skipped(point, why.to_string()));
    }
    // Before the server's reset: a fault's time window counts from it.
    let limits = Limits::read();
    let ports = limits.local_port_count().map(|n| n as usize);
    let spreads = point.strategy.client.spreads_connections();
    let sent = super::ports::settle(endpoint, point.connections(), spreads, ports);
    let mut job = point.job(&sent.base_url);
    job.tls_root_pem = endpoint.ca_pem.clone();
    job.set_destinations(sent.destinations);
    let job_stack_bytes = job.stack_bytes() as u64;
    let coroutine_stack_bytes = job.coroutine_stack_bytes() as u64;
    let command = match runner {
        Runner::InProcess(_) => {
            let input = WorkerInput {
                strategy: point.strategy.name.to_owned(),
                job,
                in_flight: point.in_flight(),
            };
            let mut command = Command::new(exe);
            command.env(ROLE_VAR, "worker").env(
                JOB_VAR,
                serde_json::to_string(&input).expect("a job serializes"),
            );
            command
        }
        Runner::Peer(peer) => match peers::command(peer, &job) {
            Ok(command) => command,
            Err(why) => return Ok(PointReport::skipped(point, why.to_string())),
        },
    };
    let stats = StatsClient::new(endpoint);
    stats.reset()?;
    let listen_before = os::listen_counters();
    let steal_before = os::steal_s();
    // fanout's own workers say when they hold their in-flight count; a peer does not.
    let split = match runner {
        Runner::InProcess(_) => Some(Split {
            // A may coroutine's stack is the same layout: read-write above a one-page guard.
            stack_sizes: vec![job_stack_bytes, DEFAULT_STACK_BYTES, coroutine_stack_bytes],
        }),
        Runner::Peer(_) => None,
    };
    let finished = outside::run(command, time_limit, split.as_ref())?;
    let steal_s = steal_before
        .zip(os::steal_s())
        .map(|(before, after)| (after - before).max(0.0));
    let listen = match (listen_before, os::listen_counters()) {
        (Some(before), Some(after)) => after.since(&before),
        _ => os::ListenCounters::default(),
    };
    let (server, server_missing) = match stats.read()? {
        Ok(snapshot) => (Some(snapshot), None),
        Err(why) => (None, Some(why)),
    };
    let line = match runner {
        Runner::InProcess(_) => WorkerReport::from_stdout(&finished.stdout).map_err(Into::into),
        Runner::Peer(peer) => {
            peers::read_report(peer, &finished.stdout, point.requests as u64).map_err(Into::into)
        }
    };
    let left = RunLeft {
        end: finished.end,
        line,
        stderr_tail: &finished.stderr_tail,
        metered: finished.metered,
        server,
        listen,
    };
    let mut report = PointReport::from_run(point, left, &limits);
    report.server_missing = server_missing;
    report.raised_limits = super::raise::raised_for_run();
    report.ports = sent.before;
    report.steal_s = steal_s;
    Ok(report)
}

/// The executable to re-run in the server and worker roles: this one.
pub fn current_exe() -> std::io::Result<PathBuf> {
    std::env::current_exe()
}

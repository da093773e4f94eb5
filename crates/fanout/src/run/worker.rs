//! The worker role: one fresh process runs one strategy once and prints its own figures as one
//! JSON line (the orchestrator meters the process itself from outside, as it meters a peer). A
//! fresh process makes `VmHWM` belong to this point alone.

use std::sync::Arc;
use std::time::Instant;

use serde::{Deserialize, Serialize};

use crate::metering::alloc::{self, HeapCounts};
use crate::metering::leftovers;
use crate::metering::sampler::{self, Sampler};
use crate::metering::usage::Usage;
use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;
use crate::model::tally::Tally;
use crate::model::worker_report::{Holding, HoldingLine, WorkerReport};
use crate::strategies;

/// Environment variable carrying the worker's [`WorkerInput`] as JSON.
pub const JOB_VAR: &str = "FANOUT_JOB";

/// What the orchestrator hands a worker.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct WorkerInput {
    /// The strategy's name.
    pub strategy: String,
    /// The work.
    pub job: Job,
    /// Requests the strategy holds in flight by design: the worker says when the client
    /// holds that many, and the harness splits its memory then.
    pub in_flight: usize,
}

/// Errors that keep a worker from measuring at all.
#[derive(Debug, thiserror::Error)]
pub enum WorkerError {
    /// The input variable is missing or not valid JSON.
    #[error("{JOB_VAR}: {0}")]
    Input(String),
    /// The metering itself failed.
    #[error("metering: {0}")]
    Meter(String),
}

/// Runs the worker role: reads [`JOB_VAR`], measures, prints one JSON line.
pub fn main() -> Result<(), WorkerError> {
    let raw = std::env::var(JOB_VAR).map_err(|e| WorkerError::Input(e.to_string()))?;
    let input: WorkerInput =
        serde_json::from_str(&raw).map_err(|e| WorkerError::Input(e.to_string()))?;
    let report = measure(&input)?;
    let line = serde_json::to_string(&report).map_err(|e| WorkerError::Meter(e.to_string()))?;
    println!("{line}");
    // Stay until the orchestrator, which reads this process's peak memory from outside once
    // the line is out, closes stdin (at once when stdin is not a pipe).
    let _ = std::io::copy(&mut std::io::stdin().lock(), &mut std::io::sink());
    Ok(())
}

/// Runs `input`'s strategy once in this process and meters it.
pub fn measure(input: &WorkerInput) -> Result<WorkerReport, WorkerError> {
    let strategy = strategies::find(&input.strategy)
        .ok_or_else(|| WorkerError::Input(format!("no strategy {:?}", input.strategy)))?;
    let meter_err = |what: &str| WorkerError::Meter(format!("{what} unreadable"));
    let mut job = input.job.clone();
    job.calibrate_cpu_work();
    job.arm_schedule();
    let job = Arc::new(job);
    // Open loop: per second of due time too, from just before the timed region (the
    // seconds expected made ready now, outside it).
    let tally = Arc::new(match &job.settings.rate {
        Some(rate) => {
            let expected_s = rate.span_s(job.requests).ceil() as usize + 2;
            Tally::with_intervals(Instant::now(), expected_s)
        }
        None => Tally::default(),
    });

    if std::env::var(alloc::HEAP_COUNTS_VAR).as_deref() == Ok("0") {
        alloc::disable();
    }
    let rss_before_bytes = sampler::rss_bytes().ok_or_else(|| meter_err("resident memory"))?;
    let held_before = leftovers::held_now();
    // Tells the harness, which splits this process's memory from outside when it reads it.
    let tell = |holding: &Holding| {
        if let Ok(line) = serde_json::to_string(&HoldingLine { holding: *holding }) {
            println!("{line}");
        }
    };
    let sampler = Sampler::start(Arc::clone(&tally), input.in_flight, tell)
        .map_err(|e| WorkerError::Meter(e.to_string()))?;
    let heap_before = HeapCounts::now();
    let usage_before = Usage::now().map_err(|e| WorkerError::Meter(e.to_string()))?;
    let start = Instant::now();
    // ---- timed region ----
    let result = (strategy.run)(&job, &tally);
    // ---- end ----
    let wall_s = start.elapsed().as_secs_f64();
    let usage = Usage::now().map_err(|e| WorkerError::Meter(e.to_string()))?;
    let heap = HeapCounts::now()
        .zip(heap_before)
        .map(|(after, before)| after.since(&before));
    let sampled = sampler.stop().map_err(WorkerError::Meter)?;
    // The timed region's use, without what sampling cost.
    let usage = usage.since(&usage_before).since(&sampled.own_usage);
    let peak_rss_bytes =
        sampler::peak_rss_bytes().ok_or_else(|| meter_err("peak resident memory"))?;
    // Outside the timed region: what the strategy left behind once it had returned.
    let leftovers = leftovers::settle(held_before);

    // ok + errors = N, always: requests a failed strategy never ran are errors too.
    let unaccounted = (job.requests as u64).saturating_sub(tally.count());
    for _ in 0..unaccounted {
        tally.fail(ErrorKind::NotRun);
    }
    Ok(WorkerReport {
        tally: tally.summary(),
        wall_s,
        rss_before_bytes,
        own_peak_rss_bytes: Some(peak_rss_bytes),
        heap_before_bytes: heap_before.map(|h| u64::try_from(h.live_bytes).unwrap_or(0)),
        heap_peak_bytes: sampled.peak_heap_bytes,
        client_peak_in_flight: sampled.peak_in_flight,
        in_flight_samples: sampled.in_flight,
        meter_cpu_s: Some(sampled.own_usage.user_s + sampled.own_usage.sys_s),
        allocations: heap.map(|h| h.allocations),
        allocated_bytes: heap.map(|h| h.allocated_bytes),
        // The whole process's CPU is measured from outside; this is the timed region's.
        timed_cpu_user_s: Some(usage.user_s),
        timed_cpu_sys_s: Some(usage.sys_s),
        // Every cause in its chain, in words.
        strategy_error: result.err().map(|e| format!("{:#}", anyhow::Error::new(e))),
        client_config: Some(strategy.client_config(job.concurrency, &job.settings)),
        cpu_work_us: job.cpu_work_us(),
        leftovers: Some(leftovers),
        peer: None,
    })
}

//! The preset sweeps: `--quick`'s strategies and the `--workload` presets, where the answer
//! changes. They name strategies by their facts, so a misspelt one does not compile.

use super::plan::{Plan, Vary};
use crate::model::knob::{FaultShare, HedgeAt, Knob, Varied};
use crate::model::rate::RateProfile;
use crate::model::settings::DelayDist;
use crate::model::subject::Subject;
use crate::peers;
use crate::strategies::strategy::Strategy;
use crate::strategies::{
    async_cpu_offload, async_h2, async_h2_floor, async_raw, async_semaphore, coroutine_raw,
    pitfall_client_per_request, pitfall_unbounded, smol_raw, thread_per_request, thread_pool,
    thread_raw, uring_cyper, uring_raw,
};
use mock_server::FaultKind;

/// Strategies of `sweep --quick`: each model's floor — threads, coroutines, tokio, smol,
/// io_uring, HTTP/2 streams — and the library strategies of threads and tokio beside them,
/// so a first run shows the answer's shape.
pub fn quick() -> Vec<&'static Subject> {
    facts(&[
        &thread_raw::STRATEGY,
        &thread_pool::STRATEGY,
        &coroutine_raw::STRATEGY,
        &async_raw::STRATEGY,
        &async_semaphore::STRATEGY,
        &smol_raw::STRATEGY,
        &uring_raw::STRATEGY,
        &async_h2_floor::STRATEGY,
    ])
}

/// The facts of `strategies`, in order.
fn facts(strategies: &[&'static Strategy]) -> Vec<&'static Subject> {
    strategies.iter().map(|s| &s.subject).collect()
}

/// The preset sweeps of `fanout sweep --workload`: where the answer changes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Preset {
    /// CPU work per response (0, 50, 500, 5,000 µs) at C = 1,000: threads, async, async with
    /// the work offloaded.
    Cpu,
    /// Connection set-up delay (0, 20, 50, 100 ms) at C = 1,000: pools, raw floors, a client
    /// per request.
    Connect,
    /// Lognormal delays (median D, σ = 1) at C = 10, 100, 1,000.
    Jitter,
    /// Open loop at C = 100, D = 100 ms: offered rates 250 … 2,000 per second around the bounded
    /// strategies' capacity C / D = 1,000 (Little's law), N = 20·C, then each knee narrowed by
    /// bisection to within 2%; the unbounded pitfall and oha (`-q`, latency corrected) beside.
    Rate,
    /// Overload and recovery at C = 100, D = 100 ms: the offered rate ramps 500 → 2,000 → 500
    /// per second (capacity C / D = 1,000) and stays at 500, over 15,000 requests (15 s), a
    /// request not started within 250 ms of its due time dropped; what each model holds, drops,
    /// and how fast it recovers.
    Overload,
    /// Overload past the walls at C = 10,000, D = 10 s: the offered rate ramps 500 → 4,000 →
    /// 500 per second and stays at 500, over 30,000 requests, a request not started within
    /// 250 ms of its due time dropped. λ·W passes 20,000 at the peak: more than the bounded
    /// strategies hold (their capacity C / D = 1,000/s) and more sockets than this machine's
    /// open-file limit lets one process hold, so the unbounded pitfall meets a wall while the
    /// bounded ones drop.
    OverloadPastWalls,
    /// Injected faults at C = 1,000, D = 100 ms, N = 5·C, a 1 s deadline: each model's floor
    /// and its library strategy under each fault kind hitting 1% and 10% of requests (seeded),
    /// over HTTP/1.1 (`--protocol h2`: the HTTP/2 strategies instead).
    Faults,
    /// Tail tolerance at C = 1,000, D = 100 ms, N = 5·C, under a straggler mixture (1% of
    /// requests 50 × slower, seeded): the hedge delay swept — none, 110, 130, 150, 200, 300 ms,
    /// and the point's own p50, p90, p95, p99 so far — for the floors of threads, tokio and
    /// smol and the clients users hedge with (ureq's `thread_pool`, reqwest's
    /// `async_semaphore`) over HTTP/1.1 (`--protocol h2 --strategies async_h2_floor`: a hedge as a second
    /// stream). At D = 100 ms the 10,000 requests/s offered leave the two cores room: hedges
    /// cut a tail, not a queue (at D = 20 ms the loaded median was twice D).
    Hedge,
    /// Past 10,000 until each model breaks: C = 10,000 … 100,000 and 1,000,000, one round
    /// (N = C) held for D = 15 s, threads and tasks over HTTP/1.1 and tasks over HTTP/2; run
    /// past the OS limits on purpose, each point measured or named by the limit that stopped
    /// it, and a strategy's larger C skipped once it met one.
    Scale,
}

/// Offered rates of the `rate` preset, requests due per second.
pub const RATES: &[u64] = &[250, 500, 750, 1_000, 1_250, 1_500, 2_000];

/// The `overload` preset's ramp: requests due per second, evenly spaced in time.
pub const OVERLOAD_RAMP: &[f64] = &[500.0, 2_000.0, 500.0, 500.0];

/// The `overload-past-walls` preset's ramp, requests due per second.
pub const PAST_WALLS_RAMP: &[f64] = &[500.0, 4_000.0, 500.0, 500.0];
/// The `overload-past-walls` preset's concurrency and delay D, ms.
pub const PAST_WALLS_AT: (usize, u64) = (10_000, 10_000);
/// An `overload-past-walls` point's time limit at least: 18 s of arrivals, D = 10 s, and a
/// collapse that may wait out the request deadline.
pub const PAST_WALLS_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(150);

/// The `faults` preset's shares of requests hit.
pub const FAULT_SHARES: &[f64] = &[0.01, 0.1];
/// The `faults` preset's deadline, ms.
pub const FAULTS_TIMEOUT_MS: u64 = 1_000;

/// The `hedge` preset's fixed hedge delays, ms (0: no hedging).
pub const HEDGE_AFTER_MS: &[u64] = &[0, 110, 130, 150, 200, 300];
/// The `hedge` preset's delay D, ms.
pub const HEDGE_DELAY_MS: u64 = 100;
/// The `hedge` preset's hedge percentiles, of the point's latency so far.
pub const HEDGE_AFTER_PERCENTILES: &[f64] = &[50.0, 90.0, 95.0, 99.0];
/// The `hedge` preset's straggler mixture: share and slow-down.
pub const HEDGE_STRAGGLERS: (f64, f64) = (0.01, 50.0);

/// Concurrency of the `scale` preset.
pub const SCALE_CONCURRENCY: &[usize] =
    &[10_000, 15_000, 20_000, 30_000, 50_000, 100_000, 1_000_000];
/// The `scale` preset's delay D at every C, ms: long enough that a ramp to a million streams
/// (its point outlasted D by 11 to 21 s on the 2-core machine of `results/`) ends while the
/// first are still held — each point's server peak in flight says whether it did — and short
/// enough that the preset runs within 10 minutes there (the rule's C / 5,000 s would be 200 s at 1,000,000, above
/// the mock server's 60 s maximum delay).
pub const SCALE_DELAY_MS: u64 = 15_000;
/// The `scale` preset's per-request deadline at least, ms: above D, with the ramp's time.
pub const SCALE_TIMEOUT_MS: u64 = 120_000;
/// A scale point's time limit at least: D, the ramp to a million, and their deadline.
pub const SCALE_TIME_LIMIT: std::time::Duration = std::time::Duration::from_secs(420);

impl Preset {
    /// `plan` turned into this preset: its strategies, concurrency, varied setting or delay
    /// distribution. The repeats, time limit and other settings stay the caller's.
    pub fn apply(self, plan: &mut Plan) {
        match self {
            Self::Cpu => {
                plan.strategies = facts(&[
                    &thread_pool::STRATEGY,
                    &async_semaphore::STRATEGY,
                    &async_cpu_offload::STRATEGY,
                ]);
                plan.concurrency = vec![1_000];
                plan.vary = Some(Vary {
                    knob: Knob::CpuUs,
                    values: [0, 50, 500, 5_000].map(Varied::CpuUs).to_vec(),
                });
            }
            Self::Connect => {
                plan.strategies = facts(&[
                    &thread_pool::STRATEGY,
                    &async_semaphore::STRATEGY,
                    &thread_raw::STRATEGY,
                    &async_raw::STRATEGY,
                    &pitfall_client_per_request::STRATEGY,
                ]);
                plan.concurrency = vec![1_000];
                plan.vary = Some(Vary {
                    knob: Knob::ConnectDelayMs,
                    values: [0, 20, 50, 100].map(Varied::ConnectDelayMs).to_vec(),
                });
            }
            Self::Jitter => {
                plan.strategies = facts(&[
                    &thread_pool::STRATEGY,
                    &async_semaphore::STRATEGY,
                    &thread_raw::STRATEGY,
                    &async_raw::STRATEGY,
                ]);
                plan.concurrency = vec![10, 100, 1_000];
                plan.workload.settings.delay_dist = DelayDist::Lognormal;
                plan.workload.settings.delay_sigma = 1.0;
            }
            Self::Rate => {
                plan.strategies = facts(&[
                    &thread_pool::STRATEGY,
                    &thread_per_request::STRATEGY,
                    &async_semaphore::STRATEGY,
                    &thread_raw::STRATEGY,
                    &coroutine_raw::STRATEGY,
                    &async_raw::STRATEGY,
                    &uring_raw::STRATEGY,
                    &pitfall_unbounded::STRATEGY,
                ]);
                // The peers that take a rate (oha -q --latency-correction).
                plan.strategies
                    .extend(peers::rate_takers().map(|p| &p.subject));
                plan.concurrency = vec![100];
                plan.workload.sizing.delay_ms = Some(100);
                plan.workload.sizing.requests_per_slot = 20;
                plan.vary = Some(Vary {
                    knob: Knob::Rate,
                    values: RATES.iter().copied().map(Varied::Rate).collect(),
                });
                plan.bisect_knees = true;
            }
            Self::Overload => {
                plan.strategies = facts(&[
                    &thread_pool::STRATEGY,
                    &thread_per_request::STRATEGY,
                    &async_semaphore::STRATEGY,
                    &thread_raw::STRATEGY,
                    &coroutine_raw::STRATEGY,
                    &async_raw::STRATEGY,
                    &uring_raw::STRATEGY,
                    &pitfall_unbounded::STRATEGY,
                ]);
                plan.concurrency = vec![100];
                plan.workload.sizing.delay_ms = Some(100);
                plan.workload.sizing.requests_per_slot = 150;
                plan.workload.settings.rate = Some(RateProfile::Ramp(OVERLOAD_RAMP.to_vec()));
                plan.workload.settings.drop_after_ms = Some(250);
            }
            Self::OverloadPastWalls => {
                plan.strategies = facts(&[
                    &thread_pool::STRATEGY,
                    &async_semaphore::STRATEGY,
                    &thread_raw::STRATEGY,
                    &coroutine_raw::STRATEGY,
                    &async_raw::STRATEGY,
                    &uring_raw::STRATEGY,
                    &pitfall_unbounded::STRATEGY,
                ]);
                let (c, delay_ms) = PAST_WALLS_AT;
                plan.concurrency = vec![c];
                plan.workload.sizing.delay_ms = Some(delay_ms);
                plan.workload.sizing.requests_per_slot = 3;
                plan.workload.settings.rate = Some(RateProfile::Ramp(PAST_WALLS_RAMP.to_vec()));
                plan.workload.settings.drop_after_ms = Some(250);
                plan.time_limit = plan.time_limit.max(PAST_WALLS_TIME_LIMIT);
            }
            Self::Faults => {
                plan.strategies = facts(&[
                    &thread_raw::STRATEGY,
                    &thread_pool::STRATEGY,
                    &coroutine_raw::STRATEGY,
                    &async_raw::STRATEGY,
                    &async_semaphore::STRATEGY,
                    &smol_raw::STRATEGY,
                    &uring_raw::STRATEGY,
                    &uring_cyper::STRATEGY,
                    &async_h2_floor::STRATEGY,
                    &async_h2::STRATEGY,
                ]);
                plan.concurrency = vec![1_000];
                plan.workload.sizing.delay_ms = Some(100);
                plan.workload.sizing.requests_per_slot = 5;
                plan.workload.settings.timeout_ms = FAULTS_TIMEOUT_MS;
                let values = FaultKind::ALL
                    .into_iter()
                    .flat_map(|kind| {
                        FAULT_SHARES
                            .iter()
                            .map(move |&p| Varied::Fault(Some(FaultShare::of(kind, p))))
                    })
                    .collect();
                plan.vary = Some(Vary {
                    knob: Knob::Fault,
                    values,
                });
            }
            Self::Hedge => {
                // The floors, and the clients users hedge with (ureq, reqwest).
                plan.strategies = facts(&[
                    &thread_raw::STRATEGY,
                    &async_raw::STRATEGY,
                    &smol_raw::STRATEGY,
                    &thread_pool::STRATEGY,
                    &async_semaphore::STRATEGY,
                ]);
                plan.concurrency = vec![1_000];
                plan.workload.sizing.delay_ms = Some(HEDGE_DELAY_MS);
                plan.workload.sizing.requests_per_slot = 5;
                let (p, x) = HEDGE_STRAGGLERS;
                plan.workload.settings.straggler.straggler_p = p;
                plan.workload.settings.straggler.straggler_x = x;
                plan.vary = Some(Vary {
                    knob: Knob::HedgeAfter,
                    values: HEDGE_AFTER_MS
                        .iter()
                        .map(|&ms| {
                            Varied::HedgeAfter(if ms == 0 {
                                HedgeAt::Never
                            } else {
                                HedgeAt::Ms(ms)
                            })
                        })
                        .chain(
                            HEDGE_AFTER_PERCENTILES
                                .iter()
                                .map(|&p| Varied::HedgeAfter(HedgeAt::percentile(p))),
                        )
                        .collect(),
                });
            }
            Self::Scale => {
                plan.strategies = facts(&[
                    &thread_pool::STRATEGY,
                    &thread_raw::STRATEGY,
                    &coroutine_raw::STRATEGY,
                    &async_semaphore::STRATEGY,
                    &async_raw::STRATEGY,
                    &uring_raw::STRATEGY,
                    &async_h2::STRATEGY,
                    &async_h2_floor::STRATEGY,
                ]);
                plan.concurrency = SCALE_CONCURRENCY.to_vec();
                plan.workload.sizing.requests_per_slot = 1;
                plan.stop_at_walls = true;
                plan.workload.sizing.delay_ms = Some(SCALE_DELAY_MS);
                let timeout = &mut plan.workload.settings.timeout_ms;
                *timeout = (*timeout).max(SCALE_TIMEOUT_MS);
                plan.time_limit = plan.time_limit.max(SCALE_TIME_LIMIT);
            }
        }
    }

    /// Whether the preset runs past the OS limits on purpose (the preflight then warns of
    /// each wall instead of refusing its points).
    pub fn runs_past_limits(self) -> bool {
        matches!(self, Self::Scale | Self::OverloadPastWalls)
    }
}

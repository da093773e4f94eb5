//! The preset sweeps: `--quick`'s strategies and the `--workload` presets, where the answer
//! changes. They name strategies by their facts, so a misspelt one does not compile.

use super::plan::{Plan, Vary};
use crate::model::knob::Knob;
use crate::model::settings::DelayDist;
use crate::model::subject::Subject;
use crate::strategies::strategy::Strategy;
use crate::strategies::{
    async_buffered, async_cpu_offload, async_h2, async_raw, async_semaphore,
    pitfall_client_per_request, thread_per_request, thread_pool, thread_raw,
};

/// Strategies of `sweep --quick`.
pub fn quick() -> Vec<&'static Subject> {
    facts(&[
        &thread_per_request::STRATEGY,
        &thread_pool::STRATEGY,
        &async_semaphore::STRATEGY,
        &async_buffered::STRATEGY,
        &async_h2::STRATEGY,
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
}

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
                    values: vec![0, 50, 500, 5_000],
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
                    values: vec![0, 20, 50, 100],
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
        }
    }
}

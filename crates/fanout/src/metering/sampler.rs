//! The worker's own sampler: a thread that reads, every 2 ms, the client's requests in flight,
//! live threads, live heap and resident memory, keeping their peaks, a timeline and the split
//! of memory by cause near the peak. Where the figures come from on each platform is
//! `os`'s business.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::alloc::HeapCounts;
use super::usage::Usage;
use crate::model::memory::{Breakdown, TimelineSample};
use crate::model::tally::Tally;

/// The stack of threads nobody sized: Rust's `std::thread` default, and tokio's.
pub const DEFAULT_STACK_BYTES: u64 = 2 << 20;

/// How often the sampler reads the live thread count and the heap's live bytes.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(2);

pub use crate::os::{peak_rss_bytes, rss_bytes, threads};

/// Samples the live thread count, the heap's live bytes, resident memory and the client's
/// requests in flight on a thread of its own until stopped, keeping the peaks and a timeline;
/// and, while the client holds its target in flight, splits resident memory by cause near its
/// peak ([`Breakdown`], see `breakdown_due`).
#[derive(Debug)]
pub struct Sampler {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<Sampled>>,
}

/// What the [`Sampler`] saw.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sampled {
    /// Most threads alive at once, the sampler's own not counted.
    pub peak_threads: u64,
    /// Most heap bytes live at once (`None` without the counting allocator).
    pub peak_heap_bytes: Option<u64>,
    /// Most requests in flight at once, by the client's own count.
    pub peak_in_flight: u64,
    /// Resident memory by cause, taken near the peak while the client held its target in
    /// flight.
    pub breakdown: Option<Breakdown>,
    /// Resident memory and requests in flight over time, at most [`TIMELINE_SAMPLES`].
    pub timeline: Vec<TimelineSample>,
    /// The CPU time and context switches the sampler itself used.
    pub own_usage: Usage,
}

/// The most samples a timeline keeps: a longer one is cut into this many equal runs of
/// samples, each kept as its first time and its largest figures.
pub const TIMELINE_SAMPLES: usize = 100;

/// Takes the breakdown now, with `in_flight` requests in flight; `None` where the OS does
/// not tell resident stacks.
fn take_breakdown(
    in_flight: u64,
    kernel_before: Option<u64>,
    stack_sizes: &[u64],
) -> Option<Breakdown> {
    let started = std::time::Instant::now();
    let heap_bytes = heap_live();
    let (stack_bytes, rss_bytes) = crate::os::resident_stacks_and_total(stack_sizes)?;
    let kernel_tcp_bytes = crate::os::tcp_socket_memory_bytes()
        .zip(kernel_before)
        .map(|(now, before)| now as i64 - before as i64);
    Some(Breakdown::of(
        in_flight,
        rss_bytes,
        heap_bytes,
        stack_bytes,
        kernel_tcp_bytes,
        started.elapsed().as_secs_f64() * 1000.0,
    ))
}

/// `samples` cut into at most `most` equal runs, each kept as its first time and its largest
/// figures (so no peak is lost).
pub fn downsample(samples: &[TimelineSample], most: usize) -> Vec<TimelineSample> {
    if samples.len() <= most {
        return samples.to_vec();
    }
    samples
        .chunks(samples.len().div_ceil(most))
        .map(|run| TimelineSample {
            t_ms: run[0].t_ms,
            rss_bytes: run.iter().map(|s| s.rss_bytes).max().unwrap_or(0),
            in_flight: run.iter().map(|s| s.in_flight).max().unwrap_or(0),
        })
        .collect()
}

/// Whether to split memory now: the first time the client holds its `target` in flight, and
/// again whenever, still holding at least 90% of it, its RSS has grown 10% past the last
/// split — so the split lands near the peak (a few times per point at most; each costs a read
/// of `smaps`).
fn breakdown_due(
    last: Option<&Breakdown>,
    in_flight: u64,
    target: usize,
    rss: Option<u64>,
) -> bool {
    let target = target as u64;
    match last {
        None => in_flight >= target,
        Some(last) => {
            in_flight * 10 >= target * 9 && rss.is_some_and(|rss| rss * 10 > last.rss_bytes * 11)
        }
    }
}

fn heap_live() -> Option<u64> {
    HeapCounts::now().map(|h| u64::try_from(h.live_bytes).unwrap_or(0))
}

impl Sampler {
    /// Starts sampling every [`SAMPLE_EVERY`] the requests `tally` counts in flight; the
    /// breakdown is taken when they first reach `target`, counting as thread stacks the
    /// mappings of `stack_bytes` (the job's threads) or of Rust's and tokio's default 2 MiB.
    pub fn start(tally: Arc<Tally>, target: usize, stack_bytes: usize) -> std::io::Result<Self> {
        let stack_sizes = [stack_bytes as u64, DEFAULT_STACK_BYTES];
        let stop = Arc::new(AtomicBool::new(false));
        let kernel_before = crate::os::tcp_socket_memory_bytes();
        let handle = std::thread::Builder::new().name("sampler".into()).spawn({
            let stop = Arc::clone(&stop);
            move || {
                // Sampling reads `/proc` into strings: not the strategy's allocations.
                super::alloc::exclude_this_thread();
                let mut sampled = Sampled::default();
                let mut timeline = Vec::with_capacity(4096);
                let started = std::time::Instant::now();
                loop {
                    let stopping = stop.load(Ordering::Relaxed);
                    let in_flight = tally.in_flight() as u64;
                    let rss = memory_stats::memory_stats().map(|m| m.physical_mem as u64);
                    if let Some(rss_bytes) = rss {
                        timeline.push(TimelineSample {
                            t_ms: started.elapsed().as_secs_f64() * 1000.0,
                            rss_bytes,
                            in_flight,
                        });
                    }
                    sampled.peak_in_flight = sampled.peak_in_flight.max(in_flight);
                    if breakdown_due(sampled.breakdown.as_ref(), in_flight, target, rss) {
                        let taken = take_breakdown(in_flight, kernel_before, &stack_sizes);
                        sampled.breakdown = taken.or(sampled.breakdown);
                    }
                    if let Some(n) = threads() {
                        sampled.peak_threads = sampled.peak_threads.max(n);
                    }
                    if let Some(live) = heap_live() {
                        let peak = sampled.peak_heap_bytes.get_or_insert(0);
                        *peak = (*peak).max(live);
                    }
                    if stopping {
                        break; // one last sample after the work ended
                    }
                    std::thread::sleep(SAMPLE_EVERY);
                }
                sampled.peak_threads = sampled.peak_threads.saturating_sub(1);
                sampled.timeline = downsample(&timeline, TIMELINE_SAMPLES);
                // What sampling itself cost, to take out of the process's figures.
                sampled.own_usage = Usage::of_this_thread().unwrap_or_default();
                sampled
            }
        })?;
        Ok(Self {
            stop,
            handle: Some(handle),
        })
    }

    /// Stops sampling and returns what it saw.
    pub fn stop(mut self) -> Sampled {
        self.stop.store(true, Ordering::Relaxed);
        self.handle
            .take()
            .and_then(|handle| handle.join().ok())
            .unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_own_process_figures_are_there_and_plausible() {
        let (rss, peak) = (
            rss_bytes().expect("VmRSS"),
            peak_rss_bytes().expect("VmHWM"),
        );
        // Linux keeps RSS in per-CPU counters that /proc reads approximately (to a few
        // hundred KiB), and other tests allocate between the two reads.
        assert!(rss > 0 && peak + (1 << 20) >= rss, "rss {rss} peak {peak}");
        let tally = Arc::new(Tally::default());
        let sampler = Sampler::start(Arc::clone(&tally), 2, 1 << 20).expect("sampler");
        let (one, two) = (tally.start(), tally.start());
        let extra: Vec<_> = (0..3)
            .map(|_| {
                std::thread::Builder::new()
                    .stack_size(1 << 20)
                    .spawn(|| std::thread::sleep(Duration::from_millis(50)))
                    .expect("thread")
            })
            .collect();
        std::thread::sleep(Duration::from_millis(20));
        drop((one, two));
        let Sampled {
            peak_threads,
            own_usage: own,
            peak_in_flight,
            breakdown,
            timeline,
            ..
        } = sampler.stop();
        assert_eq!(peak_in_flight, 2);
        assert!(timeline.iter().any(|s| s.in_flight == 2), "{timeline:?}");
        assert!(timeline.iter().all(|s| s.rss_bytes > 0), "{timeline:?}");
        let breakdown = breakdown.expect("taken when 2 were in flight");
        assert_eq!(breakdown.in_flight, 2);
        // The test threads' stacks, at least the 4 pages each has touched.
        assert!(breakdown.stack_bytes >= 4 * 4096, "{breakdown:?}");
        assert!(breakdown.rss_bytes > breakdown.stack_bytes, "{breakdown:?}");
        assert!(
            own.voluntary > 0,
            "the sampler sleeps between samples: {own:?}"
        );
        extra.into_iter().for_each(|t| t.join().expect("join"));
        // The test thread, the 3 extra ones, maybe other tests' threads; not the sampler.
        assert!(peak_threads >= 4, "peak threads {peak_threads}");
    }

    #[test]
    fn a_long_timeline_keeps_its_peaks_in_fewer_samples() {
        let samples: Vec<_> = (0..1000)
            .map(|i| TimelineSample {
                t_ms: i as f64,
                rss_bytes: if i == 537 { 99 } else { 1 },
                in_flight: i,
            })
            .collect();
        let short = downsample(&samples, TIMELINE_SAMPLES);
        assert_eq!(short.len(), 100);
        assert_eq!(short.iter().map(|s| s.rss_bytes).max(), Some(99));
        assert_eq!(short[1].t_ms, 10.0);
        assert_eq!(short[99].in_flight, 999);
        assert_eq!(downsample(&samples[..5], 100).len(), 5);
    }

    #[test]
    fn the_split_is_taken_at_the_target_then_again_as_memory_grows_past_it() {
        assert!(!breakdown_due(None, 99, 100, Some(1_000)));
        assert!(breakdown_due(None, 100, 100, None));
        let last = Breakdown::of(100, 1_000, None, 0, None, 1.0);
        assert!(
            !breakdown_due(Some(&last), 100, 100, Some(1_100)),
            "grown 10%, not past"
        );
        assert!(breakdown_due(Some(&last), 95, 100, Some(1_101)));
        assert!(
            !breakdown_due(Some(&last), 89, 100, Some(5_000)),
            "no longer holding C"
        );
        assert!(!breakdown_due(Some(&last), 100, 100, None));
    }

    #[test]
    fn the_breakdown_adds_up_to_rss() {
        let b = Breakdown::of(100, 10_000, Some(3_000), 2_000, Some(500), 1.0);
        assert_eq!(b.other_bytes, 5_000);
        let b = Breakdown::of(100, 10_000, None, 2_000, None, 1.0);
        assert_eq!(
            b.other_bytes, 8_000,
            "without heap counts, other holds the heap"
        );
        let untouched = Breakdown::of(1, 1_000, Some(4_000), 0, None, 1.0);
        assert_eq!(untouched.other_bytes, -3_000);
    }
}

//! The worker's own sampler: the little that must be read inside the measured process. A
//! thread reads, every 20 ms, the client's requests in flight and the heap's live bytes —
//! atomics, no system call but the clock and its sleep — keeps their peaks and a timeline of requests in
//! flight, and tells the harness, with a [`Holding`] line on stdout, when the client holds its
//! designed in-flight count (and every 100 ms while it still does), so the harness splits the
//! worker's memory then, reading `/proc/PID/…` from outside. Resident memory, threads and
//! stacks are all read from outside (`outside.rs`): this thread's own CPU is the meter's cost
//! in the worker, reported per point.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

use super::alloc::HeapCounts;
use super::usage::Usage;
use crate::model::memory::InFlightSample;
use crate::model::tally::Tally;
use crate::model::worker_report::Holding;

/// The stack of threads nobody sized: Rust's `std::thread` default, and tokio's.
pub const DEFAULT_STACK_BYTES: u64 = 2 << 20;

/// How often the sampler reads the client's in-flight count and the heap's live bytes. A
/// wake-up costs it about 25 µs of CPU (measured: 12 ms over 450 wake-ups in a 4.5 s point);
/// at 2 ms that was up to 5% of a light worker's CPU (`async_h2` at C = 10,000: 27 ms of
/// 0.51 s), at 10 ms 1.6% (`async_h2`, `async_raw` at C = 10,000). Every request is held for
/// D ≥ 100 ms by default, so 20 ms still sees every peak of requests in flight.
pub const SAMPLE_EVERY: Duration = Duration::from_millis(20);

/// While the client holds its target, how often it says so again (the harness splits again
/// only where resident memory grew).
const HOLDING_EVERY_NS: u64 = 100_000_000;

/// The most in-flight samples kept: past it, every other one goes (the larger of each pair
/// kept) and the sampling stride doubles, so a long point costs no more memory than a short one.
const MOST_SAMPLES: usize = 2_048;

pub use crate::os::{peak_rss_bytes, rss_bytes};

/// Samples the client's requests in flight and the heap's live bytes on a thread of its own
/// until stopped (see the module's text).
#[derive(Debug)]
pub struct Sampler {
    stop: Arc<AtomicBool>,
    handle: Option<JoinHandle<Sampled>>,
}

/// What the [`Sampler`] saw.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Sampled {
    /// Most heap bytes live at once (`None` without the counting allocator).
    pub peak_heap_bytes: Option<u64>,
    /// Most requests in flight at once, by the client's own count.
    pub peak_in_flight: u64,
    /// Requests in flight over time (at most [`MOST_SAMPLES`]).
    pub in_flight: Vec<InFlightSample>,
    /// The CPU time and context switches the sampler itself used: the meter's cost.
    pub own_usage: Usage,
}

/// Whether to say "holding" now: the first time the client holds its `target` in flight,
/// then every [`HOLDING_EVERY_NS`] while it still holds at least 90% of it.
fn holding_due(last: Option<&Holding>, now_ns: u64, in_flight: u64, target: usize) -> bool {
    let target = target as u64;
    match last {
        None => in_flight >= target,
        Some(last) => {
            in_flight * 10 >= target * 9 && now_ns.saturating_sub(last.t_ns) >= HOLDING_EVERY_NS
        }
    }
}

fn heap_live() -> Option<u64> {
    HeapCounts::now().map(|h| u64::try_from(h.live_bytes).unwrap_or(0))
}

/// Keeps at most [`MOST_SAMPLES`] samples: when full, pairs merge into their larger one and
/// the stride doubles.
#[derive(Debug, Default)]
struct Samples {
    kept: Vec<InFlightSample>,
    stride: usize,
    seen: usize,
}

impl Samples {
    fn push(&mut self, sample: InFlightSample) {
        self.seen += 1;
        if !self.seen.is_multiple_of(self.stride.max(1)) {
            // Between kept samples, the largest count still reaches the last one kept.
            if let Some(last) = self.kept.last_mut() {
                last.in_flight = last.in_flight.max(sample.in_flight);
            }
            return;
        }
        if self.kept.len() == MOST_SAMPLES {
            self.kept = self
                .kept
                .chunks(2)
                .map(|pair| *pair.iter().max_by_key(|s| s.in_flight).unwrap_or(&pair[0]))
                .collect();
            self.stride = self.stride.max(1) * 2;
        }
        self.kept.push(sample);
    }
}

impl Sampler {
    /// Starts sampling every [`SAMPLE_EVERY`] the requests `tally` counts in flight, calling
    /// `holding` (which tells the harness) when they reach `target` and while they stay near it.
    pub fn start(
        tally: Arc<Tally>,
        target: usize,
        holding: impl Fn(&Holding) + Send + 'static,
    ) -> std::io::Result<Self> {
        let stop = Arc::new(AtomicBool::new(false));
        let handle = std::thread::Builder::new().name("sampler".into()).spawn({
            let stop = Arc::clone(&stop);
            move || {
                // Telling the harness formats a line: not the strategy's allocations.
                super::alloc::exclude_this_thread();
                let mut sampled = Sampled::default();
                let mut samples = Samples::default();
                let mut last: Option<Holding> = None;
                loop {
                    let stopping = stop.load(Ordering::Relaxed);
                    let t_ns = crate::os::monotonic_ns();
                    let in_flight = tally.in_flight() as u64;
                    let heap = heap_live();
                    samples.push(InFlightSample { t_ns, in_flight });
                    sampled.peak_in_flight = sampled.peak_in_flight.max(in_flight);
                    if let Some(live) = heap {
                        let peak = sampled.peak_heap_bytes.get_or_insert(0);
                        *peak = (*peak).max(live);
                    }
                    if !stopping && holding_due(last.as_ref(), t_ns, in_flight, target) {
                        let now = Holding {
                            t_ns,
                            in_flight,
                            heap_bytes: heap,
                        };
                        holding(&now);
                        last = Some(now);
                    }
                    if stopping {
                        break; // one last sample after the work ended
                    }
                    std::thread::sleep(SAMPLE_EVERY);
                }
                sampled.in_flight = samples.kept;
                // What sampling itself cost: the meter's share of the process's figures.
                sampled.own_usage = Usage::of_this_thread().unwrap_or_default();
                sampled
            }
        })?;
        Ok(Self {
            stop,
            handle: Some(handle),
        })
    }

    /// Stops sampling and returns what it saw, or why it saw nothing: a sampler thread that
    /// panicked has no figures, and zeros must not stand in for them.
    pub fn stop(mut self) -> Result<Sampled, String> {
        self.stop.store(true, Ordering::Relaxed);
        let handle = self.handle.take().ok_or("the sampler was stopped twice")?;
        handle.join().map_err(|panic| {
            let said = panic
                .downcast_ref::<&str>()
                .map(|s| (*s).to_owned())
                .or_else(|| panic.downcast_ref::<String>().cloned())
                .unwrap_or_else(|| "no message".into());
            format!("the sampler thread panicked: {said}")
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use super::*;

    #[test]
    fn the_sampler_sees_what_is_in_flight_and_says_when_the_target_is_held() {
        let (rss, peak) = (
            rss_bytes().expect("VmRSS"),
            peak_rss_bytes().expect("VmHWM"),
        );
        // Linux keeps RSS in per-CPU counters that /proc reads approximately (to a few
        // hundred KiB), and other tests allocate between the two reads.
        assert!(rss > 0 && peak + (1 << 20) >= rss, "rss {rss} peak {peak}");
        let tally = Arc::new(Tally::default());
        let told = Arc::new(Mutex::new(Vec::new()));
        let sampler = Sampler::start(Arc::clone(&tally), 2, {
            let told = Arc::clone(&told);
            move |h: &Holding| told.lock().expect("lock").push(*h)
        })
        .expect("sampler");
        let (one, two) = (tally.start(), tally.start());
        // Held until the sampler has seen them (it says so once), however late it samples.
        for _ in 0..1_000 {
            if !told.lock().expect("lock").is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        drop((one, two));
        let Sampled {
            own_usage: own,
            peak_in_flight,
            in_flight,
            ..
        } = sampler.stop().expect("the sampler ran");
        assert_eq!(peak_in_flight, 2);
        assert!(in_flight.iter().any(|s| s.in_flight == 2), "{in_flight:?}");
        assert!(in_flight.windows(2).all(|w| w[0].t_ns <= w[1].t_ns));
        let told = told.lock().expect("lock");
        assert_eq!(told.first().map(|h| h.in_flight), Some(2), "{told:?}");
        assert!(
            own.voluntary > 0,
            "the sampler sleeps between samples: {own:?}"
        );
    }

    #[test]
    fn holding_is_said_at_the_target_then_again_while_near_it() {
        assert!(!holding_due(None, 0, 99, 100));
        assert!(holding_due(None, 0, 100, 100));
        let last = Holding {
            t_ns: 1_000,
            in_flight: 100,
            heap_bytes: None,
        };
        assert!(!holding_due(
            Some(&last),
            1_000 + HOLDING_EVERY_NS - 1,
            100,
            100
        ));
        assert!(holding_due(Some(&last), 1_000 + HOLDING_EVERY_NS, 95, 100));
        assert!(
            !holding_due(Some(&last), 10 * HOLDING_EVERY_NS, 89, 100),
            "no longer holding C"
        );
    }

    #[test]
    fn a_long_run_of_samples_keeps_its_peaks_in_bounded_memory() {
        let mut samples = Samples::default();
        for i in 0..100_000_u64 {
            let in_flight = if i == 54_321 { 999 } else { 1 };
            samples.push(InFlightSample { t_ns: i, in_flight });
        }
        assert!(samples.kept.len() <= MOST_SAMPLES);
        assert!(samples.kept.len() > MOST_SAMPLES / 4);
        assert!(
            samples.kept.iter().any(|s| s.in_flight == 999),
            "the peak is kept"
        );
    }
}

//! The worker's counting allocator: the system allocator, plus live bytes, allocations and
//! bytes allocated, so a point can say how much of its memory and work is heap.
//!
//! Counts go to one of [`SHARDS`] cache-line-sized counters picked per thread, never to one
//! shared counter: at 10,000 threads a single contended atomic per allocation would cost
//! more than what it measures. The first [`OWNED`] threads each own a shard that only they
//! write, with a plain load and store: even an uncontended `fetch_add` is a locked
//! instruction, and four of them per allocation and free were about 4% of the HTTP/2
//! floor's CPU. Later threads share the other shards, with `fetch_add`. [`HeapCounts::now`]
//! adds the shards up; a sum taken while other threads allocate is off by their allocations
//! in flight, no more.
//!
//! A binary opts in with `#[global_allocator] static HEAP: fanout::alloc::Counting =
//! fanout::alloc::Counting;` (the `fanout` binary and the sweep benchmark do); elsewhere, and
//! when the worker's environment has `FANOUT_HEAP_COUNTS=0` (to measure what counting costs),
//! [`HeapCounts::now`] is `None`.

// A global allocator is unsafe by contract: it hands out raw memory. This module only adds
// counting around `std::alloc::System`, passing every pointer and layout through unchanged.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, AtomicUsize, Ordering};

/// The worker's environment variable that, set to `0`, turns counting off.
pub const HEAP_COUNTS_VAR: &str = "FANOUT_HEAP_COUNTS";

/// Counters the threads spread over: [`OWNED`] owned, then 64 shared.
pub const SHARDS: usize = OWNED + 64;
/// Threads that own a shard: the first ones a process starts (a worker's runtime threads
/// among them). The shards past these are shared, in turn, by every later thread, as many as
/// every thread shared before some were owned.
pub const OWNED: usize = 48;

/// One thread group's counters, alone on its cache line.
#[repr(align(64))]
struct Shard {
    live: AtomicI64,
    allocations: AtomicU64,
    allocated: AtomicU64,
}

#[allow(clippy::declare_interior_mutable_const)] // a template for the array, as intended
const EMPTY: Shard = Shard {
    live: AtomicI64::new(0),
    allocations: AtomicU64::new(0),
    allocated: AtomicU64::new(0),
};
static COUNTS: [Shard; SHARDS] = [EMPTY; SHARDS];
static NEXT_SHARD: AtomicUsize = AtomicUsize::new(0);
/// Set by the first counted allocation: the binary installed [`Counting`].
static INSTALLED: AtomicBool = AtomicBool::new(false);
static ENABLED: AtomicBool = AtomicBool::new(true);

thread_local! {
    // `const` and without a destructor: reading it never allocates, as an allocator must not.
    static MY_SHARD: Cell<usize> = const { Cell::new(usize::MAX) };
}

/// The shard of a thread whose allocations are not counted.
const UNCOUNTED: usize = usize::MAX - 1;

/// The shard of the `nth` thread to count: its own among the first [`OWNED`], then the
/// shared ones in turn.
fn shard_of(nth: usize) -> usize {
    if nth < OWNED {
        nth
    } else {
        OWNED + (nth - OWNED) % (SHARDS - OWNED)
    }
}

/// This thread's shard and whether it owns it; `None` for an uncounted thread.
fn my_shard() -> Option<(&'static Shard, bool)> {
    let index = MY_SHARD
        .try_with(|mine| {
            if mine.get() == usize::MAX {
                mine.set(shard_of(NEXT_SHARD.fetch_add(1, Ordering::Relaxed)));
            }
            mine.get()
        })
        // A thread tearing down its locals: a shared shard, never another's own.
        .unwrap_or(OWNED);
    COUNTS.get(index).map(|shard| (shard, index < OWNED))
}

/// From now on this thread's allocations are not counted: for the meter's own sampling
/// thread, whose reads of `/proc` are not the strategy's work. Its memory must be freed on
/// this thread too (or the live count drifts).
pub fn exclude_this_thread() {
    let _ = MY_SHARD.try_with(|mine| mine.set(UNCOUNTED));
}

fn count(grown: i64, allocated: usize) {
    if !ENABLED.load(Ordering::Relaxed) {
        return;
    }
    let Some((shard, owned)) = my_shard() else {
        return;
    };
    if owned {
        // Only this thread writes it: readers see one value or the next, never a torn one.
        let live = shard.live.load(Ordering::Relaxed);
        shard
            .live
            .store(live.wrapping_add(grown), Ordering::Relaxed);
        if allocated > 0 {
            let allocations = shard.allocations.load(Ordering::Relaxed);
            shard.allocations.store(allocations + 1, Ordering::Relaxed);
            let bytes = shard.allocated.load(Ordering::Relaxed);
            shard
                .allocated
                .store(bytes + allocated as u64, Ordering::Relaxed);
        }
    } else {
        shard.live.fetch_add(grown, Ordering::Relaxed);
        if allocated > 0 {
            shard.allocations.fetch_add(1, Ordering::Relaxed);
            shard
                .allocated
                .fetch_add(allocated as u64, Ordering::Relaxed);
        }
    }
    // Read first: a store on every allocation would pull this line to each core in turn.
    if !INSTALLED.load(Ordering::Relaxed) {
        INSTALLED.store(true, Ordering::Relaxed);
    }
}

fn signed(bytes: usize) -> i64 {
    i64::try_from(bytes).unwrap_or(i64::MAX)
}

/// The system allocator, counted.
#[derive(Debug, Clone, Copy, Default)]
pub struct Counting;

// SAFETY: every call goes to `System` with the caller's own pointer and layout; the counting
// around it touches only atomics and a const thread-local, and never allocates.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc`, passed on.
        let ptr = unsafe { System.alloc(layout) };
        if !ptr.is_null() {
            count(signed(layout.size()), layout.size());
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract for `alloc_zeroed`, passed on.
        let ptr = unsafe { System.alloc_zeroed(layout) };
        if !ptr.is_null() {
            count(signed(layout.size()), layout.size());
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract for `dealloc`, passed on.
        unsafe { System.dealloc(ptr, layout) };
        count(-signed(layout.size()), 0);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: the caller's contract for `realloc`, passed on.
        let new = unsafe { System.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            // A reallocation counts as one allocation of the bytes it added.
            let grown = signed(new_size) - signed(layout.size());
            count(grown, new_size.saturating_sub(layout.size()).max(1));
        }
        new
    }
}

/// Stops counting (allocations still go to the system allocator): what the process then
/// measures is what it costs without the counts.
pub fn disable() {
    ENABLED.store(false, Ordering::Relaxed);
}

/// The heap's counters at one moment, summed over the shards.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct HeapCounts {
    /// Bytes allocated and not yet freed (since the process started).
    pub live_bytes: i64,
    /// Allocations so far (reallocations included).
    pub allocations: u64,
    /// Bytes allocated so far (a reallocation adds what it grew by).
    pub allocated_bytes: u64,
}

impl HeapCounts {
    /// The counts now; `None` when this binary does not count or counting is disabled.
    pub fn now() -> Option<Self> {
        if !INSTALLED.load(Ordering::Relaxed) || !ENABLED.load(Ordering::Relaxed) {
            return None;
        }
        let mut sum = Self::default();
        for shard in &COUNTS {
            sum.live_bytes += shard.live.load(Ordering::Relaxed);
            sum.allocations += shard.allocations.load(Ordering::Relaxed);
            sum.allocated_bytes += shard.allocated.load(Ordering::Relaxed);
        }
        Some(sum)
    }

    /// What happened between `earlier` and `self`; live bytes are `self`'s.
    pub fn since(&self, earlier: &Self) -> Self {
        Self {
            live_bytes: self.live_bytes,
            allocations: self.allocations.saturating_sub(earlier.allocations),
            allocated_bytes: self.allocated_bytes.saturating_sub(earlier.allocated_bytes),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_first_threads_own_a_shard_and_later_ones_share_the_rest_in_turn() {
        assert_eq!(shard_of(0), 0);
        assert_eq!(shard_of(OWNED - 1), OWNED - 1);
        let shared: Vec<usize> = (OWNED..OWNED + 2 * (SHARDS - OWNED))
            .map(shard_of)
            .collect();
        assert!(
            shared.iter().all(|&s| (OWNED..SHARDS).contains(&s)),
            "{shared:?}"
        );
        assert_eq!(shared[0], shared[SHARDS - OWNED], "in turn");
    }

    /// The test binary does not install `Counting`: drive its counting directly.
    #[test]
    fn a_known_allocation_pattern_is_counted() {
        let counting = Counting;
        let before = COUNTS
            .iter()
            .map(|s| s.allocations.load(Ordering::Relaxed))
            .sum::<u64>();
        let live = || {
            COUNTS
                .iter()
                .map(|s| s.live.load(Ordering::Relaxed))
                .sum::<i64>()
        };
        let live_before = live();
        let layout = Layout::from_size_align(1000, 8).expect("layout");
        // SAFETY: a layout of non-zero size; every pointer is freed with the layout it has.
        unsafe {
            let a = counting.alloc(layout);
            let b = counting.alloc_zeroed(layout);
            assert!(!a.is_null() && !b.is_null());
            assert_eq!(live() - live_before, 2000);
            let a = counting.realloc(a, layout, 3000);
            assert_eq!(live() - live_before, 4000);
            counting.dealloc(a, Layout::from_size_align(3000, 8).expect("layout"));
            counting.dealloc(b, layout);
        }
        assert_eq!(live(), live_before, "every byte freed");
        let after = COUNTS
            .iter()
            .map(|s| s.allocations.load(Ordering::Relaxed))
            .sum::<u64>();
        assert_eq!(after - before, 3, "alloc, alloc_zeroed, realloc");
        let counts = HeapCounts::now().expect("counted above, so counting");
        let since = counts.since(&HeapCounts::default());
        assert!(since.allocated_bytes >= 4000, "{since:?}");
    }
}

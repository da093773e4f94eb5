//! Threads parked until released, for measuring what a thread costs (the floors, the
//! preflight's mappings per thread): each sleeps until the batch is dropped, having allocated
//! once (as a strategy's threads do) where asked.

use std::sync::Arc;
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;
use std::time::Duration;

/// Parked threads, released and joined when dropped.
pub struct Parked {
    release: Arc<AtomicBool>,
    threads: Vec<JoinHandle<()>>,
    /// Threads that could not be spawned.
    pub refused: usize,
}

impl Parked {
    /// No threads yet.
    pub fn new() -> Self {
        Self {
            release: Arc::new(AtomicBool::new(false)),
            threads: Vec::new(),
            refused: 0,
        }
    }

    /// Spawns `n` more, with Rust's default stack, each allocating once first if `allocate`
    /// (and so making glibc's arenas), and gives them a moment to start.
    pub fn spawn(&mut self, n: usize, allocate: bool) {
        for _ in 0..n {
            let release = Arc::clone(&self.release);
            let spawned = std::thread::Builder::new().spawn(move || {
                let touched = allocate.then(|| std::hint::black_box(vec![0_u8; 64]));
                while !release.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(5));
                }
                drop(touched);
            });
            match spawned {
                Ok(thread) => self.threads.push(thread),
                Err(_) => self.refused += 1,
            }
        }
        std::thread::sleep(Duration::from_millis(20));
    }

    /// Threads parked now.
    pub fn len(&self) -> usize {
        self.threads.len()
    }

    /// No thread parked.
    pub fn is_empty(&self) -> bool {
        self.threads.is_empty()
    }
}

impl Default for Parked {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for Parked {
    fn drop(&mut self) {
        self.release.store(true, Ordering::Relaxed);
        for thread in self.threads.drain(..) {
            let _ = thread.join();
        }
    }
}

/// Memory mappings one more thread adds in this process, measured once: the slope between
/// two batches of parked threads, so the first threads' extra mappings (glibc gives each new
/// thread that allocates an arena of its own, up to 8 per core) do not count. A Rust thread
/// holds four: its stack and guard, its signal stack and guard. `None` where the OS does not
/// tell.
pub fn mappings_per_thread() -> Option<f64> {
    static MEASURED: OnceLock<Option<f64>> = OnceLock::new();
    *MEASURED.get_or_init(|| {
        const BATCH: usize = 64;
        // Past the arenas: every batch after the first 8 per core meets only full arenas.
        let warm = (8 * super::cores()).div_ceil(BATCH).max(1);
        let mut parked = Parked::new();
        parked.spawn(warm * BATCH, true);
        let before = super::mapping_count();
        parked.spawn(BATCH, true);
        let after = super::mapping_count();
        let all_spawned = parked.refused == 0;
        drop(parked);
        let (before, after) = (before?, after?);
        all_spawned.then(|| after.saturating_sub(before) as f64 / BATCH as f64)
    })
}

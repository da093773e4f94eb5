//! The kernel reading on a synthetic load whose figure is known: parked threads move
//! `KernelStack` by one kernel stack each (16 KiB on x86_64), open loopback connections move
//! the slab by a few KiB each. Its own test binary, so no other test's threads or sockets come
//! and go meanwhile. The mappings a thread holds, which meet `vm.max_map_count`, likewise.

use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Barrier};

use fanout::model::memory::KernelGrowth;
use fanout::os;

mod common;

const THREADS: usize = 1_000;
const CONNECTIONS: usize = 1_000;

fn parked_threads_and_open_sockets_move_the_kernel_by_their_known_cost() {
    let Some(before) = os::kernel_memory() else {
        common::skipped(
            "kernel cost of threads and sockets",
            "the OS does not tell its kernel memory here",
        );
        return;
    };
    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let pairs: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let client = TcpStream::connect(addr).expect("connect");
            let (server, _) = listener.accept().expect("accept");
            (client, server)
        })
        .collect();
    let with_sockets = os::kernel_memory().expect("kernel memory");
    let sockets = KernelGrowth::between(&before, &with_sockets);
    if !sockets.slab_caches.is_empty() {
        // Where /proc/slabinfo is readable, the socket caches alone say the same.
        let caches: i64 = ["TCP", "sock_inode_cache", "dentry", "filp"]
            .iter()
            .filter_map(|c| sockets.slab_caches.get(*c))
            .sum();
        let kib = caches as f64 / CONNECTIONS as f64 / 1024.0;
        assert!(
            (3.0..=30.0).contains(&kib),
            "{kib} KiB in socket caches: {sockets:?}"
        );
    }
    let per_connection_kib = sockets.slab_bytes() as f64 / CONNECTIONS as f64 / 1024.0;
    // Both ends of each connection: a socket, its inode and dentry, its file, each.
    assert!(
        (3.0..=30.0).contains(&per_connection_kib),
        "{per_connection_kib} KiB of slab per connection (both ends): {sockets:?}"
    );
    // Threads after sockets: a joined thread's task struct is freed later (RCU), and would
    // blur a reading taken after it.
    let before = os::kernel_memory().expect("kernel memory");
    let release = Arc::new(Barrier::new(THREADS + 1));
    let parked: Vec<_> = (0..THREADS)
        .map(|_| {
            let release = Arc::clone(&release);
            std::thread::Builder::new()
                .stack_size(64 * 1024)
                .spawn(move || {
                    release.wait();
                })
                .expect("a thread")
        })
        .collect();
    let with_threads = os::kernel_memory().expect("kernel memory");
    release.wait();
    parked.into_iter().for_each(|t| t.join().expect("join"));
    drop(pairs); // kept open until now: their teardown would blur the threads' reading
    let threads = KernelGrowth::between(&before, &with_threads);
    let stack_kib = threads.kernel_stack_bytes as f64 / THREADS as f64 / 1024.0;
    if cfg!(target_arch = "x86_64") {
        // THREAD_SIZE is 16 KiB on x86_64; other processes' threads are noise around it.
        assert!(
            (14.0..=18.0).contains(&stack_kib),
            "{stack_kib} KiB per thread: {threads:?}"
        );
    }
    let slab_kib = threads.slab_bytes() as f64 / THREADS as f64 / 1024.0;
    assert!(
        (4.0..=12.0).contains(&slab_kib),
        "{slab_kib} KiB of slab per thread"
    );

    eprintln!(
        "per thread: kernel stack {stack_kib:.2} KiB, slab {slab_kib:.2} KiB; per loopback \
         connection (both ends): slab {per_connection_kib:.2} KiB"
    );
}

/// One test, so the two readings never overlap (tests of one binary run in parallel).
#[test]
fn the_kernel_and_the_map_count_are_read_on_known_loads() {
    parked_threads_and_open_sockets_move_the_kernel_by_their_known_cost();
    a_thread_holds_four_mappings_and_the_preflight_puts_the_wall_where_they_run_out();
}

fn a_thread_holds_four_mappings_and_the_preflight_puts_the_wall_where_they_run_out() {
    use fanout::os::machine::Limits;
    use fanout::os::parked::mappings_per_thread;
    use fanout::planning::{catalog, point::Point};
    use fanout::run::preflight;
    let Some(per_thread) = mappings_per_thread() else {
        common::skipped(
            "mappings per thread",
            "the OS does not tell its mappings here",
        );
        return;
    };
    // std's threads: stack and guard, signal stack and guard.
    assert!(
        (3.5..=4.5).contains(&per_thread),
        "{per_thread} maps per thread"
    );
    let limits = Limits {
        max_map_count: Some(65_530),
        ..Limits::default()
    };
    let at = |c| {
        let point = Point::new(catalog::find("thread_raw").expect("strategy"), c);
        preflight::check(&[point], &limits)
            .into_iter()
            .any(|f| f.limit == fanout::model::limit::Limit::MaxMapCount)
    };
    assert!(at(17_000), "16,369 threads aborted here: refused");
    assert!(!at(15_000), "15,000 fit");
}

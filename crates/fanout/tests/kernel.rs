//! The kernel reading on a synthetic load whose figure is known: parked threads cost the
//! kernel a kernel stack each (16 KiB on x86_64) and some slab, open loopback connections a
//! few KiB of slab each. Read from a memory cgroup this test process moves itself into, as a
//! worker is metered, so no other process on the machine moves the figure; where no cgroup
//! can be made, the test says why and passes. Its own test binary, so no other test's threads
//! or sockets come and go meanwhile. The mappings a thread holds, which meet
//! `vm.max_map_count`, likewise.

use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Barrier};

use fanout::os::cgroup::MemoryCgroup;

mod common;

const THREADS: usize = 1_000;
const CONNECTIONS: usize = 1_000;

fn parked_threads_and_open_sockets_move_the_kernel_by_their_known_cost() {
    let cgroup = match MemoryCgroup::create() {
        Ok(cgroup) => cgroup,
        Err(why) => {
            common::skipped("kernel cost of threads and sockets", &why.to_string());
            return;
        }
    };
    use std::io::Write as _;
    // This process, every thread of it, is charged to the cgroup from here on (until the
    // cgroup is dropped, which moves it back).
    write!(
        cgroup.procs().expect("cgroup.procs"),
        "{}",
        std::process::id()
    )
    .expect("move in");
    let kernel = || {
        cgroup
            .kernel_now()
            .expect("the cgroup's kernel memory")
            .kernel_bytes
    };
    let kib_each =
        |before: u64, after: u64, n: usize| (after as f64 - before as f64) / n as f64 / 1024.0;

    let _ = rlimit::increase_nofile_limit(u64::MAX);
    let before = kernel();
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let pairs: Vec<_> = (0..CONNECTIONS)
        .map(|_| {
            let client = TcpStream::connect(addr).expect("connect");
            let (server, _) = listener.accept().expect("accept");
            (client, server)
        })
        .collect();
    let per_connection_kib = kib_each(before, kernel(), CONNECTIONS);
    // Both ends of each connection: a socket, its inode and dentry, its file, each.
    assert!(
        (3.0..=30.0).contains(&per_connection_kib),
        "{per_connection_kib} KiB of kernel memory per connection (both ends)"
    );
    // Threads after sockets: a joined thread's task struct is freed later (RCU), and would
    // blur a reading taken after it.
    let before = kernel();
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
    let per_thread_kib = kib_each(before, kernel(), THREADS);
    release.wait();
    parked.into_iter().for_each(|t| t.join().expect("join"));
    drop(pairs); // kept open until now: their teardown would blur the threads' reading
    if cfg!(target_arch = "x86_64") {
        // THREAD_SIZE is 16 KiB on x86_64, and the task's structures some KiB of slab more.
        assert!(
            (16.0..=40.0).contains(&per_thread_kib),
            "{per_thread_kib} KiB of kernel memory per thread"
        );
    }
    eprintln!(
        "per thread: {per_thread_kib:.2} KiB of kernel memory; per loopback connection (both \
         ends): {per_connection_kib:.2} KiB"
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

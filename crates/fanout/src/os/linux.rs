//! Linux: `/proc/self/status` (and `/proc/PID/status` of a worker), `/proc/net/netstat`, `/proc/sys`, the cgroup tree, and
//! `getrusage(RUSAGE_THREAD)`.

use std::collections::BTreeMap;
use std::path::Path;

use super::readings::ListenCounters;
use super::readings::{KernelMemory, ProcessStatus};

/// A field of a `/proc` status-like file such as `VmHWM:    1234 kB` or `Threads:  5`; sizes
/// in kB are returned in bytes.
fn status_field(status: &str, name: &str) -> Option<u64> {
    let line = status
        .lines()
        .find_map(|l| l.strip_prefix(name)?.strip_prefix(':'))?;
    let mut words = line.split_whitespace();
    let value: u64 = words.next()?.parse().ok()?;
    match words.next() {
        Some("kB") => value.checked_mul(1024),
        Some(_) => None,
        None => Some(value),
    }
}

fn read_trimmed(path: impl AsRef<Path>) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_owned())
}

fn own_status(name: &str) -> Option<u64> {
    status_field(&std::fs::read_to_string("/proc/self/status").ok()?, name)
}

/// This process's resident memory now, bytes (`VmRSS`).
pub fn rss_bytes() -> Option<u64> {
    own_status("VmRSS")
}

/// This process's peak resident memory since exec, bytes (`VmHWM`; unlike a waited child's
/// `ru_maxrss`, not inherited from the parent).
pub fn peak_rss_bytes() -> Option<u64> {
    own_status("VmHWM")
}

/// Another process's peak resident memory so far and its live threads now, read from
/// outside (`/proc/PID/status`); `None` once it has exited (its memory is gone then).
pub fn process_status(pid: u32) -> Option<ProcessStatus> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    Some(ProcessStatus {
        peak_rss_bytes: status_field(&status, "VmHWM")?,
        rss_bytes: status_field(&status, "VmRSS")?,
        threads: status_field(&status, "Threads")?,
    })
}

/// How many files another process holds open now (entries of `/proc/PID/fd`: its sockets,
/// mostly); `None` once it has exited. Reading it walks the process's file table, so the
/// harness reads it less often than its status.
pub fn open_fd_count(pid: u32) -> Option<u64> {
    Some(std::fs::read_dir(format!("/proc/{pid}/fd")).ok()?.count() as u64)
}

/// `getrusage(RUSAGE_THREAD)`: the calling thread's CPU time and context switches.
pub fn this_thread_rusage() -> Option<nix::sys::resource::Usage> {
    nix::sys::resource::getrusage(nix::sys::resource::UsageWho::RUSAGE_THREAD).ok()
}

/// TCP sockets in TIME_WAIT on this machine now (IPv4 and IPv6 alike: `tw` of
/// `/proc/net/sockstat`, the kernel's own count — not a walk of `/proc/net/tcp`, which at
/// 20,000 sockets costs the harness tens of ms before every point): each holds a local port
/// for 60 s after its connection closed.
pub fn time_wait_sockets() -> Option<u64> {
    time_wait_of(&std::fs::read_to_string("/proc/net/sockstat").ok()?)
}

/// The `tw` field of the `TCP:` line of a `/proc/net/sockstat`.
fn time_wait_of(sockstat: &str) -> Option<u64> {
    let tcp = sockstat.lines().find_map(|l| l.strip_prefix("TCP:"))?;
    let mut fields = tcp.split_whitespace();
    while let Some(name) = fields.next() {
        let value = fields.next()?;
        if name == "tw" {
            return value.parse().ok();
        }
    }
    None
}

/// For each of `destinations`, the IPv4 TCP sockets on this machine now whose remote end is
/// it — the clients' ends, in any state: TIME_WAIT, closing or open — from a walk of
/// `/proc/net/tcp`. Each holds a 4-tuple toward that destination, so a client connecting
/// there has that many fewer ports and a slower search for one. (The server's own ends hold
/// the reversed tuple, which a new connect does not look up.)
pub fn sockets_at(destinations: &[std::net::SocketAddrV4]) -> Option<Vec<u64>> {
    Some(count_sockets_at(
        &std::fs::read_to_string("/proc/net/tcp").ok()?,
        destinations,
    ))
}

/// [`sockets_at`] over the text of a `/proc/net/tcp`.
fn count_sockets_at(table: &str, destinations: &[std::net::SocketAddrV4]) -> Vec<u64> {
    // `/proc/net/tcp` prints an address as the hex of its in-memory (network order) u32 and
    // a port in host order: 127.0.0.1:8080 is `0100007F:1F90` on a little-endian machine.
    fn endpoint(field: &str) -> Option<std::net::SocketAddrV4> {
        let (ip, port) = field.split_once(':')?;
        let ip = u32::from_str_radix(ip, 16).ok()?.to_ne_bytes();
        let port = u16::from_str_radix(port, 16).ok()?;
        Some(std::net::SocketAddrV4::new(ip.into(), port))
    }
    let mut counts = vec![0; destinations.len()];
    for line in table.lines().skip(1) {
        let Some(remote) = line.split_whitespace().nth(2).and_then(endpoint) else {
            continue;
        };
        if let Some(at) = destinations.iter().position(|d| *d == remote) {
            counts[at] += 1;
        }
    }
    counts
}

/// The kernel's TCP listen-queue counters now (`/proc/net/netstat`).
pub fn listen_counters() -> Option<ListenCounters> {
    parse_netstat(&std::fs::read_to_string("/proc/net/netstat").ok()?)
}

/// Parses the text of `/proc/net/netstat` (a header line and a value line per group).
fn parse_netstat(netstat: &str) -> Option<ListenCounters> {
    let mut lines = netstat.lines();
    while let (Some(names), Some(values)) = (lines.next(), lines.next()) {
        let (Some(names), Some(values)) = (
            names.strip_prefix("TcpExt:"),
            values.strip_prefix("TcpExt:"),
        ) else {
            continue;
        };
        let fields: BTreeMap<&str, u64> = names
            .split_whitespace()
            .zip(values.split_whitespace())
            .filter_map(|(n, v)| Some((n, v.parse().ok()?)))
            .collect();
        let get = |name| fields.get(name).copied().unwrap_or(0);
        return Some(ListenCounters {
            listen_overflows: get("ListenOverflows"),
            listen_drops: get("ListenDrops"),
            syn_retrans: get("TCPSynRetrans"),
        });
    }
    None
}

/// Process `pid`'s resident memory now, split by its `/proc/PID/smaps`: (thread stacks, all
/// mappings), bytes.
/// A thread stack is the main thread's `[stack]`, or an anonymous read-write mapping of one of
/// `stack_sizes` that starts where a one-page inaccessible anonymous mapping (its guard) ends:
/// the layout glibc gives every thread's stack. (Heap arenas also sit next to inaccessible
/// reserves, but above them, of any size, and of sizes no thread is given.)
///
/// Reading it walks every mapping (two per thread) under the kernel's mmap lock: its cost is
/// measured by whoever calls it. It reads line by line into one buffer, so the reading itself
/// adds neither resident memory (the text is megabytes at 10,000 threads) nor allocations.
pub fn resident_stacks_and_total(pid: u32, stack_sizes: &[u64]) -> Option<(u64, u64)> {
    use std::io::BufRead as _;
    let file = std::fs::File::open(format!("/proc/{pid}/smaps")).ok()?;
    let mut reader = std::io::BufReader::new(file);
    let mut smaps = SmapsSum::new(stack_sizes);
    let mut line = String::with_capacity(256);
    while reader.read_line(&mut line).ok()? > 0 {
        smaps.line(&line);
        line.clear();
    }
    Some((smaps.stacks, smaps.total))
}

/// Resident bytes of `smaps` lines, all and thread stacks ([`resident_stacks_and_total`]).
#[derive(Debug, Default)]
struct SmapsSum<'a> {
    stack_sizes: &'a [u64],
    page: u64,
    stacks: u64,
    total: u64,
    guard_end: Option<u64>,
    is_stack: bool,
}

impl<'a> SmapsSum<'a> {
    fn new(stack_sizes: &'a [u64]) -> Self {
        Self {
            stack_sizes,
            page: page_size(),
            ..Self::default()
        }
    }

    fn line(&mut self, line: &str) {
        let mut words = line.split_whitespace();
        let Some(first) = words.next() else { return };
        if first == "Rss:" {
            let kib: u64 = words.next().and_then(|v| v.parse().ok()).unwrap_or(0);
            self.total += kib * 1024;
            if self.is_stack {
                self.stacks += kib * 1024;
            }
            return;
        }
        let Some((Ok(start), Ok(end))) = first
            .split_once('-')
            .map(|(a, b)| (u64::from_str_radix(a, 16), u64::from_str_radix(b, 16)))
        else {
            return; // another field of the mapping
        };
        let perms = words.next().unwrap_or("");
        let path = words.nth(3).unwrap_or("");
        let (anonymous, size) = (path.is_empty(), end - start);
        self.is_stack = path == "[stack]"
            || (anonymous
                && perms.starts_with("rw")
                && self.guard_end == Some(start)
                && self.stack_sizes.contains(&size));
        let guard = anonymous && perms.starts_with("---") && size == self.page;
        self.guard_end = guard.then_some(end);
    }
}

#[cfg(test)]
fn parse_smaps(smaps: &str, stack_sizes: &[u64]) -> (u64, u64) {
    let mut sum = SmapsSum::new(stack_sizes);
    smaps.lines().for_each(|line| sum.line(line));
    (sum.stacks, sum.total)
}

/// Memory of every TCP socket of the network namespace now (`/proc/net/sockstat`, `TCP:
/// mem`, in pages), bytes. On loopback it counts both ends: the client's sockets and the
/// server's.
pub fn tcp_socket_memory_bytes() -> Option<u64> {
    let sockstat = std::fs::read_to_string("/proc/net/sockstat").ok()?;
    let tcp = sockstat.lines().find_map(|l| l.strip_prefix("TCP:"))?;
    let mut words = tcp.split_whitespace();
    let pages: u64 = std::iter::from_fn(|| Some((words.next()?, words.next()?)))
        .find_map(|(name, value)| (name == "mem").then(|| value.parse().ok())?)?;
    Some(pages * page_size())
}

/// Memory mappings of this process now (lines of `/proc/self/maps`).
pub fn mapping_count() -> Option<u64> {
    let maps = std::fs::read_to_string("/proc/self/maps").ok()?;
    Some(maps.lines().count() as u64)
}

/// The kernel's own memory now ([`KernelMemory`]): `None` where `/proc/meminfo` is not
/// readable; the slab caches left empty where `/proc/slabinfo` is not.
pub fn kernel_memory() -> Option<KernelMemory> {
    let meminfo = std::fs::read_to_string("/proc/meminfo").ok()?;
    let field = |name: &str| status_field(&meminfo, name);
    Some(KernelMemory {
        kernel_stack_bytes: field("KernelStack")?,
        slab_unreclaimable_bytes: field("SUnreclaim")?,
        slab_reclaimable_bytes: field("SReclaimable")?,
        page_tables_bytes: field("PageTables")?,
        tcp_buffer_bytes: tcp_socket_memory_bytes().unwrap_or(0),
        slab_caches: std::fs::read_to_string("/proc/slabinfo")
            .map(|text| parse_slabinfo(&text))
            .unwrap_or_default(),
    })
}

/// `/proc/slabinfo` (version 2.1) as the bytes of live objects per cache: `active_objs ×
/// objsize`. (Slab pages would say what the caches hold, free objects included: a new thread
/// or socket often lands in a free object of a slab already there and moves no page.)
fn parse_slabinfo(text: &str) -> BTreeMap<String, u64> {
    text.lines()
        .filter(|l| !l.starts_with("slabinfo") && !l.starts_with('#'))
        .filter_map(|line| {
            let mut words = line.split_whitespace();
            let name = words.next()?;
            let active: u64 = words.next()?.parse().ok()?;
            let size: u64 = words.nth(1)?.parse().ok()?;
            Some((name.to_owned(), active * size))
        })
        .collect()
}

fn page_size() -> u64 {
    nix::unistd::sysconf(nix::unistd::SysconfVar::PAGE_SIZE)
        .ok()
        .flatten()
        .and_then(|n| u64::try_from(n).ok())
        .unwrap_or(4096)
}

/// A sysctl by its dotted name (`kernel.pid_max`), as text.
pub fn sysctl(name: &str) -> Option<String> {
    read_trimmed(Path::new("/proc/sys").join(name.replace('.', "/")))
}

/// Sets a sysctl by its dotted name, as `sysctl -w` does (root only).
pub fn set_sysctl(name: &str, value: &str) -> std::io::Result<()> {
    std::fs::write(Path::new("/proc/sys").join(name.replace('.', "/")), value)
}

/// The smallest `pids.max` from this process's cgroup up to the root (v2, or v1's pids
/// controller); `None` when unlimited or absent.
pub fn cgroup_pids_max() -> Option<u64> {
    let cgroups = read_trimmed("/proc/self/cgroup")?;
    let (base, path) = cgroups.lines().find_map(|line| {
        let mut parts = line.splitn(3, ':');
        let (_, controllers, path) = (parts.next()?, parts.next()?, parts.next()?);
        match controllers {
            "" => Some(("/sys/fs/cgroup".to_owned(), path.to_owned())),
            c if c.split(',').any(|c| c == "pids") => {
                Some(("/sys/fs/cgroup/pids".to_owned(), path.to_owned()))
            }
            _ => None,
        }
    })?;
    let mut dir = Path::new(&base).join(path.trim_start_matches('/'));
    let mut smallest: Option<u64> = None;
    loop {
        let max = read_trimmed(dir.join("pids.max")).and_then(|m| m.parse::<u64>().ok());
        if let Some(max) = max {
            smallest = Some(smallest.map_or(max, |s| s.min(max)));
        }
        if dir == Path::new(&base) || !dir.pop() {
            return smallest;
        }
    }
}

/// The CPU model (`/proc/cpuinfo`).
pub fn cpu_model() -> Option<String> {
    read_trimmed("/proc/cpuinfo")?
        .lines()
        .find_map(|l| l.strip_prefix("model name")?.split_once(':'))
        .map(|(_, model)| model.trim().to_owned())
}

/// Whether the CPU says it runs under a hypervisor (the `hypervisor` flag of
/// `/proc/cpuinfo`): a virtual machine, whose cores the host may give to others (steal).
pub fn under_hypervisor() -> Option<bool> {
    let cpuinfo = read_trimmed("/proc/cpuinfo")?;
    let flags = cpuinfo
        .lines()
        .find_map(|l| l.strip_prefix("flags")?.split_once(':'))?
        .1;
    Some(flags.split_whitespace().any(|f| f == "hypervisor"))
}

/// Whether simultaneous multithreading is on (`/sys/devices/system/cpu/smt/active`): with
/// it, two of the cores counted share one physical core.
pub fn smt_active() -> Option<bool> {
    match read_trimmed("/sys/devices/system/cpu/smt/active")?.as_str() {
        "1" => Some(true),
        "0" => Some(false),
        _ => None,
    }
}

/// CPU time the hypervisor ran something else on this machine's cores (`steal` of
/// `/proc/stat`'s `cpu` line), seconds since boot, every core summed.
pub fn steal_s() -> Option<f64> {
    let stat = std::fs::read_to_string("/proc/stat").ok()?;
    let ticks = parse_steal_ticks(&stat)?;
    let per_second = nix::unistd::sysconf(nix::unistd::SysconfVar::CLK_TCK).ok()??;
    Some(ticks as f64 / per_second as f64)
}

/// The `steal` field (the eighth) of `/proc/stat`'s summed `cpu` line, in clock ticks.
fn parse_steal_ticks(stat: &str) -> Option<u64> {
    let line = stat.lines().find(|l| l.starts_with("cpu "))?;
    line.split_whitespace().nth(8)?.parse().ok()
}

/// Total memory, bytes (`/proc/meminfo`).
pub fn memory_bytes() -> Option<u64> {
    status_field(&read_trimmed("/proc/meminfo")?, "MemTotal")
}

/// The host's name (`/etc/hostname`, or the kernel's node name).
pub fn host_name() -> Option<String> {
    read_trimmed("/etc/hostname").or_else(|| sysctl("kernel.hostname"))
}

/// The kernel and its release, e.g. `Linux 6.1.0`.
pub fn kernel() -> Option<String> {
    sysctl("kernel.osrelease").map(|release| format!("Linux {release}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    const STATUS: &str = "Name:\tfanout\nVmHWM:\t   20480 kB\nVmRSS:\t    1024 kB\nThreads:\t7\n";

    #[test]
    fn time_wait_is_the_tw_field_of_sockstats_tcp_line() {
        let sockstat = "sockets: used 8\n\
                        TCP: inuse 1 orphan 0 tw 15032 alloc 1 mem 238\n\
                        UDP: inuse 0 mem 0\n";
        assert_eq!(time_wait_of(sockstat), Some(15_032));
        assert_eq!(time_wait_of("UDP: inuse 0 mem 0\n"), None);
        assert_eq!(time_wait_of("TCP: inuse 1 tw\n"), None);
    }

    #[test]
    fn sockets_toward_a_destination_are_counted_by_their_remote_end() {
        let table = "  sl  local_address rem_address   st tx_queue rx_queue\n\
           0: 0100007F:1F90 00000000:0000 0A 00000000:00000000\n\
           1: 0100007F:8AE1 0100007F:1F90 06 00000000:00000000\n\
           2: 0100007F:8AE2 0200007F:1F90 06 00000000:00000000\n\
           3: 0200007F:1F90 0100007F:8AE3 01 00000000:00000000\n\
           4: 0100007F:8AE4 0200007F:1F91 06 00000000:00000000\n\
           5: garbage\n";
        let first = "127.0.0.1:8080".parse().unwrap();
        let second = "127.0.0.2:8080".parse().unwrap();
        let third = "127.0.0.3:8080".parse().unwrap();
        // Row 3 is the server's end of a connection to 127.0.0.2 (its local end): not counted.
        assert_eq!(
            count_sockets_at(table, &[first, second, third]),
            vec![1, 1, 0]
        );
    }

    #[test]
    fn steal_is_the_eighth_field_of_the_summed_cpu_line() {
        let stat = "cpu  4068081 21 1398782 7297433 22870 0 102092 2429 0 0\n\
                    cpu0 1 2 3 4 5 6 7 99 0 0\n";
        assert_eq!(parse_steal_ticks(stat), Some(2429));
        assert_eq!(parse_steal_ticks("cpu0 1 2 3\n"), None);
    }

    #[test]
    fn status_fields_are_read_in_bytes_or_plain_counts() {
        assert_eq!(status_field(STATUS, "VmHWM"), Some(20_480 * 1024));
        assert_eq!(status_field(STATUS, "VmRSS"), Some(1024 * 1024));
        assert_eq!(status_field(STATUS, "Threads"), Some(7));
        assert_eq!(status_field(STATUS, "VmSwap"), None);
        assert_eq!(status_field("Vm:\tlots kB\n", "Vm"), None);
    }

    #[test]
    fn netstat_counters_are_found_in_the_tcpext_group() {
        let text = "TcpExt: SyncookiesSent ListenOverflows ListenDrops TCPSynRetrans\n\
                    TcpExt: 0 12 15 40\n\
                    IpExt: InNoRoutes\nIpExt: 0\n";
        let c = parse_netstat(text).expect("TcpExt");
        assert_eq!(
            (c.listen_overflows, c.listen_drops, c.syn_retrans),
            (12, 15, 40)
        );
        assert_eq!(parse_netstat("Ip: 1\nIp: 2\n"), None);
    }

    #[test]
    fn thread_stacks_are_the_mappings_above_a_guard() {
        let smaps = "\
55d0-55e0 r--p 00000000 08:01 123 /usr/bin/fanout
Rss:                  64 kB
7f00000-7f01000 ---p 00000000 00:00 0
Rss:                   0 kB
7f01000-7f21000 rw-p 00000000 00:00 0
Rss:                  12 kB
7f30000-7f40000 rw-p 00000000 00:00 0
Rss:                 100 kB
7f40000-7f41000 ---p 00000000 00:00 0
Rss:                   0 kB
7f41000-8f40000 rw-p 00000000 00:00 0
Rss:                  50 kB
7ffd000-7ffe000 rw-p 00000000 00:00 0                          [stack]
Rss:                   8 kB
";
        // A 128 KiB stack above its guard (12) and the main thread's (8); the heap arenas
        // (100, and 50 right after the first's last page of reserve) are not stacks.
        assert_eq!(parse_smaps(smaps, &[128 * 1024]), (20 * 1024, 234 * 1024));
    }

    #[test]
    fn the_resident_stacks_of_live_threads_are_found() {
        const TOUCHED: usize = 256 * 1024;
        let (go, wait) = std::sync::mpsc::channel::<()>();
        let (ready, started) = std::sync::mpsc::channel();
        let wait = std::sync::Arc::new(std::sync::Mutex::new(wait));
        let threads: Vec<_> = (0..8)
            .map(|_| {
                let (ready, wait) = (ready.clone(), std::sync::Arc::clone(&wait));
                std::thread::Builder::new()
                    .stack_size(1 << 20)
                    .spawn(move || {
                        let deep = std::hint::black_box([1u8; TOUCHED]);
                        ready.send(()).expect("ready");
                        let _ = wait.lock().map(|w| w.recv());
                        deep[TOUCHED - 1]
                    })
                    .expect("thread")
            })
            .collect();
        (0..8).for_each(|_| started.recv().expect("started"));
        let (stacks, total) =
            resident_stacks_and_total(std::process::id(), &[1 << 20]).expect("smaps");
        drop(go);
        threads.into_iter().for_each(|t| {
            t.join().expect("join");
        });
        assert!(stacks >= 8 * TOUCHED as u64, "stacks {stacks}");
        assert!(total > stacks, "total {total}");
    }

    #[test]
    fn slab_caches_are_read_as_the_bytes_their_slabs_hold() {
        let text = "slabinfo - version: 2.1\n\
            # name <active_objs> <num_objs> <objsize> <objperslab> <pagesperslab> : tunables <limit> <batchcount> <sharedfactor> : slabdata <active_slabs> <num_slabs> <sharedavail>\n\
            task_struct 1000 1040 7680 4 8 : tunables 0 0 0 : slabdata 260 260 0\n\
            TCP 20 24 2432 13 8 : tunables 0 0 0 : slabdata 2 2 0\n";
        let caches = parse_slabinfo(text);
        assert_eq!(caches["task_struct"], 1000 * 7680);
        assert_eq!(caches["TCP"], 20 * 2432);
        assert_eq!(caches.len(), 2);
        if let Some(now) = kernel_memory() {
            assert!(
                now.kernel_stack_bytes > 0 && now.page_tables_bytes > 0,
                "{now:?}"
            );
        }
    }

    #[test]
    fn tcp_socket_memory_is_read_in_bytes() {
        assert!(tcp_socket_memory_bytes().is_some());
    }

    #[test]
    fn sysctls_are_read_by_their_dotted_names() {
        let pid_max: u64 = sysctl("kernel.pid_max")
            .and_then(|v| v.parse().ok())
            .expect("kernel.pid_max");
        assert!(pid_max > 0);
        assert_eq!(sysctl("no.such.sysctl"), None);
        assert!(kernel().is_some_and(|k| k.starts_with("Linux ")));
    }
}

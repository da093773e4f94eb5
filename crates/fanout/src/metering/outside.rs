//! Meters a worker process from outside — fanout's own worker and a peer program alike — so
//! the figures every row is compared on are taken one way: peak resident memory (`VmHWM`) and
//! live threads read from `/proc/PID/status` every 2 ms and once more as soon as the worker
//! has printed its report line, CPU time and context switches from `wait4` when it is reaped,
//! and the whole process's wall time from spawn to exit. For the point's timeline it also
//! reads the worker's open files (every 50 ms) and its memory cgroup's kernel memory (every
//! 10 ms).
//!
//! A worker may keep running after its line until its stdin closes (fanout's worker and the
//! peers in `peers/` do): the read after the line then comes after its timed region and before
//! its memory is released, so it is the exact peak. A worker that exits at once is read from
//! its last sample, and the report says which.

use std::io::{BufRead as _, BufReader};
use std::os::unix::process::{CommandExt, ExitStatusExt};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};

use crate::model::memory::{Breakdown, CgroupPeaks, ClientKernel, KernelGrowth, ProcessSample};
use crate::model::worker_report::{Holding, HoldingLine};
use crate::os;
use crate::os::cgroup::MemoryCgroup;
use crate::os::signals::interrupted;

/// How often the process's status is read.
const SAMPLE_EVERY: Duration = Duration::from_millis(2);
/// How long a stopped worker gets between SIGTERM and SIGKILL.
const KILL_GRACE: Duration = Duration::from_secs(2);

/// Why a worker process could not be run to its end.
#[derive(Debug, thiserror::Error)]
pub enum OutsideError {
    /// It could not be started, or not waited for.
    #[error("starting a worker")]
    Start(#[source] std::io::Error),
    /// SIGINT or SIGTERM arrived: the worker was stopped.
    #[error("interrupted")]
    Interrupted,
}

/// How a worker process ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum WorkerEnd {
    /// It exited (or a signal ended it) with this status.
    Exited(ExitStatus),
    /// It was still running at the time limit, and was killed.
    KilledAtLimit(Duration),
}

/// What was measured of a worker process from outside: in a point's JSON, these keys stand
/// at the top level.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Metered {
    /// Spawn to exit, seconds: start-up and teardown included (`None`: not run, or a run made
    /// before it was measured).
    #[serde(default)]
    pub process_wall_s: Option<f64>,
    /// Peak resident memory (`VmHWM`), bytes; `None` where the OS does not tell.
    pub peak_rss_bytes: Option<u64>,
    /// True when the peak was read after the report line, before the process exited (exact);
    /// false when it is the last 2 ms sample.
    #[serde(default)]
    pub peak_rss_read_at_report: bool,
    /// Most threads alive at once (sampled every 2 ms); `None` where the OS does not tell.
    pub peak_threads: Option<u64>,
    /// User CPU seconds, all threads, the whole process.
    pub cpu_user_s: f64,
    /// System CPU seconds, all threads, the whole process.
    pub cpu_sys_s: f64,
    /// Voluntary context switches, all threads.
    pub ctx_voluntary: u64,
    /// Involuntary context switches, all threads.
    pub ctx_involuntary: u64,
    /// Resident memory by cause and the kernel's growth beside it, split from outside while
    /// the worker held its designed in-flight count, near its peak (`None`: it never held it,
    /// it does not say, or the OS does not tell).
    pub breakdown: Option<Breakdown>,
    /// The peaks of the worker's own memory cgroup (`None`: none could be made).
    #[serde(default)]
    pub cgroup_peaks: Option<CgroupPeaks>,
    /// Why the worker ran without a memory cgroup of its own, if it did: its kernel memory is
    /// then the system-wide figure alone.
    #[serde(default)]
    pub cgroup_missing: Option<String>,
    /// What the worker held over the run — resident memory and threads read every 2 ms,
    /// kernel memory every 10 ms, open files every 50 ms: paired with the worker's in-flight
    /// samples into the point's timeline (not kept in JSON itself).
    #[serde(skip)]
    pub samples: Vec<ProcessSample>,
}

/// How to split a worker's memory when it says it holds its in-flight count: which mappings
/// are thread stacks (their sizes).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Split {
    /// Sizes of the thread stacks the worker makes.
    pub stack_sizes: Vec<u64>,
}

/// The most samples kept: past it, every other one goes.
const MOST_SAMPLES: usize = 8_192;
/// Kernel memory is read every this many samples (a cgroup file: cheap, but not free).
const KERNEL_EVERY: u64 = 5;
/// Open files are read every this many samples: counting them walks the worker's file table,
/// 10,000 entries at C = 10,000.
const FDS_EVERY: u64 = 25;
/// The tail of a worker's stderr kept for the report (it is passed on whole as it comes).
const STDERR_TAIL: usize = 8 * 1024;

/// A worker process that has ended: how, what it printed, what it cost.
#[derive(Debug)]
pub struct Finished {
    /// Exited, or killed at the time limit.
    pub end: WorkerEnd,
    /// Everything it printed on stdout.
    pub stdout: String,
    /// Its figures, measured from outside.
    pub metered: Metered,
    /// The last lines it wrote on stderr (at most 8 KiB): where a runtime says why it aborted.
    pub stderr_tail: String,
}

/// Runs `command` (stdin, stdout and stderr piped, stderr passed on as it comes, in a
/// process group of its own) and meters it until it exits, killing it (and its group) past
/// `time_limit` or on an interruption. With `split`, each [`HoldingLine`] it prints splits its
/// memory from outside (see [`Metered::breakdown`]); those lines are not part of its stdout.
pub fn run(
    mut command: Command,
    time_limit: Duration,
    split: Option<&Split>,
) -> Result<Finished, OutsideError> {
    // A memory cgroup of its own, joined by the child before it runs its first instruction.
    let cgroup = MemoryCgroup::create().and_then(|cgroup| {
        let procs = cgroup.procs()?;
        Ok((cgroup, procs))
    });
    if let Ok((_, procs)) = &cgroup {
        join_in_child(&mut command, procs);
    }
    // The kernel's memory before the worker exists: the baseline its growth is read against.
    let kernel_before = os::kernel_memory();
    let started = Instant::now();
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .spawn()
        .map_err(OutsideError::Start)?;
    let pid = child.id();
    let mut metered = Metered::default();
    let cgroup = match cgroup {
        Ok((cgroup, _)) if cgroup.holds(pid) => Some(cgroup),
        Ok(_) => {
            metered.cgroup_missing = Some("the worker could not join its cgroup".into());
            None
        }
        Err(why) => {
            metered.cgroup_missing = Some(format!("{:#}", anyhow::Error::new(why)));
            None
        }
    };
    let mut stdin = child.stdin.take();
    let stdout = child.stdout.take().expect("stdout is piped");
    let stderr = child.stderr.take().expect("stderr is piped");
    let (lines_tx, lines) = mpsc::channel::<String>();
    std::thread::spawn(move || {
        for line in lossy_lines(stdout) {
            if lines_tx.send(line).is_err() {
                break;
            }
        }
    });
    let stderr_tail = std::thread::spawn(move || pass_on(stderr));

    let mut printed = String::new();
    let deadline = started + time_limit;
    let mut reads = 0_u64;
    let (end, reaped) = loop {
        if let Some(status) = os::process_status(pid) {
            let open_fds = reads
                .is_multiple_of(FDS_EVERY)
                .then(|| os::open_fd_count(pid));
            let kernel = reads.is_multiple_of(KERNEL_EVERY).then(|| {
                cgroup
                    .as_ref()
                    .and_then(MemoryCgroup::kernel_now)
                    .map(|k| k.kernel_bytes)
            });
            metered.see(status, open_fds.flatten(), kernel.flatten());
            reads += 1;
        }
        while let Ok(line) = lines.try_recv() {
            if let Ok(HoldingLine { holding }) = serde_json::from_str(&line) {
                if let Some(split) = split {
                    let inside = cgroup.as_ref();
                    metered.split(pid, &holding, split, kernel_before.as_ref(), inside);
                }
                continue;
            }
            // A report line: read the peak before the worker can exit, then let it go.
            if line.trim_start().starts_with('{') && stdin.is_some() {
                if let Some(status) = os::process_status(pid) {
                    metered.see(status, None, None);
                    metered.peak_rss_read_at_report = true;
                }
                stdin = None;
            }
            printed.push_str(&line);
            printed.push('\n');
        }
        if let Some(reaped) = os::reap_with_usage(pid).map_err(OutsideError::Start)? {
            break (
                WorkerEnd::Exited(ExitStatus::from_raw(reaped.status)),
                reaped,
            );
        }
        if Instant::now() >= deadline || interrupted() {
            let reaped = kill_group(pid)?;
            if interrupted() {
                return Err(OutsideError::Interrupted);
            }
            break (WorkerEnd::KilledAtLimit(time_limit), reaped);
        }
        std::thread::sleep(SAMPLE_EVERY);
    };
    metered.process_wall_s = Some(started.elapsed().as_secs_f64());
    metered.cgroup_peaks = cgroup
        .as_ref()
        .and_then(MemoryCgroup::peaks)
        .map(|p| CgroupPeaks {
            kernel_bytes: p.kernel_bytes,
            memory_bytes: p.memory_bytes,
        });
    metered.cpu_user_s = reaped.user_s;
    metered.cpu_sys_s = reaped.sys_s;
    metered.ctx_voluntary = reaped.voluntary;
    metered.ctx_involuntary = reaped.involuntary;
    drop(stdin);
    // The rest of stdout; a process it left behind may hold the pipe open, so not forever.
    let drain_until = Instant::now() + Duration::from_secs(1);
    while let Some(left) = drain_until.checked_duration_since(Instant::now()) {
        match lines.recv_timeout(left) {
            Ok(line) if serde_json::from_str::<HoldingLine>(&line).is_ok() => {}
            Ok(line) => {
                printed.push_str(&line);
                printed.push('\n');
            }
            Err(_) => break,
        }
    }
    // Its stderr ends with it (or with what it left in its group, killed with it).
    let stderr_tail = stderr_tail.join().unwrap_or_default();
    Ok(Finished {
        end,
        stdout: printed,
        metered,
        stderr_tail,
    })
}

/// The lines of `reader`, bytes that are not UTF-8 replaced (U+FFFD) rather than ending the
/// reading: a worker's stray bytes must not lose the report line after them. Ends at the end
/// of the stream or at an I/O error.
fn lossy_lines(reader: impl std::io::Read) -> impl Iterator<Item = String> {
    BufReader::new(reader)
        .split(b'\n')
        .map_while(Result::ok)
        .map(|mut line| {
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            String::from_utf8_lossy(&line).into_owned()
        })
}

/// Passes a worker's stderr on to this process's, line by line, keeping its last
/// [`STDERR_TAIL`] bytes.
fn pass_on(stderr: impl std::io::Read) -> String {
    use std::io::Write as _;
    let mut tail = String::new();
    for line in lossy_lines(stderr) {
        let _ = writeln!(std::io::stderr(), "{line}");
        tail.push_str(&line);
        tail.push('\n');
        if tail.len() > 2 * STDERR_TAIL {
            let cut = tail.len() - STDERR_TAIL;
            let cut = (cut..tail.len())
                .find(|&i| tail.is_char_boundary(i))
                .unwrap_or(cut);
            tail.drain(..cut);
        }
    }
    if tail.len() > STDERR_TAIL {
        let cut = tail.len() - STDERR_TAIL;
        let cut = (cut..tail.len())
            .find(|&i| tail.is_char_boundary(i))
            .unwrap_or(cut);
        tail.drain(..cut);
    }
    tail
}

impl Metered {
    /// Takes in a reading of the worker's status, with its open files and kernel memory where
    /// they were read this time (the last reading of each is carried forward).
    fn see(&mut self, status: os::ProcessStatus, open_fds: Option<u64>, kernel: Option<u64>) {
        // VmHWM only grows: the newest read is the peak so far.
        self.peak_rss_bytes = Some(status.peak_rss_bytes);
        self.peak_threads = Some(self.peak_threads.unwrap_or(0).max(status.threads));
        if self.samples.len() == MOST_SAMPLES {
            let halved = self.samples.iter().step_by(2).copied().collect();
            self.samples = halved;
        }
        let last = self.samples.last();
        let sample = ProcessSample {
            t_ns: os::monotonic_ns(),
            rss_bytes: status.rss_bytes,
            threads: status.threads,
            open_fds: open_fds.or(last.and_then(|s| s.open_fds)),
            kernel_bytes: kernel.or(last.and_then(|s| s.kernel_bytes)),
        };
        self.samples.push(sample);
    }

    /// Splits process `pid`'s memory now, as the worker said it holds: the first time, and
    /// again only where its resident memory grew 10% past the last split (each split reads
    /// `/proc/PID/smaps`, which walks every mapping under the worker's mmap lock).
    fn split(
        &mut self,
        pid: u32,
        holding: &Holding,
        split: &Split,
        kernel_before: Option<&os::KernelMemory>,
        cgroup: Option<&MemoryCgroup>,
    ) {
        let grown = match (&self.breakdown, self.samples.last()) {
            (None, _) => true,
            (Some(last), Some(now)) => now.rss_bytes * 10 > last.rss_bytes * 11,
            (Some(_), None) => false,
        };
        if !grown {
            // Resident memory held still, but the kernel's part may still be growing (sockets
            // whose connects complete after the tasks holding them were counted, as on
            // io_uring): keep its largest growth while the count is held. /proc/meminfo and
            // /proc/slabinfo are cheap to read, unlike smaps.
            self.regrow_kernel(kernel_before, cgroup);
            return;
        }
        let started = Instant::now();
        let Some((stack_bytes, rss_bytes)) = os::resident_stacks_and_total(pid, &split.stack_sizes)
        else {
            return;
        };
        let now_and_before = os::kernel_memory().zip(kernel_before);
        let kernel = now_and_before
            .as_ref()
            .map(|(now, before)| KernelGrowth::between(before, now));
        let kernel_tcp_bytes = now_and_before
            .as_ref()
            .map(|(now, before)| now.tcp_buffer_bytes as i64 - before.tcp_buffer_bytes as i64);
        let mut breakdown = Breakdown::of(
            holding.in_flight,
            rss_bytes,
            holding.heap_bytes,
            stack_bytes,
            kernel_tcp_bytes,
            kernel,
            started.elapsed().as_secs_f64() * 1000.0,
        );
        breakdown.client_kernel = cgroup.and_then(client_kernel);
        self.breakdown = Some(breakdown);
    }

    /// The breakdown's kernel growth (system-wide and the worker's own), re-read now, each
    /// where larger than the one it has.
    fn regrow_kernel(
        &mut self,
        kernel_before: Option<&os::KernelMemory>,
        cgroup: Option<&MemoryCgroup>,
    ) {
        let Some(breakdown) = &mut self.breakdown else {
            return;
        };
        if let Some(now) = cgroup.and_then(client_kernel) {
            let larger = breakdown
                .client_kernel
                .is_none_or(|k| now.kernel_bytes > k.kernel_bytes);
            if larger {
                breakdown.client_kernel = Some(now);
            }
        }
        let Some((now, before)) = os::kernel_memory().zip(kernel_before) else {
            return;
        };
        let grown = KernelGrowth::between(before, &now);
        let larger = breakdown
            .kernel
            .as_ref()
            .is_none_or(|k| grown.total_bytes() > k.total_bytes());
        if larger {
            breakdown.kernel_tcp_bytes =
                Some(now.tcp_buffer_bytes as i64 - before.tcp_buffer_bytes as i64);
            breakdown.kernel = Some(grown);
        }
    }
}

/// The worker's own kernel memory now, from its cgroup.
fn client_kernel(cgroup: &MemoryCgroup) -> Option<ClientKernel> {
    let now = cgroup.kernel_now()?;
    Some(ClientKernel {
        kernel_bytes: now.kernel_bytes,
        tcp_bytes: now.tcp_bytes,
    })
}

/// Makes the child write `0` to `procs` (its cgroup's `cgroup.procs`) between fork and exec:
/// it moves itself in before it runs, so all it allocates is charged there.
pub fn join_in_child(command: &mut Command, procs: &std::fs::File) {
    use std::os::fd::AsRawFd as _;
    use std::os::unix::process::CommandExt as _;
    let fd = procs.as_raw_fd();
    #[allow(
        unsafe_code,
        reason = "pre_exec runs between fork and exec; the closure makes one write(2) and allocates nothing"
    )]
    // SAFETY: `fd` stays open in the parent until the spawn returns (the File outlives it)
    // and is inherited by the child; write(2) is async-signal-safe.
    unsafe {
        command.pre_exec(move || {
            let fd = std::os::fd::BorrowedFd::borrow_raw(fd);
            // A child that cannot join runs on outside it: the parent sees it and says so.
            let _ = nix::unistd::write(fd, b"0");
            Ok(())
        });
    }
}

/// SIGTERM to the process group, a grace period, SIGKILL; reaps the worker.
fn kill_group(pid: u32) -> Result<os::Reaped, OutsideError> {
    use nix::sys::signal::{Signal, killpg};
    use nix::unistd::Pid;
    let group = Pid::from_raw(i32::try_from(pid).unwrap_or(i32::MAX));
    let _ = killpg(group, Signal::SIGTERM);
    let grace_until = Instant::now() + KILL_GRACE;
    loop {
        if let Some(reaped) = os::reap_with_usage(pid).map_err(OutsideError::Start)? {
            // Whatever it left in its group goes too.
            let _ = killpg(group, Signal::SIGKILL);
            return Ok(reaped);
        }
        if Instant::now() >= grace_until {
            let _ = killpg(group, Signal::SIGKILL);
        }
        std::thread::sleep(Duration::from_millis(10));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str) -> Command {
        let mut command = Command::new("sh");
        command.args(["-c", script]);
        command
    }

    #[test]
    fn a_process_is_metered_from_outside_and_its_output_kept() {
        // Busy for a while in user space, then one report line, then waits for stdin to close.
        let script =
            "i=0; while [ $i -lt 200000 ]; do i=$((i+1)); done; echo '{\"ok\":1}'; cat >/dev/null";
        let finished = run(sh(script), Duration::from_secs(60), None).expect("runs");
        assert!(matches!(finished.end, WorkerEnd::Exited(s) if s.success()));
        assert_eq!(finished.stdout, "{\"ok\":1}\n");
        let m = finished.metered;
        assert!(m.cpu_user_s + m.cpu_sys_s > 0.0, "{m:?}");
        assert!(m.process_wall_s.is_some_and(|s| s > 0.0));
        if cfg!(target_os = "linux") {
            // `cat` held the process open until fanout had read it.
            assert!(m.peak_rss_read_at_report, "{m:?}");
            assert!(m.peak_rss_bytes.is_some_and(|b| b > 0), "{m:?}");
            assert_eq!(m.peak_threads, Some(1));
        }
    }

    #[test]
    fn bytes_that_are_not_utf8_do_not_end_the_reading_of_stdout_or_stderr() {
        let script = r#"printf '\377\376 stray\n{"ok":1}\n'; printf '\377 bad\nlast words\n' >&2"#;
        let finished = run(sh(script), Duration::from_secs(10), None).expect("runs");
        assert!(
            finished.stdout.ends_with("{\"ok\":1}\n"),
            "{:?}",
            finished.stdout
        );
        assert!(
            finished.stdout.contains('\u{fffd}'),
            "{:?}",
            finished.stdout
        );
        assert!(
            finished.stderr_tail.contains("last words"),
            "{:?}",
            finished.stderr_tail
        );
    }

    #[test]
    fn a_process_past_its_limit_is_killed_with_what_it_left_in_its_group() {
        // The background `sleep` inherits stdout: left alive, it would hold the pipe for a
        // minute.
        let pid_file = std::env::temp_dir().join(format!("fanout-group-{}", std::process::id()));
        let script = format!("sleep 60 & echo $! > {}; sleep 60", pid_file.display());
        let finished = run(sh(&script), Duration::from_millis(1_000), None).expect("runs");
        assert!(matches!(finished.end, WorkerEnd::KilledAtLimit(_)));
        // A machine too busy to run the shell's first line within the limit leaves no pid to
        // check: the kill is then not observed, and the test says so rather than pass.
        let Ok(written) = std::fs::read_to_string(&pid_file) else {
            crate::os::skip::skipped(
                "outside: a process past its limit is killed with its group",
                "the shell wrote no pid within the 1 s limit",
            );
            return;
        };
        let left: u32 = written.trim().parse().expect("pid");
        let _ = std::fs::remove_file(&pid_file);
        if cfg!(target_os = "linux") {
            // Gone, or dead and waiting for init to reap it — once the signal is delivered (a
            // busy machine may take a moment to schedule the dying process).
            let state_of = || {
                let stat =
                    std::fs::read_to_string(format!("/proc/{left}/stat")).unwrap_or_default();
                let state = stat
                    .rsplit(") ")
                    .next()
                    .and_then(|rest| rest.chars().next());
                (state, stat)
            };
            let mut seen = state_of();
            for _ in 0..100 {
                if matches!(seen.0, None | Some('Z')) {
                    break;
                }
                std::thread::sleep(Duration::from_millis(20));
                seen = state_of();
            }
            assert!(matches!(seen.0, None | Some('Z')), "{}", seen.1);
        }
    }
}

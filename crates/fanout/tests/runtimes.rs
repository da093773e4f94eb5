//! Runtimes the machine may refuse: a compio strategy where `io_uring_setup` is refused (as a
//! seccomp policy or `kernel.io_uring_disabled` refuses it) is a skipped point with the
//! reason, never a failed one — here under a real seccomp filter that answers EPERM, put on
//! fanout's process (and so its worker's) before it starts.

use std::process::Command;

use serde_json::Value;

mod common;

/// Installs a seccomp filter on this process answering EPERM to `io_uring_setup` only.
#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
fn refuse_io_uring() -> std::io::Result<()> {
    use libc::{sock_filter, sock_fprog};
    const AUDIT_ARCH_X86_64: u32 = 0xc000_003e;
    const SECCOMP_RET_ERRNO: u32 = 0x0005_0000;
    const SECCOMP_RET_ALLOW: u32 = 0x7fff_0000;
    let op = |code: u32, jt: u8, jf: u8, k: u32| sock_filter {
        code: code as u16,
        jt,
        jf,
        k,
    };
    let (ld, jeq, ret) = (
        (libc::BPF_LD | libc::BPF_W | libc::BPF_ABS),
        (libc::BPF_JMP | libc::BPF_JEQ | libc::BPF_K),
        (libc::BPF_RET | libc::BPF_K),
    );
    let filter = [
        op(ld, 0, 0, 4), // seccomp_data.arch
        op(jeq, 0, 3, AUDIT_ARCH_X86_64),
        op(ld, 0, 0, 0), // seccomp_data.nr
        op(jeq, 0, 1, libc::SYS_io_uring_setup as u32),
        op(ret, 0, 0, SECCOMP_RET_ERRNO | libc::EPERM as u32),
        op(ret, 0, 0, SECCOMP_RET_ALLOW),
    ];
    let program = sock_fprog {
        len: filter.len() as u16,
        filter: filter.as_ptr().cast_mut(),
    };
    #[allow(
        unsafe_code,
        reason = "prctl installs the filter; `program` outlives the call"
    )]
    // SAFETY: both calls take plain integers and a pointer to a live, well-formed program.
    let installed = unsafe {
        libc::prctl(libc::PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) == 0
            && libc::prctl(libc::PR_SET_SECCOMP, libc::SECCOMP_MODE_FILTER, &program) == 0
    };
    if installed {
        Ok(())
    } else {
        Err(std::io::Error::last_os_error())
    }
}

#[cfg(all(target_os = "linux", target_arch = "x86_64"))]
#[test]
fn a_compio_strategy_where_io_uring_is_refused_is_skipped_with_the_reason() {
    use std::os::unix::process::CommandExt as _;
    for strategy in ["uring_raw", "uring_cyper"] {
        let mut fanout = Command::new(env!("CARGO_BIN_EXE_fanout"));
        fanout.args([
            "run",
            "--json",
            "-s",
            strategy,
            "-c",
            "2",
            "--delay-ms",
            "0",
        ]);
        #[allow(
            unsafe_code,
            reason = "pre_exec runs between fork and exec; the filter only makes syscalls"
        )]
        // SAFETY: refuse_io_uring allocates nothing and calls prctl alone.
        unsafe {
            fanout.pre_exec(refuse_io_uring);
        }
        let out = fanout.output().expect("run fanout");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let r: Value = serde_json::from_str(stdout.trim())
            .unwrap_or_else(|e| panic!("{e}: {stdout} {}", String::from_utf8_lossy(&out.stderr)));
        assert_eq!(r["status"], "skipped", "{strategy}: {r}");
        let reason = r["reason"].as_str().expect("reason");
        assert!(reason.contains("io_uring is unavailable here"), "{reason}");
        assert!(reason.contains("Operation not permitted"), "{reason}");
    }
}

#[test]
fn a_compio_strategy_says_it_ran_on_io_uring() {
    let out = Command::new(env!("CARGO_BIN_EXE_fanout"))
        .args([
            "run",
            "--json",
            "-s",
            "uring_raw",
            "-c",
            "4",
            "-n",
            "8",
            "--delay-ms",
            "0",
        ])
        .output()
        .expect("run fanout");
    let r: Value = serde_json::from_slice(&out.stdout).expect("json");
    if r["status"] == "skipped" {
        // This machine refuses io_uring: the skip says why (the test above covers it).
        assert!(
            r["reason"].as_str().is_some_and(|w| w.contains("io_uring")),
            "{r}"
        );
        common::skipped("io_uring measured", "this machine refuses io_uring");
        return;
    }
    assert_eq!(r["status"], "measured", "{r}");
    assert_eq!(r["ok"], 8, "{r}");
    let runtime = r["client_config"]["runtime"].as_str().expect("runtime");
    assert!(runtime.contains("io_uring"), "{runtime}");
}

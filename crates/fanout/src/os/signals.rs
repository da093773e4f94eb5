//! SIGINT, SIGTERM and SIGHUP turned into a flag: a sweep stops its worker, keeps what it measured and
//! stops the server (no orphan processes).

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};

/// Set by SIGINT, SIGTERM or SIGHUP once [`stop_on_signals`] has run.
static INTERRUPTED: OnceLock<Arc<AtomicBool>> = OnceLock::new();

/// From now on SIGINT, SIGTERM and SIGHUP do not kill this process: they set a flag that stops the
/// running worker and makes the harness return its `Interrupted` error, so the caller
/// can keep what was measured and stop the server (no orphan processes).
pub fn stop_on_signals() -> std::io::Result<()> {
    let flag = INTERRUPTED.get_or_init(Arc::default);
    // SIGHUP too: a terminal closing (an ssh session dropped) must not leave a raised kernel
    // setting or a server behind.
    for signal in [
        signal_hook::consts::SIGINT,
        signal_hook::consts::SIGTERM,
        signal_hook::consts::SIGHUP,
    ] {
        signal_hook::flag::register(signal, Arc::clone(flag))?;
    }
    Ok(())
}

/// True once SIGINT, SIGTERM or SIGHUP arrived (after [`stop_on_signals`]).
pub fn interrupted() -> bool {
    INTERRUPTED.get().is_some_and(|f| f.load(Ordering::Relaxed))
}

//! A check this machine cannot make says so: the tests (the crate's and the integration
//! tests') call [`skipped`] instead of passing silently.

/// Says on stderr that `test` was skipped and why and, where CI asks for it
/// (`FANOUT_SKIPPED_LOG`, a file), appends `test: why` to that file, which `.ci/run` counts in
/// its closing line — a skipped check is never a silent pass.
pub fn skipped(test: &str, why: &str) {
    eprintln!("skipped: {test}: {why}");
    if let Some(path) = std::env::var_os("FANOUT_SKIPPED_LOG") {
        use std::io::Write as _;
        let file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path);
        if let Ok(mut file) = file {
            let _ = writeln!(file, "{test}: {why}");
        }
    }
}

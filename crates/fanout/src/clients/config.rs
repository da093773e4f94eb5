//! What the clients are configured with, as a point's report records it.

use super::ureq_agent::UREQ_BUFFER_BYTES;
use crate::model::client_config::ClientConfig;
use crate::model::settings::Settings;

/// The settings every strategy uses at concurrency C with `settings`.
pub fn of(concurrency: usize, settings: &Settings) -> ClientConfig {
    ClientConfig {
            reqwest_pool: format!("one Client, up to {concurrency} idle connections"),
            ureq_pool: "an Agent per thread slot, keeping its one connection".into(),
            ureq_buffer_bytes: UREQ_BUFFER_BYTES,
            reqwest_buffer: "hyper default (8 KiB read buffer, grows)".into(),
            timeout_ms: settings.timeout_ms,
            tcp_nodelay: true,
            thread_stack_kib: settings.stack_kib,
            tokio_workers: settings.tokio_workers,
            tls: settings.tls.then(|| {
                let suites: Vec<String> = rustls::crypto::ring::default_provider()
                    .cipher_suites
                    .iter()
                    .map(|s| format!("{:?}", s.suite()))
                    .collect();
                format!(
                    "rustls 0.23 (ring), TLS 1.3 and 1.2, suites {}; trusting the server's own certificate only",
                    suites.join(", ")
                )
            }),
        }
}

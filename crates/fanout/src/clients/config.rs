//! What a client is configured with, as a point's report records it: the client library and
//! its version as built, its buffers, the settings every client shares, TLS.

use super::raw::RAW_BUFFER_BYTES;
use super::ureq_agent::UREQ_BUFFER_BYTES;
use crate::model::client_config::ClientConfig;
use crate::model::settings::Settings;
use crate::model::subject::ClientLib;

/// The configuration of `client` with `settings`, pooling as `pool` says.
pub fn of(client: ClientLib, pool: String, settings: &Settings) -> ClientConfig {
    let (name, buffers) = match client {
        ClientLib::Ureq => (
            format!("ureq {}", env!("FANOUT_VERSION_UREQ")),
            format!(
                "{} KiB in and {0} KiB out (ureq's default zero-fills 128 KiB each)",
                UREQ_BUFFER_BYTES / 1024
            ),
        ),
        ClientLib::Reqwest => (
            format!(
                "reqwest {} on hyper {}",
                env!("FANOUT_VERSION_REQWEST"),
                env!("FANOUT_VERSION_HYPER")
            ),
            "hyper's own (an 8 KiB read buffer that grows; not set through reqwest)".into(),
        ),
        ClientLib::Raw => (
            "fanout's raw HTTP/1.1 codec (httparse)".into(),
            format!("one {RAW_BUFFER_BYTES}-byte read buffer, the request bytes built once"),
        ),
        ClientLib::Hyper => (
            format!(
                "hyper {} client::conn (no reqwest)",
                env!("FANOUT_VERSION_HYPER")
            ),
            "hyper's own (an 8 KiB read buffer that grows)".into(),
        ),
        ClientLib::H2 => (
            format!("h2 {} (no hyper, no reqwest)", env!("FANOUT_VERSION_H2")),
            format!(
                "receive windows of {} MiB a stream and {} MiB the connection (hyper's defaults)",
                super::h2_conn::STREAM_WINDOW >> 20,
                super::h2_conn::CONNECTION_WINDOW >> 20
            ),
        ),
        ClientLib::Cyper => (
            format!(
                "cyper {} on hyper {} (compio, no TLS)",
                env!("FANOUT_VERSION_CYPER"),
                env!("FANOUT_VERSION_HYPER")
            ),
            "hyper's own (an 8 KiB read buffer that grows)".into(),
        ),
        ClientLib::Peer => ("a peer's own".into(), "a peer's own".into()),
    };
    ClientConfig {
        client: name,
        pool,
        buffers,
        timeout_ms: settings.timeout_ms,
        // cyper's connector does not set it, nor can it be asked to.
        tcp_nodelay: client != ClientLib::Cyper,
        thread_stack_kib: settings.stack_kib,
        tokio_workers: settings.tokio_workers,
        tls: settings.tls.then(tls),
        ..ClientConfig::default()
    }
}

/// The TLS the ureq and reqwest clients offer, as built.
fn tls() -> String {
    let suites: Vec<String> = rustls::crypto::ring::default_provider()
        .cipher_suites
        .iter()
        .map(|s| format!("{:?}", s.suite()))
        .collect();
    format!(
        "rustls {} (ring), TLS 1.3 and 1.2, suites {}; trusting the server's own certificate only",
        env!("FANOUT_VERSION_RUSTLS"),
        suites.join(", ")
    )
}

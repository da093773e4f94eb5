//! HTTPS: a self-signed certificate made at start (rcgen) for `localhost`, `127.0.0.1`, `::1`
//! and every loopback address the server listens on, served with rustls (ring), ALPN `h2` and `http/1.1`. Clients trust it by loading its
//! PEM ([`Tls::ca_pem`]), nothing else: no verification is turned off anywhere.

use std::sync::Arc;

use tokio_rustls::TlsAcceptor;
use tokio_rustls::rustls::ServerConfig;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};

/// The server's TLS side: its acceptor and the certificate clients must trust.
#[derive(Clone)]
pub struct Tls {
    acceptor: TlsAcceptor,
    ca_pem: String,
}

impl std::fmt::Debug for Tls {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Tls").finish_non_exhaustive()
    }
}

/// Why TLS could not be set up.
#[derive(Debug, thiserror::Error)]
pub enum TlsError {
    /// The certificate could not be made.
    #[error("making the self-signed certificate")]
    Certificate(#[from] rcgen::Error),
    /// rustls refused the configuration.
    #[error("configuring rustls")]
    Config(#[from] tokio_rustls::rustls::Error),
}

impl Tls {
    /// A new self-signed certificate, for `localhost`, `127.0.0.1`, `::1` and the addresses the
    /// server listens on, and the acceptor serving it.
    pub fn self_signed(listening_at: &[std::net::IpAddr]) -> Result<Self, TlsError> {
        let mut names: Vec<String> = ["localhost", "127.0.0.1", "::1"]
            .map(str::to_owned)
            .to_vec();
        for ip in listening_at {
            let ip = ip.to_string();
            if !names.contains(&ip) {
                names.push(ip);
            }
        }
        let rcgen::CertifiedKey { cert, key_pair } = rcgen::generate_simple_self_signed(names)?;
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key_pair.serialize_der()));
        let provider = Arc::new(tokio_rustls::rustls::crypto::ring::default_provider());
        let mut config = ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()?
            .with_no_client_auth()
            .with_single_cert(vec![cert.der().clone()], key)?;
        config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
        Ok(Self {
            acceptor: TlsAcceptor::from(Arc::new(config)),
            ca_pem: cert.pem(),
        })
    }

    /// The certificate, PEM: what a client must trust.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The acceptor of handshakes.
    pub fn acceptor(&self) -> &TlsAcceptor {
        &self.acceptor
    }
}

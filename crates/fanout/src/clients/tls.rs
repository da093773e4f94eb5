//! TLS for the clients (rustls with ring): the configurations that trust the one certificate
//! a job was given, and the classification of rustls errors into fanout's kinds.

use std::io;
use std::sync::Arc;

use crate::model::error_kind::ErrorKind;
use crate::model::job::Job;
use crate::model::settings::Protocol;

/// The rustls configuration of a job's reqwest clients, made once per (certificate, protocol):
/// ring, TLS 1.3 and 1.2, trusting the job's certificate only (none for plain HTTP), ALPN for
/// the protocol.
pub fn rustls_config(job: &Job) -> rustls::ClientConfig {
    type Key = (Option<String>, Protocol);
    static MADE: std::sync::Mutex<Vec<(Key, rustls::ClientConfig)>> =
        std::sync::Mutex::new(Vec::new());
    let key: Key = (job.tls_root_pem.clone(), job.settings.protocol);
    let mut made = MADE.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, config)) = made.iter().find(|(k, _)| *k == key) {
        return config.clone();
    }
    let mut roots = rustls::RootCertStore::empty();
    if let Some(root) = tls_root_der(job) {
        // A certificate that does not parse leaves the store empty: every request then fails
        // as tls_certificate.
        let _ = roots.add(rustls::pki_types::CertificateDer::from(root));
    }
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("ring supports the safe default TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = match job.settings.protocol {
        Protocol::H1 => vec![b"http/1.1".to_vec()],
        Protocol::H2 => vec![b"h2".to_vec()],
    };
    made.push((key, config.clone()));
    config
}

/// The certificate a job's clients trust over HTTPS, DER; `None` for plain HTTP (or a PEM that
/// does not parse, which then fails every request as `tls_certificate`).
fn tls_root_der(job: &Job) -> Option<Vec<u8>> {
    pem_to_der(job.tls_root_pem.as_deref()?)
}

/// ureq's TLS settings trusting the one certificate `pem` (rustls), if it parses.
pub fn ureq_tls_trusting(pem: &str) -> Option<ureq::tls::TlsConfig> {
    use ureq::tls::{Certificate, RootCerts, TlsConfig, TlsProvider};
    let root = pem_to_der(pem)?;
    let roots = RootCerts::Specific(Arc::new(vec![Certificate::from_der(&root).to_owned()]));
    Some(
        TlsConfig::builder()
            .provider(TlsProvider::Rustls)
            .root_certs(roots)
            .build(),
    )
}

/// A PEM certificate's DER bytes, if it parses.
pub fn pem_to_der(pem: &str) -> Option<Vec<u8>> {
    use rustls::pki_types::pem::PemObject as _;
    rustls::pki_types::CertificateDer::from_pem_slice(pem.as_bytes())
        .ok()
        .map(|c| c.to_vec())
}

/// Classifies a rustls error: a certificate not trusted, or another TLS failure.
pub fn kind_of(e: &rustls::Error) -> ErrorKind {
    match e {
        rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented => {
            ErrorKind::TlsCertificate
        }
        _ => ErrorKind::Tls,
    }
}

/// The kind of the first rustls error in `e`'s source chain (also where an I/O error carries
/// it), if there is one.
pub fn kind_in_chain(e: &(dyn std::error::Error + 'static)) -> Option<ErrorKind> {
    let mut current = Some(e);
    while let Some(err) = current {
        if let Some(tls) = err.downcast_ref::<rustls::Error>() {
            return Some(kind_of(tls));
        }
        if let Some(kind) = err.downcast_ref::<io::Error>().and_then(kind_in_io) {
            return Some(kind);
        }
        current = err.source();
    }
    None
}

/// The kind of a rustls error an I/O error carries, if it carries one: an I/O error may carry
/// another, which carries the TLS one (hyper's connector wraps tokio-rustls's), so each layer
/// is looked inside.
pub fn kind_in_io(e: &io::Error) -> Option<ErrorKind> {
    let mut inner = e.get_ref();
    while let Some(wrapped) = inner {
        if let Some(tls) = wrapped.downcast_ref::<rustls::Error>() {
            return Some(kind_of(tls));
        }
        inner = wrapped
            .downcast_ref::<io::Error>()
            .and_then(io::Error::get_ref);
    }
    None
}

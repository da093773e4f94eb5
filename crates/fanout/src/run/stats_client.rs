//! The harness's client of the server's `/stats`: reset before a point, read after it.

use std::time::{Duration, Instant};

use mock_server::StatsSnapshot;

use super::error::HarnessError;
use super::server::Endpoint;
use crate::clients::tls;
use crate::clients::ureq_agent::ureq_error_kind;
use crate::model::error_kind::ErrorKind;

/// Reads and resets a server's `/stats`. A server without it (`--url` to another server, or
/// to an HTTPS server whose certificate this process does not trust) gives `None`; a server
/// that does not answer at all is an error.
#[derive(Debug)]
pub struct StatsClient {
    agent: ureq::Agent,
    base_url: String,
}

impl StatsClient {
    /// A client for the server at `endpoint` (trusting its certificate over HTTPS).
    pub fn new(endpoint: &Endpoint) -> Self {
        let base_url = endpoint.base_url.as_str();
        let mut config = ureq::Agent::config_builder();
        if let Some(tls) = endpoint.ca_pem.as_deref().and_then(tls::ureq_tls_trusting) {
            config = config.tls_config(tls);
        }
        let config = config
            .timeout_global(Some(Duration::from_secs(10)))
            .http_status_as_error(false)
            .proxy(None)
            // Keep the one connection across long points: a new one would count as the
            // point's.
            .max_idle_age(Duration::from_secs(24 * 3600))
            .build();
        Self {
            agent: ureq::Agent::new_with_config(config),
            base_url: base_url.trim_end_matches('/').to_owned(),
        }
    }

    fn gone(&self, reason: impl ToString) -> HarnessError {
        HarnessError::ServerGone {
            url: self.base_url.clone(),
            reason: reason.to_string(),
        }
    }

    /// Waits (up to 10 s) for requests of an earlier point — a killed worker's — to leave
    /// the server, then `POST /stats/reset`; Ok even when the server has no such endpoint.
    pub fn reset(&self) -> Result<(), HarnessError> {
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.in_flight()? > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(50));
        }
        let url = format!("{}/stats/reset", self.base_url);
        let mut response = match self.agent.post(&url).send_empty() {
            Ok(response) => response,
            Err(e) if untrusted(&e) => return Ok(()),
            Err(e) => return Err(self.gone(e)),
        };
        // Read to the end so the connection goes back to the pool: a new one for the final
        // GET /stats would count among the point's connections.
        let _ = response.body_mut().read_to_vec();
        Ok(())
    }

    /// `GET /stats`, or why there is none to read (no such endpoint, an answer that does not
    /// parse, a certificate not trusted): said, never dropped.
    pub fn read(&self) -> Result<Result<StatsSnapshot, String>, HarnessError> {
        self.answer()
    }

    fn in_flight(&self) -> Result<u64, HarnessError> {
        Ok(self.answer()?.map_or(0, |s| s.in_flight))
    }

    fn answer(&self) -> Result<Result<StatsSnapshot, String>, HarnessError> {
        let url = format!("{}/stats", self.base_url);
        let mut response = match self.agent.get(&url).call() {
            Ok(response) => response,
            Err(e) if untrusted(&e) => {
                return Ok(Err(format!("{url}: its certificate is not trusted here")));
            }
            Err(e) => return Err(self.gone(e)),
        };
        // Read to the end whatever the status, so the connection is kept.
        let body = response
            .body_mut()
            .read_to_string()
            .map_err(|e| self.gone(e))?;
        if response.status() != 200 {
            return Ok(Err(format!("{url} answered {}", response.status())));
        }
        Ok(serde_json::from_str(&body).map_err(|e| {
            let start: String = body.chars().take(80).collect();
            format!("{url} answered what is not a stats snapshot ({e}): {start:?}")
        }))
    }
}

/// True when the server's certificate is not trusted (an HTTPS `--url` whose certificate this
/// process was not given): its `/stats` is unreadable, as a server without one, and the
/// point's clients will say why in their errors.
fn untrusted(e: &ureq::Error) -> bool {
    ureq_error_kind(e) == ErrorKind::TlsCertificate
}

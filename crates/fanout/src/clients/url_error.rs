//! Why a client cannot send to the job's URL: one error for every client, the parser's own
//! error kept as its source.

/// The job's URL and what is wrong with it for this client.
#[derive(Debug, thiserror::Error)]
#[error("{url}: {why}")]
pub struct UrlError {
    /// The URL as the job holds it.
    pub url: String,
    /// What the client found wrong (does not parse, not plain http://, no host, no address).
    pub why: String,
    /// The parser's or the resolver's error, where there was one.
    #[source]
    pub source: Option<Box<dyn std::error::Error + Send + Sync>>,
}

impl UrlError {
    /// A URL the client refuses for a reason of its own (no parser error behind it).
    pub fn refused(url: &str, why: impl Into<String>) -> Self {
        Self {
            url: url.to_string(),
            why: why.into(),
            source: None,
        }
    }

    /// A URL whose parser or resolver failed: `source` is that failure.
    pub fn failed(
        url: &str,
        why: impl Into<String>,
        source: impl std::error::Error + Send + Sync + 'static,
    ) -> Self {
        Self {
            url: url.to_string(),
            why: why.into(),
            source: Some(Box::new(source)),
        }
    }
}

//! One accepted connection as the server sees it: whether a request on it is its first (the
//! connection set-up delay is paid once), its responses against the profile's
//! `keepalive_requests`, past which the server asks the connection to close, and the faults
//! that act on a whole connection: closed gracefully (GOAWAY on HTTP/2), or reset.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::task::{Context, Poll};

use tokio::sync::Notify;

use crate::stats::Stats;

/// One connection's requests.
#[derive(Debug)]
pub struct Connection {
    started: AtomicU64,
    limit: Option<u64>,
    /// Woken when the connection is to close gracefully: its limit, or a fault.
    close_asked: Notify,
    /// Woken when the connection is to be reset.
    reset_asked: Notify,
    /// Set before a reset: the socket closes with SO_LINGER 0 (an RST, not a FIN).
    reset_on_close: Arc<AtomicBool>,
    stats: Arc<Stats>,
}

impl Connection {
    /// A new connection, closed after `limit` requests (`None`: kept as long as its client
    /// keeps it), its close counted in `stats`; `reset_on_close` is its socket's flag
    /// ([`crate::listener::CountedStream::reset_on_close`]).
    pub fn new(limit: Option<u64>, stats: Arc<Stats>, reset_on_close: Arc<AtomicBool>) -> Self {
        Self {
            started: AtomicU64::new(0),
            limit,
            close_asked: Notify::new(),
            reset_asked: Notify::new(),
            reset_on_close,
            stats,
        }
    }

    /// Asks the connection to close once its requests in flight are answered (HTTP/2:
    /// GOAWAY now).
    pub fn close_gracefully(&self) {
        self.close_asked.notify_one();
    }

    /// Resets the connection now: every request on it fails, and its client sees an RST.
    pub fn reset(&self) {
        self.reset_on_close.store(true, Ordering::Relaxed);
        self.reset_asked.notify_one();
    }

    /// Completes once the connection is to be reset.
    pub async fn reset_asked(&self) {
        self.reset_asked.notified().await;
    }

    /// Counts a request: whether it is the first on this connection, and whether it is the
    /// last its limit allows — the server's decision to close it, counted then, and
    /// [`Connection::limit_reached`] woken.
    pub fn request_started(&self) -> Started {
        let n = self.started.fetch_add(1, Ordering::Relaxed) + 1;
        let last = self.limit == Some(n);
        if last {
            self.stats.keepalive_close();
            self.close_asked.notify_one();
        }
        Started {
            first: n == 1,
            last,
        }
    }

    /// Completes once the connection has started its last request by the limit, or a fault
    /// asked it to close.
    pub async fn close_asked(&self) {
        self.close_asked.notified().await;
    }
}

pin_project_lite::pin_project! {
    /// A response on its way, `Connection: close` added when it is the connection's last.
    pub struct Respond<F> {
        #[pin]
        inner: F,
        closes: bool,
    }
}

impl<F> Respond<F> {
    /// `inner`'s response, closing its connection if `closes`.
    pub fn new(inner: F, closes: bool) -> Self {
        Self { inner, closes }
    }
}

impl<F, E> Future for Respond<F>
where
    F: Future<Output = Result<axum::response::Response, E>>,
{
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        let mut ready = std::task::ready!(this.inner.poll(cx));
        if *this.closes
            && let Ok(response) = &mut ready
        {
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
        Poll::Ready(ready)
    }
}

/// Where a request stands on its connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Started {
    /// The connection's first request.
    pub first: bool,
    /// The last its keep-alive limit allows: its response closes the connection.
    pub last: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_first_request_is_told_and_the_limiting_one_wakes_the_close() {
        let stats = Arc::new(Stats::default());
        let c = Connection::new(Some(2), Arc::clone(&stats), Arc::default());
        let (one, two) = (c.request_started(), c.request_started());
        assert_eq!((one.first, one.last), (true, false));
        assert_eq!((two.first, two.last), (false, true));
        // notify_one keeps the wake for a waiter that comes later.
        tokio::time::timeout(std::time::Duration::from_secs(5), c.close_asked())
            .await
            .expect("woken");
        assert_eq!(stats.snapshot().keepalive_closes, 1);
        let unlimited = Connection::new(None, Arc::clone(&stats), Arc::default());
        for _ in 0..3 {
            unlimited.request_started();
        }
        let waited = tokio::time::timeout(
            std::time::Duration::from_millis(50),
            unlimited.close_asked(),
        );
        assert!(waited.await.is_err(), "no limit, no close");
    }
}

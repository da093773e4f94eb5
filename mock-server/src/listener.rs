//! The TCP listeners: an explicit accept backlog, one port on several loopback addresses,
//! TCP_NODELAY, a count of connections, an injected accept stall, and a reset (RST) on close
//! when a fault asks for one.
//!
//! `tokio::net::TcpListener::bind` listens with a small fixed backlog; at thousands of
//! simultaneous connects that overflows the accept queue and the kernel's SYN retransmits add
//! 1 s stalls that would look like client slowness. axum's own accept loop also sleeps 1 s after
//! an EMFILE; ours backs off 10 ms and counts the error.

use std::io;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::net::{TcpListener, TcpSocket, TcpStream};

use crate::stats::{ConnectionGuard, Stats};

/// Binds `addr` and listens with `backlog` (the kernel caps it at `net.core.somaxconn`).
/// Must be called inside a tokio runtime.
pub fn bind(addr: SocketAddr, backlog: u32) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() {
        TcpSocket::new_v4()?
    } else {
        TcpSocket::new_v6()?
    };
    // A restarted server must not wait for TIME_WAIT sockets of the last run.
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(backlog)
}

/// The `count` loopback addresses from `first` on (127.0.0.1, 127.0.0.2, …), or why there are
/// not that many: each is a destination of its own for a client, with its own range of
/// ephemeral ports and its own TIME_WAIT sockets.
pub fn loopback_run(first: IpAddr, count: u32) -> Result<Vec<IpAddr>, String> {
    if count == 1 {
        return Ok(vec![first]);
    }
    let IpAddr::V4(v4) = first else {
        return Err(format!(
            "{count} loopback addresses need an IPv4 loopback address to start from (127.x.y.z), not {first}"
        ));
    };
    let start = u32::from(v4);
    // 127.255.255.255 is the /8's broadcast address, not one to listen on.
    let last = start.checked_add(count - 1).filter(|&l| l < 0x7fff_ffff);
    match last {
        Some(_) if v4.is_loopback() => Ok((start..start + count)
            .map(|a| IpAddr::V4(Ipv4Addr::from(a)))
            .collect()),
        _ => Err(format!(
            "{count} loopback addresses from {first} leave 127.0.0.0/8 (start from 127.0.0.1)"
        )),
    }
}

/// Binds one port at every address of `ips` (see [`loopback_run`]), each listening with
/// `backlog`. With port 0, the first address picks a free port and the others take the same
/// one; where another socket holds it at one of them, a new port is tried (a few times).
/// Must be called inside a tokio runtime.
pub fn bind_all(ips: &[IpAddr], port: u16, backlog: u32) -> io::Result<Vec<TcpListener>> {
    const TRIES: usize = 8;
    let mut tried = 0;
    loop {
        tried += 1;
        let first = bind(SocketAddr::new(ips[0], port), backlog)?;
        let chosen = first.local_addr()?.port();
        let mut listeners = vec![first];
        let rest = ips[1..]
            .iter()
            .map(|&ip| bind(SocketAddr::new(ip, chosen), backlog))
            .collect::<io::Result<Vec<_>>>();
        match rest {
            Ok(rest) => {
                listeners.extend(rest);
                return Ok(listeners);
            }
            Err(e) if port == 0 && e.kind() == io::ErrorKind::AddrInUse && tried < TRIES => {
                continue;
            }
            Err(e) => return Err(e),
        }
    }
}

/// `net.core.somaxconn`, the kernel's cap on any listen backlog; `None` off Linux or where it
/// cannot be read.
pub fn somaxconn() -> Option<u32> {
    if cfg!(target_os = "linux") {
        std::fs::read_to_string("/proc/sys/net/core/somaxconn")
            .ok()?
            .trim()
            .parse()
            .ok()
    } else {
        None
    }
}

/// An axum [`Listener`](axum::serve::Listener) over one or more bound listeners (one port at
/// several loopback addresses) that counts connections in [`Stats`].
#[derive(Debug)]
pub struct CountingListener {
    inners: Vec<TcpListener>,
    /// Each listener's address, in the same order.
    locals: Vec<SocketAddr>,
    /// The listener asked first at the next accept: turns go round, so a busy address does
    /// not keep the others' connections waiting.
    next: usize,
    stats: Arc<Stats>,
}

impl CountingListener {
    /// Wraps bound listeners (at least one).
    pub fn new(inners: Vec<TcpListener>, stats: Arc<Stats>) -> Self {
        assert!(!inners.is_empty(), "a server needs a listener");
        let locals = inners
            .iter()
            .map(|l| {
                l.local_addr()
                    .unwrap_or_else(|_| SocketAddr::from(([0, 0, 0, 0], 0)))
            })
            .collect();
        Self {
            inners,
            locals,
            next: 0,
            stats,
        }
    }

    /// The next connection on any of the listeners, and the listener's address.
    async fn accept_any(&mut self) -> (io::Result<(TcpStream, SocketAddr)>, SocketAddr) {
        let (inners, locals, next) = (&self.inners, &self.locals, &mut self.next);
        std::future::poll_fn(|cx| {
            let n = inners.len();
            for i in 0..n {
                let k = (*next + i) % n;
                if let Poll::Ready(accepted) = inners[k].poll_accept(cx) {
                    *next = (k + 1) % n;
                    return Poll::Ready((accepted, locals[k]));
                }
            }
            Poll::Pending
        })
        .await
    }
}

impl axum::serve::Listener for CountingListener {
    type Io = CountedStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let (accepted, local) = self.accept_any().await;
            match accepted {
                Ok((stream, addr)) => {
                    // An injected accept stall: a connection that arrives meanwhile waits,
                    // as it would in the backlog of a listener not accepting (the wait for
                    // this accept began before the stall did).
                    while let Some(pause) = self.stats.faults().accept_pause() {
                        tokio::time::sleep(pause).await;
                    }
                    if let Err(e) = stream.set_nodelay(true) {
                        tracing::debug!("TCP_NODELAY on {addr}: {e}");
                    }
                    let guard = self.stats.connection_opened(local);
                    let reset_on_close = Arc::default();
                    return (
                        CountedStream {
                            stream,
                            guard,
                            reset_on_close,
                        },
                        addr,
                    );
                }
                Err(e) => {
                    let failures = self.stats.accept_failed();
                    // EMFILE repeats every 10 ms until a connection closes: log the 1st, 2nd,
                    // 4th, 8th… so the log says it without flooding.
                    if failures.is_power_of_two() {
                        tracing::warn!(
                            "accept failed ({failures} times since /stats was reset): {e}"
                        );
                    }
                    // Out of file descriptors (or similar): the error repeats until a
                    // connection closes, so back off briefly instead of spinning.
                    tokio::time::sleep(Duration::from_millis(10)).await;
                }
            }
        }
    }

    fn local_addr(&self) -> io::Result<Self::Addr> {
        self.inners[0].local_addr()
    }
}

/// An accepted stream that marks its connection closed when dropped, and resets it (an RST,
/// not a FIN) when an injected fault asked for it.
#[derive(Debug)]
pub struct CountedStream {
    stream: TcpStream,
    #[allow(dead_code)] // held for its Drop
    guard: ConnectionGuard,
    reset_on_close: Arc<AtomicBool>,
}

impl CountedStream {
    /// The flag that makes this stream's close a reset.
    pub fn reset_on_close(&self) -> Arc<AtomicBool> {
        Arc::clone(&self.reset_on_close)
    }
}

impl Drop for CountedStream {
    fn drop(&mut self) {
        if self.reset_on_close.load(Ordering::Relaxed) {
            // SO_LINGER 0: close() sends RST and drops what is unsent.
            let linger = socket2::SockRef::from(&self.stream).set_linger(Some(Duration::ZERO));
            if let Err(e) = linger {
                tracing::debug!("SO_LINGER 0 for an injected reset: {e}");
            }
        }
    }
}

impl AsyncRead for CountedStream {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_read(cx, buf)
    }
}

impl AsyncWrite for CountedStream {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().stream).poll_shutdown(cx)
    }
}

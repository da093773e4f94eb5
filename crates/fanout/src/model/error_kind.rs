//! Why a request did not count as ok: fanout's error kinds, their JSON keys, and the
//! classification of I/O errors (each client's own errors are classified beside that client,
//! in `clients`).

use std::io;

/// Why a request did not count as ok. The JSON key is [`ErrorKind::key`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ErrorKind {
    /// The per-request timeout elapsed.
    Timeout,
    /// Nothing listening (ECONNREFUSED).
    ConnectionRefused,
    /// The peer reset or closed the connection mid-request.
    ConnectionReset,
    /// Out of file descriptors (EMFILE/ENFILE).
    TooManyOpenFiles,
    /// Out of local ports (EADDRNOTAVAIL).
    AddrNotAvailable,
    /// The OS refused a new thread (EAGAIN from clone).
    ThreadSpawn,
    /// The OS refused to map a coroutine's stack (mmap failed: with stacks of a few KiB,
    /// `vm.max_map_count` long before memory).
    StackMap,
    /// A status other than 200.
    HttpStatus(u16),
    /// A body shorter than its `Content-Length`: the connection ended before the rest came
    /// (never ok).
    Truncated,
    /// A 200 whose body was not the expected one.
    BodyMismatch,
    /// A response the client could not read as HTTP/1.1 (malformed, chunked, too large a head,
    /// bytes after the body).
    BadResponse,
    /// The server's certificate was not trusted (or the TLS handshake failed on it).
    TlsCertificate,
    /// Any other TLS failure.
    Tls,
    /// A task or thread panicked.
    Panic,
    /// Never attempted: the strategy stopped before it (see `strategy_error`).
    NotRun,
    /// Lost with its worker process: it crashed, was killed, or printed no report.
    WorkerFailed,
    /// Any other I/O error.
    Io,
    /// Anything else the client reported.
    Other,
}

impl ErrorKind {
    /// The name used in `errors` of the JSON report.
    pub fn key(self) -> String {
        match self {
            Self::Timeout => "timeout".into(),
            Self::ConnectionRefused => "connection_refused".into(),
            Self::ConnectionReset => "connection_reset".into(),
            Self::TooManyOpenFiles => "too_many_open_files".into(),
            Self::AddrNotAvailable => "addr_not_available".into(),
            Self::ThreadSpawn => "thread_spawn".into(),
            Self::StackMap => "stack_map".into(),
            Self::HttpStatus(code) => format!("http_{code}"),
            Self::Truncated => "truncated".into(),
            Self::BodyMismatch => "body_mismatch".into(),
            Self::BadResponse => "bad_response".into(),
            Self::TlsCertificate => "tls_certificate".into(),
            Self::Tls => "tls".into(),
            Self::Panic => "panic".into(),
            Self::NotRun => "not_run".into(),
            Self::WorkerFailed => "worker_failed".into(),
            Self::Io => "io".into(),
            Self::Other => "other".into(),
        }
    }

    /// Classifies an I/O error by its kind and OS error number.
    pub fn from_io(e: &io::Error) -> Self {
        use nix::errno::Errno;
        if let Some(errno) = e.raw_os_error()
            && matches!(Errno::from_raw(errno), Errno::EMFILE | Errno::ENFILE)
        {
            return Self::TooManyOpenFiles;
        }
        match e.kind() {
            io::ErrorKind::TimedOut | io::ErrorKind::WouldBlock => Self::Timeout,
            io::ErrorKind::ConnectionRefused => Self::ConnectionRefused,
            io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe => Self::ConnectionReset,
            // A stream that ended before the length it promised.
            io::ErrorKind::UnexpectedEof => Self::Truncated,
            io::ErrorKind::AddrNotAvailable => Self::AddrNotAvailable,
            _ => Self::Io,
        }
    }

    /// Classifies any error by the first I/O error in its source chain, if there is one.
    pub fn from_chain(e: &(dyn std::error::Error + 'static)) -> Option<Self> {
        let mut current = Some(e);
        while let Some(err) = current {
            if let Some(io) = err.downcast_ref::<io::Error>() {
                return Some(Self::from_io(io));
            }
            current = err.source();
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_are_classified_by_os_error_and_kind() {
        let emfile = io::Error::from_raw_os_error(nix::errno::Errno::EMFILE as i32);
        assert_eq!(ErrorKind::from_io(&emfile), ErrorKind::TooManyOpenFiles);
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(ErrorKind::from_io(&refused), ErrorKind::ConnectionRefused);
        let no_port = io::Error::from_raw_os_error(nix::errno::Errno::EADDRNOTAVAIL as i32);
        assert_eq!(ErrorKind::from_io(&no_port), ErrorKind::AddrNotAvailable);
    }

    #[derive(Debug, thiserror::Error)]
    #[error("client failed")]
    struct Wrapper(#[source] io::Error);

    #[test]
    fn the_first_io_error_in_a_source_chain_decides_the_kind() {
        let wrapped = Wrapper(io::Error::from(io::ErrorKind::TimedOut));
        assert_eq!(ErrorKind::from_chain(&wrapped), Some(ErrorKind::Timeout));
        assert_eq!(ErrorKind::from_chain(&std::fmt::Error), None);
    }
}

//! Deadlines for may's sockets without may's I/O timers: one OS thread shuts a socket down
//! when the exchange on it passes its deadline, which wakes the coroutine parked on it.
//!
//! Why not may's own `set_read_timeout`: with its `io_timeout` feature, may 0.3.51 keeps each
//! socket's timer handle in a `RefCell` that a worker thread sets when a coroutine parks
//! (`add_io_timer`, `src/io/sys/unix/epoll.rs`) and the event-loop thread takes when the
//! socket's event arrives (`select`, the same file), with nothing ordering the two. Under the
//! open-loop overload that race crashed `coroutine_raw` with SIGSEGV at `epoll.rs:126` (the
//! timer removal) in about one run in ten; fanout builds may without `io_timeout`, so no may
//! socket has a timer, and this keeper bounds the exchanges instead.

use std::collections::{BTreeMap, HashSet};
use std::os::fd::RawFd;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock};
use std::time::Instant;

use nix::sys::socket::{Shutdown, shutdown};

/// The exchanges being watched, by deadline.
#[derive(Debug, Default)]
struct Watched {
    /// Each armed exchange's socket, by (deadline, id).
    armed: BTreeMap<(Instant, u64), RawFd>,
    /// Ids whose deadline passed and whose socket was shut down, until they are disarmed.
    fired: HashSet<u64>,
    next_id: u64,
}

/// The one keeper of a process: its watch list and the condition its thread waits on.
#[derive(Debug, Default)]
struct Keeper {
    watched: Mutex<Watched>,
    changed: Condvar,
}

/// One exchange under watch; [`Armed::disarm`] ends it and says whether its deadline passed.
/// The owner disarms before it closes the socket, so the keeper never shuts down a file
/// descriptor the OS has handed to someone else. Dropped without disarming (a panic), it
/// disarms.
#[derive(Debug)]
pub struct Armed {
    key: Option<(Instant, u64)>,
}

/// Watches the socket `fd` until the returned [`Armed`] is disarmed: past `deadline`, the
/// keeper shuts it down for reading and writing, so a read waiting on it returns and the
/// exchange ends. The keeper's thread starts with the first exchange of the process.
pub fn arm(fd: RawFd, deadline: Instant) -> Armed {
    let keeper = keeper();
    let mut watched = lock(keeper);
    let id = watched.next_id;
    watched.next_id += 1;
    let key = (deadline, id);
    watched.armed.insert(key, fd);
    // Deadlines come in order, so the keeper is only woken when this one is its next.
    if watched.armed.first_key_value().map(|(first, _)| *first) == Some(key) {
        keeper.changed.notify_one();
    }
    Armed { key: Some(key) }
}

impl Armed {
    /// Ends the watch: true when the deadline passed first (the socket is shut down, so the
    /// exchange's outcome is a timeout and the connection cannot be reused).
    pub fn disarm(mut self) -> bool {
        self.end()
    }

    fn end(&mut self) -> bool {
        let Some(key) = self.key.take() else {
            return false;
        };
        let mut watched = lock(keeper());
        watched.armed.remove(&key).is_none() && watched.fired.remove(&key.1)
    }
}

impl Drop for Armed {
    fn drop(&mut self) {
        self.end();
    }
}

fn keeper() -> &'static Keeper {
    static KEEPER: OnceLock<&'static Keeper> = OnceLock::new();
    KEEPER.get_or_init(|| {
        let keeper: &'static Keeper = Box::leak(Box::default());
        std::thread::Builder::new()
            .name("deadline-keeper".into())
            .spawn(move || keep(keeper))
            .expect("the deadline keeper's thread could not start");
        keeper
    })
}

/// The keeper's thread: sleeps until the earliest deadline, shuts down each socket past it.
/// It shuts a socket down holding the lock that disarming takes, so the socket is still open.
fn keep(keeper: &'static Keeper) {
    let mut watched = lock(keeper);
    loop {
        let now = Instant::now();
        let next = watched.armed.first_key_value().map(|(key, fd)| (*key, *fd));
        watched = match next {
            None => keeper
                .changed
                .wait(watched)
                .unwrap_or_else(|poisoned| poisoned.into_inner()),
            Some(((deadline, id), fd)) if deadline <= now => {
                watched.armed.remove(&(deadline, id));
                // A socket the peer already closed refuses the shutdown: it is ending anyway.
                let _ = shutdown(fd, Shutdown::Both);
                watched.fired.insert(id);
                watched
            }
            Some(((deadline, _), _)) => {
                keeper
                    .changed
                    .wait_timeout(watched, deadline - now)
                    .unwrap_or_else(|poisoned| poisoned.into_inner())
                    .0
            }
        };
    }
}

fn lock(keeper: &Keeper) -> MutexGuard<'_, Watched> {
    // The lock guards plain data that every step leaves consistent.
    keeper
        .watched
        .lock()
        .unwrap_or_else(|poisoned| poisoned.into_inner())
}

#[cfg(test)]
mod tests {
    use std::io::Read as _;
    use std::net::{TcpListener, TcpStream};
    use std::os::fd::AsRawFd as _;
    use std::time::Duration;

    use super::*;

    #[test]
    fn a_read_past_its_deadline_is_ended_and_says_so() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let mut client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let _server_side = listener.accept().unwrap(); // accepted, never answers
        let armed = arm(
            client.as_raw_fd(),
            Instant::now() + Duration::from_millis(50),
        );
        let mut buf = [0u8; 16];
        // Blocks until the keeper shuts the socket down: then the read sees the end.
        assert_eq!(client.read(&mut buf).unwrap(), 0);
        assert!(armed.disarm(), "the deadline passed first");
    }

    #[test]
    fn an_exchange_done_in_time_is_not_touched() {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap()).unwrap();
        let armed = arm(
            client.as_raw_fd(),
            Instant::now() + Duration::from_secs(3600),
        );
        assert!(!armed.disarm());
        // Still open for writing: not shut down.
        assert!(client.take_error().unwrap().is_none());
        std::io::Write::write_all(&mut &client, b"x").unwrap();
    }
}

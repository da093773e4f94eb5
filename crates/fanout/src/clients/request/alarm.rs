//! One thread that runs short callbacks at their times: what looks at a blocked request's
//! hedge while the thread or coroutine that sent it waits in a read. It starts with the
//! first alarm of the process and serves every point after it.

use std::collections::BTreeMap;
use std::sync::{Condvar, Mutex, MutexGuard, OnceLock, PoisonError};
use std::time::Instant;

/// A callback due at a time: quick, for it runs on the alarm's one thread.
type Callback = Box<dyn FnOnce() + Send>;

/// The alarms set, by (time, id), and the next id.
#[derive(Default)]
struct Set {
    due: BTreeMap<(Instant, u64), Callback>,
    next_id: u64,
}

/// The process's alarms and the condition their thread waits on.
#[derive(Default)]
struct Alarms {
    set: Mutex<Set>,
    changed: Condvar,
}

/// Which alarm to cancel.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AlarmId((Instant, u64));

/// Runs `callback` on the alarm thread at `when` (at once if it has passed), unless cancelled
/// first; `None` when the alarm thread could not be started (the OS refused a thread).
pub fn at(when: Instant, callback: impl FnOnce() + Send + 'static) -> Option<AlarmId> {
    let alarms = alarms()?;
    let mut set = lock(alarms);
    let id = set.next_id;
    set.next_id += 1;
    let key = (when, id);
    set.due.insert(key, Box::new(callback));
    if set.due.first_key_value().map(|(first, _)| *first) == Some(key) {
        alarms.changed.notify_one();
    }
    Some(AlarmId(key))
}

/// Cancels an alarm that has not run yet; nothing to do for one that has.
pub fn cancel(id: AlarmId) {
    if let Some(alarms) = alarms() {
        lock(alarms).due.remove(&id.0);
    }
}

fn lock(alarms: &Alarms) -> MutexGuard<'_, Set> {
    alarms.set.lock().unwrap_or_else(PoisonError::into_inner)
}

/// The process's alarms, their thread started on first use.
fn alarms() -> Option<&'static Alarms> {
    static ALARMS: OnceLock<Option<&'static Alarms>> = OnceLock::new();
    *ALARMS.get_or_init(|| {
        let alarms: &'static Alarms = Box::leak(Box::default());
        let started = std::thread::Builder::new()
            .name("fanout-alarm".into())
            .spawn(move || ring(alarms));
        started.ok().map(|_| alarms)
    })
}

/// The alarm thread: sleeps until the first alarm is due, runs it outside the lock.
fn ring(alarms: &Alarms) {
    let mut set = lock(alarms);
    loop {
        let now = Instant::now();
        match set.due.first_key_value().map(|(key, _)| *key) {
            Some(key) if key.0 <= now => {
                let callback = set.due.remove(&key).expect("the first alarm");
                drop(set);
                callback();
                set = lock(alarms);
            }
            Some(key) => {
                set = alarms
                    .changed
                    .wait_timeout(set, key.0 - now)
                    .unwrap_or_else(PoisonError::into_inner)
                    .0;
            }
            None => {
                set = alarms
                    .changed
                    .wait(set)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use std::sync::mpsc;
    use std::time::Duration;

    use super::*;

    #[test]
    fn alarms_ring_in_order_and_a_cancelled_one_never_does() {
        let (tx, rx) = mpsc::channel();
        let now = Instant::now();
        let (a, b, c) = (tx.clone(), tx.clone(), tx);
        at(now + Duration::from_millis(30), move || {
            a.send(2).expect("send")
        })
        .expect("set");
        let gone = at(now + Duration::from_millis(10), move || {
            b.send(0).expect("send")
        });
        at(now + Duration::from_millis(20), move || {
            c.send(1).expect("send")
        })
        .expect("set");
        cancel(gone.expect("set"));
        let got: Vec<i32> = rx.iter().take(2).collect();
        assert_eq!(got, [1, 2]);
    }
}

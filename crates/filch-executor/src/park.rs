//! Parking and unparking one thread (a worker, or a `block_on` caller).
//!
//! A parker is a small state machine (`EMPTY`, `PARKED_CONDVAR`,
//! `PARKED_DRIVER`, `NOTIFIED`) plus a mutex and condition variable. A worker
//! that can take the runtime's driver blocks in the driver instead of the
//! condition variable, so the unparker must know which of the two to poke.
//!
//! The protocol that makes a wake-up impossible to lose: `unpark` always
//! swaps the state to `NOTIFIED` first, and `park` only blocks after a
//! successful `EMPTY -> PARKED_*` compare-exchange; a condvar parker holds the
//! mutex from that exchange until it waits, and `unpark` takes and releases
//! the mutex before notifying, so the notification cannot fall between the
//! exchange and the wait. This module owns that protocol and nothing about
//! what workers do when they wake.

use crate::driver::{Driver, Park};
use crate::loom::atomic::AtomicUsize;
use crate::loom::{Arc, Condvar, CvMutex, Mutex};
use std::sync::atomic::Ordering::SeqCst;
use std::time::{Duration, Instant};

const EMPTY: usize = 0;
const PARKED_CONDVAR: usize = 1;
const PARKED_DRIVER: usize = 2;
const NOTIFIED: usize = 3;

/// The runtime's driver: the blocking half behind the lock that allows one
/// waiter at a time, and the shared half that wakes it.
pub struct DriverSlot {
    park: Mutex<Box<dyn Park>>,
    driver: std::sync::Arc<dyn Driver>,
}

impl DriverSlot {
    /// Pairs a driver's two halves.
    pub fn new(park: Box<dyn Park>, driver: std::sync::Arc<dyn Driver>) -> DriverSlot {
        DriverSlot {
            park: Mutex::new(park),
            driver,
        }
    }

    pub(crate) fn driver(&self) -> &std::sync::Arc<dyn Driver> {
        &self.driver
    }

    /// Polls the driver without blocking, if no one else is in it.
    pub(crate) fn poll_if_free(&self) {
        if let Some(mut park) = self.park.try_lock() {
            park.park(Some(Duration::ZERO));
        }
    }
}

/// The sleeping side, owned by the thread that parks.
pub struct Parker {
    inner: Arc<Inner>,
}

/// The waking side; cheap to clone and share.
#[derive(Clone)]
pub struct Unparker {
    inner: Arc<Inner>,
}

struct Inner {
    state: AtomicUsize,
    mutex: CvMutex<()>,
    condvar: Condvar,
    driver: Option<std::sync::Arc<DriverSlot>>,
}

impl Parker {
    /// A parker that blocks in `driver` when it can take it.
    pub fn new(driver: Option<std::sync::Arc<DriverSlot>>) -> Parker {
        Parker {
            inner: Arc::new(Inner {
                state: AtomicUsize::new(EMPTY),
                mutex: CvMutex::new(()),
                condvar: Condvar::new(),
                driver,
            }),
        }
    }

    /// The matching unparker.
    pub fn unparker(&self) -> Unparker {
        Unparker {
            inner: self.inner.clone(),
        }
    }

    /// Blocks until unparked or `timeout` elapses. May also return
    /// spuriously; callers re-check their condition.
    pub fn park(&mut self, timeout: Option<Duration>) {
        let inner = &*self.inner;
        // A pending notification is consumed without blocking.
        if inner
            .state
            .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
            .is_ok()
        {
            return;
        }
        if timeout == Some(Duration::ZERO) {
            if let Some(slot) = &inner.driver {
                slot.poll_if_free();
            }
            return;
        }
        if let Some(slot) = &inner.driver
            && let Some(mut park) = slot.park.try_lock()
        {
            inner.park_driver(&mut **park, timeout);
            return;
        }
        inner.park_condvar(timeout);
    }
}

impl Inner {
    /// Moves `EMPTY -> parked`; false (and the notification consumed) if an
    /// unpark came first.
    fn enter_parked(&self, parked: usize) -> bool {
        match self.state.compare_exchange(EMPTY, parked, SeqCst, SeqCst) {
            Ok(_) => true,
            Err(NOTIFIED) => {
                let prev = self.state.swap(EMPTY, SeqCst);
                debug_assert_eq!(prev, NOTIFIED);
                false
            }
            Err(actual) => panic!("inconsistent park state {actual}"),
        }
    }

    fn park_driver(&self, park: &mut dyn Park, timeout: Option<Duration>) {
        if !self.enter_parked(PARKED_DRIVER) {
            return;
        }
        park.park(timeout);
        match self.state.swap(EMPTY, SeqCst) {
            NOTIFIED | PARKED_DRIVER => {}
            actual => panic!("inconsistent park state {actual}"),
        }
    }

    fn park_condvar(&self, timeout: Option<Duration>) {
        let mut guard = self.mutex.lock();
        // Entered with the mutex held, so an unpark's lock-then-notify
        // cannot slip in before the wait below.
        if !self.enter_parked(PARKED_CONDVAR) {
            return;
        }
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        loop {
            let timed_out;
            (guard, timed_out) = match (timeout, deadline) {
                (None, _) | (Some(_), None) => (self.condvar.wait(guard), false),
                (Some(_), Some(deadline)) => {
                    let now = Instant::now();
                    if now >= deadline {
                        (guard, true)
                    } else {
                        self.condvar.wait_timeout(guard, deadline - now)
                    }
                }
            };
            if self
                .state
                .compare_exchange(NOTIFIED, EMPTY, SeqCst, SeqCst)
                .is_ok()
            {
                return;
            }
            if timed_out {
                // Either still PARKED_CONDVAR or just notified: both end here.
                match self.state.swap(EMPTY, SeqCst) {
                    NOTIFIED | PARKED_CONDVAR => return,
                    actual => panic!("inconsistent park state {actual}"),
                }
            }
            // Spurious wake-up: wait again.
        }
    }
}

impl Unparker {
    /// Wakes the parked thread, or makes its next `park` return at once.
    pub fn unpark(&self) {
        let inner = &*self.inner;
        match inner.state.swap(NOTIFIED, SeqCst) {
            EMPTY | NOTIFIED => {}
            PARKED_CONDVAR => {
                // Taking the lock orders us after the parker's wait began
                // (it holds the lock from its compare-exchange to its wait).
                drop(inner.mutex.lock());
                inner.condvar.notify_one();
            }
            PARKED_DRIVER => {
                if let Some(slot) = &inner.driver {
                    slot.driver.unpark();
                }
            }
            actual => panic!("inconsistent park state {actual}"),
        }
    }
}

impl std::fmt::Debug for Parker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Parker").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for Unparker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Unparker").finish_non_exhaustive()
    }
}

impl std::fmt::Debug for DriverSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DriverSlot").finish_non_exhaustive()
    }
}

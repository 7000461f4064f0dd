//! How the reactor blocks for readiness and how it is woken: the wait on
//! the poller, the harvested events, and the unpark signal.
//!
//! **Linux**: the reactor waits with one `epoll_pwait` on the poller's own
//! epoll descriptor and is woken through its own eventfd, registered in
//! that epoll instance in edge mode under [`WAKE_KEY`]. `polling`'s `wait`
//! costs five system calls on every call, even a zero-timeout one (arm its
//! timerfd, re-arm it with `epoll_ctl`, `epoll_wait`, read its notifier,
//! re-arm that with `epoll_ctl`), and the reactor polls without blocking at
//! every maintenance tick; this path is one. `polling` still does every
//! registration (`add`, `modify`, `delete`); its epoll backend stores an
//! event's key in the epoll data word, which the test at the end of this
//! file checks against the `polling` in use. Its own notifier and
//! timerfd stay registered but never fire, since nothing calls its `wait`
//! or `notify`. The timeout goes to `epoll_pwait` in milliseconds, rounded
//! up (a timer never fires early), and is capped at `i32::MAX` ms, the most
//! every kernel takes.
//!
//! The eventfd is in edge mode and never read: each write is a new edge, so
//! a wake costs one `write` and the wait that sees it costs nothing more.
//! Writes are coalesced by [`WakeGate`]: only the first unpark after a wait
//! writes. That cannot lose a wake-up: see [`WakeGate`].
//!
//! **Elsewhere**: `polling`'s `wait` and `notify`, unchanged.
//!
//! This module must not know sources or readiness bits: it fills a list of
//! `(key, direction)` events and wakes the waiter.

use crate::loom::atomic::AtomicBool;
use polling::Poller;
use std::io;
use std::sync::atomic::Ordering::SeqCst;
use std::time::Duration;

/// One harvested event: the poller key and the directions it reports.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ready {
    pub(crate) key: usize,
    pub(crate) readable: bool,
    pub(crate) writable: bool,
    pub(crate) priority: bool,
}

/// The coalescing rule for wake-ups: at most one signal (eventfd write) per
/// wait.
///
/// `signal` is true for the first unpark after [`rearm`](Self::rearm); the
/// waiter calls `rearm` after every wait returns, before it dispatches.
/// Why no wake-up is lost: an unpark that finds the gate closed (`false`
/// from `signal`) comes after some earlier unpark's `signal` and before the
/// waiter's next `rearm` (all `SeqCst`, one total order). That earlier
/// signal's edge either is still pending, so the current or next wait
/// returns at once, or was taken by a wait that has returned and not yet
/// rearmed, so the waiter is already awake and about to go back to its
/// caller (the executor's parker, whose own state then holds the
/// notification). The loom model `io_wake.rs` checks this against the real
/// parker.
#[derive(Debug)]
pub struct WakeGate {
    signalled: AtomicBool,
}

impl WakeGate {
    /// A gate that lets the next unpark signal.
    pub fn new() -> WakeGate {
        WakeGate {
            signalled: AtomicBool::new(false),
        }
    }

    /// Whether this unpark must signal the waiter (it is the first since
    /// the last [`rearm`](Self::rearm)).
    #[inline]
    pub fn signal(&self) -> bool {
        !self.signalled.swap(true, SeqCst)
    }

    /// Called by the waiter once a wait has returned: the next unpark
    /// signals again.
    #[inline]
    pub fn rearm(&self) {
        self.signalled.store(false, SeqCst);
    }
}

impl Default for WakeGate {
    fn default() -> WakeGate {
        WakeGate::new()
    }
}

#[cfg(target_os = "linux")]
mod imp {
    use super::*;
    use polling::{Event, PollMode};
    use rustix::event::{EventfdFlags, Timespec, epoll, eventfd};
    use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd};

    /// The key the wake-up eventfd is registered under (polling keeps
    /// `usize::MAX` for its own notifier, the hang-up watch has
    /// `usize::MAX - 1`; source keys are addresses).
    pub(crate) const WAKE_KEY: usize = usize::MAX - 2;

    /// Keys that are not sources and carry nothing to dispatch.
    const POLLING_NOTIFY_KEY: usize = usize::MAX;

    /// The longest timeout `epoll_pwait` takes on every kernel.
    const MAX_TIMEOUT: Duration = Duration::from_millis(i32::MAX as u64);

    /// The waiting and waking half, shared by the reactor and its handles.
    #[derive(Debug)]
    pub(crate) struct Waiter {
        eventfd: OwnedFd,
        gate: WakeGate,
    }

    /// The events of one wait.
    pub(crate) struct Events {
        list: Vec<epoll::Event>,
    }

    // SAFETY: an `epoll::Event` is plain data: a flags word and a 64-bit
    // data word. rustix types that word as a union with a pointer, which is
    // what makes it `!Send`, but nothing here treats it as a pointer owned
    // by a thread: the reactor only ever stores and reads integers in it
    // (keys). Moving the list to another thread moves integers.
    unsafe impl Send for Events {}

    impl Events {
        pub(crate) fn with_capacity(capacity: usize) -> Events {
            Events {
                list: Vec::with_capacity(capacity),
            }
        }

        /// The harvested source events (never the wake-up's).
        pub(crate) fn iter(&self) -> impl Iterator<Item = Ready> + '_ {
            use epoll::EventFlags as F;
            self.list.iter().filter_map(|e| {
                let key = e.data.u64() as usize;
                if key == WAKE_KEY || key == POLLING_NOTIFY_KEY {
                    return None;
                }
                let flags = e.flags;
                // The same mapping as polling's: a hang-up or error ends
                // a wait in either direction.
                Some(Ready {
                    key,
                    readable: flags.intersects(F::IN | F::HUP | F::ERR | F::PRI),
                    writable: flags.intersects(F::OUT | F::HUP | F::ERR),
                    priority: flags.contains(F::PRI),
                })
            })
        }
    }

    impl Waiter {
        /// Creates the eventfd and registers it in `poller` (edge mode, so
        /// it is never read).
        pub(crate) fn new(poller: &Poller) -> io::Result<Waiter> {
            let eventfd = eventfd(0, EventfdFlags::CLOEXEC | EventfdFlags::NONBLOCK)?;
            // SAFETY: the eventfd lives in `Shared` after the poller and is
            // dropped after it (field order), so it stays open for as long
            // as it is registered — polling's contract for `add`.
            unsafe {
                poller.add_with_mode(
                    eventfd.as_raw_fd(),
                    Event::readable(WAKE_KEY),
                    PollMode::Edge,
                )?;
            }
            Ok(Waiter {
                eventfd,
                gate: WakeGate::new(),
            })
        }

        /// Blocks for events (at most `timeout`), leaving them in `events`.
        pub(crate) fn wait(
            &self,
            poller: &Poller,
            events: &mut Events,
            timeout: Option<Duration>,
        ) -> io::Result<()> {
            let timeout = timeout.map(|t| {
                let t = t.min(MAX_TIMEOUT);
                Timespec {
                    tv_sec: t.as_secs() as _,
                    tv_nsec: t.subsec_nanos() as _,
                }
            });
            // SAFETY: the poller's descriptor is its epoll instance (polling
            // implements `AsRawFd` for exactly that on Linux) and the poller
            // outlives this borrow.
            let epoll = unsafe { BorrowedFd::borrow_raw(poller.as_raw_fd()) };
            events.list.clear();
            let result = loop {
                match epoll::wait(
                    epoll,
                    rustix::buffer::spare_capacity(&mut events.list),
                    timeout.as_ref(),
                ) {
                    Err(rustix::io::Errno::INTR) => events.list.clear(),
                    other => break other,
                }
            };
            self.gate.rearm();
            result.map(|_| ()).map_err(io::Error::from)
        }

        /// Wakes the waiter, or makes its next wait return at once.
        pub(crate) fn notify(&self, _poller: &Poller) -> io::Result<()> {
            if !self.gate.signal() {
                return Ok(());
            }
            let one = 1u64.to_ne_bytes();
            match rustix::io::write(&self.eventfd, &one) {
                Ok(_) => Ok(()),
                // The counter is full (2^64 - 2 unread wakes): empty it and
                // write again.
                Err(rustix::io::Errno::AGAIN) => {
                    let mut buf = [0u8; 8];
                    let _ = rustix::io::read(&self.eventfd, &mut buf);
                    rustix::io::write(&self.eventfd, &one)
                        .map(|_| ())
                        .map_err(io::Error::from)
                }
                Err(e) => Err(e.into()),
            }
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::*;
    use std::num::NonZeroUsize;

    /// Elsewhere the poller waits and wakes itself.
    #[derive(Debug)]
    pub(crate) struct Waiter;

    /// The events of one wait.
    pub(crate) struct Events {
        events: polling::Events,
    }

    impl Events {
        pub(crate) fn with_capacity(capacity: usize) -> Events {
            let capacity = NonZeroUsize::new(capacity).expect("non-zero capacity");
            Events {
                events: polling::Events::with_capacity(capacity),
            }
        }

        pub(crate) fn iter(&self) -> impl Iterator<Item = Ready> + '_ {
            self.events.iter().map(|e| Ready {
                key: e.key,
                readable: e.readable,
                writable: e.writable,
                priority: e.is_priority(),
            })
        }
    }

    impl Waiter {
        pub(crate) fn new(_poller: &Poller) -> io::Result<Waiter> {
            Ok(Waiter)
        }

        pub(crate) fn wait(
            &self,
            poller: &Poller,
            events: &mut Events,
            timeout: Option<Duration>,
        ) -> io::Result<()> {
            events.events.clear();
            poller.wait(&mut events.events, timeout).map(|_| ())
        }

        pub(crate) fn notify(&self, poller: &Poller) -> io::Result<()> {
            poller.notify()
        }
    }
}

pub(crate) use imp::{Events, Waiter};

#[cfg(all(test, not(loom)))]
mod tests {
    use super::*;
    use polling::{Event, PollMode};
    use std::io::Write;
    use std::os::fd::AsRawFd;
    use std::os::unix::net::UnixStream;

    /// The direct wait reads back the key and directions `polling`
    /// registered: the one assumption it makes about `polling`'s epoll
    /// backend.
    #[test]
    fn wait_reports_the_keys_polling_registered() {
        let poller = Poller::new().unwrap();
        let waiter = Waiter::new(&poller).unwrap();
        let mut events = Events::with_capacity(8);
        let (mut a, b) = UnixStream::pair().unwrap();
        b.set_nonblocking(true).unwrap();
        let key = 0x5eed_0000;
        // SAFETY: `b` outlives its registration (deleted below).
        unsafe {
            poller
                .add_with_mode(b.as_raw_fd(), Event::all(key), PollMode::Edge)
                .unwrap();
        }
        waiter
            .wait(&poller, &mut events, Some(Duration::ZERO))
            .unwrap();
        let seen: Vec<Ready> = events.iter().collect();
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(seen[0].key, key);
        assert!(seen[0].writable && !seen[0].readable, "{seen:?}");

        a.write_all(b"x").unwrap();
        waiter.wait(&poller, &mut events, None).unwrap();
        let seen: Vec<Ready> = events.iter().collect();
        assert_eq!(seen.len(), 1, "{seen:?}");
        assert_eq!(seen[0].key, key);
        assert!(seen[0].readable, "{seen:?}");
        poller.delete(&b).unwrap();
    }

    /// A notify before the wait makes it return at once; one after a wait
    /// that consumed it blocks no longer than the timeout; and many
    /// notifies between two waits are one wake.
    #[test]
    fn notify_wakes_one_wait() {
        let poller = Poller::new().unwrap();
        let waiter = Waiter::new(&poller).unwrap();
        let mut events = Events::with_capacity(8);
        waiter.notify(&poller).unwrap();
        waiter.notify(&poller).unwrap();
        // Would block for good if the wake were lost.
        waiter.wait(&poller, &mut events, None).unwrap();
        assert_eq!(events.iter().count(), 0, "the wake-up is not an event");
        // Consumed: a zero-timeout wait finds nothing and the gate is open
        // again, so the next notify signals.
        waiter
            .wait(&poller, &mut events, Some(Duration::ZERO))
            .unwrap();
        let waker = std::thread::scope(|s| {
            s.spawn(|| waiter.notify(&poller).unwrap());
            waiter.wait(&poller, &mut events, None)
        });
        waker.unwrap();
    }
}

//! The reactor: one `polling::Poller` per runtime, the set of registered
//! sources, and the executor seam ([`Reactor`] is the blocking `Park`,
//! [`ReactorHandle`] the shared `Driver`).
//!
//! ## Design
//!
//! * **Edge-triggered** where the OS has it (epoll, kqueue): a source is
//!   registered once for both directions and never re-armed, so a read loop
//!   costs no `modify` syscall per wait. Elsewhere it falls back to oneshot
//!   mode and re-arms under the source's waiter lock (see
//!   `scheduled_io.rs`).
//! * The poller **key is the address of the source's state** (`Source`),
//!   so dispatch needs no lookup and no lock. That address stays valid
//!   because the registry (a slab of `Arc<Source>`) keeps every source alive
//!   until the *dispatching thread itself* releases it: deregistration
//!   deletes the descriptor from the poller first and only then queues the
//!   slab slot for release; [`Reactor::park`] frees queued slots before it
//!   waits, when no event harvested earlier is still being dispatched, and a
//!   wait that starts after the delete cannot report that descriptor.
//! * **Hang-ups beside the poller** (Linux): a TCP stream that keeps
//!   getting short reads is also added to the [`HupWatch`], an epoll
//!   instance that reports only `EPOLLRDHUP`, which polling cannot ask for.
//!   From then on its reader treats a short read as "drained" and skips the
//!   `WouldBlock` read per request, and a FIN that came with the data is
//!   still seen: the watch reports it as `READ_CLOSED` (`scheduled_io.rs`).
//!   Its keys are source addresses too, deleted on deregistration before
//!   the poller's, under the same release rule.
//! * No helper thread: the worker that holds the executor's driver lock
//!   blocks in the poller's wait, dispatches readiness (waking tasks onto
//!   its own queue) and returns; `unpark` signals the waiter. On Linux the
//!   wait is one `epoll_pwait` and a wake one eventfd write (`wait.rs`);
//!   elsewhere both are `polling`'s.
//!
//! This module must not know sockets: it registers descriptors and
//! dispatches readiness; the socket types live in `net/`.

pub(crate) mod hup_watch;
pub(crate) mod registration;
pub(crate) mod scheduled_io;
pub(crate) mod wait;

use crate::loom::Mutex;
use crate::loom::atomic::{AtomicU8, AtomicUsize};
use filch_executor::{Driver, Park};
use hup_watch::{HUP_KEY, HupWatch};
use polling::{Event, PollMode, Poller};
use scheduled_io::{
    Interest, READ_CLOSED, READABLE, ReadyEvent, Rearm, ScheduledIo, URGENT, WRITABLE,
};
use slab::Slab;
use std::any::{Any, TypeId};
use std::fmt;
use std::io;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::sync::Arc;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::task::Waker;
use std::time::Duration;
use wait::{Events, Waiter};

/// Events harvested per wait.
const EVENTS_CAPACITY: usize = 1024;

/// Queued releases that make the reactor cycle (so a reactor blocked in a
/// long wait does not hold on to the memory of many closed sources).
const RELEASE_NOTIFY_THRESHOLD: usize = 256;

/// How the reactor asks the OS for readiness.
///
/// ```
/// let reactor = filch_io::Reactor::new().unwrap();
/// // Linux, macOS and the BSDs have edge-triggered notifications.
/// # #[cfg(any(target_os = "linux", target_os = "macos"))]
/// assert_eq!(reactor.handle().trigger(), filch_io::Trigger::Edge);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Trigger {
    /// Registered once for both directions; the OS reports each change once
    /// and nothing is re-armed (epoll, kqueue).
    Edge,
    /// Each delivered event disarms the registration, which is re-armed for
    /// the directions tasks wait on (one `modify` syscall per wait).
    Oneshot,
}

/// The blocking half of the I/O driver: the executor's worker that holds
/// the driver parks here, in the poller's wait, and dispatches the readiness it
/// gets by waking tasks before returning.
///
/// Most programs never touch it: [`driver`](crate::driver) builds both halves.
///
/// ```
/// use filch_executor::Park;
/// let mut reactor = filch_io::Reactor::new().unwrap();
/// let handle = reactor.handle();
/// handle.unpark();
/// reactor.park(None); // returns at once: it was unparked
/// ```
pub struct Reactor {
    shared: Arc<Shared>,
    events: Events,
    wakers: Vec<Waker>,
    /// Scratch list of hang-up keys drained from the watch.
    hangups: Vec<usize>,
}

/// The shared half of the I/O driver: finds the reactor from sockets
/// (registration), wakes the parked worker ([`unpark`](Self::unpark)) and
/// shuts the reactor down. Cheap to clone (an `Arc` inside), `Send + Sync`.
///
/// It is also an I/O-only [`filch_executor::Driver`] whose `get` returns
/// itself, which is what [`driver`](crate::driver) hands to the executor.
///
/// ```
/// let reactor = filch_io::Reactor::new().unwrap();
/// let handle = reactor.handle();
/// let rt = filch_executor::Builder::new()
///     .worker_threads(2)
///     .driver(Box::new(reactor), std::sync::Arc::new(handle.clone()))
///     .build()
///     .unwrap();
/// rt.block_on(async {
///     let found = filch_executor::Handle::current().driver::<filch_io::ReactorHandle>().cloned();
///     assert!(found.is_some());
/// });
/// ```
#[derive(Clone)]
pub struct ReactorHandle {
    shared: Arc<Shared>,
}

struct Shared {
    // Declared (so dropped) before `hup`, which is registered in it.
    poller: Poller,
    /// The hang-up watch, registered in `poller` under `HUP_KEY` (Linux,
    /// edge mode; `None` elsewhere or if it could not be set up).
    hup: Option<HupWatch>,
    /// How the reactor waits and is woken (declared after `poller`, in
    /// which its wake-up descriptor is registered).
    waiter: Waiter,
    trigger: Trigger,
    registry: Mutex<Registry>,
    /// Number of entries in `registry.released` (read without the lock).
    pending_release: AtomicUsize,
    /// Sources registered and not deregistered (read without the lock): a
    /// wait that may not block has nothing to harvest while it is zero.
    live_sources: AtomicUsize,
}

#[derive(Default)]
struct Registry {
    sources: Slab<Arc<Source>>,
    /// Slab keys of deregistered sources, freed by the dispatching thread.
    released: Vec<usize>,
    /// No new registrations; every source was shut down.
    shutdown: bool,
    /// The `Reactor` was dropped: nothing dispatches any more, so releases
    /// happen at once.
    dispatcher_gone: bool,
}

impl Registry {
    /// Frees the slots of deregistered sources. Only the dispatcher may
    /// call this (or anyone once it is gone): see the module docs.
    fn free_released(&mut self, shared: &Shared) {
        for key in self.released.drain(..) {
            self.sources.remove(key);
        }
        shared.pending_release.store(0, Release);
    }
}

/// One registered descriptor: its readiness protocol state, the descriptor
/// number (for oneshot re-arming) and its slab slot.
pub(crate) struct Source {
    pub(crate) io: ScheduledIo,
    fd: RawFd,
    slab_key: usize,
    /// Where this source stands on presuming short reads drained: one of
    /// the `PRESUME_*` states. Only the reader moves it forward (it owns
    /// the read direction); deregistration reads it.
    presume: AtomicU8,
}

/// Not a TCP stream, or no hang-up watch: short reads prove nothing.
const PRESUME_OFF: u8 = 0;
/// A TCP stream that has not had a short read yet.
const PRESUME_FIRST: u8 = 1;
/// One short read so far. The second one adds the stream to the watch: a
/// connection that serves one request never pays the watch's syscalls.
const PRESUME_SECOND: u8 = 2;
/// In the hang-up watch: short reads clear `READABLE`.
const PRESUME_ON: u8 = 3;

impl Source {
    fn poller_key(&self) -> usize {
        self as *const Source as usize
    }
}

/// Re-arms one oneshot registration.
struct OneshotArm<'a> {
    poller: &'a Poller,
    source: &'a Source,
}

impl Rearm for OneshotArm<'_> {
    fn rearm(&self, interest: Interest) -> io::Result<()> {
        // SAFETY: `Rearm::rearm` is only called with the source's waiter
        // lock held and after checking the source is not shut down;
        // deregistration marks it shut down under that same lock *before*
        // it deletes and closes the descriptor, so the descriptor is open
        // for the whole call.
        let fd = unsafe { BorrowedFd::borrow_raw(self.source.fd) };
        self.poller.modify_with_mode(
            fd,
            Event::new(
                self.source.poller_key(),
                interest.readable,
                interest.writable,
            ),
            PollMode::Oneshot,
        )
    }
}

impl Reactor {
    /// A reactor that uses edge-triggered notifications where the OS has
    /// them and oneshot mode elsewhere.
    ///
    /// ```
    /// let reactor = filch_io::Reactor::new().unwrap();
    /// # drop(reactor);
    /// ```
    pub fn new() -> io::Result<Reactor> {
        let poller = Poller::new()?;
        let trigger = if poller.supports_edge() {
            Trigger::Edge
        } else {
            Trigger::Oneshot
        };
        Reactor::from_poller(poller, trigger)
    }

    /// A reactor with the given trigger mode. `Trigger::Edge` fails with
    /// `Unsupported` where the OS cannot do it; `Trigger::Oneshot` works
    /// everywhere (it is the portable fallback, and what tests use to
    /// exercise that path).
    ///
    /// ```
    /// use filch_io::{Reactor, Trigger};
    /// let reactor = Reactor::with_trigger(Trigger::Oneshot).unwrap();
    /// assert_eq!(reactor.handle().trigger(), Trigger::Oneshot);
    /// ```
    pub fn with_trigger(trigger: Trigger) -> io::Result<Reactor> {
        let poller = Poller::new()?;
        if trigger == Trigger::Edge && !poller.supports_edge() {
            return Err(io::Error::new(
                io::ErrorKind::Unsupported,
                "invalid reactor setting: trigger = Edge (this OS's poller has no \
                 edge-triggered mode; use Trigger::Oneshot or Reactor::new)",
            ));
        }
        Reactor::from_poller(poller, trigger)
    }

    fn from_poller(poller: Poller, trigger: Trigger) -> io::Result<Reactor> {
        let waiter = Waiter::new(&poller)?;
        let hup = match trigger {
            Trigger::Edge => hup_watch(&poller),
            // The watch is an epoll instance beside an edge-mode poller;
            // oneshot mode keeps reading until `WouldBlock`.
            Trigger::Oneshot => None,
        };
        Ok(Reactor {
            shared: Arc::new(Shared {
                poller,
                hup,
                waiter,
                trigger,
                registry: Mutex::new(Registry::default()),
                pending_release: AtomicUsize::new(0),
                live_sources: AtomicUsize::new(0),
            }),
            events: Events::with_capacity(EVENTS_CAPACITY),
            wakers: Vec::new(),
            hangups: Vec::new(),
        })
    }

    /// The shared half.
    ///
    /// ```
    /// let reactor = filch_io::Reactor::new().unwrap();
    /// let handle = reactor.handle();
    /// assert_eq!(handle.registered_sources(), 0);
    /// ```
    pub fn handle(&self) -> ReactorHandle {
        ReactorHandle {
            shared: self.shared.clone(),
        }
    }

    /// Frees the slab slots of sources deregistered since the last park.
    /// Only the dispatching thread does this, before it waits again (see the
    /// module docs for why that makes the raw poller keys safe).
    fn release_pending(&mut self) {
        if self.shared.pending_release.load(Acquire) == 0 {
            return;
        }
        self.shared.registry.lock().free_released(&self.shared);
    }

    fn dispatch(&mut self) {
        let oneshot = self.shared.trigger == Trigger::Oneshot;
        let mut hangups = false;
        for event in self.events.iter() {
            if event.key == HUP_KEY {
                hangups = true;
                continue;
            }
            // SAFETY: every key we register is the address of a `Source`
            // held by the registry's slab, and the slab only lets it go in
            // `release_pending`, which this thread runs before a wait, never
            // between a wait and its dispatch. The source was deleted from
            // the poller before its release was queued, so a wait cannot
            // report a freed source (module docs).
            let source = unsafe { &*(event.key as *const Source) };
            let mut bits = 0;
            if event.readable {
                bits |= READABLE;
            }
            if event.priority {
                bits |= URGENT;
            }
            if event.writable {
                bits |= WRITABLE;
            }
            if oneshot {
                let arm = OneshotArm {
                    poller: &self.shared.poller,
                    source,
                };
                source.io.dispatch(bits, Some(&arm), &mut self.wakers);
            } else {
                source.io.dispatch(bits, None, &mut self.wakers);
            }
        }
        if hangups {
            self.dispatch_hangups();
        }
        // A waker's panic must not stop the dispatch (or reach the worker).
        for waker in self.wakers.drain(..) {
            filch_executor::wake_contained(waker);
        }
    }

    /// Drains the hang-up watch and records each hang-up as `READ_CLOSED`
    /// (with `READABLE`, waking the reader).
    fn dispatch_hangups(&mut self) {
        let Some(hup) = &self.shared.hup else {
            return;
        };
        hup.drain(&mut self.hangups);
        for key in self.hangups.drain(..) {
            // SAFETY: as for the poller's keys in `dispatch`: a key in the
            // watch is the address of a `Source` held by the slab, and
            // deregistration deletes it from the watch before queueing the
            // slot's release, which only this thread performs, before a
            // wait; this drain runs after the wait, so it cannot report a
            // freed source.
            let source = unsafe { &*(key as *const Source) };
            source
                .io
                .dispatch(READABLE | READ_CLOSED, None, &mut self.wakers);
        }
    }
}

/// The hang-up watch, registered in `poller`; `None` if either step fails
/// (then streams simply never presume).
fn hup_watch(poller: &Poller) -> Option<HupWatch> {
    let hup = HupWatch::new().ok()?;
    // SAFETY: the watch's descriptor lives in `Shared` next to the poller
    // and is dropped after it (field order), so it stays open for as long
    // as it is registered — polling's contract for `add`.
    let added = unsafe {
        poller.add_with_mode(
            hup.as_fd().as_raw_fd(),
            Event::readable(HUP_KEY),
            PollMode::Edge,
        )
    };
    added.ok().map(|()| hup)
}

impl Park for Reactor {
    fn park(&mut self, timeout: Option<Duration>) {
        self.release_pending();
        let shared = &*self.shared;
        if timeout == Some(Duration::ZERO) && shared.live_sources.load(Acquire) == 0 {
            // Nothing is registered, so a wait that may not block could only
            // report our own wake-up, whose job (ending a blocking wait) is
            // done already. Workers poll like this at every maintenance
            // tick, and the system call was ~5 % of a scheduler-only
            // workload. A source registered meanwhile is harvested by the
            // next wait; a blocking wait is never skipped.
            return;
        }
        if let Err(e) = shared
            .waiter
            .wait(&shared.poller, &mut self.events, timeout)
        {
            // `wait` retries EINTR itself; anything else means the poller is
            // broken (a bug, not a runtime condition). Dispatch nothing.
            debug_assert!(false, "the reactor's wait failed: {e}");
            return;
        }
        self.dispatch();
    }
}

impl Drop for Reactor {
    fn drop(&mut self) {
        let mut registry = self.shared.registry.lock();
        registry.dispatcher_gone = true;
        registry.free_released(&self.shared);
    }
}

impl fmt::Debug for Reactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reactor")
            .field("trigger", &self.shared.trigger)
            .finish_non_exhaustive()
    }
}

const NO_REACTOR: &str = "there is no filch I/O reactor on this thread: create and use sockets \
     inside a runtime that has the I/O driver (`filch::run`, or a runtime built with \
     `filch_executor::Builder::driver` and `filch_io::driver()`), or enter one with \
     `Handle::enter`";

impl ReactorHandle {
    /// The reactor of the runtime the current thread is in.
    ///
    /// Returns an error (not a panic) outside a runtime, or in a runtime
    /// built without the I/O driver.
    ///
    /// ```
    /// assert!(filch_io::ReactorHandle::current().is_err());
    /// let (park, driver) = filch_io::driver().unwrap();
    /// let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async { assert!(filch_io::ReactorHandle::current().is_ok()) });
    /// ```
    pub fn current() -> io::Result<ReactorHandle> {
        filch_executor::Handle::try_current()
            .and_then(|h| h.driver::<ReactorHandle>().cloned())
            .ok_or_else(|| io::Error::other(NO_REACTOR))
    }

    /// Wakes the worker blocked in [`Reactor`]'s park, or makes its next
    /// park return at once (coalesced: one eventfd write per wait on Linux,
    /// `Poller::notify` elsewhere).
    ///
    /// ```
    /// let reactor = filch_io::Reactor::new().unwrap();
    /// reactor.handle().unpark();
    /// ```
    pub fn unpark(&self) {
        // Fails only if the notifier write fails, which leaves the next
        // wait to end on its own timeout or event: nothing to report.
        let _ = self.shared.waiter.notify(&self.shared.poller);
    }

    /// The trigger mode this reactor uses.
    ///
    /// ```
    /// let reactor = filch_io::Reactor::with_trigger(filch_io::Trigger::Oneshot).unwrap();
    /// assert_eq!(reactor.handle().trigger(), filch_io::Trigger::Oneshot);
    /// ```
    pub fn trigger(&self) -> Trigger {
        self.shared.trigger
    }

    /// Sources currently registered (sockets alive), for diagnostics and
    /// leak tests.
    ///
    /// ```
    /// let reactor = filch_io::Reactor::new().unwrap();
    /// assert_eq!(reactor.handle().registered_sources(), 0);
    /// ```
    pub fn registered_sources(&self) -> usize {
        let registry = self.shared.registry.lock();
        registry.sources.len() - registry.released.len()
    }

    /// Shuts the reactor down: new registrations fail, and every registered
    /// source is marked shut down and its waiting tasks woken, so that an
    /// operation that would wait returns an error instead of hanging. The
    /// runtime calls this (through [`Driver::shutdown`]) once its workers
    /// have stopped; a composite driver must forward it. Idempotent.
    ///
    /// ```
    /// let reactor = filch_io::Reactor::new().unwrap();
    /// reactor.handle().shutdown();
    /// ```
    pub fn shutdown(&self) {
        let sources: Vec<Arc<Source>> = {
            let mut registry = self.shared.registry.lock();
            registry.shutdown = true;
            registry.sources.iter().map(|(_, s)| s.clone()).collect()
        };
        let mut wakers = Vec::new();
        for source in &sources {
            source.io.shutdown(&mut wakers);
        }
        drop(sources);
        wakers.into_iter().for_each(filch_executor::wake_contained);
        self.unpark();
    }

    /// Registers `fd` (already non-blocking) for readiness events.
    pub(crate) fn register(&self, fd: BorrowedFd<'_>, initial: usize) -> io::Result<Arc<Source>> {
        let source = {
            let mut registry = self.shared.registry.lock();
            if registry.shutdown {
                return Err(io::Error::other(
                    "the filch I/O reactor has shut down: no new sockets can be registered",
                ));
            }
            let entry = registry.sources.vacant_entry();
            let source = Arc::new(Source {
                io: ScheduledIo::new(initial),
                fd: fd.as_raw_fd(),
                slab_key: entry.key(),
                presume: AtomicU8::new(PRESUME_OFF),
            });
            entry.insert(source.clone());
            self.shared.live_sources.fetch_add(1, Release);
            source
        };
        let key = source.poller_key();
        let (interest, mode) = match self.shared.trigger {
            Trigger::Edge => (Event::all(key), PollMode::Edge),
            // Armed on demand, when a task first waits.
            Trigger::Oneshot => (Event::none(key), PollMode::Oneshot),
        };
        // SAFETY: `fd` is open (borrowed for this call) and the caller keeps
        // it open until `deregister`, which deletes it from the poller
        // before the descriptor is closed — polling's contract for `add`.
        let added = unsafe {
            self.shared
                .poller
                .add_with_mode(fd.as_raw_fd(), interest, mode)
        };
        if let Err(e) = added {
            // Never registered, so no event can name it: free it at once.
            let mut registry = self.shared.registry.lock();
            registry.sources.remove(source.slab_key);
            self.shared.live_sources.fetch_sub(1, Release);
            return Err(e);
        }
        Ok(source)
    }

    /// Deregisters `source` (whose descriptor is `fd`, still open): marks it
    /// shut down (waking any waiter with an error), deletes `fd` from the
    /// poller, then queues the slab slot for release by the dispatcher. The
    /// caller closes `fd` afterwards.
    pub(crate) fn deregister(&self, source: &Source, fd: BorrowedFd<'_>) {
        let mut wakers = Vec::new();
        source.io.shutdown(&mut wakers);
        if source.presume.load(Acquire) == PRESUME_ON
            && let Some(hup) = &self.shared.hup
        {
            hup.unwatch(fd);
        }
        // Fails only if `fd` was not registered; nothing to undo then.
        let _ = self.shared.poller.delete(fd);
        self.shared.live_sources.fetch_sub(1, Release);
        let notify = {
            let mut registry = self.shared.registry.lock();
            if registry.dispatcher_gone {
                registry.sources.remove(source.slab_key);
                false
            } else {
                registry.released.push(source.slab_key);
                self.shared
                    .pending_release
                    .store(registry.released.len(), Release);
                registry
                    .released
                    .len()
                    .is_multiple_of(RELEASE_NOTIFY_THRESHOLD)
            }
        };
        if notify {
            self.unpark();
        }
        wakers.into_iter().for_each(filch_executor::wake_contained);
    }

    /// Lets `source` (a TCP stream) presume short reads drained once it is
    /// in the hang-up watch, if this reactor has one.
    pub(crate) fn allow_presume(&self, source: &Source) {
        if self.shared.hup.is_some() {
            source.presume.store(PRESUME_FIRST, Release);
        }
    }

    /// A read on `source` that saw `event` came back short (the reader owns
    /// the read direction). Clears `READABLE` if a hang-up of this source
    /// will be reported (it is in the watch); the second short read puts it
    /// there.
    pub(crate) fn short_read(&self, source: &Source, event: ReadyEvent) {
        match source.presume.load(Acquire) {
            PRESUME_ON => source.io.clear_presumed(event),
            PRESUME_FIRST => source.presume.store(PRESUME_SECOND, Release),
            PRESUME_SECOND => {
                let Some(hup) = &self.shared.hup else {
                    return;
                };
                // SAFETY: the reader is inside an operation on the
                // descriptor's owner (`PollEvented`), which keeps it open.
                let fd = unsafe { BorrowedFd::borrow_raw(source.fd) };
                if hup.watch(fd, source.poller_key()).is_ok() {
                    source.presume.store(PRESUME_ON, Release);
                    // A hang-up that came before the watch is reported by
                    // it all the same, so this read may presume too.
                    source.io.clear_presumed(event);
                } else {
                    source.presume.store(PRESUME_OFF, Release);
                }
            }
            _ => {}
        }
    }

    /// The poller re-arm hook for `source` in oneshot mode (`None` in edge
    /// mode, where nothing is ever re-armed).
    pub(crate) fn with_rearm<R>(
        &self,
        source: &Source,
        f: impl FnOnce(Option<&dyn Rearm>) -> R,
    ) -> R {
        match self.shared.trigger {
            Trigger::Edge => f(None),
            Trigger::Oneshot => f(Some(&OneshotArm {
                poller: &self.shared.poller,
                source,
            })),
        }
    }
}

impl Driver for ReactorHandle {
    fn unpark(&self) {
        ReactorHandle::unpark(self);
    }

    fn get(&self, type_id: TypeId) -> Option<&(dyn Any + Send + Sync)> {
        (type_id == TypeId::of::<ReactorHandle>()).then_some(self as &(dyn Any + Send + Sync))
    }

    fn shutdown(&self) {
        ReactorHandle::shutdown(self);
    }
}

impl fmt::Debug for ReactorHandle {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ReactorHandle")
            .field("trigger", &self.shared.trigger)
            .field(
                "pending_release",
                &self.shared.pending_release.load(Relaxed),
            )
            .finish_non_exhaustive()
    }
}

//! The readiness protocol of one registered source: a readiness word (ready
//! bits plus a 16-bit tick) and the wakers of the tasks waiting on it.
//!
//! ## The protocol
//!
//! * The reactor ([`ScheduledIo::dispatch`]) ORs the reported bits into the
//!   readiness word **and bumps the tick** in one atomic update, then takes
//!   the matching wakers under the waiter lock.
//! * A task ([`ScheduledIo::poll_ready`]) loads the word; if its direction
//!   is ready it gets a [`ReadyEvent`] carrying the tick it saw. If not, it
//!   stores its waker under the waiter lock and loads the word **again under
//!   that lock**. The lock orders the two critical sections: either the
//!   reactor's comes first (then its update happened before our second load,
//!   which sees it) or ours does (then the reactor finds our waker). No
//!   wake-up can be lost.
//! * After an operation fails with `WouldBlock`, the task clears the bits of
//!   its event ([`ScheduledIo::clear_readiness`]) **only if the tick is still
//!   the one it saw**. In edge-triggered mode the OS reports a change once:
//!   if an event arrived between the syscall and the clear, blindly clearing
//!   would drop it forever; the tick makes the clear fail and the task
//!   retries the syscall instead.
//! * A stream reader whose read came back **short** may clear `READABLE`
//!   without the `WouldBlock` syscall ([`ScheduledIo::clear_presumed`]):
//!   the receive buffer was drained, so the next data brings a new edge.
//!   What such a read cannot see is a FIN that arrived together with the
//!   data (one edge for both). That is what the sticky `READ_CLOSED` bit is
//!   for: the reactor sets it (with a new tick and a wake-up, like any
//!   event) when the OS reports the peer's hang-up, and a read direction
//!   with `READ_CLOSED` is ready whatever was cleared. The reactor only lets
//!   a source presume once the OS will report that hang-up for it
//!   (`reactor/mod.rs`, `hup_watch.rs`). `URGENT` (sticky) turns the
//!   presumption off: a read stops short at the urgent mark.
//! * [`ScheduledIo::shutdown`] (the source is deregistered, or its reactor is
//!   gone) sets a sticky `SHUTDOWN` bit under the waiter lock and wakes every
//!   waiter; from then on every poll is ready and an operation that would
//!   block returns an error instead of waiting forever.
//!
//! Two kinds of waiters: the *exclusive* reader and writer slots, used by
//! operations that hold `&mut` access (`AsyncRead`/`AsyncWrite`, the split
//! halves, which own one direction each), and a slab of *shared* waiters for
//! `&self` operations that several tasks may run at once (`accept`,
//! `recv_from`, ...), each keyed by its future and removed when that future
//! finishes or is dropped.
//!
//! In oneshot mode (platforms without edge triggering) every delivered event
//! disarms the OS registration; the re-arm ([`Rearm`]) is done under the
//! waiter lock with the union of the current waiters' interests, so that a
//! reader and a writer re-arming at once cannot overwrite each other.
//!
//! Everything here goes through `crate::loom` and is model-checked by
//! `loom-tests/tests/io_readiness.rs`. This module must not know the poller
//! or file descriptors: it only sees bits, ticks and wakers.

use crate::loom::Mutex;
use crate::loom::atomic::AtomicUsize;
use slab::Slab;
use std::io;
use std::sync::atomic::Ordering::{AcqRel, Acquire};
use std::task::{Context, Poll, Waker};

/// The source can be read from (or has hung up / failed).
pub const READABLE: usize = 0b001;
/// The source can be written to (or has hung up / failed).
pub const WRITABLE: usize = 0b010;
/// Sticky: deregistered or reactor gone; every poll is ready from now on.
const SHUTDOWN: usize = 0b100;
/// Sticky: the peer closed its sending side (a FIN is queued after any
/// data). Reads count as ready from now on, whatever clears `READABLE`.
pub const READ_CLOSED: usize = 0b1000;
/// Sticky: urgent (out-of-band) data was reported. A short stream read may
/// stop at the urgent mark with more data behind it, so a short read no
/// longer proves the receive buffer drained (see
/// [`ScheduledIo::clear_presumed`]).
pub const URGENT: usize = 0b1_0000;
const TICK_SHIFT: u32 = 16;
const TICK_MASK: usize = 0xFFFF;

/// Which way a task waits.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Direction {
    /// Waiting until the source is readable.
    Read,
    /// Waiting until the source is writable.
    Write,
}

impl Direction {
    fn mask(self) -> usize {
        match self {
            Direction::Read => READABLE,
            Direction::Write => WRITABLE,
        }
    }
}

/// What a task saw when it found its direction ready: the bits and the tick
/// they were seen at (for [`ScheduledIo::clear_readiness`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ReadyEvent {
    tick: usize,
    ready: usize,
    shutdown: bool,
}

impl ReadyEvent {
    /// The source was deregistered or its reactor shut down: an operation
    /// that would block must fail instead of waiting.
    pub fn is_shutdown(&self) -> bool {
        self.shutdown
    }
}

/// The interest a oneshot-mode registration must be armed with.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Interest {
    /// Wake when readable.
    pub readable: bool,
    /// Wake when writable.
    pub writable: bool,
}

impl Interest {
    const NONE: Interest = Interest {
        readable: false,
        writable: false,
    };

    fn with(self, dir: Direction) -> Interest {
        match dir {
            Direction::Read => Interest {
                readable: true,
                ..self
            },
            Direction::Write => Interest {
                writable: true,
                ..self
            },
        }
    }

    fn contains(self, dir: Direction) -> bool {
        match dir {
            Direction::Read => self.readable,
            Direction::Write => self.writable,
        }
    }
}

/// Re-arms a oneshot-mode OS registration. Called with the waiter lock held
/// (which is what serializes concurrent re-arms), never after shutdown.
pub trait Rearm {
    /// Arms the registration for `interest` (which is never empty).
    fn rearm(&self, interest: Interest) -> io::Result<()>;
}

/// The readiness word and the waiters of one registered source.
#[derive(Debug)]
pub struct ScheduledIo {
    readiness: AtomicUsize,
    waiters: Mutex<Waiters>,
}

#[derive(Debug, Default)]
struct Waiters {
    reader: Option<Waker>,
    writer: Option<Waker>,
    shared: Slab<SharedWaiter>,
    /// What the OS registration is armed for (oneshot mode only).
    armed: Interest,
}

#[derive(Debug)]
struct SharedWaiter {
    waker: Option<Waker>,
    dir: Direction,
}

impl Waiters {
    /// The union of what the current waiters wait for.
    fn interest(&self) -> Interest {
        let mut interest = Interest::NONE;
        if self.reader.is_some() {
            interest = interest.with(Direction::Read);
        }
        if self.writer.is_some() {
            interest = interest.with(Direction::Write);
        }
        for (_, w) in self.shared.iter() {
            if w.waker.is_some() {
                interest = interest.with(w.dir);
            }
        }
        interest
    }

    /// Moves the wakers of every waiter interested in `bits` to `out`.
    fn take(&mut self, bits: usize, out: &mut Vec<Waker>) {
        if bits & READABLE != 0 {
            out.extend(self.reader.take());
        }
        if bits & WRITABLE != 0 {
            out.extend(self.writer.take());
        }
        for (_, w) in self.shared.iter_mut() {
            if bits & w.dir.mask() != 0 {
                out.extend(w.waker.take());
            }
        }
    }
}

fn ready_for(cur: usize, dir: Direction) -> Option<ReadyEvent> {
    let tick = (cur >> TICK_SHIFT) & TICK_MASK;
    if cur & SHUTDOWN != 0 {
        return Some(ReadyEvent {
            tick,
            ready: dir.mask(),
            shutdown: true,
        });
    }
    let ready = match dir {
        // A hang-up keeps the read direction ready; the bit a clear may
        // remove is still only `READABLE`.
        Direction::Read if cur & READ_CLOSED != 0 => READABLE,
        _ => cur & dir.mask(),
    };
    (ready != 0).then_some(ReadyEvent {
        tick,
        ready,
        shutdown: false,
    })
}

impl ScheduledIo {
    /// A source whose readiness starts as `initial` (`READABLE`/`WRITABLE`
    /// bits: a fresh socket is optimistically assumed ready, so the first
    /// operation tries the syscall before waiting for an event).
    pub fn new(initial: usize) -> ScheduledIo {
        ScheduledIo {
            readiness: AtomicUsize::new(initial & (READABLE | WRITABLE)),
            waiters: Mutex::new(Waiters::default()),
        }
    }

    /// The reactor reports `bits` (`READABLE`/`WRITABLE`, and the sticky
    /// `READ_CLOSED`/`URGENT`, which come with `READABLE`): records them with
    /// a new tick and moves the wakers of the matching waiters to `wakers`
    /// (the caller wakes them once it has dispatched the whole batch). In
    /// oneshot mode (`rearm` given) the delivered event disarmed the OS
    /// registration, so whatever the remaining waiters want is re-armed.
    pub fn dispatch(&self, bits: usize, rearm: Option<&dyn Rearm>, wakers: &mut Vec<Waker>) {
        let bits = bits & (READABLE | WRITABLE | READ_CLOSED | URGENT);
        let _ = self.readiness.fetch_update(AcqRel, Acquire, |cur| {
            let tick = ((cur >> TICK_SHIFT) + 1) & TICK_MASK;
            Some((cur & !(TICK_MASK << TICK_SHIFT)) | bits | (tick << TICK_SHIFT))
        });
        let mut waiters = self.waiters.lock();
        waiters.take(bits, wakers);
        if let Some(rearm) = rearm {
            waiters.armed = Interest::NONE;
            self.rearm_locked(&mut waiters, rearm, wakers);
        }
    }

    /// Re-arms (oneshot mode) for what the waiters want, unless already
    /// armed for it or shut down. On failure the source is shut down: its
    /// waiters get an error rather than waiting for an event that cannot
    /// come.
    fn rearm_locked(&self, waiters: &mut Waiters, rearm: &dyn Rearm, wakers: &mut Vec<Waker>) {
        if self.readiness.load(Acquire) & SHUTDOWN != 0 {
            return;
        }
        let want = waiters.interest();
        if want == Interest::NONE || waiters.armed == want {
            return;
        }
        match rearm.rearm(want) {
            Ok(()) => waiters.armed = want,
            Err(_) => {
                self.readiness.fetch_or(SHUTDOWN, AcqRel);
                waiters.take(READABLE | WRITABLE, wakers);
            }
        }
    }

    /// Polls readiness for `dir` through the exclusive reader or writer slot
    /// (for the one task that owns that direction). On `Pending` the task
    /// will be woken by the next matching event or by shutdown.
    pub fn poll_ready(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        rearm: Option<&dyn Rearm>,
    ) -> Poll<ReadyEvent> {
        if let Some(ev) = ready_for(self.readiness.load(Acquire), dir) {
            return Poll::Ready(ev);
        }
        let mut wakers = Vec::new();
        let res = {
            let mut waiters = self.waiters.lock();
            let slot = match dir {
                Direction::Read => &mut waiters.reader,
                Direction::Write => &mut waiters.writer,
            };
            match slot {
                Some(w) if w.will_wake(cx.waker()) => {}
                _ => *slot = Some(cx.waker().clone()),
            }
            self.finish_poll_locked(&mut waiters, dir, rearm, &mut wakers)
        };
        wakers.into_iter().for_each(Waker::wake);
        res
    }

    /// Polls readiness for `dir` as one of possibly many tasks doing `&self`
    /// operations at once. `key` is the caller's waiter entry (`None` at
    /// first); the caller must pass it to [`cancel_shared`](Self::cancel_shared)
    /// if it stops waiting while an entry is held.
    pub fn poll_ready_shared(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        key: &mut Option<usize>,
        rearm: Option<&dyn Rearm>,
    ) -> Poll<ReadyEvent> {
        if let Some(ev) = ready_for(self.readiness.load(Acquire), dir) {
            if let Some(k) = key.take() {
                self.cancel_shared(k);
            }
            return Poll::Ready(ev);
        }
        let mut wakers = Vec::new();
        let res = {
            let mut waiters = self.waiters.lock();
            match key.and_then(|k| waiters.shared.get_mut(k)) {
                Some(entry) => match &entry.waker {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => entry.waker = Some(cx.waker().clone()),
                },
                None => {
                    *key = Some(waiters.shared.insert(SharedWaiter {
                        waker: Some(cx.waker().clone()),
                        dir,
                    }));
                }
            }
            let res = self.finish_poll_locked(&mut waiters, dir, rearm, &mut wakers);
            if res.is_ready()
                && let Some(k) = key.take()
            {
                waiters.shared.remove(k);
            }
            res
        };
        wakers.into_iter().for_each(Waker::wake);
        res
    }

    /// The second look, under the waiter lock, after the waker is stored.
    fn finish_poll_locked(
        &self,
        waiters: &mut Waiters,
        dir: Direction,
        rearm: Option<&dyn Rearm>,
        wakers: &mut Vec<Waker>,
    ) -> Poll<ReadyEvent> {
        if let Some(ev) = ready_for(self.readiness.load(Acquire), dir) {
            return Poll::Ready(ev);
        }
        if let Some(rearm) = rearm
            && !waiters.armed.contains(dir)
        {
            self.rearm_locked(waiters, rearm, wakers);
            // A failed re-arm shut the source down.
            if let Some(ev) = ready_for(self.readiness.load(Acquire), dir) {
                return Poll::Ready(ev);
            }
        }
        Poll::Pending
    }

    /// Removes a shared waiter entry (its future finished or was dropped).
    pub fn cancel_shared(&self, key: usize) {
        let mut waiters = self.waiters.lock();
        if waiters.shared.contains(key) {
            waiters.shared.remove(key);
        }
    }

    /// Clears the bits of `event` unless a newer event arrived since it was
    /// seen (the tick moved on), or the source is shut down.
    pub fn clear_readiness(&self, event: ReadyEvent) {
        self.clear_unless(event, SHUTDOWN);
    }

    /// After a short stream read: clears `READABLE` like
    /// [`clear_readiness`](Self::clear_readiness) does after `WouldBlock`,
    /// unless urgent data was ever reported. The caller must have made sure
    /// the OS will report a hang-up of this source as `READ_CLOSED` (module
    /// docs); a hang-up already recorded keeps the read direction ready.
    pub fn clear_presumed(&self, event: ReadyEvent) {
        self.clear_unless(event, SHUTDOWN | URGENT);
    }

    /// Clears the bits of `event` if the tick is still the one it was seen
    /// at and none of the sticky bits in `veto` is set.
    fn clear_unless(&self, event: ReadyEvent, veto: usize) {
        if event.shutdown {
            return;
        }
        let _ = self.readiness.fetch_update(AcqRel, Acquire, |cur| {
            if cur & veto != 0 || (cur >> TICK_SHIFT) & TICK_MASK != event.tick {
                None
            } else {
                Some(cur & !event.ready)
            }
        });
    }

    /// Marks the source shut down (deregistered, or its reactor is gone) and
    /// moves every waiter's waker to `wakers`. Idempotent.
    pub fn shutdown(&self, wakers: &mut Vec<Waker>) {
        let mut waiters = self.waiters.lock();
        self.readiness.fetch_or(SHUTDOWN, AcqRel);
        waiters.take(READABLE | WRITABLE, wakers);
    }

    /// Whether [`shutdown`](Self::shutdown) was called.
    pub fn is_shutdown(&self) -> bool {
        self.readiness.load(Acquire) & SHUTDOWN != 0
    }
}

//! The timer driver: one timing wheel per worker, how a worker sleeps until
//! its next deadline and fires what is due, and how timers reach a wheel.
//!
//! **No runtime-wide lock.** Each worker owns a wheel behind its own lock. A
//! timer registered by a task running on worker `i` goes into wheel `i`,
//! whose lock is then taken by that worker only (uncontended). Cancelling or
//! resetting a timer from another thread takes the lock of the one wheel that
//! holds it. Threads that are not workers (a `block_on` caller) register into
//! a wheel chosen round-robin.
//!
//! **Waking the right worker.** Each wheel publishes its next deadline tick.
//! A worker about to park reads its own and sleeps until then (never a
//! periodic tick). A registration or reset that makes another wheel's next
//! deadline earlier unparks that wheel's worker; the executor's parker
//! remembers the unpark, so it cannot be lost between the worker computing
//! its timeout and blocking.
//!
//! **Firing.** Expired entries are collected under the lock in batches of
//! [`BATCH`]: each is unlinked, marked fired, and its waker taken; the lock
//! is released before the wakers run, and the entry (whose memory belongs to
//! a `Sleep`) is never touched after that.
//!
//! **Virtual time.** While the clock is paused, a worker never sleeps on a
//! deadline; when the executor reports the runtime idle, the clock jumps to
//! the earliest published deadline and its worker is unparked.
//!
//! Owns the wheels and their locks; the entry protocol seen from a `Sleep`
//! is in `entry.rs`.

use crate::clock::Clock;
use crate::entry::Entry;
use crate::loom::Mutex;
use crate::loom::atomic::{AtomicBool, AtomicU64, AtomicUsize};
use crate::wheel::Wheel;
use crossbeam_utils::CachePadded;
use filch_executor::{Handle, WorkerDriver};
use std::cell::Cell;
use std::sync::Arc;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::task::Waker;
use std::time::Duration;

/// Wakers collected per lock hold while firing.
pub(crate) const BATCH: usize = 32;

/// "No deadline" in a published next-deadline word.
pub(crate) const NO_DEADLINE: u64 = u64::MAX;

/// The timers of one runtime. Cheap to clone; the facade exposes it to
/// driver lookups (`Handle::driver::<TimerHandle>()`).
///
/// ```
/// let timer = filch_timer::TimerHandle::new(2, false);
/// assert!(!timer.is_paused());
/// ```
#[derive(Clone)]
pub struct TimerHandle {
    pub(crate) shared: Arc<TimerShared>,
}

pub(crate) struct TimerShared {
    pub(crate) clock: Arc<Clock>,
    pub(crate) wheels: Box<[Arc<WheelCell>]>,
    /// Round-robin cursor for registrations from non-worker threads.
    foreign: AtomicUsize,
}

/// One worker's wheel and what others need to know about it.
#[cfg_attr(loom, allow(missing_debug_implementations))]
pub struct WheelCell {
    pub(crate) index: usize,
    pub(crate) wheel: CachePadded<Mutex<Wheel>>,
    /// Next deadline tick (or `NO_DEADLINE`); may be earlier than the true
    /// next deadline (a removed timer), never later.
    pub(crate) next: CachePadded<AtomicU64>,
    /// Set when the runtime shut down: timers cannot fire any more.
    pub(crate) shutdown: AtomicBool,
    /// The runtime's clock (shared by all wheels of a runtime).
    pub(crate) clock: Arc<Clock>,
    /// The executor handle to wake this wheel's worker with; set while the
    /// worker runs (cleared when it stops, which breaks the cycle between
    /// the executor, which owns the driver, and this handle).
    owner: Mutex<Option<Handle>>,
}

impl WheelCell {
    /// An empty wheel for worker `index`, on `clock`, with no owner yet.
    fn new(index: usize, clock: Arc<Clock>) -> WheelCell {
        WheelCell {
            index,
            wheel: CachePadded::new(Mutex::new(Wheel::new())),
            next: CachePadded::new(AtomicU64::new(NO_DEADLINE)),
            shutdown: AtomicBool::new(false),
            clock,
            owner: Mutex::new(None),
        }
    }

    /// A wheel of its own on a running clock, with no runtime: the loom
    /// models drive it directly (and unpark its "owner" themselves, since
    /// `unpark_owner` needs an executor `Handle`).
    #[cfg(loom)]
    pub fn standalone() -> Arc<WheelCell> {
        Arc::new(WheelCell::new(0, Arc::new(Clock::new(false))))
    }

    /// Lowers the published next deadline to `tick` if it is earlier.
    /// Returns true if it was lowered (the owner may need a wake-up).
    pub fn publish_earlier(&self, tick: u64) -> bool {
        self.next.fetch_min(tick, AcqRel) > tick
    }

    /// How long the owning worker may park: until the published next
    /// deadline (`None`: no deadline, park until woken).
    pub fn park_timeout(&self) -> Option<Duration> {
        let next = self.next.load(Acquire);
        if next == NO_DEADLINE {
            return None;
        }
        let clock = &self.clock;
        let now = clock.now();
        let due = clock.now_tick(now) >= next;
        if clock.is_paused() {
            // Virtual time does not pass while we sleep: only what is already
            // due may end the park.
            return due.then_some(Duration::ZERO);
        }
        let at = clock.tick_instant(next)?;
        Some(at.saturating_duration_since(now))
    }

    /// Fires what is due now (the owning worker, after each park and at
    /// each maintenance tick).
    ///
    /// An empty wheel (published next deadline `NO_DEADLINE`) costs one
    /// load: no clock read, no lock. A timer being registered from another
    /// thread meanwhile is not lost: its registration lowers the published
    /// deadline after linking it and unparks this worker (which then ends
    /// its next park at once and processes again).
    #[inline]
    pub fn process(&self) {
        if self.next.load(Acquire) == NO_DEADLINE {
            return;
        }
        let now = self.clock.now_tick(self.clock.now());
        fire_due(self, now, false);
    }

    /// The runtime stopped: no timer of this wheel can fire any more; the
    /// ones registered are woken as orphaned by the shutdown.
    pub fn shut_down(&self) {
        self.shutdown.store(true, Release);
        fire_due(self, u64::MAX, true);
    }

    /// Timers linked in the wheel right now (takes the lock).
    pub fn num_registered(&self) -> usize {
        self.wheel.lock().len()
    }

    /// Wakes the worker owning this wheel (its next deadline got earlier).
    pub(crate) fn unpark_owner(&self) {
        if let Some(handle) = &*self.owner.lock() {
            handle.unpark_worker(self.index);
        }
    }
}

/// The part of the driver a worker owns: its wheel's firing and its park
/// timeout.
struct TimerWorker {
    cell: Arc<WheelCell>,
    _ctx: Box<WorkerCtx>,
}

/// What a `Sleep` polled on a worker thread uses to find its wheel without
/// any lookup: set when the worker starts, cleared when it stops.
pub(crate) struct WorkerCtx {
    pub(crate) cell: Arc<WheelCell>,
}

thread_local! {
    static WORKER: Cell<*const WorkerCtx> = const { Cell::new(std::ptr::null()) };
}

impl TimerHandle {
    /// Timers for a runtime of `workers` workers, its clock paused from the
    /// start if `start_paused`.
    ///
    /// ```
    /// let timer = filch_timer::TimerHandle::new(1, true);
    /// assert!(timer.is_paused());
    /// ```
    pub fn new(workers: usize, start_paused: bool) -> TimerHandle {
        let clock = Arc::new(Clock::new(start_paused));
        let wheels = (0..workers.max(1))
            .map(|index| Arc::new(WheelCell::new(index, clock.clone())))
            .collect();
        TimerHandle {
            shared: Arc::new(TimerShared {
                clock,
                wheels,
                foreign: AtomicUsize::new(0),
            }),
        }
    }

    /// Whether the clock is paused (virtual time).
    ///
    /// ```
    /// assert!(!filch_timer::TimerHandle::new(1, false).is_paused());
    /// ```
    pub fn is_paused(&self) -> bool {
        self.shared.clock.is_paused()
    }

    /// The per-worker part for worker `index`; the executor calls this on the
    /// worker thread (through the facade's `Driver::start_worker`).
    ///
    /// ```
    /// # use filch_executor::{Builder, Driver, Handle, WorkerDriver};
    /// # use std::sync::Arc;
    /// let timer = filch_timer::TimerHandle::new(1, false);
    /// let rt = Builder::new().worker_threads(1).build().unwrap();
    /// let mut w = timer.start_worker(rt.handle(), 0);
    /// assert_eq!(w.park_timeout(), None);
    /// # drop(w);
    /// ```
    pub fn start_worker(&self, handle: &Handle, index: usize) -> Box<dyn WorkerDriver> {
        let cell = self.shared.wheels[index % self.shared.wheels.len()].clone();
        *cell.owner.lock() = Some(handle.clone());
        let ctx = Box::new(WorkerCtx { cell: cell.clone() });
        WORKER.with(|w| w.set(&*ctx));
        Box::new(TimerWorker { cell, _ctx: ctx })
    }

    /// The runtime became idle: with a paused clock, jump to the earliest
    /// deadline and wake the worker that owns it.
    ///
    /// ```
    /// let timer = filch_timer::TimerHandle::new(1, true);
    /// let rt = filch_executor::Builder::new().worker_threads(1).build().unwrap();
    /// timer.on_idle(rt.handle()); // nothing is due: nothing happens
    /// ```
    pub fn on_idle(&self, handle: &Handle) {
        let shared = &self.shared;
        if !shared.clock.is_paused() {
            return;
        }
        let Some(cell) = shared.wheels.iter().min_by_key(|c| c.next.load(Acquire)) else {
            return;
        };
        let tick = cell.next.load(Acquire);
        if tick == NO_DEADLINE {
            return;
        }
        if let Some(at) = shared.clock.tick_instant(tick) {
            shared.clock.advance_to(at);
        }
        if cell.index < handle.num_workers() {
            handle.unpark_worker(cell.index);
        }
    }

    /// Pauses the clock; `Err` if it already is paused.
    pub(crate) fn pause(&self) -> Result<(), ()> {
        self.shared.clock.pause()
    }

    /// Resumes the clock; `Err` if it is not paused.
    pub(crate) fn resume(&self) -> Result<(), ()> {
        self.shared.clock.resume()
    }

    /// Advances the paused clock and wakes the workers with due timers.
    pub(crate) fn advance(&self, by: Duration, handle: &Handle) -> Result<(), ()> {
        self.shared.clock.advance(by)?;
        self.wake_due_workers(handle);
        Ok(())
    }

    fn wake_due_workers(&self, handle: &Handle) {
        let now = self.shared.clock.now_tick(self.shared.clock.now());
        for cell in self.shared.wheels.iter() {
            if cell.next.load(Acquire) <= now && cell.index < handle.num_workers() {
                handle.unpark_worker(cell.index);
            }
        }
    }

    /// Timers registered in the wheels right now (takes each wheel's lock;
    /// for tests and diagnostics).
    ///
    /// ```
    /// assert_eq!(filch_timer::TimerHandle::new(2, false).num_registered(), 0);
    /// ```
    pub fn num_registered(&self) -> usize {
        self.shared.wheels.iter().map(|c| c.num_registered()).sum()
    }

    /// The runtime stopped: no timer can fire any more. Registered timers
    /// are woken so their owners observe the shutdown instead of hanging.
    ///
    /// ```
    /// let timer = filch_timer::TimerHandle::new(1, false);
    /// timer.shutdown();
    /// ```
    pub fn shutdown(&self) {
        for cell in self.shared.wheels.iter() {
            cell.shut_down();
        }
    }
}

impl TimerShared {
    /// The wheel a registration from a thread that is not a worker goes to.
    pub(crate) fn pick_foreign(&self) -> &Arc<WheelCell> {
        let i = self.foreign.fetch_add(1, Relaxed) % self.wheels.len();
        &self.wheels[i]
    }
}

impl WorkerDriver for TimerWorker {
    fn park_timeout(&mut self) -> Option<Duration> {
        self.cell.park_timeout()
    }

    fn process(&mut self) {
        self.cell.process();
    }

    fn shutdown(&mut self) {
        WORKER.with(|w| w.set(std::ptr::null()));
        self.cell.owner.lock().take();
    }
}

impl Drop for TimerWorker {
    fn drop(&mut self) {
        self.cell.owner.lock().take();
        let _ = WORKER.try_with(|w| {
            if std::ptr::eq(w.get(), &*self._ctx) {
                w.set(std::ptr::null());
            }
        });
    }
}

/// Fires every entry of `cell` due at tick `now`, in batches, waking the
/// wakers outside the lock. With `shutdown`, entries are marked as orphaned
/// by the shutdown instead of fired.
pub fn fire_due(cell: &WheelCell, now: u64, shutdown: bool) {
    let mut wakers: [Option<Waker>; BATCH] = [const { None }; BATCH];
    loop {
        let mut n = 0;
        {
            let mut wheel = cell.wheel.lock();
            while n < BATCH {
                // SAFETY: every node linked in a wheel belongs to a live
                // entry: an entry unlinks itself under this lock before its
                // memory goes away (entry.rs).
                let Some(node) = (unsafe { wheel.poll(now) }) else {
                    break;
                };
                // SAFETY: the node is the first field of an `Entry`
                // (`#[repr(C)]`), and we hold the lock that guards it.
                let entry = unsafe { Entry::from_node(node) };
                // SAFETY: lock held (guards the waker slot).
                wakers[n] = unsafe { entry.take_waker() };
                entry.mark(shutdown);
                n += 1;
            }
            let next = wheel.next_expiration().unwrap_or(NO_DEADLINE);
            cell.next.store(next, Release);
        }
        // A waker's panic must not stop the batch (or reach the worker).
        for w in wakers.iter_mut().take(n) {
            if let Some(w) = w.take() {
                filch_executor::wake_contained(w);
            }
        }
        if n < BATCH {
            return;
        }
    }
}

/// The wheel of the worker running on this thread, if this thread is a
/// worker of a runtime with timers.
pub(crate) fn with_worker_cell<R>(f: impl FnOnce(Option<&Arc<WheelCell>>) -> R) -> R {
    let ptr = WORKER.try_with(|w| w.get()).unwrap_or(std::ptr::null());
    // SAFETY: the pointer is set on the worker thread by `start_worker` to a
    // `WorkerCtx` owned by the `TimerWorker`, which lives as long as the
    // worker loop, and is cleared in its `shutdown`/`Drop` before the
    // context is freed. Only this thread reads it.
    f(unsafe { ptr.as_ref() }.map(|ctx| &ctx.cell))
}

/// The timer handle of the current runtime, looked up through the executor
/// (for threads that are not workers).
pub(crate) fn current_handle() -> Option<(Handle, TimerHandle)> {
    let handle = Handle::try_current()?;
    let timer = handle.driver::<TimerHandle>()?.clone();
    Some((handle, timer))
}

/// Runs `f` with the current runtime's clock, if there is one.
pub(crate) fn current_clock<R>(f: impl FnOnce(Option<&Clock>) -> R) -> R {
    let from_worker = with_worker_cell(|cell| cell.map(|c| c.clock.clone()));
    match from_worker {
        Some(clock) => f(Some(&clock)),
        None => match current_handle() {
            Some((_, timer)) => f(Some(&timer.shared.clock)),
            None => f(None),
        },
    }
}

impl std::fmt::Debug for TimerHandle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TimerHandle")
            .field("wheels", &self.shared.wheels.len())
            .field("paused", &self.is_paused())
            .finish()
    }
}

//! The worker loop: find a task, run it, and park when there is none.
//!
//! A tick is one task poll. Order of looking for work: once
//! `global_queue_interval` ticks have passed, a batch from the global
//! injector first (so remote spawns cannot starve behind busy local work);
//! otherwise the local queue, then a batch from the injector, then half of
//! another worker's queue. After each poll, the task its poll woke (the LIFO
//! slot) runs next, at most [`MAX_LIFO_POLLS`] times in a row and within the
//! task's coop budget (then it goes to the back of the local queue, or stays
//! in its slot if that queue is empty). Once `event_interval` ticks have
//! passed, the worker fires due timers, polls the I/O driver without
//! blocking, and wakes the tasks that called `yield_now` (which are deferred
//! until then, or until the worker runs out of other work, so a yielding loop
//! is the lowest priority).
//!
//! **Stealable LIFO slot.** A thief never takes a LIFO task eagerly (that
//! reorders message passing: tokio#8065). A worker about to park notes every
//! other worker's occupied LIFO slot together with that worker's poll
//! sequence number, and parks with a timeout of `lifo_steal_delay`. If on
//! waking a slot is still occupied and the owner's sequence has not moved,
//! the owner has been inside one poll for the whole delay: the task is
//! stolen. Workers watch only while some other worker is awake *and* some
//! other worker's slot is occupied (otherwise they park without a timeout),
//! and a worker that fills its LIFO slot wakes a sleeper if nobody watches,
//! so neither an idle runtime nor one whose only busy worker has an empty
//! slot has timed wake-ups.
//!
//! Owns the loop and the parking decision; the wake-up bookkeeping is in
//! `idle.rs`, the queues in `queue.rs`.

use super::queue::{Local, steal_retrying};
use super::{SchedRef, Shared};
use crate::coop;
use crate::diag::metrics::WorkerStats;
use crate::diag::timing::EnterSlot;
use crate::driver::WorkerDriver;
use crate::local::{LocalSchedule, LocalSlot, OwnerKind};
use crate::park::Parker;
use crate::tasks::list::ReleaseBatch;
use crate::tasks::panic_message;
use crate::tasks::{Header, Notified};
use crate::{Handle, context};
use std::cell::{Cell, RefCell};
use std::io::{self, Write};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::Ordering::{Relaxed, SeqCst};
use std::task::Waker;
use std::time::{Duration, Instant};

/// LIFO polls in a row before the LIFO task goes to the back of the queue.
pub(crate) const MAX_LIFO_POLLS: u32 = 3;

/// How long a runtime stays idle before the cell cache's busy surplus goes
/// back to the allocator (`tasks/alloc.rs`): longer than the gaps between
/// the bursts of a busy program, short enough that an idle one soon holds
/// no more than it needs.
const TRIM_DELAY: Duration = Duration::from_millis(10);

/// A parked worker keeps watching for this many steal delays after it last
/// saw an occupied LIFO slot, even if the slots look empty.
const WATCH_LINGER: u32 = 4;

type Task = Notified<SchedRef>;
type PinnedTask = Notified<LocalSchedule>;

/// What code running on a worker thread can reach (through the context
/// thread-local): enough to queue tasks locally.
pub(crate) struct WorkerRef {
    shared: Arc<Shared>,
    pub(crate) index: usize,
    local: Local<Task>,
    /// LIFO scheduling allowed (off after `MAX_LIFO_POLLS`, and while the
    /// worker dispatches driver events, which should run in FIFO order).
    lifo_enabled: Cell<bool>,
    /// While dispatching driver events, pushes do not wake other workers one
    /// by one; the worker decides once afterwards.
    defer_notify: Cell<bool>,
    /// Wakers of tasks that called `yield_now`, woken at the next
    /// maintenance or when the worker has nothing else to run.
    deferred: RefCell<Vec<Waker>>,
    /// Tasks of this worker's runtime that called `yield_now` themselves:
    /// notified in place, no waker cloned (`defer`), held here from the end
    /// of their poll until `wake_deferred` queues them.
    deferred_tasks: RefCell<Vec<Task>>,
    /// The header of the task whose own `yield_now` is in flight: set by
    /// `defer`, taken by `schedule_local` when that poll's `Pending` hands
    /// the task over (a mark left by a task that completed instead is
    /// cleared by the next self-woken task, and could at worst defer one).
    yield_mark: Cell<*const Header>,
    /// Tasks queued on this worker by its own tasks (published with the
    /// loop's counts, see [`Counts`]).
    local_schedules: Cell<u64>,
    /// This worker's `!Send` tasks (`spawn_local`), if it ever had one.
    pinned: LocalSlot,
    /// Completed tasks of other owned-list shards, released in batches;
    /// installed in the thread's context for the worker's lifetime.
    releases: ReleaseBatch,
}

impl WorkerRef {
    pub(crate) fn shared(&self) -> &Arc<Shared> {
        &self.shared
    }

    pub(crate) fn shared_ptr(&self) -> *const Shared {
        Arc::as_ptr(&self.shared)
    }

    fn stats(&self) -> &WorkerStats {
        &self.shared.stats[self.index]
    }

    /// Queues a task woken or spawned by code running on this worker.
    pub(crate) fn schedule_local(&self, task: Task, is_yield: bool) {
        self.local_schedules.set(self.local_schedules.get() + 1);
        if is_yield && task.is(self.yield_mark.replace(std::ptr::null())) {
            // Its own `yield_now`: it waits for the others (module docs).
            self.deferred_tasks.borrow_mut().push(task);
            return;
        }
        if is_yield || !self.lifo_enabled.get() {
            self.local.push(task);
            self.notify_push();
            return;
        }
        let remote = &self.shared.remotes[self.index];
        match remote.lifo.push(task) {
            Some(prev) => {
                self.local.push(prev);
                self.notify_push();
            }
            None => self.ensure_lifo_watcher(),
        }
    }

    /// Releases the completed tasks the batch kept: before the worker parks
    /// and when it stops (shutdown's `close_and_shutdown_all` runs after
    /// the workers stopped and so finds every completed task released).
    pub(crate) fn flush_releases(&self) {
        self.releases.flush(&self.shared.owned);
    }

    fn notify_push(&self) {
        if !self.defer_notify.get() {
            self.shared.notify_parked();
        }
    }

    /// The LIFO slot was just filled. If the owner now got stuck in a long
    /// poll, someone must be watching to rescue the task; wake a parked
    /// worker if nobody is awake and watching.
    fn ensure_lifo_watcher(&self) {
        if self.shared.config.lifo_steal_delay.is_none() || self.defer_notify.get() {
            return;
        }
        if self.shared.watchers.none_after_fill() && self.shared.idle.nobody_looking() {
            self.shared.notify_parked();
        }
    }

    /// Defers a yielding task's wake-up (see the module docs).
    ///
    /// The running task's own waker (the common case) costs no atomic
    /// operation: the poll is marked yielded, the harness keeps the task
    /// held (still `RUNNING`, `tasks/state.rs`) instead of making it idle,
    /// and `schedule_local` keeps it here when its poll ends; its next run
    /// reads its state once. Any other waker (a combinator's, a `!Send`
    /// task's) is cloned and woken later.
    pub(crate) fn defer(&self, waker: &Waker) {
        if let Some(header) = crate::tasks::current::wake_own_yield(waker) {
            self.yield_mark.set(header.as_ptr());
            return;
        }
        self.deferred.borrow_mut().push(waker.clone());
    }

    fn has_deferred(&self) -> bool {
        !self.deferred_tasks.borrow().is_empty() || !self.deferred.borrow().is_empty()
    }

    /// Moves the tasks that yielded to the local queue (the buffer is kept
    /// for the next round).
    fn queue_deferred_tasks(&self) {
        let mut tasks = self.deferred_tasks.borrow_mut();
        if !tasks.is_empty() {
            for task in tasks.drain(..) {
                self.local.push(task);
            }
            self.notify_push();
        }
    }

    fn wake_deferred(&self) {
        self.queue_deferred_tasks();
        // Taken out first: waking may run code that defers again.
        let wakers = std::mem::take(&mut *self.deferred.borrow_mut());
        for waker in wakers {
            waker.wake();
        }
    }

    fn take_lifo(&self) -> Option<Task> {
        self.shared.remotes[self.index].lifo.take()
    }

    fn has_local_work(&self) -> bool {
        !self.local.is_empty()
            || self.shared.remotes[self.index].lifo.is_occupied()
            || self.pinned.runner().is_some_and(|r| r.has_work())
    }

    /// A `!Send` task of this worker that is ready, if any.
    #[inline]
    fn pinned_task(&self) -> Option<PinnedTask> {
        self.pinned.runner()?.pop()
    }
}

/// The loop's own state, never touched from outside the loop.
struct Core {
    /// Task polls so far.
    tick: u32,
    /// `tick` at the last look at the global queue first / at the last
    /// maintenance.
    last_global: u32,
    last_maintenance: u32,
    is_searching: bool,
    rng: FastRand,
    parker: Parker,
    driver: Option<Box<dyn WorkerDriver>>,
    /// (worker, poll sequence) of the LIFO slots being watched.
    watch: Vec<(usize, usize)>,
    is_watcher: bool,
    /// When this worker last saw another worker's LIFO slot occupied.
    last_occupied: Option<Instant>,
    global_queue_interval: u32,
    event_interval: u32,
    lifo_steal_delay: Option<Duration>,
    counts: Counts,
    /// `tick` at the last turn of the `!Send` tasks.
    last_pinned: u32,
    /// When to trim the cell cache if the runtime stays idle (set by the
    /// last worker to park while the cache holds a surplus).
    trim_at: Option<Instant>,
}

/// The loop's metrics, counted in plain fields and published to the
/// worker's [`WorkerStats`] (one store each) at every maintenance and before
/// every park, as tokio batches its worker metrics: counting costs nothing
/// on the poll path, and a reader sees a busy worker's counts at most one
/// maintenance interval late, an idle worker's exactly.
#[derive(Default)]
struct Counts {
    polls: u64,
    injector_takes: u64,
    steals: u64,
    parks: u64,
    lifo_hits: u64,
}

/// The body of worker thread `index`: runs it until the runtime shuts down.
///
/// Task code runs under `catch_unwind` (`tasks/harness.rs`), so a panic
/// that reaches this far is a bug in filch or in a driver. Unwinding would
/// end the thread and strand the tasks in its queues, and the runtime would
/// hang without a word. The process aborts instead, after saying why on
/// stderr (written directly: a test harness captures what the panic hook
/// prints on threads a test started).
pub(crate) fn run(handle: Handle, index: usize, local: Local<Task>, parker: Parker) {
    let res = panic::catch_unwind(AssertUnwindSafe(|| {
        run_worker(handle, index, local, parker)
    }));
    if let Err(payload) = res {
        let what = panic_message(&*payload).unwrap_or("(a panic payload that is not a string)");
        let _ = writeln!(
            io::stderr(),
            "filch: worker thread {index} panicked outside any task: {what}\n\
             This is a bug in filch or in a runtime driver. The worker's queued tasks \
             could never run, so the process aborts."
        );
        std::process::abort();
    }
}

fn run_worker(handle: Handle, index: usize, local: Local<Task>, parker: Parker) {
    let shared = handle.shared.clone();
    let _rt = context::enter_runtime();
    let _handle = context::enter_handle(handle.clone());
    let worker = WorkerRef {
        shared,
        index,
        local,
        lifo_enabled: Cell::new(true),
        defer_notify: Cell::new(false),
        deferred: RefCell::new(Vec::new()),
        deferred_tasks: RefCell::new(Vec::new()),
        yield_mark: Cell::new(std::ptr::null()),
        local_schedules: Cell::new(0),
        pinned: LocalSlot::new(handle.clone(), OwnerKind::Worker(index)),
        releases: ReleaseBatch::new(
            &handle.shared.owned,
            index,
            Some(handle.shared.owned.shard_for_worker(index)),
        ),
    };
    let _worker = context::enter_worker(&worker);
    let _releases = context::enter_release_batch(&worker.releases);
    // Dropped after the loop ends (declared after `_worker`): the worker's
    // `!Send` tasks are cancelled here, on their own thread.
    let _pinned = worker.pinned.enter();
    let _slot = worker
        .shared
        .diag
        .timing
        .as_ref()
        .map(|_| EnterSlot::new(&worker.shared.diag, &worker.stats().slot));
    let driver = worker
        .shared
        .driver
        .as_ref()
        .and_then(|slot| slot.driver().start_worker(&handle, index));
    drop(handle);
    let config = &worker.shared.config;
    let mut core = Core {
        tick: 0,
        last_global: 0,
        last_maintenance: 0,
        is_searching: false,
        rng: FastRand::new(index as u64),
        parker,
        driver,
        watch: Vec::new(),
        is_watcher: false,
        last_occupied: None,
        global_queue_interval: config.global_queue_interval,
        event_interval: config.event_interval,
        lifo_steal_delay: config.lifo_steal_delay,
        counts: Counts::default(),
        last_pinned: 0,
        trim_at: None,
    };
    core.run(&worker);
    // A task that yielded is notified and held here: put it where the
    // shutdown's drain (`Shared::shutdown_tasks`, through this worker's
    // stealer) runs it, or it would never finish and shutdown would wait.
    worker.queue_deferred_tasks();
    // The worker's `!Send` tasks are cancelled now, on their own thread,
    // while its timers and context still exist.
    drop(_pinned);
    core.publish_counts(&worker);
    if let Some(driver) = core.driver.as_mut() {
        driver.shutdown();
    }
    // Last: nothing completes a task on this thread after this.
    worker.flush_releases();
}

impl Core {
    fn run(&mut self, w: &WorkerRef) {
        while !w.shared.is_shutdown() {
            if self.tick.wrapping_sub(self.last_maintenance) >= self.event_interval {
                self.last_maintenance = self.tick;
                self.maintenance(w);
            }
            // `!Send` tasks get a turn every `global_queue_interval` ticks
            // even while the other queues are busy (one load when this
            // worker never had one).
            if w.pinned.runner().is_some()
                && self.tick.wrapping_sub(self.last_pinned) >= self.global_queue_interval
            {
                self.last_pinned = self.tick;
                if let Some(task) = w.pinned_task() {
                    self.run_pinned(w, task);
                    continue;
                }
            }
            if let Some(task) = self.next_task(w) {
                self.run_task(w, task);
            } else if let Some(task) = w.pinned_task() {
                self.run_pinned(w, task);
            } else if let Some(task) = self.steal_work(w) {
                self.run_task(w, task);
            } else {
                self.park(w);
            }
        }
        self.stop_watching(w);
    }

    fn next_task(&mut self, w: &WorkerRef) -> Option<Task> {
        if self.tick.wrapping_sub(self.last_global) >= self.global_queue_interval {
            self.last_global = self.tick;
            // A batch, not one task: with busy local work a worker comes here
            // only once per interval, and remote spawns must keep up.
            let before = w.local.len();
            if let Some(task) = take_counted(w, &mut self.counts.injector_takes, before, || {
                w.shared.injector.steal_batch_and_pop(&w.local)
            }) {
                return Some(task);
            }
        }
        if let Some(task) = w.take_lifo() {
            return Some(task);
        }
        if let Some(task) = w.local.pop() {
            return Some(task);
        }
        // The local queue is empty here (so the batch is what it holds after).
        take_counted(w, &mut self.counts.injector_takes, 0, || {
            w.shared.injector.steal_batch_and_pop(&w.local)
        })
    }

    fn steal_work(&mut self, w: &WorkerRef) -> Option<Task> {
        if !self.is_searching {
            if !w.shared.idle.transition_worker_to_searching() {
                return None;
            }
            self.is_searching = true;
        }
        let n = w.shared.remotes.len();
        let start = self.rng.below(n);
        for i in 0..n {
            let victim = (start + i) % n;
            if victim == w.index {
                continue;
            }
            let stealer = &w.shared.remotes[victim].stealer;
            if let Some(task) = take_counted(w, &mut self.counts.steals, 0, || {
                stealer.steal_batch_and_pop(&w.local)
            }) {
                return Some(task);
            }
        }
        // The local queue is empty here (so the batch is what it holds after).
        take_counted(w, &mut self.counts.injector_takes, 0, || {
            w.shared.injector.steal_batch_and_pop(&w.local)
        })
    }

    /// Stops searching (if we were) because we found work.
    fn found_work(&mut self, w: &WorkerRef) {
        if self.is_searching {
            self.is_searching = false;
            if w.shared.idle.transition_worker_from_searching() {
                // We were the last searcher and found work: there may be
                // more, so make sure someone else looks. Before the poll,
                // not after: measured on a request-reply exchange, waking
                // after the first poll was 2.3x slower per round trip (the
                // second worker's wake-up keeps a CPU from idling just as
                // the reply's wake-up needs one).
                w.shared.notify_parked();
            }
        }
    }

    /// Runs one of this worker's `!Send` tasks.
    fn run_pinned(&mut self, w: &WorkerRef, task: PinnedTask) {
        self.found_work(w);
        bump(&w.shared.remotes[w.index].poll_seq);
        self.tick = self.tick.wrapping_add(1);
        self.counts.polls += 1;
        coop::budget(|| task.run());
    }

    fn run_task(&mut self, w: &WorkerRef, task: Task) {
        self.found_work(w);
        let remote = &w.shared.remotes[w.index];
        w.lifo_enabled.set(true);
        coop::budget(|| {
            bump(&remote.poll_seq);
            self.tick = self.tick.wrapping_add(1);
            self.counts.polls += 1;
            task.run();
            let mut lifo_polls = 0;
            loop {
                if lifo_polls >= MAX_LIFO_POLLS || !coop::has_budget_remaining() {
                    // Enough back-to-back polls: be fair to the queue, if
                    // it holds anything. If not, the LIFO task stays in its
                    // slot (still watched) and the loop takes it again after
                    // its tick checks: moving it to the queue would wake a
                    // parked worker to steal the only task this worker is
                    // about to run, and a chain of spawns would hop between
                    // workers every `MAX_LIFO_POLLS` polls.
                    w.lifo_enabled.set(false);
                    if !w.local.is_empty()
                        && let Some(next) = w.take_lifo()
                    {
                        w.local.push(next);
                        w.notify_push();
                    }
                    break;
                }
                let Some(next) = w.take_lifo() else { break };
                lifo_polls += 1;
                bump(&remote.poll_seq);
                self.tick = self.tick.wrapping_add(1);
                self.counts.polls += 1;
                self.counts.lifo_hits += 1;
                next.run();
            }
        });
    }

    /// Fires due timers, polls the I/O driver without blocking, and wakes
    /// the tasks that yielded.
    fn maintenance(&mut self, w: &WorkerRef) {
        self.publish_counts(w);
        self.dispatch_events(w, |core| {
            if let Some(slot) = &w.shared.driver {
                slot.poll_if_free();
            }
            if let Some(driver) = core.driver.as_mut() {
                driver.process();
            }
            w.wake_deferred();
        });
    }

    /// Publishes the loop's counts (see [`Counts`]).
    fn publish_counts(&self, w: &WorkerRef) {
        let stats = w.stats();
        let c = &self.counts;
        stats.polls.set(c.polls);
        stats.injector_takes.set(c.injector_takes);
        stats.steals.set(c.steals);
        stats.parks.set(c.parks);
        stats.lifo_hits.set(c.lifo_hits);
        stats.local_schedules.set(w.local_schedules.get());
    }

    /// Runs `f` (which may wake many tasks) with LIFO scheduling and per-push
    /// notifications off, then wakes one other worker if work piled up.
    fn dispatch_events(&mut self, w: &WorkerRef, f: impl FnOnce(&mut Core)) {
        w.lifo_enabled.set(false);
        w.defer_notify.set(true);
        f(self);
        w.defer_notify.set(false);
        w.lifo_enabled.set(true);
        if w.local.len() > 1 {
            w.shared.notify_parked();
        }
    }

    fn park(&mut self, w: &WorkerRef) {
        // A parked worker keeps no completed task (`ReleaseBatch`).
        w.flush_releases();
        if w.has_deferred() {
            // Nothing else to do: the yielded tasks run now.
            self.dispatch_events(w, |_| w.wake_deferred());
        }
        if w.has_local_work() {
            return;
        }
        // Count ourselves a watcher before we count ourselves parked: a
        // worker filling its LIFO slot in between would otherwise see a
        // sleeper and no watcher and wake us for nothing. Under a mutex
        // convoy the slot is filled every few hundred nanoseconds, and that
        // window cost a futex wake-up per park (measured: 150 per 5,000
        // lock hand-offs, 1.4x slower). Only while slots were seen occupied
        // lately (a convoy): otherwise the role is two contended atomic
        // operations per park for nothing, and `observe_lifo_slots` decides.
        if self.saw_occupied_lately() {
            self.start_watching(w);
        }
        self.counts.parks += 1;
        self.publish_counts(w);
        let was_searching = std::mem::take(&mut self.is_searching);
        let last_searcher = w
            .shared
            .idle
            .transition_worker_to_parked(w.index, was_searching);
        if last_searcher && w.shared.has_queued_work() {
            // Work appeared after our last look (see idle.rs): wake someone,
            // possibly ourselves.
            w.shared.notify_parked();
        }
        self.trim_at = None;
        if w.shared.idle.num_unparked() == 0 {
            // The runtime's last worker: if the cell cache's stock took in
            // more while busy than it keeps at idle, give it back once the
            // runtime has stayed idle for a moment (`tasks/alloc.rs`).
            if crate::tasks::cell_cache_has_surplus() {
                self.trim_at = Some(Instant::now() + TRIM_DELAY);
            }
            w.shared.check_idle();
        }
        self.observe_lifo_slots(w);
        loop {
            let timeout = self.park_timeout();
            self.dispatch_events(w, |core| {
                core.parker.park(timeout);
                if let Some(driver) = core.driver.as_mut() {
                    driver.process();
                }
            });
            if w.shared.is_shutdown() {
                self.stop_watching(w);
                return;
            }
            if !w.shared.idle.is_parked(w.index) {
                // A producer woke us and counted us as a searcher.
                self.is_searching = true;
                self.stop_watching(w);
                clear_woken(w);
                return;
            }
            if let Some(task) = self.steal_stuck_lifo(w) {
                w.local.push(task);
            }
            if w.has_local_work() {
                // Woken by a timer, an I/O event or a LIFO rescue: count
                // ourselves awake before clearing `woken`.
                self.is_searching = w.shared.idle.unpark_self(w.index);
                self.stop_watching(w);
                clear_woken(w);
                return;
            }
            // Woken, still counted parked, and nothing came of it (e.g. a
            // paused clock jumped to a deadline that only moved timers
            // between wheel levels, or the trim delay ran out): if the
            // runtime is idle now, say so again, or virtual time would stop
            // here.
            clear_woken(w);
            self.trim_if_due(w);
            if w.shared.idle.num_unparked() == 0 {
                w.shared.check_idle();
            }
            self.observe_lifo_slots(w);
        }
    }

    fn park_timeout(&mut self) -> Option<Duration> {
        let timer = self.driver.as_mut().and_then(|d| d.park_timeout());
        let watch = if self.is_watcher {
            self.lifo_steal_delay
        } else {
            None
        };
        let trim = self
            .trim_at
            .map(|at| at.saturating_duration_since(Instant::now()));
        [timer, watch, trim].into_iter().flatten().min()
    }

    /// Trims the cell cache if the trim delay armed by `park` has run out
    /// and every worker is still parked (if one is awake, it arms its own
    /// delay when it parks last).
    fn trim_if_due(&mut self, w: &WorkerRef) {
        let Some(at) = self.trim_at else { return };
        if Instant::now() < at {
            return;
        }
        self.trim_at = None;
        if w.shared.idle.num_unparked() == 0 {
            crate::tasks::trim_cell_cache();
        }
    }

    /// Called while parked: records other workers' occupied LIFO slots, and
    /// becomes (or stops being) a watcher. Watching is only worth its timed
    /// wake-ups while another worker is awake (and so could get stuck) with
    /// a task in its slot.
    fn observe_lifo_slots(&mut self, w: &WorkerRef) {
        self.watch.clear();
        if self.lifo_steal_delay.is_none() || w.shared.idle.num_unparked() == 0 {
            self.stop_watching(w);
            return;
        }
        self.note_occupied_slots(w);
        if !self.watch.is_empty() {
            self.last_occupied = Some(Instant::now());
        } else if !self.saw_occupied_lately() {
            // Nothing to watch, and nothing lately: park without a timeout
            // (a timed wait costs a kernel timer per park, and on a VM a
            // timer-register exit). Drop the role first, then look once
            // more: a worker filling its slot after our look either sees no
            // watcher and wakes a sleeper (`ensure_lifo_watcher`), or its
            // task is seen by this second look (idle.rs, `Watchers`).
            if !self.is_watcher {
                // Never counted during this park: a filler cannot have
                // skipped its wake-up because of us.
                return;
            }
            self.stop_watching(w);
            w.shared.watchers.before_last_look();
            self.note_occupied_slots(w);
            if self.watch.is_empty() {
                return;
            }
        }
        self.start_watching(w);
    }

    /// Whether a slot was occupied within the last `WATCH_LINGER` steal
    /// delays. Slots that are filled and emptied again every few hundred
    /// nanoseconds (a lock convoy) are mostly seen empty; without this
    /// lingering, each fill would wake the worker that just stopped
    /// watching (measured: twice the context switches).
    fn saw_occupied_lately(&self) -> bool {
        match (self.last_occupied, self.lifo_steal_delay) {
            (Some(at), Some(delay)) => at.elapsed() < delay * WATCH_LINGER,
            _ => false,
        }
    }

    fn note_occupied_slots(&mut self, w: &WorkerRef) {
        for (i, remote) in w.shared.remotes.iter().enumerate() {
            if i != w.index && remote.lifo.is_occupied() {
                self.watch.push((i, remote.poll_seq.load(Relaxed)));
            }
        }
    }

    fn start_watching(&mut self, w: &WorkerRef) {
        if self.lifo_steal_delay.is_some() && !self.is_watcher {
            self.is_watcher = true;
            w.shared.watchers.add();
        }
    }

    fn stop_watching(&mut self, w: &WorkerRef) {
        self.watch.clear();
        if self.is_watcher {
            self.is_watcher = false;
            w.shared.watchers.remove();
        }
    }

    /// Takes a LIFO task whose owner has not started a new poll since we
    /// noted it: the owner is stuck in a long poll.
    fn steal_stuck_lifo(&mut self, w: &WorkerRef) -> Option<Task> {
        for &(victim, seq) in &self.watch {
            let remote = &w.shared.remotes[victim];
            if remote.poll_seq.load(Relaxed) == seq
                && let Some(task) = remote.lifo.take()
            {
                self.counts.steals += 1;
                return Some(task);
            }
        }
        None
    }
}

/// Runs a steal into the local queue and counts the tasks it took (the one
/// returned and the batch moved into the local queue, which held `before`)
/// in `counter`. The queue is only measured after a success.
fn take_counted(
    w: &WorkerRef,
    counter: &mut u64,
    before: usize,
    steal: impl FnMut() -> super::queue::Steal<Task>,
) -> Option<Task> {
    let task = steal_retrying(steal)?;
    *counter += 1 + w.local.len().saturating_sub(before) as u64;
    Some(task)
}

/// Clears the worker's `woken` flag (see `Remote::woken`). It is almost
/// always already clear, and the flag shares its cache line with what other
/// workers read: look before writing. A flag set before the wake-up that
/// brought us here is seen by the load (the unpark orders it before); one
/// set after it comes with another unpark, and the next pass clears it.
fn clear_woken(w: &WorkerRef) {
    let woken = &w.shared.remotes[w.index].woken;
    if woken.load(Relaxed) {
        woken.store(false, SeqCst);
    }
}

/// The owner is the only writer of its poll sequence: a plain load and store
/// (no read-modify-write) is enough.
fn bump(seq: &crate::loom::atomic::AtomicUsize) {
    seq.store(seq.load(Relaxed).wrapping_add(1), Relaxed);
}

/// A small xorshift generator for picking steal victims.
struct FastRand(u64);

impl FastRand {
    fn new(seed: u64) -> FastRand {
        FastRand(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1)
    }

    fn below(&mut self, n: usize) -> usize {
        let mut x = self.0;
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        self.0 = x;
        ((x >> 32) as usize * n) >> 32
    }
}

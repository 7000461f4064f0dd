//! The multi-thread work-stealing scheduler: the state shared by all workers
//! (`Shared`), the `Handle` users spawn through, and how a task is queued
//! when it is spawned or woken.
//!
//! ## Why tasks hold a raw pointer to `Shared`
//!
//! Cloning an `Arc<Shared>` into every task would cost two contended atomic
//! operations per spawn on one cache line that every worker touches. A task
//! instead holds a `SchedRef`, a raw pointer, and `Shared` is kept alive by
//! this rule: **`Shared` outlives every bound task that is not complete.**
//! Runtime shutdown keeps its own `Arc` until `owned.live() == 0` (every task
//! bound to the owned list has completed). A task only reaches the scheduler
//! through `Schedule::schedule`, which is only called after a state
//! transition proved the task was not complete, so `Shared` is alive at that
//! moment; a wake from a thread that is not one of our workers then takes its
//! own strong count for the push and the wake-up it does. After completion a
//! task touches `Shared` only to hand a deferred release to its worker's
//! batch (`keep_for_release`, on that worker, whose own `Arc` keeps `Shared`
//! alive); wakes of a complete task do nothing.
//!
//! Owns queueing and worker wake-ups; the worker loop is in `worker.rs`, the
//! idle bookkeeping in `idle.rs`.

pub(crate) mod idle;
pub(crate) mod queue;
pub(crate) mod worker;

use crate::blocking::BlockingPool;
use crate::diag::metrics::{Counter, WorkerStats};
use crate::diag::timing::ThreadSlot;
use crate::diag::{Diagnostics, Reporter, RuntimeMetrics};
use crate::local::LocalShared;
use crate::loom::Mutex;
use crate::loom::atomic::{AtomicBool, AtomicUsize};
use crate::park::{DriverSlot, Unparker};
use crate::tasks::list::OwnedTasks;
use crate::tasks::{self, Id, JoinHandle, Meta, Notified, Schedule, SpawnMeta, Task};
use crate::{context, driver};
use crossbeam_utils::CachePadded;
use idle::{Idle, Watchers};
use queue::{Injector, LifoSlot, Stealer};
use std::any::Any;
use std::future::Future;
use std::panic::Location;
use std::ptr::NonNull;
use std::sync::atomic::Ordering::SeqCst;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::sync::{Arc, Weak};
use std::time::Duration;
use worker::WorkerRef;

/// Scheduler settings, fixed at build time.
#[derive(Debug, Clone)]
pub(crate) struct Config {
    pub(crate) global_queue_interval: u32,
    pub(crate) event_interval: u32,
    pub(crate) lifo_steal_delay: Option<Duration>,
    pub(crate) block_on_runs_tasks: bool,
}

/// The part of each worker that other threads touch.
pub(crate) struct Remote {
    pub(crate) stealer: Stealer<Notified<SchedRef>>,
    pub(crate) lifo: LifoSlot<Notified<SchedRef>>,
    /// Bumped by the owner at every poll; a thief that sees it unchanged
    /// across a grace period knows the owner is stuck in one poll.
    pub(crate) poll_seq: AtomicUsize,
    pub(crate) unpark: Unparker,
    /// Set by `Handle::unpark_worker` (a driver handing the worker something
    /// to look at) and cleared by the worker once it has looked: until then
    /// the runtime is not idle.
    pub(crate) woken: AtomicBool,
}

pub(crate) struct Shared {
    pub(crate) remotes: Box<[CachePadded<Remote>]>,
    pub(crate) injector: Injector<Notified<SchedRef>>,
    pub(crate) idle: Idle,
    pub(crate) owned: OwnedTasks,
    pub(crate) driver: Option<Arc<DriverSlot>>,
    pub(crate) blocking: BlockingPool,
    pub(crate) config: Config,
    shutdown: AtomicBool,
    /// Workers parked with a timeout to watch other workers' LIFO slots.
    /// Written at every park and wake-up, read at every LIFO push: on its
    /// own cache line, away from `shutdown` and `config`, which every worker
    /// reads per task (sharing a line with them cost ~10% on a mutex
    /// convoy, measured).
    pub(crate) watchers: Watchers,
    /// The `block_on` calls in progress, each with its idle flag.
    pub(crate) block_ons: Mutex<Vec<Arc<BlockOnState>>>,
    /// Debug mode: where reports go, and poll timing if it is on.
    pub(crate) diag: Diagnostics,
    /// Each worker's counters, on cache lines of their own.
    pub(crate) stats: Box<[CachePadded<WorkerStats>]>,
    /// Tasks that finished `block_on` calls took from the global queue.
    pub(crate) others_injector_takes: CachePadded<Counter>,
    /// The local-task owners (`local.rs`) that have spawned a local task,
    /// for `Handle::tasks` and the metrics.
    pub(crate) locals: Mutex<Vec<Weak<LocalShared>>>,
    /// Local tasks spawned by owners that have stopped.
    pub(crate) retired_local_spawned: Counter,
    /// Set when an unobserved panic shut the runtime down
    /// ([`UnhandledPanic::ShutdownRuntime`](crate::debug::UnhandledPanic)).
    fatal: AtomicBool,
}

/// One `block_on` call as the idle check sees it: `ACTIVE` while polling,
/// `IDLE` once it is about to park with no wake-up pending, `NOTIFIED` as
/// soon as its waker runs (set *before* the unpark, so a woken thread never
/// looks idle). Going idle is a compare-exchange from `ACTIVE`, so a wake-up
/// during the poll is never overwritten.
#[derive(Debug, Default)]
pub struct BlockOnState {
    state: AtomicUsize,
    /// Wakes the thread (to tell it the runtime shut down).
    pub(crate) unparker: Option<Unparker>,
    /// The thread's poll timing, when debug mode times polls.
    pub(crate) slot: Option<ThreadSlot>,
    /// Tasks the thread took from the global queue (written by it only).
    pub(crate) injector_takes: Counter,
}

impl BlockOnState {
    const ACTIVE: usize = 0;
    const IDLE: usize = 1;
    const NOTIFIED: usize = 2;

    pub(crate) fn new(unparker: Unparker, slot: Option<ThreadSlot>) -> BlockOnState {
        BlockOnState {
            state: AtomicUsize::new(Self::ACTIVE),
            unparker: Some(unparker),
            slot,
            injector_takes: Counter::default(),
        }
    }

    /// About to poll the future.
    ///
    /// A swap, not a store: when it replaces a `NOTIFIED` that the loop has
    /// not read (the thread came out of a park for an earlier wake-up), the
    /// read acquires every `notify` so far (they are swaps too, so each
    /// continues the release sequence of the ones before), and the poll
    /// that follows sees what those wakers published. With plain stores the
    /// poll could miss it, return `Pending`, and the call say "idle" while
    /// it was woken (loom: `woken_block_on_never_looks_idle`). A swap is the
    /// same instruction as a `SeqCst` store on x86.
    pub fn set_active(&self) {
        self.state.swap(Self::ACTIVE, SeqCst);
    }

    /// Returns false if a wake-up arrived since `set_active` (do not park).
    pub fn try_set_idle(&self) -> bool {
        self.state
            .compare_exchange(Self::ACTIVE, Self::IDLE, SeqCst, SeqCst)
            .is_ok()
    }

    /// The future's waker ran (before it unparks the thread). A swap, for
    /// `set_active`'s sake (see there).
    pub fn notify(&self) {
        self.state.swap(Self::NOTIFIED, SeqCst);
    }

    /// Parked with no wake-up pending.
    pub fn is_idle(&self) -> bool {
        self.state.load(SeqCst) == Self::IDLE
    }

    /// Whether the future was woken since `set_active`.
    pub fn is_notified(&self) -> bool {
        self.state.load(SeqCst) == Self::NOTIFIED
    }
}

/// A handle to a runtime: spawn onto it from any thread, enter its context.
///
/// ```
/// let rt = filch_executor::Builder::new().worker_threads(2).build().unwrap();
/// let handle = rt.handle().clone();
/// let from_thread = std::thread::spawn(move || handle.spawn(async { 1 + 1 }))
///     .join()
///     .unwrap();
/// assert_eq!(rt.block_on(from_thread).unwrap(), 2);
/// ```
#[derive(Clone)]
pub struct Handle {
    pub(crate) shared: Arc<Shared>,
}

/// A task's way back to its scheduler (see the module docs for why it is a
/// raw pointer and why that is sound).
pub(crate) struct SchedRef(NonNull<Shared>);

// SAFETY: `Shared` is `Sync`; the pointer is only dereferenced under the
// lifetime rule of the module docs, from any thread.
unsafe impl Send for SchedRef {}
// SAFETY: as above.
unsafe impl Sync for SchedRef {}

impl SchedRef {
    fn new(shared: &Arc<Shared>) -> SchedRef {
        SchedRef(NonNull::from(&**shared))
    }
}

impl SchedRef {
    fn shared(&self) -> &Shared {
        // SAFETY: the scheduler is asked for its diagnostics only while the
        // task is being polled or cancelled, so it is not complete and
        // `Shared` is alive (module docs).
        unsafe { self.0.as_ref() }
    }
}

impl Schedule for SchedRef {
    const DEFERS_YIELD: bool = true;

    #[inline]
    fn schedule(&self, task: Notified<Self>) {
        schedule_task(self.0, task, false);
    }

    #[inline]
    fn poll_timing(&self) -> Option<&Diagnostics> {
        let diag = &self.shared().diag;
        diag.timing.as_ref().map(|_| diag)
    }

    fn reporter(&self) -> Option<&Arc<Reporter>> {
        Some(&self.shared().diag.reporter)
    }

    #[inline]
    fn yield_now(&self, task: Notified<Self>) {
        schedule_task(self.0, task, true);
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        // SAFETY: `release` runs at completion, on a worker, on a `block_on`
        // thread running queued tasks (which holds a `Handle`) or in shutdown,
        // while the task is not yet complete in the owned list's eyes, so
        // `Shared` is alive (module docs).
        let shared = unsafe { self.0.as_ref() };
        let raw = shared.owned.release(task.raw())?;
        // SAFETY: the list hands its reference to the caller.
        Some(unsafe { Task::from_raw(raw.header_ptr()) })
    }

    #[inline]
    fn defer_release(&self, task: &Task<Self>) -> bool {
        // On one of our workers, a task of another shard waits in the
        // worker's batch (`ReleaseBatch`).
        context::with_release_batch(|batch| {
            let Some(batch) = batch else { return false };
            // SAFETY: as in `release`, which this replaces.
            let shared = unsafe { self.0.as_ref() };
            batch.is_for(&shared.owned) && batch.defer(&shared.owned, task.raw())
        })
    }

    fn keep_for_release(&self, task: Task<Self>) {
        context::with_release_batch(|batch| {
            // SAFETY: `defer_release` accepted the task on this thread, from
            // this thread's batch, and the harness calls this before it
            // returns: the batch is still installed, and while it is, its
            // owner (a worker's `WorkerRef`, or a loom `ModelBatch`) holds
            // an `Arc` of `Shared` (the worker uninstalls the batch before
            // its `WorkerRef` drops).
            let shared = unsafe { self.0.as_ref() };
            match batch {
                Some(batch) => batch.keep(&shared.owned, task.into_raw()),
                None => unreachable!("a deferred release found no batch"),
            }
        });
    }
}

fn schedule_task(ptr: NonNull<Shared>, task: Notified<SchedRef>, is_yield: bool) {
    context::with_worker(|worker| match worker {
        Some(w) if std::ptr::eq(w.shared_ptr(), ptr.as_ptr()) => w.schedule_local(task, is_yield),
        _ => {
            // SAFETY: the task is not complete (its state transition just
            // proved it), so the runtime still holds a strong count on
            // `Shared` (module docs); we add ours before using it, so it
            // stays alive through the push and the wake-up.
            let shared = unsafe {
                Arc::increment_strong_count(ptr.as_ptr());
                Arc::from_raw(ptr.as_ptr())
            };
            shared.schedule_remote(task);
        }
    });
}

impl Shared {
    pub(crate) fn new(
        remotes: Box<[CachePadded<Remote>]>,
        driver: Option<Arc<DriverSlot>>,
        blocking: BlockingPool,
        config: Config,
        diag: Diagnostics,
    ) -> Shared {
        let n = remotes.len();
        Shared {
            diag,
            stats: (0..n)
                .map(|_| CachePadded::new(WorkerStats::default()))
                .collect(),
            others_injector_takes: CachePadded::new(Counter::default()),
            fatal: AtomicBool::new(false),
            locals: Mutex::new(Vec::new()),
            retired_local_spawned: Counter::default(),
            remotes,
            injector: Injector::new(),
            idle: Idle::new(n),
            owned: OwnedTasks::new(n * 4, n),
            driver,
            blocking,
            config,
            shutdown: AtomicBool::new(false),
            watchers: Watchers::new(),
            block_ons: Mutex::new(Vec::new()),
        }
    }

    /// A task from the global queue for a `block_on` thread to run while its
    /// future waits, if that is enabled and one is queued. Only the global
    /// queue: a worker's own queues stay its own (and its LIFO slot keeps
    /// the message-passing order, see `worker.rs`).
    pub(crate) fn task_for_block_on(&self) -> Option<Notified<SchedRef>> {
        if !self.config.block_on_runs_tasks || self.is_shutdown() {
            return None;
        }
        queue::steal_retrying(|| self.injector.steal())
    }

    /// Queues a task from a thread that is not one of our workers.
    pub(crate) fn schedule_remote(&self, task: Notified<SchedRef>) {
        self.injector.push(task);
        self.notify_parked();
    }

    /// Wakes worker `index` (see [`Handle::unpark_worker`]).
    pub(crate) fn unpark_worker(&self, index: usize) {
        let remote = &self.remotes[index];
        remote.woken.store(true, SeqCst);
        remote.unpark.unpark();
    }

    /// Wakes a parked worker if work is waiting and nobody is looking.
    pub(crate) fn notify_parked(&self) {
        if let Some(index) = self.idle.worker_to_notify() {
            self.remotes[index].unpark.unpark();
        }
    }

    pub(crate) fn is_shutdown(&self) -> bool {
        self.shutdown.load(Acquire)
    }

    /// Whether any queue a searching worker looks at holds a task.
    pub(crate) fn has_queued_work(&self) -> bool {
        !self.injector.is_empty() || self.remotes.iter().any(|r| !r.stealer.is_empty())
    }

    fn spawn<F>(
        self: &Arc<Self>,
        future: F,
        location: &'static Location<'static>,
        meta: Option<Box<Meta>>,
        worker: Option<&WorkerRef>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let id = Id::next();
        let worker = worker.filter(|w| std::ptr::eq(w.shared_ptr(), Arc::as_ptr(self)));
        let shard = match worker {
            Some(w) => self.owned.shard_for_worker(w.index),
            None => self.owned.shard_for_outside(id.as_u64()),
        };
        let spawn_meta = SpawnMeta {
            id,
            shard,
            location,
            meta,
        };
        let name = spawn_meta.meta.as_ref().and_then(|m| m.name.as_deref());
        let future = crate::diag::trace::instrument(future, id, name, location);
        let (task, notified, join) = tasks::new_bound(future, SchedRef::new(self), spawn_meta);
        if self.owned.bind(task.raw()).is_err() {
            // Shutting down: the task is cancelled before it ever runs.
            drop(task);
            notified.cancel_and_run();
            return join;
        }
        // The list keeps the reference `task` stood for.
        std::mem::forget(task);
        match worker {
            Some(w) => w.schedule_local(notified, false),
            None => self.schedule_remote(notified),
        }
        join
    }

    /// Whether the runtime is quiescent: every worker parked with nothing
    /// handed to it, every `block_on` thread parked with no wake-up pending,
    /// and no blocking closure queued or running. Each counter is updated
    /// *before* the wake-up it stands for, so this never sees a woken thread
    /// as idle.
    pub(crate) fn is_idle(&self) -> bool {
        self.idle.num_unparked_seqcst() == 0
            && self.remotes.iter().all(|r| !r.woken.load(SeqCst))
            && self.blocking.num_active() == 0
            && self.block_ons.lock().iter().all(|b| b.is_idle())
    }

    /// Tells the driver when the runtime has just become idle.
    pub(crate) fn check_idle(self: &Arc<Self>) {
        if let Some(slot) = &self.driver
            && self.is_idle()
        {
            slot.driver().on_idle(&Handle {
                shared: self.clone(),
            });
        }
    }

    /// Stops the workers' loops and wakes them all.
    pub(crate) fn begin_shutdown(&self) {
        self.shutdown.store(true, Release);
        for remote in self.remotes.iter() {
            remote.unpark.unpark();
        }
        if let Some(timing) = &self.diag.timing {
            timing.stop_watchdog();
        }
    }

    /// An unobserved panic with `UnhandledPanic::ShutdownRuntime`: stop
    /// running tasks and make every `block_on` call panic.
    pub(crate) fn fatal_shutdown(&self) {
        self.fatal.store(true, SeqCst);
        self.begin_shutdown();
        for b in self.block_ons.lock().iter() {
            b.notify();
            if let Some(unparker) = &b.unparker {
                unparker.unpark();
            }
        }
    }

    /// Whether an unobserved panic shut the runtime down.
    pub(crate) fn is_fatal(&self) -> bool {
        self.fatal.load(SeqCst)
    }

    /// After the workers have stopped: cancels every task and drains every
    /// queue until no bound task is left alive.
    pub(crate) fn shutdown_tasks(&self) {
        self.owned.close_and_shutdown_all();
        loop {
            let mut drained = false;
            while let Some(task) = self.injector.steal().success() {
                task.run();
                drained = true;
            }
            for remote in self.remotes.iter() {
                if let Some(task) = remote.lifo.take() {
                    task.run();
                    drained = true;
                }
                while let Some(task) = remote.stealer.steal().success() {
                    task.run();
                    drained = true;
                }
            }
            if !drained && self.owned.live() == 0 {
                break;
            }
            if !drained {
                // A wake from another thread is between its state transition
                // and its push: the task will appear in the injector.
                crate::loom::thread::yield_now();
            }
        }
        if let Some(slot) = &self.driver {
            slot.driver().shutdown();
        }
    }
}

impl Handle {
    /// The handle of the runtime the current thread is in.
    ///
    /// # Panics
    /// Outside a runtime (not on a worker, not inside `block_on`, no
    /// [`Handle::enter`] guard alive). Use [`try_current`](Self::try_current)
    /// to get an error instead.
    ///
    /// ```
    /// let rt = filch_executor::Builder::new().worker_threads(1).build().unwrap();
    /// rt.block_on(async {
    ///     let handle = filch_executor::Handle::current();
    ///     std::thread::spawn(move || handle.spawn(async {})).join().unwrap();
    /// });
    /// ```
    #[track_caller]
    pub fn current() -> Handle {
        match Handle::try_current() {
            Some(h) => h,
            None => panic!("{}", NO_RUNTIME),
        }
    }

    /// The handle of the runtime the current thread is in, if any.
    ///
    /// ```
    /// assert!(filch_executor::Handle::try_current().is_none());
    /// ```
    pub fn try_current() -> Option<Handle> {
        context::with_handle(|h| h.cloned())
    }

    /// Spawns a task onto this runtime (asyncio's `loop.create_task`). Works
    /// from any thread, inside or outside the runtime.
    ///
    /// ```
    /// let rt = filch_executor::Builder::new().worker_threads(1).build().unwrap();
    /// let h = rt.handle().spawn(async { "done" });
    /// assert_eq!(rt.block_on(h).unwrap(), "done");
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let location = Location::caller();
        context::with_worker(|w| self.shared.spawn(future, location, None, w))
    }

    /// Runs a blocking function on the blocking pool (asyncio's
    /// `to_thread`).
    ///
    /// ```
    /// let rt = filch_executor::Builder::new().worker_threads(1).build().unwrap();
    /// let h = rt.handle().spawn_blocking(|| std::fs::metadata(".").is_ok());
    /// assert!(rt.block_on(h).unwrap());
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.shared
            .blocking
            .spawn(f, self, Location::caller(), None)
    }

    /// Makes this runtime the current one for this thread until the guard
    /// is dropped, so that `spawn` and the drivers work here.
    ///
    /// ```
    /// let rt = filch_executor::Builder::new().worker_threads(1).build().unwrap();
    /// let _guard = rt.handle().enter();
    /// let h = filch_executor::spawn(async { 5 });
    /// drop(_guard);
    /// assert_eq!(rt.block_on(h).unwrap(), 5);
    /// ```
    pub fn enter(&self) -> context::EnterGuard {
        context::enter_handle(self.clone())
    }

    /// Driver component `T` of this runtime (used by driver crates to find
    /// their state).
    ///
    /// ```
    /// let rt = filch_executor::Builder::new().worker_threads(1).build().unwrap();
    /// assert!(rt.handle().driver::<u32>().is_none());
    /// ```
    pub fn driver<T: Any + Send + Sync>(&self) -> Option<&T> {
        driver::lookup::<T>(&**self.shared.driver.as_ref()?.driver())
    }

    /// Wakes worker `index` (used by a driver that handed it new work, such
    /// as an earlier timer deadline).
    ///
    /// ```
    /// let rt = filch_executor::Builder::new().worker_threads(2).build().unwrap();
    /// rt.handle().unpark_worker(1);
    /// ```
    pub fn unpark_worker(&self, index: usize) {
        self.shared.unpark_worker(index);
    }

    /// The number of worker threads.
    ///
    /// ```
    /// let rt = filch_executor::Builder::new().worker_threads(3).build().unwrap();
    /// assert_eq!(rt.handle().num_workers(), 3);
    /// ```
    pub fn num_workers(&self) -> usize {
        self.shared.remotes.len()
    }

    /// Tasks spawned and not yet completed.
    ///
    /// ```
    /// let rt = filch_executor::Builder::new().worker_threads(1).build().unwrap();
    /// let h = rt.spawn(std::future::pending::<()>());
    /// assert_eq!(rt.handle().num_alive_tasks(), 1);
    /// h.cancel();
    /// let _ = rt.block_on(h);
    /// // The task leaves the count as it completes.
    /// while rt.handle().num_alive_tasks() != 0 {
    ///     std::thread::yield_now();
    /// }
    /// ```
    pub fn num_alive_tasks(&self) -> usize {
        let mut live = self.shared.owned.live();
        crate::local::for_each_local_list(self, |list| live += list.live());
        live
    }

    /// A snapshot of every task that has not completed (asyncio's
    /// `all_tasks()`): id, name, spawn location, state, polls and age, in no
    /// particular order. Takes each shard lock of the task list in turn
    /// (never all at once, so spawning goes on meanwhile), which makes it a
    /// debugging tool, not something for a hot path. Blocking-pool closures
    /// are not tasks of the list and are not included.
    ///
    /// ```
    /// let rt = filch_executor::Executor::new().unwrap();
    /// let h = filch_executor::task::Builder::new()
    ///     .name("sleeper")
    ///     .spawn_on(std::future::pending::<()>(), rt.handle());
    /// let tasks = rt.handle().tasks();
    /// assert_eq!(tasks.len(), 1);
    /// assert_eq!(tasks[0].name(), Some("sleeper"));
    /// assert_eq!(tasks[0].id(), h.id());
    /// assert!(tasks[0].location().file().ends_with(".rs"));
    /// h.cancel();
    /// ```
    #[doc(alias = "all_tasks")]
    pub fn tasks(&self) -> Vec<crate::tasks::TaskInfo> {
        let mut out = Vec::new();
        self.shared
            .owned
            .for_each(|h| out.push(crate::tasks::TaskInfo::of(h)));
        crate::local::for_each_local_list(self, |list| {
            list.for_each(|h| out.push(crate::tasks::TaskInfo::of(h)))
        });
        out
    }

    /// asyncio's name for [`tasks`](Self::tasks).
    ///
    /// ```
    /// let rt = filch_executor::Executor::new().unwrap();
    /// assert!(rt.handle().all_tasks().is_empty());
    /// ```
    pub fn all_tasks(&self) -> Vec<crate::tasks::TaskInfo> {
        self.tasks()
    }

    /// A task dump: a summary line of the runtime, then one line per live
    /// task (as [`tasks`](Self::tasks) sees them), oldest first.
    ///
    /// ```
    /// let rt = filch_executor::Executor::new().unwrap();
    /// let h = filch_executor::task::Builder::new()
    ///     .name("server")
    ///     .spawn_on(std::future::pending::<()>(), rt.handle());
    /// let dump = rt.handle().dump();
    /// assert!(dump.contains("\"server\""), "{dump}");
    /// assert!(dump.contains(&format!("task {}", h.id())), "{dump}");
    /// h.cancel();
    /// ```
    pub fn dump(&self) -> String {
        use std::fmt::Write;
        let mut tasks = self.tasks();
        tasks.sort_by_key(|t| std::cmp::Reverse(t.age()));
        let m = self.metrics();
        let mut out = String::new();
        let n = |count: usize, what: &str| {
            format!("{count} {what}{}", if count == 1 { "" } else { "s" })
        };
        let _ = writeln!(
            out,
            "filch runtime: {} ({} awake), {}, {} spawned, {} queued globally, {}",
            n(m.num_workers(), "worker"),
            self.num_unparked_workers(),
            n(tasks.len(), "live task"),
            m.spawned_tasks(),
            m.injection_queue_depth(),
            n(m.blocking_threads(), "blocking thread"),
        );
        for task in &tasks {
            let _ = writeln!(out, "  {task}");
        }
        out
    }

    /// The runtime's metrics: a live view whose getters read the current
    /// counts (see [`RuntimeMetrics`](crate::debug::RuntimeMetrics)).
    ///
    /// ```
    /// let rt = filch_executor::Executor::new().unwrap();
    /// rt.block_on(rt.spawn(async {})).unwrap();
    /// assert_eq!(rt.handle().metrics().spawned_tasks(), 1);
    /// ```
    pub fn metrics(&self) -> RuntimeMetrics {
        RuntimeMetrics::new(self.clone())
    }

    /// Workers not parked right now (a hint for drivers and metrics).
    ///
    /// ```
    /// let rt = filch_executor::Builder::new().worker_threads(2).build().unwrap();
    /// assert!(rt.handle().num_unparked_workers() <= 2);
    /// ```
    pub fn num_unparked_workers(&self) -> usize {
        self.shared.idle.num_unparked()
    }

    /// Whether the runtime is idle right now: every worker parked, no
    /// `block_on` future and no blocking closure running (a hint: it may
    /// change at once).
    ///
    /// ```
    /// let rt = filch_executor::Builder::new().worker_threads(1).build().unwrap();
    /// rt.block_on(async {
    ///     // This block_on future is running, so the runtime is not idle.
    ///     assert!(!filch_executor::Handle::current().is_idle());
    /// });
    /// ```
    pub fn is_idle(&self) -> bool {
        self.shared.is_idle()
    }

    /// Blocking-pool closures queued or running right now.
    ///
    /// ```
    /// let rt = filch_executor::Builder::new().worker_threads(1).build().unwrap();
    /// assert_eq!(rt.handle().num_blocking_tasks(), 0);
    /// ```
    pub fn num_blocking_tasks(&self) -> usize {
        self.shared.blocking.num_active()
    }

    pub(crate) fn spawn_with_meta<F>(
        &self,
        future: F,
        location: &'static Location<'static>,
        meta: Option<Box<Meta>>,
    ) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        context::with_worker(|w| self.shared.spawn(future, location, meta, w))
    }
}

impl std::fmt::Debug for Handle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Handle")
            .field("workers", &self.num_workers())
            .field("idle", &self.shared.idle)
            .finish()
    }
}

pub(crate) const NO_RUNTIME: &str = "there is no filch runtime on this thread: call this from \
     inside `filch::run` or `Runtime::block_on` (or a task they spawned), or keep a runtime \
     `Handle` and call `Handle::spawn` / `Handle::enter` from other threads";

/// Spawns a task on the current runtime (asyncio's `create_task`).
///
/// # Panics
/// Outside a runtime; see [`Handle::current`].
///
/// ```
/// let rt = filch_executor::Builder::new().worker_threads(2).build().unwrap();
/// let sum = rt.block_on(async {
///     let tasks: Vec<_> = (0..10).map(|i| filch_executor::spawn(async move { i })).collect();
///     let mut sum = 0;
///     for t in tasks {
///         sum += t.await.unwrap();
///     }
///     sum
/// });
/// assert_eq!(sum, 45);
/// ```
#[track_caller]
pub fn spawn<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + Send + 'static,
    F::Output: Send + 'static,
{
    let location = Location::caller();
    context::with_worker(|w| match w {
        // Fast path: spawning from a worker needs no handle lookup.
        Some(w) => w.shared().spawn(future, location, None, Some(w)),
        None => context::with_handle(|h| match h {
            Some(h) => h.shared.spawn(future, location, None, None),
            None => panic!("{}", NO_RUNTIME),
        }),
    })
}

/// Runs a blocking function on the current runtime's blocking pool
/// (asyncio's `to_thread`): a bounded pool of threads that are reused and
/// retire after an idle keep-alive, so async workers never block.
///
/// # Panics
/// Outside a runtime; see [`Handle::current`].
///
/// ```
/// let rt = filch_executor::Builder::new().worker_threads(1).build().unwrap();
/// let n = rt.block_on(async {
///     filch_executor::spawn_blocking(|| (1..=10u64).product::<u64>()).await.unwrap()
/// });
/// assert_eq!(n, 3_628_800);
/// ```
#[track_caller]
pub fn spawn_blocking<F, R>(f: F) -> JoinHandle<R>
where
    F: FnOnce() -> R + Send + 'static,
    R: Send + 'static,
{
    let location = Location::caller();
    context::with_handle(|h| match h {
        Some(h) => h.shared.blocking.spawn(f, h, location, None),
        None => panic!("{}", NO_RUNTIME),
    })
}

/// Spawns a task whose future need not be `Send` (an `Rc`, a `RefCell`, a
/// client that is not thread-safe) on the current thread, which alone will
/// ever poll it or drop it: tokio's `LocalSet` and smol's `LocalExecutor`
/// without a second runtime. Works on the multi-thread runtime, from any
/// task on a worker and from inside `block_on`.
///
/// The task is pinned to the calling thread and never stolen: on a worker,
/// for as long as the runtime runs (it is cancelled, on that worker, when
/// the runtime shuts down); on a thread in `block_on` (including a task the
/// `block_on` thread runs for the pool, see `Builder::block_on_runs_tasks`),
/// until that call returns, when it is cancelled on that thread. A wake-up
/// from another thread is handed to the owner, which runs it when it next
/// looks for work. The `JoinHandle` is `Send` when the output is, so any
/// task may await it or cancel it.
///
/// # Panics
/// On a thread that runs no tasks of a runtime (outside `block_on` and the
/// workers, such as a plain thread holding a `Handle::enter` guard, or a
/// `spawn_blocking` closure), with a message that says so.
///
/// ```
/// use std::cell::RefCell;
/// use std::rc::Rc;
///
/// let rt = filch_executor::Executor::new().unwrap();
/// let total = rt.block_on(async {
///     let shared = Rc::new(RefCell::new(0)); // not Send
///     let tasks: Vec<_> = (1..=10)
///         .map(|i| {
///             let shared = shared.clone();
///             filch_executor::spawn_local(async move {
///                 filch_executor::yield_now().await;
///                 *shared.borrow_mut() += i;
///             })
///         })
///         .collect();
///     for t in tasks {
///         t.await.unwrap();
///     }
///     *shared.borrow()
/// });
/// assert_eq!(total, 55);
/// ```
#[track_caller]
pub fn spawn_local<F>(future: F) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    crate::local::spawn_local(future, Location::caller(), None)
}

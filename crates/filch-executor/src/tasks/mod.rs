//! Tasks: the unit the scheduler runs.
//!
//! A spawned future lives in one allocation with its header (state word,
//! poll count, vtable, owned-list links, id), its spawn location and time,
//! its scheduler handle, its join waker slot and its output (`core.rs`). Who may touch what is decided
//! by one atomic word (`state.rs`); the harness applies those decisions
//! (`harness.rs`). Wakers point at the header, so they cost no allocation
//! (`waker.rs`). This module owns the typed handles on a task's references
//! (`Task`, `Notified`, `JoinHandle`) and the [`Schedule`] seam through which a
//! task reaches whatever runs it; it must not know how queues work.

mod alloc;
// The cell cache's idle trim, for the worker that parks last (`alloc`).
pub(crate) use alloc::{has_surplus as cell_cache_has_surplus, trim as trim_cell_cache};
mod core;
pub(crate) mod current;
mod error;
mod harness;
mod join;
pub(crate) mod list;
pub(crate) mod raw;
pub(crate) mod state;
mod waker;

pub use self::core::Meta;
pub use error::JoinError;
pub(crate) use error::panic_message;
pub use join::JoinHandle;

use self::core::Cell;
pub(crate) use self::core::Header;
use crate::diag::{Diagnostics, Reporter};
use raw::RawTask;
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::num::NonZeroU64;
use std::panic::Location;
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::Duration;

/// The unique id of a task within the process.
///
/// ```
/// # let rt = filch_executor::Builder::new().worker_threads(1).build().unwrap();
/// # rt.block_on(async {
/// let handle = filch_executor::spawn(async {});
/// println!("spawned task {}", handle.id());
/// # });
/// ```
#[derive(Copy, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Id(NonZeroU64);

impl Id {
    /// A fresh id. Threads take ids in blocks from one global counter, so
    /// spawning does not contend on it.
    pub(crate) fn next() -> Id {
        const BLOCK: u64 = 256;
        // Not through the `loom` shim, and not a protocol: uniqueness only
        // needs the atomicity of `fetch_add` (a `static` cannot hold a loom
        // atomic anyway).
        static NEXT_BLOCK: AtomicU64 = AtomicU64::new(1);
        thread_local! {
            static RANGE: std::cell::Cell<(u64, u64)> = const { std::cell::Cell::new((0, 0)) };
        }
        let id = RANGE.with(|range| {
            let (next, end) = range.get();
            if next < end {
                range.set((next + 1, end));
                next
            } else {
                let start = NEXT_BLOCK.fetch_add(BLOCK, Relaxed);
                range.set((start + 1, start + BLOCK));
                start
            }
        });
        Id(NonZeroU64::new(id).expect("task id counter wrapped"))
    }

    /// The id as a number.
    ///
    /// ```
    /// # let rt = filch_executor::Builder::new().worker_threads(1).build().unwrap();
    /// # rt.block_on(async {
    /// assert!(filch_executor::spawn(async {}).id().as_u64() > 0);
    /// # });
    /// ```
    pub fn as_u64(self) -> u64 {
        self.0.get()
    }
}

impl fmt::Display for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

impl fmt::Debug for Id {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Id({})", self.0)
    }
}

/// How a task reaches whatever runs it. Implemented by the multi-thread
/// scheduler and the blocking pool (and by mocks in the loom models).
pub trait Schedule: Sized + 'static {
    /// The task was woken (or cancelled while idle): queue it.
    fn schedule(&self, task: Notified<Self>);

    /// Whether this scheduler takes a task's own `yield_now` through
    /// [`yield_now`](Self::yield_now) (the worker scheduler defers it until
    /// its other work ran; see `sched/worker.rs`). `false`: `yield_now`
    /// keeps to wakers (the default).
    const DEFERS_YIELD: bool = false;

    /// The task was woken during its own poll: queue it behind the others.
    ///
    /// With [`DEFERS_YIELD`](Self::DEFERS_YIELD), a task's own yield arrives
    /// here *held* (still `RUNNING`, `state.rs`): like every `Notified`, it
    /// must be run (at the latest by the shutdown's drain), never dropped
    /// unrun, or its future would never be dropped.
    fn yield_now(&self, task: Notified<Self>) {
        self.schedule(task);
    }

    /// The task completed: take it out of the owned list, returning the
    /// list's reference if it held one. Not called if
    /// [`defer_release`](Self::defer_release) returned true.
    fn release(&self, task: &Task<Self>) -> Option<Task<Self>>;

    /// Asked first when the task completed, before its joiner is woken:
    /// true if the scheduler releases it later, in a batch. It must then no
    /// longer count the task as alive, and the harness, once it no longer
    /// touches the task, hands its reference to
    /// [`keep_for_release`](Self::keep_for_release) instead of dropping it.
    /// The default: false, release in place.
    fn defer_release(&self, task: &Task<Self>) -> bool {
        let _ = task;
        false
    }

    /// Takes the harness's reference to a task whose release
    /// [`defer_release`](Self::defer_release) accepted. Only called after
    /// it returned true; the default releases in place.
    fn keep_for_release(&self, task: Task<Self>) {
        drop(self.release(&task));
    }

    /// The runtime's diagnostics if polls are timed (debug mode), asked
    /// before every poll: `None` (the default) costs one branch.
    fn poll_timing(&self) -> Option<&Diagnostics> {
        None
    }

    /// Where a panic of this task goes if nobody observes it; asked only
    /// when the task panicked.
    fn reporter(&self) -> Option<&Arc<Reporter>> {
        None
    }
}

/// One counted reference to a task.
pub struct Task<S: 'static> {
    raw: RawTask,
    _p: PhantomData<S>,
}

/// The reference that sits in a run queue: whoever holds it may run the task.
pub struct Notified<S: 'static>(Task<S>);

// SAFETY: a task's future and output are `Send` (spawn requires it), and
// every shared field is synchronized by the state word or the list locks.
unsafe impl<S> Send for Task<S> {}
// SAFETY: `&Task` only exposes the header's atomic and immutable fields.
unsafe impl<S> Sync for Task<S> {}

impl<S: 'static> Task<S> {
    /// # Safety
    /// The caller transfers one reference of the live task `ptr`.
    pub(crate) unsafe fn from_raw(ptr: NonNull<Header>) -> Task<S> {
        Task {
            // SAFETY: per the contract, `ptr` is live.
            raw: unsafe { RawTask::from_raw(ptr) },
            _p: PhantomData,
        }
    }

    pub(crate) fn raw(&self) -> RawTask {
        self.raw
    }

    pub(crate) fn into_raw(self) -> RawTask {
        let raw = self.raw;
        std::mem::forget(self);
        raw
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.raw.header().id
    }
}

impl<S: 'static> Drop for Task<S> {
    fn drop(&mut self) {
        self.raw.drop_reference();
    }
}

impl<S: 'static> Notified<S> {
    /// Runs the task (poll, or cancel if it was cancelled).
    pub fn run(self) {
        self.0.into_raw().poll();
    }

    /// The task's id.
    pub fn id(&self) -> Id {
        self.0.id()
    }

    /// Runs the task as cancelled: its future is dropped without a poll.
    pub(crate) fn cancel_and_run(self) {
        self.0.raw.header().state.set_cancelled();
        self.run();
    }

    /// Whether this is the task whose header is `ptr`.
    pub(crate) fn is(&self, ptr: *const Header) -> bool {
        std::ptr::eq(self.0.raw.header_ptr().as_ptr(), ptr)
    }

    /// For queues that store raw pointers (the LIFO slot).
    pub(crate) fn into_ptr(self) -> NonNull<Header> {
        self.0.into_raw().header_ptr()
    }

    /// # Safety
    /// `ptr` came from `into_ptr` of a `Notified<S>` and is used once.
    pub(crate) unsafe fn from_ptr(ptr: NonNull<Header>) -> Notified<S> {
        // SAFETY: per the contract, this is the Notified reference.
        Notified(unsafe { Task::from_raw(ptr) })
    }
}

impl<S> fmt::Debug for Task<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Task").field("id", &self.id()).finish()
    }
}

impl<S> fmt::Debug for Notified<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified").field("id", &self.id()).finish()
    }
}

/// A snapshot of one task: from [`Handle::tasks`](crate::Handle::tasks)
/// (asyncio's `all_tasks()`), [`task::current`](crate::task::current)
/// (asyncio's `current_task()`), and debug reports.
///
/// ```
/// let rt = filch_executor::Executor::new().unwrap();
/// let info = rt.block_on(async {
///     filch_executor::task::Builder::new()
///         .name("fetch")
///         .spawn(async { filch_executor::task::current().unwrap() })
///         .await
///         .unwrap()
/// });
/// assert_eq!(info.name(), Some("fetch"));
/// assert_eq!(info.state(), filch_executor::task::TaskState::Running);
/// assert_eq!(info.polls(), 1);
/// assert!(info.location().file().ends_with(".rs"));
/// ```
#[derive(Debug, Clone)]
pub struct TaskInfo {
    id: Id,
    name: Option<Arc<str>>,
    location: &'static Location<'static>,
    state: TaskState,
    polls: u64,
    age: Duration,
}

/// What a task is doing (see [`TaskInfo::state`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum TaskState {
    /// Waiting for a wake-up.
    Idle,
    /// Queued to run.
    Scheduled,
    /// Being polled right now, or between two polls of a loop of
    /// [`yield_now`](crate::yield_now) on a worker (the task keeps its claim
    /// to run across its own yield, see `tasks/state.rs`).
    Running,
    /// Completed (only in reports about a task that has finished, such as an
    /// unobserved panic; [`Handle::tasks`](crate::Handle::tasks) lists only
    /// tasks that have not).
    Finished,
}

impl TaskState {
    /// The state in one word, as task dumps write it.
    ///
    /// ```
    /// assert_eq!(filch_executor::task::TaskState::Scheduled.as_str(), "scheduled");
    /// ```
    pub fn as_str(self) -> &'static str {
        match self {
            TaskState::Idle => "idle",
            TaskState::Scheduled => "scheduled",
            TaskState::Running => "running",
            TaskState::Finished => "finished",
        }
    }
}

impl fmt::Display for TaskState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl TaskInfo {
    pub(crate) fn of(header: &Header) -> TaskInfo {
        let snapshot = header.state.load();
        let state = if snapshot.is_complete() {
            TaskState::Finished
        } else if snapshot.is_running() {
            TaskState::Running
        } else if snapshot.is_notified() {
            TaskState::Scheduled
        } else {
            TaskState::Idle
        };
        let origin = header.origin();
        TaskInfo {
            id: header.id,
            name: header.meta.as_ref().and_then(|m| m.name.clone()),
            location: origin.location,
            state,
            polls: header.polls(),
            age: crate::diag::clock::since(origin.spawned_ns),
        }
    }

    /// The task's id.
    ///
    /// ```
    /// # let rt = filch_executor::Executor::new().unwrap();
    /// # rt.block_on(async {
    /// let h = filch_executor::spawn(async { filch_executor::task::current().unwrap().id() });
    /// let id = h.id();
    /// assert_eq!(h.await.unwrap(), id);
    /// # });
    /// ```
    pub fn id(&self) -> Id {
        self.id
    }

    /// The name given at spawn ([`task::Builder::name`](crate::task::Builder::name)).
    ///
    /// ```
    /// # let rt = filch_executor::Executor::new().unwrap();
    /// # rt.block_on(async {
    /// let h = filch_executor::spawn(async { filch_executor::task::current().unwrap() });
    /// assert_eq!(h.await.unwrap().name(), None);
    /// # });
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.name.as_deref()
    }

    /// Where the task was spawned (the caller of `spawn`).
    ///
    /// ```
    /// # let rt = filch_executor::Executor::new().unwrap();
    /// # rt.block_on(async {
    /// let info = filch_executor::spawn(async { filch_executor::task::current().unwrap() })
    ///     .await
    ///     .unwrap();
    /// assert_eq!(info.location().line(), line!() - 3);
    /// # });
    /// ```
    pub fn location(&self) -> &'static Location<'static> {
        self.location
    }

    /// What the task was doing when the snapshot was taken.
    ///
    /// ```
    /// let rt = filch_executor::Executor::new().unwrap();
    /// let h = rt.spawn(std::future::pending::<()>());
    /// let info = rt.handle().tasks().into_iter().find(|t| t.id() == h.id()).unwrap();
    /// assert_ne!(info.state(), filch_executor::task::TaskState::Finished);
    /// h.cancel();
    /// ```
    pub fn state(&self) -> TaskState {
        self.state
    }

    /// How many times the task has been polled.
    ///
    /// ```
    /// # let rt = filch_executor::Executor::new().unwrap();
    /// # rt.block_on(async {
    /// let polls = filch_executor::spawn(async {
    ///     filch_executor::yield_now().await;
    ///     filch_executor::task::current().unwrap().polls()
    /// });
    /// assert_eq!(polls.await.unwrap(), 2);
    /// # });
    /// ```
    pub fn polls(&self) -> u64 {
        self.polls
    }

    /// How long ago the task was spawned. The spawn time is read from the
    /// system's coarse monotonic clock (2 ns instead of 16 on Linux), so an
    /// age may read up to one kernel tick (1 to 4 ms) high, never low.
    ///
    /// ```
    /// # let rt = filch_executor::Executor::new().unwrap();
    /// let h = rt.spawn(std::future::pending::<()>());
    /// std::thread::sleep(std::time::Duration::from_millis(5));
    /// let info = rt.handle().tasks().into_iter().find(|t| t.id() == h.id()).unwrap();
    /// assert!(info.age() >= std::time::Duration::from_millis(5));
    /// h.cancel();
    /// ```
    pub fn age(&self) -> Duration {
        self.age
    }
}

impl fmt::Display for TaskInfo {
    /// `task 12 "fetch" (running, 3 polls, age 1.2s, spawned at src/main.rs:4:5)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task {}", self.id)?;
        if let Some(name) = &self.name {
            write!(f, " {name:?}")?;
        }
        write!(
            f,
            " ({}, {} poll{}, age {:.1?}, spawned at {})",
            self.state,
            self.polls,
            if self.polls == 1 { "" } else { "s" },
            self.age,
            self.location
        )
    }
}

/// What spawning needs besides the future.
pub(crate) struct SpawnMeta {
    pub(crate) id: Id,
    pub(crate) shard: u32,
    pub(crate) location: &'static Location<'static>,
    pub(crate) meta: Option<Box<Meta>>,
}

/// Allocates a task owned by a list: returns the list's reference, the
/// `Notified` for the run queue, and the join handle.
pub(crate) fn new_bound<F, S>(
    future: F,
    scheduler: S,
    m: SpawnMeta,
) -> (Task<S>, Notified<S>, JoinHandle<F::Output>)
where
    F: Future + 'static,
    S: Schedule,
{
    let ptr = Cell::allocate(future, scheduler, m.id, m.shard, m.location, m.meta, 3);
    // SAFETY: the state was created with three references, handed out here
    // one each; the join handle's output type is the future's.
    unsafe {
        (
            Task::from_raw(ptr),
            Notified(Task::from_raw(ptr)),
            JoinHandle::new(RawTask::from_raw(ptr)),
        )
    }
}

/// Allocates a task that no list owns (for the loom models).
#[cfg(loom)]
#[track_caller]
pub fn new_unbound<F, S>(future: F, scheduler: S, id: Id) -> (Notified<S>, JoinHandle<F::Output>)
where
    F: Future + 'static,
    S: Schedule,
{
    new_unbound_with(future, scheduler, id, Location::caller(), None)
}

/// Allocates a task that no list owns (the blocking pool's), with its spawn
/// location and metadata.
pub(crate) fn new_unbound_with<F, S>(
    future: F,
    scheduler: S,
    id: Id,
    location: &'static Location<'static>,
    meta: Option<Box<Meta>>,
) -> (Notified<S>, JoinHandle<F::Output>)
where
    F: Future + 'static,
    S: Schedule,
{
    let ptr = Cell::allocate(future, scheduler, id, 0, location, meta, 2);
    // SAFETY: two references, handed out one each.
    unsafe {
        (
            Notified(Task::from_raw(ptr)),
            JoinHandle::new(RawTask::from_raw(ptr)),
        )
    }
}

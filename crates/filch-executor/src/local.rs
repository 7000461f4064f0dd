//! `spawn_local`: tasks whose future is not `Send` (an `Rc`, a `RefCell`, a
//! client that is not thread-safe), on the multi-thread runtime. A local
//! task is pinned to the thread that spawned it — a worker, or a thread in
//! `block_on` — and only that thread ever polls it or drops its future.
//!
//! Each such thread (the *owner*) gets, the first time one of its tasks
//! calls `spawn_local`, a [`LocalRunner`] on its own stack: a run queue only
//! it touches, and a [`LocalShared`] that other threads reach through the
//! tasks' scheduler handles: the inbox for wake-ups from other threads, the
//! owner's own list of its local tasks (so that shutdown drops them on the
//! owner, never on the thread dropping the runtime), and how to wake the
//! owner. A wake on the owner thread pushes to the run queue; a wake from
//! elsewhere pushes to the inbox and unparks the owner, which drains the
//! inbox when it runs out of other work, at its maintenance ticks, and when
//! it wakes up. The inbox's hand-off (push, flag, unpark against drain,
//! check, park) is modelled in `loom-tests/tests/executor_local.rs`.
//!
//! Local tasks never enter a stealable queue (a worker's deque or LIFO slot,
//! the global queue), so no other thread can run them. Ordinary tasks do not
//! pay for any of this: `spawn` is untouched, and a worker looks at its
//! local run queue only where it would look at the global queue.
//!
//! When the owner stops — a worker at runtime shutdown, a `block_on` call
//! when it returns — it cancels its local tasks and drops their futures on
//! its own thread.
//!
//! Owns the local queues, the inbox and the owner's shutdown of its tasks;
//! it must not decide when a worker polls them (that is `worker.rs`).

use crate::diag::{Diagnostics, Reporter};
use crate::loom::Mutex;
use crate::loom::atomic::AtomicBool;
use crate::park::Unparker;
use crate::sched::{BlockOnState, Shared};
use crate::tasks::list::OwnedTasks;
use crate::tasks::{self, Id, JoinHandle, Meta, Notified, Schedule, SpawnMeta, Task};
use crate::{Handle, context};
use std::cell::{Cell, OnceCell, RefCell};
use std::collections::VecDeque;
use std::future::Future;
use std::panic::Location;
use std::ptr::{self, NonNull};
use std::sync::atomic::Ordering::{AcqRel, Acquire, Release};
use std::sync::{Arc, Weak};

/// A queue of items pushed from any thread and drained by one: a locked
/// list and a flag that says it may be non-empty, so that the drainer's
/// frequent look is one load.
///
/// The protocol: `push` appends under the lock and sets the flag (release)
/// before it unlocks; `drain` clears the flag (acquire) before it takes the
/// list under the lock. An item is therefore always either in a list the
/// drainer takes after seeing the flag, or followed by a flag that a later
/// look sees. The pusher wakes the drainer after `push`; the drainer looks
/// (`is_pending`) before it parks, and the parker does not lose a wake-up
/// that comes between the two (park.rs).
pub struct Inbox<T> {
    list: Mutex<Vec<T>>,
    pending: AtomicBool,
}

impl<T> Default for Inbox<T> {
    fn default() -> Self {
        Inbox {
            list: Mutex::new(Vec::new()),
            pending: AtomicBool::new(false),
        }
    }
}

impl<T> Inbox<T> {
    /// Appends `item` (any thread).
    pub fn push(&self, item: T) {
        let mut list = self.list.lock();
        list.push(item);
        self.pending.store(true, Release);
    }

    /// Whether items may be waiting (a hint for the drainer).
    pub fn is_pending(&self) -> bool {
        self.pending.load(Acquire)
    }

    /// Takes every item pushed so far (the drainer only).
    pub fn drain(&self) -> Vec<T> {
        // A compare-exchange, not a `swap`: the same operation here, and
        // loom 0.7 mis-models `swap` (a swap that follows another thread's
        // store can read the value from before it: tokio-rs/loom#254, #389,
        // seen here as a false deadlock).
        if self
            .pending
            .compare_exchange(true, false, AcqRel, Acquire)
            .is_err()
        {
            return Vec::new();
        }
        std::mem::take(&mut *self.list.lock())
    }
}

impl<T> std::fmt::Debug for Inbox<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Inbox")
            .field("pending", &self.is_pending())
            .finish_non_exhaustive()
    }
}

/// How to wake an owner thread.
enum Owner {
    /// Worker `index` of the runtime.
    Worker(usize),
    /// A thread in `block_on`.
    BlockOn(Unparker, Arc<BlockOnState>),
}

/// The part of an owner's local tasks that other threads reach.
pub(crate) struct LocalShared {
    inbox: Inbox<Notified<LocalSchedule>>,
    /// The owner's local tasks that have not completed: one shard, reached
    /// by the owner (spawn, shutdown) and by completions on the owner.
    pub(crate) owned: OwnedTasks,
    owner: Owner,
    /// The runtime, held the way tasks hold it (`sched/mod.rs`): a local
    /// task reaches it only while it is not complete, and the owner — a
    /// worker, which holds a `Handle`, or a `block_on` call, which borrows
    /// one — completes every local task before it stops. A strong count here
    /// would keep the runtime's reactor open for as long as any `JoinHandle`
    /// of a local task lives.
    shared: NonNull<Shared>,
}

// SAFETY: the pointer is only followed under the rule above, from any
// thread (`Shared` is `Sync`); the inbox and the list are thread-safe.
unsafe impl Send for LocalShared {}
// SAFETY: as above.
unsafe impl Sync for LocalShared {}

impl LocalShared {
    fn shared(&self) -> &Shared {
        // SAFETY: called only while one of this owner's tasks is not complete
        // (a wake that submitted it, its poll or cancellation on the owner),
        // so the owner has not stopped and the runtime is alive (see the
        // field's docs).
        unsafe { self.shared.as_ref() }
    }

    fn wake_owner(&self) {
        match &self.owner {
            Owner::Worker(index) => self.shared().unpark_worker(*index),
            Owner::BlockOn(unparker, state) => {
                state.notify();
                unparker.unpark();
            }
        }
    }
}

/// A local task's way back to its owner.
pub(crate) struct LocalSchedule(Arc<LocalShared>);

impl Schedule for LocalSchedule {
    fn schedule(&self, task: Notified<Self>) {
        let Err(task) = push_if_owner(&self.0, task) else {
            return;
        };
        // Woken from another thread: the owner runs it.
        self.0.inbox.push(task);
        self.0.wake_owner();
    }

    fn release(&self, task: &Task<Self>) -> Option<Task<Self>> {
        let raw = self.0.owned.release(task.raw())?;
        // SAFETY: the list hands its reference to the caller.
        Some(unsafe { Task::from_raw(raw.header_ptr()) })
    }

    fn poll_timing(&self) -> Option<&Diagnostics> {
        let diag = &self.0.shared().diag;
        diag.timing.as_ref().map(|_| diag)
    }

    fn reporter(&self) -> Option<&Arc<Reporter>> {
        Some(&self.0.shared().diag.reporter)
    }
}

/// The owner's side: its run queue and its shared part. Lives on the owner
/// thread (in a [`LocalSlot`]) and is never touched by another.
pub(crate) struct LocalRunner {
    shared: Arc<LocalShared>,
    queue: RefCell<VecDeque<Notified<LocalSchedule>>>,
}

impl LocalRunner {
    fn push_if_mine(
        &self,
        shared: &Arc<LocalShared>,
        task: Notified<LocalSchedule>,
    ) -> Result<(), Notified<LocalSchedule>> {
        if Arc::ptr_eq(&self.shared, shared) {
            self.queue.borrow_mut().push_back(task);
            Ok(())
        } else {
            Err(task)
        }
    }

    /// Moves the wake-ups from other threads into the run queue.
    fn drain_inbox(&self) {
        let woken = self.shared.inbox.drain();
        if !woken.is_empty() {
            self.queue.borrow_mut().extend(woken);
        }
    }

    /// The next local task to run, if any.
    pub(crate) fn pop(&self) -> Option<Notified<LocalSchedule>> {
        if let Some(task) = self.queue.borrow_mut().pop_front() {
            return Some(task);
        }
        self.drain_inbox();
        self.queue.borrow_mut().pop_front()
    }

    /// Whether a local task is ready (queued, or woken from elsewhere).
    pub(crate) fn has_work(&self) -> bool {
        !self.queue.borrow().is_empty() || self.shared.inbox.is_pending()
    }

    /// The owner stops: cancels every local task and drops its future here,
    /// on the owner thread, waiting for wake-ups already in flight from
    /// other threads (each lands in the inbox and is run as cancelled).
    fn shutdown(&self) {
        self.shared.owned.close_and_shutdown_all();
        loop {
            let mut ran = false;
            while let Some(task) = self.pop() {
                task.run();
                ran = true;
            }
            if !ran {
                if self.shared.owned.live() == 0 {
                    break;
                }
                // A wake from another thread is between its state
                // transition and its push to the inbox.
                std::thread::yield_now();
            }
        }
        // Leave the runtime's list of owners, keeping our spawn count in
        // its total (under the lock the metrics read both under).
        let rt = self.shared.shared();
        let mut locals = rt.locals.lock();
        locals.retain(|w| !ptr::eq(w.as_ptr(), Arc::as_ptr(&self.shared)));
        rt.retired_local_spawned
            .add_shared(self.shared.owned.spawned());
    }
}

/// Where an owner thread keeps its runner: made on the first `spawn_local`,
/// shut down when the slot is dropped (the owner stops).
pub(crate) struct LocalSlot {
    runner: OnceCell<LocalRunner>,
    handle: Handle,
    owner: Cell<Option<OwnerKind>>,
}

/// What kind of owner a slot belongs to (kept until the runner is made).
#[derive(Clone)]
pub(crate) enum OwnerKind {
    Worker(usize),
    BlockOn(Unparker, Arc<BlockOnState>),
}

thread_local! {
    static SLOT: Cell<*const LocalSlot> = const { Cell::new(ptr::null()) };
}

impl LocalSlot {
    pub(crate) fn new(handle: Handle, owner: OwnerKind) -> LocalSlot {
        LocalSlot {
            runner: OnceCell::new(),
            handle,
            owner: Cell::new(Some(owner)),
        }
    }

    /// The runner, if a local task was ever spawned here.
    #[inline]
    pub(crate) fn runner(&self) -> Option<&LocalRunner> {
        self.runner.get()
    }

    fn runner_or_make(&self) -> &LocalRunner {
        self.runner.get_or_init(|| {
            let owner = match self.owner.take().expect("the owner is taken once") {
                OwnerKind::Worker(i) => Owner::Worker(i),
                OwnerKind::BlockOn(u, s) => Owner::BlockOn(u, s),
            };
            let shared = Arc::new(LocalShared {
                inbox: Inbox::default(),
                owned: OwnedTasks::new(1, 0),
                owner,
                shared: NonNull::from(&*self.handle.shared),
            });
            self.handle
                .shared
                .locals
                .lock()
                .push(Arc::downgrade(&shared));
            LocalRunner {
                shared,
                queue: RefCell::new(VecDeque::new()),
            }
        })
    }

    /// Makes this slot the current thread's until the guard drops.
    pub(crate) fn enter(&self) -> EnterLocal<'_> {
        let prev = SLOT.with(|s| s.replace(self));
        EnterLocal { slot: self, prev }
    }
}

/// Restores the previous slot and shuts the runner down.
pub(crate) struct EnterLocal<'a> {
    slot: &'a LocalSlot,
    prev: *const LocalSlot,
}

impl Drop for EnterLocal<'_> {
    fn drop(&mut self) {
        // Shut down while still current, so that wakes of our own tasks
        // during their cancellation go to our queue.
        if let Some(runner) = self.slot.runner() {
            runner.shutdown();
        }
        let _ = SLOT.try_with(|s| s.set(self.prev));
    }
}

/// The slot of the owner running on this thread, if any.
fn current_slot<'a>() -> Option<&'a LocalSlot> {
    let slot = SLOT.try_with(Cell::get).ok()?;
    // SAFETY: the pointer is set by `LocalSlot::enter`, whose guard lives on
    // this thread's stack no longer than the slot and restores the previous
    // value when it drops; only this thread reads it, and callers use the
    // reference only within the call that got it (never across the guard's
    // end).
    unsafe { slot.as_ref() }
}

/// Queues `task` on this thread's run queue if this thread owns it; gives
/// it back otherwise.
fn push_if_owner(
    shared: &Arc<LocalShared>,
    task: Notified<LocalSchedule>,
) -> Result<(), Notified<LocalSchedule>> {
    match current_slot().and_then(LocalSlot::runner) {
        Some(runner) => runner.push_if_mine(shared, task),
        None => Err(task),
    }
}

pub(crate) const NO_LOCAL: &str = "filch::spawn_local must be called from a task or from \
     inside `block_on` (`filch::run`): the task is pinned to that thread, and this thread \
     runs no tasks. Use `filch::spawn` for futures that are `Send`";

/// Calls `f` with the task list of every local-task owner of the runtime
/// (for `Handle::tasks` and the metrics).
pub(crate) fn for_each_local_list(handle: &Handle, mut f: impl FnMut(&OwnedTasks)) {
    let live: Vec<_> = handle
        .shared
        .locals
        .lock()
        .iter()
        .filter_map(Weak::upgrade)
        .collect();
    for shared in live {
        f(&shared.owned);
    }
}

/// Tasks ever spawned locally in the runtime.
pub(crate) fn spawned(handle: &Handle) -> u64 {
    let shared = &handle.shared;
    let locals = shared.locals.lock();
    locals
        .iter()
        .filter_map(Weak::upgrade)
        .map(|l| l.owned.spawned())
        .sum::<u64>()
        + shared.retired_local_spawned.get()
}

/// Spawns a local task on this thread's runner (made if needed).
#[track_caller]
pub(crate) fn spawn_local<F>(
    future: F,
    location: &'static Location<'static>,
    meta: Option<Box<Meta>>,
) -> JoinHandle<F::Output>
where
    F: Future + 'static,
    F::Output: 'static,
{
    let Some(slot) = current_slot() else {
        panic!("{NO_LOCAL}");
    };
    if !context::with_handle(|h| h.is_some_and(|h| Arc::ptr_eq(&h.shared, &slot.handle.shared))) {
        panic!("{NO_LOCAL}");
    }
    let runner = slot.runner_or_make();
    let shared = &runner.shared;
    let id = Id::next();
    let spawn_meta = SpawnMeta {
        id,
        shard: 0,
        location,
        meta,
    };
    let name = spawn_meta.meta.as_ref().and_then(|m| m.name.as_deref());
    let future = crate::diag::trace::instrument(future, id, name, location);
    let (task, notified, join) =
        tasks::new_bound(future, LocalSchedule(shared.clone()), spawn_meta);
    if shared.owned.bind(task.raw()).is_err() {
        // The owner is stopping: the task is cancelled before it ever runs.
        drop(task);
        notified.cancel_and_run();
        return join;
    }
    // The list keeps the reference `task` stood for.
    std::mem::forget(task);
    // The owner is this thread, which is running: nothing to wake.
    runner.queue.borrow_mut().push_back(notified);
    join
}

//! The runtime's list of every task that has not been released (not
//! completed, or completed with its release waiting in a worker's batch), so
//! that shutdown can reach and drop tasks that nobody will ever wake, and so
//! that debug tooling can enumerate tasks.
//!
//! An intrusive doubly-linked list (links live in the task header) split in
//! shards, each behind its own lock: a worker binds the tasks it spawns to its
//! own shard, so inserts rarely contend; tasks spawned off the workers are
//! spread by id over the shards no worker owns. A worker releases the
//! completed tasks of the workers' shards in a batch (`ReleaseBatch`): those
//! of another worker's, so that the owner's lock line stays with the owner,
//! and its own, so that its lock is taken once per batch; tasks spawned off
//! the workers are released in place. The list holds one reference to each
//! linked task. Must not poll or cancel tasks itself: shutdown hands popped
//! tasks to the harness.

use super::TaskInfo;
use super::core::{Header, ListState};
use super::raw::RawTask;
use crate::diag::metrics::Counter;
use crate::loom::Mutex;
use crossbeam_utils::CachePadded;
use std::cell::RefCell;
use std::ptr::NonNull;

/// Completed tasks a [`ReleaseBatch`] keeps before it releases them.
const RELEASE_BATCH: usize = if cfg!(loom) { 2 } else { 32 };

pub(crate) struct OwnedTasks {
    shards: Box<[CachePadded<Mutex<Shard>>]>,
    mask: usize,
    /// Shards `0..worker_shards` are the workers' own (worker `i` binds to
    /// shard `i`); tasks spawned elsewhere are spread over the others.
    worker_shards: usize,
    /// Per batch slot (one per worker): completed tasks waiting in that
    /// slot's [`ReleaseBatch`], which alone writes it. Still counted in
    /// their shard's `live`; `live` subtracts them.
    deferred: Box<[CachePadded<Counter>]>,
}

struct Shard {
    head: Option<NonNull<Header>>,
    /// Tasks bound to this shard and not yet released (linked or popped):
    /// those not completed, and completed ones waiting in a `ReleaseBatch`.
    live: usize,
    /// Tasks ever bound to this shard (for metrics: counted under the lock
    /// spawn takes anyway, so no shared counter is written).
    spawned: u64,
    closed: bool,
}

// SAFETY: the raw pointers in a shard are only followed while its lock is
// held, and the tasks they point to are `Send` (spawn requires it).
unsafe impl Send for Shard {}

impl OwnedTasks {
    /// A list of at least `min_shards` shards (more than four per worker),
    /// for `workers` workers, each with a slot for its [`ReleaseBatch`] (at
    /// least one slot).
    pub(crate) fn new(min_shards: usize, workers: usize) -> OwnedTasks {
        // Under loom, one shard: a task's shard follows its id, which comes
        // from a process-wide counter, so with several shards the models'
        // executions would not repeat (and no protocol spans shards).
        let n = if cfg!(loom) {
            1
        } else {
            min_shards.max(4).next_power_of_two()
        };
        let shards = (0..n)
            .map(|_| {
                CachePadded::new(Mutex::new(Shard {
                    head: None,
                    live: 0,
                    spawned: 0,
                    closed: false,
                }))
            })
            .collect();
        OwnedTasks {
            shards,
            mask: n - 1,
            worker_shards: if n > workers { workers } else { 0 },
            deferred: (0..workers.max(1))
                .map(|_| CachePadded::new(Counter::default()))
                .collect(),
        }
    }

    /// The shard of the tasks worker `index` spawns.
    pub(crate) fn shard_for_worker(&self, index: usize) -> u32 {
        (index & self.mask) as u32
    }

    /// The shard of a task with this id spawned off the workers: one of the
    /// shards no worker owns, spread by id, so that a worker's batch never
    /// takes it (`ReleaseBatch::defer`). Batching those releases moved
    /// where their cells were freed: a spawner's join handle, dropped after
    /// the task completed, no longer freed the cell on the spawner's own
    /// thread, and the stress suite's idle memory after a million such
    /// tasks grew by about twice as much.
    pub(crate) fn shard_for_outside(&self, id: u64) -> u32 {
        // 32-bit: a spawn's division, and the low bits spread ids as well.
        let outside = (self.shards.len() - self.worker_shards) as u32;
        self.worker_shards as u32 + id as u32 % outside
    }

    /// Links a task that is not yet visible to any other thread. The list
    /// takes the reference the caller accounted for it; on `Err` (the list is
    /// closed: the runtime is shutting down) nothing was linked.
    pub(crate) fn bind(&self, task: RawTask) -> Result<(), ()> {
        let header = task.header();
        let mut shard = self.shards[header.shard as usize].lock();
        if shard.closed {
            return Err(());
        }
        // SAFETY: we hold the shard lock, which guards the links and the
        // list state of every task of this shard.
        unsafe {
            header.owned_prev.with_mut(|p| *p = None);
            header.owned_next.with_mut(|p| *p = shard.head);
            if let Some(old) = shard.head {
                old.as_ref()
                    .owned_prev
                    .with_mut(|p| *p = Some(task.header_ptr()));
            }
            header.list_state.with_mut(|s| *s = ListState::Linked);
        }
        shard.head = Some(task.header_ptr());
        shard.live += 1;
        shard.spawned += 1;
        Ok(())
    }

    /// The task completed. Returns the list's reference if it was still
    /// linked (the caller releases it), `None` otherwise.
    pub(crate) fn release(&self, task: RawTask) -> Option<RawTask> {
        let mut shard = self.shards[task.header().shard as usize].lock();
        // SAFETY: the lock of the task's shard is held.
        unsafe { shard.release(task) }.then_some(task)
    }

    /// Releases the tasks of a batch (each entry: the task's shard and the
    /// batch's reference), one lock per shard involved: under each lock the
    /// shard's count and the batch's counter of deferred tasks drop
    /// together, so that `live`, which holds every lock at once, sees each
    /// shard's part of the batch before or after, never half.
    fn release_batch(&self, slot: usize, tasks: &mut Vec<(u32, RawTask)>) {
        const { assert!(RELEASE_BATCH <= 64) };
        debug_assert!(tasks.len() <= RELEASE_BATCH);
        tasks.sort_unstable_by_key(|&(shard, _)| shard);
        let counter = &self.deferred[slot];
        // Bit i: the list held a reference to tasks[i], now ours to drop.
        let mut listed = 0u64;
        let mut i = 0;
        while i < tasks.len() {
            let index = tasks[i].0;
            let mut shard = self.shards[index as usize].lock();
            let start = i;
            while i < tasks.len() && tasks[i].0 == index {
                // SAFETY: tasks[i] is bound to this shard, whose lock is held.
                if unsafe { shard.release(tasks[i].1) } {
                    listed |= 1 << i;
                }
                i += 1;
            }
            counter.set(counter.get() - (i - start) as u64);
        }
        // Outside the locks: the last reference deallocates the task.
        for (i, (_, task)) in tasks.drain(..).enumerate() {
            task.drop_references(1 + (listed >> i & 1) as usize);
        }
    }

    /// Closes every shard (no more binds) and shuts down every linked task.
    /// Tasks that are queued or running are only marked cancelled; they stay
    /// counted in [`live`](Self::live) until they complete.
    pub(crate) fn close_and_shutdown_all(&self) {
        for shard in self.shards.iter() {
            shard.lock().closed = true;
        }
        for shard in self.shards.iter() {
            loop {
                // Pop under the lock, shut down outside it: dropping a future
                // may complete or spawn other tasks, which takes shard locks.
                let task = {
                    let mut shard = shard.lock();
                    let Some(head) = shard.head else { break };
                    // SAFETY: head is linked in this shard; lock held.
                    unsafe {
                        shard.unlink(head);
                        head.as_ref()
                            .list_state
                            .with_mut(|s| *s = ListState::Popped);
                        RawTask::from_raw(head)
                    }
                };
                task.shutdown();
            }
        }
    }

    /// Tasks bound and not completed: those not yet released, less those
    /// whose release waits in a [`ReleaseBatch`]. Read while every shard
    /// lock is held, so a batch's release is seen whole or not at all.
    pub(crate) fn live(&self) -> usize {
        let guards: Vec<_> = self.shards.iter().map(|s| s.lock()).collect();
        let bound: usize = guards.iter().map(|s| s.live).sum();
        let deferred: u64 = self.deferred.iter().map(|d| d.get()).sum();
        drop(guards);
        // Every deferred task is still bound: the counters move with the
        // shard counts, under their locks.
        debug_assert!(
            deferred as usize <= bound,
            "{deferred} deferred of {bound} bound"
        );
        bound.saturating_sub(deferred as usize)
    }

    /// Tasks ever bound.
    pub(crate) fn spawned(&self) -> u64 {
        self.shards.iter().map(|s| s.lock().spawned).sum()
    }

    /// Calls `f` with every linked task's header that has not completed,
    /// one shard lock at a time (a completed task stays linked until its
    /// release, which a worker may batch: [`ReleaseBatch`]).
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Header)) {
        for shard in self.shards.iter() {
            shard.lock().for_each(|h| {
                if !h.state.load().is_complete() {
                    f(h);
                }
                true
            });
        }
    }

    /// A snapshot of the linked task `id` of shard `shard`, if it is there.
    pub(crate) fn find(&self, shard: u32, id: u64) -> Option<TaskInfo> {
        let shard = self.shards.get(shard as usize)?.lock();
        let mut found = None;
        shard.for_each(|h| {
            if h.id.as_u64() == id {
                found = Some(TaskInfo::of(h));
            }
            found.is_none()
        });
        found
    }
}

/// A worker's batch of completed tasks bound to other workers' shards,
/// released from the owned list together ([`flush`](Self::flush)).
///
/// Why: releasing a task takes its shard's lock, whose cache line the
/// shard's owner touches at every spawn, so a task completed away from its
/// spawner moved that line twice; in message-passing workloads that was a
/// fifth of the profile (docs/benchmarks.md). A batch moves each line once
/// per batch.
///
/// The protocol, in two steps at the task's completion:
/// [`defer`](Self::defer), before the harness wakes the joiner, counts the task in
/// its slot's counter, which takes it out of [`OwnedTasks::live`] at once;
/// [`keep`](Self::keep), once the harness no longer touches the task, takes
/// the harness's reference. The list's own reference stays with the list
/// until the flush. The batch belongs to one thread, which installs it
/// (`context::enter_release_batch`) and flushes it when it is full (in
/// `keep`, before taking the new task, so a flush never drops a task whose
/// completion is still running), before it parks and before it stops, so a
/// parked or stopped worker keeps none.
pub(crate) struct ReleaseBatch {
    /// The list this batch releases to (compared, never followed).
    owned: *const OwnedTasks,
    slot: usize,
    /// The shard of this batch's worker, batched even if it is not one of
    /// the workers' own shards (a runtime with more workers than shards);
    /// `None`: a loom model's batch, which defers every task (loom has one
    /// shard).
    own_shard: Option<u32>,
    /// Each task's shard, and its reference.
    tasks: RefCell<Vec<(u32, RawTask)>>,
}

impl ReleaseBatch {
    /// A batch for `owned`, counting in `slot`, which no other batch uses.
    pub(crate) fn new(owned: &OwnedTasks, slot: usize, own_shard: Option<u32>) -> ReleaseBatch {
        assert!(
            slot < owned.deferred.len(),
            "release batch slot {slot} out of range"
        );
        ReleaseBatch {
            owned,
            slot,
            own_shard,
            tasks: RefCell::new(Vec::with_capacity(RELEASE_BATCH)),
        }
    }

    /// True if this batch releases to `owned`.
    pub(crate) fn is_for(&self, owned: &OwnedTasks) -> bool {
        std::ptr::eq(self.owned, owned)
    }

    /// `task`, bound to `owned` ([`is_for`](Self::is_for)), completed on
    /// this batch's thread: returns true if its release waits in this batch
    /// (it is no longer counted alive; the caller then hands its reference
    /// to [`keep`](Self::keep)), false if it is to be released in place.
    pub(crate) fn defer(&self, owned: &OwnedTasks, task: RawTask) -> bool {
        debug_assert!(self.is_for(owned));
        let shard = task.header().shard;
        if let Some(own) = self.own_shard {
            // Only a worker's shard, this worker's own included: another
            // worker's, so that its lock line stays with its owner; our
            // own, so that a chain of spawns and completions takes the lock
            // once per batch instead of once per task (chained_spawn
            // 0.93-0.95). The other shards' lines are not kept by anyone,
            // and batching their releases costs more than it saves
            // (`shard_for_outside`).
            if shard as usize >= owned.worker_shards && shard != own {
                return false;
            }
        }
        owned.deferred[self.slot].inc();
        true
    }

    /// Takes a reference to a task [`defer`](Self::defer) accepted, once
    /// its completion no longer touches it.
    pub(crate) fn keep(&self, owned: &OwnedTasks, task: RawTask) {
        if self.tasks.borrow().len() >= RELEASE_BATCH {
            self.flush(owned);
        }
        self.tasks.borrow_mut().push((task.header().shard, task));
    }

    /// Releases every kept task.
    pub(crate) fn flush(&self, owned: &OwnedTasks) {
        assert!(
            self.is_for(owned),
            "a release batch flushed to another list"
        );
        // Checked first: taking an empty batch out would drop its buffer,
        // and every worker flushes at every park.
        if self.tasks.borrow().is_empty() {
            return;
        }
        // Taken out, not borrowed: dropping the references deallocates
        // tasks, and nothing of that may find the batch borrowed.
        let mut batch = std::mem::take(&mut *self.tasks.borrow_mut());
        owned.release_batch(self.slot, &mut batch);
        let mut tasks = self.tasks.borrow_mut();
        if tasks.is_empty() {
            *tasks = batch;
        }
    }
}

impl Drop for ReleaseBatch {
    fn drop(&mut self) {
        // A batch dropped unflushed would leak its tasks' references.
        debug_assert!(
            self.tasks.get_mut().is_empty(),
            "a release batch dropped unflushed"
        );
    }
}

impl Shard {
    /// Takes a completed task out of the shard. Returns whether the list's
    /// reference is handed to the caller (the task was still linked).
    ///
    /// # Safety
    /// `task` is bound to this shard and the shard's lock is held.
    unsafe fn release(&mut self, task: RawTask) -> bool {
        let header = task.header();
        // SAFETY: shard lock held (guards list_state and links).
        let state = header.list_state.with(|s| unsafe { *s });
        match state {
            ListState::Linked => {
                // SAFETY: the task is linked in this shard and we hold its lock.
                unsafe { self.unlink(task.header_ptr()) };
                self.live -= 1;
                // SAFETY: shard lock held.
                unsafe { header.list_state.with_mut(|s| *s = ListState::Released) };
                true
            }
            ListState::Popped => {
                self.live -= 1;
                // SAFETY: shard lock held.
                unsafe { header.list_state.with_mut(|s| *s = ListState::Released) };
                false
            }
            ListState::Unbound | ListState::Released => false,
        }
    }

    /// Calls `f` with each linked task's header while it returns true.
    fn for_each(&self, mut f: impl FnMut(&Header) -> bool) {
        let mut cur = self.head;
        while let Some(ptr) = cur {
            // SAFETY: linked tasks are alive (the list holds a reference) and
            // their links are stable while the shard lock (which `&self`
            // proves is held: shards are only reached through it) is held.
            let header = unsafe { ptr.as_ref() };
            if !f(header) {
                return;
            }
            // SAFETY: as above.
            cur = header.owned_next.with(|p| unsafe { *p });
        }
    }

    /// # Safety
    /// `ptr` is linked in this shard and the shard's lock is held.
    unsafe fn unlink(&mut self, ptr: NonNull<Header>) {
        // SAFETY: per the contract, the links of `ptr` and its neighbours are
        // guarded by the lock we hold, and linked tasks are alive.
        unsafe {
            let header = ptr.as_ref();
            let prev = header.owned_prev.with(|p| *p);
            let next = header.owned_next.with(|p| *p);
            match prev {
                Some(prev) => prev.as_ref().owned_next.with_mut(|p| *p = next),
                None => self.head = next,
            }
            if let Some(next) = next {
                next.as_ref().owned_prev.with_mut(|p| *p = prev);
            }
            header.owned_prev.with_mut(|p| *p = None);
            header.owned_next.with_mut(|p| *p = None);
        }
    }
}

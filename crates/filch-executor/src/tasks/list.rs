//! The runtime's list of every task that has not completed, so that shutdown
//! can reach and drop tasks that nobody will ever wake, and so that debug
//! tooling can enumerate tasks.
//!
//! An intrusive doubly-linked list (links live in the task header) split in
//! shards, each behind its own lock: a worker binds the tasks it spawns to its
//! own shard, so inserts rarely contend. The list holds one reference to each
//! linked task. Must not poll or cancel tasks itself: shutdown hands popped
//! tasks to the harness.

use super::TaskInfo;
use super::core::{Header, ListState};
use super::raw::RawTask;
use crate::loom::Mutex;
use crossbeam_utils::CachePadded;
use std::ptr::NonNull;

pub(crate) struct OwnedTasks {
    shards: Box<[CachePadded<Mutex<Shard>>]>,
    mask: usize,
}

struct Shard {
    head: Option<NonNull<Header>>,
    /// Tasks bound to this shard that have not completed (linked or popped).
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
    pub(crate) fn new(min_shards: usize) -> OwnedTasks {
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
        }
    }

    /// The shard a task spawned with this hint goes to.
    pub(crate) fn shard_for(&self, hint: u64) -> u32 {
        (hint as usize & self.mask) as u32
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
        let header = task.header();
        let mut shard = self.shards[header.shard as usize].lock();
        // SAFETY: shard lock held (guards list_state and links).
        let state = header.list_state.with(|s| unsafe { *s });
        match state {
            ListState::Linked => {
                // SAFETY: the task is linked in this shard and we hold its lock.
                unsafe { shard.unlink(task.header_ptr()) };
                shard.live -= 1;
                // SAFETY: shard lock held.
                unsafe { header.list_state.with_mut(|s| *s = ListState::Released) };
                Some(task)
            }
            ListState::Popped => {
                shard.live -= 1;
                // SAFETY: shard lock held.
                unsafe { header.list_state.with_mut(|s| *s = ListState::Released) };
                None
            }
            ListState::Unbound | ListState::Released => None,
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

    /// Tasks bound and not yet completed.
    pub(crate) fn live(&self) -> usize {
        self.shards.iter().map(|s| s.lock().live).sum()
    }

    /// Tasks ever bound.
    pub(crate) fn spawned(&self) -> u64 {
        self.shards.iter().map(|s| s.lock().spawned).sum()
    }

    /// Calls `f` with every linked task's header, one shard lock at a time.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Header)) {
        for shard in self.shards.iter() {
            shard.lock().for_each(|h| {
                f(h);
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

impl Shard {
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

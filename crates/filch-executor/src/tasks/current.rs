//! Which task this thread is polling right now (asyncio's
//! `current_task()`): a thread-local pointer to the task's header, set by
//! the harness for the length of each poll and restored afterwards (a poll
//! never nests another poll on the same thread, but the guard restores the
//! previous value anyway, so nothing breaks if one ever did).
//!
//! Owns only that pointer; it must not poll or schedule anything.

use super::core::Header;
use super::{Id, TaskInfo};
use std::cell::Cell;
use std::ptr::{self, NonNull};

/// The task being polled, and whether it yielded to its own scheduler
/// during this poll ([`wake_own_yield`]).
#[derive(Clone, Copy)]
struct Current {
    task: *const Header,
    own_yield: bool,
}

impl Current {
    /// Not inside a poll.
    const NONE: Current = Current {
        task: ptr::null(),
        own_yield: false,
    };
}

thread_local! {
    static CURRENT: Cell<Current> = const { Cell::new(Current::NONE) };
}

/// Makes `header` the current task until dropped.
pub(crate) struct Enter(Current);

impl Enter {
    #[inline]
    pub(crate) fn new(header: NonNull<Header>) -> Enter {
        let now = Current {
            task: header.as_ptr(),
            own_yield: false,
        };
        Enter(
            CURRENT
                .try_with(|c| c.replace(now))
                .unwrap_or(Current::NONE),
        )
    }

    /// Whether the task yielded to its own scheduler during this poll;
    /// clears the mark. Called by the harness when the poll returned
    /// `Pending`, before the task goes idle.
    #[inline]
    pub(crate) fn take_own_yield(&self) -> bool {
        // Every `Pending` poll asks: only a yielded one writes.
        CURRENT
            .try_with(|c| {
                let cur = c.get();
                if cur.own_yield {
                    c.set(Current {
                        own_yield: false,
                        ..cur
                    });
                }
                cur.own_yield
            })
            .unwrap_or(false)
    }
}

impl Drop for Enter {
    #[inline]
    fn drop(&mut self) {
        let prev = self.0;
        let _ = CURRENT.try_with(|c| c.set(prev));
    }
}

fn with_current<R>(f: impl FnOnce(&Header) -> R) -> Option<R> {
    let ptr = CURRENT.try_with(|c| c.get().task).ok()?;
    // SAFETY: the pointer is set only for the length of a poll by the
    // harness, which holds a reference to the task for that long, and it is
    // read only on this thread, inside that poll.
    let header = unsafe { ptr.as_ref() }?;
    Some(f(header))
}

/// If `waker` is the waker of the task being polled on this thread and
/// that task's scheduler defers yields (`Schedule::DEFERS_YIELD`), marks the
/// poll as yielded and returns the task's header: when the poll returns
/// `Pending` the harness hands the task, held (still `RUNNING`, no write to
/// its state word; `state.rs`), to the scheduler's `yield_now`, where a
/// `wake_by_ref` would have cost a write during the poll and the transition
/// to idle another. Otherwise `None`, and nothing happened.
#[inline]
pub(crate) fn wake_own_yield(waker: &std::task::Waker) -> Option<NonNull<Header>> {
    let header = with_current(|h| {
        let own = std::ptr::eq(waker.data(), (h as *const Header).cast())
            && super::waker::is_task_waker(waker)
            && h.vtable.defers_yield;
        own.then(|| NonNull::from(h))
    })??;
    let _ = CURRENT.try_with(|c| {
        let mut cur = c.get();
        cur.own_yield = true;
        c.set(cur);
    });
    Some(header)
}

/// A snapshot of the task being polled on this thread, if any.
pub(crate) fn info() -> Option<TaskInfo> {
    with_current(TaskInfo::of)
}

/// The id of the task being polled on this thread, if any.
pub(crate) fn id() -> Option<Id> {
    with_current(|h| h.id)
}

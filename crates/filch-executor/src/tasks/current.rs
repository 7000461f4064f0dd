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

thread_local! {
    static CURRENT: Cell<*const Header> = const { Cell::new(ptr::null()) };
}

/// Makes `header` the current task until dropped.
pub(crate) struct Enter(*const Header);

impl Enter {
    #[inline]
    pub(crate) fn new(header: NonNull<Header>) -> Enter {
        Enter(
            CURRENT
                .try_with(|c| c.replace(header.as_ptr()))
                .unwrap_or(ptr::null()),
        )
    }
}

impl Drop for Enter {
    #[inline]
    fn drop(&mut self) {
        let _ = CURRENT.try_with(|c| c.set(self.0));
    }
}

fn with_current<R>(f: impl FnOnce(&Header) -> R) -> Option<R> {
    let ptr = CURRENT.try_with(Cell::get).ok()?;
    // SAFETY: the pointer is set only for the length of a poll by the
    // harness, which holds a reference to the task for that long, and it is
    // read only on this thread, inside that poll.
    let header = unsafe { ptr.as_ref() }?;
    Some(f(header))
}

/// If `waker` is the waker of the task being polled on this thread and
/// that task's scheduler defers yields (`Schedule::DEFERS_YIELD`), marks the
/// task notified (it is running, so that is all a wake does: one atomic
/// operation, no reference taken) and returns its header; the scheduler's
/// `yield_now` then receives it when the poll returns `Pending`.
/// Otherwise `None`, and nothing happened.
#[inline]
pub(crate) fn wake_own_yield(waker: &std::task::Waker) -> Option<NonNull<Header>> {
    let header = with_current(|h| {
        let own = std::ptr::eq(waker.data(), (h as *const Header).cast())
            && super::waker::is_task_waker(waker)
            && h.vtable.defers_yield;
        own.then(|| NonNull::from(h))
    })??;
    waker.wake_by_ref();
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

//! Cooperative scheduling budget.
//!
//! A task that is always ready (a receive loop on a full channel, a read loop
//! on a fast socket) would otherwise never return to its worker and starve
//! every other task queued behind it. Each task poll gets a budget of
//! [`BUDGET`] units; leaf futures (join handles, timers, I/O, channel and lock
//! operations) spend one unit each time they are ready, and once it is spent
//! they return `Pending` after waking their task, which then goes to the back
//! of the run queue. Outside a filch task the budget is unconstrained.
//!
//! This module owns the budget counter only; it must not schedule anything.

use std::cell::Cell;
use std::task::{Context, Poll};

/// Units of work a task may do in one poll before it is made to yield.
pub const BUDGET: u8 = 128;

thread_local! {
    // `None` = unconstrained (not inside a task poll).
    static CURRENT: Cell<Option<u8>> = const { Cell::new(None) };
}

/// Runs `f` (one task poll) with a fresh budget, restoring the previous one.
pub(crate) fn budget<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(Option<u8>);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = CURRENT.try_with(|c| c.set(self.0));
        }
    }
    let prev = CURRENT.with(|c| c.replace(Some(BUDGET)));
    let _restore = Restore(prev);
    f()
}

/// Whether the current task still has budget left (always true outside a
/// filch task). A combinator that polls many children can stop a round as
/// soon as this turns false, instead of polling children that would all
/// return `Pending`.
///
/// ```
/// assert!(filch_executor::coop::has_budget_remaining());
/// ```
pub fn has_budget_remaining() -> bool {
    CURRENT.with(|c| c.get() != Some(0))
}

/// Spends one unit of the current task's budget, or returns `Pending` (after
/// waking the task) when it is exhausted.
///
/// A leaf future calls this before doing work; if it then turns out not to
/// be ready it drops the returned guard, which refunds the unit, and if it
/// is ready it calls [`RestoreOnPending::made_progress`].
///
/// ```
/// use std::task::{Context, Poll, ready};
///
/// fn poll_ready_thing(cx: &mut Context<'_>, ready: bool) -> Poll<()> {
///     let coop = ready!(filch_executor::coop::poll_proceed(cx));
///     if ready {
///         coop.made_progress();
///         Poll::Ready(())
///     } else {
///         Poll::Pending // `coop` dropped: the unit is refunded
///     }
/// }
/// # let waker = std::task::Waker::noop();
/// # assert!(poll_ready_thing(&mut Context::from_waker(waker), true).is_ready());
/// ```
pub fn poll_proceed(cx: &mut Context<'_>) -> Poll<RestoreOnPending> {
    CURRENT.with(|c| match c.get() {
        None => Poll::Ready(RestoreOnPending(None)),
        Some(0) => {
            cx.waker().wake_by_ref();
            Poll::Pending
        }
        Some(n) => {
            c.set(Some(n - 1));
            Poll::Ready(RestoreOnPending(Some(n)))
        }
    })
}

/// Refunds the unit taken by [`poll_proceed`] unless
/// [`made_progress`](Self::made_progress) is called.
#[derive(Debug)]
#[must_use = "drop it to refund the budget unit, or call made_progress"]
pub struct RestoreOnPending(Option<u8>);

impl RestoreOnPending {
    /// Keeps the unit spent: the leaf future made progress.
    ///
    /// ```
    /// # let waker = std::task::Waker::noop();
    /// # let mut cx = std::task::Context::from_waker(waker);
    /// if let std::task::Poll::Ready(coop) = filch_executor::coop::poll_proceed(&mut cx) {
    ///     coop.made_progress();
    /// }
    /// ```
    pub fn made_progress(mut self) {
        self.0 = None;
    }
}

impl Drop for RestoreOnPending {
    fn drop(&mut self) {
        if let Some(n) = self.0 {
            let _ = CURRENT.try_with(|c| c.set(Some(n)));
        }
    }
}

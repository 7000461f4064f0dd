//! `wait` and `wait_timeout`: wait on spawned tasks until the first
//! finishes, the first panics, or all finish, and hand back both the
//! finished results and the handles still running (asyncio's `wait`).
//!
//! Owns the completion conditions and the shape of the result; which handle
//! to poll is the ready queue's business (`ready.rs`). Must not cancel or
//! spawn tasks: the caller decides what happens to the pending ones.

use crate::ready::ReadySet;
use filch_executor::{JoinError, JoinHandle};
use filch_timer::Sleep;
use futures_core::future::FusedFuture;
use pin_project_lite::pin_project;
use std::fmt;
use std::future::Future;
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll, Waker};
use std::time::Duration;

/// When [`wait`] returns (asyncio's `FIRST_COMPLETED`, `FIRST_EXCEPTION`,
/// `ALL_COMPLETED`).
///
/// ```
/// let when = filch_combinators::ReturnWhen::FirstCompleted;
/// assert_ne!(when, filch_combinators::ReturnWhen::AllCompleted);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ReturnWhen {
    /// As soon as any task finishes, in any way.
    FirstCompleted,
    /// As soon as any task panics (the Rust analogue of a Python exception
    /// escaping a task), or when all have finished. As in asyncio, a task
    /// that was cancelled does not count, and neither does a task whose
    /// output happens to be an `Err`: that is a value, the task completed.
    /// To stop at the first `Err`, use `TaskGroup` (which treats `Err` as a
    /// failure) or consume `as_completed` over the handles.
    FirstException,
    /// When every task has finished.
    AllCompleted,
}

/// What [`wait`] resolves to: `(done, pending)`.
///
/// `done` holds the finished tasks as `(index, result)`, `index` being the
/// task's position in the input, in the order the wait saw them finish;
/// `pending` holds the tasks still running as `(index, handle)`, in input
/// order.
pub type WaitOutput<T> = (
    Vec<(usize, Result<T, JoinError>)>,
    Vec<(usize, JoinHandle<T>)>,
);

/// Waits on spawned tasks until `return_when` is met and returns
/// `(done, pending)` (asyncio's `done, pending = await wait(tasks)`); see
/// [`WaitOutput`].
///
/// When the condition is met, every other task that has finished by then is
/// moved to `done` too. The pending tasks are not cancelled: cancel them, or
/// await them, or drop their handles to detach them. With no handles the
/// wait returns `(vec![], vec![])` at once. A poll of the `Wait` polls only
/// the handles whose tasks finished since the previous one.
///
/// Cancel-safety: not cancel-safe. Dropping the `Wait` detaches every task
/// (none is cancelled) and loses the results of those that finished.
///
/// ```
/// # let rt = filch_timer::test_runtime(2, true);
/// # rt.block_on(async {
/// use filch_combinators::{ReturnWhen, wait};
/// use std::time::Duration;
/// let tasks = [3, 1, 2].map(|s| {
///     filch_executor::spawn(async move {
///         filch_timer::sleep(Duration::from_secs(s)).await;
///         s
///     })
/// });
/// let (done, pending) = wait(tasks, ReturnWhen::FirstCompleted).await;
/// assert_eq!(done.len(), 1);
/// assert_eq!(done[0].0, 1); // the task at index 1 (1 s) finished first
/// assert_eq!(*done[0].1.as_ref().unwrap(), 1);
/// assert_eq!(pending.iter().map(|(i, _)| *i).collect::<Vec<_>>(), [0, 2]);
/// # });
/// ```
pub fn wait<T, I>(handles: I, return_when: ReturnWhen) -> Wait<T>
where
    I: IntoIterator<Item = JoinHandle<T>>,
{
    Wait::new(handles, return_when, None)
}

/// [`wait`] with a time limit (asyncio's `wait(tasks, timeout=...)`): also
/// returns when `timeout` has passed, with whatever is done by then
/// (possibly nothing). Timing out is not an error and cancels nothing. As in
/// asyncio (and as `filch::time::sleep`), the time limit starts when the
/// `Wait` is first awaited.
///
/// Cancel-safety: as [`wait`].
///
/// ```
/// # let rt = filch_timer::test_runtime(2, true);
/// # rt.block_on(async {
/// use filch_combinators::{ReturnWhen, wait_timeout};
/// use std::time::Duration;
/// let slow = filch_executor::spawn(filch_timer::sleep(Duration::from_secs(10)));
/// let (done, pending) = wait_timeout([slow], ReturnWhen::AllCompleted, Duration::from_secs(1)).await;
/// assert!(done.is_empty());
/// assert_eq!(pending.len(), 1);
/// # });
/// ```
pub fn wait_timeout<T, I>(handles: I, return_when: ReturnWhen, timeout: Duration) -> Wait<T>
where
    I: IntoIterator<Item = JoinHandle<T>>,
{
    Wait::new(handles, return_when, Some(filch_timer::sleep(timeout)))
}

pin_project! {
    /// The future of [`wait`] and [`wait_timeout`].
    ///
    /// ```
    /// # let rt = filch_timer::test_runtime(1, true);
    /// # rt.block_on(async {
    /// let t = filch_executor::spawn(async { 1 });
    /// let w: filch_combinators::Wait<i32> =
    ///     filch_combinators::wait([t], filch_combinators::ReturnWhen::AllCompleted);
    /// let (done, _) = w.await;
    /// assert_eq!(done[0].1.as_ref().unwrap(), &1);
    /// # });
    /// ```
    #[must_use = "futures do nothing unless awaited"]
    pub struct Wait<T> {
        handles: Vec<Option<JoinHandle<T>>>,
        done: Vec<(usize, Result<T, JoinError>)>,
        set: ReadySet,
        return_when: ReturnWhen,
        panicked: bool,
        finished: bool,
        #[pin]
        deadline: Option<Sleep>,
    }
}

impl<T> Wait<T> {
    fn new<I>(handles: I, return_when: ReturnWhen, deadline: Option<Sleep>) -> Wait<T>
    where
        I: IntoIterator<Item = JoinHandle<T>>,
    {
        let handles: Vec<Option<JoinHandle<T>>> = handles.into_iter().map(Some).collect();
        Wait {
            set: crate::join::ready_set(handles.len()),
            handles,
            done: Vec::new(),
            return_when,
            panicked: false,
            finished: false,
            deadline,
        }
    }
}

impl<T> Future for Wait<T> {
    type Output = WaitOutput<T>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<WaitOutput<T>> {
        let this = self.project();
        assert!(!*this.finished, "Wait polled after completion");
        let handles = this.handles;
        let done = this.done;
        let panicked = this.panicked;
        let when = *this.return_when;
        let _ = this.set.poll_round(cx, |i, cx| {
            let Some(handle) = handles[i].as_mut() else {
                return ControlFlow::Continue(());
            };
            let Poll::Ready(result) = Pin::new(handle).poll(cx) else {
                return ControlFlow::Continue(());
            };
            handles[i] = None;
            let panic = matches!(&result, Err(e) if e.is_panic());
            *panicked |= panic;
            done.push((i, result));
            match when {
                ReturnWhen::FirstCompleted => ControlFlow::Break(()),
                ReturnWhen::FirstException if panic => ControlFlow::Break(()),
                _ => ControlFlow::Continue(()),
            }
        });
        let all_done = done.len() == handles.len();
        let met = all_done
            || match when {
                ReturnWhen::FirstCompleted => !done.is_empty(),
                ReturnWhen::FirstException => *panicked,
                ReturnWhen::AllCompleted => false,
            };
        if !met {
            let timed_out = match this.deadline.as_pin_mut() {
                Some(deadline) => deadline.poll(cx).is_ready(),
                None => false,
            };
            if !timed_out {
                return Poll::Pending;
            }
        }
        *this.finished = true;
        // Everything else that has finished by now is done too. A noop
        // waker: nothing should wake this (finished) future again.
        let mut sweep = Context::from_waker(Waker::noop());
        let mut pending = Vec::new();
        for (i, slot) in handles.iter_mut().enumerate() {
            let Some(mut handle) = slot.take() else {
                continue;
            };
            if handle.is_finished()
                && let Poll::Ready(result) = Pin::new(&mut handle).poll(&mut sweep)
            {
                done.push((i, result));
                continue;
            }
            pending.push((i, handle));
        }
        Poll::Ready((std::mem::take(done), pending))
    }
}

impl<T> FusedFuture for Wait<T> {
    fn is_terminated(&self) -> bool {
        self.finished
    }
}

impl<T> fmt::Debug for Wait<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Wait")
            .field("tasks", &self.handles.len())
            .field("done", &self.done.len())
            .field("return_when", &self.return_when)
            .field("timeout", &self.deadline.as_ref().map(Sleep::deadline))
            .finish()
    }
}

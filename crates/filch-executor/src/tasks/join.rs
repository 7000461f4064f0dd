//! `JoinHandle<T>`: the awaitable, cancellable handle of a spawned task
//! (asyncio's `Task` object). Owns the handle's reference and join interest;
//! the protocol that makes reading the output race-free is in `state.rs`.

use super::raw::RawTask;
use super::{Id, JoinError};
use std::fmt;
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;
use std::task::{Context, Poll};

/// An owned permission to await a spawned task's output, or to cancel it.
///
/// Awaiting it gives `Ok(output)`, or a [`JoinError`] if the task was
/// cancelled or panicked. Dropping it *detaches* the task: it runs on to
/// completion and its output is dropped.
///
/// ```
/// # let rt = filch_executor::Builder::new().worker_threads(1).build().unwrap();
/// # rt.block_on(async {
/// let handle = filch_executor::spawn(async { 6 * 7 });
/// assert_eq!(handle.await.unwrap(), 42);
/// # });
/// ```
pub struct JoinHandle<T> {
    raw: RawTask,
    _p: PhantomData<T>,
}

// SAFETY: the handle gives access to `T` only by moving it out of the task
// (which requires `T: Send` to cross threads); every other operation is on
// the atomic state word.
unsafe impl<T: Send> Send for JoinHandle<T> {}
// SAFETY: `&JoinHandle` only offers `cancel`, `is_finished` and `id`, which
// touch the atomic state word and immutable header fields.
unsafe impl<T: Send> Sync for JoinHandle<T> {}

impl<T> Unpin for JoinHandle<T> {}

impl<T> JoinHandle<T> {
    /// # Safety
    /// `raw` is a task whose output type is `T`; the handle takes over one
    /// reference and the join interest.
    pub(crate) unsafe fn new(raw: RawTask) -> JoinHandle<T> {
        JoinHandle {
            raw,
            _p: PhantomData,
        }
    }

    /// Cancels the task (asyncio's `task.cancel()`).
    ///
    /// An idle task's future is dropped promptly on a worker; a task that is
    /// being polled is cancelled right after its current poll. Awaiting the
    /// handle then gives an error whose [`JoinError::is_cancelled`] is true,
    /// unless the task completed first. Cancelling a finished task does
    /// nothing. A `spawn_blocking` closure that already started cannot be
    /// interrupted: it runs to the end and its result is returned.
    ///
    /// ```
    /// # let rt = filch_executor::Builder::new().worker_threads(1).build().unwrap();
    /// # rt.block_on(async {
    /// let handle = filch_executor::spawn(std::future::pending::<()>());
    /// handle.cancel();
    /// assert!(handle.await.unwrap_err().is_cancelled());
    /// # });
    /// ```
    #[doc(alias = "abort")]
    pub fn cancel(&self) {
        self.raw.cancel();
    }

    /// True once the task has completed, been cancelled, or panicked: then
    /// awaiting the handle returns at once.
    ///
    /// ```
    /// # let rt = filch_executor::Builder::new().worker_threads(1).build().unwrap();
    /// # rt.block_on(async {
    /// let handle = filch_executor::spawn(async { 1 });
    /// while !handle.is_finished() {
    ///     filch_executor::yield_now().await;
    /// }
    /// assert_eq!(handle.await.unwrap(), 1);
    /// # });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.raw.header().state.load().is_complete()
    }

    /// The task's id.
    ///
    /// ```
    /// # let rt = filch_executor::Builder::new().worker_threads(1).build().unwrap();
    /// # rt.block_on(async {
    /// let a = filch_executor::spawn(async {});
    /// let b = filch_executor::spawn(async {});
    /// assert_ne!(a.id(), b.id());
    /// # });
    /// ```
    pub fn id(&self) -> Id {
        self.raw.header().id
    }

    /// The name given when the task was spawned, if any.
    ///
    /// ```
    /// # let rt = filch_executor::Builder::new().worker_threads(1).build().unwrap();
    /// # rt.block_on(async {
    /// let h = filch_executor::task::Builder::new().name("fetch").spawn(async {});
    /// assert_eq!(h.name(), Some("fetch"));
    /// # });
    /// ```
    pub fn name(&self) -> Option<&str> {
        self.raw.header().meta.as_ref()?.name.as_deref()
    }
}

impl<T> Future for JoinHandle<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let coop = std::task::ready!(crate::coop::poll_proceed(cx));
        let mut ret: Poll<Result<T, JoinError>> = Poll::Pending;
        // SAFETY: `ret` has the type the task's vtable writes for output `T`,
        // and we are the task's join handle.
        unsafe {
            self.raw.try_read_output(
                &mut ret as *mut Poll<Result<T, JoinError>> as *mut (),
                cx.waker(),
            )
        };
        if ret.is_ready() {
            coop.made_progress();
        }
        ret
    }
}

impl<T> Drop for JoinHandle<T> {
    fn drop(&mut self) {
        self.raw.drop_join_handle();
    }
}

impl<T> fmt::Debug for JoinHandle<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinHandle")
            .field("id", &self.id())
            .field("finished", &self.is_finished())
            .finish()
    }
}

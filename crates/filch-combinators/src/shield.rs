//! `shield`: await a spawned task without tying the task's life to the
//! awaiting side (asyncio's `shield`).
//!
//! Owns only that promise. It relies on the executor's rule that dropping a
//! `JoinHandle` detaches its task; this module must not cancel anything.

use filch_executor::task::Id;
use filch_executor::{JoinError, JoinHandle};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Awaits the task behind `handle`, shielded from the cancellation of the
/// awaiting side (asyncio's `await shield(task)`).
///
/// If the `Shield` is dropped before the task finishes — because the
/// awaiting code was cancelled, timed out by `filch::time::timeout`, or lost
/// a `select!` — the task is *not* cancelled: it runs to completion and its
/// side effects happen; only its output is dropped. To still collect the
/// output after a timeout, await `&mut shield` and keep the `Shield`, or
/// take the handle back with [`Shield::into_handle`].
///
/// Cancel-safety: cancel-safe for the task (that is the point); the output
/// is lost if the `Shield` is dropped after the task finished but before it
/// was read.
///
/// ```
/// # let rt = filch_timer::test_runtime(2, true);
/// # rt.block_on(async {
/// use std::time::Duration;
/// let save = filch_executor::spawn(async {
///     filch_timer::sleep(Duration::from_secs(5)).await;
///     "saved"
/// });
/// let mut shielded = filch_combinators::shield(save);
/// // The caller gives up after one second; the save goes on.
/// assert!(filch_timer::timeout(Duration::from_secs(1), &mut shielded).await.is_err());
/// assert_eq!(shielded.await.unwrap(), "saved");
/// # });
/// ```
pub fn shield<T>(handle: JoinHandle<T>) -> Shield<T> {
    Shield { handle }
}

/// The future of [`shield`]: the task's result (`Err` if it panicked, or
/// was cancelled through its handle before being shielded).
///
/// ```
/// # let rt = filch_timer::test_runtime(1, true);
/// # rt.block_on(async {
/// let s: filch_combinators::Shield<u8> = filch_combinators::shield(filch_executor::spawn(async { 2 }));
/// assert_eq!(s.await.unwrap(), 2);
/// # });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Shield<T> {
    handle: JoinHandle<T>,
}

impl<T> Shield<T> {
    /// The shielded task's id.
    ///
    /// ```
    /// # let rt = filch_timer::test_runtime(1, true);
    /// # rt.block_on(async {
    /// let h = filch_executor::spawn(async {});
    /// let id = h.id();
    /// assert_eq!(filch_combinators::shield(h).id(), id);
    /// # });
    /// ```
    pub fn id(&self) -> Id {
        self.handle.id()
    }

    /// True once the task has finished: awaiting the shield returns at once.
    ///
    /// ```
    /// # let rt = filch_timer::test_runtime(1, true);
    /// # rt.block_on(async {
    /// let s = filch_combinators::shield(filch_executor::spawn(std::future::pending::<()>()));
    /// assert!(!s.is_finished());
    /// # });
    /// ```
    pub fn is_finished(&self) -> bool {
        self.handle.is_finished()
    }

    /// The handle back, e.g. to cancel the task after all.
    ///
    /// ```
    /// # let rt = filch_timer::test_runtime(1, true);
    /// # rt.block_on(async {
    /// let s = filch_combinators::shield(filch_executor::spawn(std::future::pending::<()>()));
    /// let handle = s.into_handle();
    /// handle.cancel();
    /// assert!(handle.await.unwrap_err().is_cancelled());
    /// # });
    /// ```
    pub fn into_handle(self) -> JoinHandle<T> {
        self.handle
    }
}

impl<T> Future for Shield<T> {
    type Output = Result<T, JoinError>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<T, JoinError>> {
        Pin::new(&mut self.get_mut().handle).poll(cx)
    }
}

impl<T> fmt::Debug for Shield<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Shield")
            .field("handle", &self.handle)
            .finish()
    }
}

//! `as_completed`: the outputs of many futures, as a stream, in the order
//! they complete (asyncio's `as_completed`).
//!
//! Owns the stream's contract (order, end, size hint); which child to poll
//! is the ready queue's business (`ready.rs`). Must not spawn tasks.

use crate::join::ready_set;
use crate::ready::ReadySet;
use crate::slots::Slots;
use futures_core::{FusedStream, Stream};
use std::fmt;
use std::future::{Future, IntoFuture};
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll};

/// A stream of the futures' outputs in completion order (asyncio's
/// `for coro in as_completed(aws)`).
///
/// The futures run concurrently on the task that polls the stream, and only
/// while it is polled. Each child has its own waker; a poll of the stream
/// polls only the children woken since the previous one. When several
/// complete at the same poll they come out in wake order (input order at
/// the first poll). The stream ends after the last output.
///
/// To know which future an output came from, make the index part of it:
/// `as_completed(futs.into_iter().enumerate().map(|(i, f)| async move { (i, f.await) }))`.
///
/// Cancel-safety: dropping the stream drops every unfinished future. Between
/// items nothing is lost: an output is only produced by the poll that
/// returns it.
///
/// ```
/// # let rt = filch_timer::test_runtime(1, true);
/// # rt.block_on(async {
/// use std::time::Duration;
/// let mut stream = filch_combinators::as_completed([3, 1, 2].map(|s| async move {
///     filch_timer::sleep(Duration::from_secs(s)).await;
///     s
/// }));
/// let mut order = Vec::new();
/// while let Some(s) = stream.next().await {
///     order.push(s);
/// }
/// assert_eq!(order, [1, 2, 3]);
/// # });
/// ```
pub fn as_completed<I>(futures: I) -> AsCompleted<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator,
    I::Item: IntoFuture,
{
    let slots = Slots::new(futures);
    let n = slots.len();
    AsCompleted {
        set: ready_set(n),
        slots,
        remaining: n,
    }
}

/// The stream of [`as_completed`]. It is `Unpin` whatever the futures are.
///
/// ```
/// # let rt = filch_timer::test_runtime(1, true);
/// # rt.block_on(async {
/// use futures_core::Stream;
/// let stream = filch_combinators::as_completed([1, 2].map(|i| async move { i }));
/// assert_eq!(stream.size_hint(), (2, Some(2)));
/// assert_eq!(stream.len(), 2);
/// # });
/// ```
#[must_use = "streams do nothing unless polled"]
pub struct AsCompleted<F> {
    slots: Slots<F>,
    set: ReadySet,
    remaining: usize,
}

impl<F> AsCompleted<F> {
    /// How many outputs are still to come.
    ///
    /// ```
    /// let stream = filch_combinators::as_completed([async { 1 }]);
    /// assert_eq!(stream.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.remaining
    }

    /// True once every output has been produced.
    ///
    /// ```
    /// let stream = filch_combinators::as_completed(Vec::<std::future::Ready<()>>::new());
    /// assert!(stream.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.remaining == 0
    }
}

impl<F: Future> AsCompleted<F> {
    /// The next output, `None` after the last (the stream's `next`, without
    /// needing a `StreamExt` trait). Cancel-safe: dropping the returned
    /// future before it completes loses nothing.
    ///
    /// ```
    /// # let rt = filch_timer::test_runtime(1, true);
    /// # rt.block_on(async {
    /// let mut stream = filch_combinators::as_completed([async { 'a' }]);
    /// assert_eq!(stream.next().await, Some('a'));
    /// assert_eq!(stream.next().await, None);
    /// # });
    /// ```
    // The async `next` of a stream (as `StreamExt::next`), not an iterator's.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> NextCompleted<'_, F> {
        NextCompleted { stream: self }
    }
}

/// The future of [`AsCompleted::next`].
///
/// ```
/// # let rt = filch_timer::test_runtime(1, true);
/// # rt.block_on(async {
/// let mut stream = filch_combinators::as_completed([async { 1 }]);
/// let next: filch_combinators::NextCompleted<'_, _> = stream.next();
/// assert_eq!(next.await, Some(1));
/// # });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct NextCompleted<'a, F> {
    stream: &'a mut AsCompleted<F>,
}

impl<F: Future> Future for NextCompleted<'_, F> {
    type Output = Option<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        Pin::new(&mut *self.get_mut().stream).poll_next(cx)
    }
}

impl<F> fmt::Debug for NextCompleted<'_, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("NextCompleted")
            .field("stream", &self.stream)
            .finish()
    }
}

impl<F: Future> Stream for AsCompleted<F> {
    type Item = F::Output;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        let this = self.get_mut();
        if this.remaining == 0 {
            return Poll::Ready(None);
        }
        let slots = &mut this.slots;
        match this.set.poll_round(cx, |i, cx| match slots.poll(i, cx) {
            Poll::Ready(Some(output)) => ControlFlow::Break(output),
            _ => ControlFlow::Continue(()),
        }) {
            ControlFlow::Break(output) => {
                this.remaining -= 1;
                Poll::Ready(Some(output))
            }
            ControlFlow::Continue(()) => Poll::Pending,
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.remaining, Some(self.remaining))
    }
}

impl<F: Future> FusedStream for AsCompleted<F> {
    fn is_terminated(&self) -> bool {
        self.remaining == 0
    }
}

impl<F> fmt::Debug for AsCompleted<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AsCompleted")
            .field("len", &self.slots.len())
            .field("remaining", &self.remaining)
            .finish()
    }
}

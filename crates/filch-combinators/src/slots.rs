//! `Slots<F>`: a fixed set of same-typed futures stored side by side in one
//! allocation and pinned there, each polled by index (the children of
//! `join_all`, `try_join_all`, `race` and `as_completed`).
//!
//! Owns the pinning argument for those futures; which child to poll, and
//! when, is the ready queue's business (`ready.rs`).

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;
use std::task::{Context, Poll};

/// Futures in one boxed slice. A future stays at its address from its first
/// poll until it is dropped in place; the slice is never reallocated and no
/// future is ever moved out of it. The type is `Unpin` whatever `F` is.
pub(crate) struct Slots<F> {
    slots: Box<[Option<F>]>,
}

impl<F> Slots<F> {
    pub(crate) fn len(&self) -> usize {
        self.slots.len()
    }

    /// Drops every future still pending, in input order.
    pub(crate) fn clear(&mut self) {
        self.slots = Box::new([]);
    }
}

impl<F: Future> Slots<F> {
    pub(crate) fn new<I>(iter: I) -> Slots<F>
    where
        I: IntoIterator,
        I::Item: IntoFuture<IntoFuture = F>,
    {
        Slots {
            slots: iter.into_iter().map(|f| Some(f.into_future())).collect(),
        }
    }

    /// Polls child `index`: `Ready(Some(output))` when it completes (it is
    /// dropped at once), `Ready(None)` if it had completed before.
    pub(crate) fn poll(&mut self, index: usize, cx: &mut Context<'_>) -> Poll<Option<F::Output>> {
        // SAFETY: the future in this slot is pinned here: the boxed slice
        // lives at one address until `self` is dropped or `clear`ed, nothing
        // moves an `F` out of it or hands out an unpinned `&mut F`, and a
        // finished future is dropped in place (`Pin::set`) before its slot
        // is reused; `clear` and `Drop` drop the futures in place too.
        let mut slot = unsafe { Pin::new_unchecked(&mut self.slots[index]) };
        let Some(future) = slot.as_mut().as_pin_mut() else {
            return Poll::Ready(None);
        };
        match future.poll(cx) {
            Poll::Ready(output) => {
                slot.set(None);
                Poll::Ready(Some(output))
            }
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F> fmt::Debug for Slots<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let pending = self.slots.iter().filter(|s| s.is_some()).count();
        f.debug_struct("Slots")
            .field("len", &self.slots.len())
            .field("pending", &pending)
            .finish()
    }
}

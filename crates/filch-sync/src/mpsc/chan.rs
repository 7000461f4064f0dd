//! The state one mpsc channel shares between its senders and its receiver:
//! the message list, the receiver's waker, the sender count, the capacity
//! semaphore (bounded channels) and the "receiver closed" notification.
//!
//! ## Closing
//! The list's `CLOSED` bit is the one closing fact. The last sender to go,
//! or the receiver's `close`, sets it; then the receiver drains what was
//! claimed before and gets `None` once its position meets the frozen tail,
//! so a message whose `send` returned `Ok` is never lost by a close. The
//! receiver's close also closes the capacity semaphore (waking every sender
//! waiting for room) and notifies `Sender::closed` waiters.
//!
//! This module owns the channel's shared state and the receive loop; it
//! must not know the public handle types (`bounded.rs`, `unbounded.rs`).

use super::list::{self, Head, Pushed, Tail};
use crate::Notify;
use crate::atomic_waker::AtomicWaker;
use crate::batch::RawSemaphore;
use crate::loom::atomic::AtomicUsize;
use crate::loom::{Arc, UnsafeCell};
use crossbeam_utils::CachePadded;
use std::sync::atomic::Ordering::{AcqRel, Relaxed};
use std::task::{Context, Poll, ready};

/// The capacity policy: a semaphore for bounded channels, nothing for
/// unbounded ones.
pub(crate) trait Capacity: Send + Sync + 'static {
    /// One message left the channel.
    fn release(&self);
    /// The receiver closed: fail every sender waiting for room.
    fn close(&self);
}

impl Capacity for RawSemaphore {
    fn release(&self) {
        RawSemaphore::release(self, 1);
    }
    fn close(&self) {
        RawSemaphore::close(self);
    }
}

/// Unbounded channels have no capacity to manage.
#[derive(Debug)]
pub(crate) struct Unbounded;

impl Capacity for Unbounded {
    fn release(&self) {}
    fn close(&self) {}
}

pub(crate) struct Chan<T, S> {
    tail: CachePadded<Tail<T>>,
    rx_waker: CachePadded<AtomicWaker>,
    senders: AtomicUsize,
    pub(crate) capacity: S,
    rx_closed: Notify,
    /// Only the receiver touches this (through `&mut Rx`), and `Drop`.
    head: UnsafeCell<Head<T>>,
}

// SAFETY: messages move between threads (`T: Send`); `head` is only touched
// by the single receiver (or by `Drop`, when no handle remains); everything
// else is atomic or `Sync`.
unsafe impl<T: Send, S: Send> Send for Chan<T, S> {}
// SAFETY: as above.
unsafe impl<T: Send, S: Sync> Sync for Chan<T, S> {}

/// A sender's handle: counted in `senders`.
pub(crate) struct Tx<T, S: Capacity> {
    chan: Arc<Chan<T, S>>,
}

/// The receiver's handle (exactly one per channel).
pub(crate) struct Rx<T, S: Capacity> {
    chan: Arc<Chan<T, S>>,
}

pub(crate) fn channel<T, S: Capacity>(capacity: S) -> (Tx<T, S>, Rx<T, S>) {
    let (tail, head) = list::new();
    let chan = Arc::new(Chan {
        tail: CachePadded::new(tail),
        rx_waker: CachePadded::new(AtomicWaker::new()),
        senders: AtomicUsize::new(1),
        capacity,
        rx_closed: Notify::new(),
        head: UnsafeCell::new(head),
    });
    (Tx { chan: chan.clone() }, Rx { chan })
}

impl<T, S: Capacity> Tx<T, S> {
    pub(crate) fn chan(&self) -> &Chan<T, S> {
        &self.chan
    }

    /// Appends `value` and wakes the receiver if it sleeps; gives the value
    /// back if the channel is closed.
    pub(crate) fn send(&self, value: T) -> Result<(), T> {
        match self.chan.tail.push(value) {
            Pushed::Ok(wake) => {
                if wake {
                    self.chan.rx_waker.wake();
                }
                Ok(())
            }
            Pushed::Closed(v) => Err(v),
        }
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.chan.tail.is_closed()
    }

    pub(crate) fn same_channel(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.chan, &other.chan)
    }

    /// Waits until the channel is closed (by the receiver, in practice:
    /// while this sender lives, the senders cannot all be gone).
    pub(crate) async fn closed(&self) {
        loop {
            let notified = self.chan.rx_closed.notified();
            if self.is_closed() {
                return;
            }
            notified.await;
        }
    }
}

impl<T, S: Capacity> Clone for Tx<T, S> {
    fn clone(&self) -> Self {
        self.chan.senders.fetch_add(1, Relaxed);
        Tx {
            chan: self.chan.clone(),
        }
    }
}

impl<T, S: Capacity> Drop for Tx<T, S> {
    fn drop(&mut self) {
        // AcqRel: the last sender's close happens after every other
        // sender's sends.
        if self.chan.senders.fetch_sub(1, AcqRel) == 1 {
            self.chan.tail.close();
            self.chan.rx_waker.wake();
        }
    }
}

impl<T, S: Capacity> Rx<T, S> {
    pub(crate) fn chan(&self) -> &Chan<T, S> {
        &self.chan
    }

    /// The head (ours alone) and the shared rest of the channel.
    fn parts(&mut self) -> (&mut Head<T>, &Chan<T, S>) {
        let chan = &*self.chan;
        // SAFETY: `&mut self` on the one receiver handle gives exclusive
        // access to the head; `Drop` of `Chan` runs only when no handle is
        // left.
        let head = chan.head.with_mut(|p| unsafe { &mut *p });
        (head, chan)
    }

    /// Pops a ready message and frees its capacity.
    pub(crate) fn try_pop(&mut self) -> Option<T> {
        let (head, chan) = self.parts();
        let v = head.pop()?;
        chan.capacity.release();
        Some(v)
    }

    /// `Ok(None)`: closed and drained. `Err(())`: empty for now.
    pub(crate) fn try_recv(&mut self) -> Result<Option<T>, ()> {
        if let Some(v) = self.try_pop() {
            return Ok(Some(v));
        }
        let (head, chan) = self.parts();
        if head.is_drained(&chan.tail) {
            return Ok(None);
        }
        Err(())
    }

    /// Receives the next message, `None` once the channel is closed and
    /// drained. Spends one unit of cooperative budget per message.
    pub(crate) fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        let coop = ready!(filch_executor::coop::poll_proceed(cx));
        let out = self.poll_recv_inner(cx);
        if out.is_ready() {
            coop.made_progress();
        }
        out
    }

    fn poll_recv_inner(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        if let Some(v) = self.try_pop() {
            return Poll::Ready(Some(v));
        }
        let (head, chan) = self.parts();
        if head.is_drained(&chan.tail) {
            return Poll::Ready(None);
        }
        chan.rx_waker.register(cx.waker());
        // Either we see the slot ready now, or its sender sees RX_WAITING
        // and wakes us (both are RMWs on the block's `ready` word).
        if head.prepare_wait() {
            let v = self.try_pop().expect("the slot was just seen ready");
            return Poll::Ready(Some(v));
        }
        // A close after our registration wakes us; one before is seen here.
        if head.is_drained(&chan.tail) {
            return Poll::Ready(None);
        }
        Poll::Pending
    }

    /// Receives up to `limit` messages into `buf`; returns how many (0 only
    /// once the channel is closed and drained, or if `limit` is 0).
    pub(crate) fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        buf: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        if limit == 0 {
            return Poll::Ready(0);
        }
        let Some(first) = ready!(self.poll_recv(cx)) else {
            return Poll::Ready(0);
        };
        buf.reserve(limit.min(64));
        buf.push(first);
        let mut n = 1;
        while n < limit {
            match self.try_pop() {
                Some(v) => {
                    buf.push(v);
                    n += 1;
                }
                None => break,
            }
        }
        Poll::Ready(n)
    }

    /// Closes the channel from the receiving side: sends fail from now on,
    /// waiting senders fail, `closed()` waiters wake; messages already sent
    /// can still be received.
    pub(crate) fn close(&mut self) {
        self.chan.tail.close();
        self.chan.capacity.close();
        self.chan.rx_closed.notify_waiters();
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.chan.tail.is_closed()
    }

    pub(crate) fn len(&self) -> usize {
        let chan = &*self.chan;
        // SAFETY: only the receiver writes the head, through `&mut self`,
        // which cannot coexist with this `&self`.
        chan.head.with(|p| unsafe { (*p).len(&chan.tail) })
    }

    pub(crate) fn sender_count(&self) -> usize {
        self.chan.senders.load(Relaxed)
    }
}

impl<T, S: Capacity> Drop for Rx<T, S> {
    fn drop(&mut self) {
        self.close();
        // Drop what was sent now rather than when the last sender goes.
        while self.try_pop().is_some() {}
    }
}

impl<T, S> Drop for Chan<T, S> {
    fn drop(&mut self) {
        // SAFETY: the last handle is gone: nobody else can reach the list.
        self.head.with_mut(|p| unsafe { (*p).destroy() });
    }
}

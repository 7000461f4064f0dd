//! `oneshot` (tokio's signatures): a channel for exactly one value.
//!
//! ## Protocol
//! Sender and receiver share one heap block: the value slot, one waker slot
//! for each side, and one state word. The word is also the block's
//! reference count: `TX_GONE` and `RX_GONE` mark that a side has made its
//! last access, and whichever side sets the second of the two frees the
//! block. So a channel costs one allocation and no separate `Arc` count.
//!
//! - `VALUE`: the value is in its slot (written before the bit is set).
//! - `COMPLETE`: the sender is finished producing (sent or dropped).
//! - `RX_CLOSED`: the receiver closed or was dropped; a send fails.
//! - `RX_WAKER` / `TX_WAKER`: that side's waker slot is filled. A side
//!   writes its own slot only while its bit is clear (it clears it with a
//!   CAS that fails once the other side has finished), and the other side
//!   reads the slot only after the RMW that finished it (`COMPLETE` for the
//!   sender, `RX_CLOSED` for the receiver) saw the bit set. So a slot has
//!   exactly one owner at any moment.
//!
//! When the other side has no waker to wake, a side finishes with a single
//! RMW (`COMPLETE | TX_GONE`, or `RX_CLOSED | RX_GONE`); otherwise it
//! finishes, takes the other side's waker out of its slot, marks itself
//! gone (freeing the block if the other side is gone too), and wakes last,
//! touching nothing of the block after: a waker that panics (user code)
//! cannot stop the side from going, which would leak the block.
//!
//! This file owns that protocol; it must not block or take a lock.

use crate::loom::UnsafeCell;
use crate::loom::atomic::AtomicUsize;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::atomic::Ordering::{AcqRel, Acquire};
use std::task::{Context, Poll, Waker, ready};

const RX_WAKER: usize = 1;
const TX_WAKER: usize = 2;
const VALUE: usize = 4;
const COMPLETE: usize = 8;
const RX_CLOSED: usize = 16;
const TX_GONE: usize = 32;
const RX_GONE: usize = 64;

/// Error types of the oneshot channel.
pub mod error {
    use std::fmt;

    /// The sender was dropped without sending (or the receiver was closed
    /// before a value arrived).
    ///
    /// ```
    /// let (tx, rx) = filch_sync::oneshot::channel::<u8>();
    /// drop(tx);
    /// let rt = filch_executor::Executor::new().unwrap();
    /// assert_eq!(rt.block_on(rx).unwrap_err().to_string(), "channel closed");
    /// ```
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub struct RecvError(pub(super) ());

    impl fmt::Display for RecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("channel closed")
        }
    }

    impl std::error::Error for RecvError {}

    /// Why [`Receiver::try_recv`](super::Receiver::try_recv) returned no
    /// value.
    ///
    /// ```
    /// use filch_sync::oneshot::{self, error::TryRecvError};
    /// let (tx, mut rx) = oneshot::channel::<u8>();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// drop(tx);
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    #[derive(Debug, Clone, PartialEq, Eq)]
    pub enum TryRecvError {
        /// No value yet; the sender is still alive.
        Empty,
        /// No value will come: the sender is gone, the receiver was
        /// closed, or the value was already taken.
        Closed,
    }

    impl fmt::Display for TryRecvError {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                TryRecvError::Empty => f.write_str("channel empty"),
                TryRecvError::Closed => f.write_str("channel closed"),
            }
        }
    }

    impl std::error::Error for TryRecvError {}
}

use error::{RecvError, TryRecvError};

struct Inner<T> {
    state: AtomicUsize,
    value: UnsafeCell<Option<T>>,
    rx_waker: UnsafeCell<Option<Waker>>,
    tx_waker: UnsafeCell<Option<Waker>>,
}

/// Sends the channel's one value (tokio's `oneshot::Sender`).
///
/// ```
/// let (tx, rx) = filch_sync::oneshot::channel();
/// tx.send(5).unwrap();
/// let rt = filch_executor::Executor::new().unwrap();
/// assert_eq!(rt.block_on(rx), Ok(5));
/// ```
pub struct Sender<T> {
    inner: Option<NonNull<Inner<T>>>,
}

/// Receives the channel's one value; it is a future (tokio's
/// `oneshot::Receiver`).
///
/// Awaiting it is cancel-safe in the sense that matters: dropping the
/// `Receiver` unreceived closes the channel (the sender's `send` fails and
/// gives the value back, or the value is dropped if it was already sent).
/// Polling a `&mut Receiver` in a `select` loop and dropping that poll loses
/// nothing: the value stays in the channel.
///
/// ```
/// let (tx, rx) = filch_sync::oneshot::channel();
/// let rt = filch_executor::Executor::new().unwrap();
/// rt.spawn(async move { tx.send("hi").unwrap() });
/// assert_eq!(rt.block_on(rx), Ok("hi"));
/// ```
pub struct Receiver<T> {
    inner: Option<NonNull<Inner<T>>>,
}

// SAFETY: the handles only move `T` between threads (needs `T: Send`);
// every shared access goes through the protocol of the module docs.
unsafe impl<T: Send> Send for Sender<T> {}
// SAFETY: `&Sender` only reads the state word.
unsafe impl<T: Send> Sync for Sender<T> {}
// SAFETY: as for `Sender`.
unsafe impl<T: Send> Send for Receiver<T> {}
// SAFETY: `&Receiver` only reads the state word.
unsafe impl<T: Send> Sync for Receiver<T> {}

/// Creates a channel for one value (tokio's `oneshot::channel`).
///
/// ```
/// use filch_sync::oneshot;
///
/// let rt = filch_executor::Executor::new().unwrap();
/// let answer = rt.block_on(async {
///     let (tx, rx) = oneshot::channel();
///     filch_executor::spawn(async move { tx.send(6 * 7).unwrap() });
///     rx.await.unwrap()
/// });
/// assert_eq!(answer, 42);
/// ```
pub fn channel<T>() -> (Sender<T>, Receiver<T>) {
    let inner = Box::new(Inner {
        state: AtomicUsize::new(0),
        value: UnsafeCell::new(None),
        rx_waker: UnsafeCell::new(None),
        tx_waker: UnsafeCell::new(None),
    });
    let ptr = NonNull::from(Box::leak(inner));
    (Sender { inner: Some(ptr) }, Receiver { inner: Some(ptr) })
}

impl<T> Inner<T> {
    /// # Safety
    /// `ptr` came from `channel` and both sides are gone (the caller's RMW
    /// set the second `*_GONE` bit).
    unsafe fn free(ptr: NonNull<Inner<T>>) {
        // SAFETY: the caller's contract: nobody else can reach the block.
        drop(unsafe { Box::from_raw(ptr.as_ptr()) });
    }

    /// # Safety
    /// The caller owns the `slot` (module docs).
    unsafe fn take_waker(slot: &UnsafeCell<Option<Waker>>) -> Option<Waker> {
        // SAFETY: the caller owns the slot.
        slot.with_mut(|p| unsafe { (*p).take() })
    }

    /// Stores `waker` into `slot`, which the caller owns (its bit is
    /// clear), and then sets `bit`. Returns the word before the bit was
    /// set.
    ///
    /// # Safety
    /// The caller owns `slot` and `bit` is clear.
    unsafe fn set_waker(
        &self,
        slot: &UnsafeCell<Option<Waker>>,
        bit: usize,
        waker: &Waker,
    ) -> usize {
        slot.with_mut(|p| {
            // SAFETY: the caller owns the slot.
            let p = unsafe { &mut *p };
            match p {
                Some(old) if old.will_wake(waker) => {}
                _ => *p = Some(waker.clone()),
            }
        });
        self.state.fetch_or(bit, AcqRel)
    }
}

impl<T> Sender<T> {
    fn inner(&self) -> &Inner<T> {
        // SAFETY: the block lives until both sides are gone, and this side
        // is not gone while `self.inner` is `Some`.
        unsafe { self.inner.expect("sender used after it finished").as_ref() }
    }

    /// Sends the value. Fails, giving the value back, if the receiver was
    /// closed or dropped. Never waits.
    ///
    /// ```
    /// let (tx, rx) = filch_sync::oneshot::channel();
    /// drop(rx);
    /// assert_eq!(tx.send(3), Err(3));
    /// ```
    pub fn send(mut self, value: T) -> Result<(), T> {
        let ptr = self.inner.take().expect("sender used after it finished");
        // SAFETY: this side is not gone yet, so the block is alive.
        let inner = unsafe { ptr.as_ref() };
        // SAFETY: the receiver reads the slot only after seeing VALUE, which
        // we have not set.
        inner.value.with_mut(|p| unsafe { *p = Some(value) });
        let mut cur = inner.state.load(Acquire);
        loop {
            if cur & RX_CLOSED != 0 {
                // SAFETY: VALUE was never set, the slot is still ours.
                let value = inner.value.with_mut(|p| unsafe { (*p).take() });
                let prev = inner.state.fetch_or(COMPLETE | TX_GONE, AcqRel);
                if prev & RX_GONE != 0 {
                    // SAFETY: the receiver is gone and we just went.
                    unsafe { Inner::free(ptr) };
                }
                return Err(value.expect("value was just written"));
            }
            let wake = cur & RX_WAKER != 0;
            let new = cur | VALUE | COMPLETE | if wake { 0 } else { TX_GONE };
            match inner.state.compare_exchange_weak(cur, new, AcqRel, Acquire) {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        if cur & RX_WAKER != 0 {
            // SAFETY: our COMPLETE saw RX_WAKER set: the receiver no longer
            // touches its slot, which is ours now.
            let waker = unsafe { Inner::<T>::take_waker(&inner.rx_waker) };
            let prev = inner.state.fetch_or(TX_GONE, AcqRel);
            if prev & RX_GONE != 0 {
                // SAFETY: the receiver is gone and we just went.
                unsafe { Inner::free(ptr) };
            }
            // Woken last: a waker that panics must not keep us from going.
            if let Some(w) = waker {
                w.wake();
            }
        }
        // (else: TX_GONE was set by the CAS; RX_GONE implies RX_CLOSED, so
        // the receiver is alive and frees the block.)
        Ok(())
    }

    /// Whether the receiver was closed or dropped (a `send` would fail).
    ///
    /// ```
    /// let (tx, rx) = filch_sync::oneshot::channel::<()>();
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.inner().state.load(Acquire) & RX_CLOSED != 0
    }

    /// Polls for the receiver being closed or dropped.
    ///
    /// ```
    /// use std::task::{Context, Waker};
    /// let (mut tx, rx) = filch_sync::oneshot::channel::<()>();
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert!(tx.poll_closed(&mut cx).is_pending());
    /// drop(rx);
    /// assert!(tx.poll_closed(&mut cx).is_ready());
    /// ```
    pub fn poll_closed(&mut self, cx: &mut Context<'_>) -> Poll<()> {
        let coop = ready!(filch_executor::coop::poll_proceed(cx));
        let inner = self.inner();
        let mut cur = inner.state.load(Acquire);
        loop {
            if cur & RX_CLOSED != 0 {
                coop.made_progress();
                return Poll::Ready(());
            }
            if cur & TX_WAKER == 0 {
                break;
            }
            // Take our slot back before writing it.
            match inner
                .state
                .compare_exchange_weak(cur, cur & !TX_WAKER, AcqRel, Acquire)
            {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        // SAFETY: TX_WAKER is clear and RX_CLOSED was not set when we
        // looked, so the receiver will not read the slot before our
        // fetch_or below sets the bit.
        let prev = unsafe { inner.set_waker(&inner.tx_waker, TX_WAKER, cx.waker()) };
        if prev & RX_CLOSED != 0 {
            coop.made_progress();
            return Poll::Ready(());
        }
        Poll::Pending
    }

    /// Waits until the receiver is closed or dropped (so a result is no
    /// longer wanted). Cancel-safe.
    ///
    /// ```
    /// let (mut tx, rx) = filch_sync::oneshot::channel::<()>();
    /// let rt = filch_executor::Executor::new().unwrap();
    /// rt.spawn(async move { drop(rx) });
    /// rt.block_on(tx.closed());
    /// ```
    pub async fn closed(&mut self) {
        std::future::poll_fn(|cx| self.poll_closed(cx)).await
    }
}

impl<T> Drop for Sender<T> {
    fn drop(&mut self) {
        let Some(ptr) = self.inner.take() else {
            return;
        };
        // SAFETY: this side is not gone yet, so the block is alive.
        let inner = unsafe { ptr.as_ref() };
        let mut cur = inner.state.load(Acquire);
        loop {
            let wake = cur & RX_WAKER != 0 && cur & RX_CLOSED == 0;
            let new = cur | COMPLETE | if wake { 0 } else { TX_GONE };
            match inner.state.compare_exchange_weak(cur, new, AcqRel, Acquire) {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        if cur & RX_WAKER != 0 && cur & RX_CLOSED == 0 {
            // SAFETY: our COMPLETE saw RX_WAKER set: the slot is ours.
            let waker = unsafe { Inner::<T>::take_waker(&inner.rx_waker) };
            if inner.state.fetch_or(TX_GONE, AcqRel) & RX_GONE != 0 {
                // SAFETY: the receiver is gone and we just went.
                unsafe { Inner::free(ptr) };
            }
            // Woken last (see `send`).
            if let Some(w) = waker {
                w.wake();
            }
        } else if cur & RX_GONE != 0 {
            // SAFETY: the receiver was gone before our CAS set TX_GONE.
            unsafe { Inner::free(ptr) };
        }
    }
}

impl<T> Receiver<T> {
    fn inner(&self) -> Option<&Inner<T>> {
        // SAFETY: the block lives until both sides are gone, and this side
        // is not gone while `self.inner` is `Some`.
        self.inner.map(|p| unsafe { &*p.as_ptr() })
    }

    /// Takes the value if it has been sent.
    ///
    /// ```
    /// use filch_sync::oneshot::{self, error::TryRecvError};
    /// let (tx, mut rx) = oneshot::channel();
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        let inner = self.inner().ok_or(TryRecvError::Closed)?;
        let cur = inner.state.load(Acquire);
        if cur & COMPLETE != 0 {
            return self.take_value(cur).map_err(|_| TryRecvError::Closed);
        }
        if cur & RX_CLOSED != 0 {
            return Err(TryRecvError::Closed);
        }
        Err(TryRecvError::Empty)
    }

    /// The sender finished (word `cur` has `COMPLETE`): takes the value, or
    /// reports that none was sent. The channel is done afterwards.
    fn take_value(&mut self, cur: usize) -> Result<T, RecvError> {
        debug_assert!(cur & COMPLETE != 0);
        let out = if cur & VALUE != 0 {
            let inner = self.inner().expect("checked by caller");
            // SAFETY: VALUE is set: the sender wrote the slot and will not
            // touch it again; only this side reads it.
            let v = inner.value.with_mut(|p| unsafe { (*p).take() });
            v.ok_or(RecvError(()))
        } else {
            Err(RecvError(()))
        };
        self.release();
        out
    }

    /// Closes the channel without dropping the receiver: a later `send`
    /// fails, but a value sent before is still received.
    ///
    /// ```
    /// use filch_sync::oneshot;
    /// let (tx, mut rx) = oneshot::channel();
    /// rx.close();
    /// assert_eq!(tx.send(1), Err(1));
    /// ```
    pub fn close(&mut self) {
        let Some(inner) = self.inner() else { return };
        let prev = inner.state.fetch_or(RX_CLOSED, AcqRel);
        if prev & (TX_WAKER | COMPLETE | RX_CLOSED) == TX_WAKER {
            // SAFETY: our RX_CLOSED saw TX_WAKER set: the sender no longer
            // touches its slot.
            if let Some(w) = unsafe { Inner::<T>::take_waker(&inner.tx_waker) } {
                w.wake();
            }
        }
    }

    /// Whether the value has been received (or the channel found closed),
    /// so polling again would panic.
    ///
    /// ```
    /// let (tx, mut rx) = filch_sync::oneshot::channel();
    /// tx.send(()).unwrap();
    /// assert!(!rx.is_terminated());
    /// rx.try_recv().unwrap();
    /// assert!(rx.is_terminated());
    /// ```
    pub fn is_terminated(&self) -> bool {
        self.inner.is_none()
    }

    /// Whether no value is waiting to be received right now.
    ///
    /// ```
    /// let (tx, rx) = filch_sync::oneshot::channel();
    /// assert!(rx.is_empty());
    /// tx.send(1).unwrap();
    /// assert!(!rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        match self.inner() {
            Some(inner) => inner.state.load(Acquire) & VALUE == 0,
            None => true,
        }
    }

    /// Waits for the value from a thread that is not running async code.
    ///
    /// # Panics
    /// When called inside a runtime.
    ///
    /// ```
    /// let (tx, rx) = filch_sync::oneshot::channel();
    /// std::thread::spawn(move || tx.send(8).unwrap());
    /// assert_eq!(rx.blocking_recv(), Ok(8));
    /// ```
    #[track_caller]
    pub fn blocking_recv(self) -> Result<T, RecvError> {
        crate::blocking::block_on("oneshot::Receiver::blocking_recv", self)
    }

    /// Marks this side gone (its last access) and frees the block if the
    /// sender is gone too.
    fn release(&mut self) {
        let Some(ptr) = self.inner.take() else { return };
        // SAFETY: this side is not gone yet, so the block is alive.
        let inner = unsafe { ptr.as_ref() };
        let mut cur = inner.state.load(Acquire);
        loop {
            let wake = cur & (TX_WAKER | COMPLETE | RX_CLOSED) == TX_WAKER;
            let new = cur | RX_CLOSED | if wake { 0 } else { RX_GONE };
            match inner.state.compare_exchange_weak(cur, new, AcqRel, Acquire) {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        if cur & (TX_WAKER | COMPLETE | RX_CLOSED) == TX_WAKER {
            // SAFETY: our RX_CLOSED saw TX_WAKER set: the slot is ours.
            let waker = unsafe { Inner::<T>::take_waker(&inner.tx_waker) };
            if inner.state.fetch_or(RX_GONE, AcqRel) & TX_GONE != 0 {
                // SAFETY: the sender is gone and we just went.
                unsafe { Inner::free(ptr) };
            }
            // Woken last (see `Sender::send`).
            if let Some(w) = waker {
                w.wake();
            }
        } else if cur & TX_GONE != 0 {
            // SAFETY: the sender was gone before our CAS set RX_GONE.
            unsafe { Inner::free(ptr) };
        }
    }
}

impl<T> Future for Receiver<T> {
    type Output = Result<T, RecvError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let coop = ready!(filch_executor::coop::poll_proceed(cx));
        let this = &mut *self;
        let inner = this
            .inner()
            .expect("oneshot::Receiver polled after it completed");
        let mut cur = inner.state.load(Acquire);
        loop {
            if cur & COMPLETE != 0 {
                coop.made_progress();
                return Poll::Ready(this.take_value(cur));
            }
            if cur & RX_CLOSED != 0 {
                coop.made_progress();
                this.release();
                return Poll::Ready(Err(RecvError(())));
            }
            if cur & RX_WAKER == 0 {
                break;
            }
            // Take our slot back before writing it (fails once the sender
            // completes, and then we take the value instead).
            match inner
                .state
                .compare_exchange_weak(cur, cur & !RX_WAKER, AcqRel, Acquire)
            {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        // SAFETY: RX_WAKER is clear and COMPLETE was not set when we looked,
        // so the sender will not read the slot before our fetch_or sets
        // the bit.
        let prev = unsafe { inner.set_waker(&inner.rx_waker, RX_WAKER, cx.waker()) };
        if prev & COMPLETE != 0 {
            coop.made_progress();
            return Poll::Ready(this.take_value(prev));
        }
        Poll::Pending
    }
}

impl<T> Drop for Receiver<T> {
    fn drop(&mut self) {
        self.release();
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender").finish_non_exhaustive()
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("terminated", &self.is_terminated())
            .finish()
    }
}

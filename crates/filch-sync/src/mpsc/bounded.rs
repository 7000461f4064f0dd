//! The bounded mpsc channel's public handles: `Sender`, `Receiver`,
//! `Permit`, `OwnedPermit` (tokio's signatures).
//!
//! Capacity is a fair [`RawSemaphore`](crate::batch::RawSemaphore): a send
//! takes a permit (one CAS when there is room), the receiver returns one
//! per message it takes. This file owns the handles only; the message list
//! and the receive loop live in `list.rs` and `chan.rs`.

use super::chan::{self, Rx, Tx};
use super::error::{SendError, TrySendError};
use crate::batch::{RawSemaphore, TryAcquire};
use std::fmt;

/// Sends messages into a bounded channel (tokio's `mpsc::Sender`).
/// Cloning it adds a sender; the channel closes when the last one is
/// dropped.
///
/// ```
/// let rt = filch_executor::Executor::new().unwrap();
/// rt.block_on(async {
///     let (tx, mut rx) = filch_sync::mpsc::channel(8);
///     let tx2 = tx.clone();
///     tx.send(1).await.unwrap();
///     tx2.send(2).await.unwrap();
///     drop((tx, tx2));
///     assert_eq!(rx.recv().await, Some(1));
///     assert_eq!(rx.recv().await, Some(2));
///     assert_eq!(rx.recv().await, None);
/// });
/// ```
pub struct Sender<T> {
    tx: Tx<T, RawSemaphore>,
    bound: usize,
}

/// Receives messages from a bounded channel (tokio's `mpsc::Receiver`).
/// Also a [`Stream`](futures_core::Stream).
///
/// ```
/// let rt = filch_executor::Executor::new().unwrap();
/// rt.block_on(async {
///     let (tx, mut rx) = filch_sync::mpsc::channel(2);
///     filch_executor::spawn(async move {
///         for i in 0..5 {
///             tx.send(i).await.unwrap();
///         }
///     });
///     let mut got = Vec::new();
///     while let Some(i) = rx.recv().await {
///         got.push(i);
///     }
///     assert_eq!(got, [0, 1, 2, 3, 4]);
/// });
/// ```
pub struct Receiver<T> {
    rx: Rx<T, RawSemaphore>,
    bound: usize,
}

/// A reserved slot in the channel, borrowed from a [`Sender`]: sending
/// through it cannot fail for lack of room. Dropping it unused gives the
/// slot back.
///
/// ```
/// let rt = filch_executor::Executor::new().unwrap();
/// rt.block_on(async {
///     let (tx, mut rx) = filch_sync::mpsc::channel(1);
///     let permit = tx.reserve().await.unwrap();
///     assert!(tx.try_send(0).is_err()); // the one slot is reserved
///     permit.send(7);
///     assert_eq!(rx.recv().await, Some(7));
/// });
/// ```
pub struct Permit<'a, T> {
    sender: &'a Sender<T>,
}

/// A reserved slot that owns its [`Sender`].
///
/// ```
/// let rt = filch_executor::Executor::new().unwrap();
/// rt.block_on(async {
///     let (tx, mut rx) = filch_sync::mpsc::channel(1);
///     let permit = tx.reserve_owned().await.unwrap();
///     let tx = permit.send(3); // gives the sender back
///     drop(tx);
///     assert_eq!(rx.recv().await, Some(3));
/// });
/// ```
pub struct OwnedPermit<T> {
    sender: Option<Sender<T>>,
}

/// Creates a bounded channel holding at most `buffer` messages (tokio's
/// `mpsc::channel`). Senders wait (FIFO) while it is full.
///
/// # Panics
/// If `buffer` is 0 or more than `Semaphore::MAX_PERMITS`.
///
/// ```
/// let (tx, rx) = filch_sync::mpsc::channel::<u32>(100);
/// assert_eq!(tx.capacity(), 100);
/// # drop(rx);
/// ```
pub fn channel<T>(buffer: usize) -> (Sender<T>, Receiver<T>) {
    assert!(
        buffer > 0,
        "a bounded mpsc channel needs a buffer of at least 1"
    );
    let (tx, rx) = chan::channel(RawSemaphore::new(buffer));
    (Sender { tx, bound: buffer }, Receiver { rx, bound: buffer })
}

impl<T> Sender<T> {
    fn sem(&self) -> &RawSemaphore {
        &self.tx.chan().capacity
    }

    /// Sends `value`, waiting (FIFO) for room while the channel is full.
    /// Fails, giving the value back, once the receiver is closed or
    /// dropped.
    ///
    /// Cancel-safe: if the future is dropped before it completes, the value
    /// was not sent (it is dropped with the future) and no capacity is
    /// lost; the room it may just have been given goes to the next sender.
    ///
    /// ```
    /// let rt = filch_executor::Executor::new().unwrap();
    /// rt.block_on(async {
    ///     let (tx, rx) = filch_sync::mpsc::channel(1);
    ///     tx.send("a").await.unwrap();
    ///     drop(rx);
    ///     assert_eq!(tx.send("b").await.unwrap_err().0, "b");
    /// });
    /// ```
    pub async fn send(&self, value: T) -> Result<(), SendError<T>> {
        if self.sem().acquire(1).await.is_err() {
            return Err(SendError(value));
        }
        self.tx.send(value).map_err(|v| {
            self.sem().release(1);
            SendError(v)
        })
    }

    /// Sends `value` if there is room right now.
    ///
    /// ```
    /// use filch_sync::mpsc::{self, error::TrySendError};
    /// let (tx, _rx) = mpsc::channel(1);
    /// assert!(tx.try_send(1).is_ok());
    /// assert!(matches!(tx.try_send(2), Err(TrySendError::Full(2))));
    /// ```
    pub fn try_send(&self, value: T) -> Result<(), TrySendError<T>> {
        match self.sem().try_acquire(1) {
            Ok(()) => {}
            Err(TryAcquire::NoPermits) => return Err(TrySendError::Full(value)),
            Err(TryAcquire::Closed) => return Err(TrySendError::Closed(value)),
        }
        self.tx.send(value).map_err(|v| {
            self.sem().release(1);
            TrySendError::Closed(v)
        })
    }

    /// Sends from a thread that is not running async code, parking it while
    /// the channel is full.
    ///
    /// # Panics
    /// When called inside a runtime.
    ///
    /// ```
    /// let (tx, mut rx) = filch_sync::mpsc::channel(1);
    /// std::thread::spawn(move || tx.blocking_send(9).unwrap()).join().unwrap();
    /// assert_eq!(rx.blocking_recv(), Some(9));
    /// ```
    #[track_caller]
    pub fn blocking_send(&self, value: T) -> Result<(), SendError<T>> {
        crate::blocking::block_on("mpsc::Sender::blocking_send", self.send(value))
    }

    /// Waits for room and reserves it. Cancel-safe (no capacity is lost).
    ///
    /// ```
    /// let rt = filch_executor::Executor::new().unwrap();
    /// rt.block_on(async {
    ///     let (tx, mut rx) = filch_sync::mpsc::channel(1);
    ///     tx.reserve().await.unwrap().send(1);
    ///     assert_eq!(rx.recv().await, Some(1));
    /// });
    /// ```
    pub async fn reserve(&self) -> Result<Permit<'_, T>, SendError<()>> {
        self.sem().acquire(1).await.map_err(|_| SendError(()))?;
        Ok(Permit { sender: self })
    }

    /// Reserves room if there is some right now.
    ///
    /// ```
    /// let (tx, _rx) = filch_sync::mpsc::channel::<u8>(1);
    /// let p = tx.try_reserve().unwrap();
    /// assert!(tx.try_reserve().is_err());
    /// drop(p);
    /// assert!(tx.try_reserve().is_ok());
    /// ```
    pub fn try_reserve(&self) -> Result<Permit<'_, T>, TrySendError<()>> {
        match self.sem().try_acquire(1) {
            Ok(()) => Ok(Permit { sender: self }),
            Err(TryAcquire::NoPermits) => Err(TrySendError::Full(())),
            Err(TryAcquire::Closed) => Err(TrySendError::Closed(())),
        }
    }

    /// Waits for room and reserves it in a permit that owns this sender.
    /// Cancel-safe.
    ///
    /// ```
    /// let rt = filch_executor::Executor::new().unwrap();
    /// rt.block_on(async {
    ///     let (tx, mut rx) = filch_sync::mpsc::channel(1);
    ///     let permit = tx.reserve_owned().await.unwrap();
    ///     filch_executor::spawn(async move { permit.send(5); }).await.unwrap();
    ///     assert_eq!(rx.recv().await, Some(5));
    /// });
    /// ```
    pub async fn reserve_owned(self) -> Result<OwnedPermit<T>, SendError<()>> {
        self.sem().acquire(1).await.map_err(|_| SendError(()))?;
        Ok(OwnedPermit { sender: Some(self) })
    }

    /// Reserves room in an owned permit if there is some right now; gives
    /// the sender back otherwise.
    ///
    /// ```
    /// let (tx, _rx) = filch_sync::mpsc::channel::<u8>(1);
    /// let permit = tx.try_reserve_owned().unwrap();
    /// # drop(permit);
    /// ```
    pub fn try_reserve_owned(self) -> Result<OwnedPermit<T>, TrySendError<Self>> {
        match self.sem().try_acquire(1) {
            Ok(()) => Ok(OwnedPermit { sender: Some(self) }),
            Err(TryAcquire::NoPermits) => Err(TrySendError::Full(self)),
            Err(TryAcquire::Closed) => Err(TrySendError::Closed(self)),
        }
    }

    /// Waits until the receiver is closed or dropped. Cancel-safe.
    ///
    /// ```
    /// let rt = filch_executor::Executor::new().unwrap();
    /// rt.block_on(async {
    ///     let (tx, rx) = filch_sync::mpsc::channel::<()>(1);
    ///     filch_executor::spawn(async move { drop(rx) });
    ///     tx.closed().await;
    ///     assert!(tx.is_closed());
    /// });
    /// ```
    pub async fn closed(&self) {
        self.tx.closed().await
    }

    /// Whether the receiver is closed or dropped.
    ///
    /// ```
    /// let (tx, rx) = filch_sync::mpsc::channel::<()>(1);
    /// assert!(!tx.is_closed());
    /// drop(rx);
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Whether both senders feed the same channel.
    ///
    /// ```
    /// let (tx, _rx) = filch_sync::mpsc::channel::<()>(1);
    /// let (other, _rx2) = filch_sync::mpsc::channel::<()>(1);
    /// assert!(tx.same_channel(&tx.clone()));
    /// assert!(!tx.same_channel(&other));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        self.tx.same_channel(&other.tx)
    }

    /// Room left right now.
    ///
    /// ```
    /// let (tx, _rx) = filch_sync::mpsc::channel(3);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(tx.capacity(), 2);
    /// ```
    pub fn capacity(&self) -> usize {
        self.sem().available_permits()
    }

    /// The channel's bound.
    ///
    /// ```
    /// let (tx, _rx) = filch_sync::mpsc::channel::<u8>(3);
    /// assert_eq!(tx.max_capacity(), 3);
    /// ```
    pub fn max_capacity(&self) -> usize {
        self.bound
    }
}

impl<T> Clone for Sender<T> {
    fn clone(&self) -> Self {
        Sender {
            tx: self.tx.clone(),
            bound: self.bound,
        }
    }
}

impl<T> fmt::Debug for Sender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sender")
            .field("capacity", &self.capacity())
            .field("max_capacity", &self.bound)
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<T> Permit<'_, T> {
    /// Sends `value` into the reserved slot. If the receiver has gone
    /// meanwhile, the value is dropped.
    ///
    /// ```
    /// let (tx, mut rx) = filch_sync::mpsc::channel(1);
    /// tx.try_reserve().unwrap().send("x");
    /// assert_eq!(rx.try_recv(), Ok("x"));
    /// ```
    pub fn send(self, value: T) {
        let sender = self.sender;
        std::mem::forget(self);
        if sender.tx.send(value).is_err() {
            sender.sem().release(1);
        }
    }
}

impl<T> Drop for Permit<'_, T> {
    fn drop(&mut self) {
        self.sender.sem().release(1);
    }
}

impl<T> fmt::Debug for Permit<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Permit").finish_non_exhaustive()
    }
}

impl<T> OwnedPermit<T> {
    /// Sends `value` into the reserved slot and gives the sender back.
    ///
    /// ```
    /// let (tx, mut rx) = filch_sync::mpsc::channel(1);
    /// let tx = tx.try_reserve_owned().unwrap().send(1);
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// # drop(tx);
    /// ```
    pub fn send(mut self, value: T) -> Sender<T> {
        let sender = self.sender.take().expect("permit used once");
        if sender.tx.send(value).is_err() {
            sender.sem().release(1);
        }
        sender
    }

    /// Gives the reserved slot back unused, returning the sender.
    ///
    /// ```
    /// let (tx, _rx) = filch_sync::mpsc::channel::<u8>(1);
    /// let tx = tx.try_reserve_owned().unwrap().release();
    /// assert_eq!(tx.capacity(), 1);
    /// ```
    pub fn release(mut self) -> Sender<T> {
        let sender = self.sender.take().expect("permit used once");
        sender.sem().release(1);
        sender
    }
}

impl<T> Drop for OwnedPermit<T> {
    fn drop(&mut self) {
        if let Some(sender) = &self.sender {
            sender.sem().release(1);
        }
    }
}

impl<T> fmt::Debug for OwnedPermit<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnedPermit").finish_non_exhaustive()
    }
}

super::receiver::receiver_api!(Receiver, "channel(4)", "try_send");

impl<T> Receiver<T> {
    /// Room left right now.
    ///
    /// ```
    /// let (tx, rx) = filch_sync::mpsc::channel(2);
    /// tx.try_send(1).unwrap();
    /// assert_eq!(rx.capacity(), 1);
    /// ```
    pub fn capacity(&self) -> usize {
        self.rx.chan().capacity.available_permits()
    }

    /// The channel's bound.
    ///
    /// ```
    /// let (_tx, rx) = filch_sync::mpsc::channel::<u8>(2);
    /// assert_eq!(rx.max_capacity(), 2);
    /// ```
    pub fn max_capacity(&self) -> usize {
        self.bound
    }
}

impl<T> fmt::Debug for Receiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Receiver")
            .field("len", &self.len())
            .field("max_capacity", &self.bound)
            .field("closed", &self.is_closed())
            .finish()
    }
}

//! The unbounded mpsc channel's public handles: `UnboundedSender`,
//! `UnboundedReceiver` (tokio's signatures).
//!
//! A send never waits: it is one CAS on the tail word plus one `fetch_or`
//! on the block's ready word, and it touches the receiver's waker only when
//! the receiver sleeps. This file owns the handles only; the message list
//! and the receive loop live in `list.rs` and `chan.rs`.

use super::chan::{self, Rx, Tx, Unbounded};
use super::error::{SendError, TryRecvError};
use std::fmt;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Sends messages into an unbounded channel (tokio's
/// `mpsc::UnboundedSender`). Cloning it adds a sender; the channel closes
/// when the last one is dropped.
///
/// ```
/// let (tx, mut rx) = filch_sync::mpsc::unbounded_channel();
/// for i in 0..3 {
///     tx.send(i).unwrap();
/// }
/// drop(tx);
/// let rt = filch_executor::Executor::new().unwrap();
/// rt.block_on(async {
///     let mut sum = 0;
///     while let Some(i) = rx.recv().await {
///         sum += i;
///     }
///     assert_eq!(sum, 3);
/// });
/// ```
pub struct UnboundedSender<T> {
    tx: Tx<T, Unbounded>,
}

/// Receives messages from an unbounded channel (tokio's
/// `mpsc::UnboundedReceiver`). Also a [`Stream`](futures_core::Stream).
///
/// ```
/// let (tx, mut rx) = filch_sync::mpsc::unbounded_channel();
/// let rt = filch_executor::Executor::new().unwrap();
/// rt.spawn(async move { tx.send("ping").unwrap() });
/// assert_eq!(rt.block_on(rx.recv()), Some("ping"));
/// ```
pub struct UnboundedReceiver<T> {
    rx: Rx<T, Unbounded>,
}

/// Creates an unbounded channel (tokio's `mpsc::unbounded_channel`).
///
/// ```
/// let (tx, mut rx) = filch_sync::mpsc::unbounded_channel::<u8>();
/// tx.send(1).unwrap();
/// assert_eq!(rx.try_recv(), Ok(1));
/// ```
pub fn unbounded_channel<T>() -> (UnboundedSender<T>, UnboundedReceiver<T>) {
    let (tx, rx) = chan::channel(Unbounded);
    (UnboundedSender { tx }, UnboundedReceiver { rx })
}

impl<T> UnboundedSender<T> {
    /// Sends `value` without waiting. Fails, giving it back, once the
    /// receiver is closed or dropped.
    ///
    /// ```
    /// let (tx, rx) = filch_sync::mpsc::unbounded_channel();
    /// assert!(tx.send(1).is_ok());
    /// drop(rx);
    /// assert_eq!(tx.send(2).unwrap_err().0, 2);
    /// ```
    pub fn send(&self, value: T) -> Result<(), SendError<T>> {
        self.tx.send(value).map_err(SendError)
    }

    /// Waits until the receiver is closed or dropped. Cancel-safe.
    ///
    /// ```
    /// let (tx, rx) = filch_sync::mpsc::unbounded_channel::<()>();
    /// let rt = filch_executor::Executor::new().unwrap();
    /// rt.spawn(async move { drop(rx) });
    /// rt.block_on(tx.closed());
    /// ```
    pub async fn closed(&self) {
        self.tx.closed().await
    }

    /// Whether the receiver is closed or dropped.
    ///
    /// ```
    /// let (tx, mut rx) = filch_sync::mpsc::unbounded_channel::<()>();
    /// rx.close();
    /// assert!(tx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.tx.is_closed()
    }

    /// Whether both senders feed the same channel.
    ///
    /// ```
    /// let (tx, _rx) = filch_sync::mpsc::unbounded_channel::<()>();
    /// assert!(tx.same_channel(&tx.clone()));
    /// ```
    pub fn same_channel(&self, other: &Self) -> bool {
        self.tx.same_channel(&other.tx)
    }
}

impl<T> Clone for UnboundedSender<T> {
    fn clone(&self) -> Self {
        UnboundedSender {
            tx: self.tx.clone(),
        }
    }
}

impl<T> fmt::Debug for UnboundedSender<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedSender")
            .field("closed", &self.is_closed())
            .finish()
    }
}

impl<T> UnboundedReceiver<T> {
    /// Receives the next message; `None` once every sender is gone (or the
    /// channel was closed) and every message sent before was received.
    ///
    /// Cancel-safe: if the future is dropped before it completes, no
    /// message was taken.
    ///
    /// ```
    /// let (tx, mut rx) = filch_sync::mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// drop(tx);
    /// let rt = filch_executor::Executor::new().unwrap();
    /// assert_eq!(rt.block_on(rx.recv()), Some(1));
    /// assert_eq!(rt.block_on(rx.recv()), None);
    /// ```
    pub async fn recv(&mut self) -> Option<T> {
        std::future::poll_fn(|cx| self.rx.poll_recv(cx)).await
    }

    /// Receives at least one and up to `limit` messages into `buffer`,
    /// returning how many; `0` means closed and drained (or `limit` 0).
    /// Cancel-safe.
    ///
    /// ```
    /// let (tx, mut rx) = filch_sync::mpsc::unbounded_channel();
    /// for i in 0..4 {
    ///     tx.send(i).unwrap();
    /// }
    /// let mut buf = Vec::new();
    /// let rt = filch_executor::Executor::new().unwrap();
    /// assert_eq!(rt.block_on(rx.recv_many(&mut buf, 10)), 4);
    /// ```
    pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
        std::future::poll_fn(|cx| self.rx.poll_recv_many(cx, buffer, limit)).await
    }

    /// Takes a message if one is ready.
    ///
    /// ```
    /// use filch_sync::mpsc::{self, error::TryRecvError};
    /// let (tx, mut rx) = mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    /// ```
    pub fn try_recv(&mut self) -> Result<T, TryRecvError> {
        match self.rx.try_recv() {
            Ok(Some(v)) => Ok(v),
            Ok(None) => Err(TryRecvError::Disconnected),
            Err(()) => Err(TryRecvError::Empty),
        }
    }

    /// Receives from a thread that is not running async code.
    ///
    /// # Panics
    /// When called inside a runtime.
    ///
    /// ```
    /// let (tx, mut rx) = filch_sync::mpsc::unbounded_channel();
    /// std::thread::spawn(move || tx.send(3).unwrap());
    /// assert_eq!(rx.blocking_recv(), Some(3));
    /// ```
    #[track_caller]
    pub fn blocking_recv(&mut self) -> Option<T> {
        crate::blocking::block_on("mpsc::UnboundedReceiver::blocking_recv", self.recv())
    }

    /// Polls for the next message.
    ///
    /// ```
    /// use std::task::{Context, Poll, Waker};
    /// let (tx, mut rx) = filch_sync::mpsc::unbounded_channel();
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert!(rx.poll_recv(&mut cx).is_pending());
    /// tx.send(1).unwrap();
    /// assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(1)));
    /// ```
    pub fn poll_recv(&mut self, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.rx.poll_recv(cx)
    }

    /// Polls for up to `limit` messages.
    ///
    /// ```
    /// use std::task::{Context, Poll, Waker};
    /// let (tx, mut rx) = filch_sync::mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// let mut buf = Vec::new();
    /// let mut cx = Context::from_waker(Waker::noop());
    /// assert_eq!(rx.poll_recv_many(&mut cx, &mut buf, 4), Poll::Ready(1));
    /// ```
    pub fn poll_recv_many(
        &mut self,
        cx: &mut Context<'_>,
        buffer: &mut Vec<T>,
        limit: usize,
    ) -> Poll<usize> {
        self.rx.poll_recv_many(cx, buffer, limit)
    }

    /// Closes the channel without dropping the receiver: sends fail from
    /// now on; messages already sent can still be received.
    ///
    /// ```
    /// let (tx, mut rx) = filch_sync::mpsc::unbounded_channel();
    /// tx.send(1).unwrap();
    /// rx.close();
    /// assert!(tx.send(2).is_err());
    /// assert_eq!(rx.try_recv(), Ok(1));
    /// ```
    pub fn close(&mut self) {
        self.rx.close();
    }

    /// Whether the channel is closed. Messages may still be buffered.
    ///
    /// ```
    /// let (tx, rx) = filch_sync::mpsc::unbounded_channel::<u8>();
    /// drop(tx);
    /// assert!(rx.is_closed());
    /// ```
    pub fn is_closed(&self) -> bool {
        self.rx.is_closed()
    }

    /// Whether no message is buffered.
    ///
    /// ```
    /// let (tx, rx) = filch_sync::mpsc::unbounded_channel();
    /// assert!(rx.is_empty());
    /// tx.send(()).unwrap();
    /// assert!(!rx.is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Messages buffered (including sends that are completing right now).
    ///
    /// ```
    /// let (tx, rx) = filch_sync::mpsc::unbounded_channel();
    /// for i in 0..40 {
    ///     tx.send(i).unwrap();
    /// }
    /// assert_eq!(rx.len(), 40);
    /// ```
    pub fn len(&self) -> usize {
        self.rx.len()
    }

    /// Live senders.
    ///
    /// ```
    /// let (tx, rx) = filch_sync::mpsc::unbounded_channel::<u8>();
    /// drop(tx);
    /// assert_eq!(rx.sender_strong_count(), 0);
    /// ```
    pub fn sender_strong_count(&self) -> usize {
        self.rx.sender_count()
    }
}

impl<T> futures_core::Stream for UnboundedReceiver<T> {
    type Item = T;

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<T>> {
        self.get_mut().rx.poll_recv(cx)
    }
}

impl<T> fmt::Debug for UnboundedReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedReceiver")
            .field("len", &self.len())
            .field("closed", &self.is_closed())
            .finish()
    }
}

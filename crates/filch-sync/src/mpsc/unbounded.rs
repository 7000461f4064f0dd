//! The unbounded mpsc channel's public handles: `UnboundedSender`,
//! `UnboundedReceiver` (tokio's signatures).
//!
//! A send never waits: it is one CAS on the tail word plus one `fetch_or`
//! on the block's ready word, and it touches the receiver's waker only when
//! the receiver sleeps. This file owns the handles only; the message list
//! and the receive loop live in `list.rs` and `chan.rs`.

use super::chan::{self, Rx, Tx, Unbounded};
use super::error::SendError;
use std::fmt;

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

super::receiver::receiver_api!(UnboundedReceiver, "unbounded_channel()", "send");

impl<T> fmt::Debug for UnboundedReceiver<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("UnboundedReceiver")
            .field("len", &self.len())
            .field("closed", &self.is_closed())
            .finish()
    }
}

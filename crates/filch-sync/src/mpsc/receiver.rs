//! The receiving API that bounded and unbounded receivers share, written
//! once: `receiver_api!` expands it (with doc examples for the given
//! channel constructor) on a type whose `rx` field is a `chan::Rx`.
//!
//! This file owns that shared surface only; capacity-related methods stay
//! with the bounded receiver, and the receive logic itself is `chan.rs`.

macro_rules! receiver_api {
    ($Recv:ident, $make:literal, $send:literal) => {
        impl<T> $Recv<T> {
            /// Receives the next message; `None` once every sender is gone
            /// (or the channel was closed) and every message sent before
            /// was received.
            ///
            /// Cancel-safe: if the future is dropped before it completes,
            /// no message was taken.
            ///
            /// ```
            #[doc = concat!("let (tx, mut rx) = filch_sync::mpsc::", $make, ";")]
            #[doc = concat!("tx.", $send, "(1).unwrap();")]
            /// drop(tx);
            /// let rt = filch_executor::Executor::new().unwrap();
            /// assert_eq!(rt.block_on(rx.recv()), Some(1));
            /// assert_eq!(rt.block_on(rx.recv()), None);
            /// ```
            pub async fn recv(&mut self) -> Option<T> {
                std::future::poll_fn(|cx| self.rx.poll_recv(cx)).await
            }

            /// Receives at least one and up to `limit` messages into
            /// `buffer`, returning how many; `0` means the channel is
            /// closed and drained (or `limit` was 0). Cancel-safe.
            ///
            /// ```
            #[doc = concat!("let (tx, mut rx) = filch_sync::mpsc::", $make, ";")]
            /// for i in 0..3 {
            #[doc = concat!("    tx.", $send, "(i).unwrap();")]
            /// }
            /// let mut buf = Vec::new();
            /// let rt = filch_executor::Executor::new().unwrap();
            /// assert_eq!(rt.block_on(rx.recv_many(&mut buf, 2)), 2);
            /// assert_eq!(buf, [0, 1]);
            /// ```
            pub async fn recv_many(&mut self, buffer: &mut Vec<T>, limit: usize) -> usize {
                std::future::poll_fn(|cx| self.rx.poll_recv_many(cx, buffer, limit)).await
            }

            /// Takes a message if one is ready.
            ///
            /// ```
            /// use filch_sync::mpsc::error::TryRecvError;
            #[doc = concat!("let (tx, mut rx) = filch_sync::mpsc::", $make, ";")]
            /// assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
            #[doc = concat!("tx.", $send, "(1).unwrap();")]
            /// assert_eq!(rx.try_recv(), Ok(1));
            /// drop(tx);
            /// assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
            /// ```
            pub fn try_recv(&mut self) -> Result<T, $crate::mpsc::error::TryRecvError> {
                use $crate::mpsc::error::TryRecvError;
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
            #[doc = concat!("let (tx, mut rx) = filch_sync::mpsc::", $make, ";")]
            #[doc = concat!("std::thread::spawn(move || tx.", $send, "(2).unwrap());")]
            /// assert_eq!(rx.blocking_recv(), Some(2));
            /// ```
            #[track_caller]
            pub fn blocking_recv(&mut self) -> Option<T> {
                $crate::blocking::block_on(
                    concat!("mpsc::", stringify!($Recv), "::blocking_recv"),
                    self.recv(),
                )
            }

            /// Polls for the next message (the building block of `recv`).
            ///
            /// ```
            /// use std::task::{Context, Poll, Waker};
            #[doc = concat!("let (tx, mut rx) = filch_sync::mpsc::", $make, ";")]
            /// let mut cx = Context::from_waker(Waker::noop());
            /// assert!(rx.poll_recv(&mut cx).is_pending());
            #[doc = concat!("tx.", $send, "(4).unwrap();")]
            /// assert_eq!(rx.poll_recv(&mut cx), Poll::Ready(Some(4)));
            /// ```
            pub fn poll_recv(
                &mut self,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Option<T>> {
                self.rx.poll_recv(cx)
            }

            /// Polls for up to `limit` messages (the building block of
            /// `recv_many`).
            ///
            /// ```
            /// use std::task::{Context, Poll, Waker};
            #[doc = concat!("let (tx, mut rx) = filch_sync::mpsc::", $make, ";")]
            #[doc = concat!("tx.", $send, "(1).unwrap();")]
            /// let mut buf = Vec::new();
            /// let mut cx = Context::from_waker(Waker::noop());
            /// assert_eq!(rx.poll_recv_many(&mut cx, &mut buf, 4), Poll::Ready(1));
            /// ```
            pub fn poll_recv_many(
                &mut self,
                cx: &mut std::task::Context<'_>,
                buffer: &mut Vec<T>,
                limit: usize,
            ) -> std::task::Poll<usize> {
                self.rx.poll_recv_many(cx, buffer, limit)
            }

            /// Closes the channel without dropping the receiver: sends fail
            /// from now on (senders waiting for room fail too), and the
            /// messages already sent can still be received.
            ///
            /// ```
            #[doc = concat!("let (tx, mut rx) = filch_sync::mpsc::", $make, ";")]
            #[doc = concat!("tx.", $send, "(1).unwrap();")]
            /// rx.close();
            #[doc = concat!("assert!(tx.", $send, "(2).is_err());")]
            /// assert_eq!(rx.try_recv(), Ok(1));
            /// ```
            pub fn close(&mut self) {
                self.rx.close();
            }

            /// Whether the channel is closed (every sender gone, or
            /// `close` called). Messages may still be buffered.
            ///
            /// ```
            #[doc = concat!("let (tx, rx) = filch_sync::mpsc::", $make, ";")]
            #[doc = concat!("tx.", $send, "(1).unwrap();")]
            /// drop(tx);
            /// assert!(rx.is_closed());
            /// ```
            pub fn is_closed(&self) -> bool {
                self.rx.is_closed()
            }

            /// Whether no message is buffered.
            ///
            /// ```
            #[doc = concat!("let (tx, rx) = filch_sync::mpsc::", $make, ";")]
            /// assert!(rx.is_empty());
            #[doc = concat!("tx.", $send, "(()).unwrap();")]
            /// assert!(!rx.is_empty());
            /// ```
            pub fn is_empty(&self) -> bool {
                self.len() == 0
            }

            /// Messages buffered (including sends completing right now).
            ///
            /// ```
            #[doc = concat!("let (tx, rx) = filch_sync::mpsc::", $make, ";")]
            #[doc = concat!("tx.", $send, "(1).unwrap();")]
            #[doc = concat!("tx.", $send, "(2).unwrap();")]
            /// assert_eq!(rx.len(), 2);
            /// ```
            pub fn len(&self) -> usize {
                self.rx.len()
            }

            /// Live senders.
            ///
            /// ```
            #[doc = concat!("let (tx, rx) = filch_sync::mpsc::", $make, ";")]
            /// let tx2 = tx.clone();
            /// assert_eq!(rx.sender_strong_count(), 2);
            #[doc = concat!("tx2.", $send, "(1).unwrap();")]
            /// drop((tx, tx2));
            /// assert_eq!(rx.sender_strong_count(), 0);
            /// ```
            pub fn sender_strong_count(&self) -> usize {
                self.rx.sender_count()
            }
        }

        impl<T> futures_core::Stream for $Recv<T> {
            type Item = T;

            fn poll_next(
                self: std::pin::Pin<&mut Self>,
                cx: &mut std::task::Context<'_>,
            ) -> std::task::Poll<Option<T>> {
                self.get_mut().rx.poll_recv(cx)
            }
        }
    };
}

pub(crate) use receiver_api;

//! Read and write halves of a stream socket (TCP or Unix), borrowed or
//! owned.
//!
//! A half owns one direction of the stream: the read half is the only user
//! of the stream's exclusive reader slot, the write half of its writer slot
//! (see `reactor/scheduled_io.rs`), which is why the halves can run in two
//! tasks at once without a lock. This module owns the half types and the
//! reunite check; it must not do I/O of its own (it forwards to the stream).
//! tokio's traits for the halves (feature `tokio-io`) are in `tokio_io.rs`.

use futures_io::{AsyncRead, AsyncWrite};
use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

/// What a stream offers its halves: direction-owning operations on `&self`.
/// Sealed: implemented by this crate's stream types only.
pub trait SplitStream: sealed::Sealed {
    #[doc(hidden)]
    fn poll_read_ref(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>>;
    #[doc(hidden)]
    fn poll_read_vectored_ref(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>>;
    #[doc(hidden)]
    fn poll_write_ref(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>>;
    #[doc(hidden)]
    fn poll_write_vectored_ref(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>>;
    #[doc(hidden)]
    fn shutdown_write(&self) -> io::Result<()>;
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for crate::net::TcpStream {}
    impl Sealed for crate::net::UnixStream {}
}

/// The read half of a stream, borrowed by `split`.
///
/// ```
/// use filch_io::io::{AsyncReadExt, AsyncWriteExt};
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// rt.block_on(async {
///     let (mut a, mut b) = filch_io::net::UnixStream::pair().unwrap();
///     let (mut r, _w) = a.split();
///     b.write_all(b"x").await.unwrap();
///     let mut buf = [0; 1];
///     r.read_exact(&mut buf).await.unwrap();
/// });
/// ```
pub struct ReadHalf<'a, S>(&'a S);

/// The write half of a stream, borrowed by `split`.
///
/// ```
/// use filch_io::io::{AsyncReadExt, AsyncWriteExt};
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// rt.block_on(async {
///     let (mut a, mut b) = filch_io::net::UnixStream::pair().unwrap();
///     let (_r, mut w) = a.split();
///     w.write_all(b"x").await.unwrap();
///     let mut buf = [0; 1];
///     b.read_exact(&mut buf).await.unwrap();
/// });
/// ```
pub struct WriteHalf<'a, S>(&'a S);

pub(crate) fn split<S: SplitStream>(stream: &mut S) -> (ReadHalf<'_, S>, WriteHalf<'_, S>) {
    (ReadHalf(stream), WriteHalf(stream))
}

impl<S> ReadHalf<'_, S> {
    /// The stream (for addresses and socket options).
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let (mut a, _b) = filch_io::net::UnixStream::pair().unwrap();
    ///     let (r, _w) = a.split();
    ///     assert!(r.stream().peer_addr().is_ok());
    /// });
    /// ```
    pub fn stream(&self) -> &S {
        self.0
    }
}

impl<S> WriteHalf<'_, S> {
    /// The stream (for addresses and socket options).
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let (mut a, _b) = filch_io::net::UnixStream::pair().unwrap();
    ///     let (_r, w) = a.split();
    ///     assert!(w.stream().local_addr().is_ok());
    /// });
    /// ```
    pub fn stream(&self) -> &S {
        self.0
    }
}

impl<S: SplitStream> AsyncRead for ReadHalf<'_, S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_read_ref(cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_read_vectored_ref(cx, bufs)
    }
}

// SAFETY: forwards to the stream's own `ReadUninit`, whose promises these are.
#[cfg(any(feature = "hyper", feature = "tokio-io"))]
unsafe impl<S: crate::uninit::ReadUninit> crate::uninit::ReadUninit for ReadHalf<'_, S> {
    fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [std::mem::MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_read_uninit(cx, buf)
    }
}

impl<S: SplitStream> AsyncWrite for WriteHalf<'_, S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_write_ref(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.0.poll_write_vectored_ref(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.0.shutdown_write())
    }
}

/// The owned read half of a stream (`into_split`); movable to another task.
///
/// ```
/// use filch_io::io::{AsyncReadExt, AsyncWriteExt};
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(2).driver(park, driver).build().unwrap();
/// rt.block_on(async {
///     let (a, mut b) = filch_io::net::UnixStream::pair().unwrap();
///     let (mut r, _w) = a.into_split();
///     let reader = filch_executor::spawn(async move {
///         let mut s = String::new();
///         r.read_to_string(&mut s).await.map(|_| s)
///     });
///     b.write_all(b"bye").await.unwrap();
///     drop(b);
///     assert_eq!(reader.await.unwrap().unwrap(), "bye");
/// });
/// ```
pub struct OwnedReadHalf<S> {
    inner: Arc<S>,
}

/// The owned write half of a stream (`into_split`). Dropping it shuts down
/// the write direction, so the peer reads EOF (a half-close), unless it is
/// reunited first.
///
/// ```
/// use filch_io::io::{AsyncReadExt, AsyncWriteExt};
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// rt.block_on(async {
///     let (a, mut b) = filch_io::net::UnixStream::pair().unwrap();
///     let (_r, mut w) = a.into_split();
///     w.write_all(b"last words").await.unwrap();
///     drop(w); // EOF for the peer, though the read half lives on
///     let mut s = String::new();
///     b.read_to_string(&mut s).await.unwrap();
///     assert_eq!(s, "last words");
/// });
/// ```
pub struct OwnedWriteHalf<S: SplitStream> {
    inner: Arc<S>,
    shutdown_on_drop: bool,
}

pub(crate) fn into_split<S: SplitStream>(stream: S) -> (OwnedReadHalf<S>, OwnedWriteHalf<S>) {
    let inner = Arc::new(stream);
    (
        OwnedReadHalf {
            inner: inner.clone(),
        },
        OwnedWriteHalf {
            inner,
            shutdown_on_drop: true,
        },
    )
}

/// The two halves given to `reunite` came from different streams; both are
/// handed back.
pub struct ReuniteError<S: SplitStream>(pub OwnedReadHalf<S>, pub OwnedWriteHalf<S>);

impl<S: SplitStream> fmt::Debug for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("ReuniteError(..)")
    }
}

impl<S: SplitStream> fmt::Display for ReuniteError<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("tried to reunite halves that are not from the same stream")
    }
}

impl<S: SplitStream> std::error::Error for ReuniteError<S> {}

impl<S: SplitStream> OwnedReadHalf<S> {
    /// Puts the stream back together; fails (returning both halves) if they
    /// come from different streams.
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let (a, b) = filch_io::net::UnixStream::pair().unwrap();
    ///     let (ra, wa) = a.into_split();
    ///     let (rb, wb) = b.into_split();
    ///     let err = ra.reunite(wb).unwrap_err();
    ///     let (ra, wb) = (err.0, err.1);
    ///     let _a = ra.reunite(wa).unwrap();
    ///     let _b = rb.reunite(wb).unwrap();
    /// });
    /// ```
    pub fn reunite(self, mut write: OwnedWriteHalf<S>) -> Result<S, ReuniteError<S>> {
        if !Arc::ptr_eq(&self.inner, &write.inner) {
            return Err(ReuniteError(self, write));
        }
        write.shutdown_on_drop = false;
        drop(write);
        Ok(Arc::try_unwrap(self.inner)
            .unwrap_or_else(|_| unreachable!("both halves of the stream were given back")))
    }

    /// The stream (for addresses and socket options).
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let (a, _b) = filch_io::net::UnixStream::pair().unwrap();
    ///     let (r, _w) = a.into_split();
    ///     assert!(r.stream().peer_addr().is_ok());
    /// });
    /// ```
    pub fn stream(&self) -> &S {
        &self.inner
    }
}

impl<S: SplitStream> OwnedWriteHalf<S> {
    /// Puts the stream back together (see [`OwnedReadHalf::reunite`]).
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let (a, _b) = filch_io::net::UnixStream::pair().unwrap();
    ///     let (r, w) = a.into_split();
    ///     let _a = w.reunite(r).unwrap();
    /// });
    /// ```
    pub fn reunite(self, read: OwnedReadHalf<S>) -> Result<S, ReuniteError<S>> {
        read.reunite(self)
    }

    /// The stream (for addresses and socket options).
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let (a, _b) = filch_io::net::UnixStream::pair().unwrap();
    ///     let (_r, w) = a.into_split();
    ///     assert!(w.stream().local_addr().is_ok());
    /// });
    /// ```
    pub fn stream(&self) -> &S {
        &self.inner
    }
}

impl<S: SplitStream> Drop for OwnedWriteHalf<S> {
    fn drop(&mut self) {
        if self.shutdown_on_drop {
            // Best effort, like closing: the peer may already be gone.
            let _ = self.inner.shutdown_write();
        }
    }
}

impl<S: SplitStream> AsyncRead for OwnedReadHalf<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        self.inner.poll_read_ref(cx, buf)
    }

    fn poll_read_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        self.inner.poll_read_vectored_ref(cx, bufs)
    }
}

// SAFETY: forwards to the stream's own `ReadUninit`, whose promises these are.
#[cfg(any(feature = "hyper", feature = "tokio-io"))]
unsafe impl<S: crate::uninit::ReadUninit> crate::uninit::ReadUninit for OwnedReadHalf<S> {
    fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [std::mem::MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        self.inner.poll_read_uninit(cx, buf)
    }
}

impl<S: SplitStream> AsyncWrite for OwnedWriteHalf<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.inner.poll_write_ref(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.inner.poll_write_vectored_ref(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(Ok(()))
    }

    fn poll_close(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Poll::Ready(self.inner.shutdown_write())
    }
}

impl<S: fmt::Debug> fmt::Debug for ReadHalf<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReadHalf").field(self.0).finish()
    }
}

impl<S: fmt::Debug> fmt::Debug for WriteHalf<'_, S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("WriteHalf").field(self.0).finish()
    }
}

impl<S: fmt::Debug> fmt::Debug for OwnedReadHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedReadHalf").field(&self.inner).finish()
    }
}

impl<S: SplitStream + fmt::Debug> fmt::Debug for OwnedWriteHalf<S> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("OwnedWriteHalf").field(&self.inner).finish()
    }
}

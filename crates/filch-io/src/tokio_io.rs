//! tokio's I/O traits on filch (feature `tokio-io`): native
//! `tokio::io::{AsyncRead, AsyncWrite}` impls for filch's own streams, made
//! by [`tokio_read!`], [`tokio_write!`] and [`tokio_io!`], and [`Compat`],
//! the adapter between futures-io and tokio-io for everything else.
//!
//! The impls are native: `poll_read` hands the unfilled, possibly
//! uninitialised part of tokio's `ReadBuf` straight to the stream's read
//! syscall (through [`ReadUninit`]), so nothing is zero-filled or copied, and
//! the write side forwards to the stream's own `futures_io::AsyncWrite`.
//! Only tokio's traits are used: tokio is a dependency without default
//! features, so there is no tokio runtime and no tokio thread. This module
//! must not do I/O of its own (it adapts the streams' poll functions) nor
//! poll anything on another runtime.
//!
//! Giving a new filch I/O type tokio's traits is one line in its module:
//! `tokio_read!(T)` (needs `T: ReadUninit`), `tokio_write!(T)` (needs
//! `T: futures_io::AsyncWrite` with a real vectored write), or
//! `tokio_io!(T)` for both; generic types list their parameters first:
//! `tokio_read!([S: ReadUninit] OwnedReadHalf<S>)`.

use crate::uninit::ReadUninit;
use std::io::{self, IoSlice};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use tokio_traits::io::ReadBuf;

/// `poll_read` for tokio's `ReadBuf` on a [`ReadUninit`] reader: the
/// reader fills the unfilled part in place, then the filled mark moves.
pub(crate) fn poll_read_buf<R: ReadUninit + ?Sized>(
    reader: &R,
    cx: &mut Context<'_>,
    buf: &mut ReadBuf<'_>,
) -> Poll<io::Result<()>> {
    // SAFETY: the slice only goes to `poll_read_uninit`, which by
    // `ReadUninit`'s contract never de-initialises a byte of it.
    let unfilled = unsafe { buf.unfilled_mut() };
    let n = ready!(reader.poll_read_uninit(cx, unfilled))?;
    // SAFETY: by `ReadUninit`'s contract, `Ok(n)` means `n` is at most the
    // unfilled length and the first `n` unfilled bytes were initialised.
    unsafe { buf.assume_init(n) };
    buf.advance(n);
    Poll::Ready(Ok(()))
}

/// Implements `tokio::io::AsyncRead` for a [`ReadUninit`] type:
/// `tokio_read!(T)`, or `tokio_read!([generics] T<..>)`.
macro_rules! tokio_read {
    ([$($g:tt)*] $t:ty) => {
        impl<$($g)*> ::tokio_traits::io::AsyncRead for $t
        where
            $t: $crate::uninit::ReadUninit,
        {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut ::tokio_traits::io::ReadBuf<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                $crate::tokio_io::poll_read_buf(&*self, cx, buf)
            }
        }
    };
    ($t:ty) => {
        $crate::tokio_io::tokio_read!([] $t);
    };
}

/// Implements `tokio::io::AsyncWrite` for a type by forwarding to its
/// `futures_io::AsyncWrite` (`poll_close` is tokio's `poll_shutdown`):
/// `tokio_write!(T)`, or `tokio_write!([generics] T<..>)`. It reports
/// `is_write_vectored() == true`, so use it only for types whose
/// `poll_write_vectored` is a real vectored write.
macro_rules! tokio_write {
    ([$($g:tt)*] $t:ty) => {
        impl<$($g)*> ::tokio_traits::io::AsyncWrite for $t
        where
            $t: ::futures_io::AsyncWrite,
        {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                ::futures_io::AsyncWrite::poll_write(self, cx, buf)
            }

            fn poll_write_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                ::futures_io::AsyncWrite::poll_write_vectored(self, cx, bufs)
            }

            fn is_write_vectored(&self) -> bool {
                true
            }

            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::futures_io::AsyncWrite::poll_flush(self, cx)
            }

            fn poll_shutdown(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::futures_io::AsyncWrite::poll_close(self, cx)
            }
        }
    };
    ($t:ty) => {
        $crate::tokio_io::tokio_write!([] $t);
    };
}

/// Both [`tokio_read!`] and [`tokio_write!`].
macro_rules! tokio_io {
    ($($x:tt)*) => {
        $crate::tokio_io::tokio_read!($($x)*);
        $crate::tokio_io::tokio_write!($($x)*);
    };
}

pub(crate) use {tokio_io, tokio_read, tokio_write};

// The split halves (the streams get theirs from `stream_impls!`).
tokio_read!(['a, S: crate::net::split::SplitStream] crate::net::split::ReadHalf<'a, S>);
tokio_write!(['a, S: crate::net::split::SplitStream] crate::net::split::WriteHalf<'a, S>);
tokio_read!([S: crate::net::split::SplitStream] crate::net::split::OwnedReadHalf<S>);
tokio_write!([S: crate::net::split::SplitStream] crate::net::split::OwnedWriteHalf<S>);

pin_project_lite::pin_project! {
    /// An adapter between the two families of async I/O traits, in both
    /// directions: wrapping a `futures_io` reader or writer gives it
    /// `tokio::io`'s traits, and wrapping a `tokio::io` one gives it
    /// `futures_io`'s (so `filch::io`'s extension methods). `AsyncBufRead`
    /// crosses in both directions too.
    ///
    /// filch's own streams and their halves implement both families
    /// natively and need no `Compat`. Use it for other crates' types: a
    /// futures-io type handed to a crate written against tokio's traits, or
    /// a tokio-io type (a TLS stream, tokio's `DuplexStream`) used with
    /// [`AsyncReadExt`](crate::io::AsyncReadExt) and friends. It runs on the
    /// task that polls it: no runtime, thread or allocation of its own.
    ///
    /// The futures-io → tokio-io read direction initialises tokio's buffer
    /// before reading (a futures-io reader takes `&mut [u8]`), as any such
    /// adapter must; the other direction adds nothing.
    ///
    /// ```
    /// # use tokio_traits as tokio; // filch's key for tokio's traits
    /// use filch_io::io::{AsyncReadExt, Compat};
    /// use tokio::io::AsyncWriteExt as _;
    /// # let rt = filch_executor::Builder::new().worker_threads(1).build().unwrap();
    /// rt.block_on(async {
    ///     // tokio-io -> futures-io: a tokio reader read with filch's helpers.
    ///     let mut text = String::new();
    ///     Compat::new(&b"from tokio"[..]).read_to_string(&mut text).await.unwrap();
    ///     assert_eq!(text, "from tokio");
    ///
    ///     // futures-io -> tokio-io: a futures writer driven by tokio's helpers.
    ///     let mut out = Compat::new(futures_lite::io::Cursor::new(Vec::new()));
    ///     out.write_all(b"to tokio").await.unwrap();
    ///     assert_eq!(out.into_inner().into_inner(), b"to tokio");
    /// });
    /// ```
    #[derive(Clone, Debug, Default)]
    pub struct Compat<T> {
        #[pin]
        inner: T,
    }
}

impl<T> Compat<T> {
    /// Wraps `inner` (see [`CompatExt::compat`] for the method form).
    ///
    /// ```
    /// let c = filch_io::io::Compat::new(&b"abc"[..]);
    /// assert_eq!(c.get_ref().len(), 3);
    /// ```
    pub fn new(inner: T) -> Compat<T> {
        Compat { inner }
    }

    /// The wrapped value.
    ///
    /// ```
    /// let c = filch_io::io::Compat::new(5);
    /// assert_eq!(*c.get_ref(), 5);
    /// ```
    pub fn get_ref(&self) -> &T {
        &self.inner
    }

    /// The wrapped value, mutably.
    ///
    /// ```
    /// let mut c = filch_io::io::Compat::new(5);
    /// *c.get_mut() += 1;
    /// assert_eq!(c.into_inner(), 6);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        &mut self.inner
    }

    /// The wrapped value, pinned (for a `T` that is not `Unpin`).
    ///
    /// ```
    /// let mut c = std::pin::pin!(filch_io::io::Compat::new(5));
    /// assert_eq!(*c.as_mut().get_pin_mut(), 5);
    /// ```
    pub fn get_pin_mut(self: Pin<&mut Self>) -> Pin<&mut T> {
        self.project().inner
    }

    /// Unwraps the value.
    ///
    /// ```
    /// let c = filch_io::io::Compat::new(vec![1, 2]);
    /// assert_eq!(c.into_inner(), [1, 2]);
    /// ```
    pub fn into_inner(self) -> T {
        self.inner
    }
}

/// `.compat()` on any value: wraps it in a [`Compat`], which gives a
/// futures-io type tokio's I/O traits and a tokio-io type futures-io's.
///
/// ```
/// use filch_io::io::{AsyncReadExt, CompatExt};
/// # let rt = filch_executor::Builder::new().worker_threads(1).build().unwrap();
/// rt.block_on(async {
///     // A tokio reader (`&[u8]` implements both families; `Compat` picks
///     // the tokio side here, to give futures-io's traits).
///     let mut reader = (&b"hi"[..]).compat();
///     let mut buf = [0; 2];
///     reader.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"hi");
/// });
/// ```
pub trait CompatExt: Sized {
    /// `Compat::new(self)`.
    ///
    /// ```
    /// use filch_io::io::CompatExt;
    /// let c = Vec::<u8>::new().compat();
    /// assert!(c.get_ref().is_empty());
    /// ```
    fn compat(self) -> Compat<Self> {
        Compat::new(self)
    }
}

impl<T> CompatExt for T {}

/// `Compat<T>` gets the `$to` family's `AsyncWrite` and `AsyncBufRead` from
/// `T`'s `$from` ones: the methods match one to one, except the close
/// (futures-io's `poll_close` is tokio's `poll_shutdown`).
macro_rules! compat_forward {
    ($($from:ident)::+ => $($to:ident)::+, $close:ident => $to_close:ident) => {
        impl<T: $($from)::+::AsyncWrite> $($to)::+::AsyncWrite for Compat<T> {
            fn poll_write(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &[u8],
            ) -> Poll<io::Result<usize>> {
                self.project().inner.poll_write(cx, buf)
            }

            fn poll_write_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &[IoSlice<'_>],
            ) -> Poll<io::Result<usize>> {
                self.project().inner.poll_write_vectored(cx, bufs)
            }

            fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.project().inner.poll_flush(cx)
            }

            fn $to_close(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
                self.project().inner.$close(cx)
            }
        }

        impl<T: $($from)::+::AsyncBufRead> $($to)::+::AsyncBufRead for Compat<T> {
            fn poll_fill_buf(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
            ) -> Poll<io::Result<&[u8]>> {
                self.project().inner.poll_fill_buf(cx)
            }

            fn consume(self: Pin<&mut Self>, amt: usize) {
                self.project().inner.consume(amt)
            }
        }
    };
}

// futures-io -> tokio-io.

impl<T: futures_io::AsyncRead> tokio_traits::io::AsyncRead for Compat<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        // A futures-io reader takes initialised memory: zero what tokio's
        // buffer has not initialised yet (only once per buffer).
        let n = ready!(
            self.project()
                .inner
                .poll_read(cx, buf.initialize_unfilled())
        )?;
        // Panics (it cannot be unsound) if the reader claims more bytes than
        // it was given.
        buf.advance(n);
        Poll::Ready(Ok(()))
    }
}

compat_forward!(futures_io => tokio_traits::io, poll_close => poll_shutdown);

// tokio-io -> futures-io.

impl<T: tokio_traits::io::AsyncRead> futures_io::AsyncRead for Compat<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut [u8],
    ) -> Poll<io::Result<usize>> {
        let start = buf.as_ptr();
        let mut read_buf = ReadBuf::new(buf);
        ready!(self.project().inner.poll_read(cx, &mut read_buf))?;
        let filled = read_buf.filled();
        // `poll_read` gets `&mut ReadBuf`, so a reader could swap in a
        // buffer of its own; the bytes would then not be in `buf`.
        assert_eq!(
            filled.as_ptr(),
            start,
            "a tokio::io::AsyncRead impl replaced the ReadBuf it was given"
        );
        Poll::Ready(Ok(filled.len()))
    }
}

compat_forward!(tokio_traits::io => futures_io, poll_shutdown => poll_close);

//! What every stream socket (TCP, Unix) shares: the read and write loops on
//! a registered stream socket (the syscalls are `sys`'s), and
//! [`stream_impls!`], which gives a stream type its `SplitStream`,
//! `futures_io::AsyncRead` and `AsyncWrite` impls (and tokio's, with the
//! `tokio-io` feature) from them.
//!
//! Reads and writes here use the descriptor's *exclusive* reader and writer
//! slots: callers own the direction (`&mut` access, or one split half).
//! This module must not know which protocol a stream speaks.

use crate::reactor::registration::{PollEvented, poll_stream};
use crate::reactor::scheduled_io::Direction;
use crate::sys;
use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::AsFd;
use std::task::{Context, Poll};

pub(crate) fn poll_read<T: AsFd>(
    io: &PollEvented<T>,
    cx: &mut Context<'_>,
    buf: &mut [u8],
) -> Poll<io::Result<usize>> {
    poll_stream(io, cx, Direction::Read, buf.len(), || {
        sys::recv(io.get_ref(), buf)
    })
}

pub(crate) fn poll_read_vectored<T: AsFd>(
    io: &PollEvented<T>,
    cx: &mut Context<'_>,
    bufs: &mut [IoSliceMut<'_>],
) -> Poll<io::Result<usize>> {
    let len = bufs.iter().map(|b| b.len()).sum();
    poll_stream(io, cx, Direction::Read, len, || {
        sys::recv_vectored(io.get_ref(), bufs)
    })
}

pub(crate) fn poll_write<T: AsFd>(
    io: &PollEvented<T>,
    cx: &mut Context<'_>,
    buf: &[u8],
) -> Poll<io::Result<usize>> {
    poll_stream(io, cx, Direction::Write, buf.len(), || {
        sys::send(io.get_ref(), buf)
    })
}

pub(crate) fn poll_write_vectored<T: AsFd>(
    io: &PollEvented<T>,
    cx: &mut Context<'_>,
    bufs: &[IoSlice<'_>],
) -> Poll<io::Result<usize>> {
    let len = bufs.iter().map(|b| b.len()).sum();
    poll_stream(io, cx, Direction::Write, len, || {
        sys::send_vectored(io.get_ref(), bufs)
    })
}

/// `recv(2)` into the uninitialised tail of a buffer (hyper's and tokio's
/// read traits, through [`ReadUninit`](crate::uninit::ReadUninit)).
#[cfg(any(feature = "hyper", feature = "tokio-io"))]
pub(crate) fn poll_read_uninit<T: AsFd>(
    io: &PollEvented<T>,
    cx: &mut Context<'_>,
    buf: &mut [std::mem::MaybeUninit<u8>],
) -> Poll<io::Result<usize>> {
    poll_stream(io, cx, Direction::Read, buf.len(), || {
        sys::recv_uninit(io.get_ref(), buf)
    })
}

/// `close()` sends EOF; a peer that is already gone counts as closed.
pub(crate) fn close_result(res: io::Result<()>) -> io::Result<()> {
    match res {
        Err(e) if e.kind() == io::ErrorKind::NotConnected => Ok(()),
        res => res,
    }
}

/// Implements `SplitStream`, `AsyncRead` and `AsyncWrite` (and, with the
/// `hyper` or `tokio-io` feature, `ReadUninit`; with `tokio-io`, tokio's
/// traits) for a stream type whose registered descriptor is its `io`
/// field and which has a std-like `shutdown(&self, Shutdown)`. Expanded in
/// the type's own module, so it can reach the private field.
macro_rules! stream_impls {
    ($t:ty) => {
        impl $crate::net::split::SplitStream for $t {
            fn poll_read_ref(
                &self,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut [u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                $crate::net::stream::poll_read(&self.io, cx, buf)
            }

            fn poll_read_vectored_ref(
                &self,
                cx: &mut ::std::task::Context<'_>,
                bufs: &mut [::std::io::IoSliceMut<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                $crate::net::stream::poll_read_vectored(&self.io, cx, bufs)
            }

            fn poll_write_ref(
                &self,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                $crate::net::stream::poll_write(&self.io, cx, buf)
            }

            fn poll_write_vectored_ref(
                &self,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                $crate::net::stream::poll_write_vectored(&self.io, cx, bufs)
            }

            fn shutdown_write(&self) -> ::std::io::Result<()> {
                $crate::net::stream::close_result(self.shutdown(::std::net::Shutdown::Write))
            }
        }

        impl ::futures_io::AsyncRead for $t {
            fn poll_read(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut [u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                $crate::net::stream::poll_read(&self.io, cx, buf)
            }

            fn poll_read_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &mut [::std::io::IoSliceMut<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                $crate::net::stream::poll_read_vectored(&self.io, cx, bufs)
            }
        }

        impl ::futures_io::AsyncWrite for $t {
            fn poll_write(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                buf: &[u8],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                $crate::net::stream::poll_write(&self.io, cx, buf)
            }

            fn poll_write_vectored(
                self: ::std::pin::Pin<&mut Self>,
                cx: &mut ::std::task::Context<'_>,
                bufs: &[::std::io::IoSlice<'_>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                $crate::net::stream::poll_write_vectored(&self.io, cx, bufs)
            }

            fn poll_flush(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                // Writes go straight to the socket: nothing is buffered here.
                ::std::task::Poll::Ready(Ok(()))
            }

            fn poll_close(
                self: ::std::pin::Pin<&mut Self>,
                _cx: &mut ::std::task::Context<'_>,
            ) -> ::std::task::Poll<::std::io::Result<()>> {
                ::std::task::Poll::Ready($crate::net::stream::close_result(
                    self.shutdown(::std::net::Shutdown::Write),
                ))
            }
        }

        // SAFETY: `recv(2)` only writes initialised bytes into the buffer
        // and returns how many, at most its length.
        #[cfg(any(feature = "hyper", feature = "tokio-io"))]
        unsafe impl $crate::uninit::ReadUninit for $t {
            fn poll_read_uninit(
                &self,
                cx: &mut ::std::task::Context<'_>,
                buf: &mut [::std::mem::MaybeUninit<u8>],
            ) -> ::std::task::Poll<::std::io::Result<usize>> {
                $crate::net::stream::poll_read_uninit(&self.io, cx, buf)
            }
        }

        #[cfg(feature = "tokio-io")]
        $crate::tokio_io::tokio_io!($t);
    };
}

pub(crate) use stream_impls;

//! The socket syscalls filch makes itself rather than through std: creating
//! sockets non-blocking and close-on-exec in one call, starting a
//! non-blocking `connect`, listening with our backlog, `accept4` straight
//! into non-blocking mode, `SO_ERROR`, and the stream reads and writes
//! (`recv`/`send`, `recvmsg`/`sendmsg` for vectored I/O, and `recv` into
//! uninitialised memory for hyper's and tokio's read traits), and the pipe
//! calls of child processes (`read`/`write`, `readv`/`writev`, switching a
//! pipe's blocking mode).
//!
//! Built on `rustix` (direct syscalls on Linux). On systems without
//! `SOCK_NONBLOCK`/`SOCK_CLOEXEC` (Apple's, AIX, Haiku) the flags are set
//! with a follow-up call, and on Apple's `SO_NOSIGPIPE` too. This module
//! owns no policy: callers decide what to do with `WouldBlock` and
//! `EINPROGRESS`.

use rustix::net::{AddressFamily, SocketFlags, SocketType};
use std::io::{self, IoSlice, IoSliceMut};
use std::net::SocketAddr;
use std::os::fd::{AsFd, OwnedFd};
use std::path::Path;

/// Listen backlog for TCP and Unix listeners (std uses 128; a burst of
/// connects beyond the backlog waits for SYN retransmits).
pub(crate) const LISTEN_BACKLOG: i32 = 1024;

#[cfg(not(any(
    target_vendor = "apple",
    target_os = "aix",
    target_os = "haiku",
    target_os = "nto",
    target_os = "espidf",
    target_os = "horizon",
    target_os = "vita",
)))]
mod flags {
    use super::*;

    pub(super) const SOCKET: SocketFlags = SocketFlags::NONBLOCK.union(SocketFlags::CLOEXEC);

    /// Nothing to do: the flags were set atomically.
    pub(super) fn fixup(_fd: &OwnedFd) -> io::Result<()> {
        Ok(())
    }

    /// `accept4` straight into non-blocking, close-on-exec mode.
    pub(super) fn accept(
        listener: &std::net::TcpListener,
    ) -> io::Result<(std::net::TcpStream, SocketAddr)> {
        let (fd, addr) = rustix::net::acceptfrom_with(listener, SOCKET)?;
        let addr = match addr {
            Some(addr) => addr,
            None => rustix::net::getpeername(&fd)?.ok_or_else(|| {
                io::Error::other("accepted a TCP connection with no peer address")
            })?,
        };
        let addr = SocketAddr::try_from(addr)
            .map_err(|e| io::Error::other(format!("accepted a non-IP peer address: {e}")))?;
        Ok((std::net::TcpStream::from(fd), addr))
    }
}

#[cfg(any(
    target_vendor = "apple",
    target_os = "aix",
    target_os = "haiku",
    target_os = "nto",
    target_os = "espidf",
    target_os = "horizon",
    target_os = "vita",
))]
mod flags {
    use super::*;

    pub(super) const SOCKET: SocketFlags = SocketFlags::empty();

    /// Sets non-blocking and close-on-exec after the fact (and, on Apple's
    /// systems, which have no `MSG_NOSIGNAL`, `SO_NOSIGPIPE`: a write to a
    /// closed peer fails with `EPIPE` instead of killing the process).
    pub(super) fn fixup(fd: &OwnedFd) -> io::Result<()> {
        rustix::io::ioctl_fionbio(fd, true)?;
        rustix::io::fcntl_setfd(fd, rustix::io::FdFlags::CLOEXEC)?;
        #[cfg(target_vendor = "apple")]
        rustix::net::sockopt::set_socket_nosigpipe(fd, true)?;
        Ok(())
    }

    /// `accept` (std sets close-on-exec), then non-blocking mode.
    pub(super) fn accept(
        listener: &std::net::TcpListener,
    ) -> io::Result<(std::net::TcpStream, SocketAddr)> {
        let (stream, addr) = listener.accept()?;
        stream.set_nonblocking(true)?;
        #[cfg(target_vendor = "apple")]
        rustix::net::sockopt::set_socket_nosigpipe(&stream, true)?;
        Ok((stream, addr))
    }
}

fn family(addr: &SocketAddr) -> AddressFamily {
    match addr {
        SocketAddr::V4(_) => AddressFamily::INET,
        SocketAddr::V6(_) => AddressFamily::INET6,
    }
}

/// A new non-blocking, close-on-exec socket.
fn socket(domain: AddressFamily, ty: SocketType) -> io::Result<OwnedFd> {
    let fd = rustix::net::socket_with(domain, ty, flags::SOCKET, None)?;
    flags::fixup(&fd)?;
    Ok(fd)
}

/// Outcome of starting a non-blocking connect.
pub(crate) enum Connect {
    /// Connected already (common for Unix sockets and loopback).
    Done(OwnedFd),
    /// `EINPROGRESS`: wait until writable, then check `SO_ERROR`.
    InProgress(OwnedFd),
}

fn connect_with(fd: OwnedFd, res: rustix::io::Result<()>) -> io::Result<Connect> {
    match res {
        Ok(()) => Ok(Connect::Done(fd)),
        Err(rustix::io::Errno::INPROGRESS) => Ok(Connect::InProgress(fd)),
        Err(e) => Err(e.into()),
    }
}

/// Starts a non-blocking TCP connect to `addr`.
pub(crate) fn tcp_connect(addr: SocketAddr) -> io::Result<Connect> {
    let fd = socket(family(&addr), SocketType::STREAM)?;
    let res = rustix::net::connect(&fd, &addr);
    connect_with(fd, res)
}

/// Starts a non-blocking Unix stream connect to `path`.
pub(crate) fn unix_connect(path: &Path) -> io::Result<Connect> {
    let addr = unix_addr(path)?;
    let fd = socket(AddressFamily::UNIX, SocketType::STREAM)?;
    let res = rustix::net::connect(&fd, &addr);
    connect_with(fd, res)
}

fn unix_addr(path: &Path) -> io::Result<rustix::net::SocketAddrUnix> {
    rustix::net::SocketAddrUnix::new(path).map_err(|e| {
        io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid Unix socket path {path:?}: {e}"),
        )
    })
}

/// A non-blocking TCP listener on `addr` (`SO_REUSEADDR` on, as std does).
pub(crate) fn tcp_listen(addr: SocketAddr) -> io::Result<std::net::TcpListener> {
    let fd = socket(family(&addr), SocketType::STREAM)?;
    rustix::net::sockopt::set_socket_reuseaddr(&fd, true)?;
    rustix::net::bind(&fd, &addr)?;
    rustix::net::listen(&fd, LISTEN_BACKLOG)?;
    Ok(std::net::TcpListener::from(fd))
}

/// A non-blocking Unix stream listener at `path`.
pub(crate) fn unix_listen(path: &Path) -> io::Result<std::os::unix::net::UnixListener> {
    let addr = unix_addr(path)?;
    let fd = socket(AddressFamily::UNIX, SocketType::STREAM)?;
    rustix::net::bind(&fd, &addr)?;
    rustix::net::listen(&fd, LISTEN_BACKLOG)?;
    Ok(std::os::unix::net::UnixListener::from(fd))
}

/// Accepts one connection, non-blocking and close-on-exec.
pub(crate) fn tcp_accept(
    listener: &std::net::TcpListener,
) -> io::Result<(std::net::TcpStream, SocketAddr)> {
    flags::accept(listener)
}

/// The pending error of a socket (`SO_ERROR`), if any, clearing it.
pub(crate) fn take_error(fd: impl AsFd) -> io::Result<Option<io::Error>> {
    match rustix::net::sockopt::socket_error(fd)? {
        Ok(()) => Ok(None),
        Err(e) => Ok(Some(e.into())),
    }
}

/// `send` flags for stream writes: no `SIGPIPE` when the peer is gone (the
/// write fails with `EPIPE` instead). Where there is no `MSG_NOSIGNAL`
/// (Apple's systems) the socket carries `SO_NOSIGPIPE` from creation
/// instead (`flags::fixup`).
#[cfg(not(target_vendor = "apple"))]
const SEND_FLAGS: rustix::net::SendFlags = rustix::net::SendFlags::NOSIGNAL;
#[cfg(target_vendor = "apple")]
const SEND_FLAGS: rustix::net::SendFlags = rustix::net::SendFlags::empty();

// The stream read/write calls. Through rustix, not std's `Read`/`Write`
// for `&TcpStream`: on Linux rustix makes the syscall itself, where std
// goes through libc's wrappers, whose cancellation bookkeeping
// (`__pthread_{disable,enable}_asynccancel`) was ~2.3 % of the CPU samples
// of the TCP echo benchmark. And vectored writes are `sendmsg`, not std's
// `writev`: `writev` takes the VFS path (`vfs_writev`, `fdget_pos`,
// `do_iter_readv_writev`: ~3 % of a hyper server's samples under wrk).

/// The most buffers one vectored call takes (`UIO_MAXIOV`, also Apple's and
/// the BSDs' `IOV_MAX`). Like std, vectored calls use the first this many
/// and move a prefix, where the kernel would refuse more (`EMSGSIZE`).
const MAX_IOV: usize = 1024;

/// `recv(2)` on a stream socket.
pub(crate) fn recv(fd: impl AsFd, buf: &mut [u8]) -> io::Result<usize> {
    let (n, _) = rustix::net::recv(fd, buf, rustix::net::RecvFlags::empty())?;
    Ok(n)
}

/// `recvmsg(2)` into the first [`MAX_IOV`] of `bufs` (no control data) on
/// a stream socket.
pub(crate) fn recv_vectored(fd: impl AsFd, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
    let mut control = rustix::net::RecvAncillaryBuffer::default();
    let n = bufs.len().min(MAX_IOV);
    let bufs = &mut bufs[..n];
    let msg = rustix::net::recvmsg(fd, bufs, &mut control, rustix::net::RecvFlags::empty())?;
    Ok(msg.bytes)
}

/// `send(2)` on a stream socket.
pub(crate) fn send(fd: impl AsFd, buf: &[u8]) -> io::Result<usize> {
    Ok(rustix::net::send(fd, buf, SEND_FLAGS)?)
}

/// `sendmsg(2)` of the first [`MAX_IOV`] of `bufs` (no control data) on a
/// stream socket.
pub(crate) fn send_vectored(fd: impl AsFd, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    let mut control = rustix::net::SendAncillaryBuffer::default();
    let bufs = &bufs[..bufs.len().min(MAX_IOV)];
    Ok(rustix::net::sendmsg(fd, bufs, &mut control, SEND_FLAGS)?)
}

/// `recv(2)` on a stream socket into possibly uninitialised memory; returns
/// the byte count. `recv`, not `read`: the socket call skips the VFS layer
/// (`fdget_pos`, `vfs_read`, `sock_read_iter` were ~2.5 % of a hyper
/// server's CPU samples in one profile under wrk), like [`recv`]. For
/// hyper's and tokio's read traits.
#[cfg(any(feature = "hyper", feature = "tokio-io"))]
pub(crate) fn recv_uninit(
    fd: impl AsFd,
    buf: &mut [std::mem::MaybeUninit<u8>],
) -> io::Result<usize> {
    let ((init, _), _) = rustix::net::recv(fd, buf, rustix::net::RecvFlags::empty())?;
    Ok(init.len())
}

// Pipes (a child process's stdin, stdout and stderr). `read`/`write`: a
// pipe is not a socket, so `recv`/`send` would fail with `ENOTSOCK`.

/// `read(2)` on a pipe.
pub(crate) fn read(fd: impl AsFd, buf: &mut [u8]) -> io::Result<usize> {
    Ok(rustix::io::read(fd, buf)?)
}

/// `readv(2)` into the first [`MAX_IOV`] of `bufs` on a pipe.
pub(crate) fn read_vectored(fd: impl AsFd, bufs: &mut [IoSliceMut<'_>]) -> io::Result<usize> {
    let n = bufs.len().min(MAX_IOV);
    Ok(rustix::io::readv(fd, &mut bufs[..n])?)
}

/// `read(2)` on a pipe into possibly uninitialised memory; returns the byte
/// count (for tokio's read trait).
#[cfg(feature = "tokio-io")]
pub(crate) fn read_uninit(
    fd: impl AsFd,
    buf: &mut [std::mem::MaybeUninit<u8>],
) -> io::Result<usize> {
    let (init, _) = rustix::io::read(fd, buf)?;
    Ok(init.len())
}

/// `write(2)` on a pipe.
pub(crate) fn write(fd: impl AsFd, buf: &[u8]) -> io::Result<usize> {
    Ok(rustix::io::write(fd, buf)?)
}

/// `writev(2)` of the first [`MAX_IOV`] of `bufs` on a pipe.
pub(crate) fn write_vectored(fd: impl AsFd, bufs: &[IoSlice<'_>]) -> io::Result<usize> {
    Ok(rustix::io::writev(fd, &bufs[..bufs.len().min(MAX_IOV)])?)
}

/// Puts a descriptor in (or out of) non-blocking mode.
pub(crate) fn set_nonblocking(fd: impl AsFd, nonblocking: bool) -> io::Result<()> {
    Ok(rustix::io::ioctl_fionbio(fd, nonblocking)?)
}

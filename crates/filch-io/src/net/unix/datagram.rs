//! [`UnixDatagram`]: datagram-oriented Unix domain sockets.
//!
//! Every operation takes `&self` (each waiting one has its own waiter
//! entry), so a socket can be shared by sending and receiving tasks. This
//! module owns the Unix datagram surface only.

use super::SocketAddr;
use crate::reactor::registration::PollEvented;
use crate::reactor::scheduled_io::{Direction, READABLE, WRITABLE};
use std::fmt;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;

/// A Unix domain datagram socket.
///
/// ```
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// rt.block_on(async {
///     let (a, b) = filch_io::net::UnixDatagram::pair().unwrap();
///     a.send(b"one").await.unwrap();
///     a.send(b"two").await.unwrap();
///     let mut buf = [0; 8];
///     assert_eq!(b.recv(&mut buf).await.unwrap(), 3);
///     assert_eq!(&buf[..3], b"one");
/// });
/// ```
pub struct UnixDatagram {
    io: PollEvented<std::os::unix::net::UnixDatagram>,
}

impl UnixDatagram {
    fn wrap(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        socket.set_nonblocking(true)?;
        Ok(UnixDatagram {
            io: PollEvented::new(socket, READABLE | WRITABLE)?,
        })
    }

    /// A socket bound to `path` (synchronous; fails if `path` exists).
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// let _guard = rt.handle().enter();
    /// let dir = std::env::temp_dir().join(format!("filch-doc-udb-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let socket = filch_io::net::UnixDatagram::bind(dir.join("d")).unwrap();
    /// assert!(socket.local_addr().unwrap().as_pathname().is_some());
    /// std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixDatagram> {
        UnixDatagram::wrap(std::os::unix::net::UnixDatagram::bind(path)?)
    }

    /// A socket bound to no address (it can send, and receive replies to
    /// an unnamed address only from a `pair` or after `connect`).
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// let _guard = rt.handle().enter();
    /// let socket = filch_io::net::UnixDatagram::unbound().unwrap();
    /// assert!(socket.local_addr().unwrap().is_unnamed());
    /// ```
    pub fn unbound() -> io::Result<UnixDatagram> {
        UnixDatagram::wrap(std::os::unix::net::UnixDatagram::unbound()?)
    }

    /// A pair of connected sockets.
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// let _guard = rt.handle().enter();
    /// let (a, b) = filch_io::net::UnixDatagram::pair().unwrap();
    /// # drop((a, b));
    /// ```
    pub fn pair() -> io::Result<(UnixDatagram, UnixDatagram)> {
        let (a, b) = std::os::unix::net::UnixDatagram::pair()?;
        Ok((UnixDatagram::wrap(a)?, UnixDatagram::wrap(b)?))
    }

    /// Wraps a std socket (made non-blocking here).
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// let std_socket = std::os::unix::net::UnixDatagram::unbound().unwrap();
    /// assert!(rt.block_on(async { filch_io::net::UnixDatagram::from_std(std_socket) }).is_ok());
    /// ```
    pub fn from_std(socket: std::os::unix::net::UnixDatagram) -> io::Result<UnixDatagram> {
        UnixDatagram::wrap(socket)
    }

    /// Deregisters the socket and returns the std one (non-blocking).
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// let _guard = rt.handle().enter();
    /// let std_socket = filch_io::net::UnixDatagram::unbound().unwrap().into_std();
    /// # drop(std_socket);
    /// ```
    pub fn into_std(self) -> std::os::unix::net::UnixDatagram {
        self.io.into_inner()
    }

    /// Sets the default destination of [`send`](Self::send) and the only
    /// source [`recv`](Self::recv) accepts (synchronous).
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// let _guard = rt.handle().enter();
    /// let err = filch_io::net::UnixDatagram::unbound().unwrap().connect("/nonexistent/d").unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// ```
    pub fn connect(&self, path: impl AsRef<Path>) -> io::Result<()> {
        self.io.get_ref().connect(path)
    }

    /// Sends one datagram to the connected peer. Cancel-safe.
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let (a, _b) = filch_io::net::UnixDatagram::pair().unwrap();
    ///     assert_eq!(a.send(b"x").await.unwrap(), 1);
    /// });
    /// ```
    pub async fn send(&self, buf: &[u8]) -> io::Result<usize> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .async_io(Direction::Write, || socket.send(buf))
            .await
    }

    /// Receives one datagram from the connected peer. Cancel-safe.
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let (a, b) = filch_io::net::UnixDatagram::pair().unwrap();
    ///     a.send(b"xy").await.unwrap();
    ///     let mut buf = [0; 4];
    ///     assert_eq!(b.recv(&mut buf).await.unwrap(), 2);
    /// });
    /// ```
    pub async fn recv(&self, buf: &mut [u8]) -> io::Result<usize> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .async_io(Direction::Read, || socket.recv(buf))
            .await
    }

    /// Sends one datagram to the socket bound at `path`. Cancel-safe.
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// let dir = std::env::temp_dir().join(format!("filch-doc-uds-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// std::fs::create_dir_all(&dir).unwrap();
    /// rt.block_on(async {
    ///     let server = filch_io::net::UnixDatagram::bind(dir.join("srv")).unwrap();
    ///     let client = filch_io::net::UnixDatagram::unbound().unwrap();
    ///     client.send_to(b"hey", dir.join("srv")).await.unwrap();
    ///     let mut buf = [0; 8];
    ///     let (n, _from) = server.recv_from(&mut buf).await.unwrap();
    ///     assert_eq!(&buf[..n], b"hey");
    /// });
    /// std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub async fn send_to(&self, buf: &[u8], path: impl AsRef<Path>) -> io::Result<usize> {
        let socket = self.io.get_ref();
        let path = path.as_ref();
        self.io
            .registration()
            .async_io(Direction::Write, || socket.send_to(buf, path))
            .await
    }

    /// Receives one datagram and its sender's address. Cancel-safe.
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let (a, b) = filch_io::net::UnixDatagram::pair().unwrap();
    ///     a.send(b"z").await.unwrap();
    ///     let mut buf = [0; 1];
    ///     let (n, from) = b.recv_from(&mut buf).await.unwrap();
    ///     assert_eq!(n, 1);
    ///     assert!(from.is_unnamed());
    /// });
    /// ```
    pub async fn recv_from(&self, buf: &mut [u8]) -> io::Result<(usize, SocketAddr)> {
        let socket = self.io.get_ref();
        self.io
            .registration()
            .async_io(Direction::Read, || socket.recv_from(buf))
            .await
    }

    /// The local address.
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// let _guard = rt.handle().enter();
    /// let (a, _b) = filch_io::net::UnixDatagram::pair().unwrap();
    /// assert!(a.local_addr().unwrap().is_unnamed());
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The connected peer's address.
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// let _guard = rt.handle().enter();
    /// let (a, _b) = filch_io::net::UnixDatagram::pair().unwrap();
    /// assert!(a.peer_addr().is_ok());
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Shuts down the read, write or both directions.
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let (a, _b) = filch_io::net::UnixDatagram::pair().unwrap();
    ///     a.shutdown(std::net::Shutdown::Write).unwrap();
    ///     assert!(a.send(b"late").await.is_err());
    /// });
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }
}

impl fmt::Debug for UnixDatagram {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}

impl AsFd for UnixDatagram {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl AsRawFd for UnixDatagram {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

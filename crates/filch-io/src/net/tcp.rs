//! TCP: [`TcpListener`] and [`TcpStream`] (asyncio's `start_server` /
//! `open_connection` sockets), and the stream's read/write halves.
//!
//! Both wrap std's socket types in non-blocking mode, registered with the
//! runtime's reactor for as long as they live. This module owns the TCP
//! surface; the waiting loops are in `reactor/registration.rs`, the raw
//! syscalls in `sys.rs`.

use super::addr::{ToSocketAddrs, each_addr};
use super::split;
use super::stream;
use crate::reactor::registration::{PollEvented, gone};
use crate::reactor::scheduled_io::{Direction, READABLE, WRITABLE};
use crate::sys::{self, Connect};
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::{Shutdown, SocketAddr};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::task::{Poll, ready};

/// The read half of a [`TcpStream`] borrowed by [`TcpStream::split`].
pub type ReadHalf<'a> = split::ReadHalf<'a, TcpStream>;
/// The write half of a [`TcpStream`] borrowed by [`TcpStream::split`].
pub type WriteHalf<'a> = split::WriteHalf<'a, TcpStream>;
/// The owned read half of a [`TcpStream`] ([`TcpStream::into_split`]).
pub type OwnedReadHalf = split::OwnedReadHalf<TcpStream>;
/// The owned write half of a [`TcpStream`] ([`TcpStream::into_split`]);
/// dropping it shuts down the write direction (the peer reads EOF).
pub type OwnedWriteHalf = split::OwnedWriteHalf<TcpStream>;
/// The halves given to [`split::OwnedReadHalf::reunite`] came from
/// different streams.
pub type ReuniteError = split::ReuniteError<TcpStream>;

/// A TCP socket server, listening for connections.
///
/// ```
/// use filch_io::net::{TcpListener, TcpStream};
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(2).driver(park, driver).build().unwrap();
/// rt.block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let client = filch_executor::spawn(async move { TcpStream::connect(addr).await });
///     let (_server_side, peer) = listener.accept().await.unwrap();
///     let client = client.await.unwrap().unwrap();
///     assert_eq!(client.local_addr().unwrap(), peer);
/// });
/// ```
pub struct TcpListener {
    io: PollEvented<std::net::TcpListener>,
}

impl TcpListener {
    /// Binds a listener to `addr` (anything [`ToSocketAddrs`] accepts;
    /// `"127.0.0.1:0"` picks a free port), trying each resolved address in
    /// turn. Backlog 1024, `SO_REUSEADDR` on.
    ///
    /// Cancel-safe: a dropped `bind` leaves nothing behind (a name lookup it
    /// started finishes on the blocking pool and is discarded).
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let listener = filch_io::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     assert_ne!(listener.local_addr().unwrap().port(), 0);
    ///     let taken = listener.local_addr().unwrap();
    ///     let err = filch_io::net::TcpListener::bind(taken).await.unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::AddrInUse);
    /// });
    /// ```
    pub async fn bind<A: ToSocketAddrs>(addr: A) -> io::Result<TcpListener> {
        each_addr(&addr, |a| async move {
            TcpListener::from_nonblocking(sys::tcp_listen(a)?)
        })
        .await
    }

    fn from_nonblocking(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        Ok(TcpListener {
            io: PollEvented::new(listener, READABLE | WRITABLE)?,
        })
    }

    /// Wraps a std listener (made non-blocking here) in the current
    /// runtime's reactor.
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// let std_listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let listener = rt.block_on(async { filch_io::net::TcpListener::from_std(std_listener) }).unwrap();
    /// # drop(listener);
    /// ```
    pub fn from_std(listener: std::net::TcpListener) -> io::Result<TcpListener> {
        listener.set_nonblocking(true)?;
        TcpListener::from_nonblocking(listener)
    }

    /// Deregisters the listener and returns the std one (still
    /// non-blocking).
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// let std_listener = rt.block_on(async {
    ///     filch_io::net::TcpListener::bind("127.0.0.1:0").await.unwrap().into_std()
    /// });
    /// assert!(std_listener.local_addr().is_ok());
    /// ```
    pub fn into_std(self) -> std::net::TcpListener {
        self.io.into_inner()
    }

    /// Waits for a connection and accepts it, returning the stream and the
    /// peer's address.
    ///
    /// Errors of the accept itself (such as running out of file descriptors:
    /// `EMFILE`) are returned as they are; the listener stays usable and a
    /// later call succeeds once the cause is gone. Cancel-safe: a dropped
    /// `accept` never loses a connection (it stays in the backlog). Several
    /// tasks may accept on one listener at once.
    ///
    /// ```
    /// # use filch_io::net::{TcpListener, TcpStream};
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(2).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let _client = TcpStream::connect(addr).await.unwrap();
    ///     let (stream, peer) = listener.accept().await.unwrap();
    ///     assert_eq!(stream.peer_addr().unwrap(), peer);
    /// });
    /// ```
    pub async fn accept(&self) -> io::Result<(TcpStream, SocketAddr)> {
        let (stream, addr) = self
            .io
            .registration()
            .async_io(Direction::Read, || sys::tcp_accept(self.io.get_ref()))
            .await?;
        Ok((TcpStream::from_connected(stream)?, addr))
    }

    /// The address the listener is bound to.
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let listener = filch_io::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(listener.local_addr().unwrap().ip().is_loopback());
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Sets the IP time-to-live of accepted connections' packets.
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let listener = filch_io::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     listener.set_ttl(42).unwrap();
    ///     assert_eq!(listener.ttl().unwrap(), 42);
    /// });
    /// ```
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live (see [`set_ttl`](Self::set_ttl)).
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let listener = filch_io::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     assert!(listener.ttl().unwrap() > 0);
    /// });
    /// ```
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }
}

impl fmt::Debug for TcpListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}

impl AsFd for TcpListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl AsRawFd for TcpListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

/// A TCP connection (asyncio's `StreamReader`/`StreamWriter` pair in one).
///
/// Implements `futures_io::AsyncRead` and `AsyncWrite`; the extension
/// traits in [`crate::io`] add `read_exact`, `read_line`, `write_all`, ...
/// Closing it (`close().await`, or [`shutdown`](Self::shutdown) with
/// `Write`) sends EOF; dropping it closes the socket.
///
/// Cancel safety: a `poll_read`/`poll_write` that returns `Pending` has
/// moved no data, so `read` and `write` futures are cancel-safe;
/// combinators that loop (`read_exact`, `write_all`, ...) are not (a dropped
/// one may have moved part of its data).
///
/// ```
/// use filch_io::io::{AsyncReadExt, AsyncWriteExt};
/// use filch_io::net::{TcpListener, TcpStream};
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(2).driver(park, driver).build().unwrap();
/// rt.block_on(async {
///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
///     let addr = listener.local_addr().unwrap();
///     let server = filch_executor::spawn(async move {
///         let (mut s, _) = listener.accept().await.unwrap();
///         let mut buf = [0; 5];
///         s.read_exact(&mut buf).await.unwrap();
///         s.write_all(&buf).await.unwrap();
///     });
///     let mut c = TcpStream::connect(addr).await.unwrap();
///     c.write_all(b"hello").await.unwrap();
///     let mut back = [0; 5];
///     c.read_exact(&mut back).await.unwrap();
///     assert_eq!(&back, b"hello");
///     server.await.unwrap();
/// });
/// ```
pub struct TcpStream {
    io: PollEvented<std::net::TcpStream>,
}

impl TcpStream {
    /// Connects to `addr`, trying each resolved address in turn and
    /// returning the last error if none accepts. Host names are resolved on
    /// the blocking pool; IP literals are not.
    ///
    /// A refused or unreachable destination is an `io::Error`
    /// (`ConnectionRefused`, `NetworkUnreachable`, ...). Not cancel-safe in
    /// the sense that a dropped connect abandons the attempt (the socket is
    /// closed).
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     // A port nobody listens on: bind one, note it, close it.
    ///     let addr = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap();
    ///     let err = filch_io::net::TcpStream::connect(addr).await.unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::ConnectionRefused);
    /// });
    /// ```
    pub async fn connect<A: ToSocketAddrs>(addr: A) -> io::Result<TcpStream> {
        each_addr(&addr, TcpStream::connect_addr).await
    }

    async fn connect_addr(addr: SocketAddr) -> io::Result<TcpStream> {
        match sys::tcp_connect(addr)? {
            Connect::Done(fd) => TcpStream::from_connected(fd.into()),
            Connect::InProgress(fd) => {
                // Not writable until the handshake ends: no optimism here.
                let stream = TcpStream {
                    io: PollEvented::new(std::net::TcpStream::from(fd), 0)?,
                };
                stream.io.registration().allow_presume();
                stream.wait_connected().await?;
                Ok(stream)
            }
        }
    }

    /// Waits for a non-blocking connect to finish: writable, then
    /// `SO_ERROR` says how it ended.
    async fn wait_connected(&self) -> io::Result<()> {
        let reg = self.io.registration();
        poll_fn(|cx| {
            loop {
                let event = ready!(reg.poll_ready(cx, Direction::Write));
                if let Some(e) = sys::take_error(self.io.get_ref())? {
                    return Poll::Ready(Err(e));
                }
                match self.io.get_ref().peer_addr() {
                    Ok(_) => return Poll::Ready(Ok(())),
                    Err(e) if e.kind() == io::ErrorKind::NotConnected => {
                        // Spurious wake-up: still connecting.
                        if event.is_shutdown() {
                            return Poll::Ready(Err(gone()));
                        }
                        reg.clear_readiness(event);
                    }
                    Err(e) => return Poll::Ready(Err(e)),
                }
            }
        })
        .await
    }

    /// A connected, non-blocking std stream into a registered one.
    pub(crate) fn from_connected(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        let stream = TcpStream {
            io: PollEvented::new(stream, READABLE | WRITABLE)?,
        };
        stream.io.registration().allow_presume();
        Ok(stream)
    }

    /// Wraps a connected std stream (made non-blocking here) in the current
    /// runtime's reactor.
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    /// let std_stream = std::net::TcpStream::connect(listener.local_addr().unwrap()).unwrap();
    /// let stream = rt.block_on(async { filch_io::net::TcpStream::from_std(std_stream) }).unwrap();
    /// # drop(stream);
    /// ```
    pub fn from_std(stream: std::net::TcpStream) -> io::Result<TcpStream> {
        stream.set_nonblocking(true)?;
        TcpStream::from_connected(stream)
    }

    /// Deregisters the stream and returns the std one (still non-blocking).
    ///
    /// ```
    /// # use filch_io::net::{TcpListener, TcpStream};
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let std_stream = stream.into_std();
    ///     assert!(std_stream.peer_addr().is_ok());
    /// });
    /// ```
    pub fn into_std(self) -> std::net::TcpStream {
        self.io.into_inner()
    }

    /// The remote address.
    ///
    /// ```
    /// # use filch_io::net::{TcpListener, TcpStream};
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let addr = listener.local_addr().unwrap();
    ///     let stream = TcpStream::connect(addr).await.unwrap();
    ///     assert_eq!(stream.peer_addr().unwrap(), addr);
    /// });
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// The local address.
    ///
    /// ```
    /// # use filch_io::net::{TcpListener, TcpStream};
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     assert!(stream.local_addr().unwrap().ip().is_loopback());
    /// });
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// Sets `TCP_NODELAY` (disables Nagle's algorithm: small writes go out
    /// at once).
    ///
    /// ```
    /// # use filch_io::net::{TcpListener, TcpStream};
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     stream.set_nodelay(true).unwrap();
    ///     assert!(stream.nodelay().unwrap());
    /// });
    /// ```
    pub fn set_nodelay(&self, nodelay: bool) -> io::Result<()> {
        self.io.get_ref().set_nodelay(nodelay)
    }

    /// Whether `TCP_NODELAY` is set.
    ///
    /// ```
    /// # use filch_io::net::{TcpListener, TcpStream};
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     assert!(!stream.nodelay().unwrap());
    /// });
    /// ```
    pub fn nodelay(&self) -> io::Result<bool> {
        self.io.get_ref().nodelay()
    }

    /// Shuts down the read, write or both directions (`shutdown(2)`):
    /// after `Shutdown::Write` the peer reads EOF while this side can still
    /// read (half-close).
    ///
    /// ```
    /// use filch_io::io::AsyncReadExt;
    /// # use filch_io::net::{TcpListener, TcpStream};
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (mut server, _) = listener.accept().await.unwrap();
    ///     client.shutdown(std::net::Shutdown::Write).unwrap();
    ///     let mut rest = Vec::new();
    ///     assert_eq!(server.read_to_end(&mut rest).await.unwrap(), 0);
    /// });
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Sets the IP time-to-live of this connection's packets.
    ///
    /// ```
    /// # use filch_io::net::{TcpListener, TcpStream};
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     stream.set_ttl(7).unwrap();
    ///     assert_eq!(stream.ttl().unwrap(), 7);
    /// });
    /// ```
    pub fn set_ttl(&self, ttl: u32) -> io::Result<()> {
        self.io.get_ref().set_ttl(ttl)
    }

    /// The IP time-to-live (see [`set_ttl`](Self::set_ttl)).
    ///
    /// ```
    /// # use filch_io::net::{TcpListener, TcpStream};
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let stream = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     assert!(stream.ttl().unwrap() > 0);
    /// });
    /// ```
    pub fn ttl(&self) -> io::Result<u32> {
        self.io.get_ref().ttl()
    }

    /// Splits the stream into a borrowed read half and write half that can
    /// be used from two futures at once (e.g. joined in one task).
    ///
    /// ```
    /// use filch_io::io::{AsyncReadExt, AsyncWriteExt};
    /// # use filch_io::net::{TcpListener, TcpStream};
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let mut client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (mut server, _) = listener.accept().await.unwrap();
    ///     let (mut r, mut w) = server.split();
    ///     client.write_all(b"ping").await.unwrap();
    ///     let mut buf = [0; 4];
    ///     r.read_exact(&mut buf).await.unwrap();
    ///     w.write_all(&buf).await.unwrap();
    ///     client.read_exact(&mut buf).await.unwrap();
    ///     assert_eq!(&buf, b"ping");
    /// });
    /// ```
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split::split(self)
    }

    /// Splits the stream into owned halves that can move to different
    /// tasks. Dropping the write half shuts down the write direction;
    /// [`OwnedReadHalf::reunite`](split::OwnedReadHalf::reunite) puts them
    /// back together.
    ///
    /// ```
    /// use filch_io::io::{AsyncReadExt, AsyncWriteExt};
    /// # use filch_io::net::{TcpListener, TcpStream};
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(2).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    ///     let client = TcpStream::connect(listener.local_addr().unwrap()).await.unwrap();
    ///     let (mut server, _) = listener.accept().await.unwrap();
    ///     let (mut r, mut w) = client.into_split();
    ///     let writer = filch_executor::spawn(async move { w.write_all(b"hi").await });
    ///     let mut buf = [0; 2];
    ///     server.read_exact(&mut buf).await.unwrap();
    ///     writer.await.unwrap().unwrap();
    ///     server.write_all(b"yo").await.unwrap();
    ///     r.read_exact(&mut buf).await.unwrap();
    ///     assert_eq!(&buf, b"yo");
    /// });
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split::into_split(self)
    }
}

stream::stream_impls!(TcpStream);

impl fmt::Debug for TcpStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}

impl AsFd for TcpStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl AsRawFd for TcpStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

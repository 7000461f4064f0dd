//! [`UnixListener`] and [`UnixStream`]: stream-oriented Unix domain
//! sockets, non-blocking and registered with the runtime's reactor.
//!
//! This module owns the Unix stream surface; waiting lives in
//! `reactor/registration.rs`, the raw syscalls in `sys.rs`.

use super::SocketAddr;
use super::{OwnedReadHalf, OwnedWriteHalf, ReadHalf, WriteHalf};
use crate::net::{split, stream};
use crate::reactor::registration::{PollEvented, gone};
use crate::reactor::scheduled_io::{Direction, READABLE, WRITABLE};
use crate::sys::{self, Connect};
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::net::Shutdown;
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, RawFd};
use std::path::Path;
use std::task::{Poll, ready};

/// A Unix domain socket server, listening for connections.
///
/// ```
/// use filch_io::net::{UnixListener, UnixStream};
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(2).driver(park, driver).build().unwrap();
/// let dir = std::env::temp_dir().join(format!("filch-doc-ul-{}", std::process::id()));
/// # let _ = std::fs::remove_dir_all(&dir);
/// std::fs::create_dir_all(&dir).unwrap();
/// let path = dir.join("sock");
/// rt.block_on(async {
///     let listener = UnixListener::bind(&path).unwrap();
///     let _client = UnixStream::connect(&path).await.unwrap();
///     let (_stream, _addr) = listener.accept().await.unwrap();
/// });
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub struct UnixListener {
    io: PollEvented<std::os::unix::net::UnixListener>,
}

impl UnixListener {
    /// Binds a listener to `path` (synchronous, like std's: binding does
    /// not wait). Fails if `path` exists. Must be called inside a runtime
    /// with the I/O driver.
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// let _guard = rt.handle().enter();
    /// let dir = std::env::temp_dir().join(format!("filch-doc-ulb-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let listener = filch_io::net::UnixListener::bind(dir.join("s")).unwrap();
    /// let again = filch_io::net::UnixListener::bind(dir.join("s")).unwrap_err();
    /// assert_eq!(again.kind(), std::io::ErrorKind::AddrInUse);
    /// drop(listener);
    /// std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn bind(path: impl AsRef<Path>) -> io::Result<UnixListener> {
        let listener = sys::unix_listen(path.as_ref())?;
        Ok(UnixListener {
            io: PollEvented::new(listener, READABLE | WRITABLE)?,
        })
    }

    /// Wraps a std listener (made non-blocking here).
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// let dir = std::env::temp_dir().join(format!("filch-doc-ulf-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let std_listener = std::os::unix::net::UnixListener::bind(dir.join("s")).unwrap();
    /// let listener = rt.block_on(async { filch_io::net::UnixListener::from_std(std_listener) });
    /// assert!(listener.is_ok());
    /// std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn from_std(listener: std::os::unix::net::UnixListener) -> io::Result<UnixListener> {
        listener.set_nonblocking(true)?;
        Ok(UnixListener {
            io: PollEvented::new(listener, READABLE | WRITABLE)?,
        })
    }

    /// Deregisters the listener and returns the std one (non-blocking).
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// let _guard = rt.handle().enter();
    /// let dir = std::env::temp_dir().join(format!("filch-doc-uli-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let std_listener = filch_io::net::UnixListener::bind(dir.join("s")).unwrap().into_std();
    /// assert!(std_listener.local_addr().is_ok());
    /// std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn into_std(self) -> std::os::unix::net::UnixListener {
        self.io.into_inner()
    }

    /// Waits for a connection and accepts it. Cancel-safe; several tasks
    /// may accept at once; errors of the accept itself are returned and the
    /// listener stays usable.
    ///
    /// ```
    /// use filch_io::net::{UnixListener, UnixStream};
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(2).driver(park, driver).build().unwrap();
    /// let dir = std::env::temp_dir().join(format!("filch-doc-ula-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let path = dir.join("s");
    /// rt.block_on(async {
    ///     let listener = UnixListener::bind(&path).unwrap();
    ///     let client = filch_executor::spawn({
    ///         let path = path.clone();
    ///         async move { UnixStream::connect(path).await }
    ///     });
    ///     let (stream, _) = listener.accept().await.unwrap();
    ///     assert!(client.await.unwrap().is_ok());
    ///     # drop(stream);
    /// });
    /// std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub async fn accept(&self) -> io::Result<(UnixStream, SocketAddr)> {
        let listener = self.io.get_ref();
        let (stream, addr) = self
            .io
            .registration()
            .async_io(Direction::Read, || listener.accept())
            .await?;
        stream.set_nonblocking(true)?;
        Ok((UnixStream::from_connected(stream)?, addr))
    }

    /// The address the listener is bound to.
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// let _guard = rt.handle().enter();
    /// let dir = std::env::temp_dir().join(format!("filch-doc-ull-{}", std::process::id()));
    /// # let _ = std::fs::remove_dir_all(&dir);
    /// std::fs::create_dir_all(&dir).unwrap();
    /// let listener = filch_io::net::UnixListener::bind(dir.join("s")).unwrap();
    /// assert_eq!(listener.local_addr().unwrap().as_pathname(), Some(dir.join("s").as_path()));
    /// std::fs::remove_dir_all(&dir).unwrap();
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }
}

impl fmt::Debug for UnixListener {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}

impl AsFd for UnixListener {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl AsRawFd for UnixListener {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

/// A Unix domain stream connection; `futures_io::AsyncRead` +
/// `AsyncWrite`, like [`TcpStream`](crate::net::TcpStream) (and with the
/// same cancel safety: `read`/`write` are cancel-safe, looping combinators
/// such as `read_exact` are not).
///
/// ```
/// use filch_io::io::{AsyncReadExt, AsyncWriteExt};
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// rt.block_on(async {
///     let (mut a, mut b) = filch_io::net::UnixStream::pair().unwrap();
///     a.write_all(b"over").await.unwrap();
///     let mut buf = [0; 4];
///     b.read_exact(&mut buf).await.unwrap();
///     assert_eq!(&buf, b"over");
/// });
/// ```
pub struct UnixStream {
    io: PollEvented<std::os::unix::net::UnixStream>,
}

impl UnixStream {
    /// Connects to the listener at `path`.
    ///
    /// Errors: no such path (`NotFound`), nobody listening
    /// (`ConnectionRefused`), the listener's backlog is full
    /// (`ResourceBusy`: try again later).
    ///
    /// Not resumable once dropped: a dropped `connect` closes its half-made
    /// socket (nothing leaks).
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let err = filch_io::net::UnixStream::connect("/nonexistent/filch.sock").await.unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    /// });
    /// ```
    pub async fn connect(path: impl AsRef<Path>) -> io::Result<UnixStream> {
        let path = path.as_ref();
        let fd = match sys::unix_connect(path) {
            Ok(Connect::Done(fd)) => {
                return UnixStream::from_connected(std::os::unix::net::UnixStream::from(fd));
            }
            Ok(Connect::InProgress(fd)) => fd,
            Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                return Err(io::Error::new(
                    io::ErrorKind::ResourceBusy,
                    format!("the Unix listener at {path:?} has a full backlog; try again later"),
                ));
            }
            Err(e) => return Err(e),
        };
        let stream = UnixStream {
            io: PollEvented::new(std::os::unix::net::UnixStream::from(fd), 0)?,
        };
        let reg = stream.io.registration();
        poll_fn(|cx| {
            let event = ready!(reg.poll_ready(cx, Direction::Write));
            match sys::take_error(stream.io.get_ref())? {
                Some(e) => Poll::Ready(Err(e)),
                None if event.is_shutdown() => Poll::Ready(Err(gone())),
                None => Poll::Ready(Ok(())),
            }
        })
        .await?;
        Ok(stream)
    }

    /// A pair of connected streams (`socketpair(2)`).
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// let _guard = rt.handle().enter();
    /// let (a, b) = filch_io::net::UnixStream::pair().unwrap();
    /// # drop((a, b));
    /// ```
    pub fn pair() -> io::Result<(UnixStream, UnixStream)> {
        let (a, b) = std::os::unix::net::UnixStream::pair()?;
        a.set_nonblocking(true)?;
        b.set_nonblocking(true)?;
        Ok((
            UnixStream::from_connected(a)?,
            UnixStream::from_connected(b)?,
        ))
    }

    pub(crate) fn from_connected(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        Ok(UnixStream {
            io: PollEvented::new(stream, READABLE | WRITABLE)?,
        })
    }

    /// Wraps a connected std stream (made non-blocking here).
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
    /// let stream = rt.block_on(async { filch_io::net::UnixStream::from_std(a) });
    /// assert!(stream.is_ok());
    /// ```
    pub fn from_std(stream: std::os::unix::net::UnixStream) -> io::Result<UnixStream> {
        stream.set_nonblocking(true)?;
        UnixStream::from_connected(stream)
    }

    /// Deregisters the stream and returns the std one (non-blocking).
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// let _guard = rt.handle().enter();
    /// let (a, _b) = filch_io::net::UnixStream::pair().unwrap();
    /// assert!(a.into_std().peer_addr().is_ok());
    /// ```
    pub fn into_std(self) -> std::os::unix::net::UnixStream {
        self.io.into_inner()
    }

    /// The local address.
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// let _guard = rt.handle().enter();
    /// let (a, _b) = filch_io::net::UnixStream::pair().unwrap();
    /// assert!(a.local_addr().unwrap().is_unnamed());
    /// ```
    pub fn local_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().local_addr()
    }

    /// The peer's address.
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// let _guard = rt.handle().enter();
    /// let (a, _b) = filch_io::net::UnixStream::pair().unwrap();
    /// assert!(a.peer_addr().unwrap().is_unnamed());
    /// ```
    pub fn peer_addr(&self) -> io::Result<SocketAddr> {
        self.io.get_ref().peer_addr()
    }

    /// Shuts down the read, write or both directions (`Write`: the peer
    /// reads EOF; this side can still read).
    ///
    /// ```
    /// use filch_io::io::AsyncReadExt;
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let (a, mut b) = filch_io::net::UnixStream::pair().unwrap();
    ///     a.shutdown(std::net::Shutdown::Write).unwrap();
    ///     let mut rest = Vec::new();
    ///     assert_eq!(b.read_to_end(&mut rest).await.unwrap(), 0);
    /// });
    /// ```
    pub fn shutdown(&self, how: Shutdown) -> io::Result<()> {
        self.io.get_ref().shutdown(how)
    }

    /// Splits into borrowed read and write halves usable at once.
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// let _guard = rt.handle().enter();
    /// let (mut a, _b) = filch_io::net::UnixStream::pair().unwrap();
    /// let (_r, _w) = a.split();
    /// ```
    pub fn split(&mut self) -> (ReadHalf<'_>, WriteHalf<'_>) {
        split::split(self)
    }

    /// Splits into owned halves that can move to different tasks; dropping
    /// the write half shuts down the write direction.
    ///
    /// ```
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// let _guard = rt.handle().enter();
    /// let (a, _b) = filch_io::net::UnixStream::pair().unwrap();
    /// let (r, w) = a.into_split();
    /// let _a = r.reunite(w).unwrap();
    /// ```
    pub fn into_split(self) -> (OwnedReadHalf, OwnedWriteHalf) {
        split::into_split(self)
    }
}

stream::stream_impls!(UnixStream);

impl UnixStream {
    /// The stream's registration, for crate-internal waiters that share
    /// the read direction (the SIGCHLD listener of `process/exit.rs`).
    pub(crate) fn registration(&self) -> &crate::reactor::registration::Registration {
        self.io.registration()
    }
}

impl fmt::Debug for UnixStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.io.fmt(f)
    }
}

impl AsFd for UnixStream {
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

impl AsRawFd for UnixStream {
    fn as_raw_fd(&self) -> RawFd {
        self.io.get_ref().as_raw_fd()
    }
}

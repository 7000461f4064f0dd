//! The parent's ends of a child's piped standard streams: [`ChildStdin`]
//! (`AsyncWrite`), [`ChildStdout`] and [`ChildStderr`] (`AsyncRead`).
//!
//! Each is std's pipe end switched to non-blocking mode and registered with
//! the reactor; reads and writes are the reactor's stream loop
//! (`reactor/registration.rs`) around `read(2)`/`write(2)`; with the
//! `tokio-io` feature they also implement tokio's `AsyncRead`/`AsyncWrite`
//! (reads straight into tokio's uninitialised buffer). The descriptor
//! is closed when the value is dropped (for stdin that is the child's end
//! of input), and, being std's, was created close-on-exec: no other child
//! inherits it. Only the parent's end is non-blocking (the two ends of a
//! pipe are separate open files), and one handed on to another child
//! (`Stdio::try_from`) is made blocking again, as programs expect of their
//! standard streams.
//!
//! This module must not know about processes or exits (`child.rs`,
//! `exit.rs`).

use crate::reactor::registration::{PollEvented, poll_stream};
use crate::reactor::scheduled_io::{Direction, READABLE, WRITABLE};
use crate::sys;
use std::fmt;
use std::io::{self, IoSlice, IoSliceMut};
use std::os::fd::{AsFd, AsRawFd, BorrowedFd, OwnedFd, RawFd};
use std::pin::Pin;
use std::process::Stdio;
use std::task::{Context, Poll};

/// One registered, non-blocking pipe end.
struct Pipe {
    io: PollEvented<OwnedFd>,
}

impl Pipe {
    /// Registers `fd` with the current runtime's reactor (non-blocking from
    /// now on). On error the descriptor is closed.
    fn new(fd: impl Into<OwnedFd>) -> io::Result<Pipe> {
        let fd = fd.into();
        sys::set_nonblocking(&fd, true)?;
        Ok(Pipe {
            io: PollEvented::new(fd, READABLE | WRITABLE)?,
        })
    }

    fn poll_read(&self, cx: &mut Context<'_>, buf: &mut [u8]) -> Poll<io::Result<usize>> {
        poll_stream(&self.io, cx, Direction::Read, buf.len(), || {
            sys::read(self.io.get_ref(), buf)
        })
    }

    fn poll_read_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &mut [IoSliceMut<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = bufs.iter().map(|b| b.len()).sum();
        poll_stream(&self.io, cx, Direction::Read, len, || {
            sys::read_vectored(self.io.get_ref(), bufs)
        })
    }

    #[cfg(feature = "tokio-io")]
    fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [std::mem::MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>> {
        poll_stream(&self.io, cx, Direction::Read, buf.len(), || {
            sys::read_uninit(self.io.get_ref(), buf)
        })
    }

    fn poll_write(&self, cx: &mut Context<'_>, buf: &[u8]) -> Poll<io::Result<usize>> {
        poll_stream(&self.io, cx, Direction::Write, buf.len(), || {
            sys::write(self.io.get_ref(), buf)
        })
    }

    fn poll_write_vectored(
        &self,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let len = bufs.iter().map(|b| b.len()).sum();
        poll_stream(&self.io, cx, Direction::Write, len, || {
            sys::write_vectored(self.io.get_ref(), bufs)
        })
    }

    /// Deregisters the pipe and makes it blocking again, to hand it to
    /// another child as a standard stream.
    fn into_stdio(self) -> io::Result<Stdio> {
        let fd = self.io.into_inner();
        sys::set_nonblocking(&fd, false)?;
        Ok(Stdio::from(fd))
    }

    fn as_fd(&self) -> BorrowedFd<'_> {
        self.io.get_ref().as_fd()
    }
}

fn closed() -> io::Error {
    io::Error::new(
        io::ErrorKind::BrokenPipe,
        "the child's stdin was closed (poll_close) and cannot be written to",
    )
}

/// The writing end of a child's stdin (asyncio's `proc.stdin`):
/// `futures_io::AsyncWrite`, with the helpers of [`crate::io`].
///
/// Closing it (`close().await`, or dropping it) sends the child end of
/// file. Writes to a child that closed its stdin fail with `BrokenPipe`
/// (Rust programs ignore `SIGPIPE`; a host program that does not is killed
/// by it, as with any pipe).
///
/// ```
/// use filch_io::io::{AsyncReadExt, AsyncWriteExt};
/// use filch_io::process::{Command, Stdio};
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// rt.block_on(async {
///     let mut child = Command::new("cat")
///         .stdin(Stdio::piped())
///         .stdout(Stdio::piped())
///         .spawn()
///         .unwrap();
///     let mut stdin = child.stdin.take().unwrap();
///     stdin.write_all(b"meow").await.unwrap();
///     stdin.close().await.unwrap(); // end of file for cat
///     let mut out = String::new();
///     child.stdout.take().unwrap().read_to_string(&mut out).await.unwrap();
///     assert_eq!(out, "meow");
///     assert!(child.wait().await.unwrap().success());
/// });
/// ```
pub struct ChildStdin {
    /// `None` once closed.
    pipe: Option<Pipe>,
}

/// The reading end of a child's stdout (asyncio's `proc.stdout`):
/// `futures_io::AsyncRead`; wrap it in [`crate::io::BufReader`] to read
/// lines.
///
/// ```
/// use filch_io::io::{AsyncBufReadExt, BufReader};
/// use filch_io::process::{Command, Stdio};
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// rt.block_on(async {
///     let mut child = Command::new("printf")
///         .arg("one\ntwo\n")
///         .stdout(Stdio::piped())
///         .spawn()
///         .unwrap();
///     let mut lines = BufReader::new(child.stdout.take().unwrap());
///     let mut line = String::new();
///     lines.read_line(&mut line).await.unwrap();
///     assert_eq!(line, "one\n");
///     child.wait().await.unwrap();
/// });
/// ```
pub struct ChildStdout {
    pipe: Pipe,
}

/// The reading end of a child's stderr (asyncio's `proc.stderr`):
/// `futures_io::AsyncRead`.
///
/// ```
/// use filch_io::io::AsyncReadExt;
/// use filch_io::process::{Command, Stdio};
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// rt.block_on(async {
///     let mut child = Command::new("sh")
///         .args(["-c", "echo oops >&2"])
///         .stderr(Stdio::piped())
///         .spawn()
///         .unwrap();
///     let mut err = String::new();
///     child.stderr.take().unwrap().read_to_string(&mut err).await.unwrap();
///     assert_eq!(err, "oops\n");
///     child.wait().await.unwrap();
/// });
/// ```
pub struct ChildStderr {
    pipe: Pipe,
}

impl ChildStdin {
    /// Registers std's stdin pipe with the current runtime's reactor.
    ///
    /// ```
    /// use std::process::{Command, Stdio};
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// let mut child = Command::new("cat").stdin(Stdio::piped()).spawn().unwrap();
    /// let _guard = rt.handle().enter();
    /// let stdin = filch_io::process::ChildStdin::from_std(child.stdin.take().unwrap()).unwrap();
    /// drop(stdin); // cat sees end of file and exits
    /// assert!(child.wait().unwrap().success());
    /// ```
    pub fn from_std(stdin: std::process::ChildStdin) -> io::Result<ChildStdin> {
        Ok(ChildStdin {
            pipe: Some(Pipe::new(stdin)?),
        })
    }

    fn pipe(&self) -> io::Result<&Pipe> {
        self.pipe.as_ref().ok_or_else(closed)
    }
}

impl ChildStdout {
    /// Registers std's stdout pipe with the current runtime's reactor.
    ///
    /// ```
    /// use filch_io::io::AsyncReadExt;
    /// use std::process::{Command, Stdio};
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// let mut child = Command::new("echo").arg("hi").stdout(Stdio::piped()).spawn().unwrap();
    /// rt.block_on(async {
    ///     let mut out = filch_io::process::ChildStdout::from_std(child.stdout.take().unwrap()).unwrap();
    ///     let mut text = String::new();
    ///     out.read_to_string(&mut text).await.unwrap();
    ///     assert_eq!(text, "hi\n");
    /// });
    /// child.wait().unwrap();
    /// ```
    pub fn from_std(stdout: std::process::ChildStdout) -> io::Result<ChildStdout> {
        Ok(ChildStdout {
            pipe: Pipe::new(stdout)?,
        })
    }
}

impl ChildStderr {
    /// Registers std's stderr pipe with the current runtime's reactor.
    ///
    /// ```
    /// use std::process::{Command, Stdio};
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// let mut child = Command::new("true").stderr(Stdio::piped()).spawn().unwrap();
    /// let _guard = rt.handle().enter();
    /// let err = filch_io::process::ChildStderr::from_std(child.stderr.take().unwrap());
    /// assert!(err.is_ok());
    /// child.wait().unwrap();
    /// ```
    pub fn from_std(stderr: std::process::ChildStderr) -> io::Result<ChildStderr> {
        Ok(ChildStderr {
            pipe: Pipe::new(stderr)?,
        })
    }
}

impl futures_io::AsyncWrite for ChildStdin {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.pipe()?.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.pipe()?.poll_write_vectored(cx, bufs)
    }

    fn poll_flush(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        // Writes go straight to the pipe: nothing is buffered here.
        Poll::Ready(Ok(()))
    }

    /// Closes the pipe: the child reads end of file.
    fn poll_close(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.pipe = None;
        Poll::Ready(Ok(()))
    }
}

macro_rules! read_impls {
    ($t:ty) => {
        impl futures_io::AsyncRead for $t {
            fn poll_read(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                buf: &mut [u8],
            ) -> Poll<io::Result<usize>> {
                self.pipe.poll_read(cx, buf)
            }

            fn poll_read_vectored(
                self: Pin<&mut Self>,
                cx: &mut Context<'_>,
                bufs: &mut [IoSliceMut<'_>],
            ) -> Poll<io::Result<usize>> {
                self.pipe.poll_read_vectored(cx, bufs)
            }
        }

        // SAFETY: `read(2)` only writes initialised bytes into the buffer
        // and returns how many, at most its length.
        #[cfg(feature = "tokio-io")]
        unsafe impl crate::uninit::ReadUninit for $t {
            fn poll_read_uninit(
                &self,
                cx: &mut Context<'_>,
                buf: &mut [std::mem::MaybeUninit<u8>],
            ) -> Poll<io::Result<usize>> {
                self.pipe.poll_read_uninit(cx, buf)
            }
        }

        #[cfg(feature = "tokio-io")]
        crate::tokio_io::tokio_read!($t);
    };
}

read_impls!(ChildStdout);
read_impls!(ChildStderr);

// Its writes forward to the `futures_io` impl above (a real `writev`).
#[cfg(feature = "tokio-io")]
crate::tokio_io::tokio_write!(ChildStdin);

/// The descriptor of each pipe type, for `AsFd`/`AsRawFd`.
macro_rules! fd_impls {
    ($t:ty, $pipe:ident => $get:expr) => {
        impl AsFd for $t {
            fn as_fd(&self) -> BorrowedFd<'_> {
                let $pipe = self;
                $get
            }
        }

        impl AsRawFd for $t {
            fn as_raw_fd(&self) -> RawFd {
                self.as_fd().as_raw_fd()
            }
        }

        impl fmt::Debug for $t {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.debug_struct(stringify!($t))
                    .field("fd", &self.as_raw_fd())
                    .finish()
            }
        }
    };
}

fd_impls!(ChildStdout, p => p.pipe.as_fd());
fd_impls!(ChildStderr, p => p.pipe.as_fd());

impl fmt::Debug for ChildStdin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let fd = self.pipe.as_ref().map(|p| p.as_fd().as_raw_fd());
        f.debug_struct("ChildStdin").field("fd", &fd).finish()
    }
}

impl AsFd for ChildStdin {
    /// # Panics
    /// After [`poll_close`](futures_io::AsyncWrite::poll_close): the
    /// descriptor is closed.
    fn as_fd(&self) -> BorrowedFd<'_> {
        self.pipe
            .as_ref()
            .expect("ChildStdin::as_fd after close: the pipe is closed")
            .as_fd()
    }
}

impl AsRawFd for ChildStdin {
    /// # Panics
    /// After `close`, like [`as_fd`](AsFd::as_fd).
    fn as_raw_fd(&self) -> RawFd {
        self.as_fd().as_raw_fd()
    }
}

/// Hands a piped stream on to another child (`a | b`): the pipe leaves the
/// reactor and becomes blocking again.
///
/// ```
/// use filch_io::process::{Command, Stdio};
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// rt.block_on(async {
///     let mut echo = Command::new("echo").arg("shout").stdout(Stdio::piped()).spawn().unwrap();
///     let words = Stdio::try_from(echo.stdout.take().unwrap()).unwrap();
///     let upper = Command::new("tr").args(["a-z", "A-Z"]).stdin(words).output().await.unwrap();
///     assert_eq!(upper.stdout, b"SHOUT\n");
///     echo.wait().await.unwrap();
/// });
/// ```
impl TryFrom<ChildStdout> for Stdio {
    type Error = io::Error;

    fn try_from(stdout: ChildStdout) -> io::Result<Stdio> {
        stdout.pipe.into_stdio()
    }
}

/// Hands a child's stderr on to another child, like [`ChildStdout`]'s.
///
/// ```
/// use filch_io::process::{Command, Stdio};
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// rt.block_on(async {
///     let mut sh = Command::new("sh").args(["-c", "echo err >&2"]).stderr(Stdio::piped()).spawn().unwrap();
///     let err = Stdio::try_from(sh.stderr.take().unwrap()).unwrap();
///     let out = Command::new("cat").stdin(err).output().await.unwrap();
///     assert_eq!(out.stdout, b"err\n");
///     sh.wait().await.unwrap();
/// });
/// ```
impl TryFrom<ChildStderr> for Stdio {
    type Error = io::Error;

    fn try_from(stderr: ChildStderr) -> io::Result<Stdio> {
        stderr.pipe.into_stdio()
    }
}

/// Hands a child's stdin on to another child as its stdout (`b` writes
/// into `a`): fails with `BrokenPipe` if it was closed.
///
/// ```
/// use filch_io::process::{Command, Stdio};
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// rt.block_on(async {
///     let mut cat = Command::new("cat").stdin(Stdio::piped()).stdout(Stdio::piped()).spawn().unwrap();
///     let into_cat = Stdio::try_from(cat.stdin.take().unwrap()).unwrap();
///     Command::new("echo").arg("relayed").stdout(into_cat).status().await.unwrap();
///     let out = cat.wait_with_output().await.unwrap();
///     assert_eq!(out.stdout, b"relayed\n");
/// });
/// ```
impl TryFrom<ChildStdin> for Stdio {
    type Error = io::Error;

    fn try_from(stdin: ChildStdin) -> io::Result<Stdio> {
        stdin.pipe.ok_or_else(closed)?.into_stdio()
    }
}

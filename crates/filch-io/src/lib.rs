//! filch's I/O: a reactor on `polling` that plugs into the executor's park
//! (no helper thread), sockets (`net`), file system calls on the blocking
//! pool (`fs`), signals (`signal`), child processes (`process`), the
//! ecosystem's async I/O traits (`io`), and — behind features — hyper 1.x
//! glue (`hyper`) and tokio's I/O traits with a futures-io ⇄ tokio-io
//! adapter (`tokio-io`).
//!
//! Most users get all of this through the `filch` facade. Building a
//! runtime by hand:
//!
//! ```
//! use filch_io::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt};
//! use filch_io::net::{TcpListener, TcpStream};
//!
//! let (park, driver) = filch_io::driver().unwrap();
//! let rt = filch_executor::Builder::new()
//!     .worker_threads(2)
//!     .driver(park, driver)
//!     .build()
//!     .unwrap();
//! rt.block_on(async {
//!     let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
//!     let addr = listener.local_addr().unwrap();
//!     filch_executor::spawn(async move {
//!         let (mut s, _) = listener.accept().await.unwrap();
//!         let mut line = String::new();
//!         filch_io::io::BufReader::new(&mut s).read_line(&mut line).await.unwrap();
//!         s.write_all(line.to_uppercase().as_bytes()).await.unwrap();
//!     });
//!     let mut c = TcpStream::connect(addr).await.unwrap();
//!     c.write_all(b"hello\n").await.unwrap();
//!     let mut reply = String::new();
//!     c.read_to_string(&mut reply).await.unwrap();
//!     assert_eq!(reply, "HELLO\n");
//! });
//! ```
//!
//! This crate must not schedule tasks (that is `filch-executor`) or keep
//! time (that is `filch-timer`); see `reactor/` for the design.

#![deny(missing_docs)]
#![cfg(unix)]

pub mod fs;
#[cfg(feature = "hyper")]
pub mod hyper;
mod loom;
pub mod net;
pub mod process;
mod reactor;
pub mod signal;
mod sys;
#[cfg(feature = "tokio-io")]
mod tokio_io;
#[cfg(any(feature = "hyper", feature = "tokio-io"))]
mod uninit;

pub use reactor::{Reactor, ReactorHandle, Trigger};

use filch_executor::{Driver, Park};
use std::sync::Arc;

/// The ecosystem's async I/O traits and helpers (asyncio's
/// `StreamReader`/`StreamWriter` methods), re-exported from `futures-lite`.
///
/// `futures-lite` was picked over `futures-util` because it implements the
/// same `futures-io` traits (so everything written against
/// `futures::io` works with our streams), covers what asyncio users reach
/// for (`read_exact`, `read_line`, `read_until`, `read_to_end`,
/// `write_all`, `copy`, `split`, `BufReader`, `BufWriter`), is maintained by
/// the smol project, has no dependencies of note and compiles in a fraction
/// of `futures-util`'s time, and is already in our dependency tree.
///
/// With the `tokio-io` feature, filch's streams and their split halves also
/// implement `tokio::io::{AsyncRead, AsyncWrite}` natively (reads go
/// straight into tokio's uninitialised buffer), so crates written against
/// tokio's traits (tokio-rustls, tokio-util's codecs) take them as they are;
/// `Compat` bridges any other type, in either direction. No tokio runtime
/// is involved: tokio is only a provider of traits here.
///
/// ```
/// use filch_io::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// rt.block_on(async {
///     let (mut a, b) = filch_io::net::UnixStream::pair().unwrap();
///     a.write_all(b"one\ntwo\n").await.unwrap();
///     let mut lines = BufReader::new(b);
///     let mut line = String::new();
///     lines.read_line(&mut line).await.unwrap();
///     assert_eq!(line, "one\n");
///     let mut rest = Vec::new();
///     lines.read_until(b'\n', &mut rest).await.unwrap();
///     assert_eq!(rest, b"two\n");
/// });
/// ```
pub mod io {
    #[cfg(feature = "tokio-io")]
    pub use crate::tokio_io::{Compat, CompatExt};
    pub use futures_io::{AsyncBufRead, AsyncRead, AsyncSeek, AsyncWrite};
    pub use futures_lite::io::{
        AsyncBufReadExt, AsyncReadExt, AsyncSeekExt, AsyncWriteExt, BufReader, BufWriter, copy,
        empty, repeat, sink, split,
    };
}

/// An I/O-only driver for `filch_executor::Builder::driver`: a new
/// [`Reactor`] (the `Park` half) and its [`ReactorHandle`] (the `Driver`
/// half, whose `get` returns the `ReactorHandle`).
///
/// ```
/// let (park, driver) = filch_io::driver().unwrap();
/// let rt = filch_executor::Builder::new().worker_threads(2).driver(park, driver).build().unwrap();
/// rt.block_on(async {
///     let socket = filch_io::net::UdpSocket::bind("127.0.0.1:0").await.unwrap();
///     assert!(socket.local_addr().is_ok());
/// });
/// ```
pub fn driver() -> std::io::Result<(Box<dyn Park>, Arc<dyn Driver>)> {
    let reactor = Reactor::new()?;
    let handle = reactor.handle();
    Ok((Box::new(reactor), Arc::new(handle)))
}

/// Internals exposed to the loom models in `loom-tests/` (only under
/// `--cfg loom`).
#[cfg(loom)]
#[doc(hidden)]
pub mod __loom {
    pub use crate::reactor::scheduled_io::{
        Direction, Interest, READ_CLOSED, READABLE, ReadyEvent, Rearm, ScheduledIo, URGENT,
        WRITABLE,
    };
    pub use crate::reactor::wait::WakeGate;
}

//! Unix domain sockets: [`UnixListener`] and [`UnixStream`] (asyncio's
//! `start_unix_server` / `open_unix_connection`), the stream's halves, and
//! [`UnixDatagram`].
//!
//! This module only gathers the Unix types; each lives in its own file.

mod datagram;
mod stream;

pub use datagram::UnixDatagram;
pub use std::os::unix::net::SocketAddr;
pub use stream::{UnixListener, UnixStream};

use super::split;

/// The read half of a [`UnixStream`] borrowed by [`UnixStream::split`].
pub type ReadHalf<'a> = split::ReadHalf<'a, UnixStream>;
/// The write half of a [`UnixStream`] borrowed by [`UnixStream::split`].
pub type WriteHalf<'a> = split::WriteHalf<'a, UnixStream>;
/// The owned read half of a [`UnixStream`] ([`UnixStream::into_split`]).
pub type OwnedReadHalf = split::OwnedReadHalf<UnixStream>;
/// The owned write half of a [`UnixStream`] ([`UnixStream::into_split`]);
/// dropping it shuts down the write direction (the peer reads EOF).
pub type OwnedWriteHalf = split::OwnedWriteHalf<UnixStream>;
/// The halves given to `reunite` came from different streams.
pub type ReuniteError = split::ReuniteError<UnixStream>;

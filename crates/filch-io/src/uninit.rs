//! [`ReadUninit`]: reading straight into uninitialised memory, the hook
//! that the native impls of hyper's `Read` (`hyper.rs`) and tokio's
//! `AsyncRead` (`tokio_io.rs`) are built on, so that no read buffer is
//! zero-filled first.
//!
//! This module only defines the contract; each reader implements it next to
//! its own syscalls (the stream sockets in `net/stream.rs`, the split halves
//! in `net/split.rs`). It must not do I/O itself.

use std::io;
use std::mem::MaybeUninit;
use std::task::{Context, Poll};

/// A reader whose syscall can write into uninitialised memory (`recv(2)`,
/// `read(2)`).
///
/// # Safety
/// `poll_read_uninit` returning `Ready(Ok(n))` promises that `n <=
/// buf.len()` and that the first `n` bytes of `buf` were initialised by the
/// call. It must never de-initialise bytes of `buf` (never write
/// `MaybeUninit::uninit()` into it): callers hand it the unfilled part of a
/// buffer whose bytes may already be initialised.
pub(crate) unsafe trait ReadUninit {
    /// Reads into `buf` like `AsyncRead::poll_read`, through the reader's
    /// exclusive read direction (`&self`, like the stream's other
    /// direction-owning operations).
    fn poll_read_uninit(
        &self,
        cx: &mut Context<'_>,
        buf: &mut [MaybeUninit<u8>],
    ) -> Poll<io::Result<usize>>;
}

//! A descriptor's membership in the reactor, and the operation loops every
//! socket, pipe and pidfd uses: wait for readiness, try the syscall, and on
//! `WouldBlock` clear the readiness that was seen (with its tick) and wait
//! again.
//!
//! [`PollEvented`] owns a non-blocking descriptor together with its
//! [`Registration`] and enforces the order on drop: deregister (mark shut
//! down, `Poller::delete`) first, close the descriptor after. This module
//! must not know what the descriptors are (sockets, pipes): callers pass
//! the syscalls in as closures.

use super::scheduled_io::{Direction, ReadyEvent};
use super::{ReactorHandle, Source};
use filch_executor::coop;
use std::fmt;
use std::future::Future;
use std::io;
use std::os::fd::{AsFd, BorrowedFd};
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};

/// The error an operation gets when it would have to wait on a source that
/// can no longer receive events.
pub(crate) fn gone() -> io::Error {
    io::Error::other(
        "the socket's filch I/O reactor has shut down (or the socket was deregistered): \
         the operation would wait for an event that cannot come",
    )
}

/// What a successful operation proves about its direction (for
/// [`Registration::poll_io`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Drained {
    /// Nothing: the next operation tries the syscall again.
    No,
    /// The direction is exhausted (a short write filled the send buffer).
    Yes,
    /// A short stream read: the receive buffer was drained, unless a FIN
    /// came with the data. The reactor decides whether this source may act
    /// on it ([`ReactorHandle::short_read`]).
    ShortRead,
}

/// One registered descriptor: the reactor it belongs to and its state there.
pub(crate) struct Registration {
    handle: ReactorHandle,
    source: Arc<Source>,
}

impl Registration {
    /// Registers `fd` (non-blocking) with the current runtime's reactor.
    /// `initial` is the readiness assumed before the first event.
    fn new(fd: BorrowedFd<'_>, initial: usize) -> io::Result<Registration> {
        let handle = ReactorHandle::current()?;
        let source = handle.register(fd, initial)?;
        Ok(Registration { handle, source })
    }

    /// Polls readiness for `dir` through the exclusive slot of that
    /// direction (the caller owns the direction: `&mut` access).
    pub(crate) fn poll_ready(&self, cx: &mut Context<'_>, dir: Direction) -> Poll<ReadyEvent> {
        self.handle.with_rearm(&self.source, |rearm| {
            self.source.io.poll_ready(cx, dir, rearm)
        })
    }

    /// Lets this source (a TCP stream) treat short reads as "drained" once
    /// the reactor watches it for hang-ups (`reactor/mod.rs`).
    pub(crate) fn allow_presume(&self) {
        self.handle.allow_presume(&self.source);
    }

    /// Clears `event`'s readiness unless a newer event arrived.
    pub(crate) fn clear_readiness(&self, event: ReadyEvent) {
        self.source.io.clear_readiness(event);
    }

    /// The operation loop for an owner of direction `dir`. `f` is the
    /// non-blocking syscall. `drained(&r)` says what a successful result
    /// proves ([`Drained`]): an exhausted direction clears readiness without
    /// paying a `WouldBlock` syscall.
    pub(crate) fn poll_io<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        f: impl FnMut() -> io::Result<R>,
        drained: impl Fn(&R) -> Drained,
    ) -> Poll<io::Result<R>> {
        self.drive(cx, |cx| self.poll_ready(cx, dir), f, drained)
    }

    /// The operation loop for a waiter that shares direction `dir` with
    /// others, each with its own waiter entry `key` (`None` at first). The
    /// caller passes a `key` it still holds when it stops waiting to
    /// [`cancel_shared`](Self::cancel_shared). [`async_io`](Self::async_io)
    /// is the future form; the child watcher (`process/exit.rs`) keeps its
    /// entry across polls itself.
    pub(crate) fn poll_io_shared<R>(
        &self,
        cx: &mut Context<'_>,
        dir: Direction,
        key: &mut Option<usize>,
        f: impl FnMut() -> io::Result<R>,
    ) -> Poll<io::Result<R>> {
        let ready = |cx: &mut Context<'_>| {
            self.handle.with_rearm(&self.source, |rearm| {
                self.source.io.poll_ready_shared(cx, dir, key, rearm)
            })
        };
        self.drive(cx, ready, f, |_| Drained::No)
    }

    /// The loop of both: wait until `ready` reports readiness, try `f`, and
    /// on `WouldBlock` clear what was seen and wait again.
    fn drive<R>(
        &self,
        cx: &mut Context<'_>,
        mut ready: impl FnMut(&mut Context<'_>) -> Poll<ReadyEvent>,
        mut f: impl FnMut() -> io::Result<R>,
        drained: impl Fn(&R) -> Drained,
    ) -> Poll<io::Result<R>> {
        let coop = ready!(coop::poll_proceed(cx));
        loop {
            let event = ready!(ready(cx));
            match f() {
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => {
                    if event.is_shutdown() {
                        return Poll::Ready(Err(gone()));
                    }
                    self.clear_readiness(event);
                }
                res => {
                    if let Ok(r) = &res {
                        match drained(r) {
                            Drained::No => {}
                            Drained::Yes => self.clear_readiness(event),
                            Drained::ShortRead => self.handle.short_read(&self.source, event),
                        }
                    }
                    coop.made_progress();
                    return Poll::Ready(res);
                }
            }
        }
    }

    /// Removes the shared waiter entry `key` (its waiter stopped waiting).
    pub(crate) fn cancel_shared(&self, key: usize) {
        self.source.io.cancel_shared(key);
    }

    /// Whether the source was deregistered or its reactor shut down: no
    /// event will ever come for it again.
    pub(crate) fn is_shutdown(&self) -> bool {
        self.source.io.is_shutdown()
    }

    /// The operation loop for `&self` operations that several tasks may run
    /// at once (`accept`, `recv_from`, ...): each waiting future has its own
    /// waiter entry. Cancel-safe if `f` is (it only runs when polled, and
    /// a completed syscall's result is always returned).
    pub(crate) fn async_io<R, F>(&self, dir: Direction, f: F) -> AsyncIo<'_, F>
    where
        F: FnMut() -> io::Result<R> + Unpin,
    {
        AsyncIo {
            reg: self,
            dir,
            key: None,
            f,
        }
    }
}

impl fmt::Debug for Registration {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Registration").finish_non_exhaustive()
    }
}

/// The future of [`Registration::async_io`].
pub(crate) struct AsyncIo<'a, F> {
    reg: &'a Registration,
    dir: Direction,
    key: Option<usize>,
    f: F,
}

impl<R, F> Future for AsyncIo<'_, F>
where
    F: FnMut() -> io::Result<R> + Unpin,
{
    type Output = io::Result<R>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<R>> {
        let this = self.get_mut();
        this.reg
            .poll_io_shared(cx, this.dir, &mut this.key, &mut this.f)
    }
}

impl<F> Drop for AsyncIo<'_, F> {
    fn drop(&mut self) {
        if let Some(key) = self.key.take() {
            self.reg.cancel_shared(key);
        }
    }
}

/// The operation loop for one direction of a byte stream (a socket, a
/// pipe): `f` moves up to `len` bytes. A short result (not end of stream,
/// not an empty buffer) is proof the reactor can use ([`Drained`]). For a
/// write it is [`Drained::Yes`]: the send buffer is full, so waiting for
/// the next writable edge needs no `WouldBlock` syscall first. For a read
/// it is [`Drained::ShortRead`]: the receive buffer was drained unless a
/// hang-up came with the data, and the reactor decides what that allows
/// (`reactor/mod.rs`: only TCP streams in the hang-up watch act on it).
pub(crate) fn poll_stream<T: AsFd>(
    io: &PollEvented<T>,
    cx: &mut Context<'_>,
    dir: Direction,
    len: usize,
    f: impl FnMut() -> io::Result<usize>,
) -> Poll<io::Result<usize>> {
    let short = match dir {
        Direction::Read => Drained::ShortRead,
        Direction::Write => Drained::Yes,
    };
    io.registration().poll_io(cx, dir, f, |&n| {
        if n > 0 && n < len { short } else { Drained::No }
    })
}

/// A non-blocking descriptor registered with the reactor for as long as it
/// lives. Dropping it deregisters the descriptor, then closes it.
pub(crate) struct PollEvented<T: AsFd> {
    io: Option<T>,
    reg: Registration,
}

impl<T: AsFd> PollEvented<T> {
    /// Registers `io`, which must already be in non-blocking mode, with the
    /// current runtime's reactor. On error `io` is dropped (closed).
    pub(crate) fn new(io: T, initial: usize) -> io::Result<PollEvented<T>> {
        let reg = Registration::new(io.as_fd(), initial)?;
        Ok(PollEvented { io: Some(io), reg })
    }

    /// The descriptor.
    pub(crate) fn get_ref(&self) -> &T {
        self.io.as_ref().expect("PollEvented used after into_inner")
    }

    /// The registration, for the operation loops.
    pub(crate) fn registration(&self) -> &Registration {
        &self.reg
    }

    /// Deregisters and gives the descriptor back (still non-blocking).
    pub(crate) fn into_inner(mut self) -> T {
        let io = self.io.take().expect("PollEvented used after into_inner");
        self.reg.handle.deregister(&self.reg.source, io.as_fd());
        io
    }
}

impl<T: AsFd> Drop for PollEvented<T> {
    fn drop(&mut self) {
        if let Some(io) = self.io.take() {
            // `Poller::delete` must precede closing the descriptor.
            self.reg.handle.deregister(&self.reg.source, io.as_fd());
            drop(io);
        }
    }
}

impl<T: AsFd + fmt::Debug> fmt::Debug for PollEvented<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.io {
            Some(io) => io.fmt(f),
            None => f.write_str("PollEvented(closed)"),
        }
    }
}

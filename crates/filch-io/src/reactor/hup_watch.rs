//! The hang-up watch: a second, Linux-only epoll instance that reports one
//! thing, `EPOLLRDHUP` (the peer closed its sending side), for the stream
//! sources that asked for it. It is itself registered with the reactor's
//! `polling::Poller` (edge mode, under [`HUP_KEY`]), so a hang-up wakes the
//! reactor like any event, and the reactor drains it with [`HupWatch::drain`].
//!
//! Why it exists: `polling` registers sockets for `EPOLLIN | EPOLLHUP |
//! EPOLLERR | EPOLLPRI` and has no way to ask for `EPOLLRDHUP`, so a FIN
//! that arrives in the same edge as the data before it is invisible until a
//! read returns 0. With this watch, a stream reader may treat a short read as
//! "receive buffer drained" and skip the `WouldBlock` read that would
//! otherwise follow every request (`scheduled_io.rs`, module docs). Data
//! arrivals never wake this instance: its items are registered for
//! `EPOLLRDHUP` only, and the kernel filters keyed wake-ups by that mask.
//!
//! The item's data is the source's poller key (its address); the reactor
//! deletes the item before the source can be freed, exactly as it deletes
//! the descriptor from the poller (`reactor/mod.rs`). This module must not
//! know sources or readiness: it adds, deletes and reports keys.
//!
//! On other systems there is no watch ([`HupWatch::new`] fails) and short
//! reads prove nothing, as before.

use std::io;
use std::os::fd::{AsFd, BorrowedFd};

/// The poller key the watch's own descriptor is registered under (polling
/// keeps `usize::MAX` for its notifier; source keys are addresses).
pub(crate) const HUP_KEY: usize = usize::MAX - 1;

#[cfg(target_os = "linux")]
mod imp {
    use super::*;
    use rustix::event::epoll;
    use std::mem::MaybeUninit;
    use std::os::fd::OwnedFd;

    /// Events taken per `epoll_wait` while draining.
    const BATCH: usize = 64;

    /// The hang-up epoll instance.
    #[derive(Debug)]
    pub(crate) struct HupWatch {
        epoll: OwnedFd,
    }

    impl HupWatch {
        pub(crate) fn new() -> io::Result<HupWatch> {
            Ok(HupWatch {
                epoll: epoll::create(epoll::CreateFlags::CLOEXEC)?,
            })
        }

        /// Reports `fd`'s hang-up under `key` from now on; a hang-up that
        /// already happened is reported too (the kernel checks the current
        /// state when the item is added).
        pub(crate) fn watch(&self, fd: BorrowedFd<'_>, key: usize) -> io::Result<()> {
            epoll::add(
                &self.epoll,
                fd,
                epoll::EventData::new_u64(key as u64),
                epoll::EventFlags::RDHUP | epoll::EventFlags::ET,
            )?;
            Ok(())
        }

        /// Stops reporting `fd` (before its key becomes invalid).
        pub(crate) fn unwatch(&self, fd: BorrowedFd<'_>) {
            // Fails only if `fd` is not watched: nothing to undo then.
            let _ = epoll::delete(&self.epoll, fd);
        }

        /// Moves the keys of every reported hang-up to `out`, until none is
        /// left (the reactor's poller sees this instance in edge mode, so it
        /// must be emptied each time it is reported).
        pub(crate) fn drain(&self, out: &mut Vec<usize>) {
            let zero = rustix::event::Timespec {
                tv_sec: 0,
                tv_nsec: 0,
            };
            let mut buf = [MaybeUninit::<epoll::Event>::uninit(); BATCH];
            loop {
                let Ok((events, _)) = epoll::wait(&self.epoll, &mut buf, Some(&zero)) else {
                    // EINTR cannot happen with a zero timeout; anything else
                    // is a bug. Report what was taken.
                    return;
                };
                out.extend(events.iter().map(|e| e.data.u64() as usize));
                if events.len() < BATCH {
                    return;
                }
            }
        }
    }

    impl AsFd for HupWatch {
        fn as_fd(&self) -> BorrowedFd<'_> {
            self.epoll.as_fd()
        }
    }
}

#[cfg(not(target_os = "linux"))]
mod imp {
    use super::*;

    /// No hang-up watch on this system: [`HupWatch::new`] always fails.
    #[derive(Debug)]
    pub(crate) enum HupWatch {}

    impl HupWatch {
        pub(crate) fn new() -> io::Result<HupWatch> {
            Err(io::Error::from(io::ErrorKind::Unsupported))
        }

        pub(crate) fn watch(&self, _fd: BorrowedFd<'_>, _key: usize) -> io::Result<()> {
            match *self {}
        }

        pub(crate) fn unwatch(&self, _fd: BorrowedFd<'_>) {
            match *self {}
        }

        pub(crate) fn drain(&self, _out: &mut Vec<usize>) {
            match *self {}
        }
    }

    impl AsFd for HupWatch {
        fn as_fd(&self) -> BorrowedFd<'_> {
            match *self {}
        }
    }
}

pub(crate) use imp::HupWatch;

//! Signals (`filch::signal`): [`ctrl_c`] (asyncio's
//! `loop.add_signal_handler(SIGINT, ...)` as an awaitable) and Unix signal
//! listeners.
//!
//! Built on `signal-hook`'s self-pipe registration: its handler (which is
//! async-signal-safe and shared by everything in the process that uses
//! `signal-hook-registry`) writes a byte to one end of a Unix socket pair;
//! the other end is an ordinary [`UnixStream`] in the runtime's reactor.
//! There is no hand-written signal handler here and no helper thread. Each
//! listener has its own pair and registration, removed when it is dropped.
//!
//! Note the process-wide effect, as with every signal library: once a
//! handler for a signal has been installed, that signal no longer has its
//! default action (SIGINT no longer kills the process), even after the
//! listener is dropped.

use crate::io::AsyncReadExt;
use crate::net::UnixStream;
use std::io;
use std::os::raw::c_int;

/// Waits for the next Ctrl-C (`SIGINT`).
///
/// Each call installs its own listener before it first waits, so a signal
/// that arrives after the call is not missed. Cancel-safe (dropping the
/// future removes the listener).
///
/// ```no_run
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// rt.block_on(async {
///     filch_io::signal::ctrl_c().await.unwrap();
///     println!("shutting down");
/// });
/// ```
pub async fn ctrl_c() -> io::Result<()> {
    unix::signal(unix::SignalKind::interrupt())?.recv().await
}

/// Unix signals beyond Ctrl-C.
pub mod unix {
    use super::*;
    use std::fmt;

    /// Which signal to listen for.
    ///
    /// ```
    /// use filch_io::signal::unix::SignalKind;
    /// assert_eq!(SignalKind::interrupt().as_raw(), 2);
    /// assert_eq!(SignalKind::from_raw(15), SignalKind::terminate());
    /// ```
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
    pub struct SignalKind(c_int);

    impl SignalKind {
        /// Any signal by number (validated when [`signal`] is called).
        ///
        /// ```
        /// assert_eq!(filch_io::signal::unix::SignalKind::from_raw(1).as_raw(), 1);
        /// ```
        pub const fn from_raw(signum: c_int) -> SignalKind {
            SignalKind(signum)
        }

        /// The signal number.
        ///
        /// ```
        /// assert_eq!(filch_io::signal::unix::SignalKind::hangup().as_raw(), 1);
        /// ```
        pub const fn as_raw(self) -> c_int {
            self.0
        }

        /// `SIGINT` (Ctrl-C).
        ///
        /// ```
        /// # let _ = filch_io::signal::unix::SignalKind::interrupt();
        /// ```
        pub const fn interrupt() -> SignalKind {
            SignalKind(signal_hook::consts::SIGINT)
        }

        /// `SIGTERM` (polite termination request).
        ///
        /// ```
        /// # let _ = filch_io::signal::unix::SignalKind::terminate();
        /// ```
        pub const fn terminate() -> SignalKind {
            SignalKind(signal_hook::consts::SIGTERM)
        }

        /// `SIGHUP` (terminal hung up; daemons: reload configuration).
        ///
        /// ```
        /// # let _ = filch_io::signal::unix::SignalKind::hangup();
        /// ```
        pub const fn hangup() -> SignalKind {
            SignalKind(signal_hook::consts::SIGHUP)
        }

        /// `SIGQUIT`.
        ///
        /// ```
        /// # let _ = filch_io::signal::unix::SignalKind::quit();
        /// ```
        pub const fn quit() -> SignalKind {
            SignalKind(signal_hook::consts::SIGQUIT)
        }

        /// `SIGUSR1`.
        ///
        /// ```
        /// # let _ = filch_io::signal::unix::SignalKind::user_defined1();
        /// ```
        pub const fn user_defined1() -> SignalKind {
            SignalKind(signal_hook::consts::SIGUSR1)
        }

        /// `SIGUSR2`.
        ///
        /// ```
        /// # let _ = filch_io::signal::unix::SignalKind::user_defined2();
        /// ```
        pub const fn user_defined2() -> SignalKind {
            SignalKind(signal_hook::consts::SIGUSR2)
        }

        /// `SIGCHLD` (a child process changed state).
        ///
        /// ```
        /// # let _ = filch_io::signal::unix::SignalKind::child();
        /// ```
        pub const fn child() -> SignalKind {
            SignalKind(signal_hook::consts::SIGCHLD)
        }

        /// `SIGWINCH` (terminal window resized).
        ///
        /// ```
        /// # let _ = filch_io::signal::unix::SignalKind::window_change();
        /// ```
        pub const fn window_change() -> SignalKind {
            SignalKind(signal_hook::consts::SIGWINCH)
        }
    }

    /// A listener for one signal: each [`recv`](Self::recv) completes after
    /// at least one delivery since the previous one (deliveries that arrive
    /// together are merged, as the OS merges pending signals).
    ///
    /// ```
    /// use filch_io::signal::unix::{SignalKind, signal};
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let mut usr2 = signal(SignalKind::user_defined2()).unwrap();
    ///     signal_hook::low_level::raise(SignalKind::user_defined2().as_raw()).unwrap();
    ///     usr2.recv().await.unwrap();
    /// });
    /// ```
    pub struct Signal {
        kind: SignalKind,
        reader: UnixStream,
        id: signal_hook::SigId,
    }

    /// Starts listening for `kind` in the current runtime.
    ///
    /// Errors: `InvalidInput` naming the signal for one that cannot be
    /// handled (`SIGKILL`, `SIGSTOP`, `SIGSEGV`, `SIGILL`, `SIGFPE`) or is
    /// not a signal number; an error outside a runtime with the I/O driver.
    ///
    /// ```
    /// use filch_io::signal::unix::{SignalKind, signal};
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// let _guard = rt.handle().enter();
    /// let err = signal(SignalKind::from_raw(9)).unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// assert!(err.to_string().contains("signal 9"));
    /// ```
    pub fn signal(kind: SignalKind) -> io::Result<Signal> {
        let signum = kind.as_raw();
        if signal_hook::consts::FORBIDDEN.contains(&signum) {
            return Err(io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("invalid signal: signal {signum} cannot be handled by a program"),
            ));
        }
        let (reader, writer) = std::os::unix::net::UnixStream::pair()?;
        // Registered before the reader joins the reactor: a failure there
        // drops `reader` and we unregister below.
        let id = signal_hook::low_level::pipe::register(signum, writer).map_err(|e| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("invalid signal: signal {signum} could not be handled: {e}"),
            )
        })?;
        reader.set_nonblocking(true)?;
        match UnixStream::from_std(reader) {
            Ok(reader) => Ok(Signal { kind, reader, id }),
            Err(e) => {
                signal_hook::low_level::unregister(id);
                Err(e)
            }
        }
    }

    impl Signal {
        /// Waits for the next delivery of the signal. Cancel-safe: a
        /// delivery that arrives while no `recv` is waiting is kept for the
        /// next one.
        ///
        /// ```
        /// use filch_io::signal::unix::{SignalKind, signal};
        /// # let (park, driver) = filch_io::driver().unwrap();
        /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
        /// rt.block_on(async {
        ///     let mut usr1 = signal(SignalKind::user_defined1()).unwrap();
        ///     signal_hook::low_level::raise(SignalKind::user_defined1().as_raw()).unwrap();
        ///     usr1.recv().await.unwrap();
        /// });
        /// ```
        pub async fn recv(&mut self) -> io::Result<()> {
            // Drain what is there (several deliveries count as one), wait
            // only if nothing is.
            let mut buf = [0u8; 64];
            match self.reader.read(&mut buf).await? {
                0 => Err(io::Error::other(format!(
                    "the handler for signal {} was removed",
                    self.kind.as_raw()
                ))),
                _ => Ok(()),
            }
        }

        /// The signal this listener receives.
        ///
        /// ```
        /// use filch_io::signal::unix::{SignalKind, signal};
        /// # let (park, driver) = filch_io::driver().unwrap();
        /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
        /// let _guard = rt.handle().enter();
        /// assert_eq!(signal(SignalKind::hangup()).unwrap().kind(), SignalKind::hangup());
        /// ```
        pub fn kind(&self) -> SignalKind {
            self.kind
        }
    }

    impl Signal {
        /// Waits as one of many waiters on this listener, `key` being the
        /// waiter's entry (for the child watcher, `process/exit.rs`, which
        /// shares one SIGCHLD listener among every waiting child).
        /// `Ready(Ok(()))`: deliveries were taken from the pipe; poll again
        /// until `Pending`, which means the waiter will be woken by the next
        /// one. `Ready(Err(_))`: nothing can be received any more (the
        /// listener's reactor shut down). A `key` still held when the
        /// waiter gives up goes to [`cancel_shared`](Self::cancel_shared).
        pub(crate) fn poll_shared(
            &self,
            cx: &mut std::task::Context<'_>,
            key: &mut Option<usize>,
        ) -> std::task::Poll<io::Result<()>> {
            let mut buf = [0u8; 64];
            let reg = self.reader.registration();
            let read = std::task::ready!(reg.poll_io_shared(
                cx,
                crate::reactor::scheduled_io::Direction::Read,
                key,
                || crate::sys::recv(&self.reader, &mut buf),
            ));
            std::task::Poll::Ready(match read? {
                0 => Err(io::Error::other(format!(
                    "the handler for signal {} was removed",
                    self.kind.as_raw()
                ))),
                _ => Ok(()),
            })
        }

        /// Removes a shared waiter entry of [`poll_shared`](Self::poll_shared).
        pub(crate) fn cancel_shared(&self, key: usize) {
            self.reader.registration().cancel_shared(key);
        }

        /// Whether this listener's reactor shut down (it will never report
        /// a delivery again).
        pub(crate) fn is_gone(&self) -> bool {
            self.reader.registration().is_shutdown()
        }
    }

    impl Drop for Signal {
        fn drop(&mut self) {
            // Closes the writer end too (signal-hook owns it).
            signal_hook::low_level::unregister(self.id);
        }
    }

    impl fmt::Debug for Signal {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.debug_struct("Signal").field("kind", &self.kind).finish()
        }
    }
}

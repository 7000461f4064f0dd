//! Exit watching: how a child's exit is noticed without a thread per child,
//! and the orphan list that reaps the children whose `Child` was dropped
//! before they exited.
//!
//! ## Two watches
//! * **pidfd** (Linux 5.3 and later): `pidfd_open(2)` gives a descriptor
//!   that becomes readable when the process exits. It is registered with
//!   the reactor like a socket; when it is readable the waiter reaps the
//!   child with `waitpid(WNOHANG)` (std's `Child::try_wait`). No signal
//!   handler is installed.
//! * **SIGCHLD** (other systems, or when `pidfd_open` fails): one listener
//!   for the whole process, a [`Signal`] for SIGCHLD registered with the
//!   reactor of the runtime that first needed it, shared by every waiting
//!   child as one of the listener's shared waiters. Signals coalesce and do
//!   not say which child exited, so a delivery wakes every waiter and each
//!   tries `waitpid` on its own child. The listener lives while a child
//!   watches it (the slot below holds it weakly).
//!
//! In both, a waiter registers for the next event **before** it calls
//! `waitpid`: an exit between the two still produces an event (the pidfd
//! turns readable, the signal arrives) that finds the waiter registered.
//! A watch whose reactor has shut down (the runtime that spawned the child
//! is gone) is replaced by one in the current runtime's reactor on the next
//! poll, so a child can be awaited from another runtime.
//!
//! ## Orphans (no zombies)
//! A `Child` dropped before its process was reaped hands the process
//! ([`Proc`]) to the orphan list (killed first with `kill_on_drop`). One
//! reaper task, spawned on the current runtime when the list becomes
//! non-empty, polls every orphan's watch with its own waker and drops the
//! ones that were reaped; it ends when the list is empty. If its runtime
//! shuts down (the task is dropped) the orphans stay listed and the next
//! spawn or orphan in any runtime starts a new reaper, whose polls replace
//! the dead watches. So an orphan is reaped as soon as it exits while some
//! runtime runs a reaper, and otherwise no later than that runtime's next
//! process operation.
//!
//! ## Pid reuse
//! A pid can only be reused once its process is reaped. Reaping happens in
//! exactly one place, std's `try_wait`, and [`Proc`] records the status it
//! returns: after that nothing signals the pid or opens a pidfd for it
//! (`Child::id` is `None`). Before it, the process (a zombie at worst)
//! still owns its pid. Something else in the program that reaps our
//! children (`SIGCHLD` set to `SIG_IGN`, `waitpid(-1)`) makes `try_wait`
//! fail with `ECHILD`; that error is returned and such an orphan is
//! dropped from the list.
//!
//! This module must not spawn processes or touch their pipes
//! (`command.rs`, `pipes.rs`).

use crate::ReactorHandle;
#[cfg(target_os = "linux")]
use crate::reactor::registration::{Drained, PollEvented};
#[cfg(target_os = "linux")]
use crate::reactor::scheduled_io::{Direction, READABLE};
use crate::signal::unix::{Signal, SignalKind, signal};
use filch_executor::Handle;
use parking_lot::Mutex;
#[cfg(target_os = "linux")]
use std::os::fd::OwnedFd;
use std::process::{Child as StdChild, ExitStatus};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::sync::{Arc, Weak};
use std::task::{Context, Poll, ready};
use std::{fmt, io};

/// Whether new children get a pidfd watch: off once `pidfd_open` said
/// `ENOSYS`, or when a test forces the SIGCHLD fallback.
static USE_PIDFD: AtomicBool = AtomicBool::new(cfg!(target_os = "linux"));

/// Makes children spawned from now on use a pidfd watch (where the system
/// has pidfds) or the shared SIGCHLD listener. For tests of the fallback.
pub(crate) fn set_pidfd(enabled: bool) {
    USE_PIDFD.store(enabled && cfg!(target_os = "linux"), Relaxed);
}

/// The process-wide SIGCHLD listener, while some child watches it.
static SIGCHLD: Mutex<Weak<Signal>> = Mutex::new(Weak::new());

/// The SIGCHLD listener: the live one, or a new one in the current reactor.
fn sigchld() -> io::Result<Arc<Signal>> {
    let mut slot = SIGCHLD.lock();
    if let Some(listener) = slot.upgrade()
        && !listener.is_gone()
    {
        return Ok(listener);
    }
    let listener = Arc::new(signal(SignalKind::child())?);
    *slot = Arc::downgrade(&listener);
    Ok(listener)
}

/// A new pidfd for `pid`, or `None` where there is none to be had (this
/// child is then watched through SIGCHLD).
#[cfg(target_os = "linux")]
fn pidfd(pid: u32) -> Option<OwnedFd> {
    let pid = rustix::process::Pid::from_raw(i32::try_from(pid).ok()?)?;
    match rustix::process::pidfd_open(pid, rustix::process::PidfdFlags::empty()) {
        Ok(fd) => Some(fd),
        Err(rustix::io::Errno::NOSYS) => {
            USE_PIDFD.store(false, Relaxed);
            None
        }
        // Out of descriptors, or a sandbox that forbids it: the shared
        // listener costs no descriptor per child.
        Err(_) => None,
    }
}

/// How one child's exit is noticed.
enum Watch {
    #[cfg(target_os = "linux")]
    Pidfd(PollEvented<OwnedFd>),
    Sigchld {
        listener: Arc<Signal>,
        key: Option<usize>,
    },
}

impl Watch {
    /// A watch on `pid` (spawned by us and not reaped yet) in the current
    /// runtime's reactor.
    fn new(pid: u32) -> io::Result<Watch> {
        #[cfg(target_os = "linux")]
        if USE_PIDFD.load(Relaxed)
            && let Some(fd) = pidfd(pid)
        {
            // Assumed readable at first: the first wait looks before it
            // waits.
            return Ok(Watch::Pidfd(PollEvented::new(fd, READABLE)?));
        }
        #[cfg(not(target_os = "linux"))]
        let _ = pid;
        Ok(Watch::Sigchld {
            listener: sigchld()?,
            key: None,
        })
    }

    fn kind(&self) -> &'static str {
        match self {
            #[cfg(target_os = "linux")]
            Watch::Pidfd(_) => "pidfd",
            Watch::Sigchld { .. } => "sigchld",
        }
    }

    /// `Ready(Ok(Some(status)))`: exited and reaped. `Ready(Ok(None))`: the
    /// watch is dead (its reactor shut down); make a new one.
    /// `Ready(Err(_))`: `waitpid` failed.
    fn poll_exit(
        &mut self,
        cx: &mut Context<'_>,
        std: &mut StdChild,
    ) -> Poll<io::Result<Option<ExitStatus>>> {
        match self {
            #[cfg(target_os = "linux")]
            Watch::Pidfd(fd) => {
                // `f` only fails with `WouldBlock` (still running), so an
                // `Err` from the loop means the source is gone.
                let reaped = ready!(fd.registration().poll_io(
                    cx,
                    Direction::Read,
                    || match std.try_wait() {
                        Ok(None) => Err(io::ErrorKind::WouldBlock.into()),
                        Ok(Some(status)) => Ok(Ok(status)),
                        Err(e) => Ok(Err(e)),
                    },
                    |_| Drained::No,
                ));
                Poll::Ready(match reaped {
                    Ok(Ok(status)) => Ok(Some(status)),
                    Ok(Err(e)) => Err(e),
                    Err(_) => Ok(None),
                })
            }
            Watch::Sigchld { listener, key } => {
                // Take the deliveries seen so far and register for the next
                // one, then look.
                let dead = loop {
                    match listener.poll_shared(cx, key) {
                        Poll::Ready(Ok(())) => continue,
                        Poll::Ready(Err(_)) => break true,
                        Poll::Pending => break false,
                    }
                };
                match std.try_wait() {
                    Ok(Some(status)) => Poll::Ready(Ok(Some(status))),
                    Ok(None) if dead => Poll::Ready(Ok(None)),
                    Ok(None) => Poll::Pending,
                    Err(e) => Poll::Ready(Err(e)),
                }
            }
        }
    }
}

impl Drop for Watch {
    fn drop(&mut self) {
        if let Watch::Sigchld {
            listener,
            key: Some(key),
        } = self
        {
            listener.cancel_shared(*key);
        }
    }
}

/// A child process we spawned: std's handle, its exit status once reaped,
/// and its watch (`None` before the first wait, after the exit, or when a
/// new watch could not be made).
pub(crate) struct Proc {
    std: StdChild,
    status: Option<ExitStatus>,
    watch: Option<Watch>,
}

impl Proc {
    /// Wraps a just-spawned child and starts watching it in the current
    /// runtime's reactor. On error the caller still owns the process (in
    /// the `Proc` returned with the error) and must dispose of it.
    pub(crate) fn watch(std: StdChild) -> Result<Proc, (Proc, io::Error)> {
        let mut proc = Proc {
            std,
            status: None,
            watch: None,
        };
        match Watch::new(proc.std.id()) {
            Ok(watch) => {
                proc.watch = Some(watch);
                Ok(proc)
            }
            Err(e) => Err((proc, e)),
        }
    }

    /// The pid, while the process is not reaped (after that it may belong
    /// to another process).
    pub(crate) fn id(&self) -> Option<u32> {
        self.status.is_none().then(|| self.std.id())
    }

    /// Which watch this child uses (`"pidfd"`, `"sigchld"`, or `"none"`).
    pub(crate) fn watch_kind(&self) -> &'static str {
        self.watch.as_ref().map_or("none", Watch::kind)
    }

    fn reaped(&mut self, status: ExitStatus) -> ExitStatus {
        self.status = Some(status);
        // The descriptor (or the listener entry) is not needed any more.
        self.watch = None;
        status
    }

    /// `waitpid(WNOHANG)`: the status if the process has exited (reaping
    /// it), `None` if it still runs.
    pub(crate) fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        if let Some(status) = self.status {
            return Ok(Some(status));
        }
        Ok(self.std.try_wait()?.map(|status| self.reaped(status)))
    }

    /// Waits for the exit and reaps the process. Cancel-safe.
    pub(crate) fn poll_wait(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<ExitStatus>> {
        if let Some(status) = self.status {
            return Poll::Ready(Ok(status));
        }
        let mut renewed = false;
        loop {
            let watch = match &mut self.watch {
                Some(watch) => watch,
                // Not reaped, so the pid is still this process's.
                None => self.watch.insert(Watch::new(self.std.id())?),
            };
            match ready!(watch.poll_exit(cx, &mut self.std)) {
                Ok(Some(status)) => return Poll::Ready(Ok(self.reaped(status))),
                Err(e) => return Poll::Ready(Err(e)),
                Ok(None) if !renewed => {
                    self.watch = None;
                    renewed = true;
                }
                Ok(None) => {
                    self.watch = None;
                    return Poll::Ready(Err(io::Error::other(
                        "cannot watch the child process for its exit: the filch I/O reactor \
                         has shut down",
                    )));
                }
            }
        }
    }

    /// Sends SIGKILL unless the process was reaped already.
    pub(crate) fn kill(&mut self) -> io::Result<()> {
        match self.status {
            Some(_) => Ok(()),
            None => self.std.kill(),
        }
    }
}

impl fmt::Debug for Proc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Proc")
            .field("pid", &self.std.id())
            .field("status", &self.status)
            .field("watch", &self.watch_kind())
            .finish()
    }
}

/// The orphan list and who reaps it.
struct Orphans {
    list: Vec<Proc>,
    /// The running reaper's number (`0`: none runs).
    reaper: u64,
    /// The last number given to a reaper.
    last: u64,
}

static ORPHANS: Mutex<Orphans> = Mutex::new(Orphans {
    list: Vec::new(),
    reaper: 0,
    last: 0,
});

impl Orphans {
    /// Claims the reaper's job for a new reaper on the current runtime, if
    /// none runs and this thread is in a runtime with a reactor.
    fn claim_reaper(&mut self) -> Option<(Handle, u64)> {
        if self.reaper != 0 || self.list.is_empty() {
            return None;
        }
        let handle = Handle::try_current()?;
        handle.driver::<ReactorHandle>()?;
        self.last += 1;
        self.reaper = self.last;
        Some((handle, self.last))
    }
}

/// Hands a process whose `Child` is gone to the orphan list, unless it has
/// exited already (then it is reaped here) or cannot be reaped by us.
pub(crate) fn orphan(mut proc: Proc) {
    if !matches!(proc.try_wait(), Ok(None)) {
        return;
    }
    let claimed = {
        let mut orphans = ORPHANS.lock();
        orphans.list.push(proc);
        orphans.claim_reaper()
    };
    start_reaper(claimed);
}

/// Starts a reaper if orphans wait for one (every spawn calls this, so that
/// orphans left by a runtime that shut down are reaped by the next one).
pub(crate) fn reap_orphans() {
    let claimed = ORPHANS.lock().claim_reaper();
    start_reaper(claimed);
}

/// Spawns the reaper claimed under the lock (outside it: a spawn on a
/// runtime that is shutting down drops the task at once, and its guard
/// takes the lock).
fn start_reaper(claimed: Option<(Handle, u64)>) {
    if let Some((handle, id)) = claimed {
        drop(handle.spawn(reaper(ReaperGuard(id))));
    }
}

/// Gives the reaper's job up when the reaper task ends or is dropped.
struct ReaperGuard(u64);

impl Drop for ReaperGuard {
    fn drop(&mut self) {
        let mut orphans = ORPHANS.lock();
        if orphans.reaper == self.0 {
            orphans.reaper = 0;
        }
    }
}

/// The reaper task: polls every orphan's watch, drops the reaped ones, ends
/// when none is left. The guard is an argument, not a local: the future
/// owns it from the start, so a task dropped before its first poll (its
/// runtime shut down) still gives the job up.
async fn reaper(guard: ReaperGuard) {
    let id = guard.0;
    std::future::poll_fn(|cx| {
        let mut reaped = Vec::new();
        let mut orphans = ORPHANS.lock();
        if orphans.reaper != id {
            return Poll::Ready(());
        }
        let mut stuck = false;
        let mut i = 0;
        while i < orphans.list.len() {
            match orphans.list[i].poll_wait(cx) {
                Poll::Pending => i += 1,
                // No watch could be made (out of descriptors?): leave it
                // for the next reaper, started by the next spawn.
                Poll::Ready(Err(_)) if orphans.list[i].watch.is_none() => {
                    stuck = true;
                    i += 1;
                }
                // Reaped, or not ours to reap (`ECHILD`).
                Poll::Ready(_) => reaped.push(orphans.list.swap_remove(i)),
            }
        }
        let done = stuck || orphans.list.is_empty();
        if done {
            orphans.reaper = 0;
        }
        drop(orphans);
        // Watches are deregistered outside the lock.
        drop(reaped);
        if done { Poll::Ready(()) } else { Poll::Pending }
    })
    .await
}

/// Processes in the orphan list now (for tests).
pub(crate) fn orphans() -> usize {
    ORPHANS.lock().list.len()
}

//! [`Child`]: a running child process (asyncio's `Process`): its pipes, its
//! exit (`wait`, `try_wait`), signals (`start_kill`, `kill`,
//! `send_signal`), and what happens when it is dropped.
//!
//! This module owns the handle users hold; how an exit is noticed and how
//! orphans are reaped is `exit.rs`, the pipes are `pipes.rs`.

use super::exit::{self, Proc};
use super::pipes::{ChildStderr, ChildStdin, ChildStdout};
use crate::io::AsyncReadExt;
use crate::signal::unix::SignalKind;
use std::fmt;
use std::future::poll_fn;
use std::io;
use std::process::{ExitStatus, Output};

/// A child process spawned by [`Command::spawn`](super::Command::spawn)
/// (asyncio's `asyncio.subprocess.Process`).
///
/// Its piped streams are the public fields, as in std: `take()` them to use
/// them on their own (a task writing stdin while another reads stdout).
///
/// **Dropping a `Child` never leaves a zombie.** A child that is still
/// running keeps running (unless the command had
/// [`kill_on_drop(true)`](super::Command::kill_on_drop), then it is killed)
/// and is reaped in the background when it exits, by a task of the runtime
/// (see the module docs).
///
/// ```
/// use filch_io::process::Command;
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// rt.block_on(async {
///     let mut child = Command::new("sh").args(["-c", "exit 7"]).spawn().unwrap();
///     assert!(child.id().is_some());
///     let status = child.wait().await.unwrap();
///     assert_eq!(status.code(), Some(7));
///     assert_eq!(child.id(), None); // reaped: the pid may belong to someone else now
/// });
/// ```
pub struct Child {
    /// The child's stdin, if it was [`Stdio::piped`](std::process::Stdio::piped).
    pub stdin: Option<ChildStdin>,
    /// The child's stdout, if it was piped.
    pub stdout: Option<ChildStdout>,
    /// The child's stderr, if it was piped.
    pub stderr: Option<ChildStderr>,
    /// `Some` until dropped.
    proc: Option<Proc>,
    kill_on_drop: bool,
}

impl Child {
    /// Takes over a child std just spawned: starts watching its exit and
    /// registers its pipes. On error the child is killed and reaped in the
    /// background, and every descriptor is closed.
    pub(crate) fn new(mut std: std::process::Child, kill_on_drop: bool) -> io::Result<Child> {
        let (stdin, stdout, stderr) = (std.stdin.take(), std.stdout.take(), std.stderr.take());
        let proc = match Proc::watch(std) {
            Ok(proc) => proc,
            Err((proc, e)) => return Err(abandon(proc, e)),
        };
        let pipes = (|| {
            Ok((
                stdin.map(ChildStdin::from_std).transpose()?,
                stdout.map(ChildStdout::from_std).transpose()?,
                stderr.map(ChildStderr::from_std).transpose()?,
            ))
        })();
        match pipes {
            Ok((stdin, stdout, stderr)) => Ok(Child {
                stdin,
                stdout,
                stderr,
                proc: Some(proc),
                kill_on_drop,
            }),
            Err(e) => Err(abandon(proc, e)),
        }
    }

    fn proc(&self) -> &Proc {
        self.proc.as_ref().expect("Child used after drop")
    }

    fn proc_mut(&mut self) -> &mut Proc {
        self.proc.as_mut().expect("Child used after drop")
    }

    /// The process id, or `None` once the child has been reaped (by
    /// `wait`, `try_wait` or `kill`): from then on the pid may belong to
    /// another process.
    ///
    /// ```
    /// use filch_io::process::Command;
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let mut child = Command::new("true").spawn().unwrap();
    ///     assert!(child.id().unwrap() > 0);
    ///     child.wait().await.unwrap();
    ///     assert_eq!(child.id(), None);
    /// });
    /// ```
    pub fn id(&self) -> Option<u32> {
        self.proc().id()
    }

    /// Waits for the child to exit and reaps it (asyncio's
    /// `await proc.wait()`). Closes the child's stdin first, if it is still
    /// here, so that a child reading its input to the end can finish.
    ///
    /// Cancel-safe: dropping the future leaves the child as it was, and a
    /// later `wait` picks up where this one stopped. Calling it again after
    /// the exit returns the same status.
    ///
    /// A child spawned on another runtime that has shut down since can be
    /// awaited here: the wait moves to this runtime's reactor.
    ///
    /// ```
    /// use filch_io::process::Command;
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let mut child = Command::new("false").spawn().unwrap();
    ///     assert!(!child.wait().await.unwrap().success());
    ///     assert!(!child.wait().await.unwrap().success());
    /// });
    /// ```
    pub async fn wait(&mut self) -> io::Result<ExitStatus> {
        drop(self.stdin.take());
        let proc = self.proc_mut();
        poll_fn(|cx| proc.poll_wait(cx)).await
    }

    /// The exit status if the child has exited (reaping it), `None` if it
    /// is still running; never waits. Unlike [`wait`](Self::wait) it leaves
    /// stdin open.
    ///
    /// ```
    /// use filch_io::process::{Command, Stdio};
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let mut cat = Command::new("cat").stdin(Stdio::piped()).spawn().unwrap();
    ///     assert_eq!(cat.try_wait().unwrap(), None); // waiting for input
    ///     let status = cat.wait().await.unwrap(); // closes stdin
    ///     assert_eq!(cat.try_wait().unwrap(), Some(status));
    /// });
    /// ```
    pub fn try_wait(&mut self) -> io::Result<Option<ExitStatus>> {
        self.proc_mut().try_wait()
    }

    /// Sends `SIGKILL` and returns at once, without waiting for the child
    /// to die (asyncio's `proc.kill()`; std's `Child::kill`). The child
    /// still has to be reaped: await [`wait`](Self::wait), or drop the
    /// `Child` and let the background reaper do it. Does nothing if the
    /// child was reaped already.
    ///
    /// ```
    /// use filch_io::process::Command;
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
    ///     child.start_kill().unwrap();
    ///     use std::os::unix::process::ExitStatusExt;
    ///     assert_eq!(child.wait().await.unwrap().signal(), Some(9));
    /// });
    /// ```
    pub fn start_kill(&mut self) -> io::Result<()> {
        self.proc_mut().kill()
    }

    /// Sends `SIGKILL` and waits until the child is dead and reaped: when
    /// it returns there is no process and no zombie left (the one-call
    /// "make it go away"; [`start_kill`](Self::start_kill) is the
    /// fire-and-forget form). Does nothing but return if the child was
    /// reaped already.
    ///
    /// Cancel-safe in the sense of [`wait`](Self::wait): if dropped, the
    /// signal has been sent and a later `wait` reaps the child.
    ///
    /// ```
    /// use filch_io::process::Command;
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
    ///     child.kill().await.unwrap();
    ///     assert_eq!(child.id(), None);
    /// });
    /// ```
    pub async fn kill(&mut self) -> io::Result<()> {
        self.start_kill()?;
        self.wait().await.map(drop)
    }

    /// Sends `signal` to the child (asyncio's `send_signal`; `terminate()`
    /// is `send_signal(SignalKind::terminate())`). Does nothing if the child
    /// was reaped already: its pid may belong to another process by then.
    ///
    /// Errors: `InvalidInput` naming the signal if it is not a signal this
    /// system knows.
    ///
    /// ```
    /// use filch_io::process::Command;
    /// use filch_io::signal::unix::SignalKind;
    /// use std::os::unix::process::ExitStatusExt;
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let mut child = Command::new("sleep").arg("1000").spawn().unwrap();
    ///     child.send_signal(SignalKind::terminate()).unwrap();
    ///     assert_eq!(child.wait().await.unwrap().signal(), Some(15));
    /// });
    /// ```
    pub fn send_signal(&mut self, signal: SignalKind) -> io::Result<()> {
        let raw = signal.as_raw();
        let sig = rustix::process::Signal::from_named_raw(raw).ok_or_else(|| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                format!("invalid signal: signal {raw} is not a signal this system knows"),
            )
        })?;
        let Some(pid) = self.id() else {
            return Ok(());
        };
        let pid = i32::try_from(pid)
            .ok()
            .and_then(rustix::process::Pid::from_raw)
            .ok_or_else(|| io::Error::other(format!("pid {pid} out of range")))?;
        Ok(rustix::process::kill_process(pid, sig)?)
    }

    /// Waits for the exit while reading stdout and stderr to their end
    /// (asyncio's `proc.communicate()` without input): the streams that
    /// were not piped come back empty. Closes stdin first; write it before
    /// calling this. Both streams are read at once, so a child that fills
    /// one pipe while the other is being read cannot deadlock.
    ///
    /// Not cancel-safe: dropping the future drops the `Child` (which
    /// keeps running, and is reaped when it exits) and what was read.
    ///
    /// ```
    /// use filch_io::process::{Command, Stdio};
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let child = Command::new("sh")
    ///         .args(["-c", "echo out; echo err >&2"])
    ///         .stdout(Stdio::piped())
    ///         .stderr(Stdio::piped())
    ///         .spawn()
    ///         .unwrap();
    ///     let out = child.wait_with_output().await.unwrap();
    ///     assert_eq!((&out.stdout[..], &out.stderr[..]), (&b"out\n"[..], &b"err\n"[..]));
    ///     assert!(out.status.success());
    /// });
    /// ```
    pub async fn wait_with_output(mut self) -> io::Result<Output> {
        drop(self.stdin.take());
        let (stdout, stderr) = (self.stdout.take(), self.stderr.take());
        let (stdout, stderr) =
            futures_lite::future::try_zip(read_all(stdout), read_all(stderr)).await?;
        let status = self.wait().await?;
        Ok(Output {
            status,
            stdout,
            stderr,
        })
    }

    /// Which exit watch this child uses: `"pidfd"` or `"sigchld"` (for the
    /// tests of both paths).
    #[doc(hidden)]
    pub fn __exit_watch(&self) -> &'static str {
        self.proc().watch_kind()
    }
}

/// Reads a piped stream to its end (an absent one is empty).
async fn read_all<R: futures_io::AsyncRead + Unpin>(stream: Option<R>) -> io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    if let Some(mut stream) = stream {
        stream.read_to_end(&mut buf).await?;
    }
    Ok(buf)
}

/// Kills a child that could not be set up (nobody has a handle to it),
/// leaves it to the orphan reaper and returns the error.
fn abandon(mut proc: Proc, e: io::Error) -> io::Error {
    let _ = proc.kill();
    exit::orphan(proc);
    e
}

impl Drop for Child {
    fn drop(&mut self) {
        if let Some(mut proc) = self.proc.take() {
            if self.kill_on_drop {
                let _ = proc.kill();
            }
            // Reaped here if it has exited, else by the background reaper.
            exit::orphan(proc);
        }
    }
}

impl fmt::Debug for Child {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Child")
            .field("proc", &self.proc)
            .field("stdin", &self.stdin)
            .field("stdout", &self.stdout)
            .field("stderr", &self.stderr)
            .field("kill_on_drop", &self.kill_on_drop)
            .finish()
    }
}

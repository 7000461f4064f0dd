//! [`Command`]: std's process builder with async `spawn`, `output` and
//! `status` (asyncio's `create_subprocess_exec`).
//!
//! The process is started by `std::process::Command` (posix_spawn or
//! fork/exec; every descriptor it creates is close-on-exec), and the result
//! handed to `child.rs`. This module owns the configuration and the spawn
//! errors; it must not wait for processes or touch their pipes.

use super::child::Child;
use super::exit;
use crate::ReactorHandle;
use std::ffi::OsStr;
use std::fmt;
use std::io;
use std::path::Path;
use std::process::{ExitStatus, Output, Stdio};

/// A process builder, mirroring [`std::process::Command`] (asyncio's
/// `create_subprocess_exec(program, *args, stdin=..., cwd=..., env=...)`;
/// for `create_subprocess_shell(cmd)` run
/// `Command::new("sh").args(["-c", cmd])`).
///
/// Builder methods take `&mut self` and return `&mut Self`, so a command
/// can be set up in one expression or step by step, and spawned several
/// times.
///
/// ```
/// use filch_io::process::Command;
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// rt.block_on(async {
///     let out = Command::new("sh")
///         .args(["-c", "echo $GREETING from $(pwd)"])
///         .env("GREETING", "hello")
///         .current_dir("/")
///         .output()
///         .await
///         .unwrap();
///     assert_eq!(out.stdout, b"hello from /\n");
/// });
/// ```
pub struct Command {
    std: std::process::Command,
    kill_on_drop: bool,
    /// Which streams were set through this type (for `output`'s defaults).
    stdin_set: bool,
    stdout_set: bool,
    stderr_set: bool,
}

impl Command {
    /// A command that runs `program` (looked up in `PATH` if it has no
    /// slash), with no arguments, the parent's environment and working
    /// directory, and — for `spawn` and `status` — the parent's stdin,
    /// stdout and stderr.
    ///
    /// ```
    /// let cmd = filch_io::process::Command::new("ls");
    /// assert_eq!(cmd.as_std().get_program(), "ls");
    /// ```
    pub fn new(program: impl AsRef<OsStr>) -> Command {
        Command::from(std::process::Command::new(program))
    }

    /// Adds an argument.
    ///
    /// ```
    /// let mut cmd = filch_io::process::Command::new("ls");
    /// cmd.arg("-l").arg("/tmp");
    /// assert_eq!(cmd.as_std().get_args().count(), 2);
    /// ```
    pub fn arg(&mut self, arg: impl AsRef<OsStr>) -> &mut Command {
        self.std.arg(arg);
        self
    }

    /// Adds arguments.
    ///
    /// ```
    /// let mut cmd = filch_io::process::Command::new("ls");
    /// cmd.args(["-l", "-a"]);
    /// assert_eq!(cmd.as_std().get_args().collect::<Vec<_>>(), ["-l", "-a"]);
    /// ```
    pub fn args<I, S>(&mut self, args: I) -> &mut Command
    where
        I: IntoIterator<Item = S>,
        S: AsRef<OsStr>,
    {
        self.std.args(args);
        self
    }

    /// Sets an environment variable for the child.
    ///
    /// ```
    /// let mut cmd = filch_io::process::Command::new("env");
    /// cmd.env("MODE", "test");
    /// assert_eq!(cmd.as_std().get_envs().count(), 1);
    /// ```
    pub fn env(&mut self, key: impl AsRef<OsStr>, val: impl AsRef<OsStr>) -> &mut Command {
        self.std.env(key, val);
        self
    }

    /// Sets several environment variables.
    ///
    /// ```
    /// let mut cmd = filch_io::process::Command::new("env");
    /// cmd.envs([("A", "1"), ("B", "2")]);
    /// assert_eq!(cmd.as_std().get_envs().count(), 2);
    /// ```
    pub fn envs<I, K, V>(&mut self, vars: I) -> &mut Command
    where
        I: IntoIterator<Item = (K, V)>,
        K: AsRef<OsStr>,
        V: AsRef<OsStr>,
    {
        self.std.envs(vars);
        self
    }

    /// Removes an environment variable from what the child inherits.
    ///
    /// ```
    /// let mut cmd = filch_io::process::Command::new("env");
    /// cmd.env_remove("HOME");
    /// assert_eq!(cmd.as_std().get_envs().next(), Some(("HOME".as_ref(), None)));
    /// ```
    pub fn env_remove(&mut self, key: impl AsRef<OsStr>) -> &mut Command {
        self.std.env_remove(key);
        self
    }

    /// Starts the child with an empty environment (plus what `env` adds
    /// afterwards). Without `PATH`, give the program as a path.
    ///
    /// ```
    /// use filch_io::process::Command;
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let out = Command::new("/usr/bin/env").env_clear().env("ONLY", "me").output().await.unwrap();
    ///     assert_eq!(out.stdout, b"ONLY=me\n");
    /// });
    /// ```
    pub fn env_clear(&mut self) -> &mut Command {
        self.std.env_clear();
        self
    }

    /// Sets the child's working directory.
    ///
    /// ```
    /// let mut cmd = filch_io::process::Command::new("pwd");
    /// cmd.current_dir("/tmp");
    /// assert_eq!(cmd.as_std().get_current_dir(), Some(std::path::Path::new("/tmp")));
    /// ```
    pub fn current_dir(&mut self, dir: impl AsRef<Path>) -> &mut Command {
        self.std.current_dir(dir);
        self
    }

    /// Sets the child's stdin: [`Stdio::piped`] (then
    /// [`Child::stdin`] is the writing end), [`Stdio::null`],
    /// [`Stdio::inherit`] (the default for `spawn` and `status`; `output`
    /// defaults to null), a file, or another child's pipe
    /// (`Stdio::try_from(child.stdout)`).
    ///
    /// ```
    /// use filch_io::process::{Command, Stdio};
    /// let mut cmd = Command::new("cat");
    /// cmd.stdin(Stdio::piped());
    /// ```
    pub fn stdin(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdin(cfg);
        self.stdin_set = true;
        self
    }

    /// Sets the child's stdout (the default: inherited for `spawn` and
    /// `status`, captured for `output`). See [`stdin`](Self::stdin).
    ///
    /// ```
    /// use filch_io::process::{Command, Stdio};
    /// let mut cmd = Command::new("ls");
    /// cmd.stdout(Stdio::null());
    /// ```
    pub fn stdout(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stdout(cfg);
        self.stdout_set = true;
        self
    }

    /// Sets the child's stderr (the default: inherited for `spawn` and
    /// `status`, captured for `output`). See [`stdin`](Self::stdin).
    ///
    /// ```
    /// use filch_io::process::{Command, Stdio};
    /// let mut cmd = Command::new("ls");
    /// cmd.stderr(Stdio::piped());
    /// ```
    pub fn stderr(&mut self, cfg: impl Into<Stdio>) -> &mut Command {
        self.std.stderr(cfg);
        self.stderr_set = true;
        self
    }

    /// Whether dropping the [`Child`] (or an `output`/`status` future)
    /// before the process exited kills it (`SIGKILL`). Off by default, as
    /// in std: the process keeps running. Either way it is reaped when it
    /// exits; no zombie is left.
    ///
    /// ```
    /// use filch_io::process::Command;
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let child = Command::new("sleep").arg("1000").kill_on_drop(true).spawn().unwrap();
    ///     drop(child); // killed now, reaped in the background
    /// });
    /// ```
    pub fn kill_on_drop(&mut self, kill_on_drop: bool) -> &mut Command {
        self.kill_on_drop = kill_on_drop;
        self
    }

    /// The std command inside, for reading the configuration back.
    ///
    /// ```
    /// let cmd = filch_io::process::Command::new("ls");
    /// assert_eq!(cmd.as_std().get_program(), "ls");
    /// ```
    pub fn as_std(&self) -> &std::process::Command {
        &self.std
    }

    /// The std command inside, for settings this type does not mirror
    /// (`std::os::unix::process::CommandExt`: `uid`, `process_group`,
    /// `pre_exec`, ...). Streams set here count as not set for `output`,
    /// which captures stdout and stderr unless they were set through this
    /// type.
    ///
    /// ```
    /// use std::os::unix::process::CommandExt;
    /// let mut cmd = filch_io::process::Command::new("ls");
    /// cmd.as_std_mut().process_group(0);
    /// ```
    pub fn as_std_mut(&mut self) -> &mut std::process::Command {
        &mut self.std
    }

    /// Starts the process (asyncio's `await create_subprocess_exec(...)`;
    /// starting does not wait, so this is not `async`). Its exit is watched
    /// by the current runtime's reactor (see the module docs).
    ///
    /// Errors: the program does not exist (`NotFound`), cannot be executed
    /// (`PermissionDenied`), ... — each naming the program (and the
    /// working directory, if one was set). Outside a runtime with the I/O
    /// driver it fails before anything is started. No descriptor is left
    /// open by a failed spawn.
    ///
    /// ```
    /// use filch_io::process::Command;
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let err = Command::new("no-such-program").spawn().unwrap_err();
    ///     assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
    ///     assert!(err.to_string().contains("\"no-such-program\""), "{err}");
    /// });
    /// ```
    pub fn spawn(&mut self) -> io::Result<Child> {
        // Before anything is started: a child we could not watch would
        // have nobody to reap it.
        ReactorHandle::current()?;
        exit::reap_orphans();
        let std = self.std.spawn().map_err(|e| self.spawn_error(e))?;
        Child::new(std, self.kill_on_drop)
    }

    /// Runs the process to its end and collects its output (asyncio's
    /// `proc.communicate()` after `create_subprocess_exec(..., stdout=PIPE,
    /// stderr=PIPE)`; std's `Command::output`). Unless set on this
    /// command, stdout and stderr are captured and stdin is null.
    ///
    /// Not cancel-safe: dropping the future drops the child, which keeps
    /// running unless [`kill_on_drop`](Self::kill_on_drop) is set (it is
    /// reaped when it exits either way).
    ///
    /// ```
    /// use filch_io::process::Command;
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     let out = Command::new("echo").arg("hi").output().await.unwrap();
    ///     assert!(out.status.success());
    ///     assert_eq!(out.stdout, b"hi\n");
    /// });
    /// ```
    pub async fn output(&mut self) -> io::Result<Output> {
        // Whether the stream was set, its setter, and `output`'s default.
        type Set = fn(&mut std::process::Command, Stdio) -> &mut std::process::Command;
        type Stream = (bool, Set, fn() -> Stdio);
        let defaults: [Stream; 3] = [
            (self.stdin_set, std::process::Command::stdin, Stdio::null),
            (self.stdout_set, std::process::Command::stdout, Stdio::piped),
            (self.stderr_set, std::process::Command::stderr, Stdio::piped),
        ];
        let unset = defaults.iter().filter(|(set, ..)| !set);
        for (_, set, default) in unset.clone() {
            set(&mut self.std, default());
        }
        let spawned = self.spawn();
        // Back to `spawn`'s defaults (inherit) for the next use.
        for (_, set, _) in unset {
            set(&mut self.std, Stdio::inherit());
        }
        spawned?.wait_with_output().await
    }

    /// Runs the process to its end and returns its exit status (std's
    /// `Command::status`): streams are inherited unless set; pipes, if
    /// any were asked for, are closed at once.
    ///
    /// Cancel-safe only as far as the child goes: dropped, it keeps
    /// running unless [`kill_on_drop`](Self::kill_on_drop) is set.
    ///
    /// ```
    /// use filch_io::process::Command;
    /// # let (park, driver) = filch_io::driver().unwrap();
    /// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
    /// rt.block_on(async {
    ///     assert!(Command::new("true").status().await.unwrap().success());
    /// });
    /// ```
    pub async fn status(&mut self) -> io::Result<ExitStatus> {
        let mut child = self.spawn()?;
        drop((child.stdin.take(), child.stdout.take(), child.stderr.take()));
        child.wait().await
    }

    /// A spawn error that names the program (std's names nothing: "No such
    /// file or directory (os error 2)").
    fn spawn_error(&self, e: io::Error) -> io::Error {
        let program = self.std.get_program();
        let msg = match self.std.get_current_dir() {
            Some(dir) => format!("could not run {program:?} (in {dir:?}): {e}"),
            None => format!("could not run {program:?}: {e}"),
        };
        io::Error::new(e.kind(), msg)
    }
}

/// Wraps a std command (keeping its arguments, environment, directory,
/// streams and Unix settings). Streams it has set count as not set for
/// [`Command::output`], which captures stdout and stderr unless they were
/// set through this type: std cannot say what was set.
///
/// ```
/// let mut std_cmd = std::process::Command::new("echo");
/// std_cmd.arg("from std");
/// let cmd = filch_io::process::Command::from(std_cmd);
/// assert_eq!(cmd.as_std().get_args().count(), 1);
/// ```
impl From<std::process::Command> for Command {
    fn from(std: std::process::Command) -> Command {
        Command {
            std,
            kill_on_drop: false,
            stdin_set: false,
            stdout_set: false,
            stderr_set: false,
        }
    }
}

impl fmt::Debug for Command {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.std.fmt(f)
    }
}

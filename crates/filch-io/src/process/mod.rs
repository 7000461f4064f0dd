//! Subprocesses (`filch::process`; asyncio's `create_subprocess_exec` and
//! `create_subprocess_shell`): [`Command`] starts a program, [`Child`]
//! awaits or signals it, and its piped stdin, stdout and stderr are
//! `futures_io` streams on the runtime's reactor.
//!
//! ```
//! use filch_io::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
//! use filch_io::process::{Command, Stdio};
//! # let (park, driver) = filch_io::driver().unwrap();
//! # let rt = filch_executor::Builder::new().worker_threads(2).driver(park, driver).build().unwrap();
//! rt.block_on(async {
//!     let mut sort = Command::new("sort")
//!         .stdin(Stdio::piped())
//!         .stdout(Stdio::piped())
//!         .spawn()
//!         .unwrap();
//!     let mut input = sort.stdin.take().unwrap();
//!     input.write_all(b"pear\napple\nfig\n").await.unwrap();
//!     drop(input); // end of file: sort can answer
//!     let mut lines = BufReader::new(sort.stdout.take().unwrap()).lines();
//!     let mut sorted = Vec::new();
//!     while let Some(line) = futures_lite::StreamExt::next(&mut lines).await {
//!         sorted.push(line.unwrap());
//!     }
//!     assert_eq!(sorted, ["apple", "fig", "pear"]);
//!     assert!(sort.wait().await.unwrap().success());
//! });
//! ```
//!
//! Exits are observed without a thread per child: through a pidfd in the
//! reactor on Linux, or one SIGCHLD listener shared by every child
//! elsewhere, and a dropped [`Child`] never leaves a zombie (`exit.rs` has
//! the design). This module only gathers the pieces: `command.rs` builds
//! and spawns, `child.rs` is the handle, `pipes.rs` the streams, `exit.rs`
//! the exit watching and the orphan reaper.

mod child;
mod command;
mod exit;
mod pipes;

pub use child::Child;
pub use command::Command;
pub use pipes::{ChildStderr, ChildStdin, ChildStdout};
pub use std::process::{ExitStatus, Output, Stdio};

/// Whether children spawned from now on watch their exit through a pidfd
/// (the default where the system has them) or the shared SIGCHLD listener
/// (the fallback). Process-wide; for tests of both paths.
#[doc(hidden)]
pub fn __set_pidfd(enabled: bool) {
    exit::set_pidfd(enabled);
}

/// Processes whose `Child` was dropped before they exited and that are not
/// reaped yet (for tests).
#[doc(hidden)]
pub fn __orphans() -> usize {
    exit::orphans()
}

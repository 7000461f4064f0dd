//! # filch
//!
//! Python's asyncio programming model — `run`, `create_task`, `gather`,
//! `wait_for`, cancellation, `to_thread`, queues, locks, events — with
//! Rust's types, on a multi-threaded work-stealing runtime.
//!
//! | asyncio | filch |
//! |---|---|
//! | `asyncio.run(main())` | [`filch::run(main())`](run) or `#[filch::main]` |
//! | `asyncio.create_task(coro)` | [`filch::spawn(fut)`](spawn) |
//! | `await task` | `task.await` (a `Result`: cancelled or panicked tasks are errors) |
//! | `task.cancel()` | [`JoinHandle::cancel`](task::JoinHandle::cancel) |
//! | `asyncio.to_thread(f)` | [`filch::spawn_blocking(f)`](spawn_blocking) |
//! | `create_task` of a coroutine holding non-thread-safe state | [`filch::spawn_local(fut)`](spawn_local): not `Send`, pinned to this thread |
//! | `asyncio.sleep(d)` | [`filch::time::sleep(d)`](time::sleep) |
//! | `asyncio.wait_for(x, t)` | [`filch::time::timeout(t, x)`](time::timeout) |
//! | `asyncio.sleep(0)` | [`filch::yield_now()`](yield_now) |
//!
//! ```
//! use std::time::Duration;
//!
//! async fn say_after(delay: Duration, what: &'static str) -> &'static str {
//!     filch::time::sleep(delay).await;
//!     what
//! }
//!
//! let words = filch::run(async {
//!     let hello = filch::spawn(say_after(Duration::from_millis(10), "hello"));
//!     let world = filch::spawn(say_after(Duration::from_millis(20), "world"));
//!     [hello.await.unwrap(), world.await.unwrap()]
//! });
//! assert_eq!(words, ["hello", "world"]);
//! ```
//!
//! The facade only wires the crates together: `filch-executor` (tasks and
//! the scheduler), `filch-timer` (time), `filch-io` (the reactor, sockets,
//! files, signals, subprocesses), `filch-combinators` (gather, wait, TaskGroup, ...),
//! `filch-sync` (locks, queues, channels). It must not implement runtime
//! logic.

#![deny(missing_docs)]

mod driver;
pub mod runtime;

pub use filch_executor::{spawn, spawn_blocking, spawn_local, yield_now};
pub use runtime::{Runtime, run};

// Combinators: gather, select, wait, as_completed, TaskGroup, shield, retry.
pub use filch_combinators::{
    AsCompleted, GiveUp, Jitter, JoinAll, NextCompleted, Race, RetryAll, RetryDelays, RetryError,
    RetryPolicy, ReturnWhen, Shield, ShouldRetry, TaskGroup, TaskGroupError, TaskGroupJoin,
    TryJoinAll, Wait, WaitOutput, as_completed, join, join_all, race, retry, select, shield,
    try_join, try_join_all, wait, wait_timeout,
};

/// `#[filch::main]`: runs an `async fn main` on a filch runtime
/// (`worker_threads = N` to choose the worker count).
///
/// ```
/// #[filch::main(worker_threads = 2)]
/// async fn main() {
///     let t = filch::spawn(async { 1 });
///     assert_eq!(t.await.unwrap(), 1);
/// }
/// # fn call() { main() }
/// ```
pub use filch_macros::main;

/// `#[filch::test]`: runs an `async fn` test on a fresh filch runtime
/// (`worker_threads = N`, default 2; `start_paused = true` for virtual time).
///
/// ```
/// #[filch::test(start_paused = true)]
/// async fn retries_back_off() {
///     let t = filch::time::Instant::now();
///     filch::time::sleep(std::time::Duration::from_secs(60)).await;
///     assert_eq!(t.elapsed(), std::time::Duration::from_secs(60));
/// }
/// ```
pub use filch_macros::test;

/// Tasks: handles, errors, ids, names, and the current task (asyncio's
/// `Task`, `current_task()`).
pub mod task {
    pub use filch_executor::task::{
        Builder, Id, JoinError, JoinHandle, TaskInfo, TaskState, current, id,
    };
    pub use filch_executor::{spawn, spawn_blocking, spawn_local, yield_now};
}

/// Debug mode (asyncio's debug mode): reports of slow polls and of panics
/// nobody observed, and runtime metrics.
///
/// Turn it on with `FILCH_DEBUG=1` in the environment (a 100 ms slow-poll
/// threshold), or with [`runtime::Builder::slow_poll_threshold`]; route the
/// reports with [`runtime::Builder::on_debug_report`]; list the live tasks
/// with [`runtime::Handle::tasks`] or [`runtime::Handle::dump`]; read the
/// counters with [`runtime::Handle::metrics`].
///
/// ```
/// use filch::debug::Report;
/// use std::time::Duration;
///
/// let (tx, rx) = std::sync::mpsc::channel();
/// let rt = filch::Runtime::builder()
///     .slow_poll_threshold(Duration::from_millis(20))
///     .on_debug_report(move |r: &Report| drop(tx.send(r.clone())))
///     .build()
///     .unwrap();
/// rt.block_on(async {
///     filch::task::Builder::new()
///         .name("blocker")
///         .spawn(async { std::thread::sleep(Duration::from_millis(30)) })
///         .await
///         .unwrap();
/// });
/// let report = rx.try_iter().find(|r| matches!(r, Report::SlowPoll { still_running: false, .. }));
/// let Some(Report::SlowPoll { task, elapsed, .. }) = report else { unreachable!() };
/// assert_eq!(task.name(), Some("blocker"));
/// assert!(elapsed >= Duration::from_millis(30));
/// ```
pub mod debug {
    pub use filch_executor::debug::{
        DEFAULT_SLOW_POLL_THRESHOLD, Report, RuntimeMetrics, UnhandledPanic,
    };
}

/// Time: sleeping, intervals, timeouts, and virtual time for tests.
pub mod time {
    pub use filch_timer::{
        Elapsed, Instant, Interval, MissedTickBehavior, Sleep, Timeout, advance, interval,
        interval_at, pause, resume, sleep, sleep_until, timeout, timeout_at,
    };
}

/// Synchronization: `Mutex`, `RwLock`, `Semaphore`, `Event`, `Notify`,
/// `Barrier`, `oneshot`, `mpsc`, and asyncio's `Queue`, `PriorityQueue` and
/// `LifoQueue`. Signatures follow tokio's where tokio has the primitive.
pub mod sync {
    pub use filch_sync::*;
}

/// Networking: TCP, UDP and Unix sockets, name resolution (asyncio's
/// `open_connection`, `start_server`, datagram endpoints).
pub mod net {
    pub use filch_io::net::*;
}

/// Async read/write traits and buffered adapters (asyncio's `StreamReader`
/// and `StreamWriter` methods: `read_exact`, `read_line`, `write_all`, ...).
///
/// With the `tokio-io` feature, the stream types in [`net`] (and their split
/// halves) also implement `tokio::io::{AsyncRead, AsyncWrite}`, and
/// `Compat`/`CompatExt` adapt any other type between futures-io and tokio's
/// traits, in either direction (`docs/porting-from-tokio.md`).
pub mod io {
    pub use filch_io::io::*;
}

/// Files, on the blocking pool.
pub mod fs {
    pub use filch_io::fs::*;
}

/// Subprocesses (asyncio's `create_subprocess_exec`/`_shell`): `Command`,
/// `Child`, and the child's stdin/stdout/stderr as async streams.
///
/// ```
/// filch::run(async {
///     let out = filch::process::Command::new("echo").arg("hi").output().await.unwrap();
///     assert_eq!(out.stdout, b"hi\n");
/// });
/// ```
pub mod process {
    pub use filch_io::process::*;
}

/// Signals (`ctrl_c`).
pub mod signal {
    pub use filch_io::signal::*;
}

/// hyper 1.x on filch: `hyper::rt` traits on the stream types, an executor,
/// a timer, and an HTTP connector (feature `hyper`).
#[cfg(feature = "hyper")]
pub mod hyper {
    pub use filch_io::hyper::*;
}

/// Implementation details of the macros. Not public API.
#[doc(hidden)]
pub mod __private {
    pub use crate::runtime::Builder;
}

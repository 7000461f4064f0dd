//! Debug mode (asyncio's debug mode, for a multi-thread runtime): reports
//! of slow polls and of panics nobody observed, the hook they go to, and
//! the runtime's metrics.
//!
//! * **Slow polls** (`Builder::slow_poll_threshold`, or `FILCH_DEBUG=1`):
//!   every poll is timed, and one that took longer than the threshold is
//!   reported once it returns; a watchdog thread also reports a poll that is
//!   *still* running past the threshold (a task stuck in blocking code),
//!   without stopping it (`timing.rs`).
//! * **Unobserved panics**: a task that panicked and whose `JoinHandle` was
//!   dropped without being awaited is reported (asyncio's "Task exception
//!   was never retrieved"), or shuts the runtime down
//!   ([`UnhandledPanic::ShutdownRuntime`]).
//! * **Metrics** (`metrics.rs`): per-worker counters on cache lines of their
//!   own, written only by their worker.
//!
//! Reports go to a hook (`Builder::on_debug_report`); the default writes the
//! report's one-line [`Display`](std::fmt::Display) form to stderr. A hook
//! that panics is contained: the panic is said once on stderr and never
//! reaches a worker.
//!
//! This module owns the reports, the hook and the policies; it must not
//! schedule anything. What it costs when off: nothing on the spawn path, and
//! one branch per poll (`tasks/harness.rs`).

pub(crate) mod clock;
pub(crate) mod metrics;
pub(crate) mod timing;
pub(crate) mod trace;

pub use metrics::RuntimeMetrics;

use crate::loom::atomic::AtomicBool;
use crate::tasks::{JoinError, TaskInfo};
use std::fmt;
use std::io::Write;
use std::panic::{self, AssertUnwindSafe};
use std::sync::Arc;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

/// Something debug mode noticed, as given to the hook set with
/// `Builder::on_debug_report`. Its [`Display`](fmt::Display) form is the
/// line the default hook writes to stderr.
///
/// ```
/// use filch_executor::debug::Report;
/// use std::sync::{Arc, Mutex};
///
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let sink = seen.clone();
/// let rt = filch_executor::Builder::new()
///     .on_debug_report(move |r: &Report| sink.lock().unwrap().push(r.to_string()))
///     .build()
///     .unwrap();
/// rt.block_on(async {
///     // Detached, then panics: nobody will ever see the panic but the hook.
///     drop(filch_executor::spawn(async { panic!("lost") }));
///     while seen.lock().unwrap().is_empty() {
///         filch_executor::yield_now().await;
///     }
/// });
/// assert!(seen.lock().unwrap()[0].contains("lost"));
/// ```
#[derive(Debug, Clone)]
pub enum Report {
    /// One poll of `task` took (or, with `still_running`, has so far taken)
    /// `elapsed`, more than the slow-poll threshold: something in it blocks
    /// its thread.
    SlowPoll {
        /// The task, as it was when the report was made.
        task: TaskInfo,
        /// How long the poll took, or has taken so far.
        elapsed: Duration,
        /// True when the watchdog saw the poll still running; false when
        /// the poll has returned.
        still_running: bool,
    },
    /// `task` panicked and its `JoinHandle` was dropped without being
    /// awaited, so nobody else will ever see the panic.
    UnobservedPanic {
        /// The task (its state is `Finished`).
        task: TaskInfo,
        /// The panic's message.
        message: String,
    },
}

impl fmt::Display for Report {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Report::SlowPoll {
                task,
                elapsed,
                still_running: false,
            } => write!(
                f,
                "filch debug: {} took {:.3?} in one poll, blocking its thread \
                 (move blocking work to spawn_blocking)",
                Task(task),
                elapsed
            ),
            Report::SlowPoll {
                task,
                elapsed,
                still_running: true,
            } => write!(
                f,
                "filch debug: {} has been in one poll for {:.3?} and is still running, \
                 blocking its thread",
                Task(task),
                elapsed
            ),
            Report::UnobservedPanic { task, message } => write!(
                f,
                "filch debug: {} panicked and its JoinHandle was dropped without being \
                 awaited (the panic was never retrieved): {message}",
                Task(task)
            ),
        }
    }
}

/// `task 12 "fetch" spawned at src/main.rs:4:5`: the part of a report that
/// names the task.
struct Task<'a>(&'a TaskInfo);

impl fmt::Display for Task<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "task {}", self.0.id())?;
        if let Some(name) = self.0.name() {
            write!(f, " {name:?}")?;
        }
        write!(f, " (spawned at {})", self.0.location())
    }
}

/// What to do about a task that panicked when nobody will observe the
/// panic (its `JoinHandle` was dropped without being awaited).
///
/// ```
/// use filch_executor::debug::UnhandledPanic;
/// assert_eq!(UnhandledPanic::default(), UnhandledPanic::Report);
/// let rt = filch_executor::Builder::new()
///     .unhandled_panic(UnhandledPanic::Ignore)
///     .build()
///     .unwrap();
/// # drop(rt);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum UnhandledPanic {
    /// Say nothing (the panic hook of `std` has already printed the panic
    /// where it happened).
    Ignore,
    /// Give a [`Report::UnobservedPanic`] to the debug report hook.
    #[default]
    Report,
    /// Report it, then shut the runtime down: workers stop running tasks,
    /// every `block_on` call panics, and the tasks are dropped when the
    /// runtime is.
    ShutdownRuntime,
}

/// The report hook's type.
pub(crate) type Hook = Arc<dyn Fn(&Report) + Send + Sync + 'static>;

/// Where reports go. Shared by the runtime and by the panics it watches (a
/// watched panic can outlive the runtime inside a `JoinHandle`).
pub struct Reporter {
    hook: Option<Hook>,
    hook_panicked: AtomicBool,
    unhandled: UnhandledPanic,
    /// Shuts the runtime down (for `ShutdownRuntime`); holds no strong
    /// reference to it.
    fatal: Option<Box<dyn Fn() + Send + Sync>>,
}

impl Reporter {
    /// A reporter; `hook` `None` writes to stderr.
    pub fn new(
        hook: Option<Hook>,
        unhandled: UnhandledPanic,
        fatal: Option<Box<dyn Fn() + Send + Sync>>,
    ) -> Reporter {
        Reporter {
            hook,
            hook_panicked: AtomicBool::new(false),
            unhandled,
            fatal,
        }
    }

    /// Hands `report` to the hook, containing a panic of the hook.
    pub fn report(&self, report: &Report) {
        let res = panic::catch_unwind(AssertUnwindSafe(|| match &self.hook {
            Some(hook) => hook(report),
            None => {
                let _ = writeln!(std::io::stderr(), "{report}");
            }
        }));
        if let Err(payload) = res
            && !self.hook_panicked.swap(true, Relaxed)
        {
            let what = crate::tasks::panic_message(&*payload)
                .unwrap_or("(a panic payload that is not a string)");
            let _ = writeln!(
                std::io::stderr(),
                "filch debug: the debug report hook panicked ({what}); it was given: {report}\n\
                 (later panics of the hook are not reported)"
            );
        }
    }

    /// Marks a task's panic for reporting if it is dropped unobserved.
    pub(crate) fn watch(self: &Arc<Self>, err: &mut JoinError) {
        if self.unhandled != UnhandledPanic::Ignore {
            err.watch(self.clone());
        }
    }

    /// A watched panic was dropped unobserved.
    pub(crate) fn unobserved_panic(&self, task: TaskInfo, message: String) {
        self.report(&Report::UnobservedPanic { task, message });
        if self.unhandled == UnhandledPanic::ShutdownRuntime
            && let Some(fatal) = &self.fatal
        {
            fatal();
        }
    }
}

impl fmt::Debug for Reporter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Reporter")
            .field("custom_hook", &self.hook.is_some())
            .field("unhandled", &self.unhandled)
            .finish_non_exhaustive()
    }
}

/// What the harness reaches through `Schedule::diagnostics`: where reports
/// go, and the poll timing when debug mode times polls.
#[derive(Debug)]
pub struct Diagnostics {
    pub(crate) reporter: Arc<Reporter>,
    pub(crate) timing: Option<timing::PollTiming>,
}

//! `Builder` and `Executor`: configuring, starting and shutting down the
//! worker threads and the blocking pool.
//!
//! Owns thread start-up and the shutdown sequence (stop workers, join them,
//! cancel and drop every task, then wait for the blocking pool); it must not
//! contain scheduling logic.

use crate::blocking::{BlockingPool, ThreadNameFn};
use crate::diag::timing::{PollTiming, start_watchdog};
use crate::diag::{Diagnostics, Hook, Report, Reporter, UnhandledPanic};
use crate::driver::{Driver, Park};
use crate::loom::atomic::{AtomicBool, AtomicUsize};
use crate::park::{DriverSlot, Parker};
use crate::sched::queue::{LifoSlot, Local};
use crate::sched::{Config, Remote, Shared, worker};
use crate::tasks::JoinHandle;
use crate::{Handle, block_on, context};
use crossbeam_utils::CachePadded;
use std::fmt;
use std::future::Future;
use std::io;
use std::sync::Arc;
use std::thread;
use std::time::Duration;

/// Configures and builds an [`Executor`].
///
/// ```
/// let rt = filch_executor::Builder::new()
///     .worker_threads(2)
///     .max_blocking_threads(8)
///     .thread_name("my-worker")
///     .build()
///     .unwrap();
/// assert_eq!(rt.block_on(async { 1 }), 1);
/// ```
pub struct Builder {
    worker_threads: Option<usize>,
    max_blocking_threads: usize,
    thread_name: ThreadNameFn,
    thread_stack_size: Option<usize>,
    keep_alive: Duration,
    global_queue_interval: u32,
    event_interval: u32,
    lifo_steal_delay: Option<Duration>,
    block_on_runs_tasks: bool,
    driver: Option<(Box<dyn Park>, Arc<dyn Driver>)>,
    slow_poll_threshold: Option<Duration>,
    poll_time_histogram: bool,
    debug_hook: Option<Hook>,
    unhandled_panic: UnhandledPanic,
}

/// Debug mode's threshold when `FILCH_DEBUG=1` turns it on (asyncio's
/// `slow_callback_duration`).
pub const DEFAULT_SLOW_POLL_THRESHOLD: Duration = Duration::from_millis(100);

/// Reads `FILCH_DEBUG`: unset, empty, `0`, `false`, `no` or `off` is off;
/// `1`, `true`, `yes` or `on` is on; anything else is an error naming it.
fn debug_from_env() -> io::Result<bool> {
    let Some(value) = std::env::var_os("FILCH_DEBUG") else {
        return Ok(false);
    };
    match value.to_string_lossy().trim().to_ascii_lowercase().as_str() {
        "" | "0" | "false" | "no" | "off" => Ok(false),
        "1" | "true" | "yes" | "on" => Ok(true),
        _ => Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!(
                "invalid environment setting: FILCH_DEBUG = {value:?} (use 1 to turn debug \
                 mode on, 0 or nothing for off)"
            ),
        )),
    }
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    /// Defaults: one worker per available CPU, up to 512 blocking threads
    /// with a 10 s keep-alive, the stealable LIFO slot with a 1 ms grace, and
    /// `block_on` threads that run queued tasks while their future waits.
    ///
    /// ```
    /// let rt = filch_executor::Builder::new().build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn new() -> Builder {
        Builder {
            worker_threads: None,
            max_blocking_threads: 512,
            thread_name: Arc::new(|| "filch-worker".to_string()),
            thread_stack_size: None,
            keep_alive: Duration::from_secs(10),
            global_queue_interval: 31,
            event_interval: 61,
            lifo_steal_delay: Some(Duration::from_millis(1)),
            block_on_runs_tasks: true,
            driver: None,
            slow_poll_threshold: None,
            poll_time_histogram: false,
            debug_hook: None,
            unhandled_panic: UnhandledPanic::Report,
        }
    }

    /// Number of worker threads (at least 1). Default: available parallelism.
    ///
    /// ```
    /// let err = filch_executor::Builder::new().worker_threads(0).build().unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// ```
    pub fn worker_threads(&mut self, n: usize) -> &mut Self {
        self.worker_threads = Some(n);
        self
    }

    /// Most threads the blocking pool may run at once (at least 1).
    ///
    /// ```
    /// let rt = filch_executor::Builder::new().max_blocking_threads(2).build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Self {
        self.max_blocking_threads = n;
        self
    }

    /// Name of the runtime's threads.
    ///
    /// ```
    /// let rt = filch_executor::Builder::new().thread_name("svc").worker_threads(1).build().unwrap();
    /// let name = rt.block_on(rt.spawn_blocking(|| std::thread::current().name().map(String::from)));
    /// assert_eq!(name.unwrap().as_deref(), Some("svc"));
    /// ```
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Self {
        let name: String = name.into();
        self.thread_name = Arc::new(move || name.clone());
        self
    }

    /// A function naming each thread the runtime starts.
    ///
    /// ```
    /// use std::sync::atomic::{AtomicUsize, Ordering};
    /// static N: AtomicUsize = AtomicUsize::new(0);
    /// let rt = filch_executor::Builder::new()
    ///     .thread_name_fn(|| format!("w-{}", N.fetch_add(1, Ordering::Relaxed)))
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn thread_name_fn(&mut self, f: impl Fn() -> String + Send + Sync + 'static) -> &mut Self {
        self.thread_name = Arc::new(f);
        self
    }

    /// Stack size of the runtime's threads, in bytes.
    ///
    /// ```
    /// let rt = filch_executor::Builder::new().thread_stack_size(4 << 20).build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn thread_stack_size(&mut self, bytes: usize) -> &mut Self {
        self.thread_stack_size = Some(bytes);
        self
    }

    /// How long an idle blocking-pool thread waits for work before it exits.
    ///
    /// ```
    /// let rt = filch_executor::Builder::new()
    ///     .thread_keep_alive(std::time::Duration::from_millis(100))
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn thread_keep_alive(&mut self, keep_alive: std::time::Duration) -> &mut Self {
        self.keep_alive = keep_alive;
        self
    }

    /// Every `ticks` task polls, a worker takes its next task from the
    /// global queue first (fairness for tasks spawned from outside).
    ///
    /// ```
    /// let rt = filch_executor::Builder::new().global_queue_interval(61).build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn global_queue_interval(&mut self, ticks: u32) -> &mut Self {
        self.global_queue_interval = ticks;
        self
    }

    /// Every `ticks` task polls, a worker fires due timers and polls the I/O
    /// driver without blocking.
    ///
    /// ```
    /// let rt = filch_executor::Builder::new().event_interval(31).build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn event_interval(&mut self, ticks: u32) -> &mut Self {
        self.event_interval = ticks;
        self
    }

    /// How long a task may sit in a worker's LIFO slot while that worker is
    /// stuck in one poll before another worker steals it. `None` makes the
    /// slot unstealable (tokio's behaviour).
    ///
    /// ```
    /// let rt = filch_executor::Builder::new()
    ///     .lifo_steal_delay(Some(std::time::Duration::from_micros(500)))
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn lifo_steal_delay(&mut self, delay: Option<Duration>) -> &mut Self {
        self.lifo_steal_delay = delay;
        self
    }

    /// Whether a thread blocked in [`Executor::block_on`] runs tasks from the
    /// runtime's global queue while its own future waits (default: `true`).
    ///
    /// On, the `block_on` thread is a helper of the pool, as asyncio's
    /// `run()` thread runs the event loop: a task spawned or woken from
    /// outside the workers (such as the server that `main` just sent a
    /// request to) runs at once on the thread that is waiting for it,
    /// without waking a worker and without a second thread hop for the
    /// reply. The thread goes back to its own future as soon as that future
    /// is woken, after the task poll it is in returns; so a task that blocks
    /// inside one poll delays the `block_on` future until that poll ends.
    /// Off, the `block_on` thread only polls its future and tasks run only
    /// on the worker threads (tokio's multi-thread behaviour), which is what
    /// code needs that relies on tasks running on the named worker threads.
    ///
    /// ```
    /// let rt = filch_executor::Builder::new()
    ///     .worker_threads(1)
    ///     .thread_name("pool")
    ///     .block_on_runs_tasks(false)
    ///     .build()
    ///     .unwrap();
    /// let name = rt.block_on(rt.spawn(async { std::thread::current().name().map(String::from) }));
    /// assert_eq!(name.unwrap().as_deref(), Some("pool"));
    /// ```
    pub fn block_on_runs_tasks(&mut self, on: bool) -> &mut Self {
        self.block_on_runs_tasks = on;
        self
    }

    /// Debug mode: report every task poll that takes longer than
    /// `threshold` (asyncio's `Executing <Task> took 0.5 seconds`), with the
    /// task's id, name and spawn location, once the poll returns; and have a
    /// watchdog thread report a poll that is *still* running past it (a task
    /// stuck in blocking code), without stopping it. Reports go to the hook
    /// set with [`on_debug_report`](Self::on_debug_report) (default: one
    /// line on stderr). Every poll is then timed (two clock reads) and
    /// counted in the poll-time histogram.
    ///
    /// The environment variable `FILCH_DEBUG=1` turns this on at
    /// [`DEFAULT_SLOW_POLL_THRESHOLD`] (100 ms) when no threshold is set
    /// here. `build` returns `InvalidInput` for a zero threshold.
    ///
    /// ```
    /// use std::time::Duration;
    /// let rt = filch_executor::Builder::new()
    ///     .slow_poll_threshold(Duration::from_millis(50))
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// let err = filch_executor::Builder::new()
    ///     .slow_poll_threshold(Duration::ZERO)
    ///     .build()
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// ```
    pub fn slow_poll_threshold(&mut self, threshold: Duration) -> &mut Self {
        self.slow_poll_threshold = Some(threshold);
        self
    }

    /// Times every task poll into the poll-time histogram of
    /// [`Handle::metrics`] (on anyway with a slow-poll threshold). Costs two
    /// clock reads per poll.
    ///
    /// ```
    /// let rt = filch_executor::Builder::new().poll_time_histogram(true).build().unwrap();
    /// assert!(rt.handle().metrics().poll_time_histogram_enabled());
    /// ```
    pub fn poll_time_histogram(&mut self, on: bool) -> &mut Self {
        self.poll_time_histogram = on;
        self
    }

    /// Where debug reports go (slow polls, unobserved panics): `hook` is
    /// called on the thread that noticed (a worker, the watchdog, or the
    /// thread dropping a `JoinHandle`), so it should be quick. A hook that
    /// panics is contained: the first such panic is said on stderr, and the
    /// worker lives on. Default: the report's line on stderr.
    ///
    /// ```
    /// let rt = filch_executor::Builder::new()
    ///     .on_debug_report(|report: &filch_executor::debug::Report| eprintln!("[svc] {report}"))
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn on_debug_report(&mut self, hook: impl Fn(&Report) + Send + Sync + 'static) -> &mut Self {
        self.debug_hook = Some(Arc::new(hook));
        self
    }

    /// What to do about a task that panicked when nobody will see the panic
    /// (its `JoinHandle` was dropped without being awaited): report it
    /// (default), ignore it, or shut the runtime down
    /// ([`UnhandledPanic`]).
    ///
    /// ```
    /// use filch_executor::debug::UnhandledPanic;
    /// let rt = filch_executor::Builder::new()
    ///     .unhandled_panic(UnhandledPanic::ShutdownRuntime)
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn unhandled_panic(&mut self, policy: UnhandledPanic) -> &mut Self {
        self.unhandled_panic = policy;
        self
    }

    /// Plugs a driver (timer, I/O reactor) into the workers' park loop; see
    /// [`Driver`].
    ///
    /// ```
    /// # use filch_executor::{Builder, Driver, Park};
    /// # use std::{sync::Arc, time::Duration};
    /// struct NoEvents;
    /// impl Park for NoEvents {
    ///     fn park(&mut self, timeout: Option<Duration>) {
    ///         std::thread::sleep(timeout.unwrap_or(Duration::from_millis(1)).min(Duration::from_millis(1)));
    ///     }
    /// }
    /// impl Driver for NoEvents {
    ///     fn unpark(&self) {}
    /// }
    /// let rt = Builder::new().driver(Box::new(NoEvents), Arc::new(NoEvents)).build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn driver(&mut self, park: Box<dyn Park>, driver: Arc<dyn Driver>) -> &mut Self {
        self.driver = Some((park, driver));
        self
    }

    /// Starts the runtime's worker threads.
    ///
    /// Returns `InvalidInput` for a bad setting (naming it), or the OS error
    /// if a thread could not be started.
    ///
    /// ```
    /// let err = filch_executor::Builder::new().max_blocking_threads(0).build().unwrap_err();
    /// assert!(err.to_string().contains("max_blocking_threads"));
    /// ```
    pub fn build(&mut self) -> io::Result<Executor> {
        let workers = match self.worker_threads {
            Some(n) => n,
            None => thread::available_parallelism().map_or(1, |n| n.get()),
        };
        check(
            workers >= 1,
            "worker_threads",
            workers,
            "must be at least 1",
        )?;
        check(
            workers <= 4096,
            "worker_threads",
            workers,
            "must be at most 4096",
        )?;
        check(
            self.max_blocking_threads >= 1,
            "max_blocking_threads",
            self.max_blocking_threads,
            "must be at least 1",
        )?;
        check(
            self.global_queue_interval >= 1,
            "global_queue_interval",
            self.global_queue_interval,
            "must be at least 1",
        )?;
        check(
            self.event_interval >= 1,
            "event_interval",
            self.event_interval,
            "must be at least 1",
        )?;
        if let Some(d) = self.lifo_steal_delay {
            check(
                !d.is_zero(),
                "lifo_steal_delay",
                format!("{d:?}"),
                "must be above zero (or None)",
            )?;
        }
        if let Some(d) = self.slow_poll_threshold {
            check(
                !d.is_zero(),
                "slow_poll_threshold",
                format!("{d:?}"),
                "must be above zero",
            )?;
        }
        let slow_poll_threshold = match self.slow_poll_threshold {
            Some(d) => Some(d),
            None => debug_from_env()?.then_some(DEFAULT_SLOW_POLL_THRESHOLD),
        };
        let timing = (slow_poll_threshold.is_some() || self.poll_time_histogram)
            .then(|| PollTiming::new(slow_poll_threshold));

        let driver = self
            .driver
            .take()
            .map(|(park, drv)| Arc::new(DriverSlot::new(park, drv)));
        let mut locals = Vec::with_capacity(workers);
        let mut parkers = Vec::with_capacity(workers);
        let mut remotes = Vec::with_capacity(workers);
        for _ in 0..workers {
            let local = Local::new_fifo();
            let parker = Parker::new(driver.clone());
            remotes.push(CachePadded::new(Remote {
                stealer: local.stealer(),
                lifo: LifoSlot::new(),
                poll_seq: AtomicUsize::new(0),
                unpark: parker.unparker(),
                woken: AtomicBool::new(false),
            }));
            locals.push(local);
            parkers.push(parker);
        }
        let blocking = BlockingPool::new(
            self.max_blocking_threads,
            self.keep_alive,
            self.thread_name.clone(),
            self.thread_stack_size,
        );
        let config = Config {
            global_queue_interval: self.global_queue_interval,
            event_interval: self.event_interval,
            lifo_steal_delay: self.lifo_steal_delay,
            block_on_runs_tasks: self.block_on_runs_tasks,
        };
        let hook = self.debug_hook.clone();
        let unhandled = self.unhandled_panic;
        let shared = Arc::new_cyclic(|me: &std::sync::Weak<Shared>| {
            let me = me.clone();
            let fatal = Box::new(move || {
                if let Some(shared) = me.upgrade() {
                    shared.fatal_shutdown();
                }
            });
            let reporter = Arc::new(Reporter::new(hook, unhandled, Some(fatal)));
            let diag = Diagnostics { reporter, timing };
            Shared::new(remotes.into_boxed_slice(), driver, blocking, config, diag)
        });
        let mut executor = Executor {
            handle: Handle { shared },
            workers: Vec::with_capacity(workers),
            watchdog: None,
        };
        // On failure, dropping `executor` stops what was started so far.
        executor.watchdog = start_watchdog(&executor.handle.shared)?;
        for (index, (local, parker)) in locals.into_iter().zip(parkers).enumerate() {
            let handle = executor.handle.clone();
            let mut builder = thread::Builder::new().name((self.thread_name)());
            if let Some(size) = self.thread_stack_size {
                builder = builder.stack_size(size);
            }
            // On failure, dropping `executor` stops the workers started so far.
            let thread = builder.spawn(move || worker::run(handle, index, local, parker))?;
            executor.workers.push(thread);
        }
        Ok(executor)
    }
}

fn check(ok: bool, name: &str, value: impl fmt::Display, rule: &str) -> io::Result<()> {
    if ok {
        Ok(())
    } else {
        Err(io::Error::new(
            io::ErrorKind::InvalidInput,
            format!("invalid runtime setting: {name} = {value} ({rule})"),
        ))
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("worker_threads", &self.worker_threads)
            .field("max_blocking_threads", &self.max_blocking_threads)
            .field("lifo_steal_delay", &self.lifo_steal_delay)
            .field("block_on_runs_tasks", &self.block_on_runs_tasks)
            .field("slow_poll_threshold", &self.slow_poll_threshold)
            .field("unhandled_panic", &self.unhandled_panic)
            .finish_non_exhaustive()
    }
}

/// A running multi-thread work-stealing executor.
///
/// Dropping it stops the workers, drops every task's future (their
/// destructors run, also for tasks never polled), and waits for running
/// blocking-pool closures; [`shutdown_timeout`](Self::shutdown_timeout)
/// bounds that last wait.
///
/// ```
/// let rt = filch_executor::Executor::new().unwrap();
/// let h = rt.spawn(async { "hi" });
/// assert_eq!(rt.block_on(h).unwrap(), "hi");
/// ```
pub struct Executor {
    handle: Handle,
    workers: Vec<thread::JoinHandle<()>>,
    /// The slow-poll watchdog thread, in debug mode.
    watchdog: Option<thread::JoinHandle<()>>,
}

impl Executor {
    /// An executor with the default settings.
    ///
    /// ```
    /// let rt = filch_executor::Executor::new().unwrap();
    /// # drop(rt);
    /// ```
    pub fn new() -> io::Result<Executor> {
        Builder::new().build()
    }

    /// Runs `future` to completion on the current thread, with this runtime
    /// as the thread's context (so `spawn` works inside it).
    ///
    /// While the future waits, the thread runs tasks from the runtime's
    /// global queue (those spawned or woken from outside the workers) and
    /// returns to the future as soon as it is woken; see
    /// [`Builder::block_on_runs_tasks`] for what that means and how to turn
    /// it off.
    ///
    /// # Panics
    /// When called from a runtime worker or from inside another `block_on`:
    /// blocking there would deadlock.
    ///
    /// ```
    /// let rt = filch_executor::Executor::new().unwrap();
    /// assert_eq!(rt.block_on(async { filch_executor::spawn(async { 2 }).await.unwrap() }), 2);
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        block_on::block_on(&self.handle, future)
    }

    /// Spawns a task (see [`Handle::spawn`]).
    ///
    /// ```
    /// let rt = filch_executor::Executor::new().unwrap();
    /// let h = rt.spawn(async { 3 });
    /// assert_eq!(rt.block_on(h).unwrap(), 3);
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.handle.spawn(future)
    }

    /// Runs a blocking closure on the blocking pool (see
    /// [`Handle::spawn_blocking`]).
    ///
    /// ```
    /// let rt = filch_executor::Executor::new().unwrap();
    /// let h = rt.spawn_blocking(|| 4);
    /// assert_eq!(rt.block_on(h).unwrap(), 4);
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.handle.spawn_blocking(f)
    }

    /// The runtime's handle.
    ///
    /// ```
    /// let rt = filch_executor::Executor::new().unwrap();
    /// let handle = rt.handle().clone();
    /// # drop(handle);
    /// ```
    pub fn handle(&self) -> &Handle {
        &self.handle
    }

    /// Shuts down, waiting at most `timeout` for running blocking-pool
    /// closures (which cannot be interrupted) before returning.
    ///
    /// ```
    /// let rt = filch_executor::Executor::new().unwrap();
    /// rt.spawn_blocking(|| std::thread::sleep(std::time::Duration::from_secs(5)));
    /// let start = std::time::Instant::now();
    /// rt.shutdown_timeout(std::time::Duration::from_millis(50));
    /// assert!(start.elapsed() < std::time::Duration::from_secs(5));
    /// ```
    pub fn shutdown_timeout(mut self, timeout: Duration) {
        self.shutdown(Some(timeout));
    }

    /// Shuts down without waiting for blocking-pool closures.
    ///
    /// ```
    /// let rt = filch_executor::Executor::new().unwrap();
    /// rt.shutdown_background();
    /// ```
    pub fn shutdown_background(self) {
        self.shutdown_timeout(Duration::ZERO);
    }

    fn shutdown(&mut self, blocking_timeout: Option<Duration>) {
        let shared = &self.handle.shared;
        if self.workers.is_empty() && shared.is_shutdown() {
            return;
        }
        shared.begin_shutdown();
        let mut workers = std::mem::take(&mut self.workers);
        workers.extend(self.watchdog.take());
        if context::is_in_runtime() {
            // Dropped from async code: this thread may be one of our
            // workers, and blocking it would deadlock. Finish in the
            // background instead.
            let shared = shared.clone();
            let _ = thread::Builder::new()
                .name("filch-shutdown".into())
                .spawn(move || finish_shutdown(&shared, workers, blocking_timeout));
            return;
        }
        finish_shutdown(shared, workers, blocking_timeout);
    }
}

/// Joins the runtime's threads (workers and watchdog), then drops every task
/// and waits for the blocking pool.
pub(crate) fn finish_shutdown(
    shared: &Arc<Shared>,
    workers: Vec<thread::JoinHandle<()>>,
    blocking_timeout: Option<Duration>,
) {
    let me = thread::current().id();
    for worker in workers {
        if worker.thread().id() != me {
            let _ = worker.join();
        }
    }
    shared.shutdown_tasks();
    shared.blocking.shutdown(blocking_timeout);
}

impl Drop for Executor {
    fn drop(&mut self) {
        self.shutdown(None);
    }
}

impl fmt::Debug for Executor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Executor")
            .field("handle", &self.handle)
            .finish()
    }
}

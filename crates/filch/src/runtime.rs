//! `Runtime`, `runtime::Builder` and `run`: the runtime users build, with
//! the I/O reactor and timers wired into the executor.
//!
//! Owns configuration and the composition of the drivers; scheduling is the
//! executor's, timers are the timer crate's.

use crate::driver::Drivers;
use filch_executor::{Executor, JoinHandle};
use std::fmt;
use std::future::Future;
use std::io;
use std::time::Duration;

pub use filch_executor::debug::{RuntimeMetrics, UnhandledPanic};
pub use filch_executor::{EnterGuard, Handle};

/// Runs `future` to completion on a new multi-thread runtime (one worker per
/// CPU), then shuts the runtime down and returns the future's output:
/// asyncio's `asyncio.run(main())`.
///
/// # Panics
/// If the runtime cannot be built (no thread can be started), or if called
/// from inside a runtime.
///
/// ```
/// async fn main_coroutine() -> &'static str {
///     filch::time::sleep(std::time::Duration::from_millis(1)).await;
///     "done"
/// }
/// assert_eq!(filch::run(main_coroutine()), "done");
/// ```
#[track_caller]
pub fn run<F: Future>(future: F) -> F::Output {
    let rt =
        Runtime::new().unwrap_or_else(|e| panic!("filch::run: could not start the runtime: {e}"));
    rt.block_on(future)
}

/// A multi-thread work-stealing runtime with I/O and timers.
///
/// Dropping it stops the workers, drops every task's future (their
/// destructors run, also for tasks never polled) and waits for running
/// blocking-pool closures; [`shutdown_timeout`](Self::shutdown_timeout)
/// bounds that last wait.
///
/// ```
/// let rt = filch::Runtime::new().unwrap();
/// let answer = rt.block_on(async {
///     let task = filch::spawn(async { 40 });
///     task.await.unwrap() + 2
/// });
/// assert_eq!(answer, 42);
/// ```
pub struct Runtime {
    executor: Executor,
}

impl Runtime {
    /// A runtime with the default settings (one worker per CPU).
    ///
    /// ```
    /// let rt = filch::Runtime::new().unwrap();
    /// # drop(rt);
    /// ```
    pub fn new() -> io::Result<Runtime> {
        Builder::new().build()
    }

    /// A builder to configure a runtime.
    ///
    /// ```
    /// let rt = filch::Runtime::builder().worker_threads(2).build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn builder() -> Builder {
        Builder::new()
    }

    /// Runs `future` to completion on the current thread, with this runtime
    /// as its context (asyncio's `loop.run_until_complete`).
    ///
    /// # Panics
    /// When called from a runtime worker or inside another `block_on`:
    /// blocking there would deadlock.
    ///
    /// While the future waits, this thread runs tasks spawned or woken from
    /// outside the workers, and goes back to the future as soon as it is
    /// woken ([`Builder::block_on_runs_tasks`]).
    ///
    /// ```
    /// let rt = filch::Runtime::new().unwrap();
    /// assert_eq!(rt.block_on(async { 1 + 1 }), 2);
    /// ```
    #[track_caller]
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.executor.block_on(future)
    }

    /// Spawns a task onto the runtime.
    ///
    /// ```
    /// let rt = filch::Runtime::new().unwrap();
    /// let task = rt.spawn(async { "hello" });
    /// assert_eq!(rt.block_on(task).unwrap(), "hello");
    /// ```
    #[track_caller]
    pub fn spawn<F>(&self, future: F) -> JoinHandle<F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        self.executor.spawn(future)
    }

    /// Runs a blocking closure on the runtime's blocking pool.
    ///
    /// ```
    /// let rt = filch::Runtime::new().unwrap();
    /// let task = rt.spawn_blocking(|| 6 * 7);
    /// assert_eq!(rt.block_on(task).unwrap(), 42);
    /// ```
    #[track_caller]
    pub fn spawn_blocking<F, R>(&self, f: F) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        self.executor.spawn_blocking(f)
    }

    /// The runtime's handle, to spawn onto it from other threads.
    ///
    /// ```
    /// let rt = filch::Runtime::new().unwrap();
    /// let handle = rt.handle().clone();
    /// let t = std::thread::spawn(move || handle.spawn(async { 1 })).join().unwrap();
    /// assert_eq!(rt.block_on(t).unwrap(), 1);
    /// ```
    pub fn handle(&self) -> &Handle {
        self.executor.handle()
    }

    /// Shuts down, waiting at most `timeout` for running blocking-pool
    /// closures (which cannot be interrupted).
    ///
    /// ```
    /// let rt = filch::Runtime::new().unwrap();
    /// rt.spawn_blocking(|| std::thread::sleep(std::time::Duration::from_secs(2)));
    /// rt.shutdown_timeout(std::time::Duration::from_millis(10));
    /// ```
    pub fn shutdown_timeout(self, timeout: Duration) {
        self.executor.shutdown_timeout(timeout);
    }

    /// Shuts down without waiting for blocking-pool closures.
    ///
    /// ```
    /// filch::Runtime::new().unwrap().shutdown_background();
    /// ```
    pub fn shutdown_background(self) {
        self.executor.shutdown_background();
    }
}

impl fmt::Debug for Runtime {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Runtime")
            .field("handle", self.handle())
            .finish()
    }
}

/// Configures a [`Runtime`].
///
/// ```
/// let rt = filch::runtime::Builder::new()
///     .worker_threads(4)
///     .max_blocking_threads(64)
///     .thread_name("api-worker")
///     .build()
///     .unwrap();
/// # drop(rt);
/// ```
pub struct Builder {
    executor: filch_executor::Builder,
    worker_threads: Option<usize>,
    start_paused: bool,
}

impl Default for Builder {
    fn default() -> Self {
        Self::new()
    }
}

impl Builder {
    /// The default settings: one worker per CPU, timers with a real clock.
    ///
    /// ```
    /// let b = filch::runtime::Builder::new();
    /// # drop(b);
    /// ```
    pub fn new() -> Builder {
        Builder {
            executor: filch_executor::Builder::new(),
            worker_threads: None,
            start_paused: false,
        }
    }

    /// Number of worker threads (at least 1). Default: available
    /// parallelism. `build` returns `InvalidInput` for 0.
    ///
    /// ```
    /// let err = filch::Runtime::builder().worker_threads(0).build().unwrap_err();
    /// assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    /// assert!(err.to_string().contains("worker_threads = 0"));
    /// ```
    pub fn worker_threads(&mut self, n: usize) -> &mut Self {
        self.worker_threads = Some(n);
        self.executor.worker_threads(n);
        self
    }

    /// Most blocking-pool threads at once (at least 1; default 512).
    ///
    /// ```
    /// let rt = filch::Runtime::builder().max_blocking_threads(4).build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn max_blocking_threads(&mut self, n: usize) -> &mut Self {
        self.executor.max_blocking_threads(n);
        self
    }

    /// Name of the runtime's threads.
    ///
    /// ```
    /// let rt = filch::Runtime::builder().thread_name("svc").build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn thread_name(&mut self, name: impl Into<String>) -> &mut Self {
        self.executor.thread_name(name);
        self
    }

    /// Stack size of the runtime's threads, in bytes.
    ///
    /// ```
    /// let rt = filch::Runtime::builder().thread_stack_size(4 << 20).build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn thread_stack_size(&mut self, bytes: usize) -> &mut Self {
        self.executor.thread_stack_size(bytes);
        self
    }

    /// How long an idle blocking-pool thread lives (default 10 s).
    ///
    /// ```
    /// let rt = filch::Runtime::builder()
    ///     .thread_keep_alive(std::time::Duration::from_secs(1))
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn thread_keep_alive(&mut self, keep_alive: Duration) -> &mut Self {
        self.executor.thread_keep_alive(keep_alive);
        self
    }

    /// How long a task may wait in a worker's LIFO slot while that worker is
    /// stuck in one poll before another worker steals it (default 1 ms;
    /// `None`: never, as in tokio).
    ///
    /// ```
    /// let rt = filch::Runtime::builder().lifo_steal_delay(None).build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn lifo_steal_delay(&mut self, delay: Option<Duration>) -> &mut Self {
        self.executor.lifo_steal_delay(delay);
        self
    }

    /// Whether the thread in [`Runtime::block_on`] (and [`run`]) runs queued
    /// tasks while its future waits (default `true`, as asyncio's `run()`
    /// thread runs the loop); `false` leaves tasks to the worker threads
    /// only, as tokio does. See
    /// [`filch_executor::Builder::block_on_runs_tasks`] for the trade-off.
    ///
    /// ```
    /// let rt = filch::Runtime::builder().block_on_runs_tasks(false).build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn block_on_runs_tasks(&mut self, on: bool) -> &mut Self {
        self.executor.block_on_runs_tasks(on);
        self
    }

    /// Every `ticks` polls a worker looks at the global queue first.
    ///
    /// ```
    /// let rt = filch::Runtime::builder().global_queue_interval(61).build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn global_queue_interval(&mut self, ticks: u32) -> &mut Self {
        self.executor.global_queue_interval(ticks);
        self
    }

    /// Every `ticks` polls a worker fires due timers and polls I/O.
    ///
    /// ```
    /// let rt = filch::Runtime::builder().event_interval(31).build().unwrap();
    /// # drop(rt);
    /// ```
    pub fn event_interval(&mut self, ticks: u32) -> &mut Self {
        self.executor.event_interval(ticks);
        self
    }

    /// Debug mode: report every task poll longer than `threshold`, once it
    /// returns, and (from a watchdog thread) any poll still running past it,
    /// with the task's id, name and spawn location (see
    /// [`filch::debug`](crate::debug)). `FILCH_DEBUG=1` in the environment
    /// turns this on at 100 ms. `build` returns `InvalidInput` for zero.
    ///
    /// ```
    /// let rt = filch::Runtime::builder()
    ///     .slow_poll_threshold(std::time::Duration::from_millis(100))
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn slow_poll_threshold(&mut self, threshold: Duration) -> &mut Self {
        self.executor.slow_poll_threshold(threshold);
        self
    }

    /// Where debug reports go (default: one line each on stderr); see
    /// [`filch::debug::Report`](crate::debug::Report). A hook that panics is
    /// contained and said once on stderr.
    ///
    /// ```
    /// let rt = filch::Runtime::builder()
    ///     .on_debug_report(|r: &filch::debug::Report| eprintln!("[api] {r}"))
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn on_debug_report(
        &mut self,
        hook: impl Fn(&crate::debug::Report) + Send + Sync + 'static,
    ) -> &mut Self {
        self.executor.on_debug_report(hook);
        self
    }

    /// What to do about a panic nobody will observe (a task that panicked
    /// after its `JoinHandle` was dropped, or whose handle was dropped
    /// unawaited): [`UnhandledPanic::Report`] (default), `Ignore`, or
    /// `ShutdownRuntime`.
    ///
    /// ```
    /// use filch::runtime::UnhandledPanic;
    /// let rt = filch::Runtime::builder()
    ///     .unhandled_panic(UnhandledPanic::ShutdownRuntime)
    ///     .build()
    ///     .unwrap();
    /// # drop(rt);
    /// ```
    pub fn unhandled_panic(&mut self, policy: UnhandledPanic) -> &mut Self {
        self.executor.unhandled_panic(policy);
        self
    }

    /// Times every task poll into the histogram of
    /// [`Handle::metrics`]`().poll_time_histogram()` (on anyway in debug
    /// mode).
    ///
    /// ```
    /// let rt = filch::Runtime::builder().poll_time_histogram(true).build().unwrap();
    /// assert!(rt.handle().metrics().poll_time_histogram_enabled());
    /// ```
    pub fn poll_time_histogram(&mut self, on: bool) -> &mut Self {
        self.executor.poll_time_histogram(on);
        self
    }

    /// Starts the clock paused (virtual time): time only moves when every
    /// task is waiting (then it jumps to the next timer) or when
    /// `filch::time::advance` is called. For tests.
    ///
    /// ```
    /// let rt = filch::Runtime::builder().start_paused(true).build().unwrap();
    /// rt.block_on(async {
    ///     let t = filch::time::Instant::now();
    ///     filch::time::sleep(std::time::Duration::from_secs(3600)).await;
    ///     assert_eq!(t.elapsed(), std::time::Duration::from_secs(3600));
    /// });
    /// ```
    pub fn start_paused(&mut self, paused: bool) -> &mut Self {
        self.start_paused = paused;
        self
    }

    /// Builds the runtime and starts its threads. Bad settings are
    /// `InvalidInput` errors naming the setting and its value.
    ///
    /// ```
    /// let rt = filch::Runtime::builder().worker_threads(1).build().unwrap();
    /// assert_eq!(rt.block_on(async { 5 }), 5);
    /// ```
    pub fn build(&mut self) -> io::Result<Runtime> {
        let workers = match self.worker_threads {
            Some(n) => n,
            None => std::thread::available_parallelism().map_or(1, |n| n.get()),
        };
        if workers == 0 {
            // Let the executor name the bad value.
            return self.executor.build().map(|executor| Runtime { executor });
        }
        let (park, drivers) = Drivers::new(workers, self.start_paused)?;
        let executor = self
            .executor
            .worker_threads(workers)
            .driver(park, drivers)
            .build()?;
        Ok(Runtime { executor })
    }
}

impl fmt::Debug for Builder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Builder")
            .field("executor", &self.executor)
            .field("start_paused", &self.start_paused)
            .finish()
    }
}

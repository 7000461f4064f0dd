//! filch's executor: tasks, `JoinHandle`, the multi-thread work-stealing
//! scheduler, the blocking pool, `block_on`, and the driver seam that the
//! timer wheel and the I/O reactor plug into.
//!
//! Most users depend on the `filch` facade crate, which adds timers and I/O
//! and re-exports this crate's API. This crate must not know any driver: it
//! only defines [`Driver`], [`Park`] and [`WorkerDriver`].
//!
//! ```
//! let rt = filch_executor::Builder::new().worker_threads(2).build().unwrap();
//! let out = rt.block_on(async {
//!     let a = filch_executor::spawn(async { 20 });
//!     let b = filch_executor::spawn_blocking(|| 22);
//!     a.await.unwrap() + b.await.unwrap()
//! });
//! assert_eq!(out, 42);
//! ```
//!
//! See `docs/architecture.md` in the repository for the design.

#![deny(missing_docs)]

mod block_on;
mod blocking;
mod context;
pub mod coop;
mod diag;
mod driver;
mod local;
mod loom;
mod park;
mod runtime;
mod sched;
mod task_builder;
mod tasks;
mod yield_now;

pub use context::EnterGuard;
pub use driver::{Driver, Park, WorkerDriver, wake_contained};
pub use runtime::{Builder, Executor};
pub use sched::{Handle, spawn, spawn_blocking, spawn_local};
pub use tasks::{Id, JoinError, JoinHandle};
pub use yield_now::{YieldNow, yield_now};

/// Task handles, errors and options, and the current task.
pub mod task {
    pub use crate::sched::spawn_local;
    pub use crate::task_builder::{Builder, current, id};
    pub use crate::tasks::{Id, JoinError, JoinHandle, TaskInfo, TaskState};
}

/// Debug mode: slow-poll and unobserved-panic reports, and runtime metrics
/// (see `Builder::slow_poll_threshold`, `Builder::on_debug_report`,
/// `Builder::unhandled_panic` and `Handle::metrics`).
pub mod debug {
    pub use crate::diag::{Report, RuntimeMetrics, UnhandledPanic};
    pub use crate::runtime::DEFAULT_SLOW_POLL_THRESHOLD;
}

/// Internals exposed to the loom models in `loom-tests/` (only under
/// `--cfg loom`).
#[cfg(loom)]
#[doc(hidden)]
pub mod __loom {
    pub use crate::block_on::drive;
    pub use crate::blocking::pool::{Config as PoolConfig, Job as PoolJob, Pool};
    pub use crate::diag::Reporter;
    pub use crate::diag::timing::{PollSlot, PollSnapshot};
    pub use crate::local::Inbox;
    pub use crate::park::{DriverSlot, Parker, Unparker};
    pub use crate::sched::BlockOnState;
    pub use crate::sched::idle::{Idle, Watchers};
    pub use crate::sched::queue::{Injector, IntoPtr, LifoSlot, Local, Steal, Stealer};
    pub use crate::tasks::Id;
    pub use crate::tasks::{JoinHandle, Notified, Schedule, Task, new_unbound};

    /// What `yield_now` does on a worker for the task being polled: if
    /// `waker` is that task's own and its scheduler defers yields, marks the
    /// poll as yielded (the harness then queues the task held, still
    /// `RUNNING`, through the scheduler's `yield_now`) and returns true.
    pub fn own_yield(waker: &std::task::Waker) -> bool {
        crate::tasks::current::wake_own_yield(waker).is_some()
    }

    /// A fresh task id, for `new_unbound`.
    pub fn next_id() -> Id {
        Id::next()
    }

    /// A runtime handle with no worker threads and no driver, and a
    /// blocking pool of at most `max_blocking_threads` (loom) threads: for
    /// the models of the owned task list, the shutdown and the blocking
    /// pool. Tasks spawned through it wait in the global queue until a
    /// model thread runs them with [`run_queued`]; nothing parks.
    pub fn handle_without_workers(max_blocking_threads: usize) -> crate::Handle {
        let blocking = crate::blocking::BlockingPool::new(
            max_blocking_threads,
            std::time::Duration::from_secs(10),
            std::sync::Arc::new(|| "filch-blocking".to_string()),
            None,
        );
        let config = crate::sched::Config {
            global_queue_interval: 31,
            event_interval: 61,
            lifo_steal_delay: None,
            block_on_runs_tasks: true,
        };
        let diag = crate::diag::Diagnostics {
            reporter: std::sync::Arc::new(crate::diag::Reporter::new(
                None,
                crate::debug::UnhandledPanic::Ignore,
                None,
            )),
            timing: None,
        };
        let shared = crate::sched::Shared::new(Box::new([]), None, blocking, config, diag);
        crate::Handle {
            shared: std::sync::Arc::new(shared),
        }
    }

    /// Runs one task from the global queue, as a worker or a `block_on`
    /// thread does; false if the queue was empty.
    pub fn run_queued(handle: &crate::Handle) -> bool {
        match handle.shared.task_for_block_on() {
            Some(task) => {
                task.run();
                true
            }
            None => false,
        }
    }

    /// A worker's batch of completed tasks waiting to leave the owned list
    /// (`tasks/list.rs`, `ReleaseBatch`), for a model thread that plays a
    /// worker: tasks it runs with [`run_queued`](Self::run_queued) release
    /// through it. It defers every task (a worker defers those of the other
    /// workers' shards; under loom there is one shard). One per handle; flush it
    /// before dropping it. Like a worker, it holds the runtime alive.
    pub struct ModelBatch {
        batch: crate::tasks::list::ReleaseBatch,
        handle: crate::Handle,
    }

    impl std::fmt::Debug for ModelBatch {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("ModelBatch")
        }
    }

    impl ModelBatch {
        /// A batch for `handle`'s owned list.
        pub fn new(handle: &crate::Handle) -> ModelBatch {
            ModelBatch {
                batch: crate::tasks::list::ReleaseBatch::new(&handle.shared.owned, 0, None),
                handle: handle.clone(),
            }
        }

        /// [`run_queued`] with this batch installed, as on a worker thread.
        pub fn run_queued(&self) -> bool {
            let _batch = crate::context::enter_release_batch(&self.batch);
            run_queued(&self.handle)
        }

        /// Releases the kept tasks, as a worker does before it parks.
        pub fn flush(&self) {
            self.batch.flush(&self.handle.shared.owned);
        }
    }

    /// What dropping an `Executor` does once its workers have stopped:
    /// stop, cancel and drain every task, shut the drivers down, wait for
    /// the blocking pool.
    pub fn shut_down(handle: &crate::Handle) {
        handle.shared.begin_shutdown();
        crate::runtime::finish_shutdown(&handle.shared, Vec::new(), None);
    }
}

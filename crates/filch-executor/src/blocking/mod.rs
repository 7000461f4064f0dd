//! The blocking pool behind `spawn_blocking` (asyncio's `to_thread`): a
//! bounded set of threads that are started on demand, reused, and retire
//! after an idle keep-alive.
//!
//! A closure becomes a task (same `JoinHandle`, same cancellation and panic
//! handling as async tasks) whose future runs the closure in one poll; the
//! threads, their queue and the hand-off of a task to a thread are in
//! `pool.rs`. This module owns the task side; it must not run async tasks.

pub(crate) mod pool;

use crate::diag::Reporter;
use crate::sched::Shared;
use crate::tasks::{self, Id, JoinHandle, Meta, Notified, Schedule, Task};
use crate::{Handle, context};
use pool::{Config, Job, Pool};
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Duration;

pub(crate) use pool::ThreadNameFn;

pub(crate) struct BlockingPool {
    pool: Pool<BlockingJob>,
}

/// A blocking task in the pool; its thread context is the runtime's handle.
struct BlockingJob(Notified<BlockingSchedule>);

impl Job for BlockingJob {
    type Ctx = Handle;
    type Guard = context::EnterGuard;

    fn enter(handle: &Handle) -> context::EnterGuard {
        context::enter_handle(handle.clone())
    }

    fn run(self) {
        self.0.run();
    }

    fn cancel(self) {
        self.0.cancel_and_run();
    }

    fn all_done(handle: &Handle) {
        handle.shared.check_idle();
    }
}

/// Blocking tasks are never woken (their future finishes in one poll) and
/// are not in the owned list: the pool (its queue, or the slot of the
/// thread it was handed to) is their only home. They point at their runtime
/// only to report a panic nobody observes.
pub(crate) struct BlockingSchedule(NonNull<Shared>);

// SAFETY: `Shared` is `Sync`; the pointer is only followed while the task
// runs or is cancelled, see `reporter`.
unsafe impl Send for BlockingSchedule {}
// SAFETY: as above.
unsafe impl Sync for BlockingSchedule {}

impl Schedule for BlockingSchedule {
    fn schedule(&self, task: Notified<Self>) {
        // A blocking task's future never returns Pending and the pool hands
        // it to a thread itself, so nothing schedules it; dropping the reference is
        // the only sound thing to do if it ever happened.
        drop(task);
    }

    fn release(&self, _task: &Task<Self>) -> Option<Task<Self>> {
        None
    }

    fn reporter(&self) -> Option<&Arc<Reporter>> {
        // SAFETY: asked only while the task runs (on a pool thread, which
        // holds a `Handle`) or is cancelled (by `spawn`, whose caller holds
        // a `Handle`, or by the pool's shutdown, which the runtime's shutdown
        // calls while it holds its own): `Shared` is alive.
        Some(&unsafe { self.0.as_ref() }.diag.reporter)
    }
}

/// Runs the closure in its single poll.
struct BlockingTask<F>(Option<F>);

impl<F> Unpin for BlockingTask<F> {}

impl<F: FnOnce() -> R, R> Future for BlockingTask<F> {
    type Output = R;

    fn poll(mut self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<R> {
        let f = self
            .0
            .take()
            .expect("blocking task polled after completion");
        Poll::Ready(f())
    }
}

impl BlockingPool {
    pub(crate) fn new(
        max_threads: usize,
        keep_alive: Duration,
        thread_name: ThreadNameFn,
        stack_size: Option<usize>,
    ) -> BlockingPool {
        BlockingPool {
            pool: Pool::new(Config {
                max_threads,
                keep_alive,
                thread_name,
                stack_size,
            }),
        }
    }

    pub(crate) fn spawn<F, R>(
        &self,
        f: F,
        handle: &Handle,
        location: &'static Location<'static>,
        meta: Option<Box<Meta>>,
    ) -> JoinHandle<R>
    where
        F: FnOnce() -> R + Send + 'static,
        R: Send + 'static,
    {
        let scheduler = BlockingSchedule(NonNull::from(&*handle.shared));
        let id = Id::next();
        let name = meta.as_ref().and_then(|m| m.name.as_deref());
        let task = crate::diag::trace::instrument(BlockingTask(Some(f)), id, name, location);
        let (notified, join) = tasks::new_unbound_with(task, scheduler, id, location, meta);
        self.pool.spawn(BlockingJob(notified), || handle.clone());
        join
    }

    /// Closures queued or running.
    pub(crate) fn num_active(&self) -> usize {
        self.pool.num_active()
    }

    /// Threads in the pool right now.
    pub(crate) fn num_threads(&self) -> usize {
        self.pool.num_threads()
    }

    /// Cancels queued closures and waits up to `timeout` (`None`: as long as
    /// it takes) for running ones to finish.
    pub(crate) fn shutdown(&self, timeout: Option<Duration>) {
        self.pool.shutdown(timeout);
    }
}

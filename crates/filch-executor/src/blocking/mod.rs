//! The blocking pool behind `spawn_blocking` (asyncio's `to_thread`): a
//! bounded set of threads that are started on demand, reused, and retire
//! after an idle keep-alive.
//!
//! A closure becomes a task (same `JoinHandle`, same cancellation and panic
//! handling as async tasks) whose future runs the closure in one poll. Owns
//! the pool's queue and threads; it must not run async tasks.

use crate::diag::Reporter;
use crate::loom::atomic::AtomicUsize;
use crate::loom::{Condvar, CvMutex, thread};
use crate::sched::Shared;
use crate::tasks::{self, Id, JoinHandle, Meta, Notified, Schedule, Task};
use crate::{Handle, context};
use std::collections::VecDeque;
use std::future::Future;
use std::panic::Location;
use std::pin::Pin;
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::Ordering::SeqCst;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

pub(crate) type ThreadNameFn = Arc<dyn Fn() -> String + Send + Sync>;

pub(crate) struct BlockingPool {
    inner: Arc<Inner>,
}

struct Inner {
    state: CvMutex<State>,
    /// Idle threads wait here for work.
    work: Condvar,
    /// Shutdown waits here for threads to exit.
    exited: Condvar,
    /// Closures queued or running (read without the lock by idle checks).
    num_active: AtomicUsize,
    max_threads: usize,
    keep_alive: Duration,
    thread_name: ThreadNameFn,
    stack_size: Option<usize>,
}

struct State {
    queue: VecDeque<Notified<BlockingSchedule>>,
    num_threads: usize,
    /// Threads waiting for work.
    num_idle: usize,
    /// Wake-ups handed to idle threads and not yet taken.
    num_notify: usize,
    shutdown: bool,
    threads: Vec<(usize, thread::JoinHandle<()>)>,
    next_thread_id: usize,
}

/// Blocking tasks are never woken (their future finishes in one poll) and
/// are not in the owned list: the pool's queue is their only home. They
/// point at their runtime only to report a panic nobody observes.
pub(crate) struct BlockingSchedule(NonNull<Shared>);

// SAFETY: `Shared` is `Sync`; the pointer is only followed while the task
// runs or is cancelled, see `reporter`.
unsafe impl Send for BlockingSchedule {}
// SAFETY: as above.
unsafe impl Sync for BlockingSchedule {}

impl Schedule for BlockingSchedule {
    fn schedule(&self, task: Notified<Self>) {
        // A blocking task's future never returns Pending and is queued by the
        // pool itself, so nothing schedules it; dropping the reference is
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
            inner: Arc::new(Inner {
                state: CvMutex::new(State {
                    queue: VecDeque::new(),
                    num_threads: 0,
                    num_idle: 0,
                    num_notify: 0,
                    shutdown: false,
                    threads: Vec::new(),
                    next_thread_id: 0,
                }),
                work: Condvar::new(),
                exited: Condvar::new(),
                num_active: AtomicUsize::new(0),
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
        let mut state = self.inner.state.lock();
        if state.shutdown {
            drop(state);
            notified.cancel_and_run();
            return join;
        }
        self.inner.num_active.fetch_add(1, SeqCst);
        state.queue.push_back(notified);
        if state.num_idle > 0 {
            state.num_idle -= 1;
            state.num_notify += 1;
            self.inner.work.notify_one();
        } else if state.num_threads < self.inner.max_threads {
            state.num_threads += 1;
            let id = state.next_thread_id;
            state.next_thread_id += 1;
            match self.start_thread(id, handle.clone()) {
                Ok(thread) => state.threads.push((id, thread)),
                Err(err) => {
                    state.num_threads -= 1;
                    if state.num_threads == 0 {
                        // No thread will ever run the closure.
                        let task = state.queue.pop_back();
                        self.inner.num_active.fetch_sub(1, SeqCst);
                        drop(state);
                        drop(task);
                        panic!("filch: could not start a blocking-pool thread: {err}");
                    }
                }
            }
        }
        join
    }

    fn start_thread(&self, id: usize, handle: Handle) -> std::io::Result<thread::JoinHandle<()>> {
        let inner = self.inner.clone();
        let mut builder = thread::Builder::new().name((self.inner.thread_name)());
        if let Some(size) = self.inner.stack_size {
            builder = builder.stack_size(size);
        }
        builder.spawn(move || inner.run(id, handle))
    }

    pub(crate) fn num_active(&self) -> usize {
        self.inner.num_active.load(SeqCst)
    }

    /// Threads in the pool right now.
    pub(crate) fn num_threads(&self) -> usize {
        self.inner.state.lock().num_threads
    }

    /// Cancels queued closures and waits up to `timeout` (`None`: as long as
    /// it takes) for running ones to finish.
    pub(crate) fn shutdown(&self, timeout: Option<Duration>) {
        let mut state = self.inner.state.lock();
        if state.shutdown {
            return;
        }
        state.shutdown = true;
        let queued = std::mem::take(&mut state.queue);
        self.inner.work.notify_all();
        drop(state);
        for task in queued {
            task.cancel_and_run();
            self.inner.num_active.fetch_sub(1, SeqCst);
        }

        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut state = self.inner.state.lock();
        while state.num_threads > 0 {
            state = match deadline {
                None => self.inner.exited.wait(state),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        break;
                    }
                    self.inner.exited.wait_timeout(state, deadline - now).0
                }
            };
        }
        let all_exited = state.num_threads == 0;
        let threads = std::mem::take(&mut state.threads);
        drop(state);
        if all_exited {
            // Every thread has left its loop; joining only waits for the last
            // instructions of each to finish.
            for (_, thread) in threads {
                let _ = thread.join();
            }
        }
    }
}

impl Inner {
    fn run(self: Arc<Self>, id: usize, handle: Handle) {
        let _enter = context::enter_handle(handle.clone());
        let mut state = self.state.lock();
        'work: loop {
            while let Some(task) = state.queue.pop_front() {
                drop(state);
                task.run();
                if self.num_active.fetch_sub(1, SeqCst) == 1 {
                    handle.shared.check_idle();
                }
                state = self.state.lock();
            }
            if state.shutdown {
                break;
            }
            state.num_idle += 1;
            loop {
                let timed_out;
                (state, timed_out) = self.work.wait_timeout(state, self.keep_alive);
                if state.num_notify > 0 {
                    state.num_notify -= 1;
                    continue 'work;
                }
                if state.shutdown || timed_out {
                    state.num_idle -= 1;
                    break 'work;
                }
            }
        }
        state.num_threads -= 1;
        if !state.shutdown {
            // Retiring after the keep-alive: detach our own join handle.
            state.threads.retain(|(tid, _)| *tid != id);
        }
        if state.num_threads == 0 {
            self.exited.notify_all();
        }
    }
}

//! The blocking pool's threads: a bounded set of threads that run the jobs
//! handed to them, started on demand, parked between jobs, and retired
//! after an idle keep-alive.
//!
//! ## Hand-off
//!
//! Every thread has a one-job [`Slot`]. An idle thread puts its slot on the
//! pool's idle stack (under the pool lock); a producer that finds an idle
//! thread pops its slot, writes the job into it and unparks the thread. The
//! job never goes through the queue, so the woken thread always has work
//! and takes it without the lock. (With one shared queue and a condition
//! variable, a woken thread often finds that a thread which just finished
//! took its job; meanwhile producers see no idle thread and start new ones,
//! and the pool grows to its maximum on a burst of short calls.) The queue
//! holds jobs only while no thread is idle: every thread is running a job,
//! or starting. A thread that finishes a job takes the next one from the
//! queue before it goes idle.
//!
//! The slot's protocol: the cell is written only by the producer that
//! popped the slot, under the lock, and then `full` is set (release); the
//! slot's thread reads the cell only after it saw `full` (acquire), and
//! pushes the slot again only once it is empty. A thread whose keep-alive
//! ran out (or that saw the shutdown flag) takes the lock and looks again:
//! if its slot is still on the stack, it removes it and nobody can hand it
//! a job any more; if not, the producer that popped it has already written
//! the job (it wrote under the lock we now hold).
//!
//! The stack is LIFO: the most recently idle thread gets the next job, so
//! the threads at the bottom stay unused and retire after `keep_alive`, and
//! the pool shrinks to what the load needs.
//!
//! ## Starting threads
//!
//! A job that finds no idle thread is queued, and a thread is started for
//! it unless one is already starting or the pool is full. At most one
//! start is in flight; the new thread, once running, takes a queued job
//! and starts the next thread if jobs are still queued. A burst of short
//! jobs is then served by the threads that finish while the first new
//! thread is starting (instead of one new thread per job, each started on
//! the caller's worker thread), while a burst of long jobs still gets one
//! thread per job, one thread start apart: a queued job never waits for a
//! running one while the pool is below `max_threads`.
//!
//! Owns the threads, the queue and the hand-off; it must not know what a
//! job is (the task side of the blocking pool is in `mod.rs`).

use crate::loom::atomic::{AtomicBool, AtomicUsize};
use crate::loom::{Arc, Condvar, CvMutex, CvMutexGuard, UnsafeCell, thread};
use std::collections::VecDeque;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};
use std::time::{Duration, Instant};

/// Which pool and which of its threads the current thread is, so that a
/// shutdown run by a job (a closure that drops its runtime) does not wait
/// for its own thread. Not under loom, whose model threads share the OS
/// thread's locals; the models do not shut down from a pool thread.
#[cfg(not(loom))]
mod own {
    use std::cell::Cell;

    thread_local! {
        static THREAD: Cell<(usize, usize)> = const { Cell::new((0, 0)) };
    }

    /// Marks the current thread as thread `id` of the pool at `pool`.
    pub(super) fn set(pool: *const (), id: usize) {
        THREAD.with(|t| t.set((pool as usize, id)));
    }

    /// The current thread's id if it is a thread of the pool at `pool`.
    pub(super) fn thread_of(pool: *const ()) -> Option<usize> {
        let (p, id) = THREAD.try_with(|t| t.get()).ok()?;
        (p == pool as usize).then_some(id)
    }
}

#[cfg(loom)]
mod own {
    pub(super) fn set(_pool: *const (), _id: usize) {}

    pub(super) fn thread_of(_pool: *const ()) -> Option<usize> {
        None
    }
}

/// Names each new thread.
pub type ThreadNameFn = std::sync::Arc<dyn Fn() -> String + Send + Sync>;

/// What the pool runs.
pub trait Job: Send + 'static {
    /// What each pool thread holds while it lives (the runtime's handle).
    type Ctx: Clone + Send + 'static;
    /// Kept alive for the thread's life (the runtime context guard).
    type Guard;

    /// Called first on every new thread.
    fn enter(ctx: &Self::Ctx) -> Self::Guard;
    /// Runs the job.
    fn run(self);
    /// The job will never run: cancel it (shutdown, or no thread can be
    /// started).
    fn cancel(self);
    /// Called after a job ran when no job is queued or running any more.
    fn all_done(ctx: &Self::Ctx);
}

/// The pool's settings.
#[derive(Clone)]
pub struct Config {
    /// Most threads at once (at least 1).
    pub max_threads: usize,
    /// How long an idle thread waits for a job before it retires.
    pub keep_alive: Duration,
    /// Names each thread as it starts.
    pub thread_name: ThreadNameFn,
    /// Each thread's stack size (the platform's default if `None`).
    pub stack_size: Option<usize>,
}

/// A bounded pool of threads running `J`s.
pub struct Pool<J: Job> {
    inner: Arc<Inner<J>>,
}

struct Inner<J: Job> {
    state: CvMutex<State<J>>,
    /// Shutdown waits here for the threads to exit.
    exited: Condvar,
    /// `State::shutdown`, for idle threads to read without the lock.
    shutdown: AtomicBool,
    /// Jobs queued, handed over or running (read without the lock by the
    /// runtime's idle check). Counted before a job is visible to any
    /// thread, and uncounted only after it ran.
    num_active: AtomicUsize,
    config: Config,
}

struct State<J: Job> {
    /// Jobs waiting for a thread: only while no thread is idle.
    queue: VecDeque<J>,
    /// Idle threads' slots, the most recently idle last.
    idle: Vec<Arc<Slot<J>>>,
    /// Threads started (or starting) and not yet exited.
    num_threads: usize,
    /// A thread start is in flight.
    starting: bool,
    shutdown: bool,
    /// Each thread's id and join handle (set once its start returned);
    /// a thread that retires removes its own entry.
    threads: Vec<(usize, Option<thread::JoinHandle<()>>)>,
    next_id: usize,
}

/// One thread's hand-off slot (see the module docs for its protocol).
struct Slot<J> {
    job: UnsafeCell<Option<J>>,
    full: AtomicBool,
    thread: thread::Thread,
}

// SAFETY: the cell is accessed by one thread at a time: the producer that
// took the slot out of the idle lists (under the pool lock) writes it before
// setting `full`, and the slot's own thread reads it only after seeing
// `full` set; the job is `Send`, and `Thread` is `Send + Sync`.
unsafe impl<J: Send> Sync for Slot<J> {}
// SAFETY: as above.
unsafe impl<J: Send> Send for Slot<J> {}

impl<J> Slot<J> {
    fn new(thread: thread::Thread) -> Slot<J> {
        Slot {
            job: UnsafeCell::new(None),
            full: AtomicBool::new(false),
            thread,
        }
    }

    /// Hands `job` to the slot's thread. The caller holds the pool lock and
    /// has just taken the slot out of the idle lists.
    fn put(&self, job: J) {
        // SAFETY: the slot was in an idle list, so its thread does not touch
        // the cell until it sees `full`, and no other producer can reach it
        // (we took it out under the lock).
        self.job.with_mut(|cell| unsafe { *cell = Some(job) });
        self.full.store(true, Release);
    }

    /// The job handed over, if any. Called by the slot's own thread.
    fn take(&self) -> Option<J> {
        if !self.full.load(Acquire) {
            return None;
        }
        // Reset before the slot goes back into an idle list, which happens
        // under the lock, after this store: the next producer sees it.
        self.full.store(false, Relaxed);
        // SAFETY: `full` was set after the producer wrote the cell (release,
        // acquired above), and no producer writes it again until we put the
        // slot back in an idle list.
        self.job.with_mut(|cell| unsafe { (*cell).take() })
    }
}

impl<J: Job> State<J> {
    /// Reserves a thread start if jobs are queued, no start is in flight
    /// and the pool is below `max`: returns the new thread's id.
    fn reserve_start(&mut self, max: usize) -> Option<usize> {
        if self.starting || self.num_threads >= max || self.queue.is_empty() {
            return None;
        }
        self.starting = true;
        self.num_threads += 1;
        let id = self.next_id;
        self.next_id += 1;
        self.threads.push((id, None));
        Some(id)
    }
}

impl<J: Job> Pool<J> {
    /// A pool with no thread yet.
    pub fn new(config: Config) -> Pool<J> {
        assert!(config.max_threads >= 1, "a pool needs at least one thread");
        Pool {
            inner: Arc::new(Inner {
                state: CvMutex::new(State {
                    queue: VecDeque::new(),
                    idle: Vec::new(),
                    num_threads: 0,
                    starting: false,
                    shutdown: false,
                    threads: Vec::new(),
                    next_id: 0,
                }),
                exited: Condvar::new(),
                shutdown: AtomicBool::new(false),
                num_active: AtomicUsize::new(0),
                config,
            }),
        }
    }

    /// Runs `job` on an idle thread, or queues it (starting a thread if
    /// the pool may grow). `ctx` makes the context of a thread started for
    /// it. After shutdown the job is cancelled.
    ///
    /// # Panics
    /// If no thread could be started and the pool has none (the job is
    /// cancelled first).
    pub fn spawn(&self, job: J, ctx: impl FnOnce() -> J::Ctx) {
        let inner = &*self.inner;
        let mut state = inner.state.lock();
        if state.shutdown {
            drop(state);
            job.cancel();
            return;
        }
        inner.num_active.fetch_add(1, SeqCst);
        if let Some(slot) = state.idle.pop() {
            slot.put(job);
            drop(state);
            slot.thread.unpark();
            return;
        }
        state.queue.push_back(job);
        let start = state.reserve_start(inner.config.max_threads);
        drop(state);
        if let Some(id) = start {
            Inner::start_thread(&self.inner, id, ctx());
        }
    }

    /// Jobs queued, handed over or running.
    pub fn num_active(&self) -> usize {
        self.inner.num_active.load(SeqCst)
    }

    /// Threads in the pool right now (running a job, idle, or starting).
    pub fn num_threads(&self) -> usize {
        self.inner.state.lock().num_threads
    }

    /// Cancels queued jobs, tells idle threads to exit, and waits up to
    /// `timeout` (`None`: as long as it takes) for running jobs to finish
    /// and every thread to exit. A job already handed to a thread runs.
    pub fn shutdown(&self, timeout: Option<Duration>) {
        let inner = &*self.inner;
        let mut state = inner.state.lock();
        if state.shutdown {
            return;
        }
        state.shutdown = true;
        inner.shutdown.store(true, SeqCst);
        let queued = std::mem::take(&mut state.queue);
        let idle = state.idle.clone();
        drop(state);
        for slot in idle {
            slot.thread.unpark();
        }
        for job in queued {
            job.cancel();
            inner.num_active.fetch_sub(1, SeqCst);
        }

        // Run by one of our own threads (a job dropped its runtime): wait
        // for the others only.
        let own = own::thread_of(Arc::as_ptr(&self.inner).cast());
        let others = usize::from(own.is_some());
        let deadline = timeout.and_then(|t| Instant::now().checked_add(t));
        let mut state = inner.state.lock();
        while state.num_threads > others {
            state = match deadline {
                None => inner.exited.wait(state),
                Some(deadline) => {
                    let now = Instant::now();
                    if now >= deadline {
                        break;
                    }
                    inner.exited.wait_timeout(state, deadline - now).0
                }
            };
        }
        let all_exited = state.num_threads == others;
        let threads = std::mem::take(&mut state.threads);
        drop(state);
        if all_exited {
            // Every other thread has left its loop; joining only waits for
            // the last instructions of each to finish.
            for (id, handle) in threads {
                if let Some(handle) = handle.filter(|_| Some(id) != own) {
                    let _ = handle.join();
                }
            }
        }
    }
}

impl<J: Job> Inner<J> {
    /// Starts the thread `id` reserved by `State::reserve_start`.
    fn start_thread(this: &Arc<Inner<J>>, id: usize, ctx: J::Ctx) {
        let inner = this.clone();
        let res = thread::spawn(
            (this.config.thread_name)(),
            this.config.stack_size,
            move || Inner::run_thread(inner, id, ctx),
        );
        let mut state = this.state.lock();
        match res {
            Ok(handle) => {
                match state.threads.iter_mut().find(|(t, _)| *t == id) {
                    Some(entry) => entry.1 = Some(handle),
                    // Already retired (a zero keep-alive): nothing to join.
                    None => drop(handle),
                }
            }
            Err(err) => {
                state.starting = false;
                state.num_threads -= 1;
                state.threads.retain(|(t, _)| *t != id);
                if state.num_threads == 0 {
                    // No thread will ever run the queued jobs.
                    let queued = std::mem::take(&mut state.queue);
                    drop(state);
                    for job in queued {
                        job.cancel();
                        this.num_active.fetch_sub(1, SeqCst);
                    }
                    panic!("filch: could not start a blocking-pool thread: {err}");
                }
                // The running threads will take the queued jobs; the next
                // spawn tries to start a thread again.
            }
        }
    }

    /// The body of pool thread `id`.
    fn run_thread(this: Arc<Inner<J>>, id: usize, ctx: J::Ctx) {
        own::set(Arc::as_ptr(&this).cast(), id);
        let _guard = J::enter(&ctx);
        let slot = Arc::new(Slot::new(thread::current()));
        let mut state = this.state.lock();
        state.starting = false;
        loop {
            let job = match state.queue.pop_front() {
                Some(job) => {
                    // Jobs still queued: they want threads too.
                    let start = state.reserve_start(this.config.max_threads);
                    drop(state);
                    if let Some(id) = start {
                        Inner::start_thread(&this, id, ctx.clone());
                    }
                    job
                }
                None if state.shutdown => break,
                None => match this.wait_for_job(state, &slot) {
                    Ok(job) => job,
                    Err(locked) => {
                        state = locked;
                        break;
                    }
                },
            };
            job.run();
            if this.num_active.fetch_sub(1, SeqCst) == 1 {
                J::all_done(&ctx);
            }
            state = this.state.lock();
        }
        state.num_threads -= 1;
        if !state.shutdown {
            // Retiring: shutdown will not join us.
            state.threads.retain(|(t, _)| *t != id);
        }
        if state.shutdown && state.num_threads <= 1 {
            // Shutdown waits for no thread, or for all but the one it runs
            // on (a job dropped its runtime).
            this.exited.notify_all();
        }
    }

    /// Idles until a job is handed over (`Ok`, unlocked) or the thread must
    /// exit (`Err`, with the lock held and the slot in no idle list).
    /// Called with the lock held and the queue empty.
    fn wait_for_job<'a>(
        &'a self,
        mut state: CvMutexGuard<'a, State<J>>,
        slot: &Arc<Slot<J>>,
    ) -> Result<J, CvMutexGuard<'a, State<J>>> {
        state.idle.push(slot.clone());
        drop(state);
        // The clock is read once per idle period, and again only after a
        // wake-up that brought no job (a hand-off returns before that).
        let idle_since = Instant::now();
        let keep_alive = self.config.keep_alive;
        let mut remaining = keep_alive;
        loop {
            if let Some(job) = slot.take() {
                return Ok(job);
            }
            if self.shutdown.load(Acquire) || remaining.is_zero() {
                let mut state = self.state.lock();
                if let Some(job) = slot.take() {
                    return Ok(job);
                }
                // Not popped: once off the stack, nobody can hand us a job.
                let pos = state
                    .idle
                    .iter()
                    .position(|s| Arc::ptr_eq(s, slot))
                    .expect("an idle slot nobody popped is on the stack");
                state.idle.remove(pos);
                return Err(state);
            }
            thread::park_timeout(remaining);
            if let Some(job) = slot.take() {
                return Ok(job);
            }
            remaining = keep_alive.saturating_sub(idle_since.elapsed());
        }
    }
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("max_threads", &self.max_threads)
            .field("keep_alive", &self.keep_alive)
            .field("stack_size", &self.stack_size)
            .finish_non_exhaustive()
    }
}

impl<J: Job> std::fmt::Debug for Pool<J> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pool")
            .field("threads", &self.num_threads())
            .field("active", &self.num_active())
            .finish()
    }
}

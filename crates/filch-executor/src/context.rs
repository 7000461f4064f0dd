//! The per-thread runtime context: which runtime `spawn` talks to, whether
//! this thread is a worker (and which), and whether it is inside a runtime
//! (so that a nested `block_on` panics instead of deadlocking).
//!
//! Owns the thread-local and the guards that set and restore it; it must not
//! schedule or run anything itself.

use crate::Handle;
use crate::sched::worker::WorkerRef;
use crate::tasks::list::ReleaseBatch;
use std::cell::{Cell, RefCell};
use std::ptr;

struct Context {
    /// The runtime `spawn` uses on this thread (set by `block_on`,
    /// `Handle::enter` and on worker threads).
    handle: RefCell<Option<Handle>>,
    /// The worker running on this thread, if any.
    worker: Cell<*const WorkerRef>,
    /// Where tasks completed on this thread wait to leave the owned list
    /// (a worker's, or a loom model's), if any.
    releases: Cell<*const ReleaseBatch>,
    /// Inside a worker or a `block_on`: blocking on a runtime here would
    /// deadlock.
    in_runtime: Cell<bool>,
}

#[cfg(not(loom))]
thread_local! {
    static CONTEXT: Context = const {
        Context {
            handle: RefCell::new(None),
            worker: Cell::new(ptr::null()),
            releases: Cell::new(ptr::null()),
            in_runtime: Cell::new(false),
        }
    };
}

// loom runs every model thread on one OS thread: a std thread-local would
// be shared by them all (a blocking-pool thread's context would leak into
// the others), so under loom the context is one of loom's per-thread keys.
#[cfg(loom)]
loom::thread_local! {
    static CONTEXT: Context = Context {
        handle: RefCell::new(None),
        worker: Cell::new(ptr::null()),
        releases: Cell::new(ptr::null()),
        in_runtime: Cell::new(false),
    };
}

/// Runs `f` with the worker running on this thread, if any. Safe to call
/// during thread teardown (then there is no worker).
#[inline]
pub(crate) fn with_worker<R>(f: impl FnOnce(Option<&WorkerRef>) -> R) -> R {
    let ptr = CONTEXT.try_with(|c| c.worker.get()).unwrap_or(ptr::null());
    // SAFETY: the pointer is set by `enter_worker` to a `WorkerRef` that
    // lives on the worker thread's stack for as long as the guard does, and
    // is cleared by that guard before the `WorkerRef` is dropped. Only this
    // thread reads it.
    f(unsafe { ptr.as_ref() })
}

/// Runs `f` with this thread's release batch, if any. Safe to call during
/// thread teardown (then there is none).
#[inline]
pub(crate) fn with_release_batch<R>(f: impl FnOnce(Option<&ReleaseBatch>) -> R) -> R {
    let ptr = CONTEXT
        .try_with(|c| c.releases.get())
        .unwrap_or(ptr::null());
    // SAFETY: the pointer is set by `enter_release_batch` to a batch that
    // outlives the guard it returns (the guard borrows it), and that guard,
    // which its callers (the worker loop, the loom wrapper) hold in a local
    // and never forget, clears it when dropped. Guards do not nest (entering
    // asserts the slot is empty), so the pointer is null or the batch of
    // the one live guard. Only this thread reads it.
    f(unsafe { ptr.as_ref() })
}

/// Uninstalls the release batch when dropped.
pub(crate) struct ReleaseBatchGuard<'a>(std::marker::PhantomData<&'a ReleaseBatch>);

/// Makes `batch` where tasks completed on this thread wait for their release
/// until the guard drops. One batch per thread at a time.
pub(crate) fn enter_release_batch(batch: &ReleaseBatch) -> ReleaseBatchGuard<'_> {
    CONTEXT.with(|c| {
        assert!(
            c.releases.get().is_null(),
            "a thread has one release batch at a time"
        );
        c.releases.set(batch);
    });
    ReleaseBatchGuard(std::marker::PhantomData)
}

impl Drop for ReleaseBatchGuard<'_> {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|c| c.releases.set(ptr::null()));
    }
}

/// Runs `f` with the handle of the runtime this thread is in, if any.
pub(crate) fn with_handle<R>(f: impl FnOnce(Option<&Handle>) -> R) -> R {
    let mut f = Some(f);
    let res = CONTEXT.try_with(|c| {
        let handle = c.handle.borrow();
        (f.take().unwrap())(handle.as_ref())
    });
    match res {
        Ok(r) => r,
        Err(_) => (f.take().unwrap())(None),
    }
}

/// Restores the previous handle when dropped.
#[derive(Debug)]
pub struct EnterGuard {
    prev: Option<Handle>,
    _not_send: std::marker::PhantomData<*const ()>,
}

/// Makes `handle` the current runtime of this thread until the guard drops.
pub(crate) fn enter_handle(handle: Handle) -> EnterGuard {
    let prev = CONTEXT.with(|c| c.handle.borrow_mut().replace(handle));
    EnterGuard {
        prev,
        _not_send: std::marker::PhantomData,
    }
}

impl Drop for EnterGuard {
    fn drop(&mut self) {
        let prev = self.prev.take();
        let _ = CONTEXT.try_with(|c| *c.handle.borrow_mut() = prev);
    }
}

/// Marks the thread as inside a runtime (a worker or a `block_on`).
pub(crate) struct RuntimeGuard(());

const NESTED_BLOCK_ON: &str = "cannot block on a filch runtime from inside a runtime: this thread is \
     already running async code (a worker or a block_on) and blocking it would deadlock; \
     `.await` the future instead, or move the blocking call to `spawn_blocking`";

#[track_caller]
pub(crate) fn enter_runtime() -> RuntimeGuard {
    CONTEXT.with(|c| {
        if c.in_runtime.replace(true) {
            panic!("{}", NESTED_BLOCK_ON);
        }
    });
    RuntimeGuard(())
}

/// True when blocking this thread on a runtime would deadlock.
pub(crate) fn is_in_runtime() -> bool {
    CONTEXT.try_with(|c| c.in_runtime.get()).unwrap_or(false)
}

impl Drop for RuntimeGuard {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|c| c.in_runtime.set(false));
    }
}

/// Marks the current thread as running `worker` until the guard drops.
pub(crate) struct WorkerGuard(());

pub(crate) fn enter_worker(worker: &WorkerRef) -> WorkerGuard {
    CONTEXT.with(|c| {
        debug_assert!(c.worker.get().is_null());
        c.worker.set(worker);
    });
    WorkerGuard(())
}

impl Drop for WorkerGuard {
    fn drop(&mut self) {
        let _ = CONTEXT.try_with(|c| c.worker.set(ptr::null()));
    }
}

//! `block_on`: drive one future to completion on the calling thread, parking
//! it between polls (asyncio's `run_until_complete`).
//!
//! The future runs on the caller's thread (so it need not be `Send`). While
//! it waits, the thread runs tasks from the runtime's global queue, one poll
//! at a time, and goes back to the future as soon as its waker has run
//! (`Builder::block_on_runs_tasks`): a task woken from here, such as a
//! server that was just sent a request, then runs without a worker being
//! woken, and its reply reaches the future without a thread hop. The call
//! registers itself with the runtime so the idle check (used by virtual
//! time) knows whether this thread is parked: its waker marks it active
//! *before* unparking it, and the thread stays active while it runs tasks.
//! Owns the caller-side loop and parking; which tasks it may take is the
//! scheduler's rule (`Shared::task_for_block_on`).

use crate::diag::timing::{EnterSlot, ThreadSlot};
use crate::local::{LocalSchedule, LocalSlot, OwnerKind};
use crate::park::{Parker, Unparker};
use crate::sched::{BlockOnState, SchedRef};
use crate::tasks::Notified;
use crate::{Handle, context, coop};
use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::time::Duration;

struct BlockOnWaker {
    unparker: Unparker,
    state: Arc<BlockOnState>,
}

impl Wake for BlockOnWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.state.notify();
        self.unparker.unpark();
    }
}

thread_local! {
    // One parker per thread, reused by every block_on on it.
    static CACHED: RefCell<Option<Parker>> = const { RefCell::new(None) };
}

/// Unregisters the call from the runtime's idle bookkeeping.
struct Registration<'a> {
    handle: &'a Handle,
    state: Arc<BlockOnState>,
}

impl Drop for Registration<'_> {
    fn drop(&mut self) {
        let shared = &self.handle.shared;
        {
            let mut list = shared.block_ons.lock();
            list.retain(|s| !Arc::ptr_eq(s, &self.state));
            // Keep this call's count in the runtime's, under the lock that
            // metrics read both under.
            shared
                .others_injector_takes
                .add_shared(self.state.injector_takes.get());
        }
        if let (Some(slot), Some(timing)) = (&self.state.slot, &shared.diag.timing) {
            timing.others.merge_shared(&slot.histogram);
        }
    }
}

/// A task the `block_on` thread runs while its future waits.
enum Task {
    Pinned(Notified<LocalSchedule>),
    Queued(Notified<SchedRef>),
}

const FATAL: &str = "a filch task panicked and nobody awaited its JoinHandle, and the \
     runtime is configured with `UnhandledPanic::ShutdownRuntime`, so it has shut down \
     (the report above says which task)";

/// The loop of one `block_on` call, generic over its parts so that the loom
/// model (`loom-tests/tests/executor_block_on.rs`) drives this very loop:
/// `poll` polls the future, `next_task` hands out a queued task to run (as a
/// closure), `on_idle` runs once the thread has said it is idle and before
/// it parks.
///
/// Between polls the thread runs tasks until the queue is empty or the
/// future has been woken; the check comes before each task, so a woken
/// future waits at most for the task poll in progress. A wake-up can come
/// at any point: during the poll or a task it makes `try_set_idle` fail (the
/// state is `NOTIFIED`, not `ACTIVE`), and after `try_set_idle` it unparks
/// the parker, whose protocol (park.rs) does not lose it.
pub fn drive<T, R: FnOnce()>(
    state: &BlockOnState,
    parker: &mut Parker,
    mut poll: impl FnMut() -> Poll<T>,
    mut next_task: impl FnMut() -> Option<R>,
    mut on_idle: impl FnMut(),
) -> T {
    loop {
        state.set_active();
        if let Poll::Ready(out) = poll() {
            return out;
        }
        let woken = loop {
            if state.is_notified() {
                break true;
            }
            match next_task() {
                Some(task) => task(),
                None => break false,
            }
        };
        if woken {
            // Drop the parker's token from that wake-up (if it has landed
            // yet) so that the next park really parks, and poll again.
            parker.park(Some(Duration::ZERO));
            continue;
        }
        // Say we are idle (unless a wake-up already came), then check whether
        // that made the whole runtime idle; the workers check the other way
        // round, so one of the two sees it.
        if state.try_set_idle() {
            on_idle();
            parker.park(None);
        }
    }
}

#[track_caller]
pub(crate) fn block_on<F: Future>(handle: &Handle, future: F) -> F::Output {
    let _runtime = context::enter_runtime();
    let _handle = context::enter_handle(handle.clone());
    let mut parker = CACHED
        .with(|c| c.borrow_mut().take())
        .unwrap_or_else(|| Parker::new(None));
    let shared = &handle.shared;
    let state = Arc::new(BlockOnState::new(
        parker.unparker(),
        shared.diag.timing.as_ref().map(|_| ThreadSlot::default()),
    ));
    shared.block_ons.lock().push(state.clone());
    let _slot = state
        .slot
        .as_ref()
        .map(|slot| EnterSlot::new(&shared.diag, slot));
    let registration = Registration {
        handle,
        state: state.clone(),
    };
    // `!Send` tasks spawned here (`spawn_local`) are pinned to this thread;
    // dropped before `registration`, so they are cancelled here when the
    // call returns.
    let pinned = LocalSlot::new(
        handle.clone(),
        OwnerKind::BlockOn(parker.unparker(), state.clone()),
    );
    let pinned_guard = pinned.enter();
    let waker = Waker::from(Arc::new(BlockOnWaker {
        unparker: parker.unparker(),
        state: state.clone(),
    }));

    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    let out = drive(
        &state,
        &mut parker,
        || {
            if shared.is_fatal() {
                panic!("{FATAL}");
            }
            coop::budget(|| future.as_mut().poll(&mut cx))
        },
        || {
            // This thread's own `!Send` tasks first: nobody else can run them.
            let task = match pinned.runner().and_then(|r| r.pop()) {
                Some(task) => Task::Pinned(task),
                None => {
                    let task = handle.shared.task_for_block_on()?;
                    state.injector_takes.inc();
                    Task::Queued(task)
                }
            };
            Some(move || {
                coop::budget(|| match task {
                    Task::Pinned(t) => t.run(),
                    Task::Queued(t) => t.run(),
                })
            })
        },
        || handle.shared.check_idle(),
    );
    drop(pinned_guard);
    drop(registration);
    // (If the future panics, the parker is simply not reused.)
    let _ = CACHED.try_with(|c| *c.borrow_mut() = Some(parker));
    out
}

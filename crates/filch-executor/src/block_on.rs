//! `block_on`: drive one future to completion on the calling thread, parking
//! it between polls (asyncio's `run_until_complete`).
//!
//! The future runs on the caller's thread (so it need not be `Send`); tasks
//! it spawns run on the workers. The call registers itself with the runtime
//! so the idle check (used by virtual time) knows whether this thread is
//! parked: its waker marks it active *before* unparking it. Owns only the
//! caller-side parking; it must not run tasks.

use crate::park::{Parker, Unparker};
use crate::sched::BlockOnState;
use crate::{Handle, context, coop};
use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

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
        self.handle
            .shared
            .block_ons
            .lock()
            .retain(|s| !Arc::ptr_eq(s, &self.state));
    }
}

#[track_caller]
pub(crate) fn block_on<F: Future>(handle: &Handle, future: F) -> F::Output {
    let _runtime = context::enter_runtime();
    let _handle = context::enter_handle(handle.clone());
    let mut parker = CACHED
        .with(|c| c.borrow_mut().take())
        .unwrap_or_else(|| Parker::new(None));
    let state = Arc::new(BlockOnState::default());
    handle.shared.block_ons.lock().push(state.clone());
    let registration = Registration {
        handle,
        state: state.clone(),
    };
    let waker = Waker::from(Arc::new(BlockOnWaker {
        unparker: parker.unparker(),
        state: state.clone(),
    }));

    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    let out = loop {
        state.set_active();
        if let Poll::Ready(out) = coop::budget(|| future.as_mut().poll(&mut cx)) {
            break out;
        }
        // Say we are idle (unless a wake-up already came), then check whether
        // that made the whole runtime idle; the workers check the other way
        // round, so one of the two sees it.
        if state.try_set_idle() {
            handle.shared.check_idle();
            parker.park(None);
        }
    };
    drop(registration);
    // (If the future panics, the parker is simply not reused.)
    let _ = CACHED.try_with(|c| *c.borrow_mut() = Some(parker));
    out
}

//! `block_on`: drive one future to completion on the calling thread, parking
//! it between polls (asyncio's `run_until_complete`).
//!
//! The future runs on the caller's thread (so it need not be `Send`); tasks
//! it spawns run on the workers. Owns only the caller-side parking; it must
//! not run tasks.

use crate::loom::atomic::AtomicUsize;
use crate::park::{Parker, Unparker};
use crate::{Handle, context, coop};
use std::cell::RefCell;
use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::sync::atomic::Ordering::SeqCst;
use std::task::{Context, Poll, Wake, Waker};

struct ThreadWaker(Unparker);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Counts this thread as an active `block_on` for as long as it lives.
struct Active<'a>(&'a AtomicUsize);

impl<'a> Active<'a> {
    fn enter(counter: &'a AtomicUsize) -> Active<'a> {
        counter.fetch_add(1, SeqCst);
        Active(counter)
    }
}

impl Drop for Active<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, SeqCst);
    }
}

thread_local! {
    // One parker and waker per thread, reused by every block_on on it.
    static CACHED: RefCell<Option<(Parker, Waker)>> = const { RefCell::new(None) };
}

#[track_caller]
pub(crate) fn block_on<F: Future>(handle: &Handle, future: F) -> F::Output {
    let _runtime = context::enter_runtime();
    let _handle = context::enter_handle(handle.clone());
    let (mut parker, waker) = CACHED.with(|c| c.borrow_mut().take()).unwrap_or_else(|| {
        let parker = Parker::new(None);
        let waker = Waker::from(Arc::new(ThreadWaker(parker.unparker())));
        (parker, waker)
    });

    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    let shared = &handle.shared;
    let _active = Active::enter(&shared.block_on_active);
    let out = loop {
        if let Poll::Ready(out) = coop::budget(|| future.as_mut().poll(&mut cx)) {
            break out;
        }
        // Parked block_on threads do not count as activity (virtual time
        // may advance while they wait).
        shared.block_on_active.fetch_sub(1, SeqCst);
        shared.check_idle();
        parker.park(None);
        shared.block_on_active.fetch_add(1, SeqCst);
    };
    // (If the future panics, the pair is simply not reused.)
    let _ = CACHED.try_with(|c| *c.borrow_mut() = Some((parker, waker)));
    out
}

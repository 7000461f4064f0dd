//! Waits for one of this crate's futures from a thread that is not running
//! async code (`blocking_lock`, `blocking_recv`, `blocking_send`).
//!
//! Owns a minimal park/unpark `block_on`; it must not be used from inside a
//! runtime, where parking the thread would stall every task queued on it:
//! it panics there instead, with a message that says what to do.

use std::future::Future;
use std::pin::pin;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};
use std::thread::{self, Thread};

struct ThreadWaker(Thread);

impl Wake for ThreadWaker {
    fn wake(self: Arc<Self>) {
        self.0.unpark();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.0.unpark();
    }
}

/// Parks the current thread until `future` completes.
///
/// # Panics
/// On a thread that is inside a filch runtime (a worker, a `block_on`, or
/// under `Handle::enter`).
#[track_caller]
pub(crate) fn block_on<F: Future>(what: &str, future: F) -> F::Output {
    if filch_executor::Handle::try_current().is_some() {
        panic!(
            "`{what}` blocks the thread, which would stall the runtime it was called from: \
             use the async version (`.await`) inside the runtime, or call it from \
             `spawn_blocking` or a plain thread"
        );
    }
    let waker = Waker::from(Arc::new(ThreadWaker(thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = pin!(future);
    loop {
        if let Poll::Ready(out) = future.as_mut().poll(&mut cx) {
            return out;
        }
        thread::park();
    }
}

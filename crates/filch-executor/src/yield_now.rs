//! `yield_now`: give the worker to the other queued tasks once (asyncio's
//! `await asyncio.sleep(0)`). Owns only the future; requeueing a task that
//! woke itself behind the others is the scheduler's rule.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Yields once: the task goes to the back of its worker's queue and the
/// other ready tasks run first.
///
/// ```
/// let rt = filch_executor::Executor::new().unwrap();
/// rt.block_on(async {
///     for _ in 0..3 {
///         filch_executor::yield_now().await;
///     }
/// });
/// ```
pub fn yield_now() -> YieldNow {
    YieldNow { yielded: false }
}

/// The future returned by [`yield_now`].
#[derive(Debug)]
#[must_use = "futures do nothing unless awaited"]
pub struct YieldNow {
    yielded: bool,
}

impl Future for YieldNow {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

//! `yield_now`: give the worker to the other queued tasks once (asyncio's
//! `await asyncio.sleep(0)`). Owns only the future; requeueing a task that
//! woke itself behind the others is the scheduler's rule.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Yields once: every other task that is ready runs before this one
/// resumes (it resumes at the worker's next maintenance tick at the latest).
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

    #[inline]
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.yielded {
            return Poll::Ready(());
        }
        self.yielded = true;
        // On a worker, the wake-up waits until the worker has run what else
        // is ready (or its next maintenance): yielding is the lowest
        // priority. Elsewhere (a block_on thread), wake at once.
        let deferred = crate::context::with_worker(|w| match w {
            Some(w) => {
                w.defer(cx.waker());
                true
            }
            None => false,
        });
        if !deferred {
            cx.waker().wake_by_ref();
        }
        Poll::Pending
    }
}

//! `timeout` and `timeout_at`: bound how long a future may take
//! (asyncio's `wait_for`). Owns the race between the future and its
//! deadline; the deadline is a `Sleep`, which registers nothing when the
//! future is ready at its first poll.

use crate::instant::Instant;
use crate::sleep::{Sleep, sleep, sleep_until};
use pin_project_lite::pin_project;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

/// The deadline passed before the future completed.
///
/// ```
/// # let rt = filch_timer::test_runtime(1, true);
/// # rt.block_on(async {
/// use std::time::Duration;
/// let err = filch_timer::timeout(Duration::from_millis(1), std::future::pending::<()>())
///     .await
///     .unwrap_err();
/// assert_eq!(err.to_string(), "deadline has elapsed");
/// # });
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Elapsed(());

impl fmt::Display for Elapsed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("deadline has elapsed")
    }
}

impl std::error::Error for Elapsed {}

impl From<Elapsed> for std::io::Error {
    fn from(_: Elapsed) -> std::io::Error {
        std::io::ErrorKind::TimedOut.into()
    }
}

pin_project! {
    /// A future with a deadline; see [`timeout`].
    ///
    /// It is as cancel-safe as the future inside it.
    ///
    /// ```
    /// # let rt = filch_timer::test_runtime(1, false);
    /// # rt.block_on(async {
    /// let t = filch_timer::timeout(std::time::Duration::from_secs(1), async { 7 });
    /// assert_eq!(t.await, Ok(7));
    /// # });
    /// ```
    #[must_use = "futures do nothing unless awaited"]
    pub struct Timeout<F> {
        #[pin]
        value: F,
        #[pin]
        delay: Sleep,
    }
}

/// Runs `future` for at most `duration` (asyncio's `wait_for`): its output,
/// or `Err(Elapsed)` — in which case the future has been dropped when the
/// `Timeout` is (the future is not polled again after the deadline).
///
/// As with asyncio's `wait_for`, the duration starts when the timeout is
/// first awaited; a future that is ready at once never touches the clock or
/// a timer wheel.
///
/// ```
/// # let rt = filch_timer::test_runtime(1, true);
/// # rt.block_on(async {
/// use std::time::Duration;
/// async fn long_running_task() -> &'static str {
///     filch_timer::sleep(Duration::from_secs(5)).await;
///     "Completed!"
/// }
/// match filch_timer::timeout(Duration::from_secs(2), long_running_task()).await {
///     Ok(result) => println!("{result}"),
///     Err(_) => println!("Task took too long!"),
/// }
/// # });
/// ```
pub fn timeout<F: Future>(duration: Duration, future: F) -> Timeout<F> {
    Timeout {
        value: future,
        delay: sleep(duration),
    }
}

/// Runs `future` until `deadline` at most.
///
/// ```
/// # let rt = filch_timer::test_runtime(1, true);
/// # rt.block_on(async {
/// let deadline = filch_timer::Instant::now();
/// let r = filch_timer::timeout_at(deadline, std::future::pending::<()>()).await;
/// assert!(r.is_err());
/// # });
/// ```
pub fn timeout_at<F: Future>(deadline: Instant, future: F) -> Timeout<F> {
    Timeout {
        value: future,
        delay: sleep_until(deadline),
    }
}

impl<F> Timeout<F> {
    /// The future inside.
    ///
    /// ```
    /// let t = filch_timer::timeout(std::time::Duration::from_secs(1), async { 1 });
    /// let _inner: &_ = t.get_ref();
    /// ```
    pub fn get_ref(&self) -> &F {
        &self.value
    }

    /// The future inside, mutably.
    ///
    /// ```
    /// let mut t = filch_timer::timeout(std::time::Duration::from_secs(1), async { 1 });
    /// let _inner: &mut _ = t.get_mut();
    /// ```
    pub fn get_mut(&mut self) -> &mut F {
        &mut self.value
    }

    /// Takes the future out, dropping the deadline.
    ///
    /// ```
    /// let t = filch_timer::timeout(std::time::Duration::from_secs(1), async { 1 });
    /// let _inner = t.into_inner();
    /// ```
    pub fn into_inner(self) -> F {
        self.value
    }

    /// The deadline.
    ///
    /// ```
    /// let d = filch_timer::Instant::now() + std::time::Duration::from_secs(1);
    /// assert_eq!(filch_timer::timeout_at(d, async {}).deadline(), d);
    /// ```
    pub fn deadline(&self) -> Instant {
        self.delay.deadline()
    }
}

impl<F: Future> Future for Timeout<F> {
    type Output = Result<F::Output, Elapsed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let this = self.project();
        if let Poll::Ready(v) = this.value.poll(cx) {
            return Poll::Ready(Ok(v));
        }
        match this.delay.poll(cx) {
            Poll::Ready(()) => Poll::Ready(Err(Elapsed(()))),
            Poll::Pending => Poll::Pending,
        }
    }
}

impl<F: fmt::Debug> fmt::Debug for Timeout<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Timeout")
            .field("value", &self.value)
            .field("deadline", &self.delay.deadline())
            .finish()
    }
}

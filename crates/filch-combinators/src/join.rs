//! Waiting for every future: `join!` and `join_all` (asyncio's `gather`), and
//! their short-circuiting forms `try_join!` and `try_join_all` (`gather`
//! without `return_exceptions`).
//!
//! The macros run a fixed, small set of futures of different types pinned on
//! the caller's stack and poll each unfinished one on every wake, starting
//! from a rotating position so that none is starved of the coop budget.
//! `join_all` and `try_join_all` take any number of futures of one type and
//! poll only the children that were woken (`ready.rs`). This module owns
//! output order and short-circuiting; it must not spawn tasks.

use crate::ready::ReadySet;
use crate::slots::Slots;
use futures_core::future::FusedFuture;
use pin_project_lite::pin_project;
use std::convert::Infallible;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Waits for every future and returns their outputs as a tuple, in argument
/// order (asyncio's `await gather(a, b)`).
///
/// The futures run concurrently on the calling task (use `filch::spawn` for
/// parallelism across workers); each may be any `IntoFuture` and need not be
/// `Unpin`: they are pinned on the stack. `join!()` is `()`. Usable only
/// inside `async` code.
///
/// Cancel-safety: dropping the enclosing future drops every unfinished
/// future, losing the outputs of those that finished.
///
/// ```
/// # let rt = filch_timer::test_runtime(2, true);
/// # rt.block_on(async {
/// use std::time::Duration;
/// async fn say_after(delay: u64, what: &str) -> &str {
///     filch_timer::sleep(Duration::from_secs(delay)).await;
///     what
/// }
/// let start = filch_timer::Instant::now();
/// let (a, b) = filch_combinators::join!(say_after(2, "hello"), say_after(1, "world"));
/// assert_eq!((a, b), ("hello", "world"));
/// assert_eq!(start.elapsed(), Duration::from_secs(2)); // concurrent, not 3 s
/// # });
/// ```
#[macro_export]
macro_rules! join {
    () => {
        ()
    };
    ($($future:expr),+ $(,)?) => {
        // `try_join!` over futures that cannot fail.
        match $crate::__private::try_join_impl!(@acc [] $($crate::__private::NeverFails::new($future),)+) {
            $crate::__private::Ok(outputs) => outputs,
            $crate::__private::Err(never) => match never {},
        }
    };
}

/// Waits for every future of `Result`s and returns their `Ok` values as a
/// tuple, or the first `Err` as soon as one fails (asyncio's `gather`
/// without `return_exceptions`).
///
/// All futures must have the same error type. On the first `Err` the other
/// futures are dropped before the macro returns. `try_join!()` is `Ok(())`.
///
/// Cancel-safety: as [`join!`], dropping the enclosing future drops every
/// unfinished future.
///
/// ```
/// # let rt = filch_timer::test_runtime(2, true);
/// # rt.block_on(async {
/// async fn parse(s: &str) -> Result<u32, std::num::ParseIntError> {
///     s.parse()
/// }
/// assert_eq!(filch_combinators::try_join!(parse("1"), parse("2")), Ok((1, 2)));
/// assert!(filch_combinators::try_join!(parse("1"), parse("x")).is_err());
/// # });
/// ```
#[macro_export]
macro_rules! try_join {
    () => {
        $crate::__private::Ok(())
    };
    ($($future:expr),+ $(,)?) => {
        $crate::__private::try_join_impl!(@acc [] $($future,)+)
    };
}

/// `try_join!`'s (and `join!`'s) expansion. Each recursion step introduces
/// its own `fut`, which macro hygiene keeps distinct from every other step's.
#[doc(hidden)]
#[macro_export]
macro_rules! __try_join_impl {
    (@acc [$($acc:tt)*] $e:expr, $($rest:tt)*) => {
        $crate::__private::try_join_impl!(@acc [$($acc)* (fut $e)] $($rest)*)
    };
    (@acc [$(($fut:ident $e:expr))*]) => {{
        $(let mut $fut = $crate::__private::pin!($crate::__private::MaybeDone::new($e));)*
        let mut start = 0usize;
        match $crate::__private::poll_fn(|cx| {
            $crate::__private::join_step(
                &mut [$($crate::__private::erase($fut.as_mut()),)*],
                &mut start,
                cx,
            )
        })
        .await
        {
            $crate::__private::Ok(()) => {
                $crate::__private::Ok(($($fut.as_mut().take_output(),)*))
            }
            $crate::__private::Err(error) => $crate::__private::Err(error),
        }
    }};
}

pin_project! {
    /// `join!`'s view of a future: its output, as an `Ok` that never fails.
    #[doc(hidden)]
    pub struct NeverFails<F> {
        #[pin]
        future: F,
    }
}

impl<F: Future> NeverFails<F> {
    #[doc(hidden)]
    pub fn new(future: impl IntoFuture<IntoFuture = F>) -> Self {
        NeverFails {
            future: future.into_future(),
        }
    }
}

impl<F: Future> Future for NeverFails<F> {
    type Output = Result<F::Output, Infallible>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        self.project().future.poll(cx).map(Ok)
    }
}

pin_project! {
    /// A future of a `Result` and, once it completes with `Ok`, the value.
    #[doc(hidden)]
    #[project = MaybeDoneProj]
    #[project_replace = MaybeDoneReplace]
    pub enum MaybeDone<F, T> {
        Pending { #[pin] future: F },
        Done { output: T },
        Taken,
    }
}

impl<F: Future<Output = Result<T, E>>, T, E> MaybeDone<F, T> {
    #[doc(hidden)]
    pub fn new(future: impl IntoFuture<IntoFuture = F>) -> Self {
        MaybeDone::Pending {
            future: future.into_future(),
        }
    }

    #[doc(hidden)]
    pub fn take_output(self: Pin<&mut Self>) -> T {
        match self.project_replace(MaybeDone::Taken) {
            MaybeDoneReplace::Done { output } => output,
            _ => unreachable!("join!: output taken before the future completed"),
        }
    }
}

/// One future of a `join!` or `try_join!`, its `Ok` type erased so that
/// futures of different types can be polled in one loop.
#[doc(hidden)]
pub trait PollJoin<E> {
    /// Polls the future if it has not completed: `Ready(Ok(()))` once it has
    /// completed with `Ok`, `Ready(Err(e))` when it fails.
    fn poll_join(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), E>>;
}

impl<F: Future<Output = Result<T, E>>, T, E> PollJoin<E> for MaybeDone<F, T> {
    fn poll_join(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        let output = match self.as_mut().project() {
            MaybeDoneProj::Pending { future } => match future.poll(cx) {
                Poll::Ready(Ok(output)) => output,
                Poll::Ready(Err(error)) => {
                    self.set(MaybeDone::Taken);
                    return Poll::Ready(Err(error));
                }
                Poll::Pending => return Poll::Pending,
            },
            MaybeDoneProj::Done { .. } | MaybeDoneProj::Taken => {
                return Poll::Ready(Ok(()));
            }
        };
        self.set(MaybeDone::Done { output });
        Poll::Ready(Ok(()))
    }
}

#[doc(hidden)]
pub fn erase<'a, E, D: PollJoin<E> + 'a>(d: Pin<&'a mut D>) -> Pin<&'a mut (dyn PollJoin<E> + 'a)> {
    d
}

/// One poll of a `join!`/`try_join!`: polls every unfinished future once,
/// from a start position that moves by one each poll (so that none is
/// starved of the coop budget); ready when all are done or one failed.
#[doc(hidden)]
pub fn join_step<E>(
    futures: &mut [Pin<&mut dyn PollJoin<E>>],
    start: &mut usize,
    cx: &mut Context<'_>,
) -> Poll<Result<(), E>> {
    let n = futures.len();
    let mut all_done = true;
    let mut k = *start;
    for _ in 0..n {
        match futures[k].as_mut().poll_join(cx) {
            Poll::Ready(Ok(())) => {}
            Poll::Ready(Err(error)) => return Poll::Ready(Err(error)),
            Poll::Pending => all_done = false,
        }
        k += 1;
        if k == n {
            k = 0;
        }
    }
    *start = if *start + 1 == n { 0 } else { *start + 1 };
    if all_done {
        Poll::Ready(Ok(()))
    } else {
        Poll::Pending
    }
}

/// Waits for every future of an iterator and returns their outputs in input
/// order (asyncio's `await gather(*aws)`).
///
/// The futures run concurrently on the calling task. Each child has its own
/// waker, and a poll of the `JoinAll` polls only the children woken since
/// the previous one, so joining 10,000 futures costs O(woken) per wake-up,
/// not O(10,000). The futures live side by side in one allocation (plus one
/// small waker allocation each); an empty iterator gives `vec![]` at once.
///
/// Join handles are futures too: `join_all(handles)` waits for spawned tasks
/// and gives each one's `Result<T, JoinError>`.
///
/// Cancel-safety: dropping the `JoinAll` drops every unfinished future and
/// the outputs of the finished ones.
///
/// ```
/// # let rt = filch_timer::test_runtime(2, true);
/// # rt.block_on(async {
/// use std::time::Duration;
/// let delays = [3, 1, 2];
/// let out = filch_combinators::join_all(delays.map(|s| async move {
///     filch_timer::sleep(Duration::from_secs(s)).await;
///     s * 10
/// }))
/// .await;
/// assert_eq!(out, [30, 10, 20]); // input order, not completion order
/// # });
/// ```
pub fn join_all<I>(futures: I) -> JoinAll<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator,
    I::Item: IntoFuture,
{
    JoinAll {
        inner: try_join_all(futures.into_iter().map(NeverFails::new)),
    }
}

pub(crate) fn ready_set(n: usize) -> ReadySet {
    let mut set = ReadySet::with_capacity(n);
    for _ in 0..n {
        set.push();
    }
    set
}

/// The future of [`join_all`]: resolves to every output, in input order.
///
/// It is `Unpin` whatever the futures are.
///
/// ```
/// # let rt = filch_timer::test_runtime(1, true);
/// # rt.block_on(async {
/// let join: filch_combinators::JoinAll<_> =
///     filch_combinators::join_all((0..3).map(|i| async move { i }));
/// assert_eq!(join.await, [0, 1, 2]);
/// # });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct JoinAll<F: Future> {
    /// `try_join_all` over futures that cannot fail.
    inner: TryJoinAll<NeverFails<F>, F::Output>,
}

impl<F: Future> Future for JoinAll<F> {
    type Output = Vec<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<F::Output>> {
        match std::task::ready!(Pin::new(&mut self.get_mut().inner).poll(cx)) {
            Ok(outputs) => Poll::Ready(outputs),
            Err(never) => match never {},
        }
    }
}

impl<F: Future> FusedFuture for JoinAll<F> {
    fn is_terminated(&self) -> bool {
        self.inner.finished
    }
}

impl<F: Future> fmt::Debug for JoinAll<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinAll")
            .field("len", &self.inner.outputs.len())
            .field("remaining", &self.inner.remaining)
            .finish()
    }
}

/// Waits for every future of `Result`s and returns their `Ok` values in
/// input order, or the first `Err` as soon as one fails (asyncio's `gather`
/// without `return_exceptions`).
///
/// On the first `Err` every other future is dropped before the error is
/// returned. Polls only woken children, like [`join_all`].
///
/// Cancel-safety: dropping the `TryJoinAll` drops every unfinished future.
///
/// ```
/// # let rt = filch_timer::test_runtime(1, true);
/// # rt.block_on(async {
/// let ok = filch_combinators::try_join_all(["1", "2"].map(|s| async move { s.parse::<u8>() }));
/// assert_eq!(ok.await, Ok(vec![1, 2]));
/// let err = filch_combinators::try_join_all(["1", "x"].map(|s| async move { s.parse::<u8>() }));
/// assert!(err.await.is_err());
/// # });
/// ```
pub fn try_join_all<I, T, E>(futures: I) -> TryJoinAll<<I::Item as IntoFuture>::IntoFuture, T>
where
    I: IntoIterator,
    I::Item: IntoFuture<Output = Result<T, E>>,
{
    let slots = Slots::new(futures);
    let n = slots.len();
    TryJoinAll {
        outputs: (0..n).map(|_| None).collect(),
        set: ready_set(n),
        remaining: n,
        slots,
        finished: false,
    }
}

/// The future of [`try_join_all`].
///
/// It is `Unpin` whatever the futures are.
///
/// ```
/// # let rt = filch_timer::test_runtime(1, true);
/// # rt.block_on(async {
/// let all: filch_combinators::TryJoinAll<_, u8> =
///     filch_combinators::try_join_all([async { Ok::<u8, ()>(1) }]);
/// assert_eq!(all.await, Ok(vec![1]));
/// # });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct TryJoinAll<F, T> {
    slots: Slots<F>,
    outputs: Vec<Option<T>>,
    set: ReadySet,
    remaining: usize,
    finished: bool,
}

// The outputs are never pinned (only the futures are, inside `Slots`).
impl<F, T> Unpin for TryJoinAll<F, T> {}

impl<F, T, E> Future for TryJoinAll<F, T>
where
    F: Future<Output = Result<T, E>>,
{
    type Output = Result<Vec<T>, E>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<Vec<T>, E>> {
        let this = self.get_mut();
        assert!(
            !this.finished,
            "join_all/try_join_all polled after completion"
        );
        let TryJoinAll {
            slots,
            outputs,
            set,
            remaining,
            ..
        } = this;
        if *remaining > 0 {
            let flow = set.poll_round(cx, |i, cx| {
                match slots.poll(i, cx) {
                    Poll::Ready(Some(Ok(output))) => {
                        outputs[i] = Some(output);
                        *remaining -= 1;
                        if *remaining == 0 {
                            return ControlFlow::Break(None);
                        }
                    }
                    Poll::Ready(Some(Err(error))) => return ControlFlow::Break(Some(error)),
                    Poll::Ready(None) | Poll::Pending => {}
                }
                ControlFlow::Continue(())
            });
            if let ControlFlow::Break(Some(error)) = flow {
                this.finished = true;
                this.slots.clear();
                this.outputs = Vec::new();
                return Poll::Ready(Err(error));
            }
            if *remaining > 0 {
                return Poll::Pending;
            }
        }
        this.finished = true;
        let outputs = std::mem::take(&mut this.outputs);
        Poll::Ready(Ok(outputs
            .into_iter()
            .map(|o| o.expect("every child completed"))
            .collect()))
    }
}

impl<F, T, E> FusedFuture for TryJoinAll<F, T>
where
    F: Future<Output = Result<T, E>>,
{
    fn is_terminated(&self) -> bool {
        self.finished
    }
}

impl<F, T> fmt::Debug for TryJoinAll<F, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TryJoinAll")
            .field("len", &self.outputs.len())
            .field("remaining", &self.remaining)
            .finish()
    }
}

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
        $crate::__private::join_impl!(@acc [] $($future,)+)
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

/// `join!`'s expansion. Each recursion step introduces its own `fut`, which
/// macro hygiene keeps distinct from every other step's.
#[doc(hidden)]
#[macro_export]
macro_rules! __join_impl {
    (@acc [$($acc:tt)*] $e:expr, $($rest:tt)*) => {
        $crate::__private::join_impl!(@acc [$($acc)* (fut $e)] $($rest)*)
    };
    (@acc [$(($fut:ident $e:expr))*]) => {{
        $(let mut $fut = $crate::__private::pin!($crate::__private::MaybeDone::new($e));)*
        let mut start = 0usize;
        $crate::__private::poll_fn(|cx| {
            $crate::__private::join_step(
                &mut [$($crate::__private::erase_done($fut.as_mut()),)*],
                &mut start,
                cx,
            )
        })
        .await;
        ($($fut.as_mut().take_output(),)*)
    }};
}

/// `try_join!`'s expansion; see `__join_impl`.
#[doc(hidden)]
#[macro_export]
macro_rules! __try_join_impl {
    (@acc [$($acc:tt)*] $e:expr, $($rest:tt)*) => {
        $crate::__private::try_join_impl!(@acc [$($acc)* (fut $e)] $($rest)*)
    };
    (@acc [$(($fut:ident $e:expr))*]) => {{
        $(let mut $fut = $crate::__private::pin!($crate::__private::TryMaybeDone::new($e));)*
        let mut start = 0usize;
        match $crate::__private::poll_fn(|cx| {
            $crate::__private::try_join_step(
                &mut [$($crate::__private::erase_try($fut.as_mut()),)*],
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
    /// A future and, once it completes, its output (for `join!`).
    #[doc(hidden)]
    #[project = MaybeDoneProj]
    #[project_replace = MaybeDoneReplace]
    pub enum MaybeDone<F, T> {
        Pending { #[pin] future: F },
        Done { output: T },
        Taken,
    }
}

impl<F: Future<Output = T>, T> MaybeDone<F, T> {
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

/// One future of a `join!`, with its output type erased so that futures of
/// different types can be polled in one loop.
#[doc(hidden)]
pub trait PollDone {
    /// Polls the future if it has not completed; true once it has.
    fn poll_done(self: Pin<&mut Self>, cx: &mut Context<'_>) -> bool;
}

impl<F: Future<Output = T>, T> PollDone for MaybeDone<F, T> {
    fn poll_done(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> bool {
        let output = match self.as_mut().project() {
            MaybeDoneProj::Pending { future } => match future.poll(cx) {
                Poll::Ready(output) => output,
                Poll::Pending => return false,
            },
            MaybeDoneProj::Done { .. } | MaybeDoneProj::Taken => return true,
        };
        self.set(MaybeDone::Done { output });
        true
    }
}

#[doc(hidden)]
pub fn erase_done<'a, D: PollDone + 'a>(d: Pin<&'a mut D>) -> Pin<&'a mut (dyn PollDone + 'a)> {
    d
}

/// Polls every unfinished future once, from a start position that moves by
/// one each poll; ready when all are done.
#[doc(hidden)]
pub fn join_step(
    futures: &mut [Pin<&mut dyn PollDone>],
    start: &mut usize,
    cx: &mut Context<'_>,
) -> Poll<()> {
    let n = futures.len();
    let mut all_done = true;
    let mut k = *start;
    for _ in 0..n {
        all_done &= futures[k].as_mut().poll_done(cx);
        k += 1;
        if k == n {
            k = 0;
        }
    }
    *start = if *start + 1 == n { 0 } else { *start + 1 };
    if all_done {
        Poll::Ready(())
    } else {
        Poll::Pending
    }
}

pin_project! {
    /// A future of a `Result` and, once it completes with `Ok`, the value
    /// (for `try_join!`).
    #[doc(hidden)]
    #[project = TryMaybeDoneProj]
    #[project_replace = TryMaybeDoneReplace]
    pub enum TryMaybeDone<F, T> {
        Pending { #[pin] future: F },
        Done { output: T },
        Taken,
    }
}

impl<F: Future<Output = Result<T, E>>, T, E> TryMaybeDone<F, T> {
    #[doc(hidden)]
    pub fn new(future: impl IntoFuture<IntoFuture = F>) -> Self {
        TryMaybeDone::Pending {
            future: future.into_future(),
        }
    }

    #[doc(hidden)]
    pub fn take_output(self: Pin<&mut Self>) -> T {
        match self.project_replace(TryMaybeDone::Taken) {
            TryMaybeDoneReplace::Done { output } => output,
            _ => unreachable!("try_join!: output taken before the future completed"),
        }
    }
}

/// One future of a `try_join!`, its `Ok` type erased.
#[doc(hidden)]
pub trait PollTry<E> {
    /// Polls the future if it has not completed: `Ready(Ok(()))` once it has
    /// completed with `Ok`, `Ready(Err(e))` when it fails.
    fn poll_try(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), E>>;
}

impl<F: Future<Output = Result<T, E>>, T, E> PollTry<E> for TryMaybeDone<F, T> {
    fn poll_try(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Result<(), E>> {
        let output = match self.as_mut().project() {
            TryMaybeDoneProj::Pending { future } => match future.poll(cx) {
                Poll::Ready(Ok(output)) => output,
                Poll::Ready(Err(error)) => {
                    self.set(TryMaybeDone::Taken);
                    return Poll::Ready(Err(error));
                }
                Poll::Pending => return Poll::Pending,
            },
            TryMaybeDoneProj::Done { .. } | TryMaybeDoneProj::Taken => {
                return Poll::Ready(Ok(()));
            }
        };
        self.set(TryMaybeDone::Done { output });
        Poll::Ready(Ok(()))
    }
}

#[doc(hidden)]
pub fn erase_try<'a, E, D: PollTry<E> + 'a>(
    d: Pin<&'a mut D>,
) -> Pin<&'a mut (dyn PollTry<E> + 'a)> {
    d
}

/// `join_step` for `try_join!`: stops at the first error.
#[doc(hidden)]
pub fn try_join_step<E>(
    futures: &mut [Pin<&mut dyn PollTry<E>>],
    start: &mut usize,
    cx: &mut Context<'_>,
) -> Poll<Result<(), E>> {
    let n = futures.len();
    let mut all_done = true;
    let mut k = *start;
    for _ in 0..n {
        match futures[k].as_mut().poll_try(cx) {
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
    let slots = Slots::new(futures);
    let n = slots.len();
    JoinAll {
        outputs: (0..n).map(|_| None).collect(),
        set: ready_set(n),
        remaining: n,
        slots,
        finished: false,
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
    slots: Slots<F>,
    outputs: Vec<Option<F::Output>>,
    set: ReadySet,
    remaining: usize,
    finished: bool,
}

// The outputs are never pinned (only the futures are, inside `Slots`).
impl<F: Future> Unpin for JoinAll<F> {}

impl<F: Future> Future for JoinAll<F> {
    type Output = Vec<F::Output>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Vec<F::Output>> {
        let this = self.get_mut();
        assert!(!this.finished, "JoinAll polled after completion");
        let JoinAll {
            slots,
            outputs,
            set,
            remaining,
            ..
        } = this;
        if *remaining > 0 {
            let _ = set.poll_round(cx, |i, cx| {
                if let Poll::Ready(Some(output)) = slots.poll(i, cx) {
                    outputs[i] = Some(output);
                    *remaining -= 1;
                    if *remaining == 0 {
                        return ControlFlow::Break(());
                    }
                }
                ControlFlow::Continue(())
            });
            if *remaining > 0 {
                return Poll::Pending;
            }
        }
        this.finished = true;
        let outputs = std::mem::take(&mut this.outputs);
        Poll::Ready(
            outputs
                .into_iter()
                .map(|o| o.expect("every child completed"))
                .collect(),
        )
    }
}

impl<F: Future> FusedFuture for JoinAll<F> {
    fn is_terminated(&self) -> bool {
        self.finished
    }
}

impl<F: Future> fmt::Debug for JoinAll<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("JoinAll")
            .field("len", &self.outputs.len())
            .field("remaining", &self.remaining)
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
        assert!(!this.finished, "TryJoinAll polled after completion");
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

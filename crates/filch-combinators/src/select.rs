//! The first future to finish wins: `select!` (futures of different types,
//! each with its own pattern and handler) and `race` (futures of one type,
//! any number of them).
//!
//! `select!` is a declarative macro: it splits each branch into its parts
//! (the pattern stays raw tokens, see `__select_clean_pattern`), pins the
//! futures on the stack, and polls them through `select_step`, which owns
//! the start order (random per poll, or in order with `biased;`) and the
//! disabling of branches whose output does not match. The handler runs after
//! the losing futures have been dropped, outside any closure, so it can
//! `.await`, `return`, `break`, `continue` and use `?`. `race` drives its
//! futures through the ready queue (`ready.rs`). This module must not spawn
//! tasks.

use crate::join::ready_set;
use crate::ready::ReadySet;
use crate::slots::Slots;
use futures_core::future::FusedFuture;
use std::fmt;
use std::future::{Future, IntoFuture};
use std::ops::ControlFlow;
use std::pin::Pin;
use std::task::{Context, Poll};

/// Waits on several futures at once and runs the handler of the first one
/// to finish; the others are dropped before the handler runs.
///
/// ```text
/// filch::select! {
///     biased;                                  // optional: poll in order
///     <pattern> = <future> => <handler>,
///     <pattern> = <future>, if <condition> => <handler>,
///     else => <handler>,                       // optional
/// }
/// ```
///
/// 1. Every `if` condition is evaluated, then every future expression, in
///    order (a branch whose condition is false is *disabled*: its future is
///    created but never polled).
/// 2. The enabled futures are polled, starting from a random branch at each
///    poll (so that one always-ready branch cannot starve the others), or in
///    order with `biased;`.
/// 3. When a future completes, its output is matched against the branch's
///    pattern. If it matches, every future is dropped and the handler runs
///    with the pattern's bindings; its value is the value of `select!`. If
///    not, the branch is disabled and the others go on.
/// 4. If every branch is disabled, the `else` handler runs (without an
///    `else` branch, `select!` panics: nothing could ever complete).
///
/// The futures may be any `IntoFuture` and need not be `Unpin` (they are
/// pinned on the stack); to keep one across `select!`s in a loop, pin it
/// before the loop and use `&mut fut`. Usable only inside `async` code; up
/// to 50 branches (more exceed the compiler's default macro recursion
/// limit).
///
/// Handlers are block or expression; a block handler needs no comma. A
/// pattern may bind by value, `mut` or `ref` (`Some(mut v) = ..`). Only
/// reference patterns below a non-reference pattern (`Some(&x)` on an
/// `Option<&T>`) are not supported: bind the reference instead.
///
/// Cancel-safety: `select!` is as cancel-safe as its branches' futures: the
/// losers are dropped, so a loser that may lose data when dropped mid-way
/// loses it.
///
/// ```
/// # let rt = filch_timer::test_runtime(2, true);
/// # rt.block_on(async {
/// use std::time::Duration;
/// let mut ticks = 0;
/// let mut deadline = std::pin::pin!(filch_timer::sleep(Duration::from_millis(5500)));
/// loop {
///     filch_combinators::select! {
///         _ = &mut deadline => break,
///         _ = filch_timer::sleep(Duration::from_secs(1)) => ticks += 1,
///     }
/// }
/// assert_eq!(ticks, 5);
/// # });
/// ```
///
/// Patterns that do not match disable their branch:
///
/// ```
/// # let rt = filch_timer::test_runtime(1, true);
/// # rt.block_on(async {
/// let out = filch_combinators::select! {
///     Some(x) = async { None::<u32> } => x,
///     Some(y) = async { Some(7) } => y * 2,
///     else => 0,
/// };
/// assert_eq!(out, 14);
/// # });
/// ```
#[macro_export]
macro_rules! select {
    ($($tokens:tt)*) => {
        $crate::__private::select_parse!(@start $($tokens)*)
    };
}

/// `select!`'s parser: a tt-muncher that collects each branch as
/// `(fut out poll [pattern tokens] [future] [condition] [handler])`; every
/// step introduces its own `fut`, `out` and `poll` identifiers, which
/// hygiene keeps apart.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_parse {
    (@start biased; $($rest:tt)*) => {
        $crate::__private::select_parse!(@parse [true] [] [] $($rest)*)
    };
    (@start $($rest:tt)*) => {
        $crate::__private::select_parse!(@parse [false] [] [] $($rest)*)
    };

    // Done.
    (@parse [$biased:tt] [] [$($else:tt)*]) => {
        $crate::__private::compile_error!("filch::select! needs at least one `pattern = future => handler` branch")
    };
    (@parse [$biased:tt] [$($branch:tt)+] [$($else:tt)*]) => {
        $crate::__private::select_expand!([$biased] [$($branch)+] [$($else)*])
    };

    // `else` (before the pattern rules: a pattern would swallow it).
    (@parse $b:tt $br:tt [$($e:tt)+] else $($rest:tt)*) => {
        $crate::__private::compile_error!("filch::select! takes at most one `else` branch")
    };
    (@parse $b:tt $br:tt [] else => $h:block, $($rest:tt)*) => {
        $crate::__private::select_parse!(@parse $b $br [$h] $($rest)*)
    };
    (@parse $b:tt $br:tt [] else => $h:block $($rest:tt)*) => {
        $crate::__private::select_parse!(@parse $b $br [$h] $($rest)*)
    };
    (@parse $b:tt $br:tt [] else => $h:expr, $($rest:tt)*) => {
        $crate::__private::select_parse!(@parse $b $br [$h] $($rest)*)
    };
    (@parse $b:tt $br:tt [] else => $h:expr) => {
        $crate::__private::select_parse!(@parse $b $br [$h])
    };
    (@parse $b:tt $br:tt $e:tt biased; $($rest:tt)*) => {
        $crate::__private::compile_error!("filch::select!: `biased;` must come first")
    };

    // A pattern is everything up to the first `=` outside brackets (a
    // pattern has no other); short patterns are split in one step.
    (@parse $b:tt $br:tt $e:tt $p1:tt = $($rest:tt)*) => {
        $crate::__private::select_parse!(@branch $b $br $e [$p1] $($rest)*)
    };
    (@parse $b:tt $br:tt $e:tt $p1:tt $p2:tt = $($rest:tt)*) => {
        $crate::__private::select_parse!(@branch $b $br $e [$p1 $p2] $($rest)*)
    };
    (@parse $b:tt $br:tt $e:tt $p1:tt $p2:tt $p3:tt = $($rest:tt)*) => {
        $crate::__private::select_parse!(@branch $b $br $e [$p1 $p2 $p3] $($rest)*)
    };
    (@parse $b:tt $br:tt $e:tt $p1:tt $p2:tt $p3:tt $p4:tt = $($rest:tt)*) => {
        $crate::__private::select_parse!(@branch $b $br $e [$p1 $p2 $p3 $p4] $($rest)*)
    };
    (@parse $b:tt $br:tt $e:tt $p1:tt $p2:tt $p3:tt $p4:tt $p5:tt = $($rest:tt)*) => {
        $crate::__private::select_parse!(@branch $b $br $e [$p1 $p2 $p3 $p4 $p5] $($rest)*)
    };
    (@parse $b:tt $br:tt $e:tt $($rest:tt)+) => {
        $crate::__private::select_parse!(@pattern $b $br $e [] $($rest)+)
    };
    (@pattern $b:tt $br:tt $e:tt [$($p:tt)*] = $($rest:tt)*) => {
        $crate::__private::select_parse!(@branch $b $br $e [$($p)*] $($rest)*)
    };
    (@pattern $b:tt $br:tt $e:tt [$($p:tt)*] $t:tt $($rest:tt)*) => {
        $crate::__private::select_parse!(@pattern $b $br $e [$($p)* $t] $($rest)*)
    };
    (@pattern $b:tt $br:tt $e:tt [$($p:tt)*]) => {
        $crate::__private::compile_error!($crate::__private::concat!(
            "filch::select!: expected `pattern = future => handler`, found `",
            $crate::__private::stringify!($($p)*),
            "`"
        ))
    };

    // The rest of a branch: future, optional condition, handler.
    (@branch $b:tt [$($br:tt)*] $e:tt $p:tt $f:expr, if $c:expr => $h:block, $($rest:tt)*) => {
        $crate::__private::select_parse!(@parse $b [$($br)* (fut out poll $p [$f] [$c] [$h])] $e $($rest)*)
    };
    (@branch $b:tt [$($br:tt)*] $e:tt $p:tt $f:expr, if $c:expr => $h:block $($rest:tt)*) => {
        $crate::__private::select_parse!(@parse $b [$($br)* (fut out poll $p [$f] [$c] [$h])] $e $($rest)*)
    };
    (@branch $b:tt [$($br:tt)*] $e:tt $p:tt $f:expr, if $c:expr => $h:expr, $($rest:tt)*) => {
        $crate::__private::select_parse!(@parse $b [$($br)* (fut out poll $p [$f] [$c] [$h])] $e $($rest)*)
    };
    (@branch $b:tt [$($br:tt)*] $e:tt $p:tt $f:expr, if $c:expr => $h:expr) => {
        $crate::__private::select_parse!(@parse $b [$($br)* (fut out poll $p [$f] [$c] [$h])] $e)
    };
    (@branch $b:tt [$($br:tt)*] $e:tt $p:tt $f:expr => $h:block, $($rest:tt)*) => {
        $crate::__private::select_parse!(@parse $b [$($br)* (fut out poll $p [$f] [true] [$h])] $e $($rest)*)
    };
    (@branch $b:tt [$($br:tt)*] $e:tt $p:tt $f:expr => $h:block $($rest:tt)*) => {
        $crate::__private::select_parse!(@parse $b [$($br)* (fut out poll $p [$f] [true] [$h])] $e $($rest)*)
    };
    (@branch $b:tt [$($br:tt)*] $e:tt $p:tt $f:expr => $h:expr, $($rest:tt)*) => {
        $crate::__private::select_parse!(@parse $b [$($br)* (fut out poll $p [$f] [true] [$h])] $e $($rest)*)
    };
    (@branch $b:tt [$($br:tt)*] $e:tt $p:tt $f:expr => $h:expr) => {
        $crate::__private::select_parse!(@parse $b [$($br)* (fut out poll $p [$f] [true] [$h])] $e)
    };
    (@branch $b:tt $br:tt $e:tt [$($p:tt)*] $($rest:tt)*) => {
        $crate::__private::compile_error!($crate::__private::concat!(
            "filch::select!: expected `",
            $crate::__private::stringify!($($p)*),
            " = future => handler` or `",
            $crate::__private::stringify!($($p)*),
            " = future, if condition => handler`"
        ))
    };
}

/// `select!`'s code, from the parsed branches.
#[doc(hidden)]
#[macro_export]
macro_rules! __select_expand {
    ([$biased:tt]
     [$(($fut:ident $out:ident $poll:ident [$($p:tt)*] [$f:expr] [$c:expr] [$h:expr]))+]
     [$($else:tt)*]) => {{
        let mut disabled = [$(!$c,)+];
        $(let mut $out = $crate::__private::None;)+
        {
            $(let mut $fut = $crate::__private::pin!($crate::__private::IntoFuture::into_future($f));)+
            $(
                let mut $poll = |cx: &mut $crate::__private::Context<'_>| -> $crate::__private::Step {
                    match $crate::__private::Future::poll($fut.as_mut(), cx) {
                        $crate::__private::Poll::Ready(value) => {
                            #[allow(unused_variables, unreachable_patterns)]
                            match &value {
                                $crate::__private::clean_pattern!($($p)*) => {}
                                _ => return $crate::__private::Step::Mismatch,
                            }
                            $out = $crate::__private::Some(value);
                            $crate::__private::Step::Done
                        }
                        $crate::__private::Poll::Pending => $crate::__private::Step::Pending,
                    }
                };
            )+
            $crate::__private::poll_fn(|cx| {
                $crate::__private::select_step(
                    &mut [$(&mut $poll as &mut dyn $crate::__private::FnMut(
                        &mut $crate::__private::Context<'_>,
                    ) -> $crate::__private::Step,)+],
                    &mut disabled,
                    $biased,
                    cx,
                )
            })
            .await;
        }
        $(if let $crate::__private::Some($($p)*) = $out { $h } else)+ {
            $crate::__private::select_else!($($else)*)
        }
    }};
}

#[doc(hidden)]
#[macro_export]
macro_rules! __select_else {
    () => {
        $crate::__private::all_branches_disabled()
    };
    ($h:expr) => {
        $h
    };
}

/// Rewrites a pattern so that it can be matched against a reference to the
/// value (to test it without moving the value): drops the `mut` and `ref`
/// binding modes, which edition 2024 forbids under a by-reference default
/// binding mode, and keeps everything else (`&mut` reference patterns too).
#[doc(hidden)]
#[macro_export]
macro_rules! __select_clean_pattern {
    (@go [$($out:tt)*] []) => {
        $($out)*
    };
    // End of a group: wrap what it became and go back to the outer tokens.
    (@go [$($in:tt)*] [(paren [$($out:tt)*] [$($rest:tt)*]) $($stack:tt)*]) => {
        $crate::__private::clean_pattern!(@go [$($out)* ($($in)*)] [$($stack)*] $($rest)*)
    };
    (@go [$($in:tt)*] [(bracket [$($out:tt)*] [$($rest:tt)*]) $($stack:tt)*]) => {
        $crate::__private::clean_pattern!(@go [$($out)* [$($in)*]] [$($stack)*] $($rest)*)
    };
    (@go [$($in:tt)*] [(brace [$($out:tt)*] [$($rest:tt)*]) $($stack:tt)*]) => {
        $crate::__private::clean_pattern!(@go [$($out)* {$($in)*}] [$($stack)*] $($rest)*)
    };
    (@go [$($out:tt)*] $stack:tt & mut $($rest:tt)*) => {
        $crate::__private::clean_pattern!(@go [$($out)* & mut] $stack $($rest)*)
    };
    (@go [$($out:tt)*] $stack:tt && mut $($rest:tt)*) => {
        $crate::__private::clean_pattern!(@go [$($out)* && mut] $stack $($rest)*)
    };
    (@go $out:tt $stack:tt ref $($rest:tt)*) => {
        $crate::__private::clean_pattern!(@go $out $stack $($rest)*)
    };
    (@go $out:tt $stack:tt mut $($rest:tt)*) => {
        $crate::__private::clean_pattern!(@go $out $stack $($rest)*)
    };
    (@go $out:tt [$($stack:tt)*] ($($group:tt)*) $($rest:tt)*) => {
        $crate::__private::clean_pattern!(@go [] [(paren $out [$($rest)*]) $($stack)*] $($group)*)
    };
    (@go $out:tt [$($stack:tt)*] [$($group:tt)*] $($rest:tt)*) => {
        $crate::__private::clean_pattern!(@go [] [(bracket $out [$($rest)*]) $($stack)*] $($group)*)
    };
    (@go $out:tt [$($stack:tt)*] {$($group:tt)*} $($rest:tt)*) => {
        $crate::__private::clean_pattern!(@go [] [(brace $out [$($rest)*]) $($stack)*] $($group)*)
    };
    (@go [$($out:tt)*] $stack:tt $t:tt $($rest:tt)*) => {
        $crate::__private::clean_pattern!(@go [$($out)* $t] $stack $($rest)*)
    };
    // Entry (last: every rule above starts with `@go`, no pattern does).
    ($($pattern:tt)*) => {
        $crate::__private::clean_pattern!(@go [] [] $($pattern)*)
    };
}

/// What polling one `select!` branch did.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Not ready.
    Pending,
    /// Ready, and the output matched: the branch won.
    Done,
    /// Ready, but the output did not match the pattern: disable the branch.
    Mismatch,
}

/// One poll of a `select!`: polls the enabled branches from a random start
/// (or from the first with `biased`) until one wins. Ready when one won or
/// when every branch is disabled.
#[doc(hidden)]
pub fn select_step(
    branches: &mut [&mut dyn FnMut(&mut Context<'_>) -> Step],
    disabled: &mut [bool],
    biased: bool,
    cx: &mut Context<'_>,
) -> Poll<()> {
    let n = branches.len();
    let mut k = if biased { 0 } else { crate::rng::index(n) };
    let mut any_enabled = false;
    for _ in 0..n {
        if !disabled[k] {
            match (branches[k])(cx) {
                Step::Done => return Poll::Ready(()),
                Step::Mismatch => disabled[k] = true,
                Step::Pending => any_enabled = true,
            }
        }
        k += 1;
        if k == n {
            k = 0;
        }
    }
    if any_enabled {
        Poll::Pending
    } else {
        Poll::Ready(())
    }
}

#[doc(hidden)]
#[track_caller]
pub fn all_branches_disabled() -> ! {
    panic!(
        "filch::select!: every branch is disabled (its condition was false or its output did \
         not match its pattern) and there is no `else` branch"
    )
}

/// Races futures of one type: resolves to `(index, output)` of the first to
/// finish, and drops the others right away (`select!` for any number of
/// same-typed futures).
///
/// Each child has its own waker; a poll of the `Race` polls only the
/// children woken since the previous one. Among futures ready at the same
/// poll, the one woken first (the lowest index at the first poll) wins.
///
/// # Panics
/// If the iterator is empty: an empty race could never finish.
///
/// Cancel-safety: dropping the `Race` drops every future; as cancel-safe as
/// they are.
///
/// ```
/// # let rt = filch_timer::test_runtime(1, true);
/// # rt.block_on(async {
/// use std::time::Duration;
/// let mirrors = [300, 100, 200].map(|ms| async move {
///     filch_timer::sleep(Duration::from_millis(ms)).await;
///     format!("response after {ms} ms")
/// });
/// let (index, body) = filch_combinators::race(mirrors).await;
/// assert_eq!((index, body.as_str()), (1, "response after 100 ms"));
/// # });
/// ```
#[track_caller]
pub fn race<I>(futures: I) -> Race<<I::Item as IntoFuture>::IntoFuture>
where
    I: IntoIterator,
    I::Item: IntoFuture,
{
    let slots = Slots::new(futures);
    assert!(
        slots.len() > 0,
        "filch::race: no futures to race (an empty race would never finish)"
    );
    Race {
        set: ready_set(slots.len()),
        slots,
        finished: false,
    }
}

/// The future of [`race`]. It is `Unpin` whatever the futures are.
///
/// ```
/// # let rt = filch_timer::test_runtime(1, true);
/// # rt.block_on(async {
/// let race: filch_combinators::Race<_> = filch_combinators::race([0, 5].map(|i| async move {
///     if i == 0 {
///         std::future::pending::<()>().await;
///     }
///     i
/// }));
/// assert_eq!(race.await, (1, 5));
/// # });
/// ```
#[must_use = "futures do nothing unless awaited"]
pub struct Race<F> {
    slots: Slots<F>,
    set: ReadySet,
    finished: bool,
}

impl<F: Future> Future for Race<F> {
    type Output = (usize, F::Output);

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<(usize, F::Output)> {
        let this = self.get_mut();
        assert!(!this.finished, "Race polled after completion");
        let slots = &mut this.slots;
        match this.set.poll_round(cx, |i, cx| match slots.poll(i, cx) {
            Poll::Ready(Some(output)) => ControlFlow::Break((i, output)),
            _ => ControlFlow::Continue(()),
        }) {
            ControlFlow::Break(winner) => {
                this.finished = true;
                this.slots.clear();
                Poll::Ready(winner)
            }
            ControlFlow::Continue(()) => Poll::Pending,
        }
    }
}

impl<F: Future> FusedFuture for Race<F> {
    fn is_terminated(&self) -> bool {
        self.finished
    }
}

impl<F> fmt::Debug for Race<F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Race")
            .field("slots", &self.slots)
            .field("finished", &self.finished)
            .finish()
    }
}

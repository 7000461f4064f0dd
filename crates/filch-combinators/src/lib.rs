//! filch's combinators: waiting on many futures and tasks at once, the way
//! asyncio does, with Rust's types.
//!
//! | asyncio | filch |
//! |---|---|
//! | `await gather(a, b)` | [`join!(a, b)`](join!) → a tuple |
//! | `await gather(*aws)` | [`join_all(aws)`](join_all) → a `Vec`, in input order |
//! | `gather` (no `return_exceptions`) | [`try_join!`], [`try_join_all`]: stop at the first `Err` |
//! | first to finish | [`select!`], [`race`] |
//! | `wait(tasks, return_when=...)` | [`wait`], [`wait_timeout`] with [`ReturnWhen`] |
//! | `as_completed(aws)` | [`as_completed`]: a `Stream` in completion order |
//! | `TaskGroup()` / trio's nursery | [`TaskGroup`] |
//! | `shield(task)` | [`shield`] |
//! | retry loops | [`retry`] with a [`RetryPolicy`] |
//!
//! Most users reach this crate through the `filch` facade (`filch::join!`,
//! `filch::TaskGroup`, ...).
//!
//! Combinators over many same-typed children (`join_all`, `try_join_all`,
//! `race`, `as_completed`, `wait`, `TaskGroup`) give every child its own
//! waker and keep a queue of the woken ones, so a wake-up costs O(woken
//! children), not O(all children). `join!` and `select!` are declarative
//! macros for a few futures of different types, pinned on the stack.
//!
//! Children polled inline share their parent task's coop budget: once it is
//! spent, their leaf futures return `Pending` after waking themselves. A
//! parent that sees 32 of its children wake themselves in one poll stops
//! there and yields to the scheduler (the rest stay queued), instead of
//! polling every child in vain. `join!`/`select!` start each poll at a
//! rotating (`join!`) or random (`select!`) branch so that the budget does
//! not always favour the first.
//!
//! The named futures implement `futures_core`'s `FusedFuture`, and
//! [`AsCompleted`] is a `Stream` and a `FusedStream`, so they also work with
//! the futures ecosystem's combinators.
//!
//! ```
//! # let rt = filch_timer::test_runtime(2, true);
//! # rt.block_on(async {
//! use std::time::Duration;
//! async fn task(name: &str, secs: u64) -> String {
//!     filch_timer::sleep(Duration::from_secs(secs)).await;
//!     format!("{name} done")
//! }
//! let start = filch_timer::Instant::now();
//! let results = filch_combinators::join_all([task("Task 1", 2), task("Task 2", 1)]).await;
//! assert_eq!(results, ["Task 1 done", "Task 2 done"]);
//! assert_eq!(start.elapsed(), Duration::from_secs(2));
//! # });
//! ```
//!
//! The crate owns combinators only: it spawns through `filch-executor` and
//! sleeps through `filch-timer`, and must not implement scheduling or time.

#![deny(missing_docs)]

mod as_completed;
mod join;
mod loom;
mod ready;
mod retry;
mod rng;
mod select;
mod shield;
mod slots;
mod task_group;
mod wait;

pub use as_completed::{AsCompleted, NextCompleted, as_completed};
pub use join::{JoinAll, TryJoinAll, join_all, try_join_all};
pub use retry::{
    GiveUp, Jitter, RetryAll, RetryDelays, RetryError, RetryPolicy, ShouldRetry, retry,
};
pub use select::{Race, race};
pub use shield::{Shield, shield};
pub use task_group::{TaskGroup, TaskGroupError, TaskGroupJoin};
pub use wait::{ReturnWhen, Wait, WaitOutput, wait, wait_timeout};

/// What the macros expand to. Not public API: the names and signatures may
/// change in any release.
#[doc(hidden)]
pub mod __private {
    pub use crate::join::{MaybeDone, NeverFails, PollJoin, erase, join_step};
    pub use crate::select::{Step, all_branches_disabled, select_step};
    pub use crate::{
        __select_clean_pattern as clean_pattern, __select_else as select_else,
        __select_expand as select_expand, __select_parse as select_parse,
        __try_join_impl as try_join_impl,
    };
    pub use core::future::{Future, IntoFuture, poll_fn};
    pub use core::ops::FnMut;
    pub use core::option::Option::{None, Some};
    pub use core::pin::{Pin, pin};
    pub use core::result::Result::{Err, Ok};
    pub use core::task::{Context, Poll};
    pub use core::{compile_error, concat, stringify};
}

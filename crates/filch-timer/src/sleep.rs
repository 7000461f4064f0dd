//! `Sleep`, `sleep` and `sleep_until`: a future that completes at a deadline
//! (asyncio's `await asyncio.sleep(d)`).
//!
//! A `Sleep` touches no wheel until it is first polled and not yet due, and
//! `sleep(d)` does not even read the clock until then: like asyncio's
//! `sleep`, it starts counting when it is first awaited. A sleep created and
//! dropped unpolled, or a timeout whose inner future is ready at once, costs
//! a few stores. Owns the choice of
//! wheel (the current worker's, else a round-robin one for threads that are
//! not workers); the entry protocol is in `entry.rs`.

use crate::driver::{WheelCell, current_handle, with_worker_cell};
use crate::entry::{Entry, EntryState, Registered};
use crate::instant::Instant;
use filch_executor::coop;
use pin_project_lite::pin_project;
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll, ready};
use std::time::Duration;

pub(crate) const NO_TIMER: &str = "filch::time needs a filch runtime with timers: create and await \
     timers inside `filch::run` / `Runtime::block_on` or a task they spawned";

const SHUT_DOWN: &str = "a filch timer was polled after its runtime shut down";

pin_project! {
    /// A future that completes at its deadline; see [`sleep`].
    ///
    /// It is cancel-safe: dropping it removes the timer.
    ///
    /// ```
    /// # let rt = filch_timer::test_runtime(1, false);
    /// # rt.block_on(async {
    /// use std::time::Duration;
    /// let start = filch_timer::Instant::now();
    /// filch_timer::sleep(Duration::from_millis(5)).await;
    /// assert!(start.elapsed() >= Duration::from_millis(5));
    /// # });
    /// ```
    #[must_use = "futures do nothing unless awaited"]
    pub struct Sleep {
        deadline: Deadline,
        #[pin]
        entry: Entry,
    }
}

/// When a sleep ends: fixed, or a duration that starts at the first poll.
#[derive(Debug, Clone, Copy)]
enum Deadline {
    At(Instant),
    After(Duration),
}

impl Deadline {
    /// Fixes the deadline (a relative one starts now).
    fn resolve(&mut self) -> Instant {
        match *self {
            Deadline::At(t) => t,
            Deadline::After(d) => {
                let t = Instant::now()
                    .checked_add(d)
                    .unwrap_or_else(Instant::far_future);
                *self = Deadline::At(t);
                t
            }
        }
    }
}

/// Waits until `duration` has elapsed (asyncio's `asyncio.sleep`).
///
/// Like asyncio's `sleep`, the duration starts counting when the sleep is
/// first awaited (polled), not when `sleep` is called: creating a sleep
/// costs nothing until it is used. (tokio's starts at creation; use
/// [`sleep_until`]`(Instant::now() + d)` for that.)
///
/// `Duration::ZERO` completes at once (use `yield_now` to let other tasks
/// run, which is what `asyncio.sleep(0)` is for). A duration too large to
/// represent (such as `Duration::MAX`) means "never". The sleep never
/// completes before its deadline; it completes within about a millisecond
/// after it when the worker is idle.
///
/// ```
/// # let rt = filch_timer::test_runtime(1, false);
/// # rt.block_on(async {
/// filch_timer::sleep(std::time::Duration::from_millis(1)).await;
/// # });
/// ```
pub fn sleep(duration: Duration) -> Sleep {
    Sleep {
        deadline: Deadline::After(duration),
        entry: Entry::new(),
    }
}

/// Waits until `deadline`. A deadline in the past completes at once.
///
/// ```
/// # let rt = filch_timer::test_runtime(1, false);
/// # rt.block_on(async {
/// let deadline = filch_timer::Instant::now() + std::time::Duration::from_millis(2);
/// filch_timer::sleep_until(deadline).await;
/// assert!(filch_timer::Instant::now() >= deadline);
/// # });
/// ```
pub fn sleep_until(deadline: Instant) -> Sleep {
    Sleep {
        deadline: Deadline::At(deadline),
        entry: Entry::new(),
    }
}

impl Sleep {
    /// The instant the sleep completes at. For a `sleep(d)` that has not
    /// been polled yet, the duration has not started: the answer is "now +
    /// d" at the time of the call.
    ///
    /// ```
    /// let d = filch_timer::Instant::now() + std::time::Duration::from_secs(1);
    /// assert_eq!(filch_timer::sleep_until(d).deadline(), d);
    /// ```
    pub fn deadline(&self) -> Instant {
        let mut d = self.deadline;
        d.resolve()
    }

    /// Whether the deadline has been reached (as seen by the timer).
    ///
    /// ```
    /// let s = filch_timer::sleep(std::time::Duration::from_secs(1));
    /// assert!(!s.is_elapsed());
    /// ```
    pub fn is_elapsed(&self) -> bool {
        self.entry.state() == EntryState::Fired
    }

    /// Moves the deadline, earlier or later, without creating a new timer.
    /// A completed sleep becomes pending again (unless the new deadline has
    /// passed). The waker of the last poll is kept: the task awaiting it is
    /// woken at the new deadline even if it does not poll the sleep again,
    /// unless the old deadline fired first (possibly while `reset` runs),
    /// which woke the task already; a sleep that fired holds no waker until
    /// it is polled again, as awaiting it does.
    ///
    /// ```
    /// # let rt = filch_timer::test_runtime(1, false);
    /// # rt.block_on(async {
    /// use std::time::Duration;
    /// let mut s = std::pin::pin!(filch_timer::sleep(Duration::from_secs(3600)));
    /// s.as_mut().reset(filch_timer::Instant::now() + Duration::from_millis(1));
    /// s.await;
    /// # });
    /// ```
    pub fn reset(self: Pin<&mut Self>, deadline: Instant) {
        let this = self.project();
        *this.deadline = Deadline::At(deadline);
        let entry = this.entry.into_ref().get_ref();
        let Some(cell) = entry.registered_cell() else {
            entry.reset(0);
            return;
        };
        let cell = cell.clone();
        let tick = cell.clock.deadline_tick(deadline.into_std());
        match entry.reset(tick) {
            Registered::Linked { lowered: true } => wake_owner_if_remote(&cell),
            Registered::Shutdown => panic!("{}", SHUT_DOWN),
            _ => {}
        }
    }

    fn poll_inner(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let this = self.project();
        let entry = this.entry.into_ref().get_ref();
        match entry.state() {
            EntryState::Fired => return Poll::Ready(()),
            EntryState::Shutdown => panic!("{}", SHUT_DOWN),
            EntryState::Pending => {}
        }
        if let Some(cell) = entry.registered_cell() {
            // Under virtual time, deadlines that are equal are reached at the
            // same instant, but wheels fire one after the other: a task woken
            // by one timer must see every other timer due at that instant as
            // done. (In real time this costs nothing: the check is one load
            // of "was this clock ever paused".)
            let clock = &cell.clock;
            if clock.is_paused() && this.deadline.resolve().into_std() <= clock.now() {
                entry.deregister();
                entry.mark_fired_unregistered();
                return Poll::Ready(());
            }
            return match entry.poll_registered(cx.waker()) {
                EntryState::Fired => Poll::Ready(()),
                EntryState::Pending => Poll::Pending,
                EntryState::Shutdown => panic!("{}", SHUT_DOWN),
            };
        }
        let (cell, local) = pick_wheel();
        let clock = &cell.clock;
        let deadline = this.deadline.resolve().into_std();
        if deadline <= clock.now() {
            entry.mark_fired_unregistered();
            return Poll::Ready(());
        }
        let tick = clock.deadline_tick(deadline);
        match entry.register(&cell, tick, cx.waker()) {
            Registered::Linked { lowered } => {
                if lowered && !local {
                    wake_owner_if_remote(&cell);
                }
                Poll::Pending
            }
            Registered::Due => Poll::Ready(()),
            Registered::Shutdown => panic!("{}", SHUT_DOWN),
        }
    }
}

/// The current worker's wheel, or a round-robin wheel of the current
/// runtime for threads that are not workers.
fn pick_wheel() -> (Arc<WheelCell>, bool) {
    if let Some(cell) = with_worker_cell(|c| c.cloned()) {
        return (cell, true);
    }
    match current_handle() {
        Some((_, timer)) => (timer.shared.pick_foreign().clone(), false),
        None => panic!("{}", NO_TIMER),
    }
}

/// A registration made another worker's next deadline earlier: wake that
/// worker so it re-computes how long to sleep.
fn wake_owner_if_remote(cell: &Arc<WheelCell>) {
    let is_mine = with_worker_cell(|c| c.is_some_and(|c| Arc::ptr_eq(c, cell)));
    if !is_mine {
        cell.unpark_owner();
    }
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let coop = ready!(coop::poll_proceed(cx));
        let res = self.poll_inner(cx);
        if res.is_ready() {
            coop.made_progress();
        }
        res
    }
}

impl fmt::Debug for Sleep {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sleep")
            .field("deadline", &self.deadline())
            .field("elapsed", &self.is_elapsed())
            .finish()
    }
}

//! `Interval`: ticks at a fixed period (asyncio's "periodic task" loop,
//! `while True: ...; await asyncio.sleep(period)`, without drift), with a
//! choice of what to do about missed ticks. Owns only the tick arithmetic;
//! waiting is a `Sleep`.

use crate::instant::Instant;
use crate::sleep::{Sleep, sleep_until};
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::task::{Context, Poll, ready};
use std::time::Duration;

/// What an [`Interval`] does when ticks were missed (the task was busy for
/// longer than a period).
///
/// ```
/// use filch_timer::MissedTickBehavior;
/// assert_eq!(MissedTickBehavior::default(), MissedTickBehavior::Burst);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum MissedTickBehavior {
    /// Fire the missed ticks back to back until caught up (the schedule
    /// keeps its original phase).
    #[default]
    Burst,
    /// Restart the schedule from now: the next tick is one period after the
    /// late one.
    Delay,
    /// Drop the missed ticks: the next tick is the next one on the original
    /// schedule that is still in the future.
    Skip,
}

/// A stream of ticks, one per period; see [`interval`].
///
/// `tick()` is cancel-safe: a dropped `tick()` future loses no tick.
///
/// ```
/// # let rt = filch_timer::test_runtime(1, true);
/// # rt.block_on(async {
/// use std::time::Duration;
/// let mut ticks = filch_timer::interval(Duration::from_secs(1));
/// let first = ticks.tick().await;
/// let second = ticks.tick().await;
/// assert_eq!(second - first, Duration::from_secs(1));
/// # });
/// ```
#[derive(Debug)]
pub struct Interval {
    delay: Pin<Box<Sleep>>,
    period: Duration,
    missed: MissedTickBehavior,
}

/// Ticks every `period`; the first tick completes at once.
///
/// # Panics
/// If `period` is zero.
///
/// ```
/// # let rt = filch_timer::test_runtime(1, true);
/// # rt.block_on(async {
/// let mut ticks = filch_timer::interval(std::time::Duration::from_millis(10));
/// for _ in 0..3 {
///     ticks.tick().await;
/// }
/// # });
/// ```
#[track_caller]
pub fn interval(period: Duration) -> Interval {
    interval_at(Instant::now(), period)
}

/// Ticks every `period`, the first tick at `start`.
///
/// # Panics
/// If `period` is zero.
///
/// ```
/// # let rt = filch_timer::test_runtime(1, true);
/// # rt.block_on(async {
/// use std::time::Duration;
/// let start = filch_timer::Instant::now() + Duration::from_secs(5);
/// let mut ticks = filch_timer::interval_at(start, Duration::from_secs(1));
/// assert_eq!(ticks.tick().await, start);
/// # });
/// ```
#[track_caller]
pub fn interval_at(start: Instant, period: Duration) -> Interval {
    assert!(
        !period.is_zero(),
        "filch::time::interval: the period must be above zero"
    );
    Interval {
        delay: Box::pin(sleep_until(start)),
        period,
        missed: MissedTickBehavior::Burst,
    }
}

impl Interval {
    /// Waits for the next tick and returns its scheduled instant.
    ///
    /// ```
    /// # let rt = filch_timer::test_runtime(1, true);
    /// # rt.block_on(async {
    /// let mut ticks = filch_timer::interval(std::time::Duration::from_secs(60));
    /// let t = ticks.tick().await;
    /// assert!(t <= filch_timer::Instant::now());
    /// # });
    /// ```
    pub fn tick(&mut self) -> impl Future<Output = Instant> + '_ {
        poll_fn(move |cx| self.poll_tick(cx))
    }

    /// Polls for the next tick.
    ///
    /// ```
    /// # let rt = filch_timer::test_runtime(1, true);
    /// # rt.block_on(async {
    /// let mut ticks = filch_timer::interval(std::time::Duration::from_secs(1));
    /// let t = std::future::poll_fn(|cx| ticks.poll_tick(cx)).await;
    /// # drop(t);
    /// # });
    /// ```
    pub fn poll_tick(&mut self, cx: &mut Context<'_>) -> Poll<Instant> {
        ready!(self.delay.as_mut().poll(cx));
        let scheduled = self.delay.deadline();
        let now = Instant::now();
        let next = if now > scheduled + self.period {
            // Late by more than a period: ticks were missed.
            match self.missed {
                MissedTickBehavior::Burst => scheduled + self.period,
                MissedTickBehavior::Delay => now + self.period,
                MissedTickBehavior::Skip => {
                    let late = (now - scheduled).as_nanos();
                    let period = self.period.as_nanos();
                    let periods = late / period + 1;
                    let ahead =
                        Duration::from_nanos(u64::try_from(periods * period).unwrap_or(u64::MAX));
                    scheduled
                        .checked_add(ahead)
                        .unwrap_or_else(Instant::far_future)
                }
            }
        } else {
            scheduled
                .checked_add(self.period)
                .unwrap_or_else(Instant::far_future)
        };
        self.delay.as_mut().reset(next);
        Poll::Ready(scheduled)
    }

    /// Restarts the schedule: the next tick is one period from now.
    ///
    /// ```
    /// # let rt = filch_timer::test_runtime(1, true);
    /// # rt.block_on(async {
    /// let mut ticks = filch_timer::interval(std::time::Duration::from_secs(1));
    /// ticks.reset();
    /// # });
    /// ```
    pub fn reset(&mut self) {
        let next = Instant::now() + self.period;
        self.delay.as_mut().reset(next);
    }

    /// What to do about missed ticks.
    ///
    /// ```
    /// let ticks = filch_timer::interval(std::time::Duration::from_secs(1));
    /// assert_eq!(ticks.missed_tick_behavior(), filch_timer::MissedTickBehavior::Burst);
    /// ```
    pub fn missed_tick_behavior(&self) -> MissedTickBehavior {
        self.missed
    }

    /// Sets what to do about missed ticks.
    ///
    /// ```
    /// let mut ticks = filch_timer::interval(std::time::Duration::from_secs(1));
    /// ticks.set_missed_tick_behavior(filch_timer::MissedTickBehavior::Skip);
    /// ```
    pub fn set_missed_tick_behavior(&mut self, behavior: MissedTickBehavior) {
        self.missed = behavior;
    }

    /// The period.
    ///
    /// ```
    /// let ticks = filch_timer::interval(std::time::Duration::from_secs(2));
    /// assert_eq!(ticks.period(), std::time::Duration::from_secs(2));
    /// ```
    pub fn period(&self) -> Duration {
        self.period
    }
}

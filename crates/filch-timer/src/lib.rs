//! filch's timers: `sleep`, `interval`, `timeout`, and virtual time for
//! tests, on one hierarchical timing wheel per worker.
//!
//! Most users reach this crate as `filch::time`. The wheel (`wheel.rs`) is a
//! plain data structure; the driver (`driver.rs`) plugs it into the
//! executor's park loop through `filch_executor::WorkerDriver`; `Sleep`
//! (`sleep.rs`, `entry.rs`) is the future everything else is built on. This
//! crate must not know about I/O: the facade composes its driver with the
//! reactor's.
//!
//! ```
//! # let rt = filch_timer::test_runtime(2, true);
//! # rt.block_on(async {
//! use filch_timer::{Instant, sleep, timeout};
//! use std::time::Duration;
//!
//! // With the clock paused, an hour passes in no time at all.
//! let start = Instant::now();
//! sleep(Duration::from_secs(3600)).await;
//! assert_eq!(start.elapsed(), Duration::from_secs(3600));
//! assert!(timeout(Duration::from_secs(1), sleep(Duration::from_secs(2))).await.is_err());
//! # });
//! ```

#![deny(missing_docs)]

mod clock;
mod driver;
mod entry;
mod instant;
mod interval;
mod loom;
mod sleep;
mod timeout;
mod wheel;

pub use driver::TimerHandle;
pub use instant::Instant;
pub use interval::{Interval, MissedTickBehavior, interval, interval_at};
pub use sleep::{Sleep, sleep, sleep_until};
pub use timeout::{Elapsed, Timeout, timeout, timeout_at};

use crate::loom::{Condvar, Mutex};
use filch_executor::{Driver, Handle, Park, WorkerDriver};
use std::any::{Any, TypeId};
use std::sync::Arc;
use std::time::Duration;

fn current_timer() -> (Handle, TimerHandle) {
    driver::current_handle().unwrap_or_else(|| panic!("{}", sleep::NO_TIMER))
}

/// Freezes the current runtime's clock: from now on time only moves when
/// [`advance`] is called, or when every task is waiting (then it jumps to
/// the next timer's deadline). Tests of timeouts and retry schedules become
/// instant and deterministic.
///
/// # Panics
/// Outside a runtime with timers, or if the clock is already paused.
///
/// ```
/// # let rt = filch_timer::test_runtime(1, false);
/// # rt.block_on(async {
/// filch_timer::pause();
/// let t = filch_timer::Instant::now();
/// filch_timer::sleep(std::time::Duration::from_secs(10)).await;
/// assert_eq!(t.elapsed(), std::time::Duration::from_secs(10));
/// # });
/// ```
#[track_caller]
pub fn pause() {
    let (_, timer) = current_timer();
    if timer.pause().is_err() {
        panic!("filch::time::pause: the clock is already paused");
    }
}

/// Lets the current runtime's clock run again, from where it stands.
///
/// # Panics
/// Outside a runtime with timers, or if the clock is not paused.
///
/// ```
/// # let rt = filch_timer::test_runtime(1, true);
/// # rt.block_on(async {
/// filch_timer::resume();
/// # });
/// ```
#[track_caller]
pub fn resume() {
    let (_, timer) = current_timer();
    if timer.resume().is_err() {
        panic!("filch::time::resume: the clock is not paused");
    }
}

/// Moves the paused clock forward by `duration`, fires the timers that
/// became due, and yields once so that their tasks can run.
///
/// # Panics
/// Outside a runtime with timers, or if the clock is not paused.
///
/// ```
/// # let rt = filch_timer::test_runtime(1, true);
/// # rt.block_on(async {
/// let t = filch_timer::Instant::now();
/// filch_timer::advance(std::time::Duration::from_secs(5)).await;
/// assert_eq!(t.elapsed(), std::time::Duration::from_secs(5));
/// # });
/// ```
#[track_caller]
pub fn advance(duration: Duration) -> impl std::future::Future<Output = ()> {
    let (handle, timer) = current_timer();
    if timer.advance(duration, &handle).is_err() {
        panic!("filch::time::advance: the clock is not paused (call filch::time::pause first)");
    }
    filch_executor::yield_now()
}

/// A driver with timers and no I/O, for runtimes that need only time (the
/// facade composes timers with the reactor instead).
///
/// ```
/// let (park, driver) = filch_timer::driver(2, false);
/// let rt = filch_executor::Builder::new().worker_threads(2).driver(park, driver).build().unwrap();
/// rt.block_on(filch_timer::sleep(std::time::Duration::from_millis(1)));
/// ```
pub fn driver(workers: usize, start_paused: bool) -> (Box<dyn Park>, Arc<dyn Driver>) {
    let signal = Arc::new(Signal::default());
    let timer = TimerHandle::new(workers, start_paused);
    (
        Box::new(TimerOnlyPark(signal.clone())),
        Arc::new(TimerOnlyDriver { timer, signal }),
    )
}

/// A runtime with timers and no I/O (for examples and tests).
#[doc(hidden)]
pub fn test_runtime(workers: usize, start_paused: bool) -> filch_executor::Executor {
    let (park, driver) = driver(workers, start_paused);
    filch_executor::Builder::new()
        .worker_threads(workers)
        .driver(park, driver)
        .build()
        .expect("failed to build a test runtime")
}

#[derive(Default)]
struct Signal {
    woken: Mutex<bool>,
    cv: Condvar,
}

/// Blocks on a condition variable: the worker holding the driver waits here
/// like the others wait on their own parkers.
struct TimerOnlyPark(Arc<Signal>);

impl Park for TimerOnlyPark {
    fn park(&mut self, timeout: Option<Duration>) {
        let mut woken = self.0.woken.lock();
        if !*woken {
            woken = match timeout {
                Some(t) => self.0.cv.wait_timeout(woken, t),
                None => self.0.cv.wait(woken),
            };
        }
        *woken = false;
    }
}

struct TimerOnlyDriver {
    timer: TimerHandle,
    signal: Arc<Signal>,
}

impl Driver for TimerOnlyDriver {
    fn unpark(&self) {
        *self.signal.woken.lock() = true;
        self.signal.cv.notify_one();
    }

    fn start_worker(&self, handle: &Handle, index: usize) -> Option<Box<dyn WorkerDriver>> {
        Some(self.timer.start_worker(handle, index))
    }

    fn get(&self, type_id: TypeId) -> Option<&(dyn Any + Send + Sync)> {
        (type_id == TypeId::of::<TimerHandle>()).then_some(&self.timer as &(dyn Any + Send + Sync))
    }

    fn on_idle(&self, handle: &Handle) {
        self.timer.on_idle(handle);
    }

    fn shutdown(&self) {
        self.timer.shutdown();
    }
}

/// Internals exposed to the loom models in `loom-tests/` (only under
/// `--cfg loom`).
#[cfg(loom)]
#[doc(hidden)]
pub mod __loom {
    pub use crate::driver::{WheelCell, fire_due};
    pub use crate::entry::{Entry, EntryState, Registered};
}

//! `filch::time::Instant`: a point in the current runtime's time, which is
//! real time unless the runtime's clock is paused (then it is virtual time).
//!
//! Owns the conversion between the runtime clock and `std::time::Instant`;
//! must not touch wheels.

use crate::driver::current_clock;
use std::fmt;
use std::ops::{Add, AddAssign, Sub, SubAssign};
use std::sync::atomic::{AtomicBool, Ordering::Relaxed};
use std::time::Duration;

/// Set once any runtime's clock has been paused in this process: until then
/// `Instant::now` is exactly `std::time::Instant::now`.
///
/// Not a protocol, so not through the `loom` shim (a `static` cannot hold a
/// loom atomic either): it only goes from false to true, and a reader that
/// is ordered after the pause (by whatever told it the clock was paused)
/// sees `true` by coherence, even with `Relaxed`; one that is not ordered
/// after it reads the real clock, which it could have read an instant
/// earlier anyway. The clock itself (`clock.rs`) goes through the shim.
static ANY_VIRTUAL: AtomicBool = AtomicBool::new(false);

pub(crate) fn note_virtual_clock() {
    ANY_VIRTUAL.store(true, Relaxed);
}

/// A measurement of the runtime's monotonic clock.
///
/// Like `std::time::Instant`, but [`Instant::now`] follows the current
/// runtime's clock, so code using it keeps working under paused (virtual)
/// time in tests.
///
/// ```
/// use filch_timer::Instant;
/// let a = Instant::now();
/// let b = a + std::time::Duration::from_secs(1);
/// assert_eq!(b - a, std::time::Duration::from_secs(1));
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Instant(std::time::Instant);

impl Instant {
    /// Now, on the current runtime's clock (virtual if it is paused), or on
    /// the system's monotonic clock outside a runtime.
    ///
    /// ```
    /// let t = filch_timer::Instant::now();
    /// assert!(t.elapsed() < std::time::Duration::from_secs(60));
    /// ```
    pub fn now() -> Instant {
        if !ANY_VIRTUAL.load(Relaxed) {
            return Instant(std::time::Instant::now());
        }
        Instant(current_clock(|c| c.map(|c| c.now())).unwrap_or_else(std::time::Instant::now))
    }

    /// Wraps a `std::time::Instant`.
    ///
    /// ```
    /// let t = filch_timer::Instant::from_std(std::time::Instant::now());
    /// # drop(t);
    /// ```
    pub fn from_std(t: std::time::Instant) -> Instant {
        Instant(t)
    }

    /// The `std::time::Instant` inside.
    ///
    /// ```
    /// let std = filch_timer::Instant::now().into_std();
    /// # drop(std);
    /// ```
    pub fn into_std(self) -> std::time::Instant {
        self.0
    }

    /// Time from `earlier` to `self`, zero if `earlier` is later.
    ///
    /// ```
    /// let a = filch_timer::Instant::now();
    /// assert_eq!(a.duration_since(a), std::time::Duration::ZERO);
    /// ```
    pub fn duration_since(&self, earlier: Instant) -> Duration {
        self.0.saturating_duration_since(earlier.0)
    }

    /// Time from `earlier` to `self`, or `None` if `earlier` is later.
    ///
    /// ```
    /// let a = filch_timer::Instant::now();
    /// let b = a + std::time::Duration::from_millis(5);
    /// assert_eq!(a.checked_duration_since(b), None);
    /// ```
    pub fn checked_duration_since(&self, earlier: Instant) -> Option<Duration> {
        self.0.checked_duration_since(earlier.0)
    }

    /// Same as [`duration_since`](Self::duration_since).
    ///
    /// ```
    /// let a = filch_timer::Instant::now();
    /// assert_eq!(a.saturating_duration_since(a), std::time::Duration::ZERO);
    /// ```
    pub fn saturating_duration_since(&self, earlier: Instant) -> Duration {
        self.duration_since(earlier)
    }

    /// Time since `self` on the runtime clock.
    ///
    /// ```
    /// let a = filch_timer::Instant::now();
    /// let _ = a.elapsed();
    /// ```
    pub fn elapsed(&self) -> Duration {
        Instant::now().duration_since(*self)
    }

    /// `self + d`, or `None` on overflow.
    ///
    /// ```
    /// let a = filch_timer::Instant::now();
    /// assert!(a.checked_add(std::time::Duration::MAX).is_none());
    /// ```
    pub fn checked_add(&self, d: Duration) -> Option<Instant> {
        self.0.checked_add(d).map(Instant)
    }

    /// `self - d`, or `None` on underflow.
    ///
    /// ```
    /// let a = filch_timer::Instant::now();
    /// assert!(a.checked_sub(std::time::Duration::MAX).is_none());
    /// ```
    pub fn checked_sub(&self, d: Duration) -> Option<Instant> {
        self.0.checked_sub(d).map(Instant)
    }

    /// An instant so far ahead that it stands for "never" (about 30 years).
    pub(crate) fn far_future() -> Instant {
        Instant::now() + Duration::from_secs(86_400 * 365 * 30)
    }
}

impl From<std::time::Instant> for Instant {
    fn from(t: std::time::Instant) -> Instant {
        Instant(t)
    }
}

impl From<Instant> for std::time::Instant {
    fn from(t: Instant) -> std::time::Instant {
        t.0
    }
}

impl Add<Duration> for Instant {
    type Output = Instant;
    fn add(self, d: Duration) -> Instant {
        Instant(self.0 + d)
    }
}

impl AddAssign<Duration> for Instant {
    fn add_assign(&mut self, d: Duration) {
        self.0 += d;
    }
}

impl Sub<Duration> for Instant {
    type Output = Instant;
    fn sub(self, d: Duration) -> Instant {
        Instant(self.0 - d)
    }
}

impl SubAssign<Duration> for Instant {
    fn sub_assign(&mut self, d: Duration) {
        self.0 -= d;
    }
}

impl Sub<Instant> for Instant {
    type Output = Duration;
    fn sub(self, other: Instant) -> Duration {
        self.duration_since(other)
    }
}

impl fmt::Debug for Instant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

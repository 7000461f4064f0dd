//! The clock behind task ages: nanoseconds since a process-wide epoch, and a
//! per-thread *coarse* reading of it that spawning uses instead of reading
//! the clock for every task.
//!
//! Workers refresh their coarse reading at every maintenance pass and after
//! every park; a `block_on` thread refreshes it before every poll of its
//! future; a timed poll (debug mode) refreshes it too. A task spawned on such
//! a thread takes the coarse reading, which is never later than the truth:
//! an age computed from it is at most one maintenance interval of polls (or
//! one poll of the spawner) too large, never too small. A thread that never
//! refreshed (a plain thread calling `Handle::spawn`) reads the clock.
//!
//! Owns only these readings; it must not decide what is measured.

use std::cell::Cell;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

static EPOCH: OnceLock<Instant> = OnceLock::new();

thread_local! {
    /// 0: this thread keeps no coarse reading.
    static COARSE: Cell<u64> = const { Cell::new(0) };
}

fn epoch() -> Instant {
    *EPOCH.get_or_init(Instant::now)
}

/// Nanoseconds since the epoch, read now (never 0: the epoch itself reads 1).
pub(crate) fn now_ns() -> u64 {
    to_ns(Instant::now())
}

/// `at` as nanoseconds since the epoch (1 for instants before it).
pub(crate) fn to_ns(at: Instant) -> u64 {
    let ns = at.saturating_duration_since(epoch()).as_nanos();
    u64::try_from(ns).unwrap_or(u64::MAX).max(1)
}

/// The time from `ns` (a value of [`now_ns`] or [`coarse_now_ns`]) to now.
pub(crate) fn since(ns: u64) -> Duration {
    Duration::from_nanos(now_ns().saturating_sub(ns))
}

/// Refreshes this thread's coarse reading and returns it.
pub(crate) fn refresh() -> u64 {
    let now = now_ns();
    set_coarse(now);
    now
}

/// Sets this thread's coarse reading (from a clock read made anyway).
pub(crate) fn set_coarse(ns: u64) {
    let _ = COARSE.try_with(|c| c.set(ns));
}

/// Stops keeping a coarse reading on this thread (its runtime loop ended).
pub(crate) fn clear_coarse() {
    set_coarse(0);
}

/// This thread's coarse reading, or the clock if it keeps none.
#[inline]
pub(crate) fn coarse_now_ns() -> u64 {
    match COARSE.try_with(Cell::get) {
        Ok(ns) if ns != 0 => ns,
        _ => now_ns(),
    }
}

//! The clock behind task ages and poll timing: nanoseconds on the system's
//! monotonic clock, read precisely ([`now_ns`]) or coarsely
//! ([`coarse_now_ns`]).
//!
//! Spawning records a task's spawn time on the coarse clock: on Linux that
//! is `CLOCK_MONOTONIC_COARSE`, which the vDSO answers in about 2 ns (the
//! precise clock costs 16 ns here) with the time of the last kernel tick,
//! so it is never later than the precise clock and at most one tick (1 to
//! 4 ms) earlier. An age (precise now minus coarse spawn time) may therefore
//! read up to one tick high, never low. Elsewhere both readings are
//! precise.
//!
//! Owns only these readings; it must not decide what is measured.

/// Nanoseconds on the monotonic clock, read precisely.
#[cfg(target_os = "linux")]
pub(crate) fn now_ns() -> u64 {
    read(libc::CLOCK_MONOTONIC)
}

/// Nanoseconds on the monotonic clock as of the last kernel tick.
#[cfg(target_os = "linux")]
#[inline]
pub(crate) fn coarse_now_ns() -> u64 {
    read(libc::CLOCK_MONOTONIC_COARSE)
}

#[cfg(target_os = "linux")]
#[inline]
fn read(id: libc::clockid_t) -> u64 {
    let mut t = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `t` is a valid, writable timespec for the duration of the
    // call, and both clock ids exist on every Linux since 2.6.32, so the
    // call cannot fail (on failure `t` would stay zero, a harmless time).
    unsafe { libc::clock_gettime(id, &mut t) };
    (t.tv_sec as u64)
        .wrapping_mul(1_000_000_000)
        .wrapping_add(t.tv_nsec as u64)
}

#[cfg(not(target_os = "linux"))]
static EPOCH: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();

/// Nanoseconds since a process-wide epoch (the first reading).
#[cfg(not(target_os = "linux"))]
pub(crate) fn now_ns() -> u64 {
    let epoch = *EPOCH.get_or_init(std::time::Instant::now);
    u64::try_from(epoch.elapsed().as_nanos()).unwrap_or(u64::MAX)
}

/// Without a coarse clock: the precise one.
#[cfg(not(target_os = "linux"))]
pub(crate) fn coarse_now_ns() -> u64 {
    now_ns()
}

/// The time from `ns` (a reading of either clock) to now.
pub(crate) fn since(ns: u64) -> std::time::Duration {
    std::time::Duration::from_nanos(now_ns().saturating_sub(ns))
}

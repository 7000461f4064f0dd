//! The runtime's clock: real time, or virtual time while paused.
//!
//! Virtual time is a line of `std::time::Instant`s like real time: while
//! paused, "now" stands still at `base_virtual` and moves only when advanced
//! (explicitly, or by the driver jumping to the next deadline when the
//! runtime is idle); after `resume` it runs again at real speed from where it
//! stood. A clock that was never paused answers with `Instant::now()` and one
//! relaxed load, so production code pays nothing for this.
//!
//! Owns the notion of "now" and the tick arithmetic (1 tick = 1 ms since the
//! clock's start). Must not know about wheels or tasks.

use crate::loom::Mutex;
use crate::loom::atomic::AtomicBool;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::time::{Duration, Instant as StdInstant};

pub(crate) struct Clock {
    /// Tick 0.
    start: StdInstant,
    /// Set forever once the clock is paused the first time.
    virtual_mode: AtomicBool,
    state: Mutex<VirtualState>,
}

struct VirtualState {
    paused: bool,
    base_virtual: StdInstant,
    base_real: StdInstant,
}

/// Nanoseconds in one tick.
const TICK: u128 = 1_000_000;

impl Clock {
    pub(crate) fn new(start_paused: bool) -> Clock {
        let start = StdInstant::now();
        let clock = Clock {
            start,
            virtual_mode: AtomicBool::new(false),
            state: Mutex::new(VirtualState {
                paused: false,
                base_virtual: start,
                base_real: start,
            }),
        };
        if start_paused {
            // Virtual time starts exactly at tick 0.
            let mut state = clock.state.lock();
            state.paused = true;
            drop(state);
            clock.virtual_mode.store(true, Release);
            crate::instant::note_virtual_clock();
        }
        clock
    }

    pub(crate) fn now(&self) -> StdInstant {
        if !self.virtual_mode.load(Acquire) {
            return StdInstant::now();
        }
        let state = self.state.lock();
        if state.paused {
            state.base_virtual
        } else {
            state.base_virtual + StdInstant::now().saturating_duration_since(state.base_real)
        }
    }

    pub(crate) fn is_paused(&self) -> bool {
        self.virtual_mode.load(Acquire) && self.state.lock().paused
    }

    /// Freezes time. `Err` if it already is.
    pub(crate) fn pause(&self) -> Result<(), ()> {
        let now = self.now();
        let mut state = self.state.lock();
        if state.paused {
            return Err(());
        }
        state.paused = true;
        // Frozen time sits on a tick boundary (moving forward by less than a
        // tick), so whole-millisecond sleeps end exactly at their deadline.
        let tick = self.deadline_tick(now);
        state.base_virtual = self.tick_instant(tick).unwrap_or(now).max(now);
        self.virtual_mode.store(true, Release);
        crate::instant::note_virtual_clock();
        Ok(())
    }

    /// Lets time run again from where it stands. `Err` if it is not paused.
    pub(crate) fn resume(&self) -> Result<(), ()> {
        let mut state = self.state.lock();
        if !state.paused {
            return Err(());
        }
        state.paused = false;
        state.base_real = StdInstant::now();
        Ok(())
    }

    /// Moves paused time forward by `by`. `Err` if it is not paused.
    pub(crate) fn advance(&self, by: Duration) -> Result<(), ()> {
        let mut state = self.state.lock();
        if !state.paused {
            return Err(());
        }
        state.base_virtual = state
            .base_virtual
            .checked_add(by)
            .unwrap_or(state.base_virtual);
        Ok(())
    }

    /// Moves paused time forward to `to` if that is later than now.
    pub(crate) fn advance_to(&self, to: StdInstant) {
        let mut state = self.state.lock();
        if state.paused && to > state.base_virtual {
            state.base_virtual = to;
        }
    }

    /// The first tick at or after `t` (a deadline fires at that tick, never
    /// before `t`).
    pub(crate) fn deadline_tick(&self, t: StdInstant) -> u64 {
        let nanos = t.saturating_duration_since(self.start).as_nanos();
        u64::try_from(nanos.div_ceil(TICK)).unwrap_or(u64::MAX)
    }

    /// The last tick at or before `t` (everything due by then may fire).
    pub(crate) fn now_tick(&self, t: StdInstant) -> u64 {
        let nanos = t.saturating_duration_since(self.start).as_nanos();
        u64::try_from(nanos / TICK).unwrap_or(u64::MAX)
    }

    /// The instant tick `tick` starts at, if it is representable.
    pub(crate) fn tick_instant(&self, tick: u64) -> Option<StdInstant> {
        self.start.checked_add(Duration::from_millis(tick))
    }
}

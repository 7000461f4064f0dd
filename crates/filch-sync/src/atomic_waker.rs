//! A single waker slot that one task registers into and any thread wakes.
//!
//! Used where exactly one party waits (the receiver of an mpsc channel). The
//! slot is guarded by a three-state word instead of a lock:
//! - `IDLE`: nobody touches the slot;
//! - `REGISTERING`: the (single) registrant is writing the slot;
//! - `WAKING`: a waker is taking the waker out.
//!
//! `register` moves `IDLE -> REGISTERING`, writes, then tries
//! `REGISTERING -> IDLE`; if a `wake` arrived meanwhile (the word is
//! `REGISTERING | WAKING`) the registrant wakes the new waker itself, so the
//! wake is not lost. `wake` sets `WAKING`; if the word was `IDLE` it owns the
//! slot, takes the waker and clears `WAKING`; otherwise the registrant or
//! the earlier waker is responsible. Nobody ever spins.
//!
//! This module owns that slot only; it must not know what is being waited
//! for (the caller re-checks its condition after registering).

use crate::loom::UnsafeCell;
use crate::loom::atomic::AtomicUsize;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Release};
use std::task::Waker;

const IDLE: usize = 0;
const REGISTERING: usize = 1;
const WAKING: usize = 2;

/// One waker slot, registered by one task, woken from any thread. (`pub`
/// only so the loom models can reach it through `__loom`.)
pub struct AtomicWaker {
    state: AtomicUsize,
    waker: UnsafeCell<Option<Waker>>,
}

// SAFETY: the slot is only touched by whoever owns it through `state` (see
// the module docs), and `Waker` is `Send + Sync`.
unsafe impl Send for AtomicWaker {}
// SAFETY: as above.
unsafe impl Sync for AtomicWaker {}

impl AtomicWaker {
    /// An empty slot.
    pub fn new() -> AtomicWaker {
        AtomicWaker {
            state: AtomicUsize::new(IDLE),
            waker: UnsafeCell::new(None),
        }
    }

    /// Stores `waker` to be woken by the next [`wake`](Self::wake). Only one
    /// thread registers at a time (the owner of the waiting side, through
    /// `&mut self` of its handle).
    ///
    /// After registering, the caller must re-check its condition: a `wake`
    /// that happened before the registration is not replayed.
    pub fn register(&self, waker: &Waker) {
        match self
            .state
            .compare_exchange(IDLE, REGISTERING, Acquire, Acquire)
        {
            Ok(_) => {
                self.waker.with_mut(|slot| {
                    // SAFETY: `REGISTERING` gives us the slot: wakers only
                    // take it from `IDLE`.
                    let slot = unsafe { &mut *slot };
                    match slot {
                        Some(old) if old.will_wake(waker) => {}
                        _ => *slot = Some(waker.clone()),
                    }
                });
                if let Err(actual) = self
                    .state
                    .compare_exchange(REGISTERING, IDLE, AcqRel, Acquire)
                {
                    // A wake came in while we wrote: it left the slot to us.
                    debug_assert_eq!(actual, REGISTERING | WAKING);
                    // SAFETY: the waker saw `REGISTERING` and did not touch
                    // the slot; we still own it until the swap below.
                    let w = self.waker.with_mut(|slot| unsafe { (*slot).take() });
                    // A swap, not a store: other wakers may still `fetch_or`
                    // here, and an RMW keeps every access to the word in one
                    // chain (loom, which orders a plain store and a
                    // concurrent RMW that read the same value only partially,
                    // otherwise lets our next `register` read the stale
                    // `REGISTERING | WAKING`).
                    self.state.swap(IDLE, AcqRel);
                    if let Some(w) = w {
                        w.wake();
                    }
                }
            }
            // A wake is in progress (on the old waker): make sure the task
            // is polled again, with the new one. The waker finishes in a
            // few instructions; the hint keeps a re-poll from spinning on
            // it (and lets loom run it).
            Err(WAKING) => {
                waker.wake_by_ref();
                crate::loom::spin_loop();
            }
            Err(x) => unreachable!("AtomicWaker registered from two places at once {x}"),
        }
    }

    /// Wakes the registered waker, if any.
    pub fn wake(&self) {
        if let Some(w) = self.take() {
            w.wake();
        }
    }

    /// Takes the registered waker out, if any (and if no other party is
    /// already handling it).
    pub fn take(&self) -> Option<Waker> {
        match self.state.fetch_or(WAKING, AcqRel) {
            IDLE => {
                // SAFETY: we moved the word from `IDLE` to `WAKING`, which
                // gives us the slot until we clear the bit.
                let w = self.waker.with_mut(|slot| unsafe { (*slot).take() });
                self.state.fetch_and(!WAKING, Release);
                w
            }
            // Registering: the registrant sees `WAKING` and wakes itself.
            // Waking: another waker is on it.
            _ => None,
        }
    }
}

impl Default for AtomicWaker {
    fn default() -> Self {
        AtomicWaker::new()
    }
}

impl std::fmt::Debug for AtomicWaker {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AtomicWaker").finish_non_exhaustive()
    }
}

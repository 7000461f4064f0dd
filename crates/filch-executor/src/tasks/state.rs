//! The task state word: one `AtomicUsize` holding the lifecycle flags and the
//! reference count of a task.
//!
//! This module owns every transition of that word and the rules that make the
//! transitions race-free; it must not touch the future, the output, the join
//! waker slot or the scheduler: callers act on the transition's verdict.
//!
//! Bits:
//!
//! | bit | flag            | meaning                                                        |
//! |-----|-----------------|----------------------------------------------------------------|
//! | 0   | `RUNNING`       | someone holds the right to touch the future (poll or cancel)   |
//! | 1   | `COMPLETE`      | the future is gone; the stage holds the output or an error     |
//! | 2   | `NOTIFIED`      | a `Notified` reference is (or will be) in a run queue, or the  |
//! |     |                 | task was woken while running and must run again                |
//! | 3   | `CANCELLED`     | the task must be cancelled instead of polled                   |
//! | 4   | `JOIN_INTEREST` | a `JoinHandle` exists and will read the output                 |
//! | 5   | `JOIN_WAKER`    | the join waker slot is published to the completing thread      |
//! | 6.. | reference count |                                                                |
//!
//! The invariants every transition keeps:
//!
//! * At most one `Notified` reference exists for a task. It exists when
//!   `NOTIFIED` is set and `RUNNING` is clear (a wake during a poll sets
//!   `NOTIFIED` but creates no `Notified`: the poller reschedules instead),
//!   or when the task is *held*: its poll ended in its own `yield_now` and
//!   the poller queued it with `RUNNING` still set, so the `Notified`
//!   carries the right to poll (no transition on either side of the yield).
//!   A popped `Notified` whose task reads `RUNNING` is therefore held: no
//!   poll is in progress, and no other `Notified` can be created (every
//!   waker sees `RUNNING` and leaves the rescheduling to the poller).
//! * Only the holder of `RUNNING` touches the future; `COMPLETE` is set by the
//!   same holder, with `RUNNING` cleared in the same atomic step.
//! * `JOIN_WAKER` clear: the `JoinHandle` owns the join waker slot.
//!   `JOIN_WAKER` set: the slot is frozen and the completer may read it.
//! * A wake of a task that is not complete always writes the word (with
//!   release), even when it changes nothing, so that whatever the waker did
//!   before waking happens-before the next poll (`transition_to_running` and
//!   `transition_to_idle` acquire it).

use crate::loom::atomic::AtomicUsize;
use std::fmt;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};

const RUNNING: usize = 1 << 0;
const COMPLETE: usize = 1 << 1;
const NOTIFIED: usize = 1 << 2;
const CANCELLED: usize = 1 << 3;
const JOIN_INTEREST: usize = 1 << 4;
const JOIN_WAKER: usize = 1 << 5;

const LIFECYCLE_MASK: usize = RUNNING | COMPLETE;
const REF_SHIFT: u32 = 6;
const REF_ONE: usize = 1 << REF_SHIFT;
const REF_MASK: usize = !(REF_ONE - 1);

/// The task state word.
pub(crate) struct State {
    val: AtomicUsize,
}

/// A copy of the state word at one instant.
#[derive(Copy, Clone, PartialEq, Eq)]
pub(crate) struct Snapshot(usize);

/// What a worker that popped a `Notified` must do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToRunning {
    /// Poll the future.
    Success,
    /// Cancel the task (drop the future) and complete it.
    Cancelled,
    /// Nothing to do; the `Notified` reference was released.
    Failed,
    /// Nothing to do; the reference released was the last: deallocate.
    Dealloc,
}

/// What the poller must do after a poll that returned `Pending`.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToIdle {
    /// The task is idle; the poller's reference was released.
    Ok,
    /// The task was woken during the poll: reschedule it, reusing the
    /// poller's reference as the `Notified` one.
    OkNotified,
    /// The task is idle and the poller's reference was the last.
    OkDealloc,
    /// The task was cancelled during the poll: cancel it now.
    Cancelled,
}

/// What a waker must do.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum TransitionToNotified {
    /// Nothing: the task is running, complete, or already notified.
    DoNothing,
    /// Push a `Notified` (whose reference the transition accounted for).
    Submit,
    /// Nothing, and the reference given up was the last: deallocate.
    Dealloc,
}

impl State {
    /// A freshly spawned task: notified (its `Notified` goes to a queue), with
    /// a join handle, and `refs` references.
    pub(crate) fn new(refs: usize) -> State {
        State {
            val: AtomicUsize::new(NOTIFIED | JOIN_INTEREST | (refs * REF_ONE)),
        }
    }

    #[inline]
    pub(crate) fn load(&self) -> Snapshot {
        Snapshot(self.val.load(Acquire))
    }

    /// Applies `f` until the compare-exchange succeeds; `f` returns the action
    /// and the next value, or `None` for "no change".
    #[inline]
    fn fetch_update_action<T>(&self, mut f: impl FnMut(Snapshot) -> (T, Option<Snapshot>)) -> T {
        let mut curr = self.load();
        loop {
            let (output, next) = f(curr);
            let Some(next) = next else { return output };
            match self
                .val
                .compare_exchange_weak(curr.0, next.0, AcqRel, Acquire)
            {
                Ok(_) => return output,
                Err(actual) => curr = Snapshot(actual),
            }
        }
    }

    /// Called by the holder of the `Notified` reference before polling.
    ///
    /// A held task (`RUNNING` already set, see the module docs) costs a load:
    /// the `Notified` brought the right to poll with it. A wake that landed
    /// since its last poll is cleared (one compare-exchange, only then) so
    /// the poll consumes it; one that lands after the load is seen by the
    /// transition that ends the poll, as for any wake during a poll.
    #[inline]
    pub(crate) fn transition_to_running(&self) -> TransitionToRunning {
        self.fetch_update_action(|curr| {
            if curr.is_running() {
                let action = if curr.is_cancelled() {
                    TransitionToRunning::Cancelled
                } else {
                    TransitionToRunning::Success
                };
                let next = curr.is_notified().then_some(Snapshot(curr.0 & !NOTIFIED));
                return (action, next);
            }
            debug_assert!(
                curr.is_notified(),
                "a Notified of a task that is not held exists only while NOTIFIED is set"
            );
            let mut next = curr;
            if curr.is_complete() {
                // Cannot happen with the transitions in this module (a
                // `Notified` is only created for an idle task, which stays
                // NOTIFIED until it is popped, or for a held one, which
                // stays RUNNING), but releasing the reference is the only
                // sound answer if it ever did.
                next.ref_dec();
                let action = if next.ref_count() == 0 {
                    TransitionToRunning::Dealloc
                } else {
                    TransitionToRunning::Failed
                };
                return (action, Some(next));
            }
            next.0 = (next.0 | RUNNING) & !NOTIFIED;
            let action = if curr.is_cancelled() {
                TransitionToRunning::Cancelled
            } else {
                TransitionToRunning::Success
            };
            (action, Some(next))
        })
    }

    /// Called by the poller after the future returned `Pending` (unless the
    /// poll ended in the task's own yield: then the task is held instead,
    /// see the module docs).
    #[inline]
    pub(crate) fn transition_to_idle(&self) -> TransitionToIdle {
        self.fetch_update_action(|curr| {
            debug_assert!(curr.is_running());
            if curr.is_cancelled() {
                return (TransitionToIdle::Cancelled, None);
            }
            let mut next = curr;
            next.0 &= !RUNNING;
            let action = if next.is_notified() {
                // The poller's reference becomes the new `Notified`.
                TransitionToIdle::OkNotified
            } else {
                next.ref_dec();
                if next.ref_count() == 0 {
                    TransitionToIdle::OkDealloc
                } else {
                    TransitionToIdle::Ok
                }
            };
            (action, Some(next))
        })
    }

    /// Clears `RUNNING` and sets `COMPLETE` in one step. Returns the state
    /// after the transition.
    #[inline]
    pub(crate) fn transition_to_complete(&self) -> Snapshot {
        const DELTA: usize = RUNNING | COMPLETE;
        let prev = Snapshot(self.val.fetch_xor(DELTA, AcqRel));
        debug_assert!(prev.is_running() && !prev.is_complete());
        Snapshot(prev.0 ^ DELTA)
    }

    /// Releases `count` references at once (the poller's and possibly the
    /// owned list's). Returns true when the task must be deallocated.
    #[inline]
    pub(crate) fn transition_to_terminal(&self, count: usize) -> bool {
        let prev = Snapshot(self.val.fetch_sub(count * REF_ONE, AcqRel));
        debug_assert!(prev.ref_count() >= count, "task reference count underflow");
        prev.ref_count() == count
    }

    /// A waker consumed by `wake`: its reference is either handed to the new
    /// `Notified` or released.
    #[inline]
    pub(crate) fn transition_to_notified_by_val(&self) -> TransitionToNotified {
        self.fetch_update_action(|curr| {
            let mut next = curr;
            let action = if curr.is_running() {
                // The poller reschedules (or the task is held, so queued
                // already); our reference is not needed.
                next.0 |= NOTIFIED;
                next.ref_dec();
                debug_assert!(next.ref_count() > 0, "the poller holds a reference");
                TransitionToNotified::DoNothing
            } else if curr.is_complete() || curr.is_notified() {
                next.ref_dec();
                if next.ref_count() == 0 {
                    TransitionToNotified::Dealloc
                } else {
                    TransitionToNotified::DoNothing
                }
            } else {
                next.0 |= NOTIFIED;
                TransitionToNotified::Submit
            };
            (action, Some(next))
        })
    }

    /// A waker used by reference: a new reference is taken for the `Notified`.
    #[inline]
    pub(crate) fn transition_to_notified_by_ref(&self) -> TransitionToNotified {
        self.fetch_update_action(|curr| {
            if curr.is_complete() {
                (TransitionToNotified::DoNothing, None)
            } else if curr.is_notified() {
                // Already queued, but the wake must still happen-before the
                // poll that follows, or that poll may miss what the waker
                // published before waking: write the same value back, a
                // release that `transition_to_running`'s CAS acquires.
                (TransitionToNotified::DoNothing, Some(curr))
            } else if curr.is_running() {
                (
                    TransitionToNotified::DoNothing,
                    Some(Snapshot(curr.0 | NOTIFIED)),
                )
            } else {
                let mut next = Snapshot(curr.0 | NOTIFIED);
                next.ref_inc();
                (TransitionToNotified::Submit, Some(next))
            }
        })
    }

    /// `JoinHandle::cancel`: marks the task cancelled and, if it is idle,
    /// notifies it so that a worker drops its future promptly.
    pub(crate) fn transition_to_notified_and_cancel(&self) -> TransitionToNotified {
        self.fetch_update_action(|curr| {
            if curr.is_complete() || curr.is_cancelled() {
                (TransitionToNotified::DoNothing, None)
            } else if curr.is_running() {
                // The poller cancels after its poll returns (a held task:
                // the worker that pops it).
                (
                    TransitionToNotified::DoNothing,
                    Some(Snapshot(curr.0 | NOTIFIED | CANCELLED)),
                )
            } else if curr.is_notified() {
                // Already queued: the worker that pops it will cancel it.
                (
                    TransitionToNotified::DoNothing,
                    Some(Snapshot(curr.0 | CANCELLED)),
                )
            } else {
                let mut next = Snapshot(curr.0 | NOTIFIED | CANCELLED);
                next.ref_inc();
                (TransitionToNotified::Submit, Some(next))
            }
        })
    }

    /// Runtime shutdown: if the task is idle and not queued, take `RUNNING`
    /// so the caller cancels it now (returns true). Otherwise only mark it
    /// cancelled: a queued task is cancelled when its queue is drained.
    pub(crate) fn transition_to_shutdown(&self) -> bool {
        self.fetch_update_action(|curr| {
            if curr.is_idle() && !curr.is_notified() {
                (true, Some(Snapshot(curr.0 | RUNNING | CANCELLED)))
            } else if curr.is_complete() || curr.is_cancelled() {
                (false, None)
            } else {
                (false, Some(Snapshot(curr.0 | CANCELLED)))
            }
        })
    }

    /// Marks the task cancelled without notifying it (used for a task whose
    /// `Notified` the caller holds and is about to run).
    pub(crate) fn set_cancelled(&self) {
        self.val.fetch_or(CANCELLED, AcqRel);
    }

    /// Takes one more reference.
    #[inline]
    pub(crate) fn ref_inc(&self) {
        let prev = self.val.fetch_add(REF_ONE, Relaxed);
        // Far more references than tasks could ever exist means a leak loop:
        // stop before the count wraps into the flag bits.
        if prev > isize::MAX as usize {
            std::process::abort();
        }
    }

    /// Releases one reference; true when it was the last.
    #[inline]
    pub(crate) fn ref_dec(&self) -> bool {
        let prev = Snapshot(self.val.fetch_sub(REF_ONE, AcqRel));
        debug_assert!(prev.ref_count() >= 1);
        prev.ref_count() == 1
    }

    /// The `JoinHandle` is dropped. Returns (drop the output, drop the waker):
    /// the handle must drop the output when the task already completed, and
    /// owns the waker slot unless the completer still has it published.
    pub(crate) fn transition_to_join_handle_dropped(&self) -> (bool, bool) {
        let prev = self.fetch_update_action(|curr| {
            debug_assert!(curr.is_join_interested());
            let mut next = Snapshot(curr.0 & !JOIN_INTEREST);
            if !curr.is_complete() {
                // Take the slot back: the completer will not read it.
                next.0 &= !JOIN_WAKER;
            }
            (curr, Some(next))
        });
        let drop_output = prev.is_complete();
        let drop_waker = !prev.is_complete() || !prev.is_join_waker_set();
        (drop_output, drop_waker)
    }

    /// The handle wrote a waker into the (owned) slot and publishes it.
    /// `Err` means the task completed first: the slot stays the handle's.
    pub(crate) fn set_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update_action(|curr| {
            debug_assert!(curr.is_join_interested() && !curr.is_join_waker_set());
            if curr.is_complete() {
                return (Err(curr), None);
            }
            let next = Snapshot(curr.0 | JOIN_WAKER);
            (Ok(next), Some(next))
        })
    }

    /// The handle takes the published slot back to replace the waker.
    /// `Err` means the task completed first (the completer may be reading).
    pub(crate) fn unset_join_waker(&self) -> Result<Snapshot, Snapshot> {
        self.fetch_update_action(|curr| {
            debug_assert!(curr.is_join_interested());
            if curr.is_complete() {
                // The completer may already have handed the slot back
                // (`unset_join_waker_after_complete`): JOIN_WAKER may be clear.
                return (Err(curr), None);
            }
            debug_assert!(curr.is_join_waker_set());
            let next = Snapshot(curr.0 & !JOIN_WAKER);
            (Ok(next), Some(next))
        })
    }

    /// The completer is done with the published slot and hands it back.
    /// Returns the previous state: if join interest is gone by now, the
    /// completer must drop the waker itself.
    pub(crate) fn unset_join_waker_after_complete(&self) -> Snapshot {
        let prev = Snapshot(self.val.fetch_and(!JOIN_WAKER, AcqRel));
        debug_assert!(prev.is_complete() && prev.is_join_waker_set());
        prev
    }

    /// Fast path for dropping a `JoinHandle` of a task that was never polled:
    /// the spawn state with join interest removed and a reference released.
    pub(crate) fn drop_join_handle_fast(&self) -> Result<(), ()> {
        let initial = NOTIFIED | JOIN_INTEREST | (3 * REF_ONE);
        let next = NOTIFIED | (2 * REF_ONE);
        self.val
            .compare_exchange(initial, next, Release, Relaxed)
            .map(|_| ())
            .map_err(|_| ())
    }
}

impl Snapshot {
    #[inline]
    pub(crate) fn is_idle(self) -> bool {
        self.0 & LIFECYCLE_MASK == 0
    }
    #[inline]
    pub(crate) fn is_running(self) -> bool {
        self.0 & RUNNING != 0
    }
    #[inline]
    pub(crate) fn is_complete(self) -> bool {
        self.0 & COMPLETE != 0
    }
    #[inline]
    pub(crate) fn is_notified(self) -> bool {
        self.0 & NOTIFIED != 0
    }
    #[inline]
    pub(crate) fn is_cancelled(self) -> bool {
        self.0 & CANCELLED != 0
    }
    #[inline]
    pub(crate) fn is_join_interested(self) -> bool {
        self.0 & JOIN_INTEREST != 0
    }
    #[inline]
    pub(crate) fn is_join_waker_set(self) -> bool {
        self.0 & JOIN_WAKER != 0
    }
    #[inline]
    pub(crate) fn ref_count(self) -> usize {
        (self.0 & REF_MASK) >> REF_SHIFT
    }
    #[inline]
    fn ref_inc(&mut self) {
        self.0 += REF_ONE;
    }
    #[inline]
    fn ref_dec(&mut self) {
        debug_assert!(self.ref_count() > 0);
        self.0 -= REF_ONE;
    }
}

impl fmt::Debug for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.load().fmt(f)
    }
}

impl fmt::Debug for Snapshot {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Snapshot")
            .field("running", &self.is_running())
            .field("complete", &self.is_complete())
            .field("notified", &self.is_notified())
            .field("cancelled", &self.is_cancelled())
            .field("join_interest", &self.is_join_interested())
            .field("join_waker", &self.is_join_waker_set())
            .field("refs", &self.ref_count())
            .finish()
    }
}

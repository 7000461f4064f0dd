//! Poll timing (debug mode): timing each poll, the slow-poll report when it
//! returns, the poll-time histogram, and the watchdog that reports a poll
//! still running past the threshold.
//!
//! Every thread that polls tasks for a runtime (its workers, and `block_on`
//! threads while they run queued tasks) has a [`ThreadSlot`]: its histogram
//! and a [`PollSlot`] that publishes the poll in progress. Polls elsewhere
//! (rare: a thread without a slot of this runtime) count in a shared
//! histogram and are not watched.
//!
//! **The poll slot is a sequence lock with one writer.** The polling thread
//! bumps `seq` to an odd value at the start of a poll, after storing the
//! task and the start time, and to an even value at the end. The watchdog
//! reads `seq`, then the fields, then `seq` again; equal odd values prove
//! the fields belong to that one poll. The writer's release fence before
//! the field stores pairs with the reader's acquire fence before its second
//! read: a reader that saw a field of the *next* poll also sees that `seq`
//! moved (loom model `executor_poll_slot.rs`). The watchdog never follows a
//! pointer into a task that may be gone: it finds the task in the owned
//! list by id, under the list's lock, and checks `seq` again before it
//! reports.
//!
//! Owns timing and the watchdog; what a report says is `mod.rs`'s.

use super::clock;
use super::metrics::Histogram;
use super::{Diagnostics, Report};
use crate::loom::atomic::{AtomicU64, fence};
use crate::loom::{Condvar, CvMutex};
use crate::sched::Shared;
use crate::tasks::{Header, TaskInfo};
use std::cell::Cell;
use std::io;
use std::ptr;
use std::sync::Arc;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::thread;
use std::time::Duration;

/// How polls are timed, when they are.
pub(crate) struct PollTiming {
    /// Report polls longer than this (`None`: only the histogram).
    pub(crate) threshold: Option<Duration>,
    /// Polls on threads without a slot of this runtime.
    pub(crate) others: Histogram,
    /// Set at shutdown; the watchdog waits on it between scans.
    stop: CvMutex<bool>,
    stop_cv: Condvar,
}

impl PollTiming {
    pub(crate) fn new(threshold: Option<Duration>) -> PollTiming {
        PollTiming {
            threshold,
            others: Histogram::default(),
            stop: CvMutex::new(false),
            stop_cv: Condvar::new(),
        }
    }

    /// Stops the watchdog (runtime shutdown).
    pub(crate) fn stop_watchdog(&self) {
        *self.stop.lock() = true;
        self.stop_cv.notify_all();
    }

    /// Waits `period` or until stopped; true if stopped.
    fn wait(&self, period: Duration) -> bool {
        let stop = self.stop.lock();
        if *stop {
            return true;
        }
        let (stop, _) = self.stop_cv.wait_timeout(stop, period);
        *stop
    }
}

impl std::fmt::Debug for PollTiming {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PollTiming")
            .field("threshold", &self.threshold)
            .finish_non_exhaustive()
    }
}

/// A thread's poll timing state: the poll in progress and its histogram.
#[derive(Default)]
pub struct ThreadSlot {
    /// The poll in progress, for the watchdog.
    pub poll: PollSlot,
    pub(crate) histogram: Histogram,
}

impl std::fmt::Debug for ThreadSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ThreadSlot").finish_non_exhaustive()
    }
}

thread_local! {
    /// The slot of this thread, and the diagnostics (runtime) it belongs to.
    static SLOT: Cell<(*const Diagnostics, *const ThreadSlot)> =
        const { Cell::new((ptr::null(), ptr::null())) };
}

/// Makes `slot` this thread's slot for `diag`'s runtime until dropped.
pub(crate) struct EnterSlot((*const Diagnostics, *const ThreadSlot));

impl EnterSlot {
    pub(crate) fn new(diag: &Diagnostics, slot: &ThreadSlot) -> EnterSlot {
        EnterSlot(SLOT.with(|s| s.replace((diag, slot))))
    }
}

impl Drop for EnterSlot {
    fn drop(&mut self) {
        let _ = SLOT.try_with(|s| s.set(self.0));
    }
}

impl Diagnostics {
    /// This thread's slot, if it has one for this runtime.
    fn current_slot(&self) -> Option<&ThreadSlot> {
        let (diag, slot) = SLOT.try_with(Cell::get).ok()?;
        if !ptr::eq(diag, self) {
            return None;
        }
        // SAFETY: the pointer was set by an `EnterSlot` guard, which lives
        // on this thread's stack no longer than the slot it points to (a
        // worker's, in `Shared`, or a `block_on` call's), and it is cleared
        // or restored when the guard drops.
        unsafe { slot.as_ref() }
    }

    /// Runs `poll` (one poll of the task `header`) timed: publishes it for
    /// the watchdog, counts it in the histogram, reports it if slow.
    #[inline]
    pub(crate) fn time_poll<R>(
        &self,
        timing: &PollTiming,
        header: &Header,
        poll: impl FnOnce() -> R,
    ) -> R {
        let slot = self.current_slot();
        let start_ns = clock::now_ns();
        if let Some(slot) = slot {
            slot.poll.begin(header.id.as_u64(), header.shard, start_ns);
        }
        let out = poll();
        let elapsed = Duration::from_nanos(clock::now_ns().saturating_sub(start_ns));
        self.poll_done(timing, slot, header, elapsed);
        out
    }

    fn poll_done(
        &self,
        timing: &PollTiming,
        slot: Option<&ThreadSlot>,
        header: &Header,
        elapsed: Duration,
    ) {
        match slot {
            Some(slot) => {
                slot.poll.end();
                slot.histogram.record(elapsed);
            }
            None => timing.others.record_shared(elapsed),
        }
        if let Some(threshold) = timing.threshold
            && elapsed >= threshold
        {
            self.report_slow(header, elapsed);
        }
    }

    #[cold]
    fn report_slow(&self, header: &Header, elapsed: Duration) {
        self.reporter.report(&Report::SlowPoll {
            task: TaskInfo::of(header),
            elapsed,
            still_running: false,
        });
    }
}

/// The poll in progress on one thread (see the module docs).
#[derive(Default)]
pub struct PollSlot {
    /// Odd while a poll is in progress; bumped at its start and end.
    seq: AtomicU64,
    task: AtomicU64,
    shard: AtomicU64,
    started_ns: AtomicU64,
    /// The `seq` of the last poll the watchdog reported (watchdog only).
    reported: AtomicU64,
}

impl std::fmt::Debug for PollSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PollSlot")
            .field("poll", &self.snapshot())
            .finish()
    }
}

/// A consistent reading of a [`PollSlot`] with a poll in progress.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollSnapshot {
    /// The poll's sequence number (odd).
    pub seq: u64,
    /// The id of the task being polled.
    pub task: u64,
    /// Its owned-list shard.
    pub shard: u32,
    /// When the poll started, on the runtime's clock.
    pub started_ns: u64,
}

impl PollSlot {
    /// A poll starts (called by the slot's thread only).
    pub fn begin(&self, task: u64, shard: u32, started_ns: u64) {
        let seq = self.seq.load(Relaxed);
        debug_assert!(seq.is_multiple_of(2), "a poll began inside another");
        // Orders the previous poll's end before the stores below (see the
        // module docs).
        fence(Release);
        self.task.store(task, Relaxed);
        self.shard.store(u64::from(shard), Relaxed);
        self.started_ns.store(started_ns, Relaxed);
        self.seq.store(seq.wrapping_add(1), Release);
    }

    /// The poll ended (called by the slot's thread only).
    pub fn end(&self) {
        let seq = self.seq.load(Relaxed);
        self.seq.store(seq.wrapping_add(1), Release);
    }

    /// The poll in progress, if any, read consistently.
    pub fn snapshot(&self) -> Option<PollSnapshot> {
        let seq = self.seq.load(Acquire);
        if seq.is_multiple_of(2) {
            return None;
        }
        let task = self.task.load(Relaxed);
        let shard = self.shard.load(Relaxed) as u32;
        let started_ns = self.started_ns.load(Relaxed);
        fence(Acquire);
        (self.seq.load(Relaxed) == seq).then_some(PollSnapshot {
            seq,
            task,
            shard,
            started_ns,
        })
    }

    /// Whether the poll `seq` is still in progress.
    pub fn is_in(&self, seq: u64) -> bool {
        self.seq.load(Acquire) == seq
    }
}

/// Starts the watchdog thread of `shared`'s runtime (only when a slow-poll
/// threshold is set). It scans every slot each half threshold and stops at
/// shutdown.
pub(crate) fn start_watchdog(shared: &Arc<Shared>) -> io::Result<Option<thread::JoinHandle<()>>> {
    let Some(threshold) = shared.diag.timing.as_ref().and_then(|t| t.threshold) else {
        return Ok(None);
    };
    let shared = shared.clone();
    let period = (threshold / 2).clamp(Duration::from_millis(1), Duration::from_millis(500));
    thread::Builder::new()
        .name("filch-watchdog".into())
        .spawn(move || watchdog(&shared, threshold, period))
        .map(Some)
}

fn watchdog(shared: &Shared, threshold: Duration, period: Duration) {
    let timing = shared
        .diag
        .timing
        .as_ref()
        .expect("the watchdog runs only with timing");
    let threshold_ns = u64::try_from(threshold.as_nanos()).unwrap_or(u64::MAX);
    while !timing.wait(period) {
        let now = clock::now_ns();
        for stats in shared.stats.iter() {
            check(shared, &stats.slot.poll, now, threshold_ns);
        }
        let block_ons: Vec<_> = shared.block_ons.lock().clone();
        for b in block_ons {
            if let Some(slot) = &b.slot {
                check(shared, &slot.poll, now, threshold_ns);
            }
        }
    }
}

/// Reports the poll in progress on `slot` if it has run past the threshold
/// and was not reported yet.
fn check(shared: &Shared, slot: &PollSlot, now: u64, threshold_ns: u64) {
    let Some(snap) = slot.snapshot() else { return };
    let elapsed = now.saturating_sub(snap.started_ns);
    if elapsed < threshold_ns || slot.reported.load(Relaxed) == snap.seq {
        return;
    }
    let Some(task) = shared.owned.find(snap.shard, snap.task) else {
        return;
    };
    if !slot.is_in(snap.seq) {
        // The poll ended meanwhile; its end reports it.
        return;
    }
    slot.reported.store(snap.seq, Relaxed);
    shared.diag.reporter.report(&Report::SlowPoll {
        task,
        elapsed: Duration::from_nanos(elapsed),
        still_running: true,
    });
}

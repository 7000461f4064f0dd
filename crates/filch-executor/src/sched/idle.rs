//! Which workers are parked, which are searching for work, and who must be
//! woken when work appears.
//!
//! One atomic word counts unparked workers (high half) and searching workers
//! (low half); the list of sleepers sits behind a mutex. The rules:
//!
//! * A producer that made work available calls [`Idle::worker_to_notify`]:
//!   after a `SeqCst` fence it reads the word, and wakes a sleeper only when
//!   nobody is searching and someone is parked. A woken worker starts as a
//!   searcher, so a burst of spawns wakes one worker, not one per task.
//! * At most about half of the workers search at once.
//! * A searcher that parks and was the *last* searcher must look at every
//!   queue once more afterwards (`true` from `transition_worker_to_parked`):
//!   either the producer saw it searching (and so skipped the wake-up), and
//!   then this final look sees the work; or the producer saw it gone, and
//!   then the producer woke someone. No wake-up is lost.
//!
//! Also the count of LIFO watchers ([`Watchers`]) and its handshake with a
//! worker filling its LIFO slot.
//!
//! Owns these counters and the sleepers list; it does not touch queues.

use crate::loom::Mutex;
use crate::loom::atomic::{AtomicBool, AtomicUsize, fence};
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release, SeqCst};

const SEARCH_MASK: usize = (1 << 16) - 1;
const UNPARK_SHIFT: usize = 16;
const UNPARK_ONE: usize = 1 << UNPARK_SHIFT;

/// Idle bookkeeping of one runtime.
pub struct Idle {
    state: AtomicUsize,
    num_workers: usize,
    sleepers: Mutex<Vec<usize>>,
    parked: Box<[AtomicBool]>,
}

impl Idle {
    /// All `num_workers` workers start unparked and not searching.
    pub fn new(num_workers: usize) -> Idle {
        assert!(num_workers < SEARCH_MASK);
        Idle {
            state: AtomicUsize::new(num_workers << UNPARK_SHIFT),
            num_workers,
            sleepers: Mutex::new(Vec::with_capacity(num_workers)),
            parked: (0..num_workers).map(|_| AtomicBool::new(false)).collect(),
        }
    }

    /// Called after work was made available. Returns the worker to unpark
    /// (already accounted as unparked and searching), if one must be woken.
    pub fn worker_to_notify(&self) -> Option<usize> {
        // Orders the producer's queue push before the read of the counters;
        // pairs with the SeqCst update in `transition_worker_to_parked`.
        fence(SeqCst);
        if !self.should_notify(self.state.load(SeqCst)) {
            return None;
        }
        let mut sleepers = self.sleepers.lock();
        if !self.should_notify(self.state.load(SeqCst)) {
            return None;
        }
        let index = sleepers.pop()?;
        // Count the worker unparked and searching *before* it can see that
        // it was picked: it reads `parked` without the lock, and once it
        // sees `false` it may find a task and stop searching at once
        // (`transition_worker_from_searching`), which must find its count.
        self.state.fetch_add(UNPARK_ONE | 1, SeqCst);
        self.parked[index].store(false, Release);
        Some(index)
    }

    fn should_notify(&self, state: usize) -> bool {
        state & SEARCH_MASK == 0 && (state >> UNPARK_SHIFT) < self.num_workers
    }

    /// A worker wants to search other workers' queues; refused when about
    /// half of the workers already search.
    pub fn transition_worker_to_searching(&self) -> bool {
        let state = self.state.load(SeqCst);
        if 2 * (state & SEARCH_MASK) >= self.num_workers {
            return false;
        }
        self.state.fetch_add(1, SeqCst);
        true
    }

    /// A searcher found work. True if it was the last searcher: then it must
    /// wake another worker, because more work may be waiting.
    pub fn transition_worker_from_searching(&self) -> bool {
        let prev = self.state.fetch_sub(1, SeqCst);
        debug_assert!(prev & SEARCH_MASK > 0);
        prev & SEARCH_MASK == 1
    }

    /// A worker is about to park. True if it was the last searcher: then it
    /// must check every queue once more (see the module docs).
    pub fn transition_worker_to_parked(&self, index: usize, is_searching: bool) -> bool {
        let mut sleepers = self.sleepers.lock();
        let dec = UNPARK_ONE + usize::from(is_searching);
        let prev = self.state.fetch_sub(dec, SeqCst);
        sleepers.push(index);
        self.parked[index].store(true, Release);
        drop(sleepers);
        // Orders the counter update before the final look at the queues.
        fence(SeqCst);
        is_searching && prev & SEARCH_MASK == 1
    }

    /// Whether the worker is still in the sleepers list (not yet woken by a
    /// producer).
    pub fn is_parked(&self, index: usize) -> bool {
        self.parked[index].load(Acquire)
    }

    /// A parked worker woke up by itself (timer, I/O event, LIFO watch) and
    /// has work. Returns true if a producer had already woken it, in which
    /// case it was accounted as a searcher.
    pub fn unpark_self(&self, index: usize) -> bool {
        let mut sleepers = self.sleepers.lock();
        match sleepers.iter().position(|&i| i == index) {
            Some(pos) => {
                sleepers.swap_remove(pos);
                self.parked[index].store(false, Release);
                self.state.fetch_add(UNPARK_ONE, SeqCst);
                false
            }
            None => true,
        }
    }

    /// Workers not parked right now.
    pub fn num_unparked(&self) -> usize {
        self.state.load(Relaxed) >> UNPARK_SHIFT
    }

    /// Workers not parked right now, read in the total order of the
    /// counter's updates (for the idle check, which pairs with other
    /// threads' updates of other counters).
    pub fn num_unparked_seqcst(&self) -> usize {
        self.state.load(SeqCst) >> UNPARK_SHIFT
    }

    /// Workers searching right now.
    pub fn num_searching(&self) -> usize {
        self.state.load(Relaxed) & SEARCH_MASK
    }

    /// Whether a sleeper exists and nobody is searching (a new task would
    /// wait for someone to notice it).
    pub fn nobody_looking(&self) -> bool {
        self.should_notify(self.state.load(SeqCst))
    }
}

/// How many parked workers watch other workers' LIFO slots (`worker.rs`):
/// the handshake between a worker that fills its slot and a parked worker
/// that gives up watching.
///
/// A filler calls [`none_after_fill`](Self::none_after_fill) and, if true,
/// wakes a sleeper; a parked worker that finds nothing to watch calls
/// [`remove`](Self::remove), then [`before_last_look`](Self::before_last_look),
/// then looks at the slots once more. With a `SeqCst` fence on each side
/// between its write (the fill; the decrement) and its read (the count; the
/// slots), one of the two sees the other: the task is watched, or a sleeper
/// is woken for it. Written at every park, read at every fill: on its own
/// cache line.
#[derive(Default)]
pub struct Watchers(crossbeam_utils::CachePadded<AtomicUsize>);

impl Watchers {
    /// Nobody watching.
    pub fn new() -> Watchers {
        Watchers(crossbeam_utils::CachePadded::new(AtomicUsize::new(0)))
    }

    /// A parked worker starts watching.
    pub fn add(&self) {
        self.0.fetch_add(1, Relaxed);
    }

    /// A worker stops watching (woken, or nothing to watch).
    pub fn remove(&self) {
        self.0.fetch_sub(1, Relaxed);
    }

    /// After filling a LIFO slot: true if nobody watches (then the filler
    /// wakes a sleeper if nobody else is looking).
    pub fn none_after_fill(&self) -> bool {
        // Orders the fill before the read of the count.
        fence(SeqCst);
        self.0.load(Relaxed) == 0
    }

    /// Between giving up the role and the last look at the slots.
    pub fn before_last_look(&self) {
        // Orders the decrement before the reads of the slots.
        fence(SeqCst);
    }
}

impl std::fmt::Debug for Watchers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_tuple("Watchers")
            .field(&self.0.load(Relaxed))
            .finish()
    }
}

impl std::fmt::Debug for Idle {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Idle")
            .field("unparked", &self.num_unparked())
            .field("searching", &self.num_searching())
            .finish()
    }
}

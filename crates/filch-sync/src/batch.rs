//! The fair counting semaphore under `Semaphore`, `Mutex`, `RwLock` and the
//! capacity of bounded `mpsc` channels.
//!
//! ## State
//! One word holds `permits << 2 | WAITERS | CLOSED`, and a [`WaitList`]
//! (under its own lock) holds the acquirers that are waiting, oldest first.
//! Each waiting node's `state` is the number of permits it still needs
//! (`0` once it has all of them; `NODE_CLOSED | still_needed` if the
//! semaphore closed under it).
//!
//! ## Invariants (checked by the loom models in `loom-tests/`)
//! - `WAITERS` is set exactly when the list is non-empty; both only change
//!   with the list lock held. While `WAITERS` is set the word holds zero
//!   permits: released permits go to the waiters first, oldest first, and a
//!   waiter that needs more than is free takes what there is and waits for
//!   the rest. So a newcomer can never overtake a waiter (FIFO fairness),
//!   and the uncontended paths are one CAS each:
//!   - acquire: `permits >= n` and not closed → subtract;
//!   - release: `WAITERS` clear → add; otherwise take the lock and hand the
//!     permits to waiters.
//! - Permits are conserved: every permit is in the word, assigned to a
//!   node, held by a permit guard, or forgotten on purpose. A node that is
//!   dropped while waiting returns what it was assigned; one dropped after
//!   it was fully served but before its future saw it returns all of it
//!   (which hands it to the next waiter).
//! - `close` sets `CLOSED` under the list lock, so no waiter is queued after
//!   it, and releases every queued node with `NODE_CLOSED`.
//!
//! This module owns the permit protocol; it must not know about guards,
//! data or channels (the public types wrap it).

use crate::loom::Mutex;
use crate::loom::atomic::AtomicUsize;
use crate::wait_list::{WaitList, Waiter, WakeBatch};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Relaxed, Release};
use std::task::{Context, Poll, ready};

const CLOSED: usize = 1;
const WAITERS: usize = 2;
const SHIFT: u32 = 2;

/// The most permits a semaphore can hold.
pub(crate) const MAX_PERMITS: usize = usize::MAX >> 3;

/// Node state bit: the semaphore closed while the node waited.
const NODE_CLOSED: usize = 1 << (usize::BITS - 1);

/// Why an acquire failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum TryAcquire {
    Closed,
    NoPermits,
}

/// The semaphore is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Closed;

#[derive(Debug)]
pub(crate) struct RawSemaphore {
    state: AtomicUsize,
    waiters: Mutex<WaitList>,
}

impl RawSemaphore {
    /// # Panics
    /// If `permits > MAX_PERMITS`.
    pub(crate) fn new(permits: usize) -> RawSemaphore {
        assert!(
            permits <= MAX_PERMITS,
            "a semaphore holds at most {MAX_PERMITS} permits, not {permits}"
        );
        RawSemaphore {
            state: AtomicUsize::new(permits << SHIFT),
            waiters: Mutex::new(WaitList::new()),
        }
    }

    /// `const` constructor (not available under loom, whose atomics are not
    /// `const`).
    #[cfg(not(loom))]
    pub(crate) const fn const_new(permits: usize) -> RawSemaphore {
        assert!(permits <= MAX_PERMITS, "too many permits for a semaphore");
        RawSemaphore {
            state: AtomicUsize::new(permits << SHIFT),
            waiters: Mutex::new(WaitList::new()),
        }
    }

    pub(crate) fn available_permits(&self) -> usize {
        self.state.load(Acquire) >> SHIFT
    }

    pub(crate) fn is_closed(&self) -> bool {
        self.state.load(Acquire) & CLOSED != 0
    }

    /// Takes `n` permits if they are free and nobody waits.
    pub(crate) fn try_acquire(&self, n: usize) -> Result<(), TryAcquire> {
        let mut cur = self.state.load(Acquire);
        loop {
            if cur & CLOSED != 0 {
                return Err(TryAcquire::Closed);
            }
            // While WAITERS is set the word holds no permits, so this also
            // refuses to overtake a waiter.
            if cur >> SHIFT < n {
                return Err(TryAcquire::NoPermits);
            }
            match self
                .state
                .compare_exchange_weak(cur, cur - (n << SHIFT), Acquire, Acquire)
            {
                Ok(_) => return Ok(()),
                Err(actual) => cur = actual,
            }
        }
    }

    /// Returns `n` permits, handing them to waiters first.
    ///
    /// # Panics
    /// If the semaphore would hold more than [`MAX_PERMITS`] permits.
    pub(crate) fn release(&self, n: usize) {
        if n == 0 {
            return;
        }
        let mut cur = self.state.load(Relaxed);
        loop {
            if cur & WAITERS != 0 {
                return self.assign_locked(n, self.waiters.lock());
            }
            let new = add_permits(cur, n);
            match self.state.compare_exchange_weak(cur, new, Release, Relaxed) {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Removes up to `n` free permits; returns how many were removed.
    pub(crate) fn forget(&self, n: usize) -> usize {
        let mut cur = self.state.load(Relaxed);
        loop {
            let take = n.min(cur >> SHIFT);
            if take == 0 {
                return 0;
            }
            match self
                .state
                .compare_exchange_weak(cur, cur - (take << SHIFT), AcqRel, Relaxed)
            {
                Ok(_) => return take,
                Err(actual) => cur = actual,
            }
        }
    }

    /// Closes the semaphore: pending and future acquires fail. Permits
    /// released later are still counted.
    pub(crate) fn close(&self) {
        let mut list = self.waiters.lock();
        self.state.fetch_or(CLOSED, Release);
        loop {
            let mut batch = WakeBatch::new();
            while !batch.is_full() {
                let Some(node) = list.pop_front() else { break };
                let need = node.state();
                // SAFETY: we hold the lock and just unlinked the node.
                batch.push(unsafe { node.release(NODE_CLOSED | need) });
            }
            if list.is_empty() {
                self.state.fetch_and(!WAITERS, Release);
                drop(list);
                batch.wake_all();
                return;
            }
            drop(list);
            batch.wake_all();
            list = self.waiters.lock();
        }
    }

    /// A future that acquires `n` permits.
    ///
    /// # Panics
    /// If `n > MAX_PERMITS` (it could never be served).
    pub(crate) fn acquire(&self, n: usize) -> Acquiring<'_> {
        assert!(
            n <= MAX_PERMITS,
            "cannot acquire {n} permits: a semaphore holds at most {MAX_PERMITS}"
        );
        Acquiring {
            sem: self,
            node: Waiter::new(0),
            needed: n,
            queued: false,
        }
    }

    /// Hands `n` permits to the waiters (oldest first), puts what is left
    /// back in the word, and keeps `WAITERS` equal to "list non-empty".
    fn assign_locked<'a>(&'a self, mut n: usize, mut list: crate::loom::MutexGuard<'a, WaitList>) {
        let mut batch = WakeBatch::new();
        loop {
            while n > 0 && !batch.is_full() {
                let Some(head) = list.front() else { break };
                let need = head.state();
                if n < need {
                    // SAFETY: we hold the lock and the node is linked.
                    unsafe { head.set_state(need - n) };
                    n = 0;
                    break;
                }
                n -= need;
                let head = list.pop_front().expect("front exists");
                // SAFETY: we hold the lock and just unlinked the node.
                batch.push(unsafe { head.release(0) });
            }
            if list.is_empty() {
                let mut cur = self.state.load(Relaxed);
                loop {
                    let new = add_permits(cur & !WAITERS, n);
                    match self.state.compare_exchange_weak(cur, new, Release, Relaxed) {
                        Ok(_) => break,
                        Err(actual) => cur = actual,
                    }
                }
                n = 0;
            }
            drop(list);
            batch.wake_all();
            if n == 0 {
                return;
            }
            // The batch filled up with permits left to give: go on after
            // waking the first ones outside the lock.
            list = self.waiters.lock();
        }
    }

    /// Polls an acquire of `needed` permits with `node` (see [`Acquiring`]).
    fn poll_acquire(
        &self,
        node: &Waiter,
        needed: usize,
        queued: &mut bool,
        cx: &mut Context<'_>,
    ) -> Poll<Result<(), Closed>> {
        if *queued {
            let state = node.state();
            if state == 0 || state & NODE_CLOSED != 0 {
                return Poll::Ready(self.finish(needed, state, queued));
            }
            let list = self.waiters.lock();
            let state = node.state();
            if state == 0 || state & NODE_CLOSED != 0 {
                drop(list);
                return Poll::Ready(self.finish(needed, state, queued));
            }
            // SAFETY: we hold the lock and the node is linked.
            unsafe { node.set_waker(cx.waker()) };
            drop(list);
            return Poll::Pending;
        }

        match self.try_acquire(needed) {
            Ok(()) => return Poll::Ready(Ok(())),
            Err(TryAcquire::Closed) => return Poll::Ready(Err(Closed)),
            Err(TryAcquire::NoPermits) => {}
        }

        let mut list = self.waiters.lock();
        let mut cur = self.state.load(Acquire);
        loop {
            if cur & CLOSED != 0 {
                return Poll::Ready(Err(Closed));
            }
            let free = cur >> SHIFT;
            if free >= needed {
                match self.state.compare_exchange_weak(
                    cur,
                    cur - (needed << SHIFT),
                    Acquire,
                    Acquire,
                ) {
                    Ok(_) => return Poll::Ready(Ok(())),
                    Err(actual) => cur = actual,
                }
                continue;
            }
            // Take every free permit and queue for the rest.
            match self
                .state
                .compare_exchange_weak(cur, WAITERS, AcqRel, Acquire)
            {
                Ok(_) => break,
                Err(actual) => cur = actual,
            }
        }
        let free = cur >> SHIFT;
        // SAFETY: the node is ours and not linked yet; then we hold the lock
        // while linking it, and the node is pinned inside `Acquiring`, whose
        // Drop unlinks it.
        unsafe {
            node.set_state(needed - free);
            node.set_waker(cx.waker());
            list.push_back(node, 0);
        }
        *queued = true;
        Poll::Pending
    }

    /// The node left the list with final state `state`: the acquire is
    /// done (`0`) or failed because the semaphore closed (then the permits
    /// assigned before closing go back).
    fn finish(&self, needed: usize, state: usize, queued: &mut bool) -> Result<(), Closed> {
        *queued = false;
        if state == 0 {
            return Ok(());
        }
        self.release(needed - (state & !NODE_CLOSED));
        Err(Closed)
    }

    /// The `Acquiring` future is dropped while its node may be queued: give
    /// back whatever it was assigned, so no permit is lost.
    fn cancel(&self, node: &Waiter, needed: usize) {
        let state = node.state();
        if state == 0 || state & NODE_CLOSED != 0 {
            // Already out of the list: it was served (or closed) but never
            // saw it. Pass what it got on.
            return self.release(needed - (state & !NODE_CLOSED));
        }
        let mut list = self.waiters.lock();
        let state = node.state();
        if state == 0 || state & NODE_CLOSED != 0 {
            drop(list);
            return self.release(needed - (state & !NODE_CLOSED));
        }
        // SAFETY: the node is linked in this list (state says still
        // waiting, and only this list's lock holders change that).
        let removed = unsafe { list.remove(node) };
        debug_assert!(removed);
        // Hand the partial assignment on; also clears WAITERS if we were
        // the last waiter.
        self.assign_locked(needed - state, list);
    }
}

fn add_permits(cur: usize, n: usize) -> usize {
    let permits = (cur >> SHIFT)
        .checked_add(n)
        .filter(|&p| p <= MAX_PERMITS)
        .unwrap_or_else(|| panic!("a semaphore holds at most {MAX_PERMITS} permits"));
    (cur & (CLOSED | WAITERS)) | (permits << SHIFT)
}

/// Acquires permits from a [`RawSemaphore`]. Cancel-safe: dropping it at any
/// point loses no permit (see [`RawSemaphore::cancel`]). Spends one unit of
/// the task's cooperative budget when it completes.
#[derive(Debug)]
#[must_use = "futures do nothing unless polled"]
pub(crate) struct Acquiring<'a> {
    sem: &'a RawSemaphore,
    node: Waiter,
    needed: usize,
    queued: bool,
}

impl Future for Acquiring<'_> {
    type Output = Result<(), Closed>;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        let coop = ready!(filch_executor::coop::poll_proceed(cx));
        // SAFETY: we never move `node` out of the pinned future; the other
        // fields are plain data.
        let this = unsafe { self.get_unchecked_mut() };
        let out = this
            .sem
            .poll_acquire(&this.node, this.needed, &mut this.queued, cx);
        if out.is_ready() {
            coop.made_progress();
        }
        out
    }
}

impl Drop for Acquiring<'_> {
    fn drop(&mut self) {
        if self.queued {
            self.sem.cancel(&self.node, self.needed);
        }
    }
}

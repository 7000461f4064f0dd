//! `Notify` (tokio's signatures): wake one task, or every waiting task,
//! without data.
//!
//! ## State
//! One word holds `calls << 2 | {EMPTY, WAITING, NOTIFIED}`, where `calls`
//! counts `notify_waiters` calls, and a [`WaitList`] holds the waiting
//! `Notified` futures. `EMPTY <-> NOTIFIED` (storing and consuming the single
//! permit) happen lock-free; `WAITING` is entered and left only under the
//! list lock, and holds exactly when the list is non-empty.
//!
//! Each waiting node is tagged with the `calls` value it waits in. A
//! `notify_waiters` bumps `calls` and releases, batch by batch, the nodes of
//! older tags; nodes that arrive while it has dropped the lock carry the new
//! tag and are left alone. A `notify_one` that finds old-tag nodes at the
//! front releases them as part of that broadcast (they were notified
//! already) and gives its own notification to the first current node, so a
//! broadcast in progress never swallows a `notify_one`.
//!
//! A `Notified` dropped after `notify_one` picked it but before it returned
//! `Ready` passes the notification on (to the next waiter, or as the stored
//! permit).
//!
//! This file owns that protocol; it must not hold the lock while waking.

use crate::loom::Mutex;
use crate::loom::atomic::AtomicUsize;
use crate::wait_list::{WaitList, Waiter, WakeBatch, is_older, release_all};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::{AcqRel, Acquire, Release};
use std::task::{Context, Poll, Waker, ready};

const EMPTY: usize = 0;
const WAITING: usize = 1;
const NOTIFIED: usize = 2;
const MASK: usize = 3;
const CALL: usize = 4;

const NODE_WAITING: usize = 0;
const NODE_ONE: usize = 1;
const NODE_ALL: usize = 2;

/// Wakes one waiting task, or all of them, without passing data (tokio's
/// `Notify`).
///
/// [`notify_one`](Self::notify_one) wakes the oldest waiter, or, if none
/// waits, stores one permit that the next [`notified`](Self::notified)
/// consumes at once. [`notify_waiters`](Self::notify_waiters) wakes every
/// task waiting *now* (and every `Notified` future created before the call)
/// and stores nothing.
///
/// ```
/// use filch_sync::Notify;
/// use std::sync::Arc;
///
/// let rt = filch_executor::Executor::new().unwrap();
/// rt.block_on(async {
///     let notify = Arc::new(Notify::new());
///     let waiter = filch_executor::spawn({
///         let notify = notify.clone();
///         async move { notify.notified().await; "woken" }
///     });
///     notify.notify_one();
///     assert_eq!(waiter.await.unwrap(), "woken");
/// });
/// ```
pub struct Notify {
    state: AtomicUsize,
    waiters: Mutex<WaitList>,
}

/// The future returned by [`Notify::notified`].
///
/// Cancel-safe: dropping it loses no notification. If `notify_one` had
/// already chosen it, the notification goes to the next waiter (or becomes
/// the stored permit).
///
/// ```
/// let notify = filch_sync::Notify::new();
/// notify.notify_one();
/// let rt = filch_executor::Executor::new().unwrap();
/// rt.block_on(notify.notified()); // consumes the stored permit
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct Notified<'a> {
    notify: &'a Notify,
    node: Waiter,
    /// `calls` (shifted, as in the state word) when the future was made.
    calls: usize,
    phase: Phase,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Init,
    Waiting,
    Done,
}

impl Notify {
    /// A `Notify` with no stored permit.
    ///
    /// ```
    /// let n = filch_sync::Notify::new();
    /// # drop(n);
    /// ```
    pub fn new() -> Notify {
        Notify {
            state: AtomicUsize::new(EMPTY),
            waiters: Mutex::new(WaitList::new()),
        }
    }

    /// A `Notify` usable in a `static`.
    ///
    /// ```
    /// static READY: filch_sync::Notify = filch_sync::Notify::const_new();
    /// READY.notify_one();
    /// ```
    #[cfg(not(loom))]
    pub const fn const_new() -> Notify {
        Notify {
            state: AtomicUsize::new(EMPTY),
            waiters: Mutex::new(WaitList::new()),
        }
    }

    /// A future that completes when this `Notify` is notified.
    ///
    /// A `notify_waiters` call made after `notified()` returns completes the
    /// future even if it was not polled yet; `notify_one` only reaches it
    /// once it is polled (or [`enable`](Notified::enable)d), or through the
    /// stored permit. See [`Notified`] for cancel safety.
    ///
    /// ```
    /// let notify = filch_sync::Notify::new();
    /// let fut = notify.notified();
    /// notify.notify_waiters();
    /// let rt = filch_executor::Executor::new().unwrap();
    /// rt.block_on(fut); // created before the call: completes
    /// ```
    pub fn notified(&self) -> Notified<'_> {
        Notified {
            notify: self,
            node: Waiter::new(NODE_WAITING),
            calls: self.state.load(Acquire) & !MASK,
            phase: Phase::Init,
        }
    }

    /// Wakes the oldest waiter, or stores a permit (at most one) for the
    /// next `notified()` if nobody waits.
    ///
    /// ```
    /// let notify = filch_sync::Notify::new();
    /// notify.notify_one();
    /// notify.notify_one(); // permits do not accumulate
    /// let rt = filch_executor::Executor::new().unwrap();
    /// rt.block_on(notify.notified());
    /// ```
    pub fn notify_one(&self) {
        self.notify(false);
    }

    /// Like [`notify_one`](Self::notify_one), but wakes the newest waiter.
    ///
    /// ```
    /// let notify = filch_sync::Notify::new();
    /// notify.notify_last();
    /// let rt = filch_executor::Executor::new().unwrap();
    /// rt.block_on(notify.notified());
    /// ```
    pub fn notify_last(&self) {
        self.notify(true);
    }

    fn notify(&self, newest: bool) {
        let mut cur = self.state.load(Acquire);
        while cur & MASK != WAITING {
            // Even when a permit is already stored, write it again: the RMW
            // publishes what this caller did before notifying to whoever
            // consumes the permit.
            match self
                .state
                .compare_exchange_weak(cur, (cur & !MASK) | NOTIFIED, AcqRel, Acquire)
            {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
        self.notify_locked(self.waiters.lock(), newest);
    }

    /// `notify_one` with the lock held (also the pass-on path of a dropped
    /// `Notified`).
    fn notify_locked<'a>(&'a self, mut list: crate::loom::MutexGuard<'a, WaitList>, newest: bool) {
        let mut batch = WakeBatch::new();
        loop {
            let cur = self.state.load(Acquire);
            if cur & MASK != WAITING {
                // Nobody waits: store the permit.
                match self
                    .state
                    .compare_exchange(cur, (cur & !MASK) | NOTIFIED, AcqRel, Acquire)
                {
                    Ok(_) => break,
                    Err(_) => continue,
                }
            }
            let calls = cur & !MASK;
            // Old-tag nodes at the front belong to a `notify_waiters` in
            // progress: release them for it first.
            if list.release_front_while(&mut batch, NODE_ALL, &|tag| is_older(tag, calls)) {
                drop(list);
                batch.wake_all();
                list = self.waiters.lock();
                continue;
            }
            let node = if newest {
                list.pop_back()
            } else {
                list.pop_front()
            };
            let picked = match node {
                Some(node) => {
                    // SAFETY: we hold the lock and just unlinked the node.
                    batch.push(unsafe { node.release(NODE_ONE) });
                    true
                }
                None => false,
            };
            if list.is_empty() {
                // Nobody else writes the word while it says WAITING.
                self.state.store(calls | EMPTY, Release);
            }
            if picked {
                break;
            }
            // Every waiter was an old-tag one: store the permit instead.
        }
        drop(list);
        batch.wake_all();
    }

    /// Wakes every task waiting now, and completes every [`Notified`]
    /// created before this call. Stores no permit.
    ///
    /// ```
    /// use filch_sync::Notify;
    /// use std::sync::Arc;
    ///
    /// let rt = filch_executor::Executor::new().unwrap();
    /// rt.block_on(async {
    ///     let notify = Arc::new(Notify::new());
    ///     let futs: Vec<_> = (0..3).map(|_| notify.notified()).collect();
    ///     notify.notify_waiters();
    ///     for f in futs {
    ///         f.await;
    ///     }
    /// });
    /// ```
    pub fn notify_waiters(&self) {
        // Nobody waits: count the call with one CAS. A waiter enqueueing
        // concurrently moves the word to WAITING with a CAS under the lock,
        // so one of the two CASes fails and retries: either it sees the new
        // count (and completes), or we see WAITING (and take the lock).
        let mut cur = self.state.load(Acquire);
        while cur & MASK != WAITING {
            match self
                .state
                .compare_exchange_weak(cur, cur.wrapping_add(CALL), AcqRel, Acquire)
            {
                Ok(_) => return,
                Err(actual) => cur = actual,
            }
        }
        let list = self.waiters.lock();
        let cur = self.state.load(Acquire);
        if cur & MASK != WAITING {
            // The last waiter left meanwhile; lock-free EMPTY <-> NOTIFIED
            // transitions may race: add.
            self.state.fetch_add(CALL, AcqRel);
            return;
        }
        let calls = (cur & !MASK).wrapping_add(CALL);
        // Still WAITING: the nodes stay listed until released.
        self.state.store(calls | WAITING, Release);
        release_all(
            &self.waiters,
            list,
            |l| l,
            NODE_ALL,
            |tag| is_older(tag, calls),
            |l| {
                if l.is_empty() {
                    let cur = self.state.load(Acquire);
                    if cur & MASK == WAITING {
                        self.state.store(cur & !MASK, Release);
                    }
                }
            },
        );
    }
}

impl Default for Notify {
    fn default() -> Self {
        Notify::new()
    }
}

impl fmt::Debug for Notify {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let cur = self.state.load(Acquire);
        f.debug_struct("Notify")
            .field("permit", &(cur & MASK == NOTIFIED))
            .field("waiting", &(cur & MASK == WAITING))
            .finish()
    }
}

impl Notified<'_> {
    /// Registers this future as a waiter without polling it, so that
    /// `notify_one` can pick it. Returns `true` if it is already notified
    /// (the next poll completes at once).
    ///
    /// Useful to avoid missing a `notify_one` between checking a condition
    /// and starting to wait:
    ///
    /// ```
    /// use std::pin::pin;
    /// let notify = filch_sync::Notify::new();
    /// let mut fut = pin!(notify.notified());
    /// assert!(!fut.as_mut().enable());
    /// notify.notify_one(); // reaches the enabled future, not the permit
    /// assert!(fut.as_mut().enable());
    /// ```
    pub fn enable(self: Pin<&mut Self>) -> bool {
        self.poll_inner(None).is_ready()
    }

    fn poll_inner(self: Pin<&mut Self>, waker: Option<&Waker>) -> Poll<()> {
        // SAFETY: `node` is never moved out of the pinned future; the other
        // fields are plain data.
        let this = unsafe { self.get_unchecked_mut() };
        let notify = this.notify;
        match this.phase {
            Phase::Done => Poll::Ready(()),
            Phase::Waiting => {
                if this.node.state() != NODE_WAITING {
                    this.phase = Phase::Done;
                    return Poll::Ready(());
                }
                let list = notify.waiters.lock();
                if this.node.state() != NODE_WAITING {
                    drop(list);
                    this.phase = Phase::Done;
                    return Poll::Ready(());
                }
                if let Some(w) = waker {
                    // SAFETY: we hold the lock; the node is linked.
                    unsafe { this.node.set_waker(w) };
                }
                Poll::Pending
            }
            Phase::Init => {
                let mut cur = notify.state.load(Acquire);
                if let Some(ready) = this.try_complete(&mut cur) {
                    return ready;
                }
                let mut list = notify.waiters.lock();
                let mut cur = notify.state.load(Acquire);
                loop {
                    if let Some(ready) = this.try_complete(&mut cur) {
                        return ready;
                    }
                    if cur & MASK == EMPTY
                        && let Err(actual) = notify.state.compare_exchange(
                            cur,
                            (cur & !MASK) | WAITING,
                            AcqRel,
                            Acquire,
                        )
                    {
                        cur = actual;
                        continue;
                    }
                    break;
                }
                // SAFETY: the node is ours and not linked; we hold the lock
                // while linking it, and the node is pinned inside `self`,
                // whose Drop unlinks it.
                unsafe {
                    if let Some(w) = waker {
                        this.node.set_waker(w);
                    }
                    list.push_back(&this.node, cur & !MASK);
                }
                this.phase = Phase::Waiting;
                Poll::Pending
            }
        }
    }

    /// Completes if a `notify_waiters` happened since creation, or a
    /// permit is stored (consuming it). `None` means "must wait".
    fn try_complete(&mut self, cur: &mut usize) -> Option<Poll<()>> {
        loop {
            if *cur & !MASK != self.calls {
                self.phase = Phase::Done;
                return Some(Poll::Ready(()));
            }
            if *cur & MASK != NOTIFIED {
                return None;
            }
            match self
                .notify
                .state
                .compare_exchange(*cur, *cur & !MASK, AcqRel, Acquire)
            {
                Ok(_) => {
                    self.phase = Phase::Done;
                    return Some(Poll::Ready(()));
                }
                Err(actual) => *cur = actual,
            }
        }
    }
}

impl Future for Notified<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let coop = ready!(filch_executor::coop::poll_proceed(cx));
        let out = self.poll_inner(Some(cx.waker()));
        if out.is_ready() {
            coop.made_progress();
        }
        out
    }
}

impl Drop for Notified<'_> {
    fn drop(&mut self) {
        // Released by a broadcast: out of the list, nothing to pass on.
        if self.phase != Phase::Waiting || self.node.state() == NODE_ALL {
            return;
        }
        let notify = self.notify;
        let mut list = notify.waiters.lock();
        match self.node.state() {
            NODE_WAITING => {
                // SAFETY: the node is still waiting, so it is linked in this
                // list (only its lock holders unlink it).
                unsafe { list.remove(&self.node) };
                if list.is_empty() {
                    let cur = notify.state.load(Acquire);
                    debug_assert_eq!(cur & MASK, WAITING);
                    notify.state.store(cur & !MASK, Release);
                }
            }
            // Picked by `notify_one` but never seen: pass it on.
            NODE_ONE => notify.notify_locked(list, false),
            _ => {}
        }
    }
}

impl fmt::Debug for Notified<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Notified")
            .field("phase", &self.phase)
            .finish()
    }
}

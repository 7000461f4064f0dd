//! `Event` (asyncio's `Event`): a flag that tasks wait on until it is set.
//!
//! ## State
//! One word holds `generation << 1 | SET`; a [`WaitList`] holds the waiting
//! tasks, each tagged with the generation it waits in. `set` (under the
//! lock) sets the flag, bumps the generation and releases every node of an
//! older generation, a batch at a time; a task that starts waiting while
//! `set` has dropped the lock to wake a batch either sees the flag (and does
//! not wait) or, if the event was cleared meanwhile, waits with the new tag
//! and is left alone. `clear` only clears the flag (lock-free), and `wait`
//! returns at once, without the lock, when the flag is set.
//!
//! This file owns that protocol; it must not hold the lock while waking.

use crate::loom::Mutex;
use crate::loom::atomic::AtomicUsize;
use crate::wait_list::{WaitList, Waiter, is_older, release_all};
use std::fmt;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering::{AcqRel, Acquire};
use std::task::{Context, Poll, ready};

const SET: usize = 1;
const GENERATION: usize = 2;

const NODE_WAITING: usize = 0;
const NODE_SET: usize = 1;

/// A flag tasks can wait on (asyncio's `Event`).
///
/// [`set`](Self::set) wakes every waiting task; while the flag is set,
/// [`wait`](Self::wait) returns at once. [`clear`](Self::clear) lowers it
/// again. A task woken by `set` completes even if the event was cleared
/// before it ran (as in asyncio).
///
/// ```
/// use filch_sync::Event;
/// use std::sync::Arc;
///
/// let rt = filch_executor::Executor::new().unwrap();
/// rt.block_on(async {
///     let ev = Arc::new(Event::new());
///     let waiter = filch_executor::spawn({
///         let ev = ev.clone();
///         async move { ev.wait().await; "go" }
///     });
///     ev.set();
///     assert_eq!(waiter.await.unwrap(), "go");
///     assert!(ev.is_set());
/// });
/// ```
pub struct Event {
    state: AtomicUsize,
    waiters: Mutex<WaitList>,
}

/// The future returned by [`Event::wait`].
///
/// Cancel-safe: dropping it only removes it from the waiters (a `set` is a
/// broadcast, so nothing needs passing on).
///
/// ```
/// let ev = filch_sync::Event::new();
/// ev.set();
/// let rt = filch_executor::Executor::new().unwrap();
/// rt.block_on(ev.wait());
/// ```
#[must_use = "futures do nothing unless polled"]
pub struct EventWait<'a> {
    event: &'a Event,
    node: Waiter,
    queued: bool,
}

impl Event {
    /// A new event, not set.
    ///
    /// ```
    /// assert!(!filch_sync::Event::new().is_set());
    /// ```
    pub fn new() -> Event {
        Event {
            state: AtomicUsize::new(0),
            waiters: Mutex::new(WaitList::new()),
        }
    }

    /// A new event, not set, usable in a `static`.
    ///
    /// ```
    /// static STARTED: filch_sync::Event = filch_sync::Event::const_new();
    /// STARTED.set();
    /// assert!(STARTED.is_set());
    /// ```
    #[cfg(not(loom))]
    pub const fn const_new() -> Event {
        Event {
            state: AtomicUsize::new(0),
            waiters: Mutex::new(WaitList::new()),
        }
    }

    /// Whether the flag is set.
    ///
    /// ```
    /// let ev = filch_sync::Event::new();
    /// ev.set();
    /// assert!(ev.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.state.load(Acquire) & SET != 0
    }

    /// Sets the flag and wakes every waiting task. Does nothing if it is
    /// already set.
    ///
    /// ```
    /// let ev = filch_sync::Event::new();
    /// ev.set();
    /// ev.set();
    /// assert!(ev.is_set());
    /// ```
    pub fn set(&self) {
        if self.is_set() {
            return;
        }
        let list = self.waiters.lock();
        let cur = self.state.load(Acquire);
        if cur & SET != 0 {
            return;
        }
        // Only `clear` writes without the lock, and it cannot change a word
        // whose flag is already clear: adding `GENERATION | SET` bumps the
        // generation and sets the flag (an RMW, so it stays ordered with a
        // concurrent `clear`).
        let generation = (cur & !SET).wrapping_add(GENERATION);
        self.state.fetch_add(GENERATION | SET, AcqRel);
        release_all(
            &self.waiters,
            list,
            |l| l,
            NODE_SET,
            |tag| is_older(tag, generation),
            |_| {},
        );
    }

    /// Clears the flag: later [`wait`](Self::wait)s wait for the next
    /// [`set`](Self::set).
    ///
    /// ```
    /// let ev = filch_sync::Event::new();
    /// ev.set();
    /// ev.clear();
    /// assert!(!ev.is_set());
    /// ```
    pub fn clear(&self) {
        self.state.fetch_and(!SET, AcqRel);
    }

    /// Waits until the flag is set; returns at once if it is set now.
    /// Cancel-safe (see [`EventWait`]).
    ///
    /// ```
    /// use std::sync::Arc;
    /// let ev = Arc::new(filch_sync::Event::new());
    /// let rt = filch_executor::Executor::new().unwrap();
    /// let t = rt.spawn({
    ///     let ev = ev.clone();
    ///     async move { ev.wait().await }
    /// });
    /// ev.set();
    /// rt.block_on(t).unwrap();
    /// ```
    pub fn wait(&self) -> EventWait<'_> {
        EventWait {
            event: self,
            node: Waiter::new(NODE_WAITING),
            queued: false,
        }
    }
}

impl Default for Event {
    fn default() -> Self {
        Event::new()
    }
}

impl fmt::Debug for Event {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Event")
            .field("is_set", &self.is_set())
            .finish()
    }
}

impl Future for EventWait<'_> {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let coop = ready!(filch_executor::coop::poll_proceed(cx));
        // SAFETY: `node` is never moved out of the pinned future.
        let this = unsafe { self.get_unchecked_mut() };
        let event = this.event;
        if this.queued {
            if this.node.state() == NODE_SET {
                this.queued = false;
                coop.made_progress();
                return Poll::Ready(());
            }
            let list = event.waiters.lock();
            if this.node.state() == NODE_SET {
                drop(list);
                this.queued = false;
                coop.made_progress();
                return Poll::Ready(());
            }
            // SAFETY: we hold the lock; the node is linked.
            unsafe { this.node.set_waker(cx.waker()) };
            return Poll::Pending;
        }
        if event.is_set() {
            coop.made_progress();
            return Poll::Ready(());
        }
        let mut list = event.waiters.lock();
        let cur = event.state.load(Acquire);
        if cur & SET != 0 {
            drop(list);
            coop.made_progress();
            return Poll::Ready(());
        }
        // SAFETY: the node is ours and not linked; we hold the lock, and the
        // node is pinned inside `self`, whose Drop unlinks it.
        unsafe {
            this.node.set_waker(cx.waker());
            list.push_back(&this.node, cur & !SET);
        }
        this.queued = true;
        Poll::Pending
    }
}

impl Drop for EventWait<'_> {
    fn drop(&mut self) {
        if !self.queued || self.node.state() == NODE_SET {
            return;
        }
        let mut list = self.event.waiters.lock();
        // SAFETY: the node is either still linked in this list or was
        // released by `set` (then `remove` sees it unlinked).
        unsafe { list.remove(&self.node) };
    }
}

impl fmt::Debug for EventWait<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventWait")
            .field("queued", &self.queued)
            .finish()
    }
}

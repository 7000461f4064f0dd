//! The one waiter queue every blocking primitive of this crate is built on.
//!
//! A [`WaitList`] is an intrusive, doubly linked FIFO of [`Waiter`] nodes.
//! Each node lives inside the future that waits (so waiting never
//! allocates) and is pinned there; the list only holds raw pointers to it.
//! The list itself carries no lock: each primitive keeps it inside its own
//! `Mutex` (from the [`loom`](crate::loom) shim) together with whatever state
//! the mutex guards, and every list operation takes `&mut WaitList`, which
//! can only be had through that lock.
//!
//! ## The protocol
//!
//! A node has three parts:
//! - its links and a `tag` (owned by the lock: read and written only with
//!   the lock held);
//! - its waker slot (also owned by the lock);
//! - a `state` word, the node's *result*. Notifiers write it with the lock
//!   held; the waiting future may read it **without** the lock.
//!
//! The rules every primitive follows, which make the scheme sound:
//! 1. A node is pushed by its own future, under the lock, with a `state`
//!    that means "still waiting", and it stays alive and pinned until it is
//!    unlinked (the future's `Drop` takes the lock and unlinks it if it is
//!    still linked).
//! 2. A notifier unlinks the node, takes its waker and then writes the final
//!    `state` with `Release` ([`Waiter::release`]). That store is its last
//!    access to the node: once the future observes the final state with
//!    `Acquire` it may complete and free the node without taking the lock.
//! 3. Wakers are woken after the lock is dropped ([`WakeBatch`]), at most
//!    [`WakeBatch::CAPACITY`] at a time, so a broadcast to thousands of
//!    waiters neither allocates nor holds the lock while running arbitrary
//!    wake code.
//! 4. A future that is dropped after it was notified but before it observed
//!    the notification gives what it was handed (permits, a wake-up) to the
//!    next waiter: each primitive implements that in its cancel path.
//!
//! Broadcasts ("wake everyone waiting *now*") use the `tag`: the primitive
//! bumps a generation under the lock, stamps each node with the generation it
//! waits in, and the broadcaster only releases nodes of older generations,
//! so waiters that arrive while it has dropped the lock to wake a batch are
//! left alone.
//!
//! This module owns the list and the node layout; it must not decide what a
//! notification means (permits, wake-ups, items): that is each primitive's
//! business.

use crate::loom::atomic::AtomicUsize;
use crate::loom::{Mutex, MutexGuard, UnsafeCell};
use std::marker::PhantomPinned;
use std::mem::MaybeUninit;
use std::ptr::NonNull;
use std::sync::atomic::Ordering::{Acquire, Relaxed, Release};
use std::task::Waker;

/// A node of a [`WaitList`], embedded in (and pinned by) a waiting future.
#[derive(Debug)]
pub(crate) struct Waiter {
    /// Links and tag: owned by the lock that guards the list.
    links: UnsafeCell<Links>,
    /// The waker to call: owned by the lock that guards the list.
    waker: UnsafeCell<Option<Waker>>,
    /// The node's result (see the module docs, rule 2).
    state: AtomicUsize,
    /// The list holds pointers to this node, so it must never move.
    _pin: PhantomPinned,
}

#[derive(Debug)]
struct Links {
    prev: Option<NonNull<Waiter>>,
    next: Option<NonNull<Waiter>>,
    linked: bool,
    tag: usize,
}

// SAFETY: the raw links are only followed under the list's lock, the waker
// slot is only touched under that lock, and `state` is atomic; a `Waiter` has
// no thread affinity.
unsafe impl Send for Waiter {}
// SAFETY: as above: every shared access is either atomic or made under the
// lock of the list the node is in.
unsafe impl Sync for Waiter {}

impl Waiter {
    /// A node that is not in any list, with `state` set to `state`.
    pub(crate) fn new(state: usize) -> Waiter {
        Waiter {
            links: UnsafeCell::new(Links {
                prev: None,
                next: None,
                linked: false,
                tag: 0,
            }),
            waker: UnsafeCell::new(None),
            state: AtomicUsize::new(state),
            _pin: PhantomPinned,
        }
    }

    /// The node's result, read without the lock (pairs with the `Release`
    /// store of [`release`](Self::release)).
    #[inline]
    pub(crate) fn state(&self) -> usize {
        self.state.load(Acquire)
    }

    /// Writes an intermediate state (the node stays linked). The waiting
    /// future may read it concurrently but draws no conclusion from an
    /// intermediate value.
    ///
    /// # Safety
    /// The caller holds the lock of the list the node is linked in, or owns
    /// the node and it is not linked.
    #[inline]
    pub(crate) unsafe fn set_state(&self, state: usize) {
        self.state.store(state, Relaxed);
    }

    /// Stores `waker` unless the stored one would wake the same task.
    ///
    /// # Safety
    /// The caller holds the lock of the list the node is linked in (or is
    /// about to be pushed to).
    pub(crate) unsafe fn set_waker(&self, waker: &Waker) {
        self.waker.with_mut(|slot| {
            // SAFETY: the lock gives us exclusive access to the slot.
            let slot = unsafe { &mut *slot };
            match slot {
                Some(old) if old.will_wake(waker) => {}
                _ => *slot = Some(waker.clone()),
            }
        });
    }

    /// Takes the waker out and publishes the final `state`. This is the
    /// notifier's last access to the node (module docs, rule 2).
    ///
    /// # Safety
    /// The caller holds the lock of the list the node was in, and has
    /// already unlinked the node.
    #[must_use = "the returned waker must be woken"]
    pub(crate) unsafe fn release(&self, state: usize) -> Option<Waker> {
        // SAFETY: the lock gives us exclusive access to the slot.
        let waker = self.waker.with_mut(|slot| unsafe { (*slot).take() });
        self.state.store(state, Release);
        waker
    }

    /// Whether the node is in a list.
    ///
    /// # Safety
    /// The caller holds the lock of the list the node may be in.
    pub(crate) unsafe fn is_linked(&self) -> bool {
        // SAFETY: the lock owns the links.
        self.links.with(|l| unsafe { (*l).linked })
    }
}

/// An intrusive FIFO of [`Waiter`]s. Lives inside a primitive's mutex; see
/// the module docs for the protocol.
#[derive(Debug, Default)]
pub(crate) struct WaitList {
    head: Option<NonNull<Waiter>>,
    tail: Option<NonNull<Waiter>>,
}

// SAFETY: the list only stores pointers to nodes that are `Send + Sync`; it is
// always used behind a lock.
unsafe impl Send for WaitList {}

impl WaitList {
    pub(crate) const fn new() -> WaitList {
        WaitList {
            head: None,
            tail: None,
        }
    }

    #[inline]
    pub(crate) fn is_empty(&self) -> bool {
        self.head.is_none()
    }

    /// Links `node` at the back with `tag`.
    ///
    /// # Safety
    /// `node` is not in any list, is pinned, and stays alive until it is
    /// unlinked (by [`pop_front`](Self::pop_front),
    /// [`pop_back`](Self::pop_back) or [`remove`](Self::remove)). `self`
    /// being borrowed mutably proves the lock is held.
    pub(crate) unsafe fn push_back(&mut self, node: &Waiter, tag: usize) {
        let ptr = NonNull::from(node);
        node.links.with_mut(|l| {
            // SAFETY: the lock owns the links of `node`.
            let l = unsafe { &mut *l };
            debug_assert!(!l.linked, "a waiter was pushed twice");
            l.prev = self.tail;
            l.next = None;
            l.linked = true;
            l.tag = tag;
        });
        match self.tail {
            // SAFETY: `tail` is linked, hence alive (push_back contract).
            Some(tail) => unsafe { tail.as_ref() }
                .links
                // SAFETY: the lock owns the links.
                .with_mut(|l| unsafe { (*l).next = Some(ptr) }),
            None => self.head = Some(ptr),
        }
        self.tail = Some(ptr);
    }

    /// Links `node` at the front with `tag` (a waiter that lost a race it
    /// was woken for keeps its place).
    ///
    /// # Safety
    /// As for [`push_back`](Self::push_back).
    pub(crate) unsafe fn push_front(&mut self, node: &Waiter, tag: usize) {
        let ptr = NonNull::from(node);
        node.links.with_mut(|l| {
            // SAFETY: the lock owns the links of `node`.
            let l = unsafe { &mut *l };
            debug_assert!(!l.linked, "a waiter was pushed twice");
            l.prev = None;
            l.next = self.head;
            l.linked = true;
            l.tag = tag;
        });
        match self.head {
            // SAFETY: `head` is linked, hence alive (push_back contract).
            Some(head) => unsafe { head.as_ref() }
                .links
                // SAFETY: the lock owns the links.
                .with_mut(|l| unsafe { (*l).prev = Some(ptr) }),
            None => self.tail = Some(ptr),
        }
        self.head = Some(ptr);
    }

    /// The oldest waiter, still linked.
    #[inline]
    pub(crate) fn front(&self) -> Option<&Waiter> {
        // SAFETY: linked nodes are alive (push_back contract), and the
        // returned borrow cannot outlive `&self`, i.e. the lock.
        self.head.map(|p| unsafe { &*p.as_ptr() })
    }

    /// The tag the oldest waiter was pushed with.
    pub(crate) fn front_tag(&self) -> Option<usize> {
        // SAFETY: the lock owns the links of linked nodes.
        self.front().map(|n| n.links.with(|l| unsafe { (*l).tag }))
    }

    /// Unlinks and returns the oldest waiter. The caller then
    /// [`release`](Waiter::release)s it (or re-links it).
    pub(crate) fn pop_front(&mut self) -> Option<&Waiter> {
        let head = self.head?;
        // SAFETY: `head` is linked, hence alive; the lock owns its links.
        unsafe { self.unlink(head) };
        // SAFETY: the node is alive until its owner sees its final state,
        // which the caller has not published yet.
        Some(unsafe { &*head.as_ptr() })
    }

    /// Unlinks and returns the newest waiter.
    pub(crate) fn pop_back(&mut self) -> Option<&Waiter> {
        let tail = self.tail?;
        // SAFETY: `tail` is linked, hence alive; the lock owns its links.
        unsafe { self.unlink(tail) };
        // SAFETY: as in `pop_front`.
        Some(unsafe { &*tail.as_ptr() })
    }

    /// Unlinks `node` if it is linked; returns whether it was.
    ///
    /// # Safety
    /// `node` is either not linked in any list, or linked in this one.
    pub(crate) unsafe fn remove(&mut self, node: &Waiter) -> bool {
        // SAFETY: the lock owns the links; the caller guarantees that if the
        // node is linked, it is in this list.
        if !unsafe { node.is_linked() } {
            return false;
        }
        // SAFETY: linked in this list (caller's contract).
        unsafe { self.unlink(NonNull::from(node)) };
        true
    }

    /// # Safety
    /// `node` is linked in this list.
    unsafe fn unlink(&mut self, node: NonNull<Waiter>) {
        // SAFETY: linked nodes are alive; the lock owns their links.
        let (prev, next) = unsafe { node.as_ref() }.links.with_mut(|l| {
            // SAFETY: as above.
            let l = unsafe { &mut *l };
            l.linked = false;
            (l.prev.take(), l.next.take())
        });
        match prev {
            // SAFETY: neighbours are linked, hence alive.
            Some(p) => unsafe { p.as_ref() }
                .links
                // SAFETY: the lock owns the links.
                .with_mut(|l| unsafe { (*l).next = next }),
            None => self.head = next,
        }
        match next {
            // SAFETY: neighbours are linked, hence alive.
            Some(n) => unsafe { n.as_ref() }
                .links
                // SAFETY: the lock owns the links.
                .with_mut(|l| unsafe { (*l).prev = prev }),
            None => self.tail = prev,
        }
    }

    /// Releases waiters from the front, with final state `state`, while
    /// their tag satisfies `older` and `batch` has room. Returns whether it
    /// stopped because the batch is full (more may be left).
    pub(crate) fn release_front_while(
        &mut self,
        batch: &mut WakeBatch,
        state: usize,
        older: &impl Fn(usize) -> bool,
    ) -> bool {
        while let Some(tag) = self.front_tag() {
            if !older(tag) {
                return false;
            }
            if batch.is_full() {
                return true;
            }
            let node = self.pop_front().expect("front exists");
            // SAFETY: we hold the lock and just unlinked the node.
            batch.push(unsafe { node.release(state) });
        }
        false
    }
}

/// Whether a waiter tagged with generation `tag` queued before generation
/// `current` began. Generations are wrapping counters compared by distance,
/// so the answer stays right across the wrap (as long as fewer than half
/// the counter's range of generations pass while one waiter waits).
pub(crate) fn is_older(tag: usize, current: usize) -> bool {
    (current.wrapping_sub(tag) as isize) > 0
}

/// Releases, with final state `state`, every waiter at the front of the
/// list reached through `list` whose tag satisfies `older`, a batch at a
/// time: the lock is dropped to wake each batch and taken again for the
/// next. `after` runs under the lock once the last batch is collected (to
/// update the primitive's state, e.g. "nobody waits any more").
///
/// Waiters that arrive while the lock is dropped must be pushed with a tag
/// for which `older` is false, or they would be released by a broadcast
/// that began before they arrived.
pub(crate) fn release_all<'a, G>(
    mutex: &'a Mutex<G>,
    mut guard: MutexGuard<'a, G>,
    list: impl Fn(&mut G) -> &mut WaitList,
    state: usize,
    older: impl Fn(usize) -> bool,
    after: impl FnOnce(&mut G),
) {
    let mut batch = WakeBatch::new();
    while list(&mut guard).release_front_while(&mut batch, state, &older) {
        drop(guard);
        batch.wake_all();
        guard = mutex.lock();
    }
    after(&mut guard);
    drop(guard);
    batch.wake_all();
}

/// Wakers collected under a lock, woken after it is dropped.
pub(crate) struct WakeBatch {
    wakers: [MaybeUninit<Waker>; WakeBatch::CAPACITY],
    len: usize,
}

impl WakeBatch {
    /// Wakers per batch: how many waiters a broadcast releases per lock
    /// hold (1 under loom, so that small models drop and retake the lock
    /// in the middle of a broadcast).
    pub(crate) const CAPACITY: usize = if cfg!(loom) { 1 } else { 32 };

    pub(crate) fn new() -> WakeBatch {
        WakeBatch {
            wakers: [const { MaybeUninit::uninit() }; WakeBatch::CAPACITY],
            len: 0,
        }
    }

    #[inline]
    pub(crate) fn is_full(&self) -> bool {
        self.len == WakeBatch::CAPACITY
    }

    /// Adds a waker (a `None` is a node whose future had not registered one,
    /// which cannot happen for a polled future but costs nothing to accept).
    ///
    /// # Panics
    /// If the batch is full (callers check [`is_full`](Self::is_full)).
    pub(crate) fn push(&mut self, waker: Option<Waker>) {
        if let Some(w) = waker {
            assert!(!self.is_full(), "WakeBatch overflow");
            self.wakers[self.len].write(w);
            self.len += 1;
        }
    }

    /// Wakes and removes every waker.
    pub(crate) fn wake_all(&mut self) {
        while self.len > 0 {
            self.len -= 1;
            // SAFETY: slots below `len` are initialised, and lowering `len`
            // first hands this one's ownership to us exactly once.
            let w = unsafe { self.wakers[self.len].assume_init_read() };
            w.wake();
        }
    }
}

impl Drop for WakeBatch {
    fn drop(&mut self) {
        // A wake-up is never lost, even when the batch is dropped early by
        // a panic.
        self.wake_all();
    }
}

impl std::fmt::Debug for WakeBatch {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WakeBatch").field("len", &self.len).finish()
    }
}

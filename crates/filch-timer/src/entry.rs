//! A timer entry: the intrusive wheel node, waker slot and state that live
//! inside a pinned `Sleep`, and the protocol between the `Sleep` (register,
//! poll, reset, drop) and the worker that fires it.
//!
//! Rules:
//! * The node and the waker slot are only touched under the lock of the
//!   wheel the entry is registered in.
//! * `state` is written under that lock (by the firing worker, or by a reset)
//!   and read without it, so a fired timer is seen as ready without locking.
//! * Which wheel the entry is in (`cell`) is only touched by the `Sleep`'s
//!   owner, which has `Pin<&mut Sleep>`; the firing side never reads it.
//! * Before the entry's memory goes away (drop), it takes the wheel lock and
//!   unlinks itself; a worker firing it holds the same lock and never touches
//!   the entry after releasing it (it takes the waker out first).
//!
//! The entry never takes a reference of the `&mut` kind to itself while
//! registered: everything shared sits in an `UnsafeCell` and is reached
//! through `&Entry`; the type is `!Unpin`, like every intrusive future.
//! Must not decide *which* wheel to use (that is `sleep.rs`).

use crate::driver::WheelCell;
use crate::loom::UnsafeCell;
use crate::loom::atomic::AtomicUsize;
use crate::wheel::Node;
use std::marker::PhantomPinned;
use std::ptr::NonNull;
use std::sync::Arc;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::task::Waker;

/// Not fired (or not registered yet).
const PENDING: usize = 0;
/// Fired: the deadline was reached.
const FIRED: usize = 1;
/// The runtime shut down while the entry was registered.
const SHUTDOWN: usize = 2;

/// What the owner learns from polling its entry.
#[derive(Debug, PartialEq, Eq)]
pub enum EntryState {
    /// Not fired (or not registered yet).
    Pending,
    /// The deadline was reached.
    Fired,
    /// The runtime shut down while the entry was registered.
    Shutdown,
}

/// The result of registering or resetting an entry.
#[derive(Debug, PartialEq, Eq)]
pub enum Registered {
    /// Linked.
    Linked {
        /// The wheel's next deadline became earlier, so its worker may
        /// need a wake-up.
        lowered: bool,
    },
    /// Already due: not linked, and marked fired.
    Due,
    /// The runtime shut down.
    Shutdown,
}

/// The part of a `Sleep` a wheel links and a worker fires (see the module
/// doc for the protocol).
#[repr(C)]
#[cfg_attr(loom, allow(missing_debug_implementations))]
pub struct Entry {
    /// First field, so a node pointer is an entry pointer. Guarded by the
    /// wheel lock. (A std cell: the wheel reaches it through raw pointers.)
    node: std::cell::UnsafeCell<Node>,
    /// Guarded by the wheel lock.
    waker: UnsafeCell<Option<Waker>>,
    state: AtomicUsize,
    /// The wheel holding the entry; owner-only.
    cell: std::cell::UnsafeCell<Option<Arc<WheelCell>>>,
    _pin: PhantomPinned,
}

// SAFETY: the fields shared with a firing worker (node, waker, state) are
// synchronized by the wheel lock and the atomic state; `cell` is only
// touched by the owner through `Pin<&mut Sleep>`.
unsafe impl Send for Entry {}
// SAFETY: as above: `&Entry` gives access to shared fields only under the
// wheel lock or atomically.
unsafe impl Sync for Entry {}

impl Entry {
    /// An entry in no wheel, pending.
    #[cfg_attr(loom, allow(clippy::new_without_default))]
    pub fn new() -> Entry {
        Entry {
            node: std::cell::UnsafeCell::new(Node::default()),
            waker: UnsafeCell::new(None),
            state: AtomicUsize::new(PENDING),
            cell: std::cell::UnsafeCell::new(None),
            _pin: PhantomPinned,
        }
    }

    /// # Safety
    /// `node` is the node of a live `Entry`, and the caller holds the lock
    /// of the wheel it is linked in (or was just popped from).
    pub(crate) unsafe fn from_node<'a>(node: NonNull<Node>) -> &'a Entry {
        // SAFETY: `node` is the first field of a `#[repr(C)]` `Entry`, and a
        // std `UnsafeCell` has the layout of its content.
        unsafe { node.cast::<Entry>().as_ref() }
    }

    fn node_ptr(&self) -> NonNull<Node> {
        // SAFETY: `UnsafeCell::get` never returns null.
        unsafe { NonNull::new_unchecked(self.node.get()) }
    }

    /// # Safety
    /// The wheel lock is held.
    pub(crate) unsafe fn take_waker(&self) -> Option<Waker> {
        // SAFETY: guarded by the lock per the contract.
        self.waker.with_mut(|w| unsafe { (*w).take() })
    }

    /// Called by the firing worker, under the lock, after taking the waker.
    pub(crate) fn mark(&self, shutdown: bool) {
        self.state
            .store(if shutdown { SHUTDOWN } else { FIRED }, Release);
    }

    /// Lock-free check of the state.
    pub fn state(&self) -> EntryState {
        match self.state.load(Acquire) {
            PENDING => EntryState::Pending,
            FIRED => EntryState::Fired,
            _ => EntryState::Shutdown,
        }
    }

    /// Marks an unregistered entry as fired (its deadline had passed before
    /// it ever needed a wheel).
    pub(crate) fn mark_fired_unregistered(&self) {
        debug_assert!(!self.is_registered());
        self.state.store(FIRED, Release);
    }

    fn cell(&self) -> Option<&Arc<WheelCell>> {
        // SAFETY: only the owner (holder of `Pin<&mut Sleep>`) calls this,
        // and it never holds a `&mut` to `cell` at the same time.
        unsafe { (*self.cell.get()).as_ref() }
    }

    /// The wheel the entry is registered in, if any (owner only).
    pub(crate) fn registered_cell(&self) -> Option<&Arc<WheelCell>> {
        self.cell()
    }

    /// Whether the entry has a wheel (owner only).
    pub fn is_registered(&self) -> bool {
        self.cell().is_some()
    }

    /// First registration into `cell` at `tick` (owner only).
    pub fn register(&self, cell: &Arc<WheelCell>, tick: u64, waker: &Waker) -> Registered {
        debug_assert!(!self.is_registered());
        let mut wheel = cell.wheel.lock();
        if cell.shutdown.load(Acquire) {
            return Registered::Shutdown;
        }
        // SAFETY: the entry is pinned (it lives in a pinned `Sleep`) and
        // unlinks itself before it is dropped; we hold the wheel lock.
        if unsafe { wheel.insert(self.node_ptr(), tick) }.is_err() {
            drop(wheel);
            self.state.store(FIRED, Release);
            return Registered::Due;
        }
        // SAFETY: wheel lock held.
        self.waker.with_mut(|w| unsafe { *w = Some(waker.clone()) });
        self.state.store(PENDING, Release);
        let lowered = cell.publish_earlier(tick);
        drop(wheel);
        // SAFETY: owner only (see `cell`).
        unsafe { *self.cell.get() = Some(cell.clone()) };
        Registered::Linked { lowered }
    }

    /// Polls a registered entry: its state, after installing `waker` if it
    /// is still pending (owner only).
    pub fn poll_registered(&self, waker: &Waker) -> EntryState {
        let cell = self
            .cell()
            .expect("poll_registered on an unregistered entry");
        let _wheel = cell.wheel.lock();
        let state = self.state();
        if state == EntryState::Pending {
            self.waker.with_mut(|w| {
                // SAFETY: wheel lock held.
                let slot = unsafe { &mut *w };
                if !slot.as_ref().is_some_and(|old| old.will_wake(waker)) {
                    *slot = Some(waker.clone());
                }
            });
        }
        state
    }

    /// Moves a registered entry to `tick`, keeping its waker; if `tick` is
    /// already due the waker is woken at once (owner only). An entry that
    /// was never registered just forgets that it fired.
    pub fn reset(&self, tick: u64) -> Registered {
        let Some(cell) = self.cell() else {
            self.state.store(PENDING, Release);
            return Registered::Linked { lowered: false };
        };
        let mut wheel = cell.wheel.lock();
        if cell.shutdown.load(Acquire) {
            return Registered::Shutdown;
        }
        // SAFETY: the node is ours and, if linked, linked in this wheel; the
        // lock is held.
        unsafe { wheel.remove(self.node_ptr()) };
        // SAFETY: as in `register`.
        match unsafe { wheel.insert(self.node_ptr(), tick) } {
            Ok(()) => {
                self.state.store(PENDING, Release);
                let lowered = cell.publish_earlier(tick);
                Registered::Linked { lowered }
            }
            Err(()) => {
                // SAFETY: wheel lock held.
                let waker = unsafe { self.take_waker() };
                self.state.store(FIRED, Release);
                drop(wheel);
                if let Some(w) = waker {
                    w.wake();
                }
                Registered::Due
            }
        }
    }

    /// Unlinks the entry (owner only; called from the `Sleep`'s drop).
    pub fn deregister(&self) {
        // SAFETY: owner only.
        let Some(cell) = (unsafe { (*self.cell.get()).take() }) else {
            return;
        };
        let waker = {
            let mut wheel = cell.wheel.lock();
            // SAFETY: node is ours, linked (if at all) in this wheel; lock held.
            unsafe { wheel.remove(self.node_ptr()) };
            // SAFETY: wheel lock held.
            unsafe { self.take_waker() }
        };
        // Dropped outside the lock: a waker's destructor is user code.
        drop(waker);
    }
}

impl Drop for Entry {
    fn drop(&mut self) {
        self.deregister();
        // Under loom, the end of the entry's life is a write of its memory:
        // a firing worker that touched the waker slot after this, without
        // the lock ordering it before, is reported as a causality violation.
        #[cfg(loom)]
        self.waker.with_mut(|_| ());
    }
}

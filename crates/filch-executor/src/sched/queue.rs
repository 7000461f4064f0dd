//! Run queues: the per-worker local deque and the global injector
//! (crossbeam-deque), and the per-worker LIFO slot.
//!
//! The LIFO slot holds the task most recently woken by the worker's own
//! task, so message-passing pairs run back to back on a warm cache. Unlike
//! tokio's (tokio#4941), our slot is an atomic pointer that other workers can
//! take: the owner and thieves both `swap` it, so a task in the slot is taken
//! by exactly one of them. *When* a thief may take it (only after the owner
//! has stayed inside one poll for a grace period) is policy, decided in
//! `worker.rs`; this module only guarantees that no task is lost or run twice.
//!
//! Under `cfg(loom)` the crossbeam deques are replaced by a mutex-backed deque
//! with the same interface: crossbeam proves its own deque, and our models
//! check the protocol we build on top of it.

use crate::loom::atomic::AtomicPtr;
use std::marker::PhantomData;
use std::ptr::{self, NonNull};
use std::sync::atomic::Ordering::{AcqRel, Relaxed};

/// A queue item that can travel as a raw pointer.
pub trait IntoPtr: Sized {
    /// Gives up ownership as a pointer.
    fn into_ptr(self) -> NonNull<()>;
    /// # Safety
    /// `ptr` came from `into_ptr` and is converted back exactly once.
    unsafe fn from_ptr(ptr: NonNull<()>) -> Self;
}

impl<S: 'static> IntoPtr for crate::tasks::Notified<S> {
    fn into_ptr(self) -> NonNull<()> {
        crate::tasks::Notified::into_ptr(self).cast()
    }
    unsafe fn from_ptr(ptr: NonNull<()>) -> Self {
        // SAFETY: per the trait contract.
        unsafe { crate::tasks::Notified::from_ptr(ptr.cast()) }
    }
}

impl<T> IntoPtr for Box<T> {
    fn into_ptr(self) -> NonNull<()> {
        NonNull::from(Box::leak(self)).cast()
    }
    unsafe fn from_ptr(ptr: NonNull<()>) -> Self {
        // SAFETY: per the trait contract, `ptr` came from `Box::leak`.
        unsafe { Box::from_raw(ptr.as_ptr().cast()) }
    }
}

/// A one-task slot that its owner fills and empties, and thieves may empty.
// Public (and so linted for `Debug`) only under loom, through `__loom`.
#[cfg_attr(loom, allow(missing_debug_implementations))]
pub struct LifoSlot<T: IntoPtr> {
    ptr: AtomicPtr<()>,
    _p: PhantomData<T>,
}

// SAFETY: the slot transfers ownership of `T` between threads through the
// atomic swap, so it is as thread-safe as `T` is `Send`.
unsafe impl<T: IntoPtr + Send> Send for LifoSlot<T> {}
// SAFETY: every access is an atomic swap or load; ownership of a stored `T`
// passes to exactly one swapper.
unsafe impl<T: IntoPtr + Send> Sync for LifoSlot<T> {}

impl<T: IntoPtr> Default for LifoSlot<T> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: IntoPtr> LifoSlot<T> {
    /// An empty slot.
    pub fn new() -> LifoSlot<T> {
        LifoSlot {
            ptr: AtomicPtr::new(ptr::null_mut()),
            _p: PhantomData,
        }
    }

    /// Puts `task` in the slot and returns the previous occupant.
    pub fn push(&self, task: T) -> Option<T> {
        let new = task.into_ptr().as_ptr();
        let prev = self.ptr.swap(new, AcqRel);
        // SAFETY: a non-null value in the slot came from `into_ptr`, and the
        // swap made us its only owner.
        NonNull::new(prev).map(|p| unsafe { T::from_ptr(p) })
    }

    /// Takes the occupant, if any (owner or thief).
    pub fn take(&self) -> Option<T> {
        if self.ptr.load(Relaxed).is_null() {
            return None;
        }
        let prev = self.ptr.swap(ptr::null_mut(), AcqRel);
        // SAFETY: as in `push`.
        NonNull::new(prev).map(|p| unsafe { T::from_ptr(p) })
    }

    /// Whether the slot looks occupied (a hint: it may change at once).
    pub fn is_occupied(&self) -> bool {
        !self.ptr.load(Relaxed).is_null()
    }
}

impl<T: IntoPtr> Drop for LifoSlot<T> {
    fn drop(&mut self) {
        drop(self.take());
    }
}

/// Runs a steal until it gives an answer (a task, or empty), retrying when
/// it lost a race with another thief.
pub(crate) fn steal_retrying<T>(mut f: impl FnMut() -> Steal<T>) -> Option<T> {
    loop {
        match f() {
            Steal::Success(task) => return Some(task),
            Steal::Empty => return None,
            Steal::Retry => std::hint::spin_loop(),
        }
    }
}

#[cfg(not(loom))]
pub use crossbeam_deque::{Injector, Steal, Stealer, Worker as Local};

#[cfg(loom)]
pub use mock::{Injector, Local, Steal, Stealer};

/// A mutex-backed stand-in for crossbeam-deque under loom, with the subset of
/// its interface the scheduler uses and the same FIFO semantics.
#[cfg(loom)]
// Public only so that `__loom` can hand it to the loom models.
#[allow(
    missing_docs,
    missing_debug_implementations,
    clippy::new_without_default
)]
mod mock {
    use crate::loom::{Arc, Mutex};
    use std::collections::VecDeque;

    #[derive(Debug)]
    pub enum Steal<T> {
        Empty,
        Success(T),
        Retry,
    }

    impl<T> Steal<T> {
        pub fn success(self) -> Option<T> {
            match self {
                Steal::Success(t) => Some(t),
                _ => None,
            }
        }
    }

    pub struct Local<T> {
        q: Arc<Mutex<VecDeque<T>>>,
    }

    pub struct Stealer<T> {
        q: Arc<Mutex<VecDeque<T>>>,
    }

    pub struct Injector<T> {
        q: Mutex<VecDeque<T>>,
    }

    impl<T> Local<T> {
        pub fn new_fifo() -> Self {
            Local {
                q: Arc::new(Mutex::new(VecDeque::new())),
            }
        }
        pub fn push(&self, t: T) {
            self.q.lock().push_back(t);
        }
        pub fn pop(&self) -> Option<T> {
            self.q.lock().pop_front()
        }
        pub fn is_empty(&self) -> bool {
            self.q.lock().is_empty()
        }
        pub fn len(&self) -> usize {
            self.q.lock().len()
        }
        pub fn stealer(&self) -> Stealer<T> {
            Stealer { q: self.q.clone() }
        }
    }

    fn steal_half<T>(src: &mut VecDeque<T>, dest: &Local<T>) -> Steal<T> {
        let Some(first) = src.pop_front() else {
            return Steal::Empty;
        };
        let n = src.len().div_ceil(2);
        let mut d = dest.q.lock();
        for _ in 0..n {
            d.push_back(src.pop_front().unwrap());
        }
        Steal::Success(first)
    }

    impl<T> Stealer<T> {
        pub fn steal_batch_and_pop(&self, dest: &Local<T>) -> Steal<T> {
            let mut q = self.q.lock();
            steal_half(&mut q, dest)
        }
        pub fn steal(&self) -> Steal<T> {
            match self.q.lock().pop_front() {
                Some(t) => Steal::Success(t),
                None => Steal::Empty,
            }
        }
        pub fn is_empty(&self) -> bool {
            self.q.lock().is_empty()
        }
        pub fn len(&self) -> usize {
            self.q.lock().len()
        }
    }

    impl<T> Injector<T> {
        pub fn new() -> Self {
            Injector {
                q: Mutex::new(VecDeque::new()),
            }
        }
        pub fn push(&self, t: T) {
            self.q.lock().push_back(t);
        }
        pub fn steal(&self) -> Steal<T> {
            match self.q.lock().pop_front() {
                Some(t) => Steal::Success(t),
                None => Steal::Empty,
            }
        }
        pub fn steal_batch_and_pop(&self, dest: &Local<T>) -> Steal<T> {
            let mut q = self.q.lock();
            steal_half(&mut q, dest)
        }
        pub fn is_empty(&self) -> bool {
            self.q.lock().is_empty()
        }
        pub fn len(&self) -> usize {
            self.q.lock().len()
        }
    }
}

//! `RwLock` (tokio's signatures): a fair async reader-writer lock.
//!
//! The lock is a [`RawSemaphore`](crate::batch::RawSemaphore) with
//! `max_readers` permits: a reader takes one, a writer takes all of them.
//! Because the semaphore is FIFO, a waiting writer stops later readers from
//! overtaking it (no writer starvation), and a writer at the head collects
//! permits as the readers ahead of it leave. This file owns the guards; it
//! must not add a second waiting protocol.

use crate::TryLockError;
use crate::batch::RawSemaphore;
use crate::mutex::guard_fmt;
use std::cell::UnsafeCell;
use std::fmt;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

/// Default and largest reader count.
const MAX_READS: u32 = u32::MAX >> 3;

/// A fair async reader-writer lock (tokio's API).
///
/// Any number of readers (up to `max_readers`) or one writer. Requests are
/// served in arrival order, so a writer is never starved by readers.
///
/// ```
/// use filch_sync::RwLock;
///
/// let rt = filch_executor::Executor::new().unwrap();
/// rt.block_on(async {
///     let lock = RwLock::new(5);
///     {
///         let r1 = lock.read().await;
///         let r2 = lock.read().await;
///         assert_eq!(*r1 + *r2, 10);
///     }
///     *lock.write().await += 1;
///     assert_eq!(*lock.read().await, 6);
/// });
/// ```
pub struct RwLock<T: ?Sized> {
    max_readers: u32,
    sem: RawSemaphore,
    data: UnsafeCell<T>,
}

// SAFETY: the lock hands out `&mut T` (needs `T: Send` to move it between
// threads) and `&T` to many threads at once (needs `T: Sync`).
unsafe impl<T: ?Sized + Send> Send for RwLock<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLock<T> {}

/// Shared access to an [`RwLock`]'s data; releases its read slot when
/// dropped.
///
/// ```
/// let lock = filch_sync::RwLock::new(1);
/// let r = lock.try_read().unwrap();
/// assert_eq!(*r, 1);
/// ```
#[must_use = "dropping the guard releases the lock at once"]
pub struct RwLockReadGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
}

/// Exclusive access to an [`RwLock`]'s data; releases the lock when
/// dropped.
///
/// ```
/// let lock = filch_sync::RwLock::new(1);
/// *lock.try_write().unwrap() = 2;
/// assert_eq!(*lock.try_read().unwrap(), 2);
/// ```
#[must_use = "dropping the guard releases the lock at once"]
pub struct RwLockWriteGuard<'a, T: ?Sized> {
    lock: &'a RwLock<T>,
}

/// Shared access owning a reference to an `Arc<RwLock<T>>`.
///
/// ```
/// use std::sync::Arc;
/// let lock = Arc::new(filch_sync::RwLock::new(1));
/// let r = lock.clone().try_read_owned().unwrap();
/// std::thread::spawn(move || assert_eq!(*r, 1)).join().unwrap();
/// ```
#[must_use = "dropping the guard releases the lock at once"]
pub struct OwnedRwLockReadGuard<T: ?Sized> {
    lock: Arc<RwLock<T>>,
}

/// Exclusive access owning a reference to an `Arc<RwLock<T>>`.
///
/// ```
/// use std::sync::Arc;
/// let lock = Arc::new(filch_sync::RwLock::new(1));
/// let mut w = lock.clone().try_write_owned().unwrap();
/// *w = 3;
/// drop(w);
/// assert_eq!(*lock.try_read().unwrap(), 3);
/// ```
#[must_use = "dropping the guard releases the lock at once"]
pub struct OwnedRwLockWriteGuard<T: ?Sized> {
    lock: Arc<RwLock<T>>,
}

impl<T> RwLock<T> {
    /// A new, unlocked lock allowing up to `u32::MAX >> 3` readers.
    ///
    /// ```
    /// let lock = filch_sync::RwLock::new("x");
    /// assert_eq!(lock.into_inner(), "x");
    /// ```
    pub fn new(value: T) -> RwLock<T> {
        RwLock::with_max_readers(value, MAX_READS)
    }

    /// A new lock allowing at most `max_readers` readers at once.
    ///
    /// # Panics
    /// If `max_readers` is 0 or more than `u32::MAX >> 3`.
    ///
    /// ```
    /// let lock = filch_sync::RwLock::with_max_readers(0, 2);
    /// let _a = lock.try_read().unwrap();
    /// let _b = lock.try_read().unwrap();
    /// assert!(lock.try_read().is_err());
    /// ```
    pub fn with_max_readers(value: T, max_readers: u32) -> RwLock<T> {
        assert!(
            (1..=MAX_READS).contains(&max_readers),
            "max_readers must be in 1..={MAX_READS}, not {max_readers}"
        );
        RwLock {
            max_readers,
            sem: RawSemaphore::new(max_readers as usize),
            data: UnsafeCell::new(value),
        }
    }

    /// A new, unlocked lock usable in a `static`.
    ///
    /// ```
    /// static CONFIG: filch_sync::RwLock<u8> = filch_sync::RwLock::const_new(1);
    /// assert_eq!(*CONFIG.try_read().unwrap(), 1);
    /// ```
    #[cfg(not(loom))]
    pub const fn const_new(value: T) -> RwLock<T> {
        RwLock {
            max_readers: MAX_READS,
            sem: RawSemaphore::const_new(MAX_READS as usize),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the lock, returning the data.
    ///
    /// ```
    /// assert_eq!(filch_sync::RwLock::new(4).into_inner(), 4);
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> RwLock<T> {
    /// Waits for shared access (FIFO with writers).
    ///
    /// Cancel-safe: dropping the future loses no wake-up and no read slot.
    ///
    /// ```
    /// let lock = filch_sync::RwLock::new(1);
    /// let rt = filch_executor::Executor::new().unwrap();
    /// assert_eq!(rt.block_on(async { *lock.read().await }), 1);
    /// ```
    pub async fn read(&self) -> RwLockReadGuard<'_, T> {
        // The lock's semaphore is never closed.
        let _ = self.sem.acquire(1).await;
        RwLockReadGuard { lock: self }
    }

    /// Waits for exclusive access (FIFO with readers). Cancel-safe: a
    /// writer dropped while collecting read slots gives them back.
    ///
    /// ```
    /// let lock = filch_sync::RwLock::new(1);
    /// let rt = filch_executor::Executor::new().unwrap();
    /// rt.block_on(async { *lock.write().await = 2 });
    /// assert_eq!(lock.into_inner(), 2);
    /// ```
    pub async fn write(&self) -> RwLockWriteGuard<'_, T> {
        let _ = self.sem.acquire(self.max_readers as usize).await;
        RwLockWriteGuard { lock: self }
    }

    /// Owned version of [`read`](Self::read). Cancel-safe.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let lock = Arc::new(filch_sync::RwLock::new(1));
    /// let rt = filch_executor::Executor::new().unwrap();
    /// let r = rt.block_on(lock.clone().read_owned());
    /// assert_eq!(*r, 1);
    /// ```
    pub async fn read_owned(self: Arc<Self>) -> OwnedRwLockReadGuard<T> {
        let _ = self.sem.acquire(1).await;
        OwnedRwLockReadGuard { lock: self }
    }

    /// Owned version of [`write`](Self::write). Cancel-safe.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let lock = Arc::new(filch_sync::RwLock::new(1));
    /// let rt = filch_executor::Executor::new().unwrap();
    /// let mut w = rt.block_on(lock.clone().write_owned());
    /// *w = 9;
    /// ```
    pub async fn write_owned(self: Arc<Self>) -> OwnedRwLockWriteGuard<T> {
        let _ = self.sem.acquire(self.max_readers as usize).await;
        OwnedRwLockWriteGuard { lock: self }
    }

    /// Shared access if no writer holds or waits for the lock.
    ///
    /// ```
    /// let lock = filch_sync::RwLock::new(1);
    /// let w = lock.try_write().unwrap();
    /// assert!(lock.try_read().is_err());
    /// drop(w);
    /// assert!(lock.try_read().is_ok());
    /// ```
    pub fn try_read(&self) -> Result<RwLockReadGuard<'_, T>, TryLockError> {
        self.sem.try_acquire(1).map_err(|_| TryLockError(()))?;
        Ok(RwLockReadGuard { lock: self })
    }

    /// Exclusive access if nobody holds or waits for the lock.
    ///
    /// ```
    /// let lock = filch_sync::RwLock::new(1);
    /// let r = lock.try_read().unwrap();
    /// assert!(lock.try_write().is_err());
    /// drop(r);
    /// assert!(lock.try_write().is_ok());
    /// ```
    pub fn try_write(&self) -> Result<RwLockWriteGuard<'_, T>, TryLockError> {
        self.sem
            .try_acquire(self.max_readers as usize)
            .map_err(|_| TryLockError(()))?;
        Ok(RwLockWriteGuard { lock: self })
    }

    /// Owned version of [`try_read`](Self::try_read).
    ///
    /// ```
    /// use std::sync::Arc;
    /// let lock = Arc::new(filch_sync::RwLock::new(1));
    /// assert_eq!(*lock.try_read_owned().unwrap(), 1);
    /// ```
    pub fn try_read_owned(self: Arc<Self>) -> Result<OwnedRwLockReadGuard<T>, TryLockError> {
        self.sem.try_acquire(1).map_err(|_| TryLockError(()))?;
        Ok(OwnedRwLockReadGuard { lock: self })
    }

    /// Owned version of [`try_write`](Self::try_write).
    ///
    /// ```
    /// use std::sync::Arc;
    /// let lock = Arc::new(filch_sync::RwLock::new(1));
    /// *lock.try_write_owned().unwrap() = 2;
    /// ```
    pub fn try_write_owned(self: Arc<Self>) -> Result<OwnedRwLockWriteGuard<T>, TryLockError> {
        self.sem
            .try_acquire(self.max_readers as usize)
            .map_err(|_| TryLockError(()))?;
        Ok(OwnedRwLockWriteGuard { lock: self })
    }

    /// Shared access from a thread that is not running async code.
    ///
    /// # Panics
    /// When called inside a runtime.
    ///
    /// ```
    /// let lock = filch_sync::RwLock::new(1);
    /// assert_eq!(*lock.blocking_read(), 1);
    /// ```
    #[track_caller]
    pub fn blocking_read(&self) -> RwLockReadGuard<'_, T> {
        crate::blocking::block_on("RwLock::blocking_read", self.read())
    }

    /// Exclusive access from a thread that is not running async code.
    ///
    /// # Panics
    /// When called inside a runtime.
    ///
    /// ```
    /// let lock = filch_sync::RwLock::new(1);
    /// *lock.blocking_write() = 2;
    /// assert_eq!(lock.into_inner(), 2);
    /// ```
    #[track_caller]
    pub fn blocking_write(&self) -> RwLockWriteGuard<'_, T> {
        crate::blocking::block_on("RwLock::blocking_write", self.write())
    }

    /// Mutable access without locking: `&mut self` proves nobody else holds
    /// the lock.
    ///
    /// ```
    /// let mut lock = filch_sync::RwLock::new(1);
    /// *lock.get_mut() = 2;
    /// assert_eq!(lock.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<T: Default> Default for RwLock<T> {
    fn default() -> Self {
        RwLock::new(T::default())
    }
}

impl<T> From<T> for RwLock<T> {
    fn from(value: T) -> Self {
        RwLock::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for RwLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("RwLock");
        match self.try_read() {
            Ok(g) => d.field("data", &&*g),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

impl<'a, T: ?Sized> RwLockWriteGuard<'a, T> {
    /// Turns exclusive access into shared access without letting any other
    /// writer in between (waiting readers may then join).
    ///
    /// ```
    /// use filch_sync::{RwLock, RwLockWriteGuard};
    /// let lock = RwLock::new(1);
    /// let mut w = lock.try_write().unwrap();
    /// *w = 2;
    /// let r = RwLockWriteGuard::downgrade(w);
    /// assert_eq!(*r, 2);
    /// assert!(lock.try_read().is_ok());
    /// ```
    pub fn downgrade(this: Self) -> RwLockReadGuard<'a, T> {
        let lock = this.lock;
        std::mem::forget(this);
        lock.sem.release(lock.max_readers as usize - 1);
        RwLockReadGuard { lock }
    }
}

impl<T: ?Sized> OwnedRwLockWriteGuard<T> {
    /// Turns exclusive access into shared access without letting any other
    /// writer in between.
    ///
    /// ```
    /// use filch_sync::{OwnedRwLockWriteGuard, RwLock};
    /// use std::sync::Arc;
    /// let lock = Arc::new(RwLock::new(1));
    /// let w = lock.clone().try_write_owned().unwrap();
    /// let r = OwnedRwLockWriteGuard::downgrade(w);
    /// assert_eq!(*r, 1);
    /// ```
    pub fn downgrade(this: Self) -> OwnedRwLockReadGuard<T> {
        let this = std::mem::ManuallyDrop::new(this);
        // SAFETY: `this` is never used or dropped again, so the `Arc` is
        // moved out exactly once.
        let lock = unsafe { std::ptr::read(&this.lock) };
        lock.sem.release(lock.max_readers as usize - 1);
        OwnedRwLockReadGuard { lock }
    }
}

impl<T: ?Sized> Drop for RwLockReadGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.sem.release(1);
    }
}

impl<T: ?Sized> Drop for RwLockWriteGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.sem.release(self.lock.max_readers as usize);
    }
}

impl<T: ?Sized> Drop for OwnedRwLockReadGuard<T> {
    fn drop(&mut self) {
        self.lock.sem.release(1);
    }
}

impl<T: ?Sized> Drop for OwnedRwLockWriteGuard<T> {
    fn drop(&mut self) {
        self.lock.sem.release(self.lock.max_readers as usize);
    }
}

impl<T: ?Sized> Deref for RwLockReadGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a read slot is held, so no writer exists.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> Deref for OwnedRwLockReadGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: a read slot is held, so no writer exists.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> Deref for RwLockWriteGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: every slot is held: no other reader or writer exists.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for RwLockWriteGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: every slot is held, and `&mut self` makes it unique.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Deref for OwnedRwLockWriteGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: every slot is held: no other reader or writer exists.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedRwLockWriteGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: every slot is held, and `&mut self` makes it unique.
        unsafe { &mut *self.lock.data.get() }
    }
}

// SAFETY: a read guard is `&T` plus the right to release a slot from any
// thread: sending or sharing it needs `T: Sync`.
unsafe impl<T: ?Sized + Sync> Send for RwLockReadGuard<'_, T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Sync> Sync for RwLockReadGuard<'_, T> {}
// SAFETY: a write guard is `&mut T`: sending it needs `T: Send`, sharing it
// (which only gives `&T`) needs `T: Sync`.
unsafe impl<T: ?Sized + Send + Sync> Send for RwLockWriteGuard<'_, T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync> Sync for RwLockWriteGuard<'_, T> {}
// SAFETY: owns an `Arc<RwLock<T>>` (shareable when `T: Send + Sync`) and a
// read slot.
unsafe impl<T: ?Sized + Send + Sync> Send for OwnedRwLockReadGuard<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedRwLockReadGuard<T> {}
// SAFETY: owns an `Arc<RwLock<T>>` and every slot.
unsafe impl<T: ?Sized + Send + Sync> Send for OwnedRwLockWriteGuard<T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedRwLockWriteGuard<T> {}

guard_fmt!(
    RwLockReadGuard<'a, T>,
    RwLockWriteGuard<'a, T>,
    OwnedRwLockReadGuard<T>,
    OwnedRwLockWriteGuard<T>
);

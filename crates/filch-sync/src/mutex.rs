//! `Mutex` (asyncio's `Lock` holding data, tokio's signatures): a fair
//! async mutex with borrowed, owned and mapped guards.
//!
//! The lock is a one-permit [`RawSemaphore`](crate::batch::RawSemaphore):
//! unlocking hands the lock straight to the oldest waiter, so nobody can
//! barge in and waiters are served in arrival order. This file owns the
//! guards and the data cell; it must not add a second waiting protocol.

use crate::TryLockError;
use crate::batch::{RawSemaphore, TryAcquire};
use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::ops::{Deref, DerefMut};
use std::sync::Arc;

/// A fair async mutex (asyncio's `Lock` holding data; tokio's API).
///
/// `lock().await` waits in FIFO order; unlocking hands the lock to the
/// oldest waiter directly. The guard may be held across `.await` points and
/// sent between threads.
///
/// ```
/// use filch_sync::Mutex;
/// use std::sync::Arc;
///
/// let rt = filch_executor::Executor::new().unwrap();
/// let total = rt.block_on(async {
///     let m = Arc::new(Mutex::new(0u32));
///     let tasks: Vec<_> = (0..10)
///         .map(|_| {
///             let m = m.clone();
///             filch_executor::spawn(async move { *m.lock().await += 1 })
///         })
///         .collect();
///     for t in tasks {
///         t.await.unwrap();
///     }
///     let n = *m.lock().await;
///     n
/// });
/// assert_eq!(total, 10);
/// ```
pub struct Mutex<T: ?Sized> {
    sem: RawSemaphore,
    data: UnsafeCell<T>,
}

// SAFETY: the mutex hands out access to `T` to one holder at a time, from
// any thread, so it is `Send`/`Sync` exactly when `T` can be sent.
unsafe impl<T: ?Sized + Send> Send for Mutex<T> {}
// SAFETY: as above: `&Mutex<T>` only gives exclusive access to `T`.
unsafe impl<T: ?Sized + Send> Sync for Mutex<T> {}

/// Exclusive access to a [`Mutex`]'s data; unlocks when dropped.
///
/// ```
/// let m = filch_sync::Mutex::new(vec![1]);
/// let mut g = m.try_lock().unwrap();
/// g.push(2);
/// assert_eq!(*g, vec![1, 2]);
/// ```
#[must_use = "dropping the guard unlocks the mutex at once"]
pub struct MutexGuard<'a, T: ?Sized> {
    lock: &'a Mutex<T>,
}

/// Exclusive access to an `Arc<Mutex<T>>`'s data, owning a reference to
/// the mutex; unlocks when dropped.
///
/// ```
/// use std::sync::Arc;
/// let m = Arc::new(filch_sync::Mutex::new(1));
/// let g = m.clone().try_lock_owned().unwrap();
/// std::thread::spawn(move || assert_eq!(*g, 1)).join().unwrap();
/// ```
#[must_use = "dropping the guard unlocks the mutex at once"]
pub struct OwnedMutexGuard<T: ?Sized> {
    lock: Arc<Mutex<T>>,
}

/// A [`MutexGuard`] narrowed to a part of the data by
/// [`MutexGuard::map`]; unlocks when dropped.
///
/// ```
/// use filch_sync::{Mutex, MutexGuard};
/// let m = Mutex::new((1, String::from("a")));
/// let mut s = MutexGuard::map(m.try_lock().unwrap(), |t| &mut t.1);
/// s.push('b');
/// drop(s);
/// assert_eq!(m.try_lock().unwrap().1, "ab");
/// ```
#[must_use = "dropping the guard unlocks the mutex at once"]
pub struct MappedMutexGuard<'a, T: ?Sized> {
    sem: &'a RawSemaphore,
    data: *mut T,
    _marker: PhantomData<&'a mut T>,
}

/// An [`OwnedMutexGuard`] narrowed to a part of the data by
/// [`OwnedMutexGuard::map`]; unlocks when dropped.
///
/// ```
/// use filch_sync::{Mutex, OwnedMutexGuard};
/// use std::sync::Arc;
/// let m = Arc::new(Mutex::new((1, 2)));
/// let mut second = OwnedMutexGuard::map(m.clone().try_lock_owned().unwrap(), |t| &mut t.1);
/// *second = 5;
/// drop(second);
/// assert_eq!(*m.try_lock().unwrap(), (1, 5));
/// ```
#[must_use = "dropping the guard unlocks the mutex at once"]
pub struct OwnedMappedMutexGuard<T: ?Sized, U: ?Sized = T> {
    lock: Arc<Mutex<T>>,
    data: *mut U,
}

impl<T> Mutex<T> {
    /// A new, unlocked mutex.
    ///
    /// ```
    /// let m = filch_sync::Mutex::new(5);
    /// assert_eq!(m.into_inner(), 5);
    /// ```
    pub fn new(value: T) -> Mutex<T> {
        Mutex {
            sem: RawSemaphore::new(1),
            data: UnsafeCell::new(value),
        }
    }

    /// A new, unlocked mutex usable in a `static`.
    ///
    /// ```
    /// static COUNT: filch_sync::Mutex<u32> = filch_sync::Mutex::const_new(0);
    /// *COUNT.try_lock().unwrap() += 1;
    /// assert_eq!(*COUNT.try_lock().unwrap(), 1);
    /// ```
    #[cfg(not(loom))]
    pub const fn const_new(value: T) -> Mutex<T> {
        Mutex {
            sem: RawSemaphore::const_new(1),
            data: UnsafeCell::new(value),
        }
    }

    /// Consumes the mutex, returning the data.
    ///
    /// ```
    /// let m = filch_sync::Mutex::new("x");
    /// assert_eq!(m.into_inner(), "x");
    /// ```
    pub fn into_inner(self) -> T {
        self.data.into_inner()
    }
}

impl<T: ?Sized> Mutex<T> {
    /// Waits for the lock (FIFO) and returns a guard.
    ///
    /// Cancel-safe: dropping the future loses no wake-up; if the lock had
    /// just been handed to it, it is handed on to the next waiter.
    ///
    /// ```
    /// let m = filch_sync::Mutex::new(1);
    /// let rt = filch_executor::Executor::new().unwrap();
    /// rt.block_on(async {
    ///     *m.lock().await += 1;
    ///     assert_eq!(*m.lock().await, 2);
    /// });
    /// ```
    pub async fn lock(&self) -> MutexGuard<'_, T> {
        // The mutex's semaphore is never closed.
        let _ = self.sem.acquire(1).await;
        MutexGuard { lock: self }
    }

    /// Waits for the lock and returns a guard that owns a reference to the
    /// mutex (so it can be moved into a task). Cancel-safe.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let m = Arc::new(filch_sync::Mutex::new(0));
    /// let rt = filch_executor::Executor::new().unwrap();
    /// rt.block_on(async {
    ///     let mut g = m.clone().lock_owned().await;
    ///     filch_executor::spawn(async move { *g = 7 }).await.unwrap();
    /// });
    /// assert_eq!(*m.try_lock().unwrap(), 7);
    /// ```
    pub async fn lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        let _ = self.sem.acquire(1).await;
        OwnedMutexGuard { lock: self }
    }

    /// Locks from a thread that is not running async code, parking it.
    ///
    /// # Panics
    /// When called inside a runtime (use [`lock`](Self::lock) there).
    ///
    /// ```
    /// use std::sync::Arc;
    /// let m = Arc::new(filch_sync::Mutex::new(1));
    /// let m2 = m.clone();
    /// std::thread::spawn(move || *m2.blocking_lock() += 1).join().unwrap();
    /// assert_eq!(*m.try_lock().unwrap(), 2);
    /// ```
    #[track_caller]
    pub fn blocking_lock(&self) -> MutexGuard<'_, T> {
        crate::blocking::block_on("Mutex::blocking_lock", self.lock())
    }

    /// Owned version of [`blocking_lock`](Self::blocking_lock).
    ///
    /// # Panics
    /// When called inside a runtime.
    ///
    /// ```
    /// use std::sync::Arc;
    /// let m = Arc::new(filch_sync::Mutex::new(1));
    /// let g = m.clone().blocking_lock_owned();
    /// assert_eq!(*g, 1);
    /// ```
    #[track_caller]
    pub fn blocking_lock_owned(self: Arc<Self>) -> OwnedMutexGuard<T> {
        crate::blocking::block_on("Mutex::blocking_lock_owned", self.lock_owned())
    }

    /// Locks if the mutex is free and nobody is waiting for it.
    ///
    /// ```
    /// let m = filch_sync::Mutex::new(1);
    /// let g = m.try_lock().unwrap();
    /// assert!(m.try_lock().is_err());
    /// drop(g);
    /// assert!(m.try_lock().is_ok());
    /// ```
    pub fn try_lock(&self) -> Result<MutexGuard<'_, T>, TryLockError> {
        match self.sem.try_acquire(1) {
            Ok(()) => Ok(MutexGuard { lock: self }),
            Err(TryAcquire::NoPermits | TryAcquire::Closed) => Err(TryLockError(())),
        }
    }

    /// Owned version of [`try_lock`](Self::try_lock).
    ///
    /// ```
    /// use std::sync::Arc;
    /// let m = Arc::new(filch_sync::Mutex::new(1));
    /// let g = m.clone().try_lock_owned().unwrap();
    /// assert!(m.clone().try_lock_owned().is_err());
    /// drop(g);
    /// ```
    pub fn try_lock_owned(self: Arc<Self>) -> Result<OwnedMutexGuard<T>, TryLockError> {
        match self.sem.try_acquire(1) {
            Ok(()) => Ok(OwnedMutexGuard { lock: self }),
            Err(_) => Err(TryLockError(())),
        }
    }

    /// Mutable access without locking: `&mut self` proves nobody else holds
    /// the lock.
    ///
    /// ```
    /// let mut m = filch_sync::Mutex::new(1);
    /// *m.get_mut() = 2;
    /// assert_eq!(m.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.data.get_mut()
    }
}

impl<T: Default> Default for Mutex<T> {
    fn default() -> Self {
        Mutex::new(T::default())
    }
}

impl<T> From<T> for Mutex<T> {
    fn from(value: T) -> Self {
        Mutex::new(value)
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Mutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Mutex");
        match self.try_lock() {
            Ok(g) => d.field("data", &&*g),
            Err(_) => d.field("data", &format_args!("<locked>")),
        };
        d.finish()
    }
}

impl<'a, T: ?Sized> MutexGuard<'a, T> {
    /// The mutex this guard locks.
    ///
    /// ```
    /// use filch_sync::{Mutex, MutexGuard};
    /// let m = Mutex::new(1);
    /// let g = m.try_lock().unwrap();
    /// assert!(std::ptr::eq(MutexGuard::mutex(&g), &m));
    /// ```
    pub fn mutex(this: &Self) -> &'a Mutex<T> {
        this.lock
    }

    /// Narrows the guard to a part of the data.
    ///
    /// ```
    /// use filch_sync::{Mutex, MutexGuard};
    /// let m = Mutex::new([1, 2, 3]);
    /// let last = MutexGuard::map(m.try_lock().unwrap(), |a| &mut a[2]);
    /// assert_eq!(*last, 3);
    /// ```
    pub fn map<U: ?Sized>(this: Self, f: impl FnOnce(&mut T) -> &mut U) -> MappedMutexGuard<'a, U> {
        let lock = this.lock;
        // SAFETY: the guard holds the lock, so we have exclusive access; the
        // lock stays held by the mapped guard (we forget `this`).
        let data = f(unsafe { &mut *lock.data.get() }) as *mut U;
        std::mem::forget(this);
        MappedMutexGuard {
            sem: &lock.sem,
            data,
            _marker: PhantomData,
        }
    }

    /// Narrows the guard to a part of the data if `f` returns `Some`;
    /// otherwise gives the guard back.
    ///
    /// ```
    /// use filch_sync::{Mutex, MutexGuard};
    /// let m = Mutex::new(vec![1]);
    /// let g = MutexGuard::try_map(m.try_lock().unwrap(), |v| v.get_mut(5));
    /// assert!(g.is_err());
    /// ```
    pub fn try_map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&mut T) -> Option<&mut U>,
    ) -> Result<MappedMutexGuard<'a, U>, Self> {
        let lock = this.lock;
        // SAFETY: as in `map`; on `None` the borrow has ended and `this`
        // still holds the lock.
        match f(unsafe { &mut *lock.data.get() }) {
            Some(data) => {
                let data = data as *mut U;
                std::mem::forget(this);
                Ok(MappedMutexGuard {
                    sem: &lock.sem,
                    data,
                    _marker: PhantomData,
                })
            }
            None => Err(this),
        }
    }
}

impl<T: ?Sized> OwnedMutexGuard<T> {
    /// The mutex this guard locks.
    ///
    /// ```
    /// use filch_sync::{Mutex, OwnedMutexGuard};
    /// use std::sync::Arc;
    /// let m = Arc::new(Mutex::new(1));
    /// let g = m.clone().try_lock_owned().unwrap();
    /// assert!(Arc::ptr_eq(OwnedMutexGuard::mutex(&g), &m));
    /// ```
    pub fn mutex(this: &Self) -> &Arc<Mutex<T>> {
        &this.lock
    }

    /// Narrows the guard to a part of the data.
    ///
    /// ```
    /// use filch_sync::{Mutex, OwnedMutexGuard};
    /// use std::sync::Arc;
    /// let m = Arc::new(Mutex::new((0, 'a')));
    /// let c = OwnedMutexGuard::map(m.try_lock_owned().unwrap(), |t| &mut t.1);
    /// assert_eq!(*c, 'a');
    /// ```
    pub fn map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&mut T) -> &mut U,
    ) -> OwnedMappedMutexGuard<T, U> {
        // SAFETY: the guard holds the lock; the mapped guard takes over the
        // lock and the `Arc` that keeps the data alive.
        let data = f(unsafe { &mut *this.lock.data.get() }) as *mut U;
        let lock = Self::into_arc(this);
        OwnedMappedMutexGuard { lock, data }
    }

    /// Narrows the guard if `f` returns `Some`; otherwise gives it back.
    ///
    /// ```
    /// use filch_sync::{Mutex, OwnedMutexGuard};
    /// use std::sync::Arc;
    /// let m = Arc::new(Mutex::new(vec![1, 2]));
    /// let g = OwnedMutexGuard::try_map(m.try_lock_owned().unwrap(), |v| v.get_mut(1));
    /// assert_eq!(*g.unwrap(), 2);
    /// ```
    pub fn try_map<U: ?Sized>(
        this: Self,
        f: impl FnOnce(&mut T) -> Option<&mut U>,
    ) -> Result<OwnedMappedMutexGuard<T, U>, Self> {
        // SAFETY: as in `map`.
        match f(unsafe { &mut *this.lock.data.get() }) {
            Some(data) => {
                let data = data as *mut U;
                let lock = Self::into_arc(this);
                Ok(OwnedMappedMutexGuard { lock, data })
            }
            None => Err(this),
        }
    }

    /// Gives up the guard without unlocking, returning its `Arc`.
    fn into_arc(this: Self) -> Arc<Mutex<T>> {
        let this = std::mem::ManuallyDrop::new(this);
        // SAFETY: `this` is never used or dropped again, so the `Arc` is
        // moved out exactly once.
        unsafe { std::ptr::read(&this.lock) }
    }
}

impl<T: ?Sized> Drop for MutexGuard<'_, T> {
    fn drop(&mut self) {
        self.lock.sem.release(1);
    }
}

impl<T: ?Sized> Drop for OwnedMutexGuard<T> {
    fn drop(&mut self) {
        self.lock.sem.release(1);
    }
}

impl<T: ?Sized> Drop for MappedMutexGuard<'_, T> {
    fn drop(&mut self) {
        self.sem.release(1);
    }
}

impl<T: ?Sized, U: ?Sized> Drop for OwnedMappedMutexGuard<T, U> {
    fn drop(&mut self) {
        self.lock.sem.release(1);
    }
}

impl<T: ?Sized> Deref for MutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for MutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock, and `&mut self` makes the borrow
        // unique.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Deref for OwnedMutexGuard<T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: the guard holds the lock.
        unsafe { &*self.lock.data.get() }
    }
}

impl<T: ?Sized> DerefMut for OwnedMutexGuard<T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: the guard holds the lock, and `&mut self` makes the borrow
        // unique.
        unsafe { &mut *self.lock.data.get() }
    }
}

impl<T: ?Sized> Deref for MappedMutexGuard<'_, T> {
    type Target = T;
    fn deref(&self) -> &T {
        // SAFETY: `data` points into the locked data, which the guard keeps
        // locked and borrowed for `'a`.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized> DerefMut for MappedMutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        // SAFETY: as in `deref`, and `&mut self` makes the borrow unique.
        unsafe { &mut *self.data }
    }
}

impl<T: ?Sized, U: ?Sized> Deref for OwnedMappedMutexGuard<T, U> {
    type Target = U;
    fn deref(&self) -> &U {
        // SAFETY: `data` points into the locked data, kept alive by the
        // `Arc` and kept locked by this guard.
        unsafe { &*self.data }
    }
}

impl<T: ?Sized, U: ?Sized> DerefMut for OwnedMappedMutexGuard<T, U> {
    fn deref_mut(&mut self) -> &mut U {
        // SAFETY: as in `deref`, and `&mut self` makes the borrow unique.
        unsafe { &mut *self.data }
    }
}

// SAFETY: a guard gives `&T` to whoever holds `&guard`, so sharing it needs
// `T: Sync`; the lock itself may be released from any thread.
unsafe impl<T: ?Sized + Sync> Sync for MutexGuard<'_, T> {}
// SAFETY: as above.
unsafe impl<T: ?Sized + Send + Sync> Sync for OwnedMutexGuard<T> {}
// SAFETY: the mapped guard is `&mut U` plus the right to unlock from any
// thread.
unsafe impl<T: ?Sized + Send> Send for MappedMutexGuard<'_, T> {}
// SAFETY: as above, shared access only gives `&T`.
unsafe impl<T: ?Sized + Sync> Sync for MappedMutexGuard<'_, T> {}
// SAFETY: owns an `Arc<Mutex<T>>` (sendable when `T: Send`) and `&mut U`
// into it.
unsafe impl<T: ?Sized + Send, U: ?Sized + Send> Send for OwnedMappedMutexGuard<T, U> {}
// SAFETY: shared access only gives `&U`.
unsafe impl<T: ?Sized + Send + Sync, U: ?Sized + Sync> Sync for OwnedMappedMutexGuard<T, U> {}

macro_rules! guard_fmt {
    ($($name:ident < $($lt:lifetime,)? $($g:ident),* >),*) => {$(
        impl<$($lt,)? $($g: ?Sized),*> fmt::Debug for $name<$($lt,)? $($g),*>
        where Self: Deref, <Self as Deref>::Target: fmt::Debug
        {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Debug::fmt(&**self, f)
            }
        }
        impl<$($lt,)? $($g: ?Sized),*> fmt::Display for $name<$($lt,)? $($g),*>
        where Self: Deref, <Self as Deref>::Target: fmt::Display
        {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                fmt::Display::fmt(&**self, f)
            }
        }
    )*};
}
pub(crate) use guard_fmt;

guard_fmt!(
    MutexGuard<'a, T>,
    OwnedMutexGuard<T>,
    MappedMutexGuard<'a, T>,
    OwnedMappedMutexGuard<T, U>
);

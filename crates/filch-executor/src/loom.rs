//! The one door through which this crate reaches synchronization primitives.
//!
//! Every atomic, lock, condition variable and `UnsafeCell` that takes part in a
//! concurrent protocol is imported from here, so that building with
//! `RUSTFLAGS="--cfg loom"` swaps them for loom's model-checked versions and the
//! models in `loom-tests/` exercise the very code that ships. This module must
//! not contain protocol logic: it only gives std/parking_lot and loom one API.

#[cfg(not(loom))]
mod imp {
    pub(crate) mod atomic {
        pub(crate) use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, fence};
    }

    /// `std::cell::UnsafeCell` with loom's closure-based access API.
    #[derive(Debug)]
    pub(crate) struct UnsafeCell<T>(std::cell::UnsafeCell<T>);

    impl<T> UnsafeCell<T> {
        pub(crate) const fn new(value: T) -> UnsafeCell<T> {
            UnsafeCell(std::cell::UnsafeCell::new(value))
        }

        #[inline(always)]
        pub(crate) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
            f(self.0.get())
        }

        #[inline(always)]
        pub(crate) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
            f(self.0.get())
        }
    }

    /// A mutex with one API over parking_lot and loom.
    #[derive(Debug, Default)]
    pub(crate) struct Mutex<T>(parking_lot::Mutex<T>);

    pub(crate) type MutexGuard<'a, T> = parking_lot::MutexGuard<'a, T>;

    impl<T> Mutex<T> {
        pub(crate) const fn new(value: T) -> Mutex<T> {
            Mutex(parking_lot::const_mutex(value))
        }

        #[inline]
        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock()
        }

        #[inline]
        pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
            self.0.try_lock()
        }
    }

    /// The mutex that goes with [`Condvar`]: std's, because std's condition
    /// variable is a bare futex word on Linux (parking_lot's goes through a
    /// global hash table of wait queues), and these two exist for the
    /// park/unpark path.
    #[derive(Debug, Default)]
    pub(crate) struct CvMutex<T>(std::sync::Mutex<T>);

    pub(crate) type CvMutexGuard<'a, T> = std::sync::MutexGuard<'a, T>;

    impl<T> CvMutex<T> {
        pub(crate) const fn new(value: T) -> CvMutex<T> {
            CvMutex(std::sync::Mutex::new(value))
        }

        /// Poisoning is ignored, as parking_lot (which these replaced)
        /// ignores it: the critical sections (the parker's hand-off, the
        /// blocking pool's queue and counters) run no task code, so a panic
        /// cannot stop one halfway through an update.
        #[inline]
        pub(crate) fn lock(&self) -> CvMutexGuard<'_, T> {
            self.0
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        }
    }

    /// A condition variable with one API over std and loom.
    #[derive(Debug, Default)]
    pub(crate) struct Condvar(std::sync::Condvar);

    impl Condvar {
        pub(crate) const fn new() -> Condvar {
            Condvar(std::sync::Condvar::new())
        }

        pub(crate) fn wait<'a, T>(&self, guard: CvMutexGuard<'a, T>) -> CvMutexGuard<'a, T> {
            self.0
                .wait(guard)
                .unwrap_or_else(std::sync::PoisonError::into_inner)
        }

        /// Waits at most `dur`; the flag says whether the wait timed out.
        pub(crate) fn wait_timeout<'a, T>(
            &self,
            guard: CvMutexGuard<'a, T>,
            dur: std::time::Duration,
        ) -> (CvMutexGuard<'a, T>, bool) {
            let (guard, res) = self
                .0
                .wait_timeout(guard, dur)
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            (guard, res.timed_out())
        }

        pub(crate) fn notify_one(&self) {
            self.0.notify_one();
        }

        pub(crate) fn notify_all(&self) {
            self.0.notify_all();
        }
    }

    /// Threads of the blocking pool: std's, named and sized; and the yield
    /// of a loop that waits for another thread.
    pub(crate) mod thread {
        pub(crate) use std::thread::{JoinHandle, Thread, current, yield_now};

        /// Starts a thread named `name` with `stack_size` bytes of stack
        /// (the platform's default if `None`).
        pub(crate) fn spawn(
            name: String,
            stack_size: Option<usize>,
            f: impl FnOnce() + Send + 'static,
        ) -> std::io::Result<JoinHandle<()>> {
            let mut builder = std::thread::Builder::new().name(name);
            if let Some(size) = stack_size {
                builder = builder.stack_size(size);
            }
            builder.spawn(f)
        }

        /// Blocks until unparked or `dur` elapses (or spuriously).
        pub(crate) fn park_timeout(dur: std::time::Duration) {
            std::thread::park_timeout(dur);
        }
    }

    pub(crate) use std::sync::Arc;
}

#[cfg(loom)]
mod imp {
    pub(crate) mod atomic {
        pub(crate) use loom::sync::atomic::{AtomicBool, AtomicPtr, AtomicU64, AtomicUsize, fence};
    }

    pub(crate) use loom::cell::UnsafeCell;

    /// A mutex with one API over parking_lot and loom.
    #[derive(Debug, Default)]
    pub(crate) struct Mutex<T>(loom::sync::Mutex<T>);

    pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

    impl<T> Mutex<T> {
        pub(crate) fn new(value: T) -> Mutex<T> {
            Mutex(loom::sync::Mutex::new(value))
        }

        pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
            self.0.lock().unwrap()
        }

        pub(crate) fn try_lock(&self) -> Option<MutexGuard<'_, T>> {
            self.0.try_lock().ok()
        }
    }

    /// Under loom, the condition variable's mutex is loom's mutex.
    pub(crate) type CvMutex<T> = Mutex<T>;
    pub(crate) type CvMutexGuard<'a, T> = MutexGuard<'a, T>;

    /// A condition variable with one API over std and loom.
    #[derive(Debug, Default)]
    pub(crate) struct Condvar(loom::sync::Condvar);

    impl Condvar {
        pub(crate) fn new() -> Condvar {
            Condvar(loom::sync::Condvar::new())
        }

        pub(crate) fn wait<'a, T>(&self, guard: MutexGuard<'a, T>) -> MutexGuard<'a, T> {
            self.0.wait(guard).unwrap()
        }

        /// loom does not model time: a timed wait is an untimed wait that
        /// may also return spuriously, which is what callers must handle.
        pub(crate) fn wait_timeout<'a, T>(
            &self,
            guard: MutexGuard<'a, T>,
            _dur: std::time::Duration,
        ) -> (MutexGuard<'a, T>, bool) {
            (self.0.wait(guard).unwrap(), false)
        }

        pub(crate) fn notify_one(&self) {
            self.0.notify_one();
        }

        pub(crate) fn notify_all(&self) {
            self.0.notify_all();
        }
    }

    /// loom's threads, so the blocking pool's threads take part in the
    /// model, and loom's yield, so a waiting loop lets the thread it waits
    /// for run. The name and stack size are ignored, and there is no time:
    /// `park_timeout` parks until unparked, so a model that needs a timeout
    /// to fire passes a zero duration to the code that computes the
    /// deadline, which then never parks.
    pub(crate) mod thread {
        pub(crate) use loom::thread::{JoinHandle, Thread, current, yield_now};

        pub(crate) fn spawn(
            _name: String,
            _stack_size: Option<usize>,
            f: impl FnOnce() + Send + 'static,
        ) -> std::io::Result<JoinHandle<()>> {
            Ok(loom::thread::spawn(f))
        }

        pub(crate) fn park_timeout(_dur: std::time::Duration) {
            loom::thread::park();
        }
    }

    pub(crate) use loom::sync::Arc;
}

pub(crate) use imp::*;

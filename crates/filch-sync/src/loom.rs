//! The one door through which this crate reaches synchronization primitives.
//!
//! Every atomic, lock and `UnsafeCell` that takes part in a concurrent
//! protocol of this crate is imported from here, so that building with
//! `RUSTFLAGS="--cfg loom"` swaps them for loom's model-checked versions and
//! the models in `loom-tests/` exercise the very code that ships. This module
//! must not contain protocol logic: it only gives std/parking_lot and loom
//! one API.

#[cfg(not(loom))]
mod imp {
    pub(crate) mod atomic {
        pub(crate) use std::sync::atomic::{AtomicPtr, AtomicUsize};
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
    }

    pub(crate) use std::sync::Arc;

    /// Tells the CPU (or loom's scheduler) that we wait for another thread
    /// to finish a short step.
    #[inline]
    pub(crate) fn spin_loop() {
        std::hint::spin_loop();
    }
}

#[cfg(loom)]
mod imp {
    pub(crate) mod atomic {
        pub(crate) use loom::sync::atomic::{AtomicPtr, AtomicUsize};
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
    }

    pub(crate) use loom::sync::Arc;

    /// Tells the CPU (or loom's scheduler) that we wait for another thread
    /// to finish a short step: under loom, lets the other threads run.
    pub(crate) fn spin_loop() {
        loom::hint::spin_loop();
    }
}

pub(crate) use imp::*;

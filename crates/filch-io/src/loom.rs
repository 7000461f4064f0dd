//! The one door through which this crate reaches synchronization
//! primitives: those of its readiness protocol (`reactor/scheduled_io.rs`)
//! and of the reactor's registry (`reactor/mod.rs`).
//!
//! Building with `RUSTFLAGS="--cfg loom"` swaps them for loom's
//! model-checked versions, so the models in `loom-tests/tests/io_*.rs`
//! exercise the very code that ships. This module must not contain protocol
//! logic: it only gives std/parking_lot and loom one API.

#[cfg(not(loom))]
mod imp {
    pub(crate) mod atomic {
        pub(crate) use std::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize};
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
}

#[cfg(loom)]
mod imp {
    pub(crate) mod atomic {
        pub(crate) use loom::sync::atomic::{AtomicBool, AtomicU8, AtomicUsize};
    }

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
}

pub(crate) use imp::*;

#![cfg(loom)]
//! Loom models of `RwLock` on the fair semaphore: a writer excludes
//! readers, and a writer collecting read slots is handed them in order.

mod common;

use filch_sync::RwLock;
use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;

#[test]
fn rwlock_writer_excludes_readers() {
    common::model("rwlock_writer_excludes_readers", || {
        let lock = Arc::new(RwLock::with_max_readers(0, 2));
        let writer = {
            let lock = lock.clone();
            thread::spawn(move || block_on(async { *lock.write().await += 1 }))
        };
        let reader = {
            let lock = lock.clone();
            thread::spawn(move || block_on(async { *lock.read().await }))
        };
        let seen = reader.join().unwrap();
        writer.join().unwrap();
        assert!(seen == 0 || seen == 1);
        assert_eq!(*lock.try_read().unwrap(), 1);
        assert!(lock.try_write().is_ok());
    });
}

#[test]
fn downgrade_lets_a_waiting_reader_in() {
    common::model("downgrade_lets_a_waiting_reader_in", || {
        let lock = Arc::new(RwLock::with_max_readers(0, 2));
        let mut w = lock.try_write().unwrap();
        let reader = {
            let lock = lock.clone();
            thread::spawn(move || block_on(async { *lock.read().await }))
        };
        *w = 1;
        let r = filch_sync::RwLockWriteGuard::downgrade(w);
        assert_eq!(reader.join().unwrap(), 1);
        drop(r);
        assert!(lock.try_write().is_ok());
    });
}

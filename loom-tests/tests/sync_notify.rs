#![cfg(loom)]
//! Loom models of `Notify` (`filch-sync/src/notify.rs`): the lock-free
//! permit against the waiter queue, `notify_waiters` against a waiter that
//! checks a condition first, and a chosen waiter that is dropped. A lost
//! wake-up is a loom deadlock.

mod common;

use filch_sync::Notify;
use loom::future::block_on;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
use loom::thread;
use std::future::Future;
use std::task::{Context, Waker};

#[test]
fn notify_one_reaches_a_concurrent_waiter() {
    common::model("notify_one_reaches_a_concurrent_waiter", || {
        let n = Arc::new(Notify::new());
        let w = {
            let n = n.clone();
            thread::spawn(move || block_on(n.notified()))
        };
        n.notify_one();
        w.join().unwrap();
    });
}

#[test]
fn notify_waiters_reaches_a_waiter_that_checked_first() {
    common::model("notify_waiters_reaches_a_waiter_that_checked_first", || {
        let n = Arc::new(Notify::new());
        let flag = Arc::new(AtomicBool::new(false));
        let w = {
            let (n, flag) = (n.clone(), flag.clone());
            thread::spawn(move || {
                block_on(async {
                    let notified = n.notified();
                    if !flag.load(SeqCst) {
                        notified.await;
                    }
                })
            })
        };
        flag.store(true, SeqCst);
        n.notify_waiters();
        w.join().unwrap();
    });
}

#[test]
fn a_dropped_chosen_waiter_passes_the_notification_on() {
    common::model("a_dropped_chosen_waiter_passes_the_notification_on", || {
        let n = Arc::new(Notify::new());
        let quitter = {
            let n = n.clone();
            thread::spawn(move || {
                let mut fut = Box::pin(n.notified());
                fut.as_mut()
                    .poll(&mut Context::from_waker(Waker::noop()))
                    .is_ready()
            })
        };
        let waiter = {
            let n = n.clone();
            thread::spawn(move || block_on(n.notified()))
        };
        n.notify_one();
        if quitter.join().unwrap() {
            // The quitter consumed it (it saw it before being dropped).
            n.notify_one();
        }
        waiter.join().unwrap();
    });
}

#[test]
fn notify_one_during_a_broadcast_is_not_swallowed() {
    // Under loom a wake batch holds one waker, so `notify_waiters` drops
    // the lock between the two waiters it releases (one in a thread, one
    // here). Another task starts waiting and calls `notify_one`, possibly
    // in that gap: its own wait must complete (by the broadcast if it was
    // listed before it, else by the notify_one, which must not be spent on
    // an already-released waiter). A swallowed notification is a loom
    // deadlock.
    common::model("notify_one_during_a_broadcast_is_not_swallowed", || {
        let n = Arc::new(Notify::new());
        let registered = Arc::new(AtomicBool::new(false));
        let waiter = {
            let (n, registered) = (n.clone(), registered.clone());
            thread::spawn(move || {
                let mut fut = Box::pin(n.notified());
                fut.as_mut().enable();
                registered.store(true, SeqCst);
                block_on(fut);
            })
        };
        let third = {
            let n = n.clone();
            thread::spawn(move || {
                let mut fut = Box::pin(n.notified());
                fut.as_mut().enable();
                n.notify_one();
                block_on(fut);
            })
        };
        let mut mine = Box::pin(n.notified());
        mine.as_mut().enable();
        while !registered.load(SeqCst) {
            thread::yield_now();
        }
        n.notify_waiters();
        block_on(mine);
        third.join().unwrap();
        waiter.join().unwrap();
    });
}

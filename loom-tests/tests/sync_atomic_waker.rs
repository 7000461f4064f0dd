#![cfg(loom)]
//! Loom model of the mpsc receiver's `AtomicWaker`
//! (`filch-sync/src/atomic_waker.rs`): a registration racing one wake, or
//! two, is never lost.

mod common;

use filch_sync::__loom::AtomicWaker;
use loom::future::block_on;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
use loom::thread;
use std::task::Poll;

/// Registers (again on every poll, as the receiver does) until `flag` is
/// set.
fn wait_for(waker: &AtomicWaker, flag: &AtomicBool) {
    block_on(std::future::poll_fn(|cx| {
        waker.register(cx.waker());
        if flag.load(SeqCst) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }));
}

#[test]
fn register_races_wake() {
    common::model("register_races_wake", || {
        let waker = Arc::new(AtomicWaker::new());
        let flag = Arc::new(AtomicBool::new(false));
        let t = {
            let (waker, flag) = (waker.clone(), flag.clone());
            thread::spawn(move || {
                flag.store(true, SeqCst);
                waker.wake();
            })
        };
        wait_for(&waker, &flag);
        t.join().unwrap();
    });
}

#[test]
fn two_wakers_and_repeated_registration() {
    common::model("two_wakers_and_repeated_registration", || {
        let waker = Arc::new(AtomicWaker::new());
        let flag = Arc::new(AtomicBool::new(false));
        let ths: Vec<_> = (0..2)
            .map(|i| {
                let (waker, flag) = (waker.clone(), flag.clone());
                thread::spawn(move || {
                    if i == 0 {
                        flag.store(true, SeqCst);
                    }
                    waker.wake();
                })
            })
            .collect();
        wait_for(&waker, &flag);
        for t in ths {
            t.join().unwrap();
        }
    });
}

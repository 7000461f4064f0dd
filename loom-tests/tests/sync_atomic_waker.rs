#![cfg(loom)]
//! Loom model of the mpsc receiver's `AtomicWaker`
//! (`filch-sync/src/atomic_waker.rs`): a registration racing a wake is
//! never lost.

mod common;

use filch_sync::__loom::AtomicWaker;
use loom::future::block_on;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
use loom::thread;
use std::task::Poll;

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
        block_on(std::future::poll_fn(|cx| {
            waker.register(cx.waker());
            if flag.load(SeqCst) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }));
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
        block_on(std::future::poll_fn(|cx| {
            waker.register(cx.waker());
            if flag.load(SeqCst) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }));
        for t in ths {
            t.join().unwrap();
        }
    });
}

#![cfg(loom)]
//! Loom model of the mpsc receiver's `AtomicWaker`
//! (`filch-sync/src/atomic_waker.rs`): a registration racing a wake is
//! never lost.

use filch_sync::__loom::AtomicWaker;
use loom::future::block_on;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, Ordering::SeqCst};
use loom::thread;
use std::task::Poll;

#[test]
fn register_races_wake() {
    loom::model(|| {
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

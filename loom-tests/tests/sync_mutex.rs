#![cfg(loom)]
//! Loom model of `Mutex` on the fair semaphore: exclusive access under
//! every interleaving, and the hand-off to a waiter.

mod common;

use filch_sync::Mutex;
use loom::future::block_on;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;

#[test]
fn mutex_is_exclusive_and_hands_off() {
    common::model("mutex_is_exclusive_and_hands_off", || {
        let m = Arc::new(Mutex::new(0));
        let inside = Arc::new(AtomicUsize::new(0));
        let th: Vec<_> = (0..2)
            .map(|_| {
                let (m, inside) = (m.clone(), inside.clone());
                thread::spawn(move || {
                    block_on(async {
                        let mut g = m.lock().await;
                        assert_eq!(inside.fetch_add(1, SeqCst), 0, "two lock holders");
                        *g += 1;
                        inside.fetch_sub(1, SeqCst);
                    })
                })
            })
            .collect();
        for t in th {
            t.join().unwrap();
        }
        assert_eq!(*m.try_lock().unwrap(), 2);
    });
}

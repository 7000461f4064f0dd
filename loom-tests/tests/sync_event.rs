#![cfg(loom)]
//! Loom models of `Event`: `set` against a starting `wait` (and a `clear`
//! right after), and a broadcast that drops its lock between waiters.

mod common;

use filch_sync::Event;
use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;

#[test]
fn set_reaches_a_concurrent_wait_even_if_cleared_after() {
    common::model(
        "set_reaches_a_concurrent_wait_even_if_cleared_after",
        || {
            let ev = Arc::new(Event::new());
            let w = {
                let ev = ev.clone();
                thread::spawn(move || block_on(ev.wait()))
            };
            ev.set();
            ev.clear();
            // A wait that starts after the clear needs another set; one that
            // started before was released by the first set (or saw the flag).
            ev.set();
            w.join().unwrap();
        },
    );
}

#[test]
fn set_releases_two_waiters_across_wake_batches() {
    // Under loom a wake batch holds one waker: `set` drops the lock
    // between the two waiters.
    common::model("set_releases_two_waiters_across_wake_batches", || {
        let ev = Arc::new(Event::new());
        let th: Vec<_> = (0..2)
            .map(|_| {
                let ev = ev.clone();
                thread::spawn(move || block_on(ev.wait()))
            })
            .collect();
        ev.set();
        for t in th {
            t.join().unwrap();
        }
    });
}

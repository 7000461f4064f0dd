#![cfg(loom)]
//! Loom models of `oneshot` (`filch-sync/src/oneshot.rs`): the state word
//! doubles as the reference count, so every model checks that the value is
//! dropped exactly once and that the shared block is freed by exactly one
//! side (a double free or use-after-free is caught by loom's cell
//! tracking; a leak shows up as a value never dropped).

mod common;

use filch_sync::oneshot;
use loom::future::block_on;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;

struct Tracked(Arc<AtomicUsize>);
impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn send_races_receive() {
    common::model("send_races_receive", || {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = oneshot::channel();
        let d = drops.clone();
        let t = thread::spawn(move || {
            assert!(tx.send(Tracked(d)).is_ok());
        });
        let Ok(v) = block_on(rx) else {
            panic!("the value arrives")
        };
        t.join().unwrap();
        drop(v);
        assert_eq!(drops.load(SeqCst), 1);
    });
}

#[test]
fn send_races_receiver_drop() {
    common::model("send_races_receiver_drop", || {
        let drops = Arc::new(AtomicUsize::new(0));
        let (tx, rx) = oneshot::channel();
        let d = drops.clone();
        let t = thread::spawn(move || {
            // Either delivered (then dropped with the channel) or handed
            // back (then dropped here).
            let _ = tx.send(Tracked(d));
        });
        drop(rx);
        t.join().unwrap();
        assert_eq!(drops.load(SeqCst), 1);
    });
}

#[test]
fn sender_drop_wakes_a_waiting_receiver() {
    common::model("sender_drop_wakes_a_waiting_receiver", || {
        let (tx, rx) = oneshot::channel::<()>();
        let t = thread::spawn(move || drop(tx));
        assert!(block_on(rx).is_err());
        t.join().unwrap();
    });
}

#[test]
fn closed_sees_the_receiver_go() {
    common::model("closed_sees_the_receiver_go", || {
        let (mut tx, rx) = oneshot::channel::<()>();
        let t = thread::spawn(move || drop(rx));
        block_on(tx.closed());
        assert!(tx.is_closed());
        t.join().unwrap();
    });
}

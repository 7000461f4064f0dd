#![cfg(loom)]
//! Loom models of the mpsc channels (`filch-sync/src/mpsc/`), with blocks
//! of `BLOCK_CAP` (2 under loom) slots so the models cross block
//! boundaries: slot claims racing each other, the receiver's sleep
//! announcement racing a send, close racing a send, bounded capacity, and
//! message drops. A lost wake-up is a loom deadlock; a block freed while a
//! sender still touches it is a loom cell-access error.

mod common;

use filch_sync::__loom::BLOCK_CAP;
use filch_sync::mpsc;
use loom::future::block_on;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;

#[test]
fn block_capacity_is_small_under_loom() {
    assert_eq!(BLOCK_CAP, 2);
}

#[test]
fn one_sender_crosses_a_block_then_closes() {
    common::model("one_sender_crosses_a_block_then_closes", || {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let t = thread::spawn(move || {
            for i in 0..3 {
                tx.send(i).unwrap();
            }
        });
        block_on(async {
            for i in 0..3 {
                assert_eq!(rx.recv().await, Some(i));
            }
            assert_eq!(rx.recv().await, None);
        });
        t.join().unwrap();
    });
}

#[test]
fn two_senders_race_for_slots() {
    common::model("two_senders_race_for_slots", || {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let th: Vec<_> = (0..2)
            .map(|s| {
                let tx = tx.clone();
                thread::spawn(move || tx.send(s).unwrap())
            })
            .collect();
        drop(tx);
        let mut got = block_on(async {
            let mut got = Vec::new();
            while let Some(v) = rx.recv().await {
                got.push(v);
            }
            got
        });
        for t in th {
            t.join().unwrap();
        }
        got.sort();
        assert_eq!(got, [0, 1]);
    });
}

#[test]
fn receiver_close_races_a_send() {
    common::model("receiver_close_races_a_send", || {
        let (tx, mut rx) = mpsc::unbounded_channel();
        let t = thread::spawn(move || tx.send(7).is_ok());
        rx.close();
        // A send that returned Ok is received; then the channel ends.
        let got = block_on(rx.recv());
        let sent = t.join().unwrap();
        assert_eq!(got.is_some(), sent);
        assert_eq!(block_on(rx.recv()), None);
    });
}

#[test]
fn bounded_sender_waits_for_room() {
    common::model("bounded_sender_waits_for_room", || {
        let (tx, mut rx) = mpsc::channel(1);
        let t = thread::spawn(move || {
            block_on(async {
                tx.send(1).await.unwrap();
                tx.send(2).await.unwrap();
            })
        });
        block_on(async {
            assert_eq!(rx.recv().await, Some(1));
            assert_eq!(rx.recv().await, Some(2));
            assert_eq!(rx.recv().await, None);
        });
        t.join().unwrap();
    });
}

struct Tracked(Arc<AtomicUsize>);
impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn receiver_drop_races_sends_and_drops_each_message_once() {
    common::model(
        "receiver_drop_races_sends_and_drops_each_message_once",
        || {
            let drops = Arc::new(AtomicUsize::new(0));
            let (tx, rx) = mpsc::unbounded_channel();
            let d = drops.clone();
            let t = thread::spawn(move || {
                for _ in 0..3 {
                    // Returned values are dropped here, delivered ones by the
                    // channel.
                    let _ = tx.send(Tracked(d.clone()));
                }
            });
            drop(rx);
            t.join().unwrap();
            assert_eq!(drops.load(SeqCst), 3);
        },
    );
}

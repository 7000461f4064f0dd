//! oneshot: every order of send / receive / drop / close, value drop
//! accounting, `closed()`, and threads racing sender against receiver.

mod common;

use common::{Manual, rt, with_deadline};
use filch_sync::oneshot::{self, error::TryRecvError};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

/// Counts drops, to prove a value is dropped exactly once.
struct Tracked(Arc<AtomicUsize>);
impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn send_then_receive_and_receive_then_send() {
    let (tx, rx) = oneshot::channel();
    tx.send(1).unwrap();
    assert_eq!(Manual::new(rx).ready(), Ok(1));

    let (tx, rx) = oneshot::channel();
    let mut rx = Manual::new(rx);
    rx.pending();
    rx.pending(); // re-polling keeps one registration
    tx.send(2).unwrap();
    assert_eq!(rx.wakes(), 1);
    assert_eq!(rx.ready(), Ok(2));
}

#[test]
fn dropping_the_sender_wakes_the_receiver_with_an_error() {
    let (tx, rx) = oneshot::channel::<u8>();
    let mut rx = Manual::new(rx);
    rx.pending();
    drop(tx);
    assert_eq!(rx.wakes(), 1);
    assert!(rx.ready().is_err());
}

#[test]
fn send_to_a_dropped_or_closed_receiver_gives_the_value_back() {
    let (tx, rx) = oneshot::channel();
    drop(rx);
    assert!(tx.is_closed());
    assert_eq!(tx.send(5), Err(5));

    let (tx, mut rx) = oneshot::channel();
    rx.close();
    assert_eq!(tx.send(6), Err(6));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Closed));
}

#[test]
fn a_value_sent_before_close_is_still_received() {
    let (tx, mut rx) = oneshot::channel();
    tx.send(7).unwrap();
    rx.close();
    assert_eq!(rx.try_recv(), Ok(7));
}

#[test]
fn values_are_dropped_exactly_once_in_every_order() {
    let drops = Arc::new(AtomicUsize::new(0));
    // sent, never received
    let (tx, rx) = oneshot::channel();
    tx.send(Tracked(drops.clone())).ok().unwrap();
    drop(rx);
    assert_eq!(drops.load(SeqCst), 1);
    // receiver gone first: send hands the value back
    let (tx, rx) = oneshot::channel();
    drop(rx);
    let back = tx.send(Tracked(drops.clone())).err().unwrap();
    assert_eq!(drops.load(SeqCst), 1);
    drop(back);
    assert_eq!(drops.load(SeqCst), 2);
    // received
    let (tx, mut rx) = oneshot::channel();
    tx.send(Tracked(drops.clone())).ok().unwrap();
    let v = rx.try_recv().ok().unwrap();
    drop(rx);
    assert_eq!(drops.load(SeqCst), 2);
    drop(v);
    assert_eq!(drops.load(SeqCst), 3);
}

#[test]
fn closed_completes_when_the_receiver_goes() {
    let (mut tx, rx) = oneshot::channel::<()>();
    let mut closed = Manual::new(async move {
        tx.closed().await;
        tx
    });
    closed.pending();
    drop(rx);
    assert_eq!(closed.wakes(), 1);
    let tx = closed.ready();
    assert!(tx.is_closed());

    let (mut tx, mut rx) = oneshot::channel::<()>();
    let mut closed = Manual::new(async move { tx.closed().await });
    closed.pending();
    rx.close();
    assert_eq!(closed.wakes(), 1);
    closed.ready();
}

#[test]
#[should_panic(expected = "polled after it completed")]
fn polling_a_finished_receiver_panics() {
    let (tx, rx) = oneshot::channel();
    tx.send(()).unwrap();
    let mut rx = Manual::new(rx);
    rx.ready().unwrap();
    let _ = rx.poll();
}

#[test]
fn threads_racing_send_against_receive_and_drop() {
    with_deadline(120, || {
        let drops = Arc::new(AtomicUsize::new(0));
        let made = 20_000;
        let received = Arc::new(AtomicUsize::new(0));
        for i in 0..made {
            let (tx, rx) = oneshot::channel();
            let d = drops.clone();
            let sender = std::thread::spawn(move || {
                let _ = tx.send(Tracked(d));
            });
            if i % 2 == 0 {
                if let Ok(v) = rx.blocking_recv() {
                    received.fetch_add(1, SeqCst);
                    drop(v);
                }
            } else {
                drop(rx);
            }
            sender.join().unwrap();
        }
        // Every value made was dropped exactly once, wherever it ended.
        assert_eq!(drops.load(SeqCst), made);
        assert_eq!(received.load(SeqCst), made / 2);
    });
}

#[test]
fn request_reply_between_tasks() {
    with_deadline(60, || {
        let rt = rt(2);
        let (tx, mut rx) = filch_sync::mpsc::channel::<(u64, oneshot::Sender<u64>)>(16);
        rt.spawn(async move {
            while let Some((n, reply)) = rx.recv().await {
                let _ = reply.send(n * 2);
            }
        });
        let sum = rt.block_on(async move {
            let mut sum = 0;
            for n in 0..5_000 {
                let (otx, orx) = oneshot::channel();
                tx.send((n, otx)).await.unwrap();
                sum += orx.await.unwrap();
            }
            sum
        });
        assert_eq!(sum, (0..5_000u64).map(|n| n * 2).sum());
    });
}

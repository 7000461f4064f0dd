//! mpsc: order across block boundaries, capacity and waiting senders,
//! every way of closing, permits, recv_many, Stream, len, and message drop
//! accounting.

mod common;

use common::{Manual, rt, with_deadline};
use filch_sync::mpsc::{
    self,
    error::{TryRecvError, TrySendError},
};
use futures_core::Stream;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll, Waker};

struct Tracked(Arc<AtomicUsize>);
impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn messages_arrive_in_order_across_many_blocks() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    for i in 0..1_000 {
        tx.send(i).unwrap();
    }
    assert_eq!(rx.len(), 1_000);
    for i in 0..1_000 {
        assert_eq!(rx.try_recv(), Ok(i));
    }
    assert_eq!(rx.try_recv(), Err(TryRecvError::Empty));
    assert!(rx.is_empty());
    drop(tx);
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn a_sleeping_receiver_is_woken_once_per_wait() {
    let (tx, rx) = mpsc::unbounded_channel();
    let mut rx = Manual::new(async move {
        let mut rx = rx;
        let a = rx.recv().await;
        let b = rx.recv().await;
        (a, b, rx)
    });
    rx.pending();
    tx.send(1).unwrap();
    assert_eq!(rx.wakes(), 1);
    rx.pending();
    tx.send(2).unwrap();
    assert_eq!(rx.wakes(), 2);
    let (a, b, _rx) = rx.ready();
    assert_eq!((a, b), (Some(1), Some(2)));
}

#[test]
fn bounded_senders_wait_in_order_for_room() {
    let (tx, mut rx) = mpsc::channel(2);
    tx.try_send(0).unwrap();
    tx.try_send(1).unwrap();
    assert!(matches!(tx.try_send(9), Err(TrySendError::Full(9))));
    assert_eq!(tx.capacity(), 0);
    let mut s2 = Manual::new(tx.send(2));
    let mut s3 = Manual::new(tx.send(3));
    s2.pending();
    s3.pending();
    assert_eq!(rx.try_recv(), Ok(0));
    assert_eq!((s2.wakes(), s3.wakes()), (1, 0));
    s2.ready().unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    s3.ready().unwrap();
    for want in 2..4 {
        assert_eq!(rx.try_recv(), Ok(want));
    }
    assert_eq!(tx.capacity(), 2);
}

#[test]
fn dropping_every_sender_ends_the_stream_after_the_buffer() {
    let rt = rt(2);
    let (tx, mut rx) = mpsc::channel(4);
    let tx2 = tx.clone();
    assert_eq!(rx.sender_strong_count(), 2);
    rt.block_on(async {
        tx.send(1).await.unwrap();
        tx2.send(2).await.unwrap();
        drop(tx);
        assert!(!rx.is_closed());
        drop(tx2);
        assert!(rx.is_closed());
        assert_eq!(rx.recv().await, Some(1));
        assert_eq!(rx.recv().await, Some(2));
        assert_eq!(rx.recv().await, None);
        assert_eq!(rx.recv().await, None);
    });
}

#[test]
fn receiver_close_fails_senders_but_keeps_the_buffer() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(1).unwrap();
    let mut waiting = Manual::new(tx.send(2));
    waiting.pending();
    let mut closed = Manual::new(tx.closed());
    closed.pending();
    rx.close();
    assert!(tx.is_closed());
    assert_eq!(waiting.wakes(), 1);
    assert_eq!(waiting.ready().unwrap_err().0, 2);
    closed.ready();
    assert!(matches!(tx.try_send(3), Err(TrySendError::Closed(3))));
    assert_eq!(rx.try_recv(), Ok(1));
    assert_eq!(rx.try_recv(), Err(TryRecvError::Disconnected));
}

#[test]
fn dropping_the_receiver_drops_buffered_messages_once() {
    let drops = Arc::new(AtomicUsize::new(0));
    let (tx, rx) = mpsc::unbounded_channel();
    for _ in 0..100 {
        tx.send(Tracked(drops.clone())).ok().unwrap();
    }
    drop(rx);
    assert_eq!(drops.load(SeqCst), 100, "dropped with the receiver");
    let back = tx.send(Tracked(drops.clone())).err().unwrap();
    drop(back);
    drop(tx);
    assert_eq!(drops.load(SeqCst), 101);

    // Messages left when the last handle goes are dropped too.
    let (tx, mut rx) = mpsc::channel(64);
    for _ in 0..40 {
        tx.try_send(Tracked(drops.clone())).ok().unwrap();
    }
    drop(rx.try_recv());
    drop(tx);
    drop(rx);
    assert_eq!(drops.load(SeqCst), 141);
}

#[test]
fn permits_reserve_room() {
    let (tx, mut rx) = mpsc::channel(1);
    let p = tx.try_reserve().unwrap();
    assert!(tx.try_reserve().is_err());
    drop(p);
    let p = tx.try_reserve().unwrap();
    p.send(1);
    assert_eq!(rx.try_recv(), Ok(1));
    let owned = tx.clone().try_reserve_owned().unwrap();
    let tx2 = owned.send(2);
    assert!(tx2.same_channel(&tx));
    assert_eq!(rx.try_recv(), Ok(2));
    let tx3 = tx.clone().try_reserve_owned().unwrap().release();
    assert_eq!(tx3.capacity(), 1);
    // Reserving on a closed channel fails.
    rx.close();
    let rt = rt(1);
    assert!(rt.block_on(tx.reserve()).is_err());
}

#[test]
fn recv_many_takes_what_is_ready() {
    let rt = rt(2);
    let (tx, mut rx) = mpsc::unbounded_channel();
    rt.block_on(async {
        for i in 0..100 {
            tx.send(i).unwrap();
        }
        let mut buf = Vec::new();
        assert_eq!(rx.recv_many(&mut buf, 30).await, 30);
        assert_eq!(rx.recv_many(&mut buf, 1_000).await, 70);
        assert_eq!(buf, (0..100).collect::<Vec<_>>());
        drop(tx);
        assert_eq!(rx.recv_many(&mut buf, 10).await, 0);
    });
}

#[test]
fn receivers_are_streams() {
    let (tx, mut rx) = mpsc::channel(4);
    let mut cx = Context::from_waker(Waker::noop());
    assert!(Pin::new(&mut rx).poll_next(&mut cx).is_pending());
    tx.try_send(1).unwrap();
    drop(tx);
    assert_eq!(Pin::new(&mut rx).poll_next(&mut cx), Poll::Ready(Some(1)));
    assert_eq!(Pin::new(&mut rx).poll_next(&mut cx), Poll::Ready(None));

    let (tx, mut rx) = mpsc::unbounded_channel();
    tx.send(2).unwrap();
    assert_eq!(Pin::new(&mut rx).poll_next(&mut cx), Poll::Ready(Some(2)));
}

#[test]
fn blocking_send_and_recv_from_plain_threads() {
    with_deadline(60, || {
        let (tx, mut rx) = mpsc::channel(2);
        let producer = std::thread::spawn(move || {
            for i in 0..1_000 {
                tx.blocking_send(i).unwrap();
            }
        });
        let mut got = 0;
        while let Some(i) = rx.blocking_recv() {
            assert_eq!(i, got);
            got += 1;
        }
        producer.join().unwrap();
        assert_eq!(got, 1_000);
    });
}

#[test]
fn every_message_is_delivered_exactly_once_in_per_sender_order() {
    for bounded in [true, false] {
        with_deadline(120, move || {
            let rt = rt(3);
            let senders = 6u64;
            let per = 20_000u64;
            let seen = rt.block_on(async move {
                let (btx, mut brx) = mpsc::channel::<(u64, u64)>(7);
                let (utx, mut urx) = mpsc::unbounded_channel::<(u64, u64)>();
                for s in 0..senders {
                    let (btx, utx) = (btx.clone(), utx.clone());
                    filch_executor::spawn(async move {
                        for i in 0..per {
                            if bounded {
                                btx.send((s, i)).await.unwrap();
                            } else {
                                utx.send((s, i)).unwrap();
                                if i % 64 == 0 {
                                    filch_executor::yield_now().await;
                                }
                            }
                        }
                    });
                }
                drop((btx, utx));
                let mut next = vec![0u64; senders as usize];
                let mut total = 0u64;
                loop {
                    let msg = if bounded {
                        brx.recv().await
                    } else {
                        urx.recv().await
                    };
                    let Some((s, i)) = msg else { break };
                    assert_eq!(next[s as usize], i, "per-sender FIFO");
                    next[s as usize] += 1;
                    total += 1;
                }
                assert!(next.iter().all(|&n| n == per));
                total
            });
            assert_eq!(seen, senders * per);
        });
    }
}

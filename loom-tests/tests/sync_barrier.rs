#![cfg(loom)]
//! Loom models of `Barrier`: a round has exactly one leader, and a waiter
//! that gives up takes its arrival back.

mod common;

use filch_sync::{Barrier, Event};
use loom::future::block_on;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;
use std::future::Future;
use std::task::{Context, Poll, Waker};

#[test]
fn barrier_round_has_one_leader() {
    common::model("barrier_round_has_one_leader", || {
        let b = Arc::new(Barrier::new(2));
        let leaders = Arc::new(AtomicUsize::new(0));
        let t = {
            let (b, leaders) = (b.clone(), leaders.clone());
            thread::spawn(move || {
                if block_on(b.wait()).is_leader() {
                    leaders.fetch_add(1, SeqCst);
                }
            })
        };
        if block_on(b.wait()).is_leader() {
            leaders.fetch_add(1, SeqCst);
        }
        t.join().unwrap();
        assert_eq!(leaders.load(SeqCst), 1);
    });
}

#[test]
fn a_waiter_that_gives_up_races_an_arrival() {
    // The quitter arrives, then gives up while `other` arrives: either
    // `other` completed the round with it (the quitter counted), or the
    // quitter took its arrival back and `other` waits for us. We wait for
    // whichever happens (`done` is set once `other` passed the barrier).
    common::model("a_waiter_that_gives_up_races_an_arrival", || {
        let b = Arc::new(Barrier::new(2));
        let done = Arc::new(Event::new());
        let quitter = {
            let b = b.clone();
            thread::spawn(move || {
                let mut fut = Box::pin(b.wait());
                let _ = fut.as_mut().poll(&mut Context::from_waker(Waker::noop()));
            })
        };
        let other = {
            let (b, done) = (b.clone(), done.clone());
            thread::spawn(move || {
                block_on(b.wait());
                done.set();
            })
        };
        quitter.join().unwrap();
        let mut mine = Box::pin(b.wait());
        let mut other_passed = Box::pin(done.wait());
        block_on(std::future::poll_fn(|cx| {
            if mine.as_mut().poll(cx).is_ready() || other_passed.as_mut().poll(cx).is_ready() {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        }));
        other.join().unwrap();
    });
}

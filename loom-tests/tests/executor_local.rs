#![cfg(loom)]
//! Loom model of the hand-off of a local task's wake-up from another
//! thread (`filch-executor/src/local.rs`): the waker pushes the task to the
//! owner's [`Inbox`] and unparks the owner; the owner drains the inbox when
//! it looks for work, looks once more (`is_pending`) and parks. With the
//! real `Inbox` and the real `Parker`: every pushed task is drained exactly
//! once, and the owner never parks for good with a task in the inbox (loom
//! would report the blocked thread as a deadlock).

mod common;

use common::model;
use filch_executor::__loom::{Inbox, Parker};
use loom::sync::Arc;
use loom::thread;

/// The owner's loop until it has seen `expected` items: drain, and park only
/// when the inbox does not say it holds something.
fn owner_until(inbox: &Inbox<u32>, parker: &mut Parker, expected: usize) -> Vec<u32> {
    let mut got = Vec::new();
    loop {
        got.extend(inbox.drain());
        if got.len() == expected {
            return got;
        }
        if !inbox.is_pending() {
            parker.park(None);
        }
    }
}

/// One wake-up from another thread while the owner drains and parks.
#[test]
fn a_remote_wake_reaches_a_parking_owner() {
    model("a_remote_wake_reaches_a_parking_owner", || {
        let inbox = Arc::new(Inbox::default());
        let mut parker = Parker::new(None);
        let unparker = parker.unparker();
        let waker = {
            let inbox = inbox.clone();
            thread::spawn(move || {
                inbox.push(7);
                unparker.unpark();
            })
        };
        assert_eq!(owner_until(&inbox, &mut parker, 1), [7]);
        waker.join().unwrap();
        assert!(inbox.drain().is_empty(), "drained exactly once");
    });
}

/// Two wakers on two threads: both items arrive, each once.
#[test]
fn two_remote_wakes_each_arrive_once() {
    model("two_remote_wakes_each_arrive_once", || {
        let inbox = Arc::new(Inbox::default());
        let mut parker = Parker::new(None);
        let wakers: Vec<_> = [1, 2]
            .into_iter()
            .map(|i| {
                let inbox = inbox.clone();
                let unparker = parker.unparker();
                thread::spawn(move || {
                    inbox.push(i);
                    unparker.unpark();
                })
            })
            .collect();
        let mut got = owner_until(&inbox, &mut parker, 2);
        got.sort_unstable();
        assert_eq!(got, [1, 2]);
        for w in wakers {
            w.join().unwrap();
        }
        assert!(inbox.drain().is_empty());
    });
}

#![cfg(loom)]
//! Loom models of the reactor's wake-up coalescing (`WakeGate` in
//! `filch-io/src/reactor/wait.rs`) under the executor's real `Parker`.
//!
//! The reactor's Linux wait signals an edge-mode eventfd, and only the
//! first unpark after a wait writes to it. The mock epoll here keeps that
//! shape: one "edge pending" flag (several writes before a wait are one
//! report, as with `EPOLLET`), set by `Driver::unpark` only when the real
//! `WakeGate::signal` says so, and consumed by a wait, which then calls the
//! real `WakeGate::rearm`, as `Waiter::wait` does. A lost wake-up leaves a
//! parker blocked for good, which loom reports as a deadlock.

mod common;
#[path = "common/parkers.rs"]
mod parkers;

use common::model;
use filch_executor::__loom::{DriverSlot, Parker};
use filch_executor::{Driver, Park};
use filch_io::__loom::WakeGate;
use loom::sync::atomic::AtomicUsize;
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;
use parkers::{park_until, two_parkers_share};
use std::sync::Arc as StdArc;
use std::sync::atomic::Ordering::Release;
use std::time::Duration;

/// The mock epoll instance: whether the eventfd's edge is pending.
struct Epoll {
    edge: Mutex<bool>,
    cv: Condvar,
    gate: WakeGate,
}

/// The blocking half: `Waiter::wait` on the mock.
struct MockWait(Arc<Epoll>);

impl Park for MockWait {
    fn park(&mut self, timeout: Option<Duration>) {
        let epoll = &*self.0;
        {
            let mut edge = epoll.edge.lock().unwrap();
            if timeout != Some(Duration::ZERO) {
                while !*edge {
                    edge = epoll.cv.wait(edge).unwrap();
                }
            }
            // The wait reports the edge (if any) and the edge is gone.
            *edge = false;
        }
        epoll.gate.rearm();
    }
}

/// The shared half: `Waiter::notify` on the mock.
struct MockNotify(Arc<Epoll>);

impl Driver for MockNotify {
    fn unpark(&self) {
        let epoll = &*self.0;
        if epoll.gate.signal() {
            *epoll.edge.lock().unwrap() = true;
            epoll.cv.notify_all();
        }
    }
}

fn reactor_slot() -> StdArc<DriverSlot> {
    let epoll = Arc::new(Epoll {
        edge: Mutex::new(false),
        cv: Condvar::new(),
        gate: WakeGate::new(),
    });
    StdArc::new(DriverSlot::new(
        Box::new(MockWait(epoll.clone())),
        StdArc::new(MockNotify(epoll)),
    ))
}

/// Two rounds of publish-and-unpark against a parker that blocks in the
/// reactor: the gate coalesces each round's signal and re-opens after the
/// wait that took it, so the second round's unpark still wakes the parker.
#[test]
fn coalesced_wakes_are_not_lost() {
    model("coalesced_wakes_are_not_lost", || {
        let mut parker = Parker::new(Some(reactor_slot()));
        let unparker = parker.unparker();
        let count = Arc::new(AtomicUsize::new(0));
        let count2 = count.clone();
        let th = thread::spawn(move || {
            for i in 1..=2 {
                count2.store(i, Release);
                unparker.unpark();
            }
        });
        for i in 1..=2 {
            park_until(&mut parker, &count, i);
        }
        th.join().unwrap();
    });
}

/// Two parkers share the reactor, and another thread unparks both: the
/// one in the reactor is woken through the gate, the other on its condition
/// variable, whichever way the reactor changes hands between them; a
/// signal taken by one parker's wait never strands the other.
#[test]
fn two_parkers_share_the_gated_reactor() {
    model("two_parkers_share_the_gated_reactor", || {
        two_parkers_share(reactor_slot())
    });
}

/// A worker's maintenance poll (a zero-timeout wait, which also takes a
/// pending edge and re-opens the gate) races a parker blocking in the
/// reactor and its unpark: the parker still wakes.
#[test]
fn maintenance_poll_does_not_swallow_a_wake() {
    model("maintenance_poll_does_not_swallow_a_wake", || {
        let slot = reactor_slot();
        let count = Arc::new(AtomicUsize::new(0));
        let mut sleeper = Parker::new(Some(slot.clone()));
        let mut poller = Parker::new(Some(slot));
        let unparker = sleeper.unparker();
        let count2 = count.clone();
        let th = thread::spawn(move || park_until(&mut sleeper, &count2, 1));
        let maintenance = thread::spawn(move || poller.park(Some(Duration::ZERO)));
        count.store(1, Release);
        unparker.unpark();
        th.join().unwrap();
        maintenance.join().unwrap();
    });
}

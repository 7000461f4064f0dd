#![cfg(loom)]
//! Loom models of the combinators' ready queue
//! (`filch-combinators/src/ready.rs`): per-child wakers push the child onto
//! a lock-free stack, and the push that finds it empty wakes the parent.
//!
//! A lost wake-up shows up as the parent blocked for good in loom's
//! `block_on`: loom reports it as a deadlock. So the models only assert
//! what must hold once the parent is woken: every child woken after its
//! last poll is polled again.

// The ready queue's own source file, compiled into this model together with
// its crate's loom shim (which it reaches as `crate::loom`; the loom crate
// itself is `::loom` here). The model includes the files rather than depend
// on `filch-combinators` because that crate depends on `filch-timer`, which
// does not build under `--cfg loom` yet.
#[path = "../../crates/filch-combinators/src/loom.rs"]
mod loom;
#[path = "../../crates/filch-combinators/src/ready.rs"]
mod ready;

use ::loom::sync::atomic::{
    AtomicUsize,
    Ordering::{Acquire, Release},
};
use ::loom::thread;
use ready::ReadySet;
use std::future::{Future, poll_fn};
use std::ops::ControlFlow;
use std::sync::Arc;
use std::task::{Context, Poll, Wake, Waker};

/// Runs `f` under loom and reports how many interleavings it explored (shown
/// with `--nocapture`).
fn model(name: &str, f: impl Fn() + Sync + Send + 'static) {
    let iterations = Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let counter = iterations.clone();
    let start = std::time::Instant::now();
    ::loom::model(move || {
        counter.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        f();
    });
    eprintln!(
        "{name}: {} interleavings in {:.2?}",
        iterations.load(std::sync::atomic::Ordering::SeqCst),
        start.elapsed()
    );
}

/// A waker that sets a flag under a loom mutex and signals a loom condition
/// variable. (Not `thread::unpark`: the children's wakes may land while the
/// parent is blocked in `join`, which loom does not allow.)
#[derive(Default)]
struct Signal {
    woken: ::loom::sync::Mutex<bool>,
    cv: ::loom::sync::Condvar,
}

impl Wake for Signal {
    fn wake(self: Arc<Self>) {
        *self.woken.lock().unwrap() = true;
        self.cv.notify_one();
    }
}

/// Polls `f` on this model thread, blocking while it is pending until its
/// waker is woken: if nothing wakes it, loom reports the deadlock. Each poll
/// gets a fresh waker, and only a wake of the latest one counts (as when a
/// future moves to another task), so a wake sent to a stale waker is lost.
fn block_on<F: Future>(f: F) -> F::Output {
    let mut f = std::pin::pin!(f);
    loop {
        let signal = Arc::new(Signal::default());
        let waker = Waker::from(signal.clone());
        if let Poll::Ready(out) = f.as_mut().poll(&mut Context::from_waker(&waker)) {
            return out;
        }
        let mut woken = signal.woken.lock().unwrap();
        while !*woken {
            woken = signal.cv.wait(woken).unwrap();
        }
    }
}

/// `children` children; `wakes[i]` threads each publish an event for child
/// `i` and wake it. The parent polls rounds (blocking in between) until it
/// has seen every event: each child's poll reads its event count.
fn wakes_are_never_lost(wakes: &'static [usize]) {
    let children = wakes.len();
    let mut set = ReadySet::with_capacity(children);
    for _ in 0..children {
        set.push();
    }
    let events: Arc<Vec<AtomicUsize>> =
        Arc::new((0..children).map(|_| AtomicUsize::new(0)).collect());
    let mut threads = Vec::new();
    for (child, &n) in wakes.iter().enumerate() {
        for _ in 0..n {
            let waker = set.waker(child).clone();
            let events = events.clone();
            threads.push(thread::spawn(move || {
                events[child].fetch_add(1, Release);
                waker.wake();
            }));
        }
    }
    let mut seen = vec![0; children];
    block_on(poll_fn(|cx| {
        let _ = set.poll_round(cx, |i, _| {
            seen[i] = events[i].load(Acquire);
            ControlFlow::<()>::Continue(())
        });
        if seen.iter().zip(wakes).all(|(s, w)| s == w) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }));
    for t in threads {
        t.join().unwrap();
    }
}

/// Two children woken from two threads while the parent polls.
#[test]
fn two_children_two_wakers() {
    model("two_children_two_wakers", || wakes_are_never_lost(&[1, 1]));
}

/// One child woken twice at once: the second wake may find the child still
/// queued and rely on the parent clearing the flag before it polls.
#[test]
fn one_child_woken_twice() {
    model("one_child_woken_twice", || wakes_are_never_lost(&[2]));
}

/// Three children, one thread each, racing the parent's rounds.
#[test]
fn three_children_three_wakers() {
    model("three_children_three_wakers", || {
        wakes_are_never_lost(&[1, 1, 1])
    });
}

/// A waker that fires while (or after) the set is dropped touches only the
/// orphaned stack, never a freed node.
#[test]
fn wake_races_drop() {
    model("wake_races_drop", || {
        let mut set = ReadySet::with_capacity(2);
        set.push();
        set.push();
        let w0 = set.waker(0).clone();
        let w1 = set.waker(1).clone();
        let t = thread::spawn(move || {
            w0.wake();
            w1.wake_by_ref();
            w1.wake();
        });
        block_on(poll_fn(|cx| {
            let _ = set.poll_round(cx, |_, _| ControlFlow::<()>::Continue(()));
            Poll::Ready(())
        }));
        drop(set);
        t.join().unwrap();
    });
}

#![cfg(loom)]
//! Loom models of a task's own `yield_now` on a worker
//! (`filch-executor/src/tasks/current.rs`, `wake_own_yield`, and the
//! harness's transition to idle): the yield only marks the poll, and when
//! the poll returns `Pending` one transition clears `RUNNING` and sets
//! `NOTIFIED`, where a `wake_by_ref` during the poll and the transition to
//! idle took two. Wakes and cancels from other threads meet that transition.
//!
//! The models drive the real harness through `__loom::new_unbound` with a
//! mock scheduler that defers yields (`Schedule::DEFERS_YIELD`), as the
//! worker scheduler does; its run queue is a loom mutex, and the yield goes
//! through `__loom::own_yield`, what `yield_now` calls on a worker. What is
//! observed goes into std atomics (loom runs every model thread on one OS
//! thread, so they only record).

mod common;

use common::model;
use filch_executor::__loom::{Notified, Schedule, Task, new_unbound, next_id, own_yield};
use loom::sync::{Arc, Mutex};
use loom::thread;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc as StdArc;
use std::sync::Mutex as StdMutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll, Waker};

#[derive(Default)]
struct Probe {
    polls: AtomicUsize,
    /// Set for the length of a poll: two polls at once would find it set.
    polling: AtomicBool,
    yields: AtomicUsize,
    future_drops: AtomicUsize,
    deallocs: AtomicUsize,
    waker: StdMutex<Option<Waker>>,
}

type Queue = Arc<Mutex<VecDeque<Notified<Sched>>>>;

struct Sched {
    queue: Queue,
    probe: StdArc<Probe>,
}

impl Schedule for Sched {
    const DEFERS_YIELD: bool = true;

    fn schedule(&self, task: Notified<Self>) {
        self.queue.lock().unwrap().push_back(task);
    }

    fn yield_now(&self, task: Notified<Self>) {
        self.probe.yields.fetch_add(1, SeqCst);
        self.schedule(task);
    }

    fn release(&self, _task: &Task<Self>) -> Option<Task<Self>> {
        None
    }
}

impl Drop for Sched {
    fn drop(&mut self) {
        self.probe.deallocs.fetch_add(1, SeqCst);
    }
}

/// First poll: leaves a waker clone in the probe, yields to its own
/// scheduler, returns `Pending`. Second poll: `Ready(7)`.
struct YieldOnce {
    probe: StdArc<Probe>,
}

impl Future for YieldOnce {
    type Output = u32;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        assert!(!self.probe.polling.swap(true, SeqCst), "two polls at once");
        let n = self.probe.polls.fetch_add(1, SeqCst);
        let res = if n == 0 {
            *self.probe.waker.lock().unwrap() = Some(cx.waker().clone());
            assert!(own_yield(cx.waker()), "the task's own waker");
            Poll::Pending
        } else {
            Poll::Ready(7)
        };
        self.probe.polling.store(false, SeqCst);
        res
    }
}

impl Drop for YieldOnce {
    fn drop(&mut self) {
        self.probe.future_drops.fetch_add(1, SeqCst);
    }
}

fn spawn(probe: &StdArc<Probe>) -> (Queue, filch_executor::__loom::JoinHandle<u32>) {
    let queue: Queue = Arc::new(Mutex::new(VecDeque::new()));
    let sched = Sched {
        queue: queue.clone(),
        probe: probe.clone(),
    };
    let (notified, join) = new_unbound(
        YieldOnce {
            probe: probe.clone(),
        },
        sched,
        next_id(),
    );
    queue.lock().unwrap().push_back(notified);
    (queue, join)
}

/// Runs queued tasks until the queue is empty.
fn run_all(queue: &Queue) {
    loop {
        let next = queue.lock().unwrap().pop_front();
        match next {
            Some(task) => task.run(),
            None => return,
        }
    }
}

/// The waker the first poll left, once it is there.
fn wait_for_waker(probe: &Probe) -> Waker {
    loop {
        if let Some(w) = probe.waker.lock().unwrap().take() {
            return w;
        }
        thread::yield_now();
    }
}

/// A wake from another thread (by reference, then the clone dropped) races
/// the poll that yields and the task's second poll: the yield and the wake
/// merge into one reschedule whenever they meet, so the task is polled
/// exactly twice, goes through `yield_now` once, completes, and is
/// deallocated once.
#[test]
fn own_yield_merges_with_a_racing_wake() {
    model("own_yield_merges_with_a_racing_wake", || {
        let probe = StdArc::new(Probe::default());
        let (queue, join) = spawn(&probe);
        let waking = {
            let probe = probe.clone();
            thread::spawn(move || {
                let waker = wait_for_waker(&probe);
                waker.wake_by_ref();
                drop(waker);
            })
        };
        run_all(&queue);
        waking.join().unwrap();
        run_all(&queue);
        assert_eq!(loom::future::block_on(join).unwrap(), 7);
        assert_eq!(probe.polls.load(SeqCst), 2);
        assert_eq!(probe.yields.load(SeqCst), 1);
        assert_eq!(probe.future_drops.load(SeqCst), 1);
        assert_eq!(probe.deallocs.load(SeqCst), 1);
    });
}

/// A cancel from another thread races the poll that yields: the task is
/// cancelled at that transition or at its next run (its future dropped
/// once, never polled again), or completes first; either way it is
/// deallocated once.
#[test]
fn own_yield_races_a_cancel() {
    model("own_yield_races_a_cancel", || {
        let probe = StdArc::new(Probe::default());
        let (queue, join) = spawn(&probe);
        let cancelling = {
            let probe = probe.clone();
            thread::spawn(move || {
                drop(wait_for_waker(&probe));
                join.cancel();
                join
            })
        };
        run_all(&queue);
        let join = cancelling.join().unwrap();
        run_all(&queue);
        match loom::future::block_on(join) {
            Ok(v) => {
                assert_eq!(v, 7);
                assert_eq!(probe.polls.load(SeqCst), 2);
            }
            Err(e) => {
                assert!(e.is_cancelled());
                assert_eq!(probe.polls.load(SeqCst), 1);
            }
        }
        assert_eq!(probe.future_drops.load(SeqCst), 1);
        assert_eq!(probe.deallocs.load(SeqCst), 1);
    });
}

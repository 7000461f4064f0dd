#![cfg(loom)]
//! Loom models of parking (`filch-executor/src/park.rs`) and of the idle
//! protocol that decides whom to wake (`filch-executor/src/sched/idle.rs`).
//!
//! A lost wake-up shows up as a model thread blocked for good: loom reports
//! it as a deadlock. So the models block for real (in the real `Parker`,
//! whose condition variable is loom's under `cfg(loom)`, or in a mock driver
//! built on loom primitives) and only assert what must hold once woken.

mod common;
#[path = "common/parkers.rs"]
mod parkers;

use common::model;
use filch_executor::__loom::{DriverSlot, Idle, Parker, Unparker};
use filch_executor::{Driver, Park};
use loom::sync::atomic::{AtomicBool, AtomicUsize};
use loom::sync::{Arc, Condvar, Mutex};
use loom::thread;
use parkers::{park_until, two_parkers_share};
use std::sync::Arc as StdArc;
use std::sync::atomic::Ordering::{Acquire, Release};
use std::time::Duration;

/// `rounds` times, another thread publishes a count and unparks, while the
/// parker parks until it sees each count. Every unpark, before or while the
/// parker parks, makes `park` return (else the parker stays blocked: loom
/// reports a deadlock), and a consumed notification leaves the parker able
/// to block and be woken again.
fn unpark_races_park(mut parker: Parker, rounds: usize) {
    let unparker = parker.unparker();
    let count = Arc::new(AtomicUsize::new(0));

    let count2 = count.clone();
    let th = thread::spawn(move || {
        for i in 1..=rounds {
            count2.store(i, Release);
            unparker.unpark();
        }
    });
    for i in 1..=rounds {
        park_until(&mut parker, &count, i);
    }
    th.join().unwrap();
}

/// [`unpark_races_park`] on the condition variable: the notification is
/// consumed at once, or cannot fall between the `EMPTY -> PARKED_CONDVAR`
/// exchange and the wait.
#[test]
fn unpark_races_park_on_condvar() {
    model("unpark_races_park_on_condvar", || {
        unpark_races_park(Parker::new(None), 1)
    });
}

/// [`unpark_races_park`] for two rounds on the condition variable.
#[test]
fn park_unpark_two_rounds() {
    model("park_unpark_two_rounds", || {
        unpark_races_park(Parker::new(None), 2)
    });
}

/// The blocking half of a mock driver: blocks on a loom condition variable
/// until the driver is unparked; an unpark with nobody inside makes the next
/// `park` return at once (the `Driver::unpark` contract).
struct MockPark(Arc<(Mutex<bool>, Condvar)>);

impl Park for MockPark {
    fn park(&mut self, timeout: Option<Duration>) {
        let (lock, cv) = &*self.0;
        let mut woken = lock.lock().unwrap();
        if timeout != Some(Duration::ZERO) {
            while !*woken {
                woken = cv.wait(woken).unwrap();
            }
        }
        *woken = false;
    }
}

/// The shared half of the mock driver.
struct MockDriver(Arc<(Mutex<bool>, Condvar)>);

impl Driver for MockDriver {
    fn unpark(&self) {
        let (lock, cv) = &*self.0;
        *lock.lock().unwrap() = true;
        cv.notify_one();
    }
}

fn mock_driver() -> StdArc<DriverSlot> {
    let shared = Arc::new((Mutex::new(false), Condvar::new()));
    StdArc::new(DriverSlot::new(
        Box::new(MockPark(shared.clone())),
        StdArc::new(MockDriver(shared)),
    ))
}

/// [`unpark_races_park`] in the driver: the parker takes the driver and
/// blocks in `Park::park`; the unpark sees `PARKED_DRIVER` and wakes the
/// driver, or leaves `NOTIFIED` for the parker to consume.
#[test]
fn unpark_races_park_in_driver() {
    model("unpark_races_park_in_driver", || {
        unpark_races_park(Parker::new(Some(mock_driver())), 1)
    });
}

/// Two parkers share one driver: whichever gets it first blocks in the
/// driver, the other on its own condition variable (or also in the driver,
/// after the first left it). One thread unparks both: both return.
#[test]
fn two_parkers_share_the_driver() {
    model("two_parkers_share_the_driver", || {
        two_parkers_share(mock_driver())
    });
}

/// Wakes the worker `Idle` picks, as `Shared::notify_parked` does.
fn notify_parked(idle: &Idle, unparkers: &[Unparker]) {
    if let Some(index) = idle.worker_to_notify() {
        unparkers[index].unpark();
    }
}

/// The no-lost-wake-up argument of `idle.rs`, with the real `Idle` and the
/// real `Parker`s. `searchers` workers are searching and find nothing, so
/// they park exactly as `worker.rs` does (the last searcher looks at the
/// queue once more and wakes someone if it sees work); `non_searchers`
/// workers park without having searched (`worker.rs` parks a worker that
/// was refused the searching state, and it does not look again); `busy`
/// more workers are running tasks. Meanwhile the main thread pushes one
/// task and calls `worker_to_notify`. Some worker must get the task: either
/// a producer's or the last searcher's notification wakes one, or nobody
/// would ever run it and the parked workers stay blocked, which loom
/// reports as a deadlock.
///
/// The queue is an atomic length written with `Release` and read with
/// `Acquire`, the orderings of crossbeam's `Worker::push` and the weakest
/// `is_empty` of crossbeam's deques, so only `Idle`'s own `SeqCst` fences
/// order the push against the parking (the executor's loom stand-in deque
/// is mutex-backed and would order them by itself).
///
/// A worker that finds the task "runs" it: it shuts the model down by
/// waking every worker, so the ones that were rightly left asleep return.
fn idle_model(searchers: usize, non_searchers: usize, busy: usize) {
    let parking = searchers + non_searchers;
    let workers = parking + busy;
    let idle = Arc::new(Idle::new(workers));
    let queued = Arc::new(AtomicUsize::new(0));
    let shutdown = Arc::new(AtomicBool::new(false));
    let mut parkers: Vec<Parker> = (0..parking).map(|_| Parker::new(None)).collect();
    // Busy workers never park; their unparkers are never used.
    parkers.extend((0..busy).map(|_| Parker::new(None)));
    let unparkers: Arc<Vec<Unparker>> = Arc::new(parkers.iter().map(Parker::unparker).collect());
    for _ in 0..searchers {
        assert!(idle.transition_worker_to_searching());
    }

    let threads: Vec<_> = parkers
        .into_iter()
        .take(parking)
        .enumerate()
        .map(|(index, mut parker)| {
            let (idle, queued, shutdown, unparkers) = (
                idle.clone(),
                queued.clone(),
                shutdown.clone(),
                unparkers.clone(),
            );
            thread::spawn(move || {
                // `Core::park`: the last searcher looks at the queues again.
                let is_searching = index < searchers;
                let last_searcher = idle.transition_worker_to_parked(index, is_searching);
                if last_searcher && queued.load(Acquire) > 0 {
                    notify_parked(&idle, &unparkers);
                }
                loop {
                    if shutdown.load(Acquire) {
                        return;
                    }
                    if !idle.is_parked(index) {
                        // Woken by a notification: the task it announced
                        // must be visible now, and the producer must have
                        // counted us a searcher, since we now stop searching
                        // as `Core::run_task` does (which debug-asserts it).
                        assert_eq!(queued.load(Acquire), 1, "woken without work in sight");
                        assert!(
                            idle.num_searching() > 0,
                            "woken before the producer counted us searching"
                        );
                        idle.transition_worker_from_searching();
                        shutdown.store(true, Release);
                        for unparker in unparkers.iter() {
                            unparker.unpark();
                        }
                        return;
                    }
                    parker.park(None);
                }
            })
        })
        .collect();

    // The producer: push, then notify.
    queued.store(1, Release);
    notify_parked(&idle, &unparkers);

    for th in threads {
        th.join().unwrap();
    }
    assert!(shutdown.load(Acquire), "nobody ran the task");
}

/// One worker: the only searcher parks while the task is pushed.
#[test]
fn idle_last_searcher_parks_while_work_is_pushed() {
    model("idle_last_searcher_parks_while_work_is_pushed", || {
        idle_model(1, 0, 0)
    });
}

/// Three workers, one running a task and two searching: both searchers
/// park while the task is pushed; only the second to park is the last
/// searcher and looks again.
#[test]
fn idle_two_searchers_park_while_work_is_pushed() {
    model("idle_two_searchers_park_while_work_is_pushed", || {
        idle_model(2, 0, 1)
    });
}

/// Two workers: one searching, one that parks without searching, both
/// parking while the task is pushed.
#[test]
fn idle_searcher_and_non_searcher_park_while_work_is_pushed() {
    model(
        "idle_searcher_and_non_searcher_park_while_work_is_pushed",
        || idle_model(1, 1, 0),
    );
}

/// A parked worker woken by something else (a timer, an I/O event) calls
/// `unpark_self` while a producer's `worker_to_notify` picks it: exactly one
/// of the two takes it out of the sleepers list, and the counters say so
/// (unparked once; searching only if the producer woke it, which is what
/// `unpark_self` returns).
#[test]
fn idle_unpark_self_races_notification() {
    model("idle_unpark_self_races_notification", || {
        let idle = Arc::new(Idle::new(1));
        assert!(!idle.transition_worker_to_parked(0, false));
        assert_eq!(idle.num_unparked(), 0);

        let idle2 = idle.clone();
        let th = thread::spawn(move || idle2.unpark_self(0));
        let notified = idle.worker_to_notify();
        let woken_by_producer = th.join().unwrap();

        assert_eq!(notified.is_some(), woken_by_producer);
        assert!(!idle.is_parked(0));
        assert_eq!(idle.num_unparked(), 1);
        assert_eq!(idle.num_searching(), usize::from(woken_by_producer));
        // Nobody is left in the sleepers list to wake.
        assert_eq!(idle.worker_to_notify(), None);
    });
}

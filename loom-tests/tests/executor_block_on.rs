#![cfg(loom)]
//! Loom models of the `block_on` loop (`filch-executor/src/block_on.rs`,
//! `drive`): poll the future, run queued tasks until the future is woken,
//! say "idle", park. The models drive the real `drive` with the real
//! `BlockOnState` and `Parker`; the future and the global queue are stand-ins.
//!
//! A lost wake-up shows up as the `block_on` thread parked for good: loom
//! reports a deadlock.

mod common;

use common::model;
use filch_executor::__loom::{BlockOnState, Parker, drive};
use loom::sync::atomic::{AtomicBool, AtomicUsize};
use loom::sync::{Arc, Mutex};
use loom::thread;
use std::collections::VecDeque;
use std::sync::atomic::Ordering::{Acquire, Release, SeqCst};
use std::task::Poll;

/// Runs the real loop on a future that is ready once `done` is set, with
/// tasks from `next_task`.
fn drive_until_done<R: FnOnce()>(
    state: &BlockOnState,
    parker: &mut Parker,
    done: &AtomicBool,
    next_task: impl FnMut() -> Option<R>,
) {
    drive(
        state,
        parker,
        || {
            if done.load(Acquire) {
                Poll::Ready(())
            } else {
                Poll::Pending
            }
        },
        next_task,
        || {},
    );
}

/// What the future's waker does (`BlockOnWaker`): state first, then unpark.
fn wake(state: &BlockOnState, unparker: &filch_executor::__loom::Unparker) {
    state.notify();
    unparker.unpark();
}

/// Another thread completes the future and wakes it, while the `block_on`
/// thread is anywhere in its loop: polling, running the one queued task,
/// consuming a wake-up's token, or parking. The loop always returns, and
/// the queued task has run exactly once by then or is still queued.
#[test]
fn remote_wake_vs_running_tasks_and_parking() {
    model("remote_wake_vs_running_tasks_and_parking", || {
        let state = Arc::new(BlockOnState::default());
        let mut parker = Parker::new(None);
        let unparker = parker.unparker();
        let done = Arc::new(AtomicBool::new(false));
        let queue = Arc::new(Mutex::new(VecDeque::from([1usize])));
        let ran = Arc::new(AtomicUsize::new(0));

        let th = {
            let (state, done) = (state.clone(), done.clone());
            thread::spawn(move || {
                done.store(true, Release);
                wake(&state, &unparker);
            })
        };

        drive_until_done(&state, &mut parker, &done, || {
            let _ = queue.lock().unwrap().pop_front()?;
            let ran = ran.clone();
            Some(move || {
                ran.fetch_add(1, SeqCst);
            })
        });
        th.join().unwrap();
        let left = queue.lock().unwrap().len();
        assert_eq!(ran.load(SeqCst) + left, 1);
    });
}

/// A producer queues a task that completes the future and wakes it, then
/// plays a worker: it takes the task itself if the `block_on` thread has not
/// yet (the two race for it, as a worker and the `block_on` thread race for
/// the global queue). Whoever runs the task, its wake-up reaches the loop:
/// the loop returns, and the task ran exactly once.
#[test]
fn block_on_thread_and_worker_race_for_the_waking_task() {
    model(
        "block_on_thread_and_worker_race_for_the_waking_task",
        || {
            let state = Arc::new(BlockOnState::default());
            let mut parker = Parker::new(None);
            let unparker = Arc::new(parker.unparker());
            let done = Arc::new(AtomicBool::new(false));
            let ran = Arc::new(AtomicUsize::new(0));
            // The task: mark the future complete and wake it.
            let make_task = {
                let (state, done, ran, unparker) =
                    (state.clone(), done.clone(), ran.clone(), unparker.clone());
                move || {
                    let (state, done, ran, unparker) =
                        (state.clone(), done.clone(), ran.clone(), unparker.clone());
                    move || {
                        ran.fetch_add(1, SeqCst);
                        done.store(true, Release);
                        wake(&state, &unparker);
                    }
                }
            };
            let queue: Arc<Mutex<VecDeque<usize>>> = Arc::new(Mutex::new(VecDeque::new()));

            let th = {
                let (queue, make_task) = (queue.clone(), make_task.clone());
                thread::spawn(move || {
                    queue.lock().unwrap().push_back(1);
                    // Now the worker's turn to look at the queue.
                    let mine = queue.lock().unwrap().pop_front();
                    if mine.is_some() {
                        make_task()();
                    }
                })
            };

            drive_until_done(&state, &mut parker, &done, || {
                queue.lock().unwrap().pop_front()?;
                Some(make_task())
            });
            th.join().unwrap();
            assert_eq!(ran.load(SeqCst), 1);
            assert!(queue.lock().unwrap().is_empty());
        },
    );
}

/// One thread wakes the future for nothing (its token may end a park
/// that is then followed by a poll), another publishes the event the
/// future waits for (`Release`) and wakes it. Once that second `notify` has
/// been made, the call must not look idle (`BlockOnState::is_idle`, what
/// the runtime's idle check reads: a paused clock would jump while the
/// future is ready): every poll that starts after a `notify` must see what
/// that waker published, so the only poll that can follow is `Ready`.
#[test]
fn woken_block_on_never_looks_idle() {
    model("woken_block_on_never_looks_idle", || {
        let state = Arc::new(BlockOnState::default());
        let mut parker = Parker::new(None);
        let unparker = Arc::new(parker.unparker());
        let event = Arc::new(AtomicBool::new(false));
        let spurious = {
            let (state, unparker) = (state.clone(), unparker.clone());
            thread::spawn(move || wake(&state, &unparker))
        };
        let waker = {
            let (state, unparker, event) = (state.clone(), unparker.clone(), event.clone());
            thread::spawn(move || {
                event.store(true, Release);
                wake(&state, &unparker);
                assert!(
                    !state.is_idle(),
                    "the block_on call looks idle after a wake-up whose event it did not see"
                );
            })
        };
        drive(
            &state,
            &mut parker,
            || {
                if event.load(Acquire) {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            },
            || None::<fn()>,
            || {},
        );
        spurious.join().unwrap();
        waker.join().unwrap();
    });
}

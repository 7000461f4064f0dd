//! The `block_on` thread runs queued tasks while its future waits
//! (`Builder::block_on_runs_tasks`), and goes back to its future as soon as
//! it is woken.
//!
//! The tests with the switch on make the runtime's only worker unable to run
//! anything (it is held inside one poll, waiting on a std channel), so that
//! whatever runs a task there can only be the `block_on` thread. The hold
//! ends by itself after 20 s, so that a broken build fails instead of
//! hanging.

use filch_executor::{Builder, Executor, spawn};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};
use std::sync::mpsc;
use std::thread;
use std::time::Duration;

/// Holds the single worker of `rt` inside one poll until the returned sender
/// is dropped (or 20 s have passed).
fn hold_the_worker(rt: &Executor) -> mpsc::Sender<()> {
    let (started_tx, started_rx) = mpsc::channel();
    let (release_tx, release_rx) = mpsc::channel::<()>();
    rt.spawn(async move {
        started_tx.send(()).unwrap();
        // Blocks the worker thread on purpose.
        let _ = release_rx.recv_timeout(Duration::from_secs(20));
    });
    // Only a worker can have taken it: no block_on is running yet.
    started_rx.recv().unwrap();
    release_tx
}

fn one_worker(runs_tasks: bool) -> Executor {
    Builder::new()
        .worker_threads(1)
        .block_on_runs_tasks(runs_tasks)
        .build()
        .unwrap()
}

#[test]
fn a_task_runs_on_the_waiting_thread_when_no_worker_can() {
    let rt = one_worker(true);
    let held = hold_the_worker(&rt);
    let me = thread::current().id();
    let ran_on = rt.block_on(async { spawn(async { thread::current().id() }).await.unwrap() });
    assert_eq!(ran_on, me);
    drop(held);
}

#[test]
fn the_future_comes_first_once_it_is_woken() {
    let rt = one_worker(true);
    let held = hold_the_worker(&rt);
    let second_ran = Arc::new(AtomicBool::new(false));
    let flag = second_ran.clone();
    rt.block_on(async move {
        let first = spawn(async { 1 });
        let second = spawn(async move { flag.store(true, SeqCst) });
        // Running `first` wakes this future; the thread must come back here
        // before it takes `second` from the queue.
        assert_eq!(first.await.unwrap(), 1);
        assert!(!second_ran.load(SeqCst), "ran a task after being woken");
        second.await.unwrap();
        assert!(second_ran.load(SeqCst));
    });
    drop(held);
}

#[test]
fn a_panicking_task_on_the_waiting_thread_is_a_join_error() {
    let rt = one_worker(true);
    let held = hold_the_worker(&rt);
    let (where_tx, where_rx) = mpsc::channel();
    let err = rt
        .block_on(rt.spawn(async move {
            where_tx.send(thread::current().id()).unwrap();
            panic!("boom in a task")
        }))
        .unwrap_err();
    assert!(err.is_panic());
    assert_eq!(where_rx.recv().unwrap(), thread::current().id());
    // The thread is still fine and still helps.
    assert_eq!(rt.block_on(rt.spawn(async { 7 })).unwrap(), 7);
    drop(held);
}

#[test]
fn off_leaves_tasks_to_the_workers() {
    let rt = one_worker(false);
    let me = thread::current().id();
    for _ in 0..100 {
        let ran_on = rt.block_on(async { spawn(async { thread::current().id() }).await.unwrap() });
        assert_ne!(ran_on, me);
    }
}

#![cfg(loom)]
//! Loom models of the blocking pool (`filch-executor/src/blocking.rs`):
//! its queue, the idle threads' hand-off (`num_idle` / `num_notify`), thread
//! start-up on demand, and the shutdown (cancel what is queued, wake the
//! idle threads, wait for every thread to leave).
//!
//! The models use the real pool of a `__loom::handle_without_workers`
//! runtime; under `--cfg loom` its threads are loom threads, so the pool's
//! own loop is explored. The keep-alive timeout is not modelled (loom has
//! no clock: an idle thread waits until it is handed work or the pool shuts
//! down). A lost hand-off leaves a closure queued with its joiner blocked,
//! and a shutdown that misses a thread waits forever: loom reports either
//! as a deadlock.

mod common;

use common::model;
use filch_executor::__loom::{handle_without_workers, shut_down};
use loom::thread;
use std::sync::Arc as StdArc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

/// A closure spawned right after the previous one's result arrived, while
/// the pool's one thread is still finishing it (it loops on the queue) or
/// already idle (it is woken with `num_notify`): it is handed over and runs
/// exactly once; then the shutdown ends the idle thread.
#[test]
fn closure_handed_to_a_finishing_or_idle_thread() {
    model("closure_handed_to_a_finishing_or_idle_thread", || {
        let handle = handle_without_workers(1);
        let ran = StdArc::new(AtomicUsize::new(0));
        for n in [1, 10] {
            let ran = ran.clone();
            let join = handle.spawn_blocking(move || ran.fetch_add(n, SeqCst));
            assert!(loom::future::block_on(join).is_ok());
        }
        assert_eq!(ran.load(SeqCst), 11);
        shut_down(&handle);
        assert_eq!(handle.num_blocking_tasks(), 0);
    });
}

/// A spawn from another thread races the shutdown while the pool's thread
/// is idle: the closure runs (spawned first), or is cancelled in the queue,
/// or refused (after the shutdown): its joiner always gets an answer, the
/// closure runs at most once and only if the answer is its result, and the
/// shutdown waits for the thread to leave.
#[test]
fn spawn_blocking_races_shutdown() {
    model("spawn_blocking_races_shutdown", || {
        let handle = handle_without_workers(1);
        let ran = StdArc::new(AtomicUsize::new(0));
        // Start the pool's thread and let it go idle.
        assert!(loom::future::block_on(handle.spawn_blocking(|| ())).is_ok());
        let spawner = {
            let (handle, ran) = (handle.clone(), ran.clone());
            thread::spawn(move || handle.spawn_blocking(move || ran.fetch_add(1, SeqCst)))
        };
        shut_down(&handle);
        let join = spawner.join().unwrap();
        match loom::future::block_on(join) {
            Ok(prev) => {
                assert_eq!(prev, 0);
                assert_eq!(ran.load(SeqCst), 1);
            }
            Err(e) => {
                assert!(e.is_cancelled());
                assert_eq!(ran.load(SeqCst), 0);
            }
        }
        assert_eq!(handle.num_blocking_tasks(), 0);
    });
}

/// Two closures spawned back to back into a pool of two threads: the
/// second starts a thread of its own or is handed to the first thread if
/// that one is already free; each runs exactly once, and the shutdown ends
/// both threads.
#[test]
fn two_closures_two_threads() {
    model("two_closures_two_threads", || {
        let handle = handle_without_workers(2);
        let ran = StdArc::new(AtomicUsize::new(0));
        let joins: Vec<_> = [1usize, 10]
            .into_iter()
            .map(|n| {
                let ran = ran.clone();
                handle.spawn_blocking(move || ran.fetch_add(n, SeqCst))
            })
            .collect();
        for join in joins {
            assert!(loom::future::block_on(join).is_ok());
        }
        assert_eq!(ran.load(SeqCst), 11);
        shut_down(&handle);
    });
}

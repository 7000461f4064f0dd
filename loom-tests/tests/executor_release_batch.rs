#![cfg(loom)]
//! Loom models of the batched release of completed tasks from the owned
//! task list (`filch-executor/src/tasks/list.rs`, `ReleaseBatch`): a worker
//! keeps the tasks of other shards that complete on it and releases them
//! together, counting them in a per-worker counter that `live` subtracts
//! while it holds every shard lock.
//!
//! The models drive the real code: `__loom::handle_without_workers` (a
//! real `Shared`, tasks bound to the real list) and `__loom::ModelBatch`
//! (the worker's batch, which under loom's single shard defers every task;
//! its capacity is 2 under loom, so a third task flushes the first two).
//! What they check: a task whose release waits in a batch is never counted
//! alive once it is in the batch, a task still running is
//! never missed by the count, and a batch flushed while the shutdown closes
//! the list drops each future exactly once and leaves nothing alive.

mod common;
#[path = "common/probe.rs"]
mod probe;

use common::model;
use filch_executor::__loom::{ModelBatch, handle_without_workers, run_queued, shut_down};
use loom::sync::Arc;
use loom::sync::atomic::{AtomicBool, Ordering::Acquire, Ordering::Release};
use loom::thread;
use probe::{Counted, Probe};
use std::sync::Arc as StdArc;
use std::sync::atomic::Ordering::SeqCst;

fn counted(probe: &StdArc<Probe>, pending: bool) -> Counted {
    Counted {
        probe: probe.clone(),
        pending,
    }
}

/// A worker completes a task into its batch, says so, then flushes the
/// batch, while another thread counts the live tasks once the worker said
/// so: the count is exactly the one task still pending, whether the flush
/// has happened or not (the deferred counter and the shard's count change
/// together under the shard locks), and `tasks()` lists only that task.
#[test]
fn a_deferred_release_is_not_counted_alive() {
    model("a_deferred_release_is_not_counted_alive", || {
        let handle = handle_without_workers(1);
        let probe = StdArc::new(Probe::default());
        let pending = handle.spawn(counted(&probe, true));
        assert!(run_queued(&handle));
        let ready = handle.spawn(counted(&probe, false));
        let deferred = Arc::new(AtomicBool::new(false));
        let worker = {
            let (handle, deferred) = (handle.clone(), deferred.clone());
            thread::spawn(move || {
                let batch = ModelBatch::new(&handle);
                assert!(batch.run_queued());
                deferred.store(true, Release);
                batch.flush();
            })
        };
        while !deferred.load(Acquire) {
            thread::yield_now();
        }
        assert_eq!(handle.num_alive_tasks(), 1);
        let listed: Vec<_> = handle.tasks().iter().map(|t| t.id()).collect();
        assert_eq!(listed, vec![pending.id()]);
        worker.join().unwrap();
        assert_eq!(loom::future::block_on(ready).unwrap(), 7);
        assert_eq!(handle.num_alive_tasks(), 1);
        assert_eq!(probe.drops.load(SeqCst), 1);
        shut_down(&handle);
        assert!(loom::future::block_on(pending).unwrap_err().is_cancelled());
        assert_eq!(probe.drops.load(SeqCst), 2);
        assert_eq!(handle.num_alive_tasks(), 0);
    });
}

/// Three tasks complete into a batch of capacity two while their joiner
/// waits: the third flushes the first two before the batch takes it (never
/// itself: its completion is still running), and the last flush releases
/// it; each future is dropped once and nothing is left alive.
#[test]
fn a_full_batch_flushes_itself() {
    model("a_full_batch_flushes_itself", || {
        let handle = handle_without_workers(1);
        let probe = StdArc::new(Probe::default());
        let joins = [
            handle.spawn(counted(&probe, false)),
            handle.spawn(counted(&probe, false)),
            handle.spawn(counted(&probe, false)),
        ];
        let worker = {
            let handle = handle.clone();
            thread::spawn(move || {
                let batch = ModelBatch::new(&handle);
                for _ in 0..3 {
                    assert!(batch.run_queued());
                }
                batch.flush();
            })
        };
        for join in joins {
            assert_eq!(loom::future::block_on(join).unwrap(), 7);
        }
        worker.join().unwrap();
        assert_eq!(handle.num_alive_tasks(), 0);
        assert_eq!(probe.drops.load(SeqCst), 3);
        shut_down(&handle);
    });
}

/// A batch flushed while the shutdown closes the list and shuts down what
/// is linked. The runtime avoids this (its shutdown joins every worker, and
/// each flushes as it stops; one dropped on a worker finishes on a thread
/// of its own); the model checks that the list's states make it safe
/// anyway: the task completes or is cancelled, its future is dropped
/// exactly once, and no task is left alive (the flush finds the task
/// popped, or the shutdown finds it released).
#[test]
fn a_batch_flush_races_shutdown() {
    model("a_batch_flush_races_shutdown", || {
        let handle = handle_without_workers(1);
        let probe = StdArc::new(Probe::default());
        let join = handle.spawn(counted(&probe, false));
        let worker = {
            let handle = handle.clone();
            thread::spawn(move || {
                let batch = ModelBatch::new(&handle);
                batch.run_queued();
                batch.flush();
            })
        };
        shut_down(&handle);
        worker.join().unwrap();
        match loom::future::block_on(join) {
            Ok(v) => assert_eq!(v, 7),
            Err(e) => assert!(e.is_cancelled()),
        }
        assert_eq!(probe.drops.load(SeqCst), 1);
        assert_eq!(handle.num_alive_tasks(), 0);
    });
}

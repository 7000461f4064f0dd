#![cfg(loom)]
//! Loom models of the owned task list and the runtime's shutdown
//! (`filch-executor/src/tasks/list.rs`, `Shared::spawn`,
//! `Shared::shutdown_tasks`): a spawn, a completion or a remote wake racing
//! the close of the list, the shutdown of every linked task and the drain
//! of the queues.
//!
//! The models drive the real code through `__loom::handle_without_workers`
//! (a real `Shared` with no worker threads: tasks are bound to the real
//! owned list and queued in the real global queue) and `__loom::shut_down`
//! (what dropping an `Executor` runs once its workers have stopped). A model
//! thread that plays a worker runs queued tasks with `__loom::run_queued`.
//!
//! What is observed goes into std atomics (loom runs every model thread on
//! one OS thread, so they only record): polls and drops of the future. A
//! task the shutdown misses keeps its future alive, so the check "dropped
//! exactly once" also catches it; the shutdown's drain loop waiting for a
//! wake that never lands would be reported by loom as a livelock.

mod common;
#[path = "common/probe.rs"]
mod probe;

use common::model;
use filch_executor::__loom::{handle_without_workers, own_yield, run_queued, shut_down};
use loom::thread;
use probe::{Counted, Probe};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc as StdArc;
use std::sync::atomic::Ordering::SeqCst;
use std::task::{Context, Poll};

/// A spawn from another thread races the shutdown: the task is refused
/// (the list was closed) and dropped by the spawner, or bound before the
/// close and shut down by it. Either way it is never polled, its future is
/// dropped exactly once, its handle reports cancelled, and no task is left
/// alive.
#[test]
fn spawn_races_shutdown() {
    model("spawn_races_shutdown", || {
        let handle = handle_without_workers(1);
        let probe = StdArc::new(Probe::default());
        let spawner = {
            let (handle, probe) = (handle.clone(), probe.clone());
            thread::spawn(move || {
                handle.spawn(Counted {
                    probe,
                    pending: false,
                })
            })
        };
        shut_down(&handle);
        let join = spawner.join().unwrap();
        let res = loom::future::block_on(join);
        assert!(res.unwrap_err().is_cancelled());
        assert_eq!(probe.polls.load(SeqCst), 0);
        assert_eq!(probe.drops.load(SeqCst), 1);
        assert_eq!(handle.num_alive_tasks(), 0);
    });
}

/// A worker runs a queued task (which completes and leaves the owned list)
/// while the shutdown closes the list and shuts down what is linked: the
/// task completes or is cancelled, never both, is polled at most once, and
/// its future is dropped exactly once.
#[test]
fn completion_races_shutdown() {
    model("completion_races_shutdown", || {
        let handle = handle_without_workers(1);
        let probe = StdArc::new(Probe::default());
        let join = handle.spawn(Counted {
            probe: probe.clone(),
            pending: false,
        });
        worker_races_shutdown(&handle, &probe, join, 0);
    });
}

/// A task idle after its first poll is woken from another thread (the
/// remote path: a strong count on the scheduler, a push to the global
/// queue) while the runtime shuts down. The shutdown either finds the task
/// linked and cancels it (the wake then does nothing, or lands a
/// `Notified` the drain runs as a no-op), or drains the woken task and
/// cancels it there; it waits for a wake between its transition and its
/// push. The future is dropped exactly once, never polled again.
#[test]
fn remote_wake_races_shutdown() {
    model("remote_wake_races_shutdown", || {
        let handle = handle_without_workers(1);
        let probe = StdArc::new(Probe::default());
        let join = handle.spawn(Counted {
            probe: probe.clone(),
            pending: true,
        });
        assert!(run_queued(&handle));
        let waker = probe
            .waker
            .lock()
            .unwrap()
            .take()
            .expect("first poll's waker");
        let waking = thread::spawn(move || waker.wake());
        shut_down(&handle);
        waking.join().unwrap();
        assert!(loom::future::block_on(join).unwrap_err().is_cancelled());
        assert_eq!(probe.polls.load(SeqCst), 1);
        assert_eq!(probe.drops.load(SeqCst), 1);
        assert_eq!(handle.num_alive_tasks(), 0);
    });
}

/// A destructor run by the shutdown spawns a task (it is refused: the
/// list is closed, and the new task is dropped at once) while another
/// thread spawns too. Nothing deadlocks on the shard locks (the shutdown
/// drops futures outside them), and every future is dropped once.
#[test]
fn spawn_from_a_destructor_during_shutdown() {
    struct SpawnsOnDrop {
        handle: filch_executor::Handle,
        probe: StdArc<Probe>,
        child: StdArc<Probe>,
    }
    impl Future for SpawnsOnDrop {
        type Output = u32;
        fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<u32> {
            Poll::Pending
        }
    }
    impl Drop for SpawnsOnDrop {
        fn drop(&mut self) {
            self.probe.drops.fetch_add(1, SeqCst);
            drop(self.handle.spawn(Counted {
                probe: self.child.clone(),
                pending: true,
            }));
        }
    }

    model("spawn_from_a_destructor_during_shutdown", || {
        let handle = handle_without_workers(1);
        let (probe, child, other) = (
            StdArc::new(Probe::default()),
            StdArc::new(Probe::default()),
            StdArc::new(Probe::default()),
        );
        let join = handle.spawn(SpawnsOnDrop {
            handle: handle.clone(),
            probe: probe.clone(),
            child: child.clone(),
        });
        let spawner = {
            let (handle, other) = (handle.clone(), other.clone());
            thread::spawn(move || {
                drop(handle.spawn(Counted {
                    probe: other,
                    pending: true,
                }))
            })
        };
        shut_down(&handle);
        spawner.join().unwrap();
        assert!(loom::future::block_on(join).unwrap_err().is_cancelled());
        for p in [&probe, &child, &other] {
            assert_eq!(p.drops.load(SeqCst), 1);
            assert_eq!(p.polls.load(SeqCst), 0);
        }
        assert_eq!(handle.num_alive_tasks(), 0);
    });
}

/// Yields to its own scheduler in its first poll (what `yield_now` does on
/// a worker, `__loom::own_yield`), so the task is queued held (still
/// `RUNNING`); ready with 7 at its second poll.
struct OwnYieldOnce(StdArc<Probe>);

impl Future for OwnYieldOnce {
    type Output = u32;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        if self.0.polls.fetch_add(1, SeqCst) == 0 {
            assert!(own_yield(cx.waker()), "the task's own waker");
            Poll::Pending
        } else {
            Poll::Ready(7)
        }
    }
}

impl Drop for OwnYieldOnce {
    fn drop(&mut self) {
        self.0.drops.fetch_add(1, SeqCst);
    }
}

/// A task held after its own yield waits in the global queue while a
/// worker runs the queue and the runtime shuts down. The shutdown cannot
/// take a held task (it is `RUNNING`), so it marks it cancelled and its
/// drain runs it: the task completes (its second poll came first) or is
/// cancelled unpolled by whoever runs it; it is never left held, its
/// future is dropped exactly once, and no task is left alive.
#[test]
fn held_task_races_shutdown() {
    model("held_task_races_shutdown", || {
        let handle = handle_without_workers(1);
        let probe = StdArc::new(Probe::default());
        let join = handle.spawn(OwnYieldOnce(probe.clone()));
        assert!(run_queued(&handle));
        assert_eq!(probe.polls.load(SeqCst), 1);
        worker_races_shutdown(&handle, &probe, join, 1);
    });
}

/// A model thread playing a worker runs one queued task (if the queue is
/// not empty yet) while the runtime shuts down; the task's future, polled
/// `polls_before` times so far, is ready with 7 at its next poll. It
/// completes (one more poll) or is cancelled (none), never both; its future
/// is dropped exactly once and no task is left alive.
fn worker_races_shutdown(
    handle: &filch_executor::Handle,
    probe: &Probe,
    join: filch_executor::JoinHandle<u32>,
    polls_before: usize,
) {
    let worker = {
        let handle = handle.clone();
        thread::spawn(move || {
            run_queued(&handle);
        })
    };
    shut_down(handle);
    worker.join().unwrap();
    match loom::future::block_on(join) {
        Ok(v) => {
            assert_eq!(v, 7);
            assert_eq!(probe.polls.load(SeqCst), polls_before + 1);
        }
        Err(e) => {
            assert!(e.is_cancelled());
            assert_eq!(probe.polls.load(SeqCst), polls_before);
        }
    }
    assert_eq!(probe.drops.load(SeqCst), 1);
    assert_eq!(handle.num_alive_tasks(), 0);
}

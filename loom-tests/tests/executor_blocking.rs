#![cfg(loom)]
//! Loom models of the blocking pool's threads (`filch-executor/src/
//! blocking/pool.rs`): the hand-off of a job to an idle thread's slot, the
//! queue while no thread is idle, chained thread starts, retiring after the
//! keep-alive, and shutdown.
//!
//! The models run the real `Pool` with a job that records whether it ran
//! or was cancelled. Pool threads block for real (loom's `park`), so a lost
//! hand-off shows up as a thread parked for good: loom reports a deadlock.
//! loom has no time: a keep-alive of an hour never runs out in a model
//! (threads park until unparked), and a zero keep-alive runs out at once
//! (a thread retires as soon as it is idle, racing the producer that hands
//! it a job). Every model ends with `shutdown`, which must return (every
//! thread exited) with each job run or cancelled exactly once and nothing
//! counted active.
//!
//! The last three models run the pool inside a runtime (a
//! `__loom::handle_without_workers` handle, whose pool threads are loom
//! threads): `spawn_blocking`'s task, its `JoinHandle`, and the runtime's
//! shutdown, which cancels what is queued and waits for every thread.

mod common;

use common::model;
use filch_executor::__loom::{Pool, PoolConfig, PoolJob, handle_without_workers, shut_down};
use loom::thread;
use std::sync::Arc as StdArc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

/// What happened to each job (plain std atomics: loom runs every model
/// thread on one OS thread, so these only record, they synchronize nothing).
#[derive(Default)]
struct Log {
    ran: [AtomicUsize; 3],
    cancelled: [AtomicUsize; 3],
}

impl Log {
    /// Job `i` ran or was cancelled, exactly once.
    fn assert_done_once(&self, i: usize) {
        let (ran, cancelled) = (self.ran[i].load(SeqCst), self.cancelled[i].load(SeqCst));
        assert_eq!(
            ran + cancelled,
            1,
            "job {i}: ran {ran}, cancelled {cancelled}"
        );
    }
}

struct TestJob(usize, StdArc<Log>);

impl PoolJob for TestJob {
    type Ctx = ();
    type Guard = ();

    fn enter(_: &()) {}

    fn run(self) {
        self.1.ran[self.0].fetch_add(1, SeqCst);
    }

    fn cancel(self) {
        self.1.cancelled[self.0].fetch_add(1, SeqCst);
    }

    fn all_done(_: &()) {}
}

fn pool(max_threads: usize, keep_alive: Duration) -> Pool<TestJob> {
    Pool::new(PoolConfig {
        max_threads,
        keep_alive,
        thread_name: StdArc::new(|| "loom-pool".to_string()),
        stack_size: None,
    })
}

const FOREVER: Duration = Duration::from_secs(3600);

/// Two jobs into a one-thread pool: the second is handed to the thread
/// once it is idle, or queued while it runs the first (and taken before it
/// goes idle), or cancelled by shutdown if still queued.
#[test]
fn second_job_is_handed_over_or_queued() {
    model("second_job_is_handed_over_or_queued", || {
        let log = StdArc::new(Log::default());
        let pool = pool(1, FOREVER);
        pool.spawn(TestJob(0, log.clone()), || ());
        pool.spawn(TestJob(1, log.clone()), || ());
        pool.shutdown(None);
        log.assert_done_once(0);
        log.assert_done_once(1);
        assert_eq!(pool.num_active(), 0);
        assert_eq!(pool.num_threads(), 0);
    });
}

/// Two producers at once, one thread: the idle stack and the queue are
/// shared under the lock, so each job has exactly one home.
#[test]
fn two_producers_one_thread() {
    model("two_producers_one_thread", || {
        let log = StdArc::new(Log::default());
        let pool = loom::sync::Arc::new(pool(1, FOREVER));
        pool.spawn(TestJob(0, log.clone()), || ());
        let (p, l) = (pool.clone(), log.clone());
        let producer = loom::thread::spawn(move || p.spawn(TestJob(1, l), || ()));
        pool.spawn(TestJob(2, log.clone()), || ());
        producer.join().unwrap();
        pool.shutdown(None);
        for i in 0..3 {
            log.assert_done_once(i);
        }
        assert_eq!(pool.num_active(), 0);
    });
}

/// A zero keep-alive: the thread retires as soon as it is idle, racing the
/// producer of the second job, which either hands it to the thread before
/// it leaves the idle stack (then the thread runs it) or finds no idle
/// thread and starts a new one.
#[test]
fn retiring_thread_races_a_hand_off() {
    model("retiring_thread_races_a_hand_off", || {
        let log = StdArc::new(Log::default());
        let pool = pool(2, Duration::ZERO);
        pool.spawn(TestJob(0, log.clone()), || ());
        pool.spawn(TestJob(1, log.clone()), || ());
        pool.shutdown(None);
        log.assert_done_once(0);
        log.assert_done_once(1);
        assert_eq!(pool.num_threads(), 0);
    });
}

/// Shutdown right after a spawn: the thread may be starting, running the
/// job, or parked idle; every case ends with it exited.
#[test]
fn shutdown_races_a_starting_or_idle_thread() {
    model("shutdown_races_a_starting_or_idle_thread", || {
        let log = StdArc::new(Log::default());
        let pool = pool(2, FOREVER);
        pool.spawn(TestJob(0, log.clone()), || ());
        pool.shutdown(None);
        log.assert_done_once(0);
        // After shutdown, a job is cancelled at once.
        pool.spawn(TestJob(1, log.clone()), || ());
        assert_eq!(log.cancelled[1].load(SeqCst), 1);
        assert_eq!(pool.num_threads(), 0);
    });
}

/// A closure spawned right after the previous one's result arrived, while
/// the pool's one thread is still finishing it (it takes it from the
/// queue) or already idle (it is handed to the thread's slot): it is handed over and runs
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

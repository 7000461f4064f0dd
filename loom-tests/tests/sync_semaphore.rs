#![cfg(loom)]
//! Loom models of the fair semaphore under Semaphore/Mutex/RwLock/bounded
//! mpsc (`filch-sync/src/batch.rs`): the lock-free fast paths racing the
//! waiter queue, partial assignment, cancellation and close. Every model
//! checks permit conservation; a lost wake-up shows up as a loom deadlock.

mod common;

use filch_sync::Semaphore;
use loom::future::block_on;
use loom::sync::Arc;
use loom::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use loom::thread;
use std::future::Future;
use std::task::{Context, Poll, Waker};

/// Polls `fut` once with a waker that does nothing.
fn poll_once<F: Future>(fut: std::pin::Pin<&mut F>) -> Poll<F::Output> {
    fut.poll(&mut Context::from_waker(Waker::noop()))
}

#[test]
fn two_acquirers_one_permit() {
    common::model("two_acquirers_one_permit", || {
        let sem = Arc::new(Semaphore::new(1));
        let inside = Arc::new(AtomicUsize::new(0));
        let th: Vec<_> = (0..2)
            .map(|_| {
                let (sem, inside) = (sem.clone(), inside.clone());
                thread::spawn(move || {
                    block_on(async {
                        let p = sem.acquire().await.unwrap();
                        assert_eq!(inside.fetch_add(1, SeqCst), 0, "two permit holders");
                        inside.fetch_sub(1, SeqCst);
                        drop(p);
                    })
                })
            })
            .collect();
        for t in th {
            t.join().unwrap();
        }
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn release_races_enqueue_of_a_partial_acquire() {
    common::model("release_races_enqueue_of_a_partial_acquire", || {
        let sem = Arc::new(Semaphore::new(1));
        let a = {
            let sem = sem.clone();
            thread::spawn(move || block_on(async { sem.acquire_many(2).await.unwrap().forget() }))
        };
        sem.add_permits(1);
        a.join().unwrap();
        assert_eq!(sem.available_permits(), 0);
    });
}

#[test]
fn cancelled_acquire_passes_its_permit_on() {
    common::model("cancelled_acquire_passes_its_permit_on", || {
        let sem = Arc::new(Semaphore::new(0));
        // Queues (or not), then gives up at a point loom chooses.
        let quitter = {
            let sem = sem.clone();
            thread::spawn(move || {
                let mut fut = Box::pin(sem.acquire());
                match poll_once(fut.as_mut()) {
                    Poll::Ready(p) => {
                        p.unwrap().forget();
                        true
                    }
                    Poll::Pending => false,
                }
            })
        };
        let waiter = {
            let sem = sem.clone();
            thread::spawn(move || block_on(async { sem.acquire().await.unwrap().forget() }))
        };
        sem.add_permits(1);
        if quitter.join().unwrap() {
            // The quitter took the permit: the waiter needs another one.
            sem.add_permits(1);
        }
        waiter.join().unwrap();
        assert_eq!(sem.available_permits(), 0);
    });
}

#[test]
fn close_races_a_waiter_with_a_partial_assignment() {
    common::model("close_races_a_waiter_with_a_partial_assignment", || {
        let sem = Arc::new(Semaphore::new(1));
        let waiter = {
            let sem = sem.clone();
            thread::spawn(move || block_on(async { sem.acquire_many(2).await.map(|p| p.forget()) }))
        };
        sem.close();
        let got = waiter.join().unwrap();
        assert!(got.is_err(), "two permits never existed");
        // The permit assigned to the waiter before the close came back.
        assert_eq!(sem.available_permits(), 1);
    });
}

#[test]
fn one_release_serves_two_waiters_across_wake_batches() {
    // Under loom a wake batch holds one waker: the release drops and
    // retakes the lock between the two waiters it serves.
    common::model("one_release_serves_two_waiters_across_wake_batches", || {
        let sem = Arc::new(Semaphore::new(0));
        let th: Vec<_> = (0..2)
            .map(|_| {
                let sem = sem.clone();
                thread::spawn(move || block_on(async { sem.acquire().await.unwrap().forget() }))
            })
            .collect();
        sem.add_permits(2);
        for t in th {
            t.join().unwrap();
        }
        assert_eq!(sem.available_permits(), 0);
    });
}

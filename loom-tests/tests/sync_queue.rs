#![cfg(loom)]
//! Loom models of the asyncio queues (`filch-sync/src/queue.rs`): a full
//! queue's putter against a getter, shutdown against a waiting getter,
//! and a woken getter that is dropped (its wake-up must reach the next
//! getter).

mod common;

use filch_sync::{Queue, QueueShutDown};
use loom::future::block_on;
use loom::sync::Arc;
use loom::thread;
use std::future::Future;
use std::task::{Context, Waker};

#[test]
fn putter_waits_for_room_made_by_a_getter() {
    common::model("putter_waits_for_room_made_by_a_getter", || {
        let q = Arc::new(Queue::new(1));
        let t = {
            let q = q.clone();
            thread::spawn(move || {
                block_on(async {
                    q.put(1).await.unwrap();
                    q.put(2).await.unwrap();
                })
            })
        };
        assert_eq!(block_on(q.get()), Ok(1));
        assert_eq!(block_on(q.get()), Ok(2));
        t.join().unwrap();
    });
}

#[test]
fn shutdown_releases_a_waiting_getter() {
    common::model("shutdown_releases_a_waiting_getter", || {
        let q = Arc::new(Queue::<u8>::new(0));
        let t = {
            let q = q.clone();
            thread::spawn(move || block_on(q.get()))
        };
        q.shutdown();
        assert_eq!(t.join().unwrap(), Err(QueueShutDown(())));
    });
}

#[test]
fn a_dropped_woken_getter_passes_the_wake_up_on() {
    common::model("a_dropped_woken_getter_passes_the_wake_up_on", || {
        let q = Arc::new(Queue::new(0));
        let quitter = {
            let q = q.clone();
            thread::spawn(move || {
                let mut fut = Box::pin(q.get());
                fut.as_mut()
                    .poll(&mut Context::from_waker(Waker::noop()))
                    .is_ready()
            })
        };
        let getter = {
            let q = q.clone();
            thread::spawn(move || block_on(q.get()).unwrap())
        };
        q.try_put(1).unwrap();
        if quitter.join().unwrap() {
            q.try_put(2).unwrap();
        }
        assert!(getter.join().unwrap() >= 1);
    });
}

#[test]
fn last_task_done_releases_join() {
    common::model("last_task_done_releases_join", || {
        let q = Arc::new(Queue::new(0));
        q.try_put(1).unwrap();
        let worker = {
            let q = q.clone();
            thread::spawn(move || {
                q.try_get().unwrap();
                q.task_done().unwrap();
            })
        };
        block_on(q.join());
        assert_eq!(q.unfinished_tasks(), 0);
        worker.join().unwrap();
    });
}

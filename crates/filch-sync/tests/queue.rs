//! Queue, PriorityQueue, LifoQueue: asyncio semantics (order, maxsize,
//! task_done/join, shutdown in both modes) and fairness between waiters.

mod common;

use common::{Manual, rt, with_deadline};
use filch_sync::{LifoQueue, PriorityQueue, Queue, QueueShutDown, TryGetError, TryPutError};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

struct Tracked(Arc<AtomicUsize>);
impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn the_three_orders() {
    let fifo = Queue::new(0);
    let lifo = LifoQueue::new(0);
    let prio = PriorityQueue::new(0);
    for v in [5, 1, 4, 2, 3] {
        fifo.try_put(v).unwrap();
        lifo.try_put(v).unwrap();
        prio.try_put(v).unwrap();
    }
    let drain = |f: &dyn Fn() -> Result<i32, TryGetError>| {
        std::iter::from_fn(|| f().ok()).collect::<Vec<_>>()
    };
    assert_eq!(drain(&|| fifo.try_get()), [5, 1, 4, 2, 3]);
    assert_eq!(drain(&|| lifo.try_get()), [3, 2, 4, 1, 5]);
    assert_eq!(drain(&|| prio.try_get()), [1, 2, 3, 4, 5]);
}

#[test]
fn maxsize_blocks_put_until_a_get() {
    let q = Queue::new(1);
    assert!(q.empty() && !q.full());
    q.try_put(1).unwrap();
    assert!(q.full());
    assert_eq!(q.try_put(2), Err(TryPutError::Full(2)));
    let mut put = Manual::new(q.put(2));
    put.pending();
    assert_eq!(q.try_get(), Ok(1));
    assert_eq!(put.wakes(), 1);
    put.ready().unwrap();
    assert_eq!(q.qsize(), 1);
    // Unbounded is never full.
    let u = Queue::new(0);
    for i in 0..10_000 {
        u.try_put(i).unwrap();
    }
    assert!(!u.full());
}

#[test]
fn get_waits_and_put_wakes_the_oldest_getter() {
    let q = Queue::new(0);
    let mut g1 = Manual::new(q.get());
    let mut g2 = Manual::new(q.get());
    g1.pending();
    g2.pending();
    q.try_put('a').unwrap();
    assert_eq!((g1.wakes(), g2.wakes()), (1, 0));
    assert_eq!(g1.ready(), Ok('a'));
    g2.pending();
}

#[test]
fn a_woken_getter_that_lost_the_item_keeps_its_turn() {
    let q = Queue::new(0);
    let mut g1 = Manual::new(q.get());
    let mut g2 = Manual::new(q.get());
    g1.pending();
    g2.pending();
    q.try_put(1).unwrap();
    // As in asyncio, get_nowait may take an item a woken getter was woken
    // for: the queue is not empty, so it must not fail.
    assert_eq!(q.try_get(), Ok(1));
    g1.pending(); // lost: back to the front, not behind g2
    q.try_put(2).unwrap();
    assert_eq!(g1.wakes(), 2);
    assert_eq!(g2.wakes(), 0);
    assert_eq!(g1.ready(), Ok(2));
}

#[test]
fn task_done_and_join() {
    let q = Queue::new(0);
    let mut join = Manual::new(q.join());
    join.ready(); // nothing unfinished
    q.try_put(1).unwrap();
    q.try_put(2).unwrap();
    let mut join = Manual::new(q.join());
    join.pending();
    q.try_get().unwrap();
    q.task_done().unwrap();
    assert_eq!(join.wakes(), 0);
    q.try_get().unwrap();
    q.task_done().unwrap();
    assert_eq!(join.wakes(), 1);
    join.ready();
    assert!(q.task_done().is_err(), "more task_done than items");
    assert_eq!(q.unfinished_tasks(), 0);
}

#[test]
fn many_joiners_are_all_released() {
    let q = Queue::new(0);
    q.try_put(()).unwrap();
    let mut joins: Vec<_> = (0..100).map(|_| Manual::new(q.join())).collect();
    for j in &mut joins {
        j.pending();
    }
    q.try_get().unwrap();
    q.task_done().unwrap();
    for j in &mut joins {
        j.ready();
    }
}

#[test]
fn shutdown_lets_getters_drain_then_fails_them() {
    let q = Queue::new(1);
    q.try_put(1).unwrap();
    let mut putter = Manual::new(q.put(2));
    putter.pending();
    q.shutdown();
    assert!(q.is_shutdown());
    assert_eq!(putter.wakes(), 1);
    assert_eq!(putter.ready(), Err(QueueShutDown(2)));
    assert_eq!(q.try_put(3), Err(TryPutError::ShutDown(3)));
    let mut g = Manual::new(q.get());
    assert_eq!(g.ready(), Ok(1));
    let mut g = Manual::new(q.get());
    assert_eq!(g.ready(), Err(QueueShutDown(())));
    assert_eq!(q.try_get(), Err(TryGetError::ShutDown));
}

#[test]
fn shutdown_wakes_waiting_getters() {
    let q = Queue::<u8>::new(0);
    let mut gs: Vec<_> = (0..50).map(|_| Manual::new(q.get())).collect();
    for g in &mut gs {
        g.pending();
    }
    q.shutdown();
    for g in &mut gs {
        assert_eq!(g.wakes(), 1);
        assert_eq!(g.ready(), Err(QueueShutDown(())));
    }
}

#[test]
fn immediate_shutdown_drops_items_and_releases_join() {
    let drops = Arc::new(AtomicUsize::new(0));
    let q = Queue::new(0);
    for _ in 0..5 {
        q.try_put(Tracked(drops.clone())).ok().unwrap();
    }
    let taken = q.try_get().ok().unwrap(); // taken, not done: stays unfinished
    let mut join = Manual::new(q.join());
    join.pending();
    q.shutdown_immediate();
    assert_eq!(drops.load(SeqCst), 4, "the queued items were dropped");
    assert_eq!(q.qsize(), 0);
    assert_eq!(q.unfinished_tasks(), 1);
    join.pending();
    drop(taken);
    q.task_done().unwrap();
    join.ready();
}

#[test]
fn shutdown_immediate_after_shutdown_drops_what_is_left_on_every_kind() {
    let drops = Arc::new(AtomicUsize::new(0));
    let lifo = LifoQueue::new(0);
    let prio = PriorityQueue::new(0);
    for i in 0..3 {
        lifo.try_put((i, Key(Tracked(drops.clone())))).ok().unwrap();
        prio.try_put((i, Key(Tracked(drops.clone())))).ok().unwrap();
    }
    lifo.shutdown();
    prio.shutdown();
    // Graceful: the getters still drain, newest and smallest first.
    assert_eq!(lifo.try_get().map(|(i, _)| i), Ok(2));
    assert_eq!(prio.try_get().map(|(i, _)| i), Ok(0));
    assert_eq!(drops.load(SeqCst), 2, "only the two taken items are gone");
    lifo.shutdown_immediate();
    prio.shutdown_immediate();
    assert_eq!(drops.load(SeqCst), 6, "the rest was dropped");
    assert_eq!(lifo.try_get().map(|(i, _)| i), Err(TryGetError::ShutDown));
    assert_eq!(prio.try_get().map(|(i, _)| i), Err(TryGetError::ShutDown));
    assert_eq!(lifo.unfinished_tasks(), 1);
    assert_eq!(prio.unfinished_tasks(), 1);
}

/// A `Tracked` that a `PriorityQueue` can order (all keys are equal); held
/// only for its drop.
struct Key(#[allow(dead_code)] Tracked);
impl PartialEq for Key {
    fn eq(&self, _: &Self) -> bool {
        true
    }
}
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Key {
    fn cmp(&self, _: &Self) -> std::cmp::Ordering {
        std::cmp::Ordering::Equal
    }
}

#[test]
fn producers_and_consumers_deliver_every_item_once() {
    with_deadline(120, || {
        let rt = rt(3);
        let q = Arc::new(Queue::<usize>::new(8));
        let producers = 5usize;
        let per = 5_000usize;
        let seen = Arc::new(
            (0..producers * per)
                .map(|_| AtomicUsize::new(0))
                .collect::<Vec<_>>(),
        );
        rt.block_on(async {
            let mut consumers = Vec::new();
            for _ in 0..4 {
                let (q, seen) = (q.clone(), seen.clone());
                consumers.push(filch_executor::spawn(async move {
                    while let Ok(i) = q.get().await {
                        seen[i].fetch_add(1, SeqCst);
                        q.task_done().unwrap();
                    }
                }));
            }
            let mut ps = Vec::new();
            for p in 0..producers {
                let q = q.clone();
                ps.push(filch_executor::spawn(async move {
                    for i in 0..per {
                        q.put(p * per + i).await.unwrap();
                    }
                }));
            }
            for p in ps {
                p.await.unwrap();
            }
            q.join().await;
            q.shutdown();
            for c in consumers {
                c.await.unwrap();
            }
        });
        assert!(seen.iter().all(|c| c.load(SeqCst) == 1));
    });
}

//! Every ready leaf operation spends cooperative budget: a task looping on
//! an always-ready `acquire`, `lock`, `read`, `recv`, `get`/`put`,
//! `notified` or `wait` on a one-worker runtime still lets another task
//! run. Without the budget the loop would finish all its iterations before
//! the other task ever ran.

mod common;

use common::{rt, with_deadline};
use filch_sync::{Barrier, Event, Mutex, Notify, Queue, RwLock, Semaphore, mpsc, oneshot};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering::SeqCst};

type Step = Box<dyn FnMut() -> Pin<Box<dyn Future<Output = ()> + Send>> + Send>;

const ITERATIONS: usize = 100_000;

/// Runs `step` in a loop on a one-worker runtime and returns how many
/// iterations ran before a task spawned after it got to run.
fn iterations_before_other_task_ran(mut step: Step) -> usize {
    with_deadline(120, move || {
        let rt = rt(1);
        rt.block_on(async move {
            let flag = Arc::new(AtomicBool::new(false));
            let (started_tx, started_rx) = oneshot::channel();
            let looper = filch_executor::spawn({
                let flag = flag.clone();
                async move {
                    started_tx.send(()).unwrap();
                    for i in 0..ITERATIONS {
                        if flag.load(SeqCst) {
                            return i;
                        }
                        step().await;
                    }
                    ITERATIONS
                }
            });
            started_rx.await.unwrap();
            // The looper occupies the only worker now.
            filch_executor::spawn(async move { flag.store(true, SeqCst) });
            looper.await.unwrap()
        })
    })
}

#[track_caller]
fn assert_yields(what: &str, step: Step) {
    let n = iterations_before_other_task_ran(step);
    assert!(n < ITERATIONS, "{what}: the loop never yielded");
}

#[test]
fn semaphore_acquire_spends_budget() {
    let sem = Arc::new(Semaphore::new(1));
    assert_yields(
        "acquire",
        Box::new(move || {
            let sem = sem.clone();
            Box::pin(async move { drop(sem.acquire().await.unwrap()) })
        }),
    );
}

#[test]
fn mutex_and_rwlock_spend_budget() {
    let m = Arc::new(Mutex::new(0));
    assert_yields(
        "lock",
        Box::new(move || {
            let m = m.clone();
            Box::pin(async move { *m.lock().await += 1 })
        }),
    );
    let l = Arc::new(RwLock::new(0));
    assert_yields(
        "read",
        Box::new(move || {
            let l = l.clone();
            Box::pin(async move { drop(l.read().await) })
        }),
    );
}

#[test]
fn mpsc_recv_spends_budget() {
    let (tx, rx) = mpsc::unbounded_channel();
    for i in 0..ITERATIONS {
        tx.send(i).unwrap();
    }
    let rx = Arc::new(Mutex::new(rx));
    assert_yields(
        "recv",
        Box::new(move || {
            let rx = rx.clone();
            // try_lock: the mutex is only there to share the receiver, its
            // budget is not what is measured.
            Box::pin(async move {
                let mut rx = rx.try_lock().unwrap();
                rx.recv().await.unwrap();
            })
        }),
    );
}

#[test]
fn queue_put_and_get_spend_budget() {
    let q = Arc::new(Queue::new(1));
    assert_yields(
        "put/get",
        Box::new(move || {
            let q = q.clone();
            Box::pin(async move {
                q.put(1).await.unwrap();
                q.get().await.unwrap();
            })
        }),
    );
}

#[test]
fn notify_event_barrier_spend_budget() {
    let n = Arc::new(Notify::new());
    assert_yields(
        "notified",
        Box::new(move || {
            let n = n.clone();
            Box::pin(async move {
                n.notify_one();
                n.notified().await;
            })
        }),
    );
    let ev = Arc::new(Event::new());
    ev.set();
    assert_yields(
        "event wait",
        Box::new(move || {
            let ev = ev.clone();
            Box::pin(async move { ev.wait().await })
        }),
    );
    let b = Arc::new(Barrier::new(1));
    assert_yields(
        "barrier wait",
        Box::new(move || {
            let b = b.clone();
            Box::pin(async move {
                b.wait().await;
            })
        }),
    );
}

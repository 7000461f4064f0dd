//! `spawn_local`: `!Send` tasks on the multi-thread runtime. They run only
//! on the thread that spawned them (a worker or a `block_on` thread), are
//! woken from any thread, are dropped on their own thread at shutdown, and
//! their `JoinHandle` is `Send`.

use filch_executor::{Builder, Executor, Handle, JoinHandle, spawn, spawn_local, yield_now};
use std::cell::{Cell, RefCell};
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, mpsc};
use std::task::{Context, Poll, Waker};
use std::thread::{self, ThreadId};
use std::time::Duration;

const HANG: Duration = Duration::from_secs(30);

/// A one-shot signal set from any thread (the test's own, so that the wake
/// comes from a thread the runtime does not know).
#[derive(Clone, Default)]
struct Signal(Arc<Mutex<(bool, Option<Waker>)>>);

impl Signal {
    fn set(&self) {
        let waker = {
            let mut s = self.0.lock().unwrap();
            s.0 = true;
            s.1.take()
        };
        if let Some(w) = waker {
            w.wake();
        }
    }
}

impl Future for Signal {
    type Output = ();
    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        let mut s = self.0.lock().unwrap();
        if s.0 {
            Poll::Ready(())
        } else {
            s.1 = Some(cx.waker().clone());
            Poll::Pending
        }
    }
}

/// Asserts in its `Drop` that it is dropped on the thread that made it.
struct PinnedDrop {
    home: ThreadId,
    drops: Arc<AtomicUsize>,
    _not_send: Rc<()>,
}

impl PinnedDrop {
    fn new(drops: &Arc<AtomicUsize>) -> PinnedDrop {
        PinnedDrop {
            home: thread::current().id(),
            drops: drops.clone(),
            _not_send: Rc::new(()),
        }
    }
}

impl Drop for PinnedDrop {
    fn drop(&mut self) {
        assert_eq!(
            thread::current().id(),
            self.home,
            "a local task's future was dropped on another thread"
        );
        self.drops.fetch_add(1, SeqCst);
    }
}

fn assert_send<T: Send>(_: &T) {}

/// Two workers, and a `block_on` thread that runs no tasks for the pool:
/// an ordinary task spawned here runs on a worker, so its local tasks are
/// that worker's.
fn workers_only() -> Executor {
    Builder::new()
        .worker_threads(2)
        .block_on_runs_tasks(false)
        .build()
        .unwrap()
}

#[test]
fn a_thousand_local_tasks_share_rc_state_on_the_block_on_thread() {
    let rt = Builder::new().worker_threads(2).build().unwrap();
    let home = thread::current().id();
    let (sum, polls_elsewhere) = rt.block_on(async move {
        let state = Rc::new(RefCell::new(0u64));
        let elsewhere = Rc::new(Cell::new(0));
        let tasks: Vec<_> = (1..=1000u64)
            .map(|i| {
                let (state, elsewhere) = (state.clone(), elsewhere.clone());
                spawn_local(async move {
                    for _ in 0..3 {
                        if thread::current().id() != home {
                            elsewhere.set(elsewhere.get() + 1);
                        }
                        yield_now().await;
                    }
                    *state.borrow_mut() += i;
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
        let sum = *state.borrow();
        (sum, elsewhere.get())
    });
    assert_eq!(sum, 500_500);
    assert_eq!(polls_elsewhere, 0);
}

#[test]
fn local_tasks_of_a_worker_stay_on_that_worker() {
    let rt = workers_only();
    let moved = rt.block_on(async {
        // An ordinary task: on a worker. Its local tasks are pinned there,
        // while other work keeps both workers busy and stealing.
        spawn(async {
            let home = thread::current().id();
            let state = Arc::new(AtomicUsize::new(0));
            let moved = Arc::new(AtomicUsize::new(0));
            let busy: Vec<_> = (0..200)
                .map(|_| {
                    spawn(async {
                        for _ in 0..20 {
                            yield_now().await;
                        }
                    })
                })
                .collect();
            let locals: Vec<_> = (0..1000)
                .map(|_| {
                    let (state, moved) = (state.clone(), moved.clone());
                    spawn_local(async move {
                        let not_send = Rc::new(Cell::new(0));
                        for _ in 0..5 {
                            if thread::current().id() != home {
                                moved.fetch_add(1, SeqCst);
                            }
                            not_send.set(not_send.get() + 1);
                            yield_now().await;
                        }
                        state.fetch_add(not_send.get() / 5, SeqCst);
                    })
                })
                .collect();
            for t in locals {
                t.await.unwrap();
            }
            for b in busy {
                b.await.unwrap();
            }
            assert_eq!(state.load(SeqCst), 1000);
            moved.load(SeqCst)
        })
        .await
        .unwrap()
    });
    assert_eq!(moved, 0, "a local task was polled on another thread");
}

#[test]
fn a_wake_from_another_thread_reaches_the_owner() {
    let rt = workers_only();
    for owner_is_worker in [false, true] {
        let signal = Signal::default();
        let s2 = signal.clone();
        let (tx, rx) = mpsc::channel();
        let waiter = thread::spawn(move || {
            rx.recv_timeout(HANG).unwrap();
            s2.set();
        });
        let body = async move {
            let home = thread::current().id();
            let h = spawn_local(async move {
                let not_send = Rc::new(1);
                signal.await;
                (*not_send, thread::current().id())
            });
            tx.send(()).unwrap();
            let (one, ran_on) = h.await.unwrap();
            assert_eq!((one, ran_on), (1, home));
        };
        if owner_is_worker {
            rt.block_on(rt.spawn(body)).unwrap();
        } else {
            rt.block_on(body);
        }
        waiter.join().unwrap();
    }
}

#[test]
fn shutdown_drops_a_workers_local_tasks_on_that_worker() {
    let drops = Arc::new(AtomicUsize::new(0));
    let rt = workers_only();
    let d = drops.clone();
    rt.block_on(rt.spawn(async move {
        for _ in 0..10 {
            let guard = PinnedDrop::new(&d);
            drop(spawn_local(async move {
                let _guard = guard;
                std::future::pending::<()>().await
            }));
        }
        // And one never polled.
        let guard = PinnedDrop::new(&d);
        drop(spawn_local(async move {
            let _guard = guard;
        }));
    }))
    .unwrap();
    drop(rt);
    assert_eq!(drops.load(SeqCst), 11);
}

#[test]
#[allow(clippy::async_yields_async)] // the handle is the point: it outlives the call
fn a_block_on_call_cancels_its_local_tasks_when_it_returns() {
    let drops = Arc::new(AtomicUsize::new(0));
    let rt = Executor::new().unwrap();
    let d = drops.clone();
    let handle: JoinHandle<()> = rt.block_on(async move {
        let guard = PinnedDrop::new(&d);
        spawn_local(async move {
            let _guard = guard;
            std::future::pending::<()>().await
        })
    });
    // The call returned: its local task was cancelled on this thread.
    assert_eq!(drops.load(SeqCst), 1);
    assert!(handle.is_finished());
    assert!(rt.block_on(handle).unwrap_err().is_cancelled());
}

#[test]
fn the_join_handle_is_send_and_cancel_works_from_anywhere() {
    let drops = Arc::new(AtomicUsize::new(0));
    let rt = Builder::new().worker_threads(2).build().unwrap();
    let d = drops.clone();
    rt.block_on(async move {
        let guard = PinnedDrop::new(&d);
        let h = spawn_local(async move {
            let _guard = guard;
            std::future::pending::<u32>().await
        });
        assert_send(&h);
        // Awaited by an ordinary task, after a plain thread cancels it.
        let h = Arc::new(Mutex::new(Some(h)));
        let h2 = h.clone();
        thread::spawn(move || h2.lock().unwrap().as_ref().unwrap().cancel())
            .join()
            .unwrap();
        let h = h.lock().unwrap().take().unwrap();
        let res = spawn(h).await.unwrap();
        assert!(res.unwrap_err().is_cancelled());
    });
    assert_eq!(drops.load(SeqCst), 1);
}

#[test]
fn local_tasks_are_listed_and_counted() {
    let rt = Builder::new().worker_threads(1).build().unwrap();
    rt.block_on(async {
        let h = filch_executor::task::Builder::new()
            .name("local-one")
            .spawn_local(std::future::pending::<()>());
        yield_now().await;
        let tasks = Handle::current().tasks();
        let me = tasks.iter().find(|t| t.id() == h.id()).expect("listed");
        assert_eq!(me.name(), Some("local-one"));
        assert_eq!(Handle::current().num_alive_tasks(), 1);
        assert_eq!(Handle::current().metrics().spawned_tasks(), 1);
        assert!(Handle::current().dump().contains("\"local-one\""));
        h.cancel();
        assert!(h.await.unwrap_err().is_cancelled());
    });
    // Its owner (that block_on call) is gone; the count stays.
    assert_eq!(rt.handle().metrics().spawned_tasks(), 1);
    assert_eq!(rt.handle().num_alive_tasks(), 0);
}

#[test]
fn a_local_task_spawned_while_shutting_down_is_cancelled() {
    // A local task's destructor spawns another local task during the
    // owner's shutdown: it is cancelled at once, on this thread.
    let drops = Arc::new(AtomicUsize::new(0));
    let rt = Executor::new().unwrap();
    let d = drops.clone();
    rt.block_on(async move {
        struct SpawnOnDrop(Arc<AtomicUsize>);
        impl Drop for SpawnOnDrop {
            fn drop(&mut self) {
                let guard = PinnedDrop::new(&self.0);
                drop(spawn_local(async move {
                    let _guard = guard;
                }));
            }
        }
        let s = SpawnOnDrop(d);
        drop(spawn_local(async move {
            let _s = s;
            std::future::pending::<()>().await
        }));
        yield_now().await;
    });
    assert_eq!(drops.load(SeqCst), 1);
}

#[test]
#[should_panic(
    expected = "filch::spawn_local must be called from a task or from inside `block_on`"
)]
fn spawn_local_outside_a_runtime_says_what_to_do() {
    drop(spawn_local(async {}));
}

#[test]
fn spawn_local_from_an_entered_thread_or_a_blocking_closure_panics() {
    let rt = Executor::new().unwrap();
    let _g = rt.handle().enter();
    let res = std::panic::catch_unwind(|| drop(spawn_local(async {})));
    assert!(res.is_err());
    let res = rt.block_on(
        rt.spawn_blocking(|| std::panic::catch_unwind(|| drop(spawn_local(async {}))).is_err()),
    );
    assert!(res.unwrap());
}

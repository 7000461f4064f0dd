//! Runtimes dropped with work everywhere: tasks running (yielding loops and
//! one long poll in progress), parked on sockets, sleeping, waiting on
//! locks, channels and notifications, holding each other's join handles (in
//! cycles and chains), spawning from their destructors; closures blocked in
//! `spawn_blocking` and queued behind them.
//!
//! Checked: every future is dropped exactly once, the async tasks are all
//! dropped before the shutdown waits for the blocking pool, the shutdown
//! never deadlocks and ends in bounded time (each round has a watchdog), and
//! the join handles kept past the runtime report cancelled (blocking
//! closures that were already running report their result).
//!
//! Each round drops its runtime in a different way: on the thread that
//! built it, on another thread, with `shutdown_timeout` while a blocking
//! closure cannot finish, and from inside async code (another runtime's
//! `block_on`), which finishes the shutdown on a helper thread.

use filch::runtime::Handle;
use filch::sync::{Mutex as AsyncMutex, Notify, Semaphore, mpsc, oneshot};
use filch_stress::{
    DropGuard, Ledger, block_on_thread, exclusive, report, runtime, scaled, watchdog,
};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Condvar, Mutex};
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

/// Hands out ledger ids.
struct Ids {
    next: AtomicUsize,
    ledger: Arc<Ledger>,
}

impl Ids {
    fn guard(&self) -> DropGuard {
        let id = self.next.fetch_add(1, SeqCst);
        assert!(id < self.ledger.len(), "ledger too small");
        self.ledger.guard(id)
    }
}

/// A future whose destructor spawns another task through `handle` (during
/// the shutdown that spawn is refused and the new task dropped at once).
struct SpawnsOnDrop {
    handle: Handle,
    ids: Arc<Ids>,
    _guard: DropGuard,
}

impl Future for SpawnsOnDrop {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        Poll::Pending
    }
}

impl Drop for SpawnsOnDrop {
    fn drop(&mut self) {
        let g = self.ids.guard();
        drop(self.handle.spawn(async move {
            let _g = g;
            std::future::pending::<()>().await
        }));
    }
}

/// A gate blocking closures wait at.
#[derive(Default)]
struct Gate {
    open: Mutex<bool>,
    cv: Condvar,
}

impl Gate {
    fn wait(&self) {
        let mut open = self.open.lock().unwrap();
        while !*open {
            open = self.cv.wait(open).unwrap();
        }
    }

    fn open(&self) {
        *self.open.lock().unwrap() = true;
        self.cv.notify_all();
    }
}

const TASKS_PER_KIND: usize = 40;

/// Fills `rt` with work of every kind; returns the join handles kept past
/// the runtime, the handles of running blocking closures, the number of
/// async futures made (before any destructor spawns), and what must stay
/// alive until the runtime is gone (socket peers).
#[allow(clippy::type_complexity)]
fn fill(
    rt: &filch::Runtime,
    ids: &Arc<Ids>,
    gate: &Arc<Gate>,
    started_blocking: &Arc<AtomicUsize>,
) -> (
    Vec<filch::task::JoinHandle<()>>,
    Vec<filch::task::JoinHandle<u32>>,
    Vec<Box<dyn Send>>,
) {
    let mut kept = Vec::new();
    let mut keep_alive: Vec<Box<dyn Send>> = Vec::new();
    let k = TASKS_PER_KIND;
    let spawn = |f: Pin<Box<dyn Future<Output = ()> + Send>>| rt.spawn(f);
    let _in = rt.handle().enter();
    // Running: yielding loops, and tasks that spin inside one poll.
    for i in 0..k {
        let g = ids.guard();
        kept.push(spawn(Box::pin(async move {
            let _g = g;
            loop {
                if i % 8 == 0 {
                    let t = Instant::now();
                    while t.elapsed() < Duration::from_micros(500) {
                        std::hint::spin_loop();
                    }
                }
                filch::yield_now().await;
            }
        })));
    }
    // Parked on sockets.
    for _ in 0..k {
        let (mut a, b) = filch::net::UnixStream::pair().unwrap();
        keep_alive.push(Box::new(b));
        let g = ids.guard();
        kept.push(spawn(Box::pin(async move {
            use filch::io::AsyncReadExt;
            let _g = g;
            let mut buf = [0u8; 16];
            let _ = a.read(&mut buf).await;
            std::future::pending::<()>().await
        })));
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let listener = filch::net::TcpListener::from_std(listener).unwrap();
    let g = ids.guard();
    kept.push(spawn(Box::pin(async move {
        let _g = g;
        let _ = listener.accept().await;
        std::future::pending::<()>().await
    })));
    // Sleeping, in a timeout, on an interval.
    for i in 0..k {
        let g = ids.guard();
        kept.push(spawn(Box::pin(async move {
            let _g = g;
            match i % 3 {
                0 => filch::time::sleep(Duration::from_secs(3600)).await,
                1 => {
                    let _ = filch::time::timeout(
                        Duration::from_secs(3600),
                        std::future::pending::<()>(),
                    )
                    .await;
                }
                _ => {
                    let mut every = filch::time::interval(Duration::from_millis(1));
                    loop {
                        every.tick().await;
                    }
                }
            }
        })));
    }
    // Waiting on a lock held by a sleeper, a notification, a channel whose
    // sender a sleeper holds, a semaphore with no permits.
    let lock = Arc::new(AsyncMutex::new(()));
    let notify = Arc::new(Notify::new());
    let (tx, rx) = mpsc::channel::<u8>(1);
    let rx = Arc::new(AsyncMutex::new(rx));
    let sem = Arc::new(Semaphore::new(0));
    {
        let (lock, g) = (lock.clone(), ids.guard());
        kept.push(spawn(Box::pin(async move {
            let _g = g;
            let _held = lock.lock().await;
            let _tx = tx;
            filch::time::sleep(Duration::from_secs(3600)).await;
        })));
    }
    for i in 0..k {
        let g = ids.guard();
        let (lock, notify, rx, sem) = (lock.clone(), notify.clone(), rx.clone(), sem.clone());
        kept.push(spawn(Box::pin(async move {
            let _g = g;
            match i % 4 {
                0 => drop(lock.lock().await),
                1 => notify.notified().await,
                2 => {
                    let _ = rx.lock().await.recv().await;
                }
                _ => drop(sem.acquire().await),
            }
            std::future::pending::<()>().await
        })));
    }
    // Holding each other's join handles: cycles of two, and one chain.
    for _ in 0..k / 2 {
        let (send_b, get_b) = oneshot::channel::<filch::task::JoinHandle<()>>();
        let g = ids.guard();
        let a = rt.spawn(async move {
            let _g = g;
            let b = get_b.await.unwrap();
            let _ = b.await;
        });
        let g = ids.guard();
        let b = rt.spawn(async move {
            let _g = g;
            let _ = a.await;
        });
        let _ = send_b.send(b);
    }
    let g = ids.guard();
    let mut next = rt.spawn(async move {
        let _g = g;
        std::future::pending::<()>().await
    });
    for _ in 0..k {
        let g = ids.guard();
        let h = next;
        next = rt.spawn(async move {
            let _g = g;
            let _ = h.await;
        });
    }
    kept.push(next);
    // Spawning from destructors.
    for _ in 0..k {
        kept.push(rt.spawn(SpawnsOnDrop {
            handle: rt.handle().clone(),
            ids: ids.clone(),
            _guard: ids.guard(),
        }));
    }
    // Blocking: two closures blocked at the gate (they run: the pool has
    // two threads), and more queued behind them (dropped unrun).
    let mut blocking = Vec::new();
    for i in 0..2u32 {
        let (gate, started) = (gate.clone(), started_blocking.clone());
        blocking.push(rt.spawn_blocking(move || {
            started.fetch_add(1, SeqCst);
            gate.wait();
            i
        }));
    }
    for _ in 0..k {
        let g = ids.guard();
        kept.push(rt.spawn_blocking(move || drop(g)));
    }
    (kept, blocking, keep_alive)
}

/// How a round's runtime goes away.
#[derive(Clone, Copy, Debug)]
enum Ending {
    Drop,
    DropElsewhere,
    ShutdownTimeout,
    DropInAsync,
}

/// Rounds of runtimes full of work (100 at scale 1, about 360 futures
/// each), dropped in each of the four ways in turn.
#[test]
fn runtime_dropped_with_work_everywhere() {
    let _one = exclusive();
    let rounds = scaled(100) as usize;
    let per_round = 20 * TASKS_PER_KIND;
    let ledger = Ledger::new(rounds * per_round);
    let ids = Arc::new(Ids {
        next: AtomicUsize::new(0),
        ledger: ledger.clone(),
    });
    let other = runtime(1);
    let start = Instant::now();
    let mut worst = Duration::ZERO;
    for round in 0..rounds {
        let ending = [
            Ending::Drop,
            Ending::DropElsewhere,
            Ending::ShutdownTimeout,
            Ending::DropInAsync,
        ][round % 4];
        let rt = filch::Runtime::builder()
            .worker_threads(2)
            .max_blocking_threads(2)
            .build()
            .unwrap();
        let handle = rt.handle().clone();
        let gate = Arc::new(Gate::default());
        let started = Arc::new(AtomicUsize::new(0));
        let first_id = ids.next.load(SeqCst);
        watchdog(
            "runtime_dropped_with_work_everywhere",
            60,
            std::slice::from_ref(&handle),
            || {
                let (kept, blocking, keep_alive) = fill(&rt, &ids, &gate, &started);
                // Every future made so far (destructors add more as they run).
                let made = ids.next.load(SeqCst) - first_id;
                // Wait until the blocking closures run and the tasks are under
                // way, so the shutdown meets them there.
                while started.load(SeqCst) < 2 {
                    std::thread::yield_now();
                }
                for _ in 0..3 {
                    rt.block_on(filch::yield_now());
                }
                // The gate opens once every async future (and every queued
                // closure) was dropped: the shutdown drops them before it waits
                // for the pool, so waiting for that cannot deadlock.
                let async_dropped = Arc::new(AtomicBool::new(false));
                let opener = {
                    let (gate, ledger, flag) =
                        (gate.clone(), ledger.clone(), async_dropped.clone());
                    let range = first_id..first_id + made;
                    std::thread::spawn(move || {
                        while range.clone().any(|id| ledger.drops_of(id) == 0) {
                            std::thread::sleep(Duration::from_micros(200));
                        }
                        flag.store(true, SeqCst);
                        gate.open();
                    })
                };
                let t = Instant::now();
                match ending {
                    Ending::Drop => drop(rt),
                    Ending::DropElsewhere => std::thread::spawn(move || drop(rt)).join().unwrap(),
                    Ending::ShutdownTimeout => {
                        // The gate opens only after the async futures are gone,
                        // so the timeout may well expire first: bounded either
                        // way.
                        rt.shutdown_timeout(Duration::from_millis(10));
                    }
                    Ending::DropInAsync => {
                        other.block_on(async move { drop(rt) });
                    }
                }
                let took = t.elapsed();
                worst = worst.max(took);
                opener.join().unwrap();
                assert!(async_dropped.load(SeqCst));
                for (i, h) in blocking.into_iter().enumerate() {
                    assert_eq!(
                        block_on_thread(h).unwrap(),
                        i as u32,
                        "a running closure's result"
                    );
                }
                for h in kept {
                    let res = block_on_thread(h);
                    assert!(
                        res.as_ref().is_err_and(|e| e.is_cancelled()),
                        "{ending:?}: a kept handle resolved to {res:?}"
                    );
                }
                drop(keep_alive);
                // Destructors spawned more; all of them are dropped too (the
                // background shutdown of `DropInAsync` may still be at it).
                let end = ids.next.load(SeqCst);
                while (first_id..end).any(|id| ledger.drops_of(id) == 0) {
                    std::thread::sleep(Duration::from_millis(1));
                }
                assert_eq!(handle.num_alive_tasks(), 0);
            },
        );
    }
    let made = ids.next.load(SeqCst);
    for id in 0..made {
        assert_eq!(ledger.drops_of(id), 1, "future {id}");
    }
    report(
        "runtime_dropped_with_work_everywhere",
        start,
        &format!(
            "{rounds} runtimes, {made} futures dropped by their shutdown; slowest drop {worst:.2?}"
        ),
    );
}

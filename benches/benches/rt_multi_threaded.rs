//! tokio's `rt_multi_threaded` scheduler workloads, run on filch, tokio and
//! async-executor side by side, 2 workers each.
//!
//! Each workload is one criterion group whose ids are `filch`,
//! `filch-pool-only` (filch with `block_on_runs_tasks(false)`, see
//! `filch_rts`), `filch-debug` (filch in debug mode), `tokio` and
//! `async-executor`, so one `cargo bench` run compares them:
//!
//! ```text
//! cargo bench -p filch-benches --bench rt_multi_threaded
//! ```
//!
//! The workloads follow tokio's `benches/rt_multi_threaded.rs`:
//!
//! * `spawn_many_local`: inside `block_on`, spawn 10,000 empty tasks; the last
//!   one to finish signals a std channel that the `block_on` future waits on.
//! * `spawn_many_remote_idle`: spawn 10,000 empty tasks from the bench thread
//!   (outside the runtime), then `block_on` awaiting every join handle.
//! * `spawn_many_remote_busy1`: the same 10,000 remote spawns while
//!   `2 * workers` background tasks loop on `yield_now` + a 10 µs stall.
//! * `spawn_many_remote_busy2`: 1,000 remote spawns while `workers` background
//!   chains keep spawning a successor that stalls 10 µs.
//! * `yield_many`: 200 tasks spawned from outside, each yielding 1,000 times.
//! * `ping_pong`: one task spawns 1,000 tasks; each spawns a partner and they
//!   exchange two oneshot messages.
//! * `chained_spawn`: a chain of 1,000 tasks, each spawning the next.
//!
//! Each runtime lives only while its own benchmark id runs, so background
//! tasks of the busy workloads never compete with another runtime.
//!
//! async-executor has no runtime of its own: an `Executor` is driven by two
//! threads each running `block_on(ex.run(stop))`; the bench thread spawns with
//! `ex.spawn` and blocks with `futures_lite::future::block_on`. For
//! `ping_pong`, each runtime uses its own family's oneshot: `tokio::sync` on
//! tokio, `filch_sync` on filch, and `futures-channel` on async-executor.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, criterion_group, criterion_main};
use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

const WORKERS: usize = 2;
const NUM_SPAWN: usize = 10_000;
const BUSY2_SPAWN: usize = 1_000;
const YIELD_TASKS: usize = 200;
const NUM_YIELD: usize = 1_000;
const NUM_PINGS: usize = 1_000;
const CHAIN: usize = 1_000;
const STALL: Duration = Duration::from_micros(10);

// ---- the three runtimes ----------------------------------------------------

/// filch twice: with its defaults (`filch`), and with the `block_on` thread
/// leaving every task to the workers (`filch-pool-only`, tokio's
/// multi-thread behaviour), so that what the helping `block_on` thread
/// brings can be told from the rest. Built one at a time, as iterated.
///
/// A third, `filch-debug`, is filch in debug mode (a slow-poll threshold, so
/// every poll is timed into the histogram and watched): the cost of debug
/// mode reads as `filch-debug` / `filch`.
fn filch_rts() -> impl Iterator<Item = (&'static str, filch_executor::Executor)> {
    [
        ("filch", true, false),
        ("filch-pool-only", false, false),
        ("filch-debug", true, true),
    ]
    .into_iter()
    .map(|(id, helps, debug)| {
        let mut b = filch_executor::Builder::new();
        b.worker_threads(WORKERS).block_on_runs_tasks(helps);
        if debug {
            b.slow_poll_threshold(Duration::from_secs(1));
        }
        (id, b.build().expect("filch runtime"))
    })
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .expect("tokio runtime")
}

/// An async-executor `Executor` run by `WORKERS` threads until dropped.
struct AsyncExecutor {
    /// Leaked so that tasks can spawn onto it with a `'static` reference,
    /// as `tokio::spawn` and `filch_executor::spawn` do through their
    /// thread-local context. One small leak per benchmark id.
    ex: &'static async_executor::Executor<'static>,
    stops: Vec<futures_channel::oneshot::Sender<()>>,
    threads: Vec<std::thread::JoinHandle<()>>,
}

impl AsyncExecutor {
    fn new() -> AsyncExecutor {
        let ex: &'static async_executor::Executor<'static> =
            Box::leak(Box::new(async_executor::Executor::new()));
        let mut stops = Vec::new();
        let mut threads = Vec::new();
        for i in 0..WORKERS {
            let (stop, stopped) = futures_channel::oneshot::channel::<()>();
            stops.push(stop);
            threads.push(
                std::thread::Builder::new()
                    .name(format!("async-executor-{i}"))
                    .spawn(move || {
                        futures_lite::future::block_on(ex.run(async {
                            let _ = stopped.await;
                        }));
                    })
                    .expect("async-executor thread"),
            );
        }
        AsyncExecutor { ex, stops, threads }
    }
}

impl Drop for AsyncExecutor {
    fn drop(&mut self) {
        self.stops.clear();
        for t in self.threads.drain(..) {
            let _ = t.join();
        }
    }
}

/// Burns `STALL` of CPU time the way tokio's bench does (yielding the thread
/// in a loop).
fn stall() {
    let start = Instant::now();
    while start.elapsed() < STALL {
        std::thread::yield_now();
    }
}

fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    g
}

// ---- spawn_many_local ------------------------------------------------------

fn spawn_many_local(c: &mut Criterion) {
    let mut g = group(c, "spawn_many_local");
    let (tx, rx) = mpsc::sync_channel::<()>(1000);
    let rem = Arc::new(AtomicUsize::new(0));

    for (id, rt) in filch_rts() {
        g.bench_function(id, |b| {
            b.iter(|| {
                rem.store(NUM_SPAWN, Relaxed);
                rt.block_on(async {
                    for _ in 0..NUM_SPAWN {
                        let (tx, rem) = (tx.clone(), rem.clone());
                        filch_executor::spawn(async move {
                            if rem.fetch_sub(1, Relaxed) == 1 {
                                tx.send(()).unwrap();
                            }
                        });
                    }
                    rx.recv().unwrap();
                });
            })
        });
    }
    {
        let rt = tokio_rt();
        g.bench_function("tokio", |b| {
            b.iter(|| {
                rem.store(NUM_SPAWN, Relaxed);
                rt.block_on(async {
                    for _ in 0..NUM_SPAWN {
                        let (tx, rem) = (tx.clone(), rem.clone());
                        tokio::spawn(async move {
                            if rem.fetch_sub(1, Relaxed) == 1 {
                                tx.send(()).unwrap();
                            }
                        });
                    }
                    rx.recv().unwrap();
                });
            })
        });
    }
    {
        let rt = AsyncExecutor::new();
        let ex = rt.ex;
        g.bench_function("async-executor", |b| {
            b.iter(|| {
                rem.store(NUM_SPAWN, Relaxed);
                futures_lite::future::block_on(async {
                    for _ in 0..NUM_SPAWN {
                        let (tx, rem) = (tx.clone(), rem.clone());
                        ex.spawn(async move {
                            if rem.fetch_sub(1, Relaxed) == 1 {
                                tx.send(()).unwrap();
                            }
                        })
                        .detach();
                    }
                    rx.recv().unwrap();
                });
            })
        });
    }
    g.finish();
}

// ---- spawn_many_remote_{idle,busy1,busy2} ----------------------------------

/// What keeps the workers busy while the bench thread spawns.
#[derive(Clone, Copy)]
enum Busy {
    Idle,
    /// `2 * WORKERS` tasks looping on `yield_now` + stall.
    Yielding,
    /// `WORKERS` chains of tasks, each spawning its stalling successor.
    Spawning,
}

fn spawn_many_remote(c: &mut Criterion, name: &str, busy: Busy, n: usize) {
    let mut g = group(c, name);

    for (id, rt) in filch_rts() {
        let flag = Arc::new(AtomicBool::new(true));
        filch_background(&rt, busy, &flag);
        let mut handles = Vec::with_capacity(n);
        g.bench_function(id, |b| {
            b.iter(|| {
                for _ in 0..n {
                    handles.push(rt.spawn(async {}));
                }
                rt.block_on(async {
                    for h in handles.drain(..) {
                        h.await.unwrap();
                    }
                });
            })
        });
        flag.store(false, Relaxed);
    }
    {
        let rt = tokio_rt();
        let flag = Arc::new(AtomicBool::new(true));
        tokio_background(&rt, busy, &flag);
        let mut handles = Vec::with_capacity(n);
        g.bench_function("tokio", |b| {
            b.iter(|| {
                for _ in 0..n {
                    handles.push(rt.spawn(async {}));
                }
                rt.block_on(async {
                    for h in handles.drain(..) {
                        h.await.unwrap();
                    }
                });
            })
        });
        flag.store(false, Relaxed);
    }
    {
        let rt = AsyncExecutor::new();
        let ex = rt.ex;
        let flag = Arc::new(AtomicBool::new(true));
        async_executor_background(ex, busy, &flag);
        let mut handles = Vec::with_capacity(n);
        g.bench_function("async-executor", |b| {
            b.iter(|| {
                for _ in 0..n {
                    handles.push(ex.spawn(async {}));
                }
                futures_lite::future::block_on(async {
                    for h in handles.drain(..) {
                        h.await;
                    }
                });
            })
        });
        flag.store(false, Relaxed);
    }
    g.finish();
}

fn filch_background(rt: &filch_executor::Executor, busy: Busy, flag: &Arc<AtomicBool>) {
    fn chain(flag: Arc<AtomicBool>) {
        filch_executor::spawn(async move {
            if flag.load(Relaxed) {
                stall();
                chain(flag);
            }
        });
    }
    match busy {
        Busy::Idle => {}
        Busy::Yielding => {
            for _ in 0..2 * WORKERS {
                let flag = flag.clone();
                rt.spawn(async move {
                    while flag.load(Relaxed) {
                        filch_executor::yield_now().await;
                        stall();
                    }
                });
            }
        }
        Busy::Spawning => {
            for _ in 0..WORKERS {
                let flag = flag.clone();
                rt.spawn(async move { chain(flag) });
            }
        }
    }
}

fn tokio_background(rt: &tokio::runtime::Runtime, busy: Busy, flag: &Arc<AtomicBool>) {
    fn chain(flag: Arc<AtomicBool>) {
        tokio::spawn(async move {
            if flag.load(Relaxed) {
                stall();
                chain(flag);
            }
        });
    }
    match busy {
        Busy::Idle => {}
        Busy::Yielding => {
            for _ in 0..2 * WORKERS {
                let flag = flag.clone();
                rt.spawn(async move {
                    while flag.load(Relaxed) {
                        tokio::task::yield_now().await;
                        stall();
                    }
                });
            }
        }
        Busy::Spawning => {
            for _ in 0..WORKERS {
                let flag = flag.clone();
                rt.spawn(async move { chain(flag) });
            }
        }
    }
}

fn async_executor_background(
    ex: &'static async_executor::Executor<'static>,
    busy: Busy,
    flag: &Arc<AtomicBool>,
) {
    fn chain(ex: &'static async_executor::Executor<'static>, flag: Arc<AtomicBool>) {
        ex.spawn(async move {
            if flag.load(Relaxed) {
                stall();
                chain(ex, flag);
            }
        })
        .detach();
    }
    match busy {
        Busy::Idle => {}
        Busy::Yielding => {
            for _ in 0..2 * WORKERS {
                let flag = flag.clone();
                ex.spawn(async move {
                    while flag.load(Relaxed) {
                        futures_lite::future::yield_now().await;
                        stall();
                    }
                })
                .detach();
            }
        }
        Busy::Spawning => {
            for _ in 0..WORKERS {
                let flag = flag.clone();
                ex.spawn(async move { chain(ex, flag) }).detach();
            }
        }
    }
}

fn spawn_many_remote_idle(c: &mut Criterion) {
    spawn_many_remote(c, "spawn_many_remote_idle", Busy::Idle, NUM_SPAWN);
}

fn spawn_many_remote_busy1(c: &mut Criterion) {
    spawn_many_remote(c, "spawn_many_remote_busy1", Busy::Yielding, NUM_SPAWN);
}

fn spawn_many_remote_busy2(c: &mut Criterion) {
    spawn_many_remote(c, "spawn_many_remote_busy2", Busy::Spawning, BUSY2_SPAWN);
}

// ---- yield_many ------------------------------------------------------------

fn yield_many(c: &mut Criterion) {
    let mut g = group(c, "yield_many");
    let (tx, rx) = mpsc::sync_channel::<()>(YIELD_TASKS);

    for (id, rt) in filch_rts() {
        g.bench_function(id, |b| {
            b.iter(|| {
                for _ in 0..YIELD_TASKS {
                    let tx = tx.clone();
                    rt.spawn(async move {
                        for _ in 0..NUM_YIELD {
                            filch_executor::yield_now().await;
                        }
                        tx.send(()).unwrap();
                    });
                }
                for _ in 0..YIELD_TASKS {
                    rx.recv().unwrap();
                }
            })
        });
    }
    {
        let rt = tokio_rt();
        g.bench_function("tokio", |b| {
            b.iter(|| {
                for _ in 0..YIELD_TASKS {
                    let tx = tx.clone();
                    rt.spawn(async move {
                        for _ in 0..NUM_YIELD {
                            tokio::task::yield_now().await;
                        }
                        tx.send(()).unwrap();
                    });
                }
                for _ in 0..YIELD_TASKS {
                    rx.recv().unwrap();
                }
            })
        });
    }
    {
        let rt = AsyncExecutor::new();
        let ex = rt.ex;
        g.bench_function("async-executor", |b| {
            b.iter(|| {
                for _ in 0..YIELD_TASKS {
                    let tx = tx.clone();
                    ex.spawn(async move {
                        for _ in 0..NUM_YIELD {
                            futures_lite::future::yield_now().await;
                        }
                        tx.send(()).unwrap();
                    })
                    .detach();
                }
                for _ in 0..YIELD_TASKS {
                    rx.recv().unwrap();
                }
            })
        });
    }
    g.finish();
}

// ---- ping_pong -------------------------------------------------------------

fn ping_pong(c: &mut Criterion) {
    let mut g = group(c, "ping_pong");
    let (done_tx, done_rx) = mpsc::sync_channel::<()>(1000);
    let rem = Arc::new(AtomicUsize::new(0));

    for (id, rt) in filch_rts() {
        g.bench_function(id, |b| {
            b.iter(|| {
                let (done_tx, rem) = (done_tx.clone(), rem.clone());
                rem.store(NUM_PINGS, Relaxed);
                rt.block_on(async {
                    filch_executor::spawn(async move {
                        for _ in 0..NUM_PINGS {
                            let (done_tx, rem) = (done_tx.clone(), rem.clone());
                            filch_executor::spawn(async move {
                                use filch_sync::oneshot;
                                let (ping_tx, ping_rx) = oneshot::channel::<()>();
                                let (pong_tx, pong_rx) = oneshot::channel::<()>();
                                filch_executor::spawn(async move {
                                    ping_rx.await.unwrap();
                                    pong_tx.send(()).unwrap();
                                });
                                ping_tx.send(()).unwrap();
                                pong_rx.await.unwrap();
                                if rem.fetch_sub(1, Relaxed) == 1 {
                                    done_tx.send(()).unwrap();
                                }
                            });
                        }
                    });
                    done_rx.recv().unwrap();
                });
            })
        });
    }
    {
        let rt = tokio_rt();
        g.bench_function("tokio", |b| {
            b.iter(|| {
                let (done_tx, rem) = (done_tx.clone(), rem.clone());
                rem.store(NUM_PINGS, Relaxed);
                rt.block_on(async {
                    tokio::spawn(async move {
                        for _ in 0..NUM_PINGS {
                            let (done_tx, rem) = (done_tx.clone(), rem.clone());
                            tokio::spawn(async move {
                                use tokio::sync::oneshot;
                                let (ping_tx, ping_rx) = oneshot::channel::<()>();
                                let (pong_tx, pong_rx) = oneshot::channel::<()>();
                                tokio::spawn(async move {
                                    ping_rx.await.unwrap();
                                    pong_tx.send(()).unwrap();
                                });
                                ping_tx.send(()).unwrap();
                                pong_rx.await.unwrap();
                                if rem.fetch_sub(1, Relaxed) == 1 {
                                    done_tx.send(()).unwrap();
                                }
                            });
                        }
                    });
                    done_rx.recv().unwrap();
                });
            })
        });
    }
    {
        let rt = AsyncExecutor::new();
        let ex = rt.ex;
        g.bench_function("async-executor", |b| {
            b.iter(|| {
                let (done_tx, rem) = (done_tx.clone(), rem.clone());
                rem.store(NUM_PINGS, Relaxed);
                futures_lite::future::block_on(async {
                    ex.spawn(async move {
                        for _ in 0..NUM_PINGS {
                            let (done_tx, rem) = (done_tx.clone(), rem.clone());
                            ex.spawn(async move {
                                use futures_channel::oneshot;
                                let (ping_tx, ping_rx) = oneshot::channel::<()>();
                                let (pong_tx, pong_rx) = oneshot::channel::<()>();
                                ex.spawn(async move {
                                    ping_rx.await.unwrap();
                                    pong_tx.send(()).unwrap();
                                })
                                .detach();
                                ping_tx.send(()).unwrap();
                                pong_rx.await.unwrap();
                                if rem.fetch_sub(1, Relaxed) == 1 {
                                    done_tx.send(()).unwrap();
                                }
                            })
                            .detach();
                        }
                    })
                    .detach();
                    done_rx.recv().unwrap();
                });
            })
        });
    }
    g.finish();
}

// ---- chained_spawn ---------------------------------------------------------

fn chained_spawn(c: &mut Criterion) {
    let mut g = group(c, "chained_spawn");
    let (done_tx, done_rx) = mpsc::sync_channel::<()>(1000);

    fn filch_link(done_tx: mpsc::SyncSender<()>, n: usize) {
        if n == 0 {
            done_tx.send(()).unwrap();
        } else {
            filch_executor::spawn(async move { filch_link(done_tx, n - 1) });
        }
    }
    fn tokio_link(done_tx: mpsc::SyncSender<()>, n: usize) {
        if n == 0 {
            done_tx.send(()).unwrap();
        } else {
            tokio::spawn(async move { tokio_link(done_tx, n - 1) });
        }
    }
    fn async_executor_link(
        ex: &'static async_executor::Executor<'static>,
        done_tx: mpsc::SyncSender<()>,
        n: usize,
    ) {
        if n == 0 {
            done_tx.send(()).unwrap();
        } else {
            ex.spawn(async move { async_executor_link(ex, done_tx, n - 1) })
                .detach();
        }
    }

    for (id, rt) in filch_rts() {
        g.bench_function(id, |b| {
            b.iter(|| {
                let done_tx = done_tx.clone();
                rt.block_on(async {
                    filch_executor::spawn(async move { filch_link(done_tx, CHAIN) });
                    done_rx.recv().unwrap();
                });
            })
        });
    }
    {
        let rt = tokio_rt();
        g.bench_function("tokio", |b| {
            b.iter(|| {
                let done_tx = done_tx.clone();
                rt.block_on(async {
                    tokio::spawn(async move { tokio_link(done_tx, CHAIN) });
                    done_rx.recv().unwrap();
                });
            })
        });
    }
    {
        let rt = AsyncExecutor::new();
        let ex = rt.ex;
        g.bench_function("async-executor", |b| {
            b.iter(|| {
                let done_tx = done_tx.clone();
                futures_lite::future::block_on(async {
                    ex.spawn(async move { async_executor_link(ex, done_tx, CHAIN) })
                        .detach();
                    done_rx.recv().unwrap();
                });
            })
        });
    }
    g.finish();
}

criterion_group!(
    rt_multi_threaded,
    spawn_many_local,
    spawn_many_remote_idle,
    spawn_many_remote_busy1,
    spawn_many_remote_busy2,
    yield_many,
    ping_pong,
    chained_spawn,
);
criterion_main!(rt_multi_threaded);

//! filch-sync beside tokio::sync, one workload per primitive, in one run.
//!
//! Each workload is written once (the `workloads!` macro) against a module
//! that imports either filch's or tokio's API: filch-sync keeps tokio's
//! signatures, so the same code compiles against both. The filch side runs
//! on a 2-worker `filch_executor::Executor`, the tokio side on a 2-worker
//! tokio multi-thread runtime. Group names are `sync/<workload>` with the
//! functions `filch`, `filch-pool-only` (filch with
//! `block_on_runs_tasks(false)`: the `block_on` thread only polls its
//! future, as tokio's does), `tokio` and `filch-sync-on-tokio` (filch's
//! primitives on tokio's runtime, to tell the primitive's cost from the
//! executor's); results and their reading are in `docs/benchmarks.md`.
//!
//! This file owns the sync benchmarks only; it must not tune either
//! runtime beyond its worker count (and the one filch switch above).

use criterion::{Criterion, criterion_group, criterion_main};
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

const WORKERS: usize = 2;

/// What each side provides to the workloads.
mod filch_side {
    pub use filch_executor::{spawn, yield_now};
    pub use filch_sync as sync;

    pub struct Rt(pub filch_executor::Executor);

    impl Rt {
        /// `helps`: whether the `block_on` thread runs queued tasks while
        /// its future waits (filch's default).
        pub fn new(helps: bool) -> Rt {
            Rt(filch_executor::Builder::new()
                .worker_threads(super::WORKERS)
                .block_on_runs_tasks(helps)
                .build()
                .unwrap())
        }
    }
}

mod tokio_side {
    pub use tokio::spawn;
    pub use tokio::sync;
    pub use tokio::task::yield_now;

    pub struct Rt(pub tokio::runtime::Runtime);

    impl Rt {
        pub fn new() -> Rt {
            Rt(tokio::runtime::Builder::new_multi_thread()
                .worker_threads(super::WORKERS)
                .build()
                .unwrap())
        }
    }
}

impl filch_side::Rt {
    fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.0.block_on(f)
    }
}

impl tokio_side::Rt {
    fn block_on<F: Future>(&self, f: F) -> F::Output {
        self.0.block_on(f)
    }
}

/// The workloads, written once against `sync`, `spawn` and `yield_now`.
macro_rules! workloads {
    ($m:ident, $side:ident) => {
        mod $m {
            use super::$side::{spawn, sync, yield_now};
            use std::sync::Arc;
            use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

            pub const SENDERS: usize = 5;
            pub const PER_SENDER: usize = 1_000;

            /// 5 senders × 1,000 messages into a bounded channel of `cap`.
            pub async fn mpsc_bounded(cap: usize) {
                let (tx, mut rx) = sync::mpsc::channel::<usize>(cap);
                for _ in 0..SENDERS {
                    let tx = tx.clone();
                    spawn(async move {
                        for i in 0..PER_SENDER {
                            tx.send(i).await.unwrap();
                        }
                    });
                }
                for _ in 0..SENDERS * PER_SENDER {
                    rx.recv().await.unwrap();
                }
            }

            /// 5 senders × 1,000 messages into an unbounded channel.
            pub async fn mpsc_unbounded() {
                let (tx, mut rx) = sync::mpsc::unbounded_channel::<usize>();
                for _ in 0..SENDERS {
                    let tx = tx.clone();
                    spawn(async move {
                        for i in 0..PER_SENDER {
                            tx.send(i).unwrap();
                        }
                    });
                }
                for _ in 0..SENDERS * PER_SENDER {
                    rx.recv().await.unwrap();
                }
            }

            pub type Server = sync::mpsc::Sender<sync::oneshot::Sender<()>>;

            /// A task that answers every request (run inside the runtime).
            pub fn start_server() -> Server {
                let (tx, mut rx) = sync::mpsc::channel::<sync::oneshot::Sender<()>>(10);
                spawn(async move {
                    while let Some(reply) = rx.recv().await {
                        let _ = reply.send(());
                    }
                });
                tx
            }

            /// 1,000 requests, each answered through a fresh oneshot.
            pub async fn request_reply(server: &Server) {
                for _ in 0..1_000 {
                    let (tx, rx) = sync::oneshot::channel();
                    server.send(tx).await.unwrap();
                    rx.await.unwrap();
                }
            }

            /// 1,000 acquire/release pairs in one task, never contended.
            pub async fn semaphore_uncontended(sem: &sync::Semaphore) {
                for _ in 0..1_000 {
                    drop(sem.acquire().await.unwrap());
                }
            }

            /// 6 tasks × 100 acquires of 5 permits, each held across a
            /// yield, so tasks really wait for each other.
            pub async fn semaphore_contended(sem: Arc<sync::Semaphore>) {
                let tasks: Vec<_> = (0..6)
                    .map(|_| {
                        let sem = sem.clone();
                        spawn(async move {
                            for _ in 0..100 {
                                let p = sem.acquire().await.unwrap();
                                yield_now().await;
                                drop(p);
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
            }

            /// 5 tasks × 1,000 increments under one mutex.
            pub async fn mutex_contended(m: Arc<sync::Mutex<u64>>) {
                let tasks: Vec<_> = (0..5)
                    .map(|_| {
                        let m = m.clone();
                        spawn(async move {
                            for _ in 0..1_000 {
                                *m.lock().await += 1;
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await.unwrap();
                }
            }

            /// `n` waiter tasks and the handshake that tells the notifier
            /// they are all waiting.
            pub struct Waiters {
                notify: Arc<sync::Notify>,
                all_waiting: Arc<sync::Notify>,
                waiting: Arc<AtomicUsize>,
                n: usize,
            }

            /// Spawns `n` tasks that wait on `notify` forever; the last one
            /// to (re)register signals `all_waiting` (run inside the
            /// runtime).
            pub fn start_waiters(n: usize) -> Waiters {
                let w = Waiters {
                    notify: Arc::new(sync::Notify::new()),
                    all_waiting: Arc::new(sync::Notify::new()),
                    waiting: Arc::new(AtomicUsize::new(0)),
                    n,
                };
                for _ in 0..n {
                    let (notify, all_waiting, waiting) =
                        (w.notify.clone(), w.all_waiting.clone(), w.waiting.clone());
                    spawn(async move {
                        loop {
                            let mut notified = std::pin::pin!(notify.notified());
                            notified.as_mut().enable();
                            if waiting.fetch_add(1, SeqCst) + 1 == n {
                                all_waiting.notify_one();
                            }
                            notified.await;
                        }
                    });
                }
                w
            }

            /// About 500 wake-ups: rounds in which all `n` tasks are
            /// waiting and are woken by one `notify_waiters` (or by `n`
            /// `notify_one`s, one each, in FIFO order).
            pub async fn notify_rounds(w: &Waiters, all: bool) {
                for _ in 0..(500 / w.n).max(1) {
                    w.all_waiting.notified().await;
                    w.waiting.store(0, SeqCst);
                    if all {
                        w.notify.notify_waiters();
                    } else {
                        for _ in 0..w.n {
                            w.notify.notify_one();
                        }
                    }
                }
            }
        }
    };
}

mod mixed_side {
    pub use filch_sync as sync;
    pub use tokio::spawn;
    pub use tokio::task::yield_now;
}
workloads!(mixed_work, mixed_side);
workloads!(filch_work, filch_side);
workloads!(tokio_work, tokio_side);

/// Benches one workload three ways in group `sync/<name>`: filch-sync on
/// filch's executor, tokio::sync on tokio's runtime, and filch-sync on
/// tokio's runtime (which separates what the primitive costs from what the
/// executor costs). Only the runtime being measured is alive. `$make`
/// builds per-side state with that side's `sync` module in scope; the
/// body sees it as `$s`.
macro_rules! group {
    ($c:expr, $name:expr, |$w:ident, $s:ident| $body:expr, $make:expr) => {{
        let mut g = $c.benchmark_group(format!("sync/{}", $name));
        for (id, helps) in [("filch", true), ("filch-pool-only", false)] {
            use filch_work as $w;
            let rt = filch_side::Rt::new(helps);
            let $s = {
                #[allow(unused_imports)]
                use filch_sync as sync;
                rt.block_on(async { $make })
            };
            g.bench_function(id, |b| b.iter(|| rt.block_on($body)));
        }
        {
            use tokio_work as $w;
            let rt = tokio_side::Rt::new();
            let $s = {
                #[allow(unused_imports)]
                use tokio::sync;
                rt.block_on(async { $make })
            };
            g.bench_function("tokio", |b| b.iter(|| rt.block_on($body)));
        }
        {
            use mixed_work as $w;
            let rt = tokio_side::Rt::new();
            let $s = {
                #[allow(unused_imports)]
                use filch_sync as sync;
                rt.block_on(async { $make })
            };
            g.bench_function("filch-sync-on-tokio", |b| b.iter(|| rt.block_on($body)));
        }
        g.finish();
    }};
}

fn mpsc(c: &mut Criterion) {
    group!(c, "mpsc_bounded", |w, _s| w::mpsc_bounded(1_000_000), ());
    group!(c, "mpsc_bounded_full", |w, _s| w::mpsc_bounded(100), ());
    group!(c, "mpsc_unbounded", |w, _s| w::mpsc_unbounded(), ());
}

fn oneshot(c: &mut Criterion) {
    // The server task is spawned inside each side's runtime by `$make`.
    group!(
        c,
        "oneshot_request_reply",
        |w, server| w::request_reply(&server),
        w::start_server()
    );
}

fn semaphore(c: &mut Criterion) {
    group!(
        c,
        "semaphore_uncontended",
        |w, sem| w::semaphore_uncontended(&sem),
        sync::Semaphore::new(10)
    );
    group!(
        c,
        "semaphore_contended",
        |w, sem| w::semaphore_contended(sem.clone()),
        Arc::new(sync::Semaphore::new(5))
    );
}

fn mutex(c: &mut Criterion) {
    group!(
        c,
        "mutex_contended",
        |w, m| w::mutex_contended(m.clone()),
        Arc::new(sync::Mutex::new(0u64))
    );
}

fn notify(c: &mut Criterion) {
    for n in [10, 50, 100, 200, 500] {
        group!(
            c,
            format!("notify_waiters_{n}"),
            |w, waiters| w::notify_rounds(&waiters, true),
            w::start_waiters(n)
        );
        group!(
            c,
            format!("notify_one_{n}"),
            |w, waiters| w::notify_rounds(&waiters, false),
            w::start_waiters(n)
        );
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .sample_size(40)
}

criterion_group! {
    name = sync;
    config = config();
    targets = mpsc, oneshot, semaphore, mutex, notify
}
criterion_main!(sync);

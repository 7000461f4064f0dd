//! One `rt_multi_threaded` workload on one runtime, a fixed number of times:
//! a driver for profilers (`perf stat`, `perf record`, `valgrind`), whose
//! counts can then be divided by the iteration count. The criterion bench
//! (`benches/rt_multi_threaded.rs`) is the measurement; this is the
//! microscope.
//!
//! ```text
//! cargo build --release -p filch-benches --example rt_workload
//! perf stat -e context-switches,syscalls:sys_enter_futex \
//!     target/release/examples/rt_workload filch spawn_many_local 200
//! ```
//!
//! Runtimes: `filch`, `tokio`. Workloads: `spawn_many_local`,
//! `spawn_many_remote_idle`, `spawn_many_remote_busy1`,
//! `spawn_many_remote_busy2`, `yield_many`, `ping_pong`, `chained_spawn`.
//! Prints the mean wall time per iteration. `FILCH_GLOBAL_QUEUE_INTERVAL=n`
//! sets filch's `global_queue_interval`.

use std::sync::atomic::Ordering::Relaxed;
use std::sync::atomic::{AtomicBool, AtomicUsize};
use std::sync::{Arc, mpsc};
use std::time::{Duration, Instant};

const WORKERS: usize = 2;
const STALL: Duration = Duration::from_micros(10);

fn stall() {
    let start = Instant::now();
    while start.elapsed() < STALL {
        std::thread::yield_now();
    }
}

/// The same workload code for each runtime: `$rt` is a built runtime with
/// `spawn` and `block_on` methods, `$spawn` spawns from inside it and
/// `$yield_now` yields once.
macro_rules! workloads {
    ($name:ident, $rt:expr, $spawn:path, $yield_now:path) => {
        fn $name(workload: &str, iters: usize) {
            let rt = $rt;
            let flag = Arc::new(AtomicBool::new(true));
            match workload {
                "spawn_many_remote_busy1" => {
                    for _ in 0..2 * WORKERS {
                        let flag = flag.clone();
                        rt.spawn(async move {
                            while flag.load(Relaxed) {
                                $yield_now().await;
                                stall();
                            }
                        });
                    }
                }
                "spawn_many_remote_busy2" => {
                    fn chain(flag: Arc<AtomicBool>) {
                        $spawn(async move {
                            if flag.load(Relaxed) {
                                stall();
                                chain(flag);
                            }
                        });
                    }
                    for _ in 0..WORKERS {
                        let flag = flag.clone();
                        rt.spawn(async move { chain(flag) });
                    }
                }
                _ => {}
            }
            fn link(done: mpsc::SyncSender<()>, n: usize) {
                if n == 0 {
                    done.send(()).unwrap();
                } else {
                    $spawn(async move { link(done, n - 1) });
                }
            }
            let start = Instant::now();
            for _ in 0..iters {
                match workload {
                    "spawn_many_local" => {
                        let (tx, rx) = mpsc::sync_channel::<()>(1);
                        let rem = Arc::new(AtomicUsize::new(10_000));
                        rt.block_on(async {
                            for _ in 0..10_000 {
                                let (tx, rem) = (tx.clone(), rem.clone());
                                $spawn(async move {
                                    if rem.fetch_sub(1, Relaxed) == 1 {
                                        tx.send(()).unwrap();
                                    }
                                });
                            }
                            rx.recv().unwrap();
                        });
                    }
                    "spawn_many_remote_idle"
                    | "spawn_many_remote_busy1"
                    | "spawn_many_remote_busy2" => {
                        let n = if workload.ends_with("busy2") {
                            1_000
                        } else {
                            10_000
                        };
                        let handles: Vec<_> = (0..n).map(|_| rt.spawn(async {})).collect();
                        rt.block_on(async {
                            for h in handles {
                                h.await.unwrap();
                            }
                        });
                    }
                    "yield_many" => {
                        let (tx, rx) = mpsc::sync_channel::<()>(200);
                        for _ in 0..200 {
                            let tx = tx.clone();
                            rt.spawn(async move {
                                for _ in 0..1_000 {
                                    $yield_now().await;
                                }
                                tx.send(()).unwrap();
                            });
                        }
                        for _ in 0..200 {
                            rx.recv().unwrap();
                        }
                    }
                    "ping_pong" => {
                        let (done_tx, done_rx) = mpsc::sync_channel::<()>(1);
                        let rem = Arc::new(AtomicUsize::new(1_000));
                        rt.block_on(async {
                            $spawn(async move {
                                for _ in 0..1_000 {
                                    let (done_tx, rem) = (done_tx.clone(), rem.clone());
                                    $spawn(async move {
                                        use futures_channel::oneshot;
                                        let (ping_tx, ping_rx) = oneshot::channel::<()>();
                                        let (pong_tx, pong_rx) = oneshot::channel::<()>();
                                        $spawn(async move {
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
                    }
                    "chained_spawn" => {
                        let (done_tx, done_rx) = mpsc::sync_channel::<()>(1);
                        rt.block_on(async {
                            $spawn(async move { link(done_tx, 1_000) });
                            done_rx.recv().unwrap();
                        });
                    }
                    other => panic!("unknown workload {other}"),
                }
            }
            let per = start.elapsed() / iters as u32;
            flag.store(false, Relaxed);
            println!("{workload}: {per:?} per iteration ({iters} iterations)");
        }
    };
}

/// filch's runtime; `FILCH_GLOBAL_QUEUE_INTERVAL` overrides the interval at
/// which workers look at the injector first (to test how the remote-spawn
/// workloads depend on it).
fn filch_rt() -> filch_executor::Executor {
    let mut b = filch_executor::Builder::new();
    b.worker_threads(WORKERS);
    if let Ok(v) = std::env::var("FILCH_GLOBAL_QUEUE_INTERVAL") {
        b.global_queue_interval(v.parse().expect("FILCH_GLOBAL_QUEUE_INTERVAL"));
    }
    b.build().unwrap()
}

workloads!(
    run_filch,
    filch_rt(),
    filch_executor::spawn,
    filch_executor::yield_now
);

workloads!(
    run_tokio,
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .unwrap(),
    tokio::spawn,
    tokio::task::yield_now
);

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(rt), Some(workload)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: rt_workload <filch|tokio> <workload> [iterations]");
        std::process::exit(2);
    };
    let iters = args.get(3).map_or(100, |s| s.parse().expect("iterations"));
    match rt.as_str() {
        "filch" => run_filch(workload, iters),
        "tokio" => run_tokio(workload, iters),
        other => panic!("unknown runtime {other}"),
    }
}

//! The scheduler workloads of tokio's `benches/rt_multi_threaded.rs`,
//! written once and instantiated per runtime (`filch`, `tokio`, `smol`
//! modules, one per `crate::sides` side). Shared by the criterion bench
//! `benches/rt_multi_threaded.rs`, the `compare` binary and the profiling
//! driver `examples/rt_workload.rs`.
//!
//! * `spawn_many_local`: inside `block_on`, spawn 10,000 empty tasks; the
//!   last one to finish signals a std channel that the `block_on` future
//!   waits on.
//! * `spawn_many_remote`: spawn `n` tasks from outside the runtime, then
//!   `block_on` awaiting every join handle; with `Busy::Idle` (idle
//!   workers, 10,000 tasks), `Busy::Yielding` (`2 * workers` background
//!   tasks loop on `yield_now` + a 10 µs stall) or `Busy::Spawning`
//!   (`workers` background chains spawn a successor that stalls 10 µs).
//! * `yield_many`: 200 tasks spawned from outside, each yielding 1,000 times.
//! * `ping_pong`: one task spawns 1,000 tasks; each spawns a partner and
//!   they exchange two oneshot messages (the runtime family's own oneshot).
//! * `chained_spawn`: a chain of 1,000 tasks, each spawning the next.
//!
//! Each function returns a checksum of what its tasks produced (a count or
//! a sum), the same on every runtime, so a harness can tell a runtime that
//! lost or duplicated work. Owns the workload code only: runtimes are built
//! by the caller (`Rt::new`), measurement is the caller's.

use std::time::{Duration, Instant};

pub const NUM_SPAWN: usize = 10_000;
pub const BUSY2_SPAWN: usize = 1_000;
pub const YIELD_TASKS: usize = 200;
pub const NUM_YIELD: usize = 1_000;
pub const NUM_PINGS: usize = 1_000;
pub const CHAIN: usize = 1_000;
const STALL: Duration = Duration::from_micros(10);

/// What keeps the workers busy while the bench thread spawns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Busy {
    Idle,
    /// `2 * workers` tasks looping on `yield_now` + stall.
    Yielding,
    /// `workers` chains of tasks, each spawning its stalling successor.
    Spawning,
}

/// Burns `STALL` of CPU time the way tokio's bench does (yielding the
/// thread in a loop).
pub fn stall() {
    let start = Instant::now();
    while start.elapsed() < STALL {
        std::thread::yield_now();
    }
}

/// The background load of `start_background`: runs until dropped.
#[derive(Debug)]
pub struct Background(pub std::sync::Arc<std::sync::atomic::AtomicBool>);

impl Drop for Background {
    fn drop(&mut self) {
        self.0.store(false, std::sync::atomic::Ordering::Relaxed);
    }
}

/// Sum of `0..n`, the checksum of the workloads whose tasks return their
/// index.
pub fn sum_below(n: usize) -> u64 {
    (n as u64) * (n as u64).saturating_sub(1) / 2
}

macro_rules! sched_workloads {
    ($m:ident, $side:path) => {
        pub mod $m {
            use super::*;
            use std::sync::atomic::Ordering::Relaxed;
            use std::sync::atomic::{AtomicBool, AtomicUsize};
            use std::sync::{Arc, mpsc};
            use $side::{Rt, detach, spawn_detached, sync, yield_now};

            /// Checksum: `NUM_SPAWN` (the tasks that ran).
            pub fn spawn_many_local(rt: &Rt) -> u64 {
                let (tx, rx) = mpsc::sync_channel::<()>(1);
                let rem = Arc::new(AtomicUsize::new(NUM_SPAWN));
                rt.block_on(async {
                    for _ in 0..NUM_SPAWN {
                        let (tx, rem) = (tx.clone(), rem.clone());
                        spawn_detached(async move {
                            if rem.fetch_sub(1, Relaxed) == 1 {
                                tx.send(()).unwrap();
                            }
                        });
                    }
                    rx.recv().unwrap();
                });
                (NUM_SPAWN - rem.load(Relaxed)) as u64
            }

            /// Checksum: the sum of the tasks' outputs, `sum_below(n)`.
            pub fn spawn_many_remote(rt: &Rt, n: usize) -> u64 {
                let handles: Vec<_> = (0..n).map(|i| rt.spawn(async move { i })).collect();
                rt.block_on(async {
                    let mut sum = 0u64;
                    for h in handles {
                        sum += h.await as u64;
                    }
                    sum
                })
            }

            /// Starts the background load of `busy`; it runs until the
            /// returned guard is dropped.
            pub fn start_background(rt: &Rt, busy: Busy, workers: usize) -> Background {
                fn chain(flag: Arc<AtomicBool>) {
                    spawn_detached(async move {
                        if flag.load(Relaxed) {
                            stall();
                            chain(flag);
                        }
                    });
                }
                let flag = Arc::new(AtomicBool::new(true));
                match busy {
                    Busy::Idle => {}
                    Busy::Yielding => {
                        for _ in 0..2 * workers {
                            let flag = flag.clone();
                            detach(rt.spawn(async move {
                                while flag.load(Relaxed) {
                                    yield_now().await;
                                    stall();
                                }
                            }));
                        }
                    }
                    Busy::Spawning => {
                        for _ in 0..workers {
                            let flag = flag.clone();
                            detach(rt.spawn(async move { chain(flag) }));
                        }
                    }
                }
                Background(flag)
            }

            /// Checksum: `YIELD_TASKS * NUM_YIELD` (the yields that returned).
            pub fn yield_many(rt: &Rt) -> u64 {
                let (tx, rx) = mpsc::sync_channel::<usize>(YIELD_TASKS);
                for _ in 0..YIELD_TASKS {
                    let tx = tx.clone();
                    detach(rt.spawn(async move {
                        let mut n = 0;
                        for _ in 0..NUM_YIELD {
                            yield_now().await;
                            n += 1;
                        }
                        tx.send(n).unwrap();
                    }));
                }
                (0..YIELD_TASKS).map(|_| rx.recv().unwrap() as u64).sum()
            }

            /// Checksum: the sum of the pongs, `sum_below(NUM_PINGS + 1)`
            /// (pair `i` pings `i` and gets `i + 1` back).
            pub fn ping_pong(rt: &Rt) -> u64 {
                let (done_tx, done_rx) = mpsc::sync_channel::<()>(1);
                let rem = Arc::new(AtomicUsize::new(NUM_PINGS));
                let sum = Arc::new(AtomicUsize::new(0));
                let total = sum.clone();
                rt.block_on(async move {
                    spawn_detached(async move {
                        for i in 0..NUM_PINGS {
                            let (done_tx, rem, sum) = (done_tx.clone(), rem.clone(), sum.clone());
                            spawn_detached(async move {
                                let (ping_tx, ping_rx) = sync::oneshot::channel::<usize>();
                                let (pong_tx, pong_rx) = sync::oneshot::channel::<usize>();
                                spawn_detached(async move {
                                    let i = ping_rx.await.unwrap();
                                    pong_tx.send(i + 1).unwrap();
                                });
                                ping_tx.send(i).unwrap();
                                let pong = pong_rx.await.unwrap();
                                sum.fetch_add(pong, Relaxed);
                                if rem.fetch_sub(1, Relaxed) == 1 {
                                    done_tx.send(()).unwrap();
                                }
                            });
                        }
                    });
                    done_rx.recv().unwrap();
                });
                total.load(Relaxed) as u64
            }

            fn link(done: mpsc::SyncSender<usize>, n: usize, depth: usize) {
                if n == 0 {
                    done.send(depth).unwrap();
                } else {
                    spawn_detached(async move { link(done, n - 1, depth + 1) });
                }
            }

            /// Checksum: `CHAIN` (the depth the chain reached).
            pub fn chained_spawn(rt: &Rt) -> u64 {
                let (done_tx, done_rx) = mpsc::sync_channel::<usize>(1);
                rt.block_on(async {
                    spawn_detached(async move { link(done_tx, CHAIN, 0) });
                    done_rx.recv().unwrap() as u64
                })
            }
        }
    };
}

sched_workloads!(filch, crate::sides::filch);
sched_workloads!(tokio, crate::sides::tokio);
sched_workloads!(smol, crate::sides::smol);

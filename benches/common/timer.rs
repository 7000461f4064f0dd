//! The timer workloads, written once and instantiated per runtime
//! (`filch`, `tokio`, `smol` modules): shared by the criterion bench
//! `benches/timer.rs` and the `compare` binary.
//!
//! * `timeout_ready`: 1,000,000 `timeout(30 s, ready)` created, polled
//!   once (ready at once) and dropped, spread over 64 tasks so every
//!   worker is busy.
//! * `timeout_pending_once`: the same with an inner future that is pending
//!   once, so every timer is really registered and then cancelled (a
//!   server's per-request timeout).
//! * `sleeps_random`: 100,000 tasks each sleeping a fixed pseudo-random
//!   1-50 ms (the same sequence on every runtime), all completing.
//!
//! Each returns a checksum of its tasks' outputs. Owns the workload code
//! only; runtimes and measurement are the caller's.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

pub const TIMEOUTS: usize = 1_000_000;
pub const TIMEOUT_TASKS: usize = 64;
pub const SLEEPS: u64 = 100_000;
/// The longest of the random sleeps.
pub const MAX_SLEEP: Duration = Duration::from_millis(50);

/// Pending once, then ready (wakes itself).
#[derive(Debug)]
pub struct PendingOnce(pub bool);

impl Future for PendingOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

/// A fixed pseudo-random 1..=50 ms for task `i` (same on every runtime).
pub fn random_ms(i: u64) -> u64 {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    x ^= x >> 31;
    1 + x % MAX_SLEEP.as_millis() as u64
}

macro_rules! timer_workloads {
    ($m:ident, $side:path) => {
        pub mod $m {
            use super::*;
            use $side::{Rt, spawn, time};

            /// Checksum: the sum of the inner futures' outputs.
            pub fn timeout_ready(rt: &Rt) -> u64 {
                rt.block_on(async {
                    let tasks: Vec<_> = (0..TIMEOUT_TASKS)
                        .map(|_| {
                            spawn(async {
                                let mut sum = 0u64;
                                for i in 0..(TIMEOUTS / TIMEOUT_TASKS) as u64 {
                                    sum += time::timeout(Duration::from_secs(30), async { i })
                                        .await
                                        .unwrap();
                                }
                                sum
                            })
                        })
                        .collect();
                    let mut sum = 0;
                    for t in tasks {
                        sum += t.await;
                    }
                    sum
                })
            }

            /// Checksum: the timeouts that completed.
            pub fn timeout_pending_once(rt: &Rt) -> u64 {
                rt.block_on(async {
                    let tasks: Vec<_> = (0..TIMEOUT_TASKS)
                        .map(|_| {
                            spawn(async {
                                let mut n = 0u64;
                                for _ in 0..TIMEOUTS / TIMEOUT_TASKS {
                                    time::timeout(Duration::from_secs(30), PendingOnce(false))
                                        .await
                                        .unwrap();
                                    n += 1;
                                }
                                n
                            })
                        })
                        .collect();
                    let mut n = 0;
                    for t in tasks {
                        n += t.await;
                    }
                    n
                })
            }

            /// Checksum: the sum of the milliseconds slept.
            pub fn sleeps_random(rt: &Rt) -> u64 {
                rt.block_on(async {
                    let tasks: Vec<_> = (0..SLEEPS)
                        .map(|i| {
                            spawn(async move {
                                let ms = random_ms(i);
                                time::sleep(Duration::from_millis(ms)).await;
                                ms
                            })
                        })
                        .collect();
                    let mut sum = 0;
                    for t in tasks {
                        sum += t.await;
                    }
                    sum
                })
            }
        }
    };
}

timer_workloads!(filch, crate::sides::filch);
timer_workloads!(tokio, crate::sides::tokio);
timer_workloads!(smol, crate::sides::smol);

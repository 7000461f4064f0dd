//! "Don't block the event loop", from the tutorials' best practices and
//! pitfalls: `time.sleep` (or any blocking call) inside a coroutine stalls
//! every task on that thread; `asyncio.to_thread` runs it elsewhere.
//!
//! ```python
//! async def main():
//!     time.sleep(1)           # Bad: this blocks the event loop
//!     await asyncio.sleep(1)  # Good: other coroutines run meanwhile
//!     await asyncio.to_thread(blocking_io)  # Good: runs on a thread
//! ```
//!
//! filch runs tasks on several workers, so one blocked worker does not stop
//! the others; but it stops every task queued on that worker. This program
//! measures a ticker's jitter while other tasks block, and then while they
//! use `spawn_blocking` (asyncio's `to_thread`) instead.

use filch::time::{Instant, sleep};
use std::time::Duration;

/// A task that wants to run every 10 ms; returns its worst lateness.
async fn ticker(ticks: u32) -> Duration {
    let mut worst = Duration::ZERO;
    for _ in 0..ticks {
        let t = Instant::now();
        sleep(Duration::from_millis(10)).await;
        worst = worst.max(t.elapsed().saturating_sub(Duration::from_millis(10)));
    }
    worst
}

fn blocking_io() -> u64 {
    std::thread::sleep(Duration::from_millis(200)); // stands for a slow disk or a C library
    42
}

#[filch::main(worker_threads = 2)]
async fn main() {
    // Bad: block the workers themselves.
    let ticker_task = filch::spawn(ticker(30));
    let blockers: Vec<_> = (0..4)
        .map(|_| filch::spawn(async { blocking_io() }))
        .collect();
    for b in blockers {
        b.await.unwrap();
    }
    println!(
        "blocking inside tasks:  ticker worst lateness {:?}",
        ticker_task.await.unwrap()
    );

    // Good: hand blocking work to the blocking pool.
    let ticker_task = filch::spawn(ticker(30));
    let blockers: Vec<_> = (0..4).map(|_| filch::spawn_blocking(blocking_io)).collect();
    for b in blockers {
        b.await.unwrap();
    }
    println!(
        "with spawn_blocking:    ticker worst lateness {:?}",
        ticker_task.await.unwrap()
    );
}

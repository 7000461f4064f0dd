//! `asyncio.wait_for`, on filch: give up on a task that takes too long.
//!
//! ```python
//! async def long_running_task():
//!     await asyncio.sleep(5)
//!     return "Completed!"
//!
//! async def main():
//!     try:
//!         result = await asyncio.wait_for(long_running_task(), timeout=2)
//!         print(result)
//!     except asyncio.TimeoutError:
//!         print("Task took too long!")
//! ```
//!
//! then `asyncio.wait(..., timeout=...)` over tasks, which cancels nothing:
//! the caller decides what to do with the tasks still running.

use filch::ReturnWhen;
use std::time::{Duration, Instant};

async fn long_running_task() -> &'static str {
    filch::time::sleep(Duration::from_secs(5)).await;
    "Completed!"
}

#[filch::main]
async fn main() {
    let start = Instant::now();
    match filch::time::timeout(Duration::from_secs(2), long_running_task()).await {
        Ok(result) => println!("{result}"),
        Err(_) => println!("Task took too long!"),
    }
    println!("(gave up after {:.1?})\n", start.elapsed());

    // asyncio.wait(tasks, timeout=0.5): what finished, and what still runs.
    let tasks = [100u64, 300, 2_000].map(|ms| {
        filch::spawn(async move {
            filch::time::sleep(Duration::from_millis(ms)).await;
            format!("{ms} ms job")
        })
    });
    let (done, pending) =
        filch::wait_timeout(tasks, ReturnWhen::AllCompleted, Duration::from_millis(500)).await;
    for (i, result) in done {
        println!("task {i} done: {}", result.expect("no task failed"));
    }
    for (i, handle) in pending {
        println!("task {i} still running: cancelling it");
        handle.cancel();
        assert!(handle.await.unwrap_err().is_cancelled());
    }
}

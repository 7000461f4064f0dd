//! "Cancelling Tasks" from the asyncio tutorial.
//!
//! ```python
//! async def long_task():
//!     try:
//!         print("Long task started")
//!         await asyncio.sleep(10)
//!         print("Long task completed")
//!     except asyncio.CancelledError:
//!         print("Long task was cancelled!")
//!         raise
//!
//! async def main():
//!     task = asyncio.create_task(long_task())
//!     await asyncio.sleep(2)
//!     task.cancel()
//!     try:
//!         await task
//!     except asyncio.CancelledError:
//!         print("Main: task was cancelled")
//! ```
//!
//! In Rust a cancelled task is not resumed with an exception: its future is
//! dropped. Cleanup that Python writes in `except CancelledError` goes in a
//! destructor, which runs exactly when the task is cancelled (and not when
//! it completes normally, if it is disarmed).

use std::time::Duration;

/// Runs its message when dropped while still armed.
struct OnCancel(Option<&'static str>);

impl Drop for OnCancel {
    fn drop(&mut self) {
        if let Some(msg) = self.0 {
            println!("{msg}");
        }
    }
}

async fn long_task() {
    let mut on_cancel = OnCancel(Some("Long task was cancelled!"));
    println!("Long task started");
    filch::time::sleep(Duration::from_secs(10)).await;
    println!("Long task completed");
    on_cancel.0 = None;
}

#[filch::main]
async fn main() {
    let task = filch::spawn(long_task());
    // Let it run for a bit
    filch::time::sleep(Duration::from_secs(2)).await;
    // Then cancel it
    task.cancel();
    match task.await {
        Err(e) if e.is_cancelled() => println!("Main: task was cancelled"),
        other => println!("Main: task ended otherwise: {other:?}"),
    }
}

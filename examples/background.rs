//! "Running Background Tasks" from the asyncio tutorial: a worker loops in
//! the background while main does its own work.
//!
//! ```python
//! async def main():
//!     background_task = asyncio.create_task(background_worker())
//!     await asyncio.sleep(5)
//!     print("Main logic completed")
//!     await background_task
//!
//! async def background_worker():
//!     while True:
//!         print("Background worker running...")
//!         await asyncio.sleep(1)
//! ```
//!
//! As in the original, awaiting a worker that loops forever never returns,
//! so this program (like the Python one) runs until interrupted. Pass
//! `--stop` to cancel the worker once main's logic completes instead, which
//! is what a real program does.

use std::time::Duration;

async fn background_worker() {
    loop {
        println!("Background worker running...");
        filch::time::sleep(Duration::from_secs(1)).await;
    }
}

#[filch::main]
async fn main() {
    let background_task = filch::spawn(background_worker());
    filch::time::sleep(Duration::from_secs(5)).await;
    println!("Main logic completed");
    if std::env::args().any(|a| a == "--stop") {
        background_task.cancel();
        let stopped = background_task.await.unwrap_err();
        println!("Background worker stopped: {stopped}");
    } else {
        let _ = background_task.await;
    }
}

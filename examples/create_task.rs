//! "Working with Tasks" from the asyncio tutorial: start a task, do other
//! work while it runs, then await its result.
//!
//! ```python
//! async def fetch_data():
//!     print("Start fetching data")
//!     await asyncio.sleep(2)
//!     print("Data fetched")
//!     return {"data": "important stuff"}
//!
//! async def main():
//!     print("Creating task")
//!     task = asyncio.create_task(fetch_data())
//!     print("Doing other work")
//!     await asyncio.sleep(1)
//!     print("Still working...")
//!     result = await task
//!     print(f"Got result: {result}")
//! ```

use std::collections::HashMap;
use std::time::Duration;

async fn fetch_data() -> HashMap<&'static str, &'static str> {
    println!("Start fetching data");
    filch::time::sleep(Duration::from_secs(2)).await;
    println!("Data fetched");
    HashMap::from([("data", "important stuff")])
}

#[filch::main]
async fn main() {
    println!("Creating task");
    let task = filch::spawn(fetch_data());
    println!("Doing other work");
    filch::time::sleep(Duration::from_secs(1)).await;
    println!("Still working...");
    let result = task.await.expect("fetch_data panicked");
    println!("Got result: {result:?}");
}

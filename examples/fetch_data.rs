//! The first example of "Mastering Python Asynchronous Programming": await a
//! coroutine that simulates a slow operation and returns a result.
//!
//! ```python
//! async def fetch_data():
//!     print("Fetching data...")
//!     await asyncio.sleep(2)  # simulate a slow operation
//!     print("Data fetched!")
//!     return {"data": 123}
//!
//! async def main():
//!     print("Start")
//!     result = await fetch_data()
//!     print("Result:", result)
//!     print("End")
//!
//! asyncio.run(main())
//! ```

use std::collections::HashMap;
use std::time::Duration;

async fn fetch_data() -> HashMap<&'static str, i32> {
    println!("Fetching data...");
    filch::time::sleep(Duration::from_secs(2)).await; // simulate a slow operation
    println!("Data fetched!");
    HashMap::from([("data", 123)])
}

fn main() {
    // `filch::run` is `asyncio.run`: start a runtime, run main, shut down.
    filch::run(async {
        println!("Start");
        let result = fetch_data().await;
        println!("Result: {result:?}");
        println!("End");
    });
}

//! The first program of the asyncio tutorials, on filch.
//!
//! ```python
//! async def main():
//!     print("Hello")
//!     await asyncio.sleep(1)
//!     print("world")
//!
//! asyncio.run(main())
//! ```
//!
//! followed by the tutorials' next step: the same waits run concurrently as
//! tasks (`asyncio.gather`), taking as long as the longest one, not the sum.

use std::time::{Duration, Instant};

async fn say_after(delay: Duration, what: &'static str) -> &'static str {
    filch::time::sleep(delay).await;
    println!("{what}");
    what
}

#[filch::main]
async fn main() {
    println!("Hello");
    filch::time::sleep(Duration::from_secs(1)).await;
    println!("world");

    // Sequential: 0.1 s + 0.2 s = about 0.3 s ...
    let start = Instant::now();
    say_after(Duration::from_millis(100), "hello").await;
    say_after(Duration::from_millis(200), "world").await;
    println!("sequential: {:.2?}", start.elapsed());

    // ... concurrent: about max(0.1 s, 0.2 s) = 0.2 s.
    let start = Instant::now();
    let a = filch::spawn(say_after(Duration::from_millis(100), "hello"));
    let b = filch::spawn(say_after(Duration::from_millis(200), "world"));
    let results = [a.await.unwrap(), b.await.unwrap()];
    println!("{results:?}");
    println!("concurrent: {:.2?}", start.elapsed());
}

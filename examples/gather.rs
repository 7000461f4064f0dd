//! `asyncio.gather`, on filch: run coroutines concurrently and collect their
//! results in the order they were given. "Running Multiple Tasks
//! Concurrently", from "Mastering Python Asynchronous Programming":
//!
//! ```python
//! async def task(name, delay):
//!     print(f"{name} started")
//!     await asyncio.sleep(delay)
//!     print(f"{name} finished")
//!
//! async def main():
//!     await asyncio.gather(task("Task 1", 2),
//!         task("Task 2", 3),
//!         task("Task 3", 1)
//!     )
//! ```
//!
//! `gather(*coros)` over coroutines of one type is `filch::join_all`; here
//! each task also returns a result, to show that the results come back in
//! the order the tasks were given (Task 3 finishes first, Task 2 last), and
//! the whole takes 3 s, not 6.
//!
//! Then the same with a fixed number of differently typed futures
//! (`filch::join!`), with spawned tasks (running in parallel on the
//! workers), and with a `TaskGroup` (asyncio 3.11's `async with
//! TaskGroup()`), where one failure cancels the rest.

use std::time::{Duration, Instant};

async fn task(name: &'static str, delay: Duration) -> String {
    println!("{name} started");
    filch::time::sleep(delay).await;
    println!("{name} finished");
    format!("{name} result")
}

async fn say_after(delay: Duration, what: &'static str) -> &'static str {
    filch::time::sleep(delay).await;
    println!("{what}");
    what
}

#[filch::main]
async fn main() {
    // gather(*coros): any number of futures of one type, results in input
    // order although Task 3 finishes first; 3 s in all, not 6.
    let start = Instant::now();
    let results = filch::join_all([
        task("Task 1", Duration::from_secs(2)),
        task("Task 2", Duration::from_secs(3)),
        task("Task 3", Duration::from_secs(1)),
    ])
    .await;
    println!("{results:?} in {:.1?}\n", start.elapsed());

    // gather(a, b): a fixed set of futures, of any types, as a tuple.
    let start = Instant::now();
    let (word, count) = filch::join!(say_after(Duration::from_millis(300), "world"), async {
        filch::time::sleep(Duration::from_millis(100)).await;
        println!("hello");
        42
    });
    println!("({word:?}, {count}) in {:.1?}\n", start.elapsed());

    // gather over tasks: spawned tasks run in parallel on the workers and
    // each result says whether its task panicked.
    let handles: Vec<_> = (1..=3u64)
        .map(|i| filch::spawn(async move { (1..=i * 1_000_000).sum::<u64>() }))
        .collect();
    for (i, sum) in filch::join_all(handles).await.into_iter().enumerate() {
        println!(
            "task {} summed to {}",
            i + 1,
            sum.expect("no task panicked")
        );
    }
    println!();

    // async with TaskGroup(): the first failure cancels the siblings.
    let start = Instant::now();
    let mut group = filch::TaskGroup::new();
    group.spawn(async {
        Ok::<_, String>(say_after(Duration::from_millis(200), "fast child done").await)
    });
    group.spawn(async {
        filch::time::sleep(Duration::from_millis(400)).await;
        Err("the database is down".to_string())
    });
    group.spawn(async {
        Ok(say_after(Duration::from_secs(10), "slow child done (never printed)").await)
    });
    match group.join().await {
        Ok(all) => println!("group: {all:?}"),
        Err(e) => println!("group failed after {:.1?}: {e}", start.elapsed()),
    }
}

//! Debug mode, asyncio's `asyncio.run(main(), debug=True)` (or
//! `PYTHONASYNCIODEBUG=1`): it catches the most common asyncio bug, a
//! blocking call inside a coroutine, and says which task did it.
//!
//! ```python
//! async def blocker():
//!     time.sleep(0.3)          # blocks the event loop
//! asyncio.run(main(), debug=True)
//! # Executing <Task finished name='blocker' ...> took 0.301 seconds
//! ```
//!
//! Here a task blocks its worker with `std::thread::sleep`. With a slow-poll
//! threshold of 100 ms, filch's watchdog reports the poll while it is still
//! stuck, and the poll is reported again with its full duration when it
//! returns. A task that panics with nobody awaiting it is reported too
//! (asyncio's "Task exception was never retrieved"). At the end, the task
//! dump (asyncio's `all_tasks()`) and a few metrics.
//!
//! Reports go to stderr by default; this program routes them to stdout
//! with `on_debug_report`. Without any code change, `FILCH_DEBUG=1` in the
//! environment turns the same reports on for any filch program.

use filch::debug::Report;
use std::time::Duration;

fn main() {
    let rt = filch::Runtime::builder()
        .worker_threads(2)
        .slow_poll_threshold(Duration::from_millis(100))
        .on_debug_report(|report: &Report| println!("report: {report}"))
        .build()
        .expect("runtime");

    rt.block_on(async {
        let server = filch::task::Builder::new()
            .name("server")
            .spawn(std::future::pending::<()>());

        // Bad: blocks its worker for 300 ms.
        let blocker = filch::task::Builder::new().name("blocker").spawn(async {
            std::thread::sleep(Duration::from_millis(300));
        });
        blocker.await.unwrap();

        // Good: the same wait, asynchronously; nothing is reported.
        filch::task::Builder::new()
            .name("sleeper")
            .spawn(filch::time::sleep(Duration::from_millis(300)))
            .await
            .unwrap();

        // A panic nobody will ever await.
        drop(
            filch::task::Builder::new()
                .name("forgotten")
                .spawn(async { panic!("lost connection") }),
        );
        while filch::runtime::Handle::current().metrics().live_tasks() > 1 {
            filch::time::sleep(Duration::from_millis(1)).await;
        }

        println!("task dump:");
        print!("{}", filch::runtime::Handle::current().dump());
        let m = filch::runtime::Handle::current().metrics();
        println!(
            "metrics: {} tasks spawned, {} polls on the workers, {} steals, {} parks",
            m.spawned_tasks(),
            m.poll_count(),
            m.steal_count(),
            m.park_count()
        );
        server.cancel();
    });
}

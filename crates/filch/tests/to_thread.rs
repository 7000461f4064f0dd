//! `spawn_blocking` (asyncio's `to_thread`) and virtual time: a closure
//! queued or running on the blocking pool keeps the runtime from counting
//! as idle, so a paused clock does not jump over it.

use filch::time::{Instant, sleep, timeout};
use std::time::Duration;

#[filch::test(start_paused = true)]
async fn paused_time_waits_for_a_running_closure() {
    let (tx, rx) = std::sync::mpsc::channel::<u32>();
    // The closure blocks until another thread answers, a real-time wait the
    // runtime cannot see through: while it runs, virtual time must stand
    // still, so the hour-long timeout cannot fire before the answer.
    let answer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(30));
        tx.send(7).unwrap();
    });
    let start = Instant::now();
    let got = timeout(
        Duration::from_secs(3600),
        filch::spawn_blocking(move || rx.recv().unwrap()),
    )
    .await;
    assert_eq!(got.unwrap().unwrap(), 7);
    assert_eq!(start.elapsed(), Duration::ZERO);
    answer.join().unwrap();
    // Once the pool is done, time jumps again.
    sleep(Duration::from_secs(60)).await;
    assert_eq!(start.elapsed(), Duration::from_secs(60));
}

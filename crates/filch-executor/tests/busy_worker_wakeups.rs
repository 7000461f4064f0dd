//! A worker stuck in one long poll makes the others wake up only when there
//! is something to rescue: with its LIFO slot empty, the parked workers park
//! without a timeout (before, they watched it with a 1 ms timer for as long
//! as it was busy). Counted as this process's voluntary context switches
//! (every timed wake-up of a parked worker is one), in a test binary of its
//! own so no other test's threads add to the count.

use std::time::{Duration, Instant};

fn voluntary_context_switches() -> i64 {
    // SAFETY: all-zero is a valid `rusage` (plain integers).
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `usage` is a valid, writable `rusage`.
    let rc = unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut usage) };
    assert_eq!(rc, 0);
    usage.ru_nvcsw
}

#[test]
fn a_busy_worker_with_an_empty_lifo_slot_is_not_watched() {
    let rt = filch_executor::Builder::new()
        .worker_threads(2)
        .lifo_steal_delay(Some(Duration::from_millis(1)))
        .build()
        .unwrap();
    let (started_tx, started_rx) = std::sync::mpsc::channel();
    let busy = rt.spawn(async move {
        started_tx.send(()).unwrap();
        let start = Instant::now();
        // 300 ms in one poll, nothing in the LIFO slot.
        while start.elapsed() < Duration::from_millis(300) {
            std::hint::spin_loop();
        }
    });
    started_rx.recv().unwrap();
    let before = voluntary_context_switches();
    rt.block_on(busy).unwrap();
    let switches = voluntary_context_switches() - before;
    // A watcher on a 1 ms timer would switch ~300 times; what is left is
    // the main thread blocking and the hand-back of the result.
    assert!(
        switches < 60,
        "{switches} voluntary context switches while one worker was busy for 300 ms"
    );
}

//! An idle runtime burns no CPU: no timed polling loop runs while nothing is
//! pending. Measured as this process's CPU time (not wall time), so a
//! loaded machine cannot make the test fail.

use std::time::Duration;

fn process_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0);
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

#[test]
fn idle_runtime_uses_no_cpu() {
    let rt = filch_executor::Builder::new()
        .worker_threads(4)
        .build()
        .unwrap();
    // Some work first, including a LIFO hand-off (which starts a watcher
    // while a worker is busy), then nothing.
    rt.block_on(async {
        let hs: Vec<_> = (0..1000)
            .map(|i| {
                filch_executor::spawn(async move {
                    filch_executor::spawn(async move { i }).await.unwrap()
                })
            })
            .collect();
        for h in hs {
            h.await.unwrap();
        }
    });
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while rt.handle().num_unparked_workers() != 0 {
        assert!(std::time::Instant::now() < deadline, "workers never parked");
        std::thread::yield_now();
    }
    let before = process_cpu_time();
    std::thread::sleep(Duration::from_millis(500));
    let used = process_cpu_time() - before;
    // A 1 ms polling loop on 4 workers would burn tens of milliseconds here.
    assert!(
        used < Duration::from_millis(10),
        "idle runtime used {used:?} of CPU in 500 ms"
    );
}

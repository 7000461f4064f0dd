//! Behaviour of sleep, interval, timeout and virtual time on the
//! multi-thread runtime.

use filch_executor::{JoinHandle, spawn, yield_now};
use filch_timer::{
    Instant, MissedTickBehavior, advance, interval, interval_at, pause, sleep, sleep_until,
    test_runtime, timeout, timeout_at,
};
use std::future::Future;
use std::pin::{Pin, pin};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::task::{Context, Poll};
use std::time::Duration;

const MS: Duration = Duration::from_millis(1);

async fn join_all<T>(handles: Vec<JoinHandle<T>>) -> Vec<T> {
    let mut out = Vec::with_capacity(handles.len());
    for h in handles {
        out.push(h.await.unwrap());
    }
    out
}

#[test]
fn zero_duration_is_ready_at_once() {
    let rt = test_runtime(1, false);
    rt.block_on(async {
        let mut s = pin!(sleep(Duration::ZERO));
        let waker = std::task::Waker::noop();
        assert!(s.as_mut().poll(&mut Context::from_waker(waker)).is_ready());
        assert!(s.is_elapsed());
    });
}

#[test]
fn past_deadlines_fire_at_once() {
    let rt = test_runtime(1, false);
    rt.block_on(async {
        let past = Instant::now() - Duration::from_secs(5);
        let mut s = pin!(sleep_until(past));
        let waker = std::task::Waker::noop();
        assert!(s.as_mut().poll(&mut Context::from_waker(waker)).is_ready());
        assert!(
            timeout_at(past, std::future::pending::<()>())
                .await
                .is_err()
        );
    });
}

#[test]
fn duration_max_means_never_and_does_not_overflow() {
    let rt = test_runtime(2, true);
    rt.block_on(async {
        let s = sleep(Duration::MAX);
        assert!(s.deadline() > Instant::now() + Duration::from_secs(86_400 * 365 * 10));
        // A timeout of Duration::MAX behaves like no timeout at all.
        assert_eq!(timeout(Duration::MAX, async { 3 }).await, Ok(3));
        // Racing "never" against a short sleep: the short one wins, even
        // with virtual time jumping ahead.
        let never = spawn(async move {
            s.await;
            "never fired"
        });
        sleep(Duration::from_secs(86_400 * 365)).await;
        assert!(!never.is_finished());
        never.cancel();
        assert!(never.await.unwrap_err().is_cancelled());
        // Far deadlines past the wheel's range.
        let far = Instant::now() + Duration::from_secs(86_400 * 365 * 5);
        let s = spawn(sleep_until(far));
        assert!(
            timeout(Duration::from_secs(86_400 * 365 * 4), async {
                sleep_until(far).await
            })
            .await
            .is_err()
        );
        s.await.unwrap();
        assert!(Instant::now() >= far);
    });
}

#[test]
fn a_sleep_never_completes_before_its_deadline() {
    let rt = test_runtime(2, false);
    let early = rt.block_on(async {
        let handles: Vec<_> = (0..200u64)
            .map(|i| {
                spawn(async move {
                    let d = Duration::from_micros(100 + (i * 137) % 20_000);
                    let deadline = Instant::now() + d;
                    sleep_until(deadline).await;
                    // Checked on the std clock, which the runtime clock
                    // equals while not paused.
                    std::time::Instant::now() < deadline.into_std()
                })
            })
            .collect();
        join_all(handles).await.into_iter().filter(|&e| e).count()
    });
    assert_eq!(early, 0);
}

#[test]
fn sleep_from_block_on_thread_wakes_a_parked_worker() {
    // The block_on thread is not a worker: its timer goes to some worker's
    // wheel, and that (parked) worker must wake up for it.
    let rt = test_runtime(2, false);
    for _ in 0..20 {
        let start = Instant::now();
        rt.block_on(sleep(2 * MS));
        assert!(start.elapsed() >= 2 * MS);
    }
}

#[test]
fn reset_earlier_and_later_in_virtual_time() {
    let rt = test_runtime(2, true);
    rt.block_on(async {
        let start = Instant::now();
        let mut s = pin!(sleep(Duration::from_secs(100)));
        // Register it, then move it earlier.
        assert!(timeout(Duration::from_secs(1), s.as_mut()).await.is_err());
        s.as_mut().reset(start + Duration::from_secs(10));
        s.as_mut().await;
        assert_eq!(Instant::now() - start, Duration::from_secs(10));
        // A completed sleep reset later waits again.
        s.as_mut().reset(start + Duration::from_secs(50));
        assert!(!s.is_elapsed());
        s.as_mut().await;
        assert_eq!(Instant::now() - start, Duration::from_secs(50));
        // Reset into the past: ready at once.
        s.as_mut().reset(start);
        s.as_mut().await;
        assert_eq!(Instant::now() - start, Duration::from_secs(50));
    });
}

#[test]
fn reset_from_another_thread_wakes_the_owning_worker() {
    // The sleep is registered on a worker, then moved (inside a mutex) to a
    // foreign thread that resets it earlier: the parked owner must wake and
    // fire it at the new deadline, well before the old one.
    let rt = test_runtime(2, false);
    let slot: Arc<parking_lot::Mutex<Option<Pin<Box<filch_timer::Sleep>>>>> = Arc::default();
    let (tx, rx) = std::sync::mpsc::channel();
    let slot2 = slot.clone();
    let waiter = rt.spawn(async move {
        let mut s = Box::pin(sleep(Duration::from_secs(3600)));
        // Register on this worker.
        let waker = std::task::Waker::noop();
        assert!(
            s.as_mut()
                .poll(&mut Context::from_waker(waker))
                .is_pending()
        );
        *slot2.lock() = Some(s);
        tx.send(()).unwrap();
        // Now wait on it through the shared slot.
        std::future::poll_fn(|cx| match slot2.lock().as_mut() {
            Some(s) => s.as_mut().poll(cx),
            None => Poll::Ready(()),
        })
        .await;
        Instant::now()
    });
    rx.recv().unwrap();
    let start = Instant::now();
    std::thread::spawn(move || {
        let mut guard = slot.lock();
        guard
            .as_mut()
            .unwrap()
            .as_mut()
            .reset(Instant::now() + 5 * MS);
    })
    .join()
    .unwrap();
    let fired_at = rt.block_on(waiter).unwrap();
    assert!(fired_at >= start + 5 * MS);
    assert!(fired_at < start + Duration::from_secs(60));
}

#[test]
fn dropping_a_sleep_on_another_thread() {
    let rt = test_runtime(2, false);
    let (tx, rx) = std::sync::mpsc::channel::<Pin<Box<filch_timer::Sleep>>>();
    rt.block_on(async move {
        spawn(async move {
            for _ in 0..100 {
                let mut s = Box::pin(sleep(Duration::from_secs(60)));
                let waker = std::task::Waker::noop();
                assert!(
                    s.as_mut()
                        .poll(&mut Context::from_waker(waker))
                        .is_pending()
                );
                tx.send(s).unwrap();
            }
        })
        .await
        .unwrap();
    });
    let dropper = std::thread::spawn(move || {
        let mut n = 0;
        while let Ok(s) = rx.recv() {
            drop(s);
            n += 1;
        }
        n
    });
    assert_eq!(dropper.join().unwrap(), 100);
    // The wheels hold nothing any more, and the runtime still works.
    let timer = rt
        .handle()
        .driver::<filch_timer::TimerHandle>()
        .unwrap()
        .clone();
    assert_eq!(timer.num_registered(), 0);
    rt.block_on(sleep(MS));
}

#[test]
fn unpolled_sleeps_and_ready_timeouts_touch_no_wheel() {
    let rt = test_runtime(2, false);
    let timer = rt
        .handle()
        .driver::<filch_timer::TimerHandle>()
        .unwrap()
        .clone();
    rt.block_on(async {
        for i in 0..10_000 {
            drop(sleep(Duration::from_secs(30)));
            assert_eq!(timeout(Duration::from_secs(30), async { i }).await, Ok(i));
        }
    });
    assert_eq!(timer.num_registered(), 0);
    rt.block_on(async {
        let mut s = pin!(sleep(Duration::from_secs(30)));
        let waker = std::task::Waker::noop();
        assert!(
            s.as_mut()
                .poll(&mut Context::from_waker(waker))
                .is_pending()
        );
        assert_eq!(timer.num_registered(), 1);
    });
    assert_eq!(timer.num_registered(), 0);
}

#[test]
fn a_million_concurrent_sleeps_complete() {
    // 10,000 tasks, each waiting on 100 sleeps at once: a million timers
    // registered concurrently, all of which must fire.
    let rt = test_runtime(2, false);
    let fired = Arc::new(AtomicUsize::new(0));
    rt.block_on(async {
        let handles: Vec<_> = (0..10_000u64)
            .map(|t| {
                let fired = fired.clone();
                spawn(async move {
                    let mut sleeps: Vec<Pin<Box<filch_timer::Sleep>>> = (0..100u64)
                        .map(|i| Box::pin(sleep(Duration::from_millis(1 + (t * 31 + i * 17) % 50))))
                        .collect();
                    std::future::poll_fn(|cx| {
                        sleeps.retain_mut(|s| {
                            if s.as_mut().poll(cx).is_ready() {
                                fired.fetch_add(1, SeqCst);
                                false
                            } else {
                                true
                            }
                        });
                        if sleeps.is_empty() {
                            Poll::Ready(())
                        } else {
                            Poll::Pending
                        }
                    })
                    .await;
                })
            })
            .collect();
        join_all(handles).await;
    });
    assert_eq!(fired.load(SeqCst), 1_000_000);
}

#[test]
fn timeout_elapses_and_drops_the_inner_future() {
    struct Guard(Arc<AtomicUsize>);
    impl Drop for Guard {
        fn drop(&mut self) {
            self.0.fetch_add(1, SeqCst);
        }
    }
    let rt = test_runtime(2, true);
    let drops = Arc::new(AtomicUsize::new(0));
    let d = drops.clone();
    rt.block_on(async move {
        let start = Instant::now();
        let g = Guard(d);
        let res = timeout(Duration::from_secs(2), async move {
            let _g = g;
            sleep(Duration::from_secs(5)).await;
            "Completed!"
        })
        .await;
        assert_eq!(res.unwrap_err().to_string(), "deadline has elapsed");
        assert_eq!(Instant::now() - start, Duration::from_secs(2));
        assert_eq!(
            timeout(Duration::from_secs(2), sleep(Duration::from_secs(1))).await,
            Ok(())
        );
    });
    assert_eq!(drops.load(SeqCst), 1);
}

#[test]
fn an_hour_long_retry_schedule_runs_instantly_and_deterministically() {
    // Exponential backoff: 1, 2, 4, ... 2048 s (about 68 minutes in total).
    let run = || {
        let rt = test_runtime(2, true);
        let wall = std::time::Instant::now();
        let stamps = rt.block_on(async {
            let start = Instant::now();
            let mut stamps = Vec::new();
            let mut delay = Duration::from_secs(1);
            for _ in 0..12 {
                sleep(delay).await;
                stamps.push((Instant::now() - start).as_secs());
                delay *= 2;
            }
            stamps
        });
        (stamps, wall.elapsed())
    };
    let (a, wall) = run();
    let (b, _) = run();
    assert_eq!(
        a,
        vec![1, 3, 7, 15, 31, 63, 127, 255, 511, 1023, 2047, 4095]
    );
    assert_eq!(a, b);
    // Not a speed claim: a guard that virtual time did not wait in real time.
    assert!(wall < Duration::from_secs(60), "{wall:?}");
}

#[test]
fn virtual_time_orders_many_tasks_exactly() {
    let rt = test_runtime(2, true);
    let order = rt.block_on(async {
        let start = Instant::now();
        let handles: Vec<_> = (0..50u64)
            .map(|i| {
                spawn(async move {
                    sleep(Duration::from_secs((i * 7919) % 101)).await;
                    (Instant::now() - start).as_secs()
                })
            })
            .collect();
        join_all(handles).await
    });
    let expected: Vec<u64> = (0..50u64).map(|i| (i * 7919) % 101).collect();
    assert_eq!(order, expected);
}

#[test]
fn pause_and_advance() {
    let rt = test_runtime(1, false);
    rt.block_on(async {
        pause();
        let start = Instant::now();
        // An absolute deadline: `sleep(d)` would start counting only when
        // the task first polls it, which may be after the advance below.
        let s = spawn(sleep_until(start + Duration::from_secs(30)));
        yield_now().await;
        advance(Duration::from_secs(10)).await;
        assert_eq!(Instant::now() - start, Duration::from_secs(10));
        assert!(!s.is_finished());
        s.await.unwrap();
        assert_eq!(Instant::now() - start, Duration::from_secs(30));
        let double = std::panic::catch_unwind(pause);
        assert!(double.is_err());
        filch_timer::resume();
    });
}

#[test]
fn interval_ticks_on_schedule_and_handles_missed_ticks() {
    let rt = test_runtime(1, true);
    rt.block_on(async {
        let p = Duration::from_secs(10);
        let start = Instant::now();
        let mut iv = interval(p);
        assert_eq!(iv.tick().await, start);
        assert_eq!(iv.tick().await, start + p);

        // Burst: after a 35 s stall, the missed ticks come back to back.
        advance(Duration::from_secs(35)).await;
        let t: Vec<_> = [iv.tick().await, iv.tick().await, iv.tick().await].into();
        assert_eq!(t, vec![start + 2 * p, start + 3 * p, start + 4 * p]);
        assert_eq!(Instant::now() - start, Duration::from_secs(45));

        // Delay: the schedule restarts from the late tick.
        let base = Instant::now();
        let mut iv = interval_at(base, p);
        iv.set_missed_tick_behavior(MissedTickBehavior::Delay);
        iv.tick().await;
        advance(Duration::from_secs(25)).await;
        assert_eq!(iv.tick().await, base + p);
        assert_eq!(iv.tick().await, base + Duration::from_secs(35));

        // Skip: the missed ticks are dropped, phase is kept.
        let base = Instant::now();
        let mut iv = interval_at(base, p);
        iv.set_missed_tick_behavior(MissedTickBehavior::Skip);
        iv.tick().await;
        advance(Duration::from_secs(25)).await;
        assert_eq!(iv.tick().await, base + p);
        assert_eq!(iv.tick().await, base + 3 * p);
    });
}

#[test]
fn relative_sleeps_start_when_first_awaited() {
    // asyncio semantics: `sleep(d)` and `timeout(d, f)` count from their
    // first poll, not from their creation.
    let rt = test_runtime(1, true);
    rt.block_on(async {
        let start = Instant::now();
        let s = sleep(Duration::from_secs(10));
        advance(Duration::from_secs(5)).await;
        s.await;
        assert_eq!(Instant::now() - start, Duration::from_secs(15));
        let absolute = sleep_until(start + Duration::from_secs(20));
        advance(Duration::from_secs(1)).await;
        absolute.await;
        assert_eq!(Instant::now() - start, Duration::from_secs(20));
    });
}

#[test]
fn timers_due_at_the_same_virtual_instant_are_all_done() {
    // Two sleeps with the same deadline, registered from two workers (so in
    // two wheels): when one wakes its task, the other is already elapsed.
    let rt = test_runtime(2, true);
    rt.block_on(async {
        for _ in 0..20 {
            let deadline = Instant::now() + Duration::from_secs(5);
            let a = spawn(async move {
                let mut s = Box::pin(sleep_until(deadline));
                // Register here, on whichever worker runs this task.
                let waker = std::task::Waker::noop();
                let _ = s.as_mut().poll(&mut Context::from_waker(waker));
                // Moved out (wrapped, so it is clearly not awaited here).
                Some(s)
            })
            .await
            .unwrap()
            .unwrap();
            // Register `b` from this (non-worker) thread: another wheel.
            let mut b = pin!(sleep_until(deadline));
            let waker = std::task::Waker::noop();
            assert!(
                b.as_mut()
                    .poll(&mut Context::from_waker(waker))
                    .is_pending()
            );
            let mut a = a;
            a.as_mut().await;
            // `a` fired: `b`, due at the same instant, must be done too.
            assert!(b.as_mut().poll(&mut Context::from_waker(waker)).is_ready());
        }
    });
}

#[test]
fn zero_period_interval_panics_with_a_clear_message() {
    let err = std::panic::catch_unwind(|| interval(Duration::ZERO)).unwrap_err();
    assert!(err.downcast_ref::<&str>().unwrap().contains("period"));
}

#[test]
fn sleep_outside_a_runtime_panics_with_guidance() {
    let err = std::panic::catch_unwind(|| {
        let mut s = pin!(sleep(Duration::from_secs(1)));
        let waker = std::task::Waker::noop();
        let _ = s.as_mut().poll(&mut Context::from_waker(waker));
    })
    .unwrap_err();
    assert!(err.downcast_ref::<String>().unwrap().contains("filch::run"));
}

//! `wait`, `TaskGroup`, `shield` and `retry`, through the facade, in virtual
//! time.

mod common;

use common::{eventually, flag, ms, secs};
use filch::time::{Instant, sleep, timeout};
use filch::{GiveUp, Jitter, RetryPolicy, ReturnWhen, TaskGroup, TaskGroupError};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn sleeper(s: u64) -> filch::task::JoinHandle<u64> {
    filch::spawn(async move {
        sleep(secs(s)).await;
        s
    })
}

fn indices<T>(pending: &[(usize, T)]) -> Vec<usize> {
    pending.iter().map(|(i, _)| *i).collect()
}

// ---------------------------------------------------------------- wait

#[filch::test(start_paused = true)]
async fn wait_first_completed() {
    let start = Instant::now();
    let (done, pending) = filch::wait([3, 1, 2].map(sleeper), ReturnWhen::FirstCompleted).await;
    assert_eq!(start.elapsed(), secs(1));
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].0, 1);
    assert_eq!(*done[0].1.as_ref().unwrap(), 1);
    assert_eq!(indices(&pending), [0, 2], "pending in input order");
    // The pending tasks were not cancelled: they still finish.
    for (i, handle) in pending {
        assert_eq!(handle.await.unwrap(), [3, 1, 2][i]);
    }
}

#[filch::test(start_paused = true)]
async fn wait_all_completed() {
    let start = Instant::now();
    let (done, pending) = filch::wait([3, 1, 2].map(sleeper), ReturnWhen::AllCompleted).await;
    assert_eq!(start.elapsed(), secs(3));
    assert!(pending.is_empty());
    let order: Vec<(usize, u64)> = done.into_iter().map(|(i, r)| (i, r.unwrap())).collect();
    assert_eq!(order, [(1, 1), (2, 2), (0, 3)], "in completion order");
}

#[filch::test(start_paused = true)]
async fn wait_first_exception_stops_at_a_panic_not_at_a_cancellation() {
    let cancelled = sleeper(1);
    cancelled.cancel();
    let panics = filch::spawn(async {
        sleep(secs(2)).await;
        if true {
            panic!("task failed at 2 s");
        }
        2
    });
    let start = Instant::now();
    let (done, pending) = filch::wait(
        [cancelled, panics, sleeper(1), sleeper(5)],
        ReturnWhen::FirstException,
    )
    .await;
    assert_eq!(
        start.elapsed(),
        secs(2),
        "neither the cancel nor the quick one ended it"
    );
    let mut done_indices: Vec<usize> = done.iter().map(|(i, _)| *i).collect();
    done_indices.sort_unstable();
    assert_eq!(done_indices, [0, 1, 2]);
    for (i, r) in &done {
        match i {
            0 => assert!(r.as_ref().unwrap_err().is_cancelled()),
            1 => assert!(r.as_ref().unwrap_err().is_panic()),
            _ => assert_eq!(*r.as_ref().unwrap(), 1),
        }
    }
    assert_eq!(indices(&pending), [3]);
}

#[filch::test(start_paused = true)]
async fn wait_first_exception_without_panics_waits_for_all() {
    let start = Instant::now();
    let (done, pending) = filch::wait([2, 1].map(sleeper), ReturnWhen::FirstException).await;
    assert_eq!(start.elapsed(), secs(2));
    assert_eq!((done.len(), pending.len()), (2, 0));
}

#[filch::test(start_paused = true)]
async fn wait_timeout_returns_what_is_done_at_the_deadline() {
    let start = Instant::now();
    let (done, pending) =
        filch::wait_timeout([1, 5, 9].map(sleeper), ReturnWhen::AllCompleted, secs(3)).await;
    assert_eq!(start.elapsed(), secs(3));
    assert_eq!(done.len(), 1);
    assert_eq!(done[0].0, 0);
    assert_eq!(indices(&pending), [1, 2]);
    let (done, pending) =
        filch::wait_timeout([1].map(sleeper), ReturnWhen::AllCompleted, secs(3)).await;
    assert_eq!(
        (done.len(), pending.len()),
        (1, 0),
        "done before the deadline"
    );
}

#[filch::test(start_paused = true)]
async fn wait_moves_every_finished_task_to_done() {
    // Two tasks have finished before the wait starts: FirstCompleted stops
    // at the first it sees, and reports the other one too.
    let quick = [filch::spawn(async { 0 }), filch::spawn(async { 0 })];
    eventually("both quick tasks finish", || {
        quick.iter().all(|h| h.is_finished())
    })
    .await;
    let [a, b] = quick;
    let (done, pending) = filch::wait([a, b, sleeper(4)], ReturnWhen::FirstCompleted).await;
    let d: Vec<usize> = done.iter().map(|(i, _)| *i).collect();
    assert_eq!(d, [0, 1]);
    assert_eq!(indices(&pending), [2]);
}

#[filch::test]
async fn wait_on_nothing_returns_at_once() {
    let (done, pending) = filch::wait(
        Vec::<filch::task::JoinHandle<()>>::new(),
        ReturnWhen::AllCompleted,
    )
    .await;
    assert!(done.is_empty() && pending.is_empty());
}

// ---------------------------------------------------------------- TaskGroup

#[filch::test(start_paused = true)]
async fn task_group_collects_values_in_spawn_order() {
    let mut group = TaskGroup::new();
    for s in [3u64, 1, 2] {
        group.spawn(async move {
            sleep(secs(s)).await;
            Ok::<_, String>(s * 10)
        });
    }
    assert_eq!(group.len(), 3);
    let start = Instant::now();
    assert_eq!(group.join().await.unwrap(), [30, 10, 20]);
    assert_eq!(start.elapsed(), secs(3), "children run in parallel");
}

#[filch::test(start_paused = true)]
async fn task_group_children_are_tasks_running_in_parallel() {
    // Two children that each block their worker thread: with two workers,
    // they overlap in real time, which only spawned tasks can do.
    let inside = Arc::new(AtomicUsize::new(0));
    let overlapped = Arc::new(AtomicBool::new(false));
    let mut group = TaskGroup::new();
    for _ in 0..2 {
        let (inside, overlapped) = (inside.clone(), overlapped.clone());
        group.spawn(async move {
            inside.fetch_add(1, SeqCst);
            let t = std::time::Instant::now();
            while t.elapsed() < std::time::Duration::from_secs(5) {
                if inside.load(SeqCst) == 2 {
                    overlapped.store(true, SeqCst);
                    break;
                }
                std::thread::yield_now();
            }
            Ok::<_, ()>(())
        });
    }
    group.join().await.unwrap();
    assert!(
        overlapped.load(SeqCst),
        "both children ran at the same time"
    );
}

#[filch::test(start_paused = true)]
async fn task_group_first_err_cancels_siblings_and_join_waits_for_them() {
    let (a_dropped, a_guard) = flag();
    let (b_dropped, b_guard) = flag();
    let a_finished = Arc::new(AtomicBool::new(false));
    let mut group = TaskGroup::new();
    let a_done = a_finished.clone();
    group.spawn(async move {
        let _g = a_guard;
        sleep(secs(100)).await;
        a_done.store(true, SeqCst);
        Ok(1)
    });
    group.spawn(async {
        sleep(secs(2)).await;
        Err("child 1 failed at 2 s")
    });
    group.spawn(async move {
        let _g = b_guard;
        sleep(secs(50)).await;
        Err("child 2 would fail at 50 s")
    });
    let start = Instant::now();
    let err = group.join().await.unwrap_err();
    assert_eq!(start.elapsed(), secs(2));
    assert!(err.is_failed());
    assert_eq!(
        err.to_string(),
        "a task in the group failed: child 1 failed at 2 s"
    );
    assert_eq!(err.into_failed(), Some("child 1 failed at 2 s"));
    assert!(
        a_dropped.load(SeqCst) && b_dropped.load(SeqCst),
        "siblings finished before join returned"
    );
    assert!(
        !a_finished.load(SeqCst),
        "and were cancelled, not run to the end"
    );
}

#[filch::test(start_paused = true)]
async fn task_group_reports_the_first_failure_of_several() {
    let mut group = TaskGroup::<(), String>::new();
    for (s, fail) in [(3, true), (1, true), (2, false)] {
        group.spawn(async move {
            sleep(secs(s)).await;
            if fail {
                Err(format!("failed at {s} s"))
            } else {
                Ok(())
            }
        });
    }
    let err = group.join().await.unwrap_err();
    assert_eq!(err.into_failed().unwrap(), "failed at 1 s");
}

#[filch::test(start_paused = true)]
async fn task_group_child_panic_is_a_failure_with_its_payload() {
    let (sibling_dropped, guard) = flag();
    let mut group = TaskGroup::<u8, std::io::Error>::new();
    group.spawn(async move {
        let _g = guard;
        sleep(secs(60)).await;
        Ok(1)
    });
    group.spawn(async {
        sleep(secs(1)).await;
        panic!("child exploded");
    });
    let err = group.join().await.unwrap_err();
    assert!(err.is_panic(), "{err:?}");
    assert!(sibling_dropped.load(SeqCst));
    assert!(err.to_string().contains("child exploded"), "{err}");
    let source = std::error::Error::source(&err).unwrap();
    assert!(source.to_string().contains("panicked"), "{source}");
    assert_eq!(
        err.into_panic().downcast_ref::<&str>(),
        Some(&"child exploded")
    );
}

#[filch::test(start_paused = true)]
async fn task_group_failure_cancels_siblings_before_join_is_called() {
    let (sibling_dropped, guard) = flag();
    let mut group = TaskGroup::<(), &str>::new();
    group.spawn(async move {
        let _g = guard;
        sleep(secs(100)).await;
        Ok(())
    });
    group.spawn(async {
        sleep(secs(1)).await;
        Err("boom")
    });
    // The parent is busy elsewhere; nobody is joining yet.
    sleep(secs(2)).await;
    assert!(group.has_failed());
    assert!(
        sibling_dropped.load(SeqCst),
        "cancelled as soon as the sibling failed"
    );
    // A child spawned into a failed group is cancelled before it runs.
    let ran = Arc::new(AtomicBool::new(false));
    let r = ran.clone();
    group.spawn(async move {
        r.store(true, SeqCst);
        Ok(())
    });
    assert_eq!(group.join().await.unwrap_err().into_failed(), Some("boom"));
    assert!(!ran.load(SeqCst), "the late child never ran");
}

#[filch::test(start_paused = true)]
async fn dropping_a_task_group_cancels_its_children() {
    let flags: Vec<_> = (0..4).map(|_| flag()).collect();
    let finished = Arc::new(AtomicUsize::new(0));
    let mut seen = Vec::new();
    {
        let mut group = TaskGroup::<(), ()>::new();
        for (f, guard) in flags {
            seen.push(f);
            let finished = finished.clone();
            group.spawn(async move {
                let _g = guard;
                sleep(secs(10)).await;
                finished.fetch_add(1, SeqCst);
                Ok(())
            });
        }
        sleep(secs(1)).await;
        // Never joined: dropped here.
    }
    eventually("every child's future is dropped", || {
        seen.iter().all(|f| f.load(SeqCst))
    })
    .await;
    sleep(secs(20)).await;
    assert_eq!(finished.load(SeqCst), 0, "no child outlived its group");
}

#[filch::test(start_paused = true)]
async fn dropping_the_join_future_cancels_the_children() {
    let (dropped, guard) = flag();
    let mut group = TaskGroup::<(), ()>::new();
    group.spawn(async move {
        let _g = guard;
        sleep(secs(10)).await;
        Ok(())
    });
    group.spawn(async { Ok(()) });
    assert!(timeout(secs(1), group.join()).await.is_err());
    eventually("the child is cancelled", || dropped.load(SeqCst)).await;
}

#[filch::test]
async fn empty_task_group_joins_at_once() {
    let group = TaskGroup::<u8, ()>::default();
    assert!(group.is_empty());
    assert_eq!(group.join().await.unwrap(), Vec::<u8>::new());
}

#[test]
fn task_group_error_is_an_error_with_a_source() {
    let e: TaskGroupError<std::io::Error> = TaskGroupError::Failed(std::io::Error::other("disk"));
    let as_error: &dyn std::error::Error = &e;
    assert_eq!(as_error.to_string(), "a task in the group failed: disk");
    assert_eq!(as_error.source().unwrap().to_string(), "disk");
}

// ---------------------------------------------------------------- shield

#[filch::test(start_paused = true)]
async fn shield_survives_the_cancellation_of_its_awaiter() {
    let saved = Arc::new(AtomicBool::new(false));
    let s = saved.clone();
    let task = filch::spawn(async move {
        sleep(secs(5)).await;
        s.store(true, SeqCst);
        "saved"
    });
    let id = task.id();
    // The awaiting side times out after 1 s and drops the shield.
    assert!(timeout(secs(1), filch::shield(task)).await.is_err());
    assert!(!saved.load(SeqCst));
    sleep(secs(5)).await;
    assert!(
        saved.load(SeqCst),
        "the task ran to completion anyway ({id})"
    );
}

#[filch::test(start_paused = true)]
async fn shield_can_be_awaited_again_after_a_timeout() {
    let mut shielded = filch::shield(sleeper(3));
    assert!(timeout(secs(1), &mut shielded).await.is_err());
    assert!(!shielded.is_finished());
    let start = Instant::now();
    assert_eq!(shielded.await.unwrap(), 3);
    assert_eq!(start.elapsed(), secs(2));
}

#[filch::test(start_paused = true)]
async fn shield_losing_a_select_does_not_cancel_the_task() {
    let done = Arc::new(AtomicBool::new(false));
    let d = done.clone();
    let task = filch::spawn(async move {
        sleep(secs(2)).await;
        d.store(true, SeqCst);
    });
    filch::select! {
        _ = filch::shield(task) => panic!("the timer should win"),
        _ = sleep(secs(1)) => {}
    }
    assert!(!done.load(SeqCst));
    sleep(secs(2)).await;
    assert!(done.load(SeqCst), "the shielded task finished at 2 s");
}

// ---------------------------------------------------------------- retry

/// An operation that fails `failures` times, recording when each attempt
/// started.
type Starts = Arc<Mutex<Vec<Instant>>>;

fn flaky(
    failures: u32,
) -> (
    Starts,
    impl FnMut() -> std::future::Ready<Result<u32, String>>,
) {
    let starts = Arc::new(Mutex::new(Vec::new()));
    let calls = AtomicU32::new(0);
    let s = starts.clone();
    let op = move || {
        s.lock().unwrap().push(Instant::now());
        let n = calls.fetch_add(1, SeqCst);
        std::future::ready(if n < failures {
            Err(format!("failure {}", n + 1))
        } else {
            Ok(n + 1)
        })
    };
    (starts, op)
}

fn offsets(start: Instant, starts: &Mutex<Vec<Instant>>) -> Vec<Duration> {
    starts.lock().unwrap().iter().map(|t| *t - start).collect()
}

#[filch::test(start_paused = true)]
async fn retry_follows_the_exponential_schedule_exactly() {
    let (starts, op) = flaky(4);
    let start = Instant::now();
    let policy = RetryPolicy::exponential(ms(100)).max_attempts(10);
    assert_eq!(filch::retry(policy, op).await, Ok(5));
    assert_eq!(offsets(start, &starts), [0, 100, 300, 700, 1500].map(ms));
}

#[filch::test(start_paused = true)]
async fn retry_caps_delays_and_honours_the_factor() {
    let (starts, op) = flaky(5);
    let start = Instant::now();
    let policy = RetryPolicy::exponential(ms(100))
        .factor(3.0)
        .max_delay(ms(1000))
        .max_attempts(6);
    assert_eq!(filch::retry(policy, op).await, Ok(6));
    // Delays 100, 300, 900, 1000 (capped), 1000.
    assert_eq!(
        offsets(start, &starts),
        [0, 100, 400, 1300, 2300, 3300].map(ms)
    );
}

#[filch::test(start_paused = true)]
async fn retry_gives_up_after_max_attempts_with_the_last_error() {
    let (starts, op) = flaky(100);
    let start = Instant::now();
    let err = filch::retry(RetryPolicy::fixed(secs(1)).max_attempts(4), op)
        .await
        .unwrap_err();
    assert_eq!(err.error(), "failure 4");
    assert_eq!(err.attempts(), 4);
    assert_eq!(err.reason(), GiveUp::MaxAttempts);
    assert!(!err.deadline_expired());
    assert_eq!(start.elapsed(), secs(3), "no sleep after the last attempt");
    assert_eq!(starts.lock().unwrap().len(), 4);
}

#[filch::test(start_paused = true)]
async fn retry_stops_before_a_delay_that_would_cross_the_deadline() {
    let (starts, op) = flaky(100);
    let start = Instant::now();
    let policy = RetryPolicy::exponential(secs(1))
        .unlimited_attempts()
        .deadline(secs(10));
    let err = filch::retry(policy, op).await.unwrap_err();
    // Attempts at 0, 1, 3, 7 s; the next would be at 15 s > 10 s.
    assert_eq!(offsets(start, &starts), [0, 1, 3, 7].map(secs));
    assert!(err.deadline_expired());
    assert_eq!((err.attempts(), err.reason()), (4, GiveUp::Deadline));
    assert_eq!(
        start.elapsed(),
        secs(7),
        "gave up at once instead of sleeping in vain"
    );
    assert_eq!(
        err.to_string(),
        "gave up after 4 attempts (the deadline would pass before the next attempt): failure 4"
    );
}

#[filch::test(start_paused = true)]
async fn retry_does_not_retry_errors_the_predicate_rejects() {
    let calls = AtomicU32::new(0);
    let policy = RetryPolicy::exponential(secs(1))
        .max_attempts(10)
        .retry_if(|e: &std::io::Error| e.kind() == std::io::ErrorKind::TimedOut);
    let start = Instant::now();
    let err = filch::retry(policy, || {
        let n = calls.fetch_add(1, SeqCst);
        async move {
            if n < 2 {
                Err::<(), _>(std::io::ErrorKind::TimedOut.into())
            } else {
                Err(std::io::ErrorKind::PermissionDenied.into())
            }
        }
    })
    .await
    .unwrap_err();
    assert_eq!(err.reason(), GiveUp::NotRetryable);
    assert_eq!(err.attempts(), 3);
    assert_eq!(
        err.into_error().kind(),
        std::io::ErrorKind::PermissionDenied
    );
    assert_eq!(start.elapsed(), secs(1 + 2));
}

#[filch::test(start_paused = true)]
async fn retry_sleeps_exactly_the_seeded_jittered_delays() {
    let policy = RetryPolicy::exponential(secs(1))
        .max_attempts(6)
        .jitter(Jitter::Full)
        .jitter_seed(7);
    let expected: Vec<Duration> = policy.delays().collect();
    assert_eq!(expected.len(), 5);
    assert_ne!(
        expected,
        [1, 2, 4, 8, 16].map(secs),
        "jitter changed the delays"
    );
    let (starts, op) = flaky(100);
    let start = Instant::now();
    let _ = filch::retry(policy, op).await;
    let offsets = offsets(start, &starts);
    let gaps: Vec<Duration> = offsets.windows(2).map(|w| w[1] - w[0]).collect();
    // The timer wheel's resolution is 1 ms: a sleep ends on the first
    // millisecond tick at or after its deadline.
    let ceil_ms = |d: Duration| ms(d.as_nanos().div_ceil(1_000_000) as u64);
    assert_eq!(gaps, expected.into_iter().map(ceil_ms).collect::<Vec<_>>());
}

#[test]
fn jitter_stays_within_its_bounds() {
    for seed in 0..200 {
        let base = RetryPolicy::exponential(ms(100))
            .max_attempts(8)
            .max_delay(secs(2));
        let exact: Vec<Duration> = base.clone().delays().collect();
        let full: Vec<Duration> = base
            .clone()
            .jitter(Jitter::Full)
            .jitter_seed(seed)
            .delays()
            .collect();
        let equal: Vec<Duration> = base
            .clone()
            .jitter(Jitter::Equal)
            .jitter_seed(seed)
            .delays()
            .collect();
        let ratio: Vec<Duration> = base
            .clone()
            .jitter(Jitter::Ratio(0.5))
            .jitter_seed(seed)
            .delays()
            .collect();
        for i in 0..exact.len() {
            let d = exact[i];
            assert!(full[i] <= d, "full {:?} > {:?}", full[i], d);
            assert!(
                equal[i] >= d / 2 && equal[i] <= d,
                "equal {:?} vs {:?}",
                equal[i],
                d
            );
            assert!(
                ratio[i] >= d / 2 && ratio[i] <= (d * 3 / 2).min(secs(2)),
                "ratio {:?}",
                ratio[i]
            );
        }
    }
    // Full jitter really spreads: over many draws of a 1 s delay, some are
    // below 100 ms and some above 900 ms.
    let draws: Vec<Duration> = (0..1000)
        .map(|seed| {
            RetryPolicy::exponential(secs(1))
                .jitter(Jitter::Full)
                .jitter_seed(seed)
                .delays()
                .next()
                .unwrap()
        })
        .collect();
    assert!(draws.iter().any(|d| *d < ms(100)) && draws.iter().any(|d| *d > ms(900)));
}

#[test]
#[should_panic(expected = "RetryPolicy::factor: the factor must be a finite number >= 1, got 0.5")]
fn retry_policy_rejects_a_shrinking_factor() {
    let _ = RetryPolicy::exponential(secs(1)).factor(0.5);
}

#[test]
#[should_panic(expected = "RetryPolicy::max_attempts: at least 1 attempt is needed, got 0")]
fn retry_policy_rejects_zero_attempts() {
    let _ = RetryPolicy::exponential(secs(1)).max_attempts(0);
}

#[test]
#[should_panic(expected = "Jitter::Ratio must be within [0, 1], got 1.5")]
fn retry_policy_rejects_a_bad_jitter_ratio() {
    let _ = RetryPolicy::exponential(secs(1)).jitter(Jitter::Ratio(1.5));
}

#[test]
#[should_panic(expected = "got NaN")]
fn retry_policy_rejects_a_nan_factor() {
    let _ = RetryPolicy::exponential(secs(1)).factor(f64::NAN);
}

#[filch::test(start_paused = true)]
async fn dropping_retry_cancels_the_attempt_in_flight() {
    let (dropped, guard) = flag();
    let guard = Arc::new(Mutex::new(Some(guard)));
    let attempts = AtomicU32::new(0);
    let r = timeout(
        secs(5),
        filch::retry(RetryPolicy::fixed(secs(1)), || {
            attempts.fetch_add(1, SeqCst);
            let g = guard.lock().unwrap().take();
            async move {
                let _g = g;
                sleep(secs(100)).await;
                Err::<(), ()>(())
            }
        }),
    )
    .await;
    assert!(r.is_err());
    assert!(dropped.load(SeqCst));
    assert_eq!(attempts.load(SeqCst), 1);
}

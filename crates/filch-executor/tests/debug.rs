//! Debug mode: slow-poll reports (at the end of the poll and from the
//! watchdog), unobserved panics and their policies, the task registry
//! (`tasks`, `dump`, `task::current`), metrics, `FILCH_DEBUG`, and a hook
//! that panics. Tests that read what goes to stderr run the runtime in a
//! child process (this test binary re-run with an environment variable).

use filch_executor::debug::{Report, UnhandledPanic};
use filch_executor::task::{self, TaskState};
use filch_executor::{Builder, Executor, JoinHandle, spawn, spawn_blocking, yield_now};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex, mpsc};
use std::time::{Duration, Instant};

/// A guard against hangs only: no test waits this long when it passes.
const HANG: Duration = Duration::from_secs(30);

/// A runtime whose reports go to the returned channel.
fn reporting(b: &mut Builder) -> (Executor, mpsc::Receiver<Report>) {
    let (tx, rx) = mpsc::channel();
    let tx = Mutex::new(tx);
    let rt = b
        .on_debug_report(move |r: &Report| {
            let _ = tx.lock().unwrap().send(r.clone());
        })
        .build()
        .unwrap();
    (rt, rx)
}

fn next_report(rx: &mpsc::Receiver<Report>) -> Report {
    rx.recv_timeout(HANG).expect("no debug report came")
}

/// The next report, which must be a slow poll: (task, elapsed, still running).
fn next_slow_poll(rx: &mpsc::Receiver<Report>) -> (filch_executor::task::TaskInfo, Duration, bool) {
    match next_report(rx) {
        Report::SlowPoll {
            task,
            elapsed,
            still_running,
        } => (task, elapsed, still_running),
        other => panic!("expected a slow-poll report, got {other:?}"),
    }
}

/// The next report, which must be an unobserved panic: (task, message).
fn next_unobserved(rx: &mpsc::Receiver<Report>) -> (filch_executor::task::TaskInfo, String) {
    match next_report(rx) {
        Report::UnobservedPanic { task, message } => (task, message),
        other => panic!("expected an unobserved-panic report, got {other:?}"),
    }
}

/// Waits until every worker has parked: a worker publishes its counts
/// before it parks, so they are all exact then.
fn settle(rt: &Executor) {
    let deadline = Instant::now() + HANG;
    while rt.handle().num_unparked_workers() != 0 {
        assert!(Instant::now() < deadline, "the workers never parked");
        std::thread::yield_now();
    }
}

/// One worker and nothing else running tasks.
fn one_worker(b: &mut Builder) -> &mut Builder {
    b.worker_threads(1).block_on_runs_tasks(false)
}

#[test]
fn a_slow_poll_is_reported_while_running_and_when_it_returns() {
    let (rt, rx) = reporting(Builder::new().slow_poll_threshold(Duration::from_millis(20)));
    let (release_tx, release_rx) = mpsc::channel::<()>();
    let blocker = task::Builder::new().name("blocker").spawn_on(
        async move {
            // Blocks its worker until the test has seen the watchdog's
            // report: a task stuck in blocking code.
            release_rx.recv_timeout(HANG).unwrap();
        },
        rt.handle(),
    );
    let id = blocker.id();
    let started = Instant::now();

    let (task, elapsed, still_running) = next_slow_poll(&rx);
    assert!(still_running, "the watchdog reports the poll first");
    assert_eq!(task.id(), id);
    assert_eq!(task.name(), Some("blocker"));
    assert_eq!(task.state(), TaskState::Running);
    assert!(task.location().file().ends_with("debug.rs"));
    assert!(elapsed >= Duration::from_millis(20));

    release_tx.send(()).unwrap();
    rt.block_on(blocker).unwrap();
    let held = started.elapsed();
    let (task, elapsed, still_running) = next_slow_poll(&rx);
    assert!(!still_running);
    assert_eq!(task.id(), id);
    assert!(elapsed >= Duration::from_millis(20) && elapsed <= held);
    // One report of each kind for the one slow poll.
    drop(rt);
    assert!(rx.try_iter().next().is_none());
}

#[test]
fn quick_polls_are_not_reported() {
    let (rt, rx) = reporting(Builder::new().slow_poll_threshold(Duration::from_secs(5)));
    rt.block_on(async {
        let tasks: Vec<_> = (0..1000)
            .map(|_| {
                spawn(async {
                    for _ in 0..3 {
                        yield_now().await;
                    }
                })
            })
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    drop(rt);
    assert!(rx.try_iter().next().is_none());
}

#[test]
fn a_zero_threshold_is_invalid_input() {
    let err = Builder::new()
        .slow_poll_threshold(Duration::ZERO)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("slow_poll_threshold"), "{err}");
}

#[test]
fn a_panic_nobody_awaits_is_reported() {
    let (rt, rx) = reporting(&mut Builder::new());
    // Detached before it panics.
    let detached = task::Builder::new()
        .name("detached")
        .spawn_on(async { panic!("lost one") }, rt.handle());
    let id = detached.id();
    drop(detached);
    let (task, message) = next_unobserved(&rx);
    assert_eq!((task.id(), task.name()), (id, Some("detached")));
    assert_eq!(task.state(), TaskState::Finished);
    assert_eq!(message, "lost one");

    // Finished with a panic, then its handle dropped unawaited.
    let late = rt.spawn(async { panic!("{}", String::from("lost two")) });
    while !late.is_finished() {
        std::thread::yield_now();
    }
    assert!(
        rx.try_iter().next().is_none(),
        "nothing until the handle goes"
    );
    drop(late);
    let (_, message) = next_unobserved(&rx);
    assert_eq!(message, "lost two");

    // A blocking closure counts too.
    drop(rt.spawn_blocking(|| panic!("lost three")));
    let (_, message) = next_unobserved(&rx);
    assert_eq!(message, "lost three");
}

#[test]
fn observed_panics_and_cancellations_are_not_reported() {
    let (rt, rx) = reporting(&mut Builder::new());
    rt.block_on(async {
        let err = spawn(async { panic!("seen") }).await.unwrap_err();
        assert!(err.is_panic());
        drop(err);
        let err = spawn_blocking(|| panic!("seen too")).await.unwrap_err();
        drop(err);
        let pending = spawn(std::future::pending::<()>());
        pending.cancel();
        drop(pending);
    });
    drop(rt);
    assert!(rx.try_iter().next().is_none());
}

#[test]
fn ignore_reports_nothing() {
    let (rt, rx) = reporting(Builder::new().unhandled_panic(UnhandledPanic::Ignore));
    let h = rt.spawn(async { panic!("ignored") });
    while !h.is_finished() {
        std::thread::yield_now();
    }
    drop(h);
    drop(rt);
    assert!(rx.try_iter().next().is_none());
}

/// Counts drops of a future.
struct Dropped(Arc<AtomicUsize>);
impl Drop for Dropped {
    fn drop(&mut self) {
        self.0.fetch_add(1, SeqCst);
    }
}

#[test]
fn shutdown_runtime_makes_an_unobserved_panic_fatal() {
    let (rt, rx) = reporting(
        Builder::new()
            .worker_threads(2)
            .unhandled_panic(UnhandledPanic::ShutdownRuntime),
    );
    let dropped = Arc::new(AtomicUsize::new(0));
    let d = Dropped(dropped.clone());
    let waiter = rt.spawn(async move {
        let _d = d;
        std::future::pending::<()>().await
    });
    let res = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async {
            drop(spawn(async { panic!("fatal") }));
            // Would wait for ever if the panic did not shut the runtime down.
            std::future::pending::<()>().await
        })
    }));
    let msg = res.expect_err("block_on panics after the shutdown");
    let msg = msg
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| msg.downcast_ref::<&str>().copied())
        .unwrap();
    assert!(msg.contains("ShutdownRuntime"), "{msg}");
    assert!(matches!(next_report(&rx), Report::UnobservedPanic { .. }));
    // The runtime's tasks are dropped when it is.
    drop(rt);
    assert_eq!(dropped.load(SeqCst), 1);
    drop(waiter);
}

#[test]
fn tasks_lists_every_live_task_with_state_polls_and_age() {
    let rt = Builder::new()
        .worker_threads(1)
        .block_on_runs_tasks(false)
        .build()
        .unwrap();
    let (hold_tx, hold_rx) = mpsc::channel::<()>();
    let (inside_tx, inside_rx) = mpsc::channel::<()>();
    // Polled once, then idle for ever.
    let idle = task::Builder::new()
        .name("idle")
        .spawn_on(std::future::pending::<()>(), rt.handle());
    // Holds the only worker, so a task spawned after it stays queued.
    let running = task::Builder::new().name("running").spawn_on(
        async move {
            inside_tx.send(()).unwrap();
            hold_rx.recv_timeout(HANG).unwrap();
        },
        rt.handle(),
    );
    inside_rx.recv_timeout(HANG).unwrap();
    let queued = task::Builder::new()
        .name("queued")
        .spawn_on(async {}, rt.handle());
    std::thread::sleep(Duration::from_millis(10));

    let tasks = rt.handle().tasks();
    assert_eq!(tasks.len(), 3);
    let find = |h: &JoinHandle<()>| tasks.iter().find(|t| t.id() == h.id()).unwrap().clone();
    let (i, r, q) = (find(&idle), find(&running), find(&queued));
    assert_eq!(
        (i.name(), i.state(), i.polls()),
        (Some("idle"), TaskState::Idle, 1)
    );
    assert_eq!(
        (r.name(), r.state(), r.polls()),
        (Some("running"), TaskState::Running, 1)
    );
    assert_eq!(
        (q.name(), q.state(), q.polls()),
        (Some("queued"), TaskState::Scheduled, 0)
    );
    // Ages count from the spawn and are never low.
    assert!(q.age() >= Duration::from_millis(10) && i.age() >= Duration::from_millis(10));

    let dump = rt.handle().dump();
    assert!(dump.starts_with("filch runtime: 1 worker "), "{dump}");
    assert_eq!(dump.lines().count(), 4, "{dump}");
    for (name, state) in [
        ("idle", "idle"),
        ("running", "running"),
        ("queued", "scheduled"),
    ] {
        let line = dump
            .lines()
            .find(|l| l.contains(&format!("\"{name}\"")))
            .unwrap_or_else(|| panic!("no line for {name}: {dump}"));
        assert!(line.contains(state) && line.contains("debug.rs"), "{line}");
    }

    hold_tx.send(()).unwrap();
    rt.block_on(running).unwrap();
    rt.block_on(queued).unwrap();
    assert_eq!(rt.handle().tasks().len(), 1);
    idle.cancel();
    let _ = rt.block_on(idle);
    while !rt.handle().tasks().is_empty() {
        std::thread::yield_now();
    }
}

#[test]
fn the_current_task_is_known_inside_tasks_and_blocking_closures_only() {
    let rt = Executor::new().unwrap();
    assert!(task::current().is_none() && task::id().is_none());
    rt.block_on(async {
        assert!(task::current().is_none(), "a block_on future is not a task");
        let h = task::Builder::new().name("inner").spawn(async {
            let me = task::current().unwrap();
            assert_eq!(me.state(), TaskState::Running);
            (me.id(), me.name().map(String::from), task::id())
        });
        let id = h.id();
        assert_eq!(h.await.unwrap(), (id, Some("inner".into()), Some(id)));
        let b = task::Builder::new()
            .name("blocking")
            .spawn_blocking(|| task::current().map(|t| (t.id(), t.name().map(String::from))));
        let id = b.id();
        assert_eq!(b.await.unwrap(), Some((id, Some("blocking".into()))));
    });
}

#[test]
fn metrics_count_what_the_scheduler_does() {
    let rt = Builder::new()
        .worker_threads(2)
        .block_on_runs_tasks(false)
        .build()
        .unwrap();
    let m = rt.handle().metrics();
    assert_eq!(m.num_workers(), 2);

    // Ten tasks queued on one worker that then blocks until they have all
    // run: only the other worker can run them, by stealing.
    let ran = Arc::new(AtomicUsize::new(0));
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let ran2 = ran.clone();
    rt.block_on(rt.spawn(async move {
        for _ in 0..10 {
            let ran = ran2.clone();
            let done = done_tx.clone();
            drop(spawn(async move {
                if ran.fetch_add(1, SeqCst) == 9 {
                    done.send(()).unwrap();
                }
            }));
        }
        done_rx.recv_timeout(HANG).unwrap();
    }))
    .unwrap();
    settle(&rt);
    assert_eq!(ran.load(SeqCst), 10);
    assert_eq!(m.spawned_tasks(), 11);
    assert_eq!(m.remote_schedule_count(), 1);
    assert!(m.local_schedule_count() >= 10);
    assert!(m.steal_count() >= 9, "{m:?}");
    assert_eq!(
        m.worker_steal_count(0) + m.worker_steal_count(1),
        m.steal_count()
    );
    assert!(m.poll_count() >= 11);
    while m.live_tasks() != 0 {
        std::thread::yield_now();
    }

    // A task that awaits a child it spawned: the child runs from the LIFO
    // slot right after.
    let before = m.lifo_hits();
    rt.block_on(rt.spawn(async { spawn(async {}).await.unwrap() }))
        .unwrap();
    settle(&rt);
    assert!(m.lifo_hits() > before);
    assert!(m.park_count() >= 2);
    assert!(m.poll_time_histogram().is_empty());
    assert!(!m.poll_time_histogram_enabled());
}

#[test]
fn queue_depths_show_waiting_tasks() {
    let rt = one_worker(&mut Builder::new()).build().unwrap();
    let m = rt.handle().metrics();
    let (hold_tx, hold_rx) = mpsc::channel::<()>();
    let (inside_tx, inside_rx) = mpsc::channel::<()>();
    let holder = rt.spawn(async move {
        // Three children on this worker's own queue, then hold the worker.
        let kids: Vec<_> = (0..3).map(|_| spawn(async {})).collect();
        inside_tx.send(()).unwrap();
        hold_rx.recv_timeout(HANG).unwrap();
        for k in kids {
            k.await.unwrap();
        }
    });
    inside_rx.recv_timeout(HANG).unwrap();
    let outside: Vec<_> = (0..5).map(|_| rt.spawn(async {})).collect();
    assert_eq!(m.worker_queue_depth(0), 3);
    assert_eq!(m.injection_queue_depth(), 5);
    hold_tx.send(()).unwrap();
    rt.block_on(holder).unwrap();
    for t in outside {
        rt.block_on(t).unwrap();
    }
    settle(&rt);
    assert_eq!(m.injection_queue_depth(), 0);
    assert_eq!(m.remote_schedule_count(), 6);
}

#[test]
fn blocking_threads_are_counted() {
    let rt = Executor::new().unwrap();
    let m = rt.handle().metrics();
    let (hold_tx, hold_rx) = mpsc::channel::<()>();
    let (inside_tx, inside_rx) = mpsc::channel::<()>();
    let h = rt.spawn_blocking(move || {
        inside_tx.send(()).unwrap();
        hold_rx.recv_timeout(HANG).unwrap();
    });
    inside_rx.recv_timeout(HANG).unwrap();
    assert_eq!(m.blocking_threads(), 1);
    assert_eq!(m.blocking_tasks(), 1);
    hold_tx.send(()).unwrap();
    rt.block_on(h).unwrap();
}

#[test]
#[should_panic(expected = "worker index 2 is out of range")]
fn a_worker_index_out_of_range_says_so() {
    let rt = Builder::new().worker_threads(2).build().unwrap();
    rt.handle().metrics().worker_queue_depth(2);
}

#[test]
fn the_histogram_counts_every_timed_poll() {
    let rt = one_worker(Builder::new().poll_time_histogram(true))
        .build()
        .unwrap();
    let m = rt.handle().metrics();
    assert!(m.poll_time_histogram_enabled());
    rt.block_on(async {
        let tasks: Vec<_> = (0..100)
            .map(|_| filch_executor::Handle::current().spawn(async { yield_now().await }))
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    });
    settle(&rt);
    let hist = m.poll_time_histogram();
    assert_eq!(hist.len(), 25);
    assert_eq!(hist.last().unwrap().0, Duration::MAX);
    assert!(hist.windows(2).all(|w| w[0].0 < w[1].0));
    let total: u64 = hist.iter().map(|(_, n)| n).sum();
    assert_eq!(total, 200, "two polls per task: {hist:?}");
    assert_eq!(total, m.poll_count());
}

// ---- child processes: what goes to stderr -----------------------------

const CHILD: &str = "FILCH_TEST_DEBUG_CHILD";

/// Runs the child test `name` with `env`, returns (success, stderr).
fn run_child(name: &str, env: &[(&str, &str)]) -> (bool, String) {
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", name, "--nocapture", "--test-threads=1"])
        .env(CHILD, "1")
        .env_remove("FILCH_DEBUG")
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let out = cmd.output().unwrap();
    (
        out.status.success(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn is_child() -> bool {
    std::env::var_os(CHILD).is_some()
}

#[test]
fn child_slow_poll_with_env() {
    if !is_child() {
        return;
    }
    let rt = Builder::new().worker_threads(1).build().unwrap();
    assert!(rt.handle().metrics().poll_time_histogram_enabled());
    rt.block_on(async {
        task::Builder::new()
            .name("sleepy")
            .spawn(async { std::thread::sleep(Duration::from_millis(150)) })
            .await
            .unwrap();
    });
}

#[test]
fn filch_debug_1_reports_polls_over_100ms_on_stderr() {
    let (ok, stderr) = run_child("child_slow_poll_with_env", &[("FILCH_DEBUG", "1")]);
    assert!(ok, "{stderr}");
    let line = stderr
        .lines()
        .find(|l| l.contains("in one poll"))
        .unwrap_or_else(|| panic!("no report on stderr: {stderr}"));
    assert!(line.starts_with("filch debug: task "), "{line}");
    assert!(
        line.contains("\"sleepy\"") && line.contains("debug.rs"),
        "{line}"
    );
}

#[test]
fn child_bad_env() {
    if !is_child() {
        return;
    }
    let err = Builder::new().build().unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    eprintln!("ERROR: {err}");
}

#[test]
fn a_bad_filch_debug_value_is_invalid_input_naming_it() {
    let (ok, stderr) = run_child("child_bad_env", &[("FILCH_DEBUG", "verbose")]);
    assert!(ok, "{stderr}");
    assert!(
        stderr.contains("ERROR: ") && stderr.contains("FILCH_DEBUG") && stderr.contains("verbose"),
        "{stderr}"
    );
    let (ok, stderr) = run_child("child_slow_poll_with_env", &[("FILCH_DEBUG", "0")]);
    assert!(
        !ok,
        "FILCH_DEBUG=0 is off, so the child's assert fails: {stderr}"
    );
}

#[test]
fn child_panicking_hook() {
    if !is_child() {
        return;
    }
    let calls = Arc::new(AtomicUsize::new(0));
    let c = calls.clone();
    let rt = Builder::new()
        .worker_threads(1)
        .slow_poll_threshold(Duration::from_millis(5))
        .on_debug_report(move |_: &Report| {
            c.fetch_add(1, SeqCst);
            panic!("the hook broke");
        })
        .build()
        .unwrap();
    rt.block_on(async {
        for _ in 0..3 {
            spawn(async { std::thread::sleep(Duration::from_millis(10)) })
                .await
                .unwrap();
        }
        // The workers still run tasks.
        assert_eq!(spawn(async { 7 }).await.unwrap(), 7);
    });
    assert!(calls.load(SeqCst) >= 3);
}

#[test]
fn a_hook_that_panics_is_contained_and_said_once() {
    let (ok, stderr) = run_child("child_panicking_hook", &[]);
    assert!(ok, "{stderr}");
    assert_eq!(
        stderr.matches("the debug report hook panicked").count(),
        1,
        "{stderr}"
    );
    assert!(stderr.contains("the hook broke"), "{stderr}");
}

//! The blocking pool's promises: a closure never waits for a running one
//! while the pool is below its cap, closures are queued (not refused) when
//! it is full, a queued closure can be cancelled, unused threads retire
//! while the pool stays busy, shutdown cancels what is queued and waits for
//! what runs, and a closure may drop its own runtime. (Thread reuse, the
//! cap, keep-alive, panics and the shutdown timeout are in `executor.rs`.)

use filch_executor::{Builder, Executor};
use std::future::Future;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering::SeqCst};
use std::time::{Duration, Instant};

/// Waits (without sleeping a fixed time) until `cond` holds, or fails after
/// a generous deadline so a broken pool fails instead of hanging.
fn wait_until(what: &str, mut cond: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while !cond() {
        assert!(Instant::now() < deadline, "timed out waiting for: {what}");
        std::thread::sleep(Duration::from_micros(200));
    }
}

fn pool(max_blocking_threads: usize) -> Executor {
    Builder::new()
        .worker_threads(1)
        .max_blocking_threads(max_blocking_threads)
        .build()
        .unwrap()
}

/// A gate closures wait at until the test opens it.
#[derive(Clone, Default)]
struct Gate(Arc<AtomicBool>);

impl Gate {
    fn wait(&self) {
        wait_until("the gate to open", || self.0.load(SeqCst));
    }

    fn open(&self) {
        self.0.store(true, SeqCst);
    }
}

/// Runs `n` closures that each wait until all `n` run at once: they finish
/// only if none was queued behind a running one.
fn run_all_at_once(rt: &Executor, n: usize) {
    let running = Arc::new(AtomicUsize::new(0));
    let hs: Vec<_> = (0..n)
        .map(|_| {
            let running = running.clone();
            rt.spawn_blocking(move || {
                running.fetch_add(1, SeqCst);
                wait_until("every closure running at once", || {
                    running.load(SeqCst) == n
                });
            })
        })
        .collect();
    for h in hs {
        rt.block_on(h).unwrap();
    }
}

#[test]
fn closures_below_the_cap_never_wait_for_running_ones() {
    run_all_at_once(&pool(16), 8);
}

#[test]
fn closures_are_queued_when_the_pool_is_full() {
    let rt = pool(2);
    let gate = Gate::default();
    let (running, max_running) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let hs: Vec<_> = (0..10)
        .map(|i| {
            let (gate, running, max_running) = (gate.clone(), running.clone(), max_running.clone());
            rt.spawn_blocking(move || {
                let now = running.fetch_add(1, SeqCst) + 1;
                max_running.fetch_max(now, SeqCst);
                gate.wait();
                running.fetch_sub(1, SeqCst);
                i
            })
        })
        .collect();
    wait_until("two closures running", || running.load(SeqCst) == 2);
    // Two run, eight wait in the queue: all ten count as blocking tasks.
    assert_eq!(rt.handle().num_blocking_tasks(), 10);
    assert_eq!(rt.handle().metrics().blocking_threads(), 2);
    gate.open();
    let out: Vec<_> = hs.into_iter().map(|h| rt.block_on(h).unwrap()).collect();
    assert_eq!(out, (0..10).collect::<Vec<_>>());
    assert_eq!(max_running.load(SeqCst), 2);
    wait_until("no blocking task left", || {
        rt.handle().num_blocking_tasks() == 0
    });
}

#[test]
fn a_queued_closure_can_be_cancelled() {
    let rt = pool(1);
    let gate = Gate::default();
    let started = Arc::new(AtomicBool::new(false));
    let (g, s) = (gate.clone(), started.clone());
    let first = rt.spawn_blocking(move || {
        s.store(true, SeqCst);
        g.wait();
        1
    });
    wait_until("the first closure to start", || started.load(SeqCst));
    let ran = Arc::new(AtomicBool::new(false));
    let r = ran.clone();
    let queued = rt.spawn_blocking(move || r.store(true, SeqCst));
    queued.cancel();
    gate.open();
    assert_eq!(rt.block_on(first).unwrap(), 1);
    assert!(rt.block_on(queued).unwrap_err().is_cancelled());
    assert!(!ran.load(SeqCst), "a cancelled closure must not run");
}

#[test]
fn unused_threads_retire_while_the_pool_stays_busy() {
    let rt = Builder::new()
        .worker_threads(1)
        .thread_keep_alive(Duration::from_millis(50))
        .build()
        .unwrap();
    // Four closures at once: four threads.
    run_all_at_once(&rt, 4);
    assert_eq!(rt.handle().metrics().blocking_threads(), 4);
    // Then one closure at a time, more often than the keep-alive: one
    // thread does them all, and the three others retire.
    wait_until("the unused threads to retire", || {
        rt.block_on(rt.spawn_blocking(|| ())).unwrap();
        std::thread::sleep(Duration::from_millis(2));
        rt.handle().metrics().blocking_threads() == 1
    });
}

#[test]
fn shutdown_cancels_queued_closures_and_waits_for_running_ones() {
    let rt = pool(1);
    let gate = Gate::default();
    let (started, finished) = (
        Arc::new(AtomicBool::new(false)),
        Arc::new(AtomicBool::new(false)),
    );
    let (g, s, f) = (gate.clone(), started.clone(), finished.clone());
    let running = rt.spawn_blocking(move || {
        s.store(true, SeqCst);
        g.wait();
        f.store(true, SeqCst);
    });
    wait_until("the closure to start", || started.load(SeqCst));
    let ran = Arc::new(AtomicBool::new(false));
    let r = ran.clone();
    let queued = Arc::new(rt.spawn_blocking(move || r.store(true, SeqCst)));
    // The gate opens once shutdown has cancelled the queued closure, so the
    // running one is still running when shutdown starts waiting for it.
    let q = queued.clone();
    let opener = std::thread::spawn(move || {
        wait_until("shutdown to cancel the queued closure", || q.is_finished());
        gate.open();
    });
    drop(rt);
    assert!(
        finished.load(SeqCst),
        "shutdown returned before the closure finished"
    );
    assert!(
        !ran.load(SeqCst),
        "a closure queued at shutdown must not run"
    );
    opener.join().unwrap();
    assert!(running.is_finished());
    let queued = Arc::into_inner(queued).unwrap();
    // Complete: the handle is ready without a runtime.
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    match std::pin::pin!(queued).poll(&mut cx) {
        std::task::Poll::Ready(res) => assert!(res.unwrap_err().is_cancelled()),
        std::task::Poll::Pending => panic!("a cancelled closure's handle must be ready"),
    }
}

#[test]
fn a_runtime_dropped_from_a_blocking_closure_shuts_down() {
    let rt = pool(4);
    let handle = rt.handle().clone();
    let (tx, rx) = std::sync::mpsc::channel();
    drop(handle.spawn_blocking(move || {
        drop(rt);
        tx.send(()).unwrap();
    }));
    rx.recv_timeout(Duration::from_secs(20))
        .expect("dropping the runtime on its own pool thread must not wait for that thread");
}

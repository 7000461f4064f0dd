//! Faults injected into a running runtime: panics in futures, in their
//! destructors, in wakers (wherever filch calls them: timers, the reactor,
//! task completion, another task's poll, the shutdown) and in the `Drop` of
//! outputs; wakers used after their runtime is gone; a descriptor closed
//! behind the reactor's back; a blocking pool with far more closures than
//! threads.
//!
//! The contract checked: a fault is contained where it happens (the task
//! whose code panicked reports `JoinError::is_panic`; a panic in a waker
//! called by a driver is dropped there), the runtime keeps running every
//! other task, every future is dropped exactly once, and nothing hangs
//! (watchdog). Memory errors in these paths are what `scripts/valgrind.sh`
//! looks for.

use filch::runtime::Handle;
use filch_stress::{
    DropGuard, EXPECTED_PANIC, Ledger, Rng, block_on_thread, exclusive, panic_message,
    quiet_expected_panics, report, runtime, scaled, seed, watchdog,
};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

/// After a fault: the runtime still runs a batch of ordinary tasks.
fn assert_healthy(rt: &filch::Runtime) {
    let sum = rt.block_on(async {
        let hs: Vec<_> = (0..100u64)
            .map(|i| {
                filch::spawn(async move {
                    filch::yield_now().await;
                    i
                })
            })
            .collect();
        let mut sum = 0;
        for h in hs {
            sum += h.await.unwrap();
        }
        sum
    });
    assert_eq!(sum, 4950);
}

fn expect_panic_with(res: Result<impl Sized, filch::task::JoinError>, what: &str) {
    match res {
        Err(e) if e.is_panic() => {
            let payload = e.into_panic();
            let msg = panic_message(&*payload).unwrap_or("<not a string>");
            assert!(
                msg.contains(EXPECTED_PANIC),
                "{what}: unexpected panic {msg:?}"
            );
        }
        Err(e) => panic!("{what}: expected a panic, got {e}"),
        Ok(_) => panic!("{what}: expected a panic, got the output"),
    }
}

/// Panics at its `at`-th poll (yielding before that), holding a lock of a
/// `filch::sync::Mutex` across the panic when asked.
struct PanicAt {
    at: u32,
    polls: u32,
    _guard: DropGuard,
}

impl Future for PanicAt {
    type Output = u32;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u32> {
        self.polls += 1;
        if self.polls == self.at {
            panic!("{EXPECTED_PANIC}: poll {}", self.polls);
        }
        if self.polls > 3 {
            return Poll::Ready(self.polls);
        }
        cx.waker().wake_by_ref();
        Poll::Pending
    }
}

/// Tasks that panic at their first, second or third poll (or never), some
/// while holding a `filch::sync::Mutex` guard: each panicking task reports
/// `is_panic` with its payload, its future is dropped once, the lock is
/// released by the unwinding, and the workers live on.
#[test]
fn panics_in_futures() {
    let _one = exclusive();
    quiet_expected_panics();
    let n = scaled(100_000) as usize;
    let rt = runtime(2);
    let ledger = Ledger::new(n);
    let lock = Arc::new(filch::sync::Mutex::new(0u64));
    let start = Instant::now();
    let mut panicked = 0;
    watchdog("panics_in_futures", 120, &[rt.handle().clone()], || {
        let mut rng = Rng::new(seed(100));
        let plan: Vec<u32> = (0..n).map(|_| rng.below(4) as u32).collect();
        let handles: Vec<_> = plan
            .iter()
            .enumerate()
            .map(|(id, &at)| {
                let fut = PanicAt {
                    at,
                    polls: 0,
                    _guard: ledger.guard(id),
                };
                if id % 10 == 0 {
                    let lock = lock.clone();
                    rt.spawn(async move {
                        let mut g = lock.lock().await;
                        *g += 1;
                        fut.await
                    })
                } else {
                    rt.spawn(fut)
                }
            })
            .collect();
        for (id, h) in handles.into_iter().enumerate() {
            let res = rt.block_on(h);
            if (1..=3).contains(&plan[id]) {
                expect_panic_with(res, "panicking future");
                panicked += 1;
            } else {
                assert_eq!(res.unwrap(), 4);
            }
        }
        // The lock was released by every unwinding holder.
        rt.block_on(async { drop(lock.lock().await) });
        assert_healthy(&rt);
    });
    drop(rt);
    ledger.assert_all_dropped_once("panics_in_futures");
    report(
        "panics_in_futures",
        start,
        &format!("{n} tasks, {panicked} panicked"),
    );
}

/// A future whose destructor panics (and counts itself first).
struct PanicOnDrop {
    ready: bool,
    _guard: DropGuard,
}

impl Future for PanicOnDrop {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if self.ready {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}

impl Drop for PanicOnDrop {
    fn drop(&mut self) {
        panic!("{EXPECTED_PANIC}: future destructor");
    }
}

/// Destructors that panic when the future completes, when it is cancelled
/// while idle, when its task is detached, when it is dropped by the
/// shutdown, and when a queued `spawn_blocking` closure is dropped unrun.
/// Each panic is contained: the joiner sees `is_panic`, the worker and the
/// shutdown carry on.
#[test]
fn panics_in_destructors() {
    let _one = exclusive();
    quiet_expected_panics();
    let n = scaled(10_000) as usize;
    let rt = filch::Runtime::builder()
        .worker_threads(2)
        .max_blocking_threads(1)
        // The detached tasks' panics are meant: no report for each of them.
        .unhandled_panic(filch::runtime::UnhandledPanic::Ignore)
        .build()
        .unwrap();
    let ledger = Ledger::new(5 * n + 1);
    let start = Instant::now();
    let mut at_shutdown = Vec::new();
    watchdog("panics_in_destructors", 120, &[rt.handle().clone()], || {
        for i in 0..n {
            // Completes, then its destructor panics.
            let done = rt.spawn(PanicOnDrop {
                ready: true,
                _guard: ledger.guard(5 * i),
            });
            // Cancelled while idle.
            let idle = rt.spawn(PanicOnDrop {
                ready: false,
                _guard: ledger.guard(5 * i + 1),
            });
            // Detached: the panic has no joiner to go to.
            drop(rt.spawn(PanicOnDrop {
                ready: true,
                _guard: ledger.guard(5 * i + 2),
            }));
            // Left for the shutdown.
            at_shutdown.push(rt.spawn(PanicOnDrop {
                ready: false,
                _guard: ledger.guard(5 * i + 3),
            }));
            expect_panic_with(rt.block_on(done), "destructor after completion");
            idle.cancel();
            expect_panic_with(rt.block_on(idle), "destructor of a cancelled task");
        }
        // The blocking pool's one thread is busy while n closures queue up
        // behind it; the shutdown drops them unrun.
        let (release, gate) = std::sync::mpsc::channel::<()>();
        let busy = rt.spawn_blocking(move || gate.recv().ok());
        while rt.handle().num_blocking_tasks() == 0 {
            std::thread::yield_now();
        }
        for i in 0..n {
            let g = PanicOnDrop {
                ready: true,
                _guard: ledger.guard(5 * i + 4),
            };
            at_shutdown.push(rt.spawn_blocking(move || drop(g)));
        }
        assert_healthy(&rt);
        std::thread::spawn(move || {
            // Let the busy closure go once the shutdown has cancelled the
            // queued ones (it waits for running closures).
            std::thread::sleep(Duration::from_millis(20));
            let _ = release.send(());
        });
        drop(rt);
        let _ = block_on_thread(busy);
    });
    for h in at_shutdown {
        expect_panic_with(block_on_thread(h), "destructor run by the shutdown");
    }
    // The extra id was never handed out.
    assert_eq!(ledger.drops_of(5 * n), 0);
    for id in 0..5 * n {
        assert_eq!(ledger.drops_of(id), 1, "future {id}");
    }
    report(
        "panics_in_destructors",
        start,
        &format!("{} panicking destructors", 5 * n),
    );
}

/// A waker that wakes the task it stands for, then panics; counts its
/// wake-ups and its drop.
struct PanickingWaker {
    inner: Waker,
    wakes: Arc<AtomicUsize>,
    drops: Arc<AtomicUsize>,
}

impl Wake for PanickingWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.wakes.fetch_add(1, SeqCst);
        self.inner.wake_by_ref();
        panic!("{EXPECTED_PANIC}: waker");
    }
}

impl Drop for PanickingWaker {
    fn drop(&mut self) {
        self.drops.fetch_add(1, SeqCst);
    }
}

/// Polls `F` with a [`PanickingWaker`] around the task's waker.
struct WithPanickingWaker<F> {
    inner: Pin<Box<F>>,
    wakes: Arc<AtomicUsize>,
    made: Arc<AtomicUsize>,
    drops: Arc<AtomicUsize>,
    _guard: DropGuard,
}

impl<F: Future> Future for WithPanickingWaker<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        self.made.fetch_add(1, SeqCst);
        let waker = Waker::from(Arc::new(PanickingWaker {
            inner: cx.waker().clone(),
            wakes: self.wakes.clone(),
            drops: self.drops.clone(),
        }));
        self.inner.as_mut().poll(&mut Context::from_waker(&waker))
    }
}

type BoxFut = Pin<Box<dyn Future<Output = ()> + Send>>;

/// Tasks that wait on a timer, a socket, a oneshot channel, a `Notify` and
/// a join handle through a waker that panics when woken. The timer's
/// firing (on a worker), the reactor's dispatch and a task's completion
/// contain the panic; a channel send or a notification from another task
/// makes that task panic (its `JoinError` says so), as any panic in its
/// poll would. The waiters all complete (each waker woke its task before
/// panicking), the runtime stays healthy, and every waker clone is dropped.
#[test]
fn panics_in_wakers() {
    let _one = exclusive();
    quiet_expected_panics();
    let rounds = scaled(500) as usize;
    let rt = runtime(2);
    let ledger = Ledger::new(rounds * 5);
    let wakes = Arc::new(AtomicUsize::new(0));
    let made = Arc::new(AtomicUsize::new(0));
    let drops = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    let mut waker_panics_in_tasks = 0;
    watchdog("panics_in_wakers", 120, &[rt.handle().clone()], || {
        for r in 0..rounds {
            let wrap = |k: usize, f: BoxFut| WithPanickingWaker {
                inner: Box::pin(f),
                wakes: wakes.clone(),
                made: made.clone(),
                drops: drops.clone(),
                _guard: ledger.guard(5 * r + k),
            };
            let outcome = rt.block_on(async {
                use filch::io::{AsyncReadExt, AsyncWriteExt};
                let timer = filch::spawn(wrap(
                    0,
                    Box::pin(filch::time::sleep(Duration::from_millis(1))),
                ));
                let (mut a, mut b) = filch::net::UnixStream::pair().unwrap();
                let socket = filch::spawn(wrap(
                    1,
                    Box::pin(async move {
                        let mut buf = [0u8; 1];
                        a.read_exact(&mut buf).await.unwrap();
                    }),
                ));
                let (tx, rx) = filch::sync::oneshot::channel::<u8>();
                let chan = filch::spawn(wrap(
                    2,
                    Box::pin(async move {
                        rx.await.unwrap();
                    }),
                ));
                let notify = Arc::new(filch::sync::Notify::new());
                let n2 = notify.clone();
                let notified = filch::spawn(wrap(3, Box::pin(async move { n2.notified().await })));
                let other = filch::spawn(async {
                    filch::yield_now().await;
                });
                let join = filch::spawn(wrap(
                    4,
                    Box::pin(async move {
                        other.await.unwrap();
                    }),
                ));
                // Let the waiters register their wakers, then wake them from
                // tasks (whose polls may panic in the waker).
                filch::yield_now().await;
                let writer = filch::spawn(async move { b.write_all(b"x").await.unwrap() });
                let sender = filch::spawn(async move {
                    let _ = tx.send(1);
                });
                let notifier = filch::spawn(async move { notify.notify_one() });
                let mut in_tasks = 0;
                for h in [sender, notifier] {
                    match h.await {
                        Ok(()) => {}
                        Err(e) => {
                            expect_panic_with(Err::<(), _>(e), "waking task");
                            in_tasks += 1;
                        }
                    }
                }
                writer.await.unwrap();
                for h in [timer, socket, chan, notified, join] {
                    h.await.unwrap();
                }
                in_tasks
            });
            waker_panics_in_tasks += outcome;
        }
        assert_healthy(&rt);
    });
    drop(rt);
    ledger.assert_all_dropped_once("panics_in_wakers");
    assert_eq!(
        drops.load(SeqCst),
        made.load(SeqCst),
        "every panicking waker was dropped"
    );
    report(
        "panics_in_wakers",
        start,
        &format!(
            "{} waiters, {} panicking wake-ups ({waker_panics_in_tasks} surfaced in the waking task)",
            rounds * 5,
            wakes.load(SeqCst)
        ),
    );
}

/// A timer and a socket read, polled by hand from the main thread (not in
/// a task, so the shutdown's cancellation of tasks does not deregister
/// them) with a waker that panics, are still waiting when the runtime shuts
/// down, which wakes every timer and every socket waiter: the panics do not
/// stop the shutdown (both are told, in turn), and the runtime's drop
/// returns normally.
#[test]
fn panicking_wakers_woken_by_the_shutdown() {
    use filch::io::AsyncReadExt;
    let _one = exclusive();
    quiet_expected_panics();
    let rt = runtime(2);
    let wakes = Arc::new(AtomicUsize::new(0));
    let drops = Arc::new(AtomicUsize::new(0));
    let inner = Arc::new(Flag::default());
    let waker = Waker::from(Arc::new(PanickingWaker {
        inner: Waker::from(inner.clone()),
        wakes: wakes.clone(),
        drops: drops.clone(),
    }));
    let mut cx = Context::from_waker(&waker);
    watchdog(
        "panicking_wakers_woken_by_the_shutdown",
        60,
        &[rt.handle().clone()],
        || {
            let guard = rt.handle().enter();
            let mut sleep = Box::pin(filch::time::sleep(Duration::from_secs(3600)));
            assert!(sleep.as_mut().poll(&mut cx).is_pending());
            let (mut a, _b) = filch::net::UnixStream::pair().unwrap();
            let mut buf = [0u8; 1];
            let mut read = Box::pin(a.read(&mut buf));
            assert!(read.as_mut().poll(&mut cx).is_pending());
            drop(guard);
            drop(rt);
            // Both were woken by the shutdown (each wake-up panicked after
            // waking `inner`).
            assert_eq!(wakes.load(SeqCst), 2);
            assert_eq!(inner.0.load(SeqCst), 2);
            assert!(read.as_mut().poll(&mut cx).is_ready());
            drop(read);
            drop(sleep);
        },
    );
    drop(waker);
    assert_eq!(
        drops.load(SeqCst),
        1,
        "the waker was released by the drivers"
    );
}

/// Counts its wake-ups.
#[derive(Default)]
struct Flag(AtomicUsize);

impl Wake for Flag {
    fn wake(self: Arc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// An output that panics when dropped.
struct PanicOnDropOutput(#[allow(dead_code)] DropGuard);

impl Drop for PanicOnDropOutput {
    fn drop(&mut self) {
        panic!("{EXPECTED_PANIC}: output destructor");
    }
}

/// Outputs whose `Drop` panics, dropped by the runtime (detached task), by
/// a join handle dropped unread after completion, by a handle dropped after
/// the runtime is gone, and by the joiner's own code (a panic in its task).
#[test]
fn panics_in_output_drops() {
    let _one = exclusive();
    quiet_expected_panics();
    let n = scaled(20_000) as usize;
    let rt = runtime(2);
    let outputs = Ledger::new(4 * n);
    let start = Instant::now();
    let mut late = Vec::new();
    watchdog(
        "panics_in_output_drops",
        120,
        &[rt.handle().clone()],
        || {
            for i in 0..n {
                let o = outputs.clone();
                // Detached before it runs: the runtime drops the output.
                drop(rt.spawn(async move { PanicOnDropOutput(o.guard(4 * i)) }));
                // Dropped unread after it finished.
                let o = outputs.clone();
                let h = rt.spawn(async move { PanicOnDropOutput(o.guard(4 * i + 1)) });
                while !h.is_finished() {
                    std::thread::yield_now();
                }
                drop(h);
                // Kept past the runtime's end.
                let o = outputs.clone();
                late.push(rt.spawn(async move { PanicOnDropOutput(o.guard(4 * i + 2)) }));
                // Read and dropped by a joining task: that task panics.
                let o = outputs.clone();
                let joiner = rt.spawn(async move {
                    let out = filch::spawn(async move { PanicOnDropOutput(o.guard(4 * i + 3)) })
                        .await
                        .unwrap();
                    drop(out);
                });
                expect_panic_with(rt.block_on(joiner), "joiner dropping a panicking output");
            }
            assert_healthy(&rt);
            while rt.handle().num_alive_tasks() != 0 {
                std::thread::yield_now();
            }
        },
    );
    drop(rt);
    for h in late {
        let out = block_on_thread(h);
        // Dropping a panicking output is the caller's panic here.
        let r = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| drop(out)));
        assert!(r.is_err());
    }
    for id in 0..4 * n {
        assert_eq!(outputs.drops_of(id), 1, "output {id}");
    }
    report(
        "panics_in_output_drops",
        start,
        &format!("{} panicking output destructors", 4 * n),
    );
}

/// Wakers cloned out of tasks (finished ones, ones still pending, ones
/// cancelled) and used after their runtime was dropped — and while it is
/// being dropped, from another thread: waking, cloning, comparing and
/// dropping them does nothing (no poll, no future resurrected) and does not
/// crash (valgrind checks that no freed memory is touched).
#[test]
fn wakers_used_after_the_runtime_is_gone() {
    let _one = exclusive();
    let rounds = scaled(50) as usize;
    let per = 200;
    let ledger = Ledger::new(rounds * per);
    let polls = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    watchdog("wakers_used_after_the_runtime_is_gone", 120, &[], || {
        for r in 0..rounds {
            let rt = runtime(2);
            let stash: Arc<Mutex<Vec<Waker>>> = Arc::default();
            let mut handles = Vec::new();
            for i in 0..per {
                let id = r * per + i;
                let (stash, polls, guard) = (stash.clone(), polls.clone(), ledger.guard(id));
                let finishes = i % 3 == 0;
                let h = rt.spawn(std::future::poll_fn(move |cx| {
                    let _keep = &guard;
                    polls.fetch_add(1, SeqCst);
                    stash.lock().unwrap().push(cx.waker().clone());
                    if finishes {
                        Poll::Ready(())
                    } else {
                        Poll::Pending
                    }
                }));
                if i % 3 == 1 {
                    h.cancel();
                }
                handles.push(h);
            }
            while stash.lock().unwrap().len() < per * 2 / 3 {
                std::thread::yield_now();
            }
            let wakers: Vec<Waker> = stash.lock().unwrap().clone();
            // One thread wakes the tasks while the runtime is being dropped.
            let racing = wakers.clone();
            let racer = std::thread::spawn(move || {
                for _ in 0..20 {
                    for w in &racing {
                        w.wake_by_ref();
                    }
                }
                for w in racing {
                    w.wake();
                }
            });
            drop(rt);
            racer.join().unwrap();
            let before = polls.load(SeqCst);
            let drops_before = ledger.drops();
            for w in &wakers {
                w.wake_by_ref();
                let c = w.clone();
                assert!(c.will_wake(w));
                c.wake();
            }
            std::thread::scope(|s| {
                for chunk in wakers.chunks(per / 4) {
                    s.spawn(move || {
                        for w in chunk {
                            // A clone woken by value: the clone's reference
                            // is released by the wake.
                            let c = w.clone();
                            c.wake();
                        }
                    });
                }
            });
            assert_eq!(
                polls.load(SeqCst),
                before,
                "a task was polled after its runtime was gone"
            );
            assert_eq!(ledger.drops(), drops_before);
            drop(wakers);
            stash.lock().unwrap().clear();
            for h in handles {
                let _ = block_on_thread(h);
            }
        }
    });
    ledger.assert_all_dropped_once("wakers_used_after_the_runtime_is_gone");
    report(
        "wakers_used_after_the_runtime_is_gone",
        start,
        &format!("{} tasks' wakers used after their runtime", rounds * per),
    );
}

fn reactor(handle: &Handle) -> filch_io::ReactorHandle {
    handle
        .driver::<filch_io::ReactorHandle>()
        .expect("the facade's runtime has a reactor")
        .clone()
}

/// A socket whose descriptor is replaced behind the reactor's back
/// (`dup2` of `/dev/null` onto it: the socket is closed, the number now
/// names another file): its waiting reader is never woken (the kernel
/// dropped the registration with the socket; nothing can tell the
/// reactor), a later read errors or waits likewise (never data), other
/// sockets keep working, and
/// dropping it deregisters cleanly (the reactor's delete of a descriptor it
/// no longer knows is ignored) without touching the new file.
#[test]
fn descriptor_closed_behind_the_reactors_back() {
    use filch::io::{AsyncReadExt, AsyncWriteExt};
    use std::os::fd::AsRawFd;
    let _one = exclusive();
    let rt = runtime(2);
    let reactor = reactor(rt.handle());
    watchdog(
        "descriptor_closed_behind_the_reactors_back",
        60,
        &[rt.handle().clone()],
        || {
            rt.block_on(async {
                let base = reactor.registered_sources();
                let devnull = std::fs::File::open("/dev/null").unwrap();
                for _ in 0..scaled(200) {
                    let (a, mut b) = filch::net::UnixStream::pair().unwrap();
                    let fd = a.as_raw_fd();
                    let a = Arc::new(filch::sync::Mutex::new(a));
                    let waiting = Arc::new(std::sync::atomic::AtomicBool::new(false));
                    let mut reader = {
                        let (a, waiting) = (a.clone(), waiting.clone());
                        filch::spawn(async move {
                            let mut a = a.lock().await;
                            let mut buf = [0u8; 8];
                            let mut read = std::pin::pin!(a.read(&mut buf));
                            std::future::poll_fn(|cx| {
                                let res = read.as_mut().poll(cx);
                                if res.is_pending() {
                                    waiting.store(true, SeqCst);
                                }
                                res
                            })
                            .await
                        })
                    };
                    // Let the reader register its interest (its read came
                    // back `WouldBlock` and it waits for readiness), then
                    // swap the descriptor under it. Swapped while its
                    // `recv` is still in the kernel, the socket would live
                    // until that call returns and could hand it the peer's
                    // write below: a read that began before the swap.
                    while !waiting.load(SeqCst) {
                        filch::yield_now().await;
                    }
                    // SAFETY: dup2 only takes descriptor numbers; both are open.
                    // Afterwards `fd` names /dev/null, which `a` closes when
                    // dropped (the file `devnull` keeps its own number).
                    let res = unsafe { libc::dup2(devnull.as_raw_fd(), fd) };
                    assert_eq!(res, fd);
                    // The peer writes: the closed socket's reader is not told.
                    // (The write may fail: its peer is gone.)
                    let _ = b.write_all(b"hello").await;
                    // Other sockets are unaffected.
                    let (mut c, mut d) = filch::net::UnixStream::pair().unwrap();
                    c.write_all(b"ok").await.unwrap();
                    let mut two = [0u8; 2];
                    d.read_exact(&mut two).await.unwrap();
                    assert_eq!(&two, b"ok");
                    match filch::time::timeout(Duration::from_millis(2), &mut reader).await {
                        // Never woken, as expected: cancel it.
                        Err(_elapsed) => {
                            reader.cancel();
                            let _ = reader.await;
                        }
                        // Or it ran its read after the swap: an error, not data.
                        Ok(res) => assert!(res.unwrap().is_err()),
                    }
                    // Reading again: an error if the reader's last read left the
                    // direction ready (the syscall on the new file fails), or it
                    // waits for an event that no longer can come. Never data,
                    // never a panic.
                    let mut a = a.lock().await;
                    let mut buf = [0u8; 8];
                    if let Ok(res) =
                        filch::time::timeout(Duration::from_millis(2), a.read(&mut buf)).await
                    {
                        assert!(
                            res.is_err(),
                            "read {res:?} from a descriptor swapped for /dev/null"
                        );
                    }
                    drop(a);
                }
                assert_eq!(reactor.registered_sources(), base);
            });
            assert_healthy(&rt);
        },
    );
}

/// Opens a closure gate (`true` under the mutex, then wakes the waiters)
/// when dropped.
struct OpenOnDrop(Arc<(Mutex<bool>, std::sync::Condvar)>);

impl Drop for OpenOnDrop {
    fn drop(&mut self) {
        let (open, cv) = &*self.0;
        *open.lock().unwrap_or_else(|e| e.into_inner()) = true;
        cv.notify_all();
    }
}

/// `max_blocking_threads(2)` and 50 closures (scaled): they queue, never
/// more than two run at once, none is refused, and all complete with their
/// result once the first two let go.
#[test]
fn blocking_pool_exhaustion_queues() {
    let _one = exclusive();
    let n = (50.0 * filch_stress::scale().max(1.0)) as usize;
    let rt = filch::Runtime::builder()
        .worker_threads(2)
        .max_blocking_threads(2)
        .build()
        .unwrap();
    let running = Arc::new(AtomicUsize::new(0));
    let most = Arc::new(AtomicUsize::new(0));
    let start = Instant::now();
    watchdog(
        "blocking_pool_exhaustion_queues",
        60,
        &[rt.handle().clone()],
        || {
            let gate = Arc::new((Mutex::new(false), std::sync::Condvar::new()));
            // Opens the gate when dropped: below, once two closures run; or
            // when an assertion before that fails, since unwinding drops the
            // runtime, whose shutdown waits for the running closures, and the
            // failure must be reported instead of hanging the suite.
            let open_gate = OpenOnDrop(gate.clone());
            let handles: Vec<_> = (0..n)
                .map(|i| {
                    let (running, most, gate) = (running.clone(), most.clone(), gate.clone());
                    let job = move || {
                        let now = running.fetch_add(1, SeqCst) + 1;
                        most.fetch_max(now, SeqCst);
                        let (open, cv) = &*gate;
                        let mut open = open.lock().unwrap();
                        while !*open {
                            open = cv.wait(open).unwrap();
                        }
                        drop(open);
                        running.fetch_sub(1, SeqCst);
                        i * 2
                    };
                    // Through the runtime, the free function and the handle.
                    match i % 3 {
                        0 => rt.spawn_blocking(job),
                        1 => {
                            // The free function, in the runtime's context.
                            let _in = rt.handle().enter();
                            filch::spawn_blocking(job)
                        }
                        _ => rt.handle().spawn_blocking(job),
                    }
                })
                .collect();
            // Nothing can finish before the gate opens: all n are counted.
            assert_eq!(rt.handle().num_blocking_tasks(), n);
            // Wait on `most`, not `running`: a closure raises `running` a
            // moment before it records the maximum, so `running == 2` could
            // be seen while `most` still read 1 (this failed CI once).
            while most.load(SeqCst) < 2 {
                std::thread::yield_now();
            }
            assert_eq!(most.load(SeqCst), 2, "more than two closures ran at once");
            drop(open_gate);
            for (i, h) in handles.into_iter().enumerate() {
                assert_eq!(rt.block_on(h).unwrap(), i * 2);
            }
            assert!(most.load(SeqCst) <= 2);
            // A closure leaves the count just after its result is delivered.
            while rt.handle().num_blocking_tasks() != 0 {
                std::thread::yield_now();
            }
        },
    );
    report(
        "blocking_pool_exhaustion_queues",
        start,
        &format!("{n} closures on 2 threads"),
    );
}

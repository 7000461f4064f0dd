#![cfg(loom)]
//! Loom models of the task state machine (`filch-executor/src/tasks/`).
//!
//! Every model drives the real harness: tasks are made by `new_unbound` with
//! a mock [`Schedule`] whose run queue is a loom `Mutex<VecDeque<Notified>>`,
//! and "workers" are model threads that pop from that queue and call
//! `Notified::run`. Wakers are the real task wakers (handed out by the
//! harness to the future), and the joiner polls the real `JoinHandle`.
//!
//! What is observed goes into a [`Probe`] of plain std atomics: loom runs all
//! model threads on one OS thread, so these only record what happened (they
//! take part in no synchronization) and are checked after every model thread
//! was joined. Leaks are caught twice: each task's mock scheduler counts its
//! own drop (it is dropped exactly when the task is deallocated) and holds a
//! loom `Arc`, which loom reports if it is never released.

mod common;

use common::model;
use filch_executor::__loom::{
    JoinHandle, Notified, Reporter, Schedule, Task, new_unbound, next_id, own_yield,
};
use filch_executor::JoinError;
use filch_executor::debug::{Report, UnhandledPanic};
use loom::sync::atomic::AtomicBool;
use loom::sync::{Arc, Mutex};
use loom::thread;
use std::collections::VecDeque;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc as StdArc;
use std::sync::atomic::Ordering::{Acquire, Release, SeqCst};
use std::sync::atomic::{AtomicBool as StdAtomicBool, AtomicIsize, AtomicUsize};
use std::task::{Context, Poll, RawWaker, RawWakerVTable, Waker};

/// What happened to one task, recorded from the future, its output and its
/// scheduler handle.
#[derive(Default)]
struct Probe {
    polls: AtomicUsize,
    /// Set for the duration of a poll: two polls at once would find it set.
    polling: StdAtomicBool,
    /// The future returned `Ready`: no poll may follow.
    finished: StdAtomicBool,
    future_drops: AtomicUsize,
    outputs_made: AtomicUsize,
    output_drops: AtomicUsize,
    /// The task's scheduler handle was dropped, i.e. the task deallocated.
    deallocs: AtomicUsize,
    /// `Schedule::yield_now` calls (the task was woken during its own poll).
    yields: AtomicUsize,
    /// A waker clone the first poll leaves for the model to use.
    waker: std::sync::Mutex<Option<Waker>>,
}

impl Probe {
    fn new() -> StdArc<Probe> {
        StdArc::default()
    }

    /// Waits (yielding to the other model threads) until the first poll
    /// left its waker, and takes it.
    fn wait_for_waker(&self) -> Waker {
        loop {
            if let Some(w) = self.waker.lock().unwrap().take() {
                return w;
            }
            thread::yield_now();
        }
    }

    /// Takes the waker the first poll left. Nothing inside the std lock
    /// touches loom, so no model thread can be switched out while holding it.
    fn take_waker(&self) -> Waker {
        self.waker
            .lock()
            .unwrap()
            .take()
            .expect("the first poll left a waker")
    }

    /// The checks every model ends with, once the task should be gone.
    fn assert_task_released(&self) {
        assert_eq!(
            self.future_drops.load(SeqCst),
            1,
            "the future must be dropped exactly once"
        );
        assert_eq!(
            self.output_drops.load(SeqCst),
            self.outputs_made.load(SeqCst),
            "every output must be dropped exactly once"
        );
        assert!(self.outputs_made.load(SeqCst) <= 1);
        assert_eq!(
            self.deallocs.load(SeqCst),
            1,
            "the task must be deallocated exactly once (all references released)"
        );
    }
}

/// The output of a task: counts its own drop.
struct Output(StdArc<Probe>);

impl Output {
    fn new(probe: &StdArc<Probe>) -> Output {
        probe.outputs_made.fetch_add(1, SeqCst);
        Output(probe.clone())
    }
}

impl Drop for Output {
    fn drop(&mut self) {
        self.0.output_drops.fetch_add(1, SeqCst);
    }
}

/// How a [`TestFuture`] behaves.
enum Behavior {
    /// Ready on its first poll.
    Ready,
    /// Pending until `flag` reads true (`Acquire`, paired with the waker's
    /// `Release` store: a minimal channel). The first poll leaves a clone of
    /// its waker in the probe.
    UntilFlag(Arc<AtomicBool>),
    /// The first poll wakes the task by reference and returns `Pending`
    /// (the `yield_now` pattern); the second poll is ready.
    YieldOnce,
    /// The first poll leaves a clone of its waker in the probe, yields to
    /// its own scheduler (what `yield_now` does on a worker:
    /// `__loom::own_yield`) and returns `Pending`; the second is ready.
    OwnYieldOnce,
    /// Yields to its own scheduler at every poll; never ready.
    OwnYieldForever,
    /// Never ready; keeps no waker.
    Forever,
    /// Panics in its first poll (with [`EXPECTED_PANIC`]).
    Panic,
}

/// The message of the panics the models cause on purpose; the panic hook
/// installed by [`quiet_expected_panics`] does not print them.
const EXPECTED_PANIC: &str = "expected panic from a loom model";

/// Keeps the on-purpose panics out of the output (every interleaving causes
/// one); any other panic is printed as usual.
fn quiet_expected_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if info.payload().downcast_ref::<&str>() != Some(&EXPECTED_PANIC) {
                default(info);
            }
        }));
    });
}

struct TestFuture {
    probe: StdArc<Probe>,
    behavior: Behavior,
}

impl Future for TestFuture {
    type Output = Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Output> {
        let probe = &self.probe;
        assert!(
            !probe.finished.load(SeqCst),
            "a task was polled after it completed"
        );
        assert!(
            !probe.polling.swap(true, SeqCst),
            "a task was polled by two threads at once"
        );
        let n = probe.polls.fetch_add(1, SeqCst);
        let ready = match &self.behavior {
            Behavior::Ready => true,
            Behavior::UntilFlag(flag) => {
                if n == 0 {
                    let waker = cx.waker().clone();
                    let prev = probe.waker.lock().unwrap().replace(waker);
                    assert!(prev.is_none());
                }
                flag.load(Acquire)
            }
            Behavior::YieldOnce => {
                if n == 0 {
                    cx.waker().wake_by_ref();
                }
                n > 0
            }
            Behavior::OwnYieldOnce => {
                if n == 0 {
                    let waker = cx.waker().clone();
                    let prev = probe.waker.lock().unwrap().replace(waker);
                    assert!(prev.is_none());
                    assert!(own_yield(cx.waker()), "the task's own waker");
                }
                n > 0
            }
            Behavior::OwnYieldForever => {
                assert!(own_yield(cx.waker()), "the task's own waker");
                false
            }
            Behavior::Forever => false,
            Behavior::Panic => {
                probe.polling.store(false, SeqCst);
                std::panic::panic_any(EXPECTED_PANIC);
            }
        };
        probe.polling.store(false, SeqCst);
        if ready {
            probe.finished.store(true, SeqCst);
            Poll::Ready(Output::new(probe))
        } else {
            Poll::Pending
        }
    }
}

impl Drop for TestFuture {
    fn drop(&mut self) {
        self.probe.future_drops.fetch_add(1, SeqCst);
    }
}

type Queue = Arc<Mutex<VecDeque<Notified<Sched>>>>;

/// The mock scheduler each task holds: pushes to the shared run queue.
struct Sched {
    queue: Queue,
    probe: StdArc<Probe>,
    /// Where an unobserved panic is reported (the models of that).
    reporter: Option<StdArc<Reporter>>,
}

impl Schedule for Sched {
    /// As the worker scheduler: a task's own yield (`__loom::own_yield`)
    /// arrives at `yield_now` held (still `RUNNING`). Only [`Behavior::OwnYieldOnce`]
    /// yields that way; a plain `wake_by_ref` during the poll is the same
    /// for every scheduler.
    const DEFERS_YIELD: bool = true;

    fn reporter(&self) -> Option<&StdArc<Reporter>> {
        self.reporter.as_ref()
    }

    fn schedule(&self, task: Notified<Self>) {
        self.queue.lock().unwrap().push_back(task);
    }

    fn yield_now(&self, task: Notified<Self>) {
        self.probe.yields.fetch_add(1, SeqCst);
        self.schedule(task);
    }

    fn release(&self, _task: &Task<Self>) -> Option<Task<Self>> {
        // Unbound tasks are in no owned list.
        None
    }
}

impl Drop for Sched {
    fn drop(&mut self) {
        self.probe.deallocs.fetch_add(1, SeqCst);
    }
}

/// The model's view of the run queue: what a worker does with it.
#[derive(Clone)]
struct RunQueue(Queue);

impl RunQueue {
    /// Runs the tasks queued now, once each (what they queue while they
    /// run stays queued).
    fn run_all_once(&self) {
        let queued: Vec<_> = self.0.lock().unwrap().drain(..).collect();
        for task in queued {
            task.run();
        }
    }

    /// Runs queued tasks until the queue is empty (never holding the lock
    /// while a task runs: running may queue it again).
    fn run_all(&self) {
        loop {
            let next = self.0.lock().unwrap().pop_front();
            match next {
                Some(task) => task.run(),
                None => return,
            }
        }
    }
}

/// Spawns a task with `behavior`; its `Notified` is already queued.
fn spawn(probe: &StdArc<Probe>, behavior: Behavior) -> (RunQueue, JoinHandle<Output>) {
    spawn_reporting(probe, behavior, None)
}

/// [`spawn`] with a reporter for a panic nobody observes.
fn spawn_reporting(
    probe: &StdArc<Probe>,
    behavior: Behavior,
    reporter: Option<StdArc<Reporter>>,
) -> (RunQueue, JoinHandle<Output>) {
    let queue: Queue = Arc::new(Mutex::new(VecDeque::new()));
    let sched = Sched {
        queue: queue.clone(),
        probe: probe.clone(),
        reporter,
    };
    let future = TestFuture {
        probe: probe.clone(),
        behavior,
    };
    let (notified, join) = new_unbound(future, sched, next_id());
    queue.lock().unwrap().push_back(notified);
    (RunQueue(queue), join)
}

/// [`spawn`]s a task that waits for a flag and runs its first poll: the
/// task is idle, and the returned waker is the one that poll left.
fn spawn_waiting_for_flag(
    probe: &StdArc<Probe>,
) -> (RunQueue, JoinHandle<Output>, Arc<AtomicBool>, Waker) {
    let flag = Arc::new(AtomicBool::new(false));
    let (rq, join) = spawn(probe, Behavior::UntilFlag(flag.clone()));
    rq.run_all();
    assert_eq!(probe.polls.load(SeqCst), 1);
    let waker = probe.take_waker();
    (rq, join, flag, waker)
}

/// [`spawn`], then a first join poll (before the task ran) registers a
/// join waker.
fn spawn_with_join_waker(
    probe: &StdArc<Probe>,
    behavior: Behavior,
) -> (RunQueue, JoinHandle<Output>, StdArc<JoinWaker>) {
    let (rq, mut join) = spawn(probe, behavior);
    let jw = StdArc::new(JoinWaker::default());
    let waker = jw.waker();
    assert!(poll_join(&mut join, &waker).is_pending());
    (rq, join, jw)
}

/// A join waker that counts its wake-ups and its live clones, so a waker the
/// task forgets to drop, or drops twice, is caught.
#[derive(Default)]
struct JoinWaker {
    live: AtomicIsize,
    wakes: AtomicUsize,
}

impl JoinWaker {
    const VTABLE: RawWakerVTable = RawWakerVTable::new(
        JoinWaker::clone_raw,
        JoinWaker::wake_raw,
        JoinWaker::wake_by_ref_raw,
        JoinWaker::drop_raw,
    );

    /// A new waker; `self` must outlive it (the models keep the `StdArc`
    /// until after every task is gone).
    fn waker(self: &StdArc<Self>) -> Waker {
        self.live.fetch_add(1, SeqCst);
        let raw = RawWaker::new(StdArc::as_ptr(self).cast(), &Self::VTABLE);
        // SAFETY: the vtable keeps the `RawWaker` contract: the data pointer
        // is a `JoinWaker` that outlives every waker made from it.
        unsafe { Waker::from_raw(raw) }
    }

    fn of<'a>(data: *const ()) -> &'a JoinWaker {
        // SAFETY: `data` is the pointer made in `waker`, still live.
        unsafe { &*data.cast::<JoinWaker>() }
    }

    unsafe fn clone_raw(data: *const ()) -> RawWaker {
        Self::of(data).live.fetch_add(1, SeqCst);
        RawWaker::new(data, &Self::VTABLE)
    }

    unsafe fn wake_raw(data: *const ()) {
        // SAFETY: same contract as the vtable entry.
        unsafe {
            Self::wake_by_ref_raw(data);
            Self::drop_raw(data);
        }
    }

    unsafe fn wake_by_ref_raw(data: *const ()) {
        Self::of(data).wakes.fetch_add(1, SeqCst);
    }

    unsafe fn drop_raw(data: *const ()) {
        let prev = Self::of(data).live.fetch_sub(1, SeqCst);
        assert!(prev > 0, "a join waker was dropped more often than cloned");
    }

    fn assert_all_dropped(&self) {
        assert_eq!(self.live.load(SeqCst), 0, "a join waker was leaked");
    }
}

/// Polls the join handle once with `waker`.
fn poll_join(join: &mut JoinHandle<Output>, waker: &Waker) -> Poll<Result<Output, JoinError>> {
    Pin::new(join).poll(&mut Context::from_waker(waker))
}

/// Polls a join handle from another thread: registers a waker of `jw`
/// unless the task is already complete.
fn join_from(
    mut join: JoinHandle<Output>,
    jw: &StdArc<JoinWaker>,
) -> (JoinHandle<Output>, Poll<Result<Output, JoinError>>) {
    let waker = jw.waker();
    let first = poll_join(&mut join, &waker);
    (join, first)
}

/// The result of a join whose first poll gave `first`, once the task is
/// complete: if that poll was `Pending`, the task completed after `jw` was
/// registered and must have woken it, and a second poll is `Ready`.
fn join_result(
    first: Poll<Result<Output, JoinError>>,
    join: &mut JoinHandle<Output>,
    jw: &StdArc<JoinWaker>,
) -> Result<Output, JoinError> {
    match first {
        Poll::Ready(res) => res,
        Poll::Pending => {
            assert_eq!(
                jw.wakes.load(SeqCst),
                1,
                "the task completed after the join waker was registered but did not wake it"
            );
            let waker = jw.waker();
            let Poll::Ready(res) = poll_join(join, &waker) else {
                panic!("the task is complete but the join handle is pending");
            };
            res
        }
    }
}

/// The end of the models whose task must have completed: the join handle
/// gives the output at once, and then everything is released.
fn assert_completed(probe: &Probe, mut join: JoinHandle<Output>) {
    let jw = StdArc::new(JoinWaker::default());
    let waker = jw.waker();
    match poll_join(&mut join, &waker) {
        Poll::Ready(Ok(out)) => drop(out),
        Poll::Ready(Err(e)) => panic!("unexpected join error: {e}"),
        Poll::Pending => panic!("the wake was lost: the task did not complete"),
    }
    drop((waker, join));
    probe.assert_task_released();
    jw.assert_all_dropped();
}

/// How the racing waker of [`wake_racing_poll`] wakes.
#[derive(Clone, Copy)]
enum Wake {
    ByVal,
    ByRef,
}

/// A wake from another worker, racing the poll of the task it wakes (the
/// task is queued when the race starts, so the wake finds it queued,
/// running, or idle again); both threads then work the queue. The waker
/// publishes a flag first: the poll after the wake must see it, so the task
/// completes.
fn wake_racing_poll(wake: Wake) {
    let probe = Probe::new();
    let (rq, join, flag, waker) = spawn_waiting_for_flag(&probe);
    waker.wake_by_ref();

    let rq2 = rq.clone();
    let th = thread::spawn(move || {
        flag.store(true, Release);
        let kept = match wake {
            Wake::ByVal => {
                waker.wake();
                None
            }
            Wake::ByRef => {
                waker.wake_by_ref();
                Some(waker)
            }
        };
        rq2.run_all();
        drop(kept);
    });
    rq.run_all();
    th.join().unwrap();
    rq.run_all();
    assert_completed(&probe, join);
}

/// [`wake_racing_poll`] with a wake by value.
#[test]
fn wake_by_val_racing_poll_is_not_lost() {
    model("wake_by_val_racing_poll_is_not_lost", || {
        wake_racing_poll(Wake::ByVal)
    });
}

/// [`wake_racing_poll`] with a wake by reference (the waker is dropped
/// afterwards). A wake by reference that finds the task already queued
/// changes nothing in the state word, but it must still be ordered before
/// the poll that follows, or that poll can miss what the waker published.
#[test]
fn wake_by_ref_racing_poll_is_not_lost() {
    model("wake_by_ref_racing_poll_is_not_lost", || {
        wake_racing_poll(Wake::ByRef)
    });
}

/// `JoinHandle::cancel` and a join poll from one thread, racing a worker
/// that runs a task which wakes itself during its first poll (the
/// `yield_now` path) and completes on its second. The joiner gets either the
/// output or a cancellation error, never both and never neither; if its poll
/// was `Pending`, the task completed after the join waker was registered and
/// must have woken it.
#[test]
fn cancel_and_join_race_a_yielding_task() {
    model("cancel_and_join_race_a_yielding_task", || {
        let probe = Probe::new();
        let (rq, join) = spawn(&probe, Behavior::YieldOnce);
        let jw = StdArc::new(JoinWaker::default());

        let jw2 = jw.clone();
        let th = thread::spawn(move || {
            join.cancel();
            join_from(join, &jw2)
        });
        rq.run_all();
        let (mut join, first) = th.join().unwrap();
        rq.run_all();

        match join_result(first, &mut join, &jw) {
            Ok(out) => {
                // Completed before the cancel was seen: both polls ran.
                assert_eq!(probe.polls.load(SeqCst), 2);
                assert_eq!(probe.yields.load(SeqCst), 1);
                drop(out);
            }
            Err(e) => {
                assert!(e.is_cancelled(), "unexpected join error: {e}");
                assert_eq!(probe.outputs_made.load(SeqCst), 0);
            }
        }
        drop(join);
        probe.assert_task_released();
        jw.assert_all_dropped();
    });
}

/// Cancelling an idle task (polled once, waiting forever) and dropping its
/// handle, while a worker drains the run queue: the cancel queues the task,
/// and when it runs its future is dropped without another poll.
#[test]
fn cancel_of_idle_task_drops_future_when_run() {
    model("cancel_of_idle_task_drops_future_when_run", || {
        let probe = Probe::new();
        let (rq, join) = spawn(&probe, Behavior::Forever);
        rq.run_all();
        assert_eq!(probe.polls.load(SeqCst), 1);

        let th = thread::spawn(move || {
            join.cancel();
            drop(join);
        });
        rq.run_all();
        th.join().unwrap();
        rq.run_all();

        assert_eq!(probe.polls.load(SeqCst), 1, "a cancelled task was polled");
        probe.assert_task_released();
    });
}

/// A join poll that replaces the registered join waker, racing completion:
/// the old waker (registered before the race) and the new one are each
/// dropped exactly once, and if the join poll was `Pending` the new waker is
/// woken.
#[test]
fn join_waker_replacement_races_completion() {
    model("join_waker_replacement_races_completion", || {
        let probe = Probe::new();
        let (rq, join, old) = spawn_with_join_waker(&probe, Behavior::Ready);
        let new = StdArc::new(JoinWaker::default());

        let new2 = new.clone();
        let th = thread::spawn(move || join_from(join, &new2));
        rq.run_all();
        let (mut join, first) = th.join().unwrap();

        let res = join_result(first, &mut join, &new);
        drop(res.expect("the task completes normally"));
        drop(join);
        probe.assert_task_released();
        old.assert_all_dropped();
        new.assert_all_dropped();
    });
}

/// Dropping a join handle that has a registered join waker, racing the
/// completion of its task: the output and the join waker are each dropped
/// exactly once, by whichever side the state word hands them to, and both
/// are gone as soon as the task completed and the handle was dropped (a
/// waker of the task that is still alive does not keep them).
#[test]
fn join_handle_drop_races_completion() {
    model("join_handle_drop_races_completion", || {
        let probe = Probe::new();
        // Ready on its first poll (the flag is already set), which also
        // leaves a waker of the task behind.
        let flag = Arc::new(AtomicBool::new(true));
        let (rq, join, jw) = spawn_with_join_waker(&probe, Behavior::UntilFlag(flag));

        let th = thread::spawn(move || drop(join));
        rq.run_all();
        th.join().unwrap();

        assert_eq!(probe.outputs_made.load(SeqCst), 1);
        assert_eq!(
            probe.output_drops.load(SeqCst),
            1,
            "the output outlived its task"
        );
        jw.assert_all_dropped();
        assert_eq!(
            probe.deallocs.load(SeqCst),
            0,
            "a waker still holds the task"
        );
        drop(probe.take_waker());
        probe.assert_task_released();
    });
}

/// Three threads on one idle task that waits for a flag: one publishes the
/// flag and wakes by value, one wakes by reference, and each of them then
/// works the run queue, as does the main thread. However the wakes and polls
/// interleave, the task is polled by one thread at a time (two wakes never
/// make two `Notified`s), and it completes.
#[test]
fn two_wakers_and_three_workers() {
    model("two_wakers_and_three_workers", || {
        let probe = Probe::new();
        let (rq, join, flag, by_val) = spawn_waiting_for_flag(&probe);
        let by_ref = by_val.clone();

        let rq1 = rq.clone();
        let t1 = thread::spawn(move || {
            flag.store(true, Release);
            by_val.wake();
            rq1.run_all();
        });
        let rq2 = rq.clone();
        let t2 = thread::spawn(move || {
            by_ref.wake_by_ref();
            rq2.run_all();
        });
        rq.run_all();
        t1.join().unwrap();
        t2.join().unwrap();
        rq.run_all();
        assert_completed(&probe, join);
    });
}

/// A wake by value, a cancel and the detaching drop of the join handle, all
/// racing the poll of a queued task: whether the task completes or is
/// cancelled, its future and any output are dropped exactly once and the
/// task is deallocated.
#[test]
fn wake_cancel_and_detach_race_poll() {
    model("wake_cancel_and_detach_race_poll", || {
        let probe = Probe::new();
        let (rq, join, flag, waker) = spawn_waiting_for_flag(&probe);
        waker.wake_by_ref();

        let rq1 = rq.clone();
        let t1 = thread::spawn(move || {
            flag.store(true, Release);
            waker.wake();
            rq1.run_all();
        });
        let t2 = thread::spawn(move || {
            join.cancel();
            drop(join);
        });
        rq.run_all();
        t1.join().unwrap();
        t2.join().unwrap();
        rq.run_all();

        probe.assert_task_released();
    });
}

/// A future that panics in its poll, while the joiner polls the handle: the
/// panic is contained, the future is dropped once (by the unwind guard), and
/// the joiner gets a panic error, after a wake-up if it had registered.
#[test]
fn panic_in_poll_races_join() {
    quiet_expected_panics();
    model("panic_in_poll_races_join", || {
        let probe = Probe::new();
        let (rq, join) = spawn(&probe, Behavior::Panic);
        let jw = StdArc::new(JoinWaker::default());

        let jw2 = jw.clone();
        let th = thread::spawn(move || join_from(join, &jw2));
        rq.run_all();
        let (mut join, first) = th.join().unwrap();

        let res = join_result(first, &mut join, &jw);
        let err = res.err().expect("the task panicked");
        assert!(err.is_panic());
        assert_eq!(
            *err.into_panic().downcast::<&str>().unwrap(),
            EXPECTED_PANIC
        );
        drop(join);
        probe.assert_task_released();
        jw.assert_all_dropped();
    });
}

/// A reporter that counts the unobserved-panic reports it is given.
fn counting_reporter() -> (StdArc<Reporter>, StdArc<AtomicUsize>) {
    let reports = StdArc::new(AtomicUsize::new(0));
    let r = reports.clone();
    let hook = StdArc::new(move |report: &Report| {
        assert!(matches!(report, Report::UnobservedPanic { .. }));
        r.fetch_add(1, SeqCst);
    });
    let reporter = Reporter::new(Some(hook), UnhandledPanic::Report, None);
    (StdArc::new(reporter), reports)
}

/// A task panics while its `JoinHandle` is dropped unawaited on another
/// thread: whichever of the completer and the dropper ends up dropping the
/// panic reports it, exactly once.
#[test]
fn unobserved_panic_is_reported_once() {
    quiet_expected_panics();
    model("unobserved_panic_is_reported_once", || {
        let probe = Probe::new();
        let (reporter, reports) = counting_reporter();
        let (rq, join) = spawn_reporting(&probe, Behavior::Panic, Some(reporter));
        let th = thread::spawn(move || drop(join));
        rq.run_all();
        th.join().unwrap();
        assert_eq!(
            reports.load(SeqCst),
            1,
            "an unobserved panic is reported once"
        );
        probe.assert_task_released();
    });
}

/// A joiner that gets the panic has observed it: no report, whatever the
/// order of the panic and the join.
#[test]
fn observed_panic_is_not_reported() {
    quiet_expected_panics();
    model("observed_panic_is_not_reported", || {
        let probe = Probe::new();
        let (reporter, reports) = counting_reporter();
        let (rq, join) = spawn_reporting(&probe, Behavior::Panic, Some(reporter));
        let jw = StdArc::new(JoinWaker::default());
        let jw2 = jw.clone();
        let th = thread::spawn(move || join_from(join, &jw2));
        rq.run_all();
        let (mut join, first) = th.join().unwrap();
        let err = join_result(first, &mut join, &jw)
            .err()
            .expect("it panicked");
        drop(err);
        drop(join);
        assert_eq!(reports.load(SeqCst), 0, "an observed panic is not reported");
        probe.assert_task_released();
        jw.assert_all_dropped();
    });
}

/// A task's own yield (`OwnYieldOnce`: only the poll is marked, and the
/// task is queued *held*, still `RUNNING`) raced by a `wake_by_ref` from
/// another thread during that poll, while held, or during the next poll:
/// the wake finds the task `RUNNING` and only sets `NOTIFIED`, which the
/// next run clears or the end of the poll consumes, so the task is polled
/// exactly twice, through `yield_now` once, and completes.
#[test]
fn own_yield_merges_with_a_racing_wake() {
    model("own_yield_merges_with_a_racing_wake", || {
        let probe = Probe::new();
        let (rq, join) = spawn(&probe, Behavior::OwnYieldOnce);
        let th = {
            let probe = probe.clone();
            thread::spawn(move || {
                let waker = probe.wait_for_waker();
                waker.wake_by_ref();
                drop(waker);
            })
        };
        rq.run_all();
        th.join().unwrap();
        rq.run_all();
        assert_eq!(probe.polls.load(SeqCst), 2);
        assert_eq!(probe.yields.load(SeqCst), 1);
        assert_completed(&probe, join);
    });
}

/// A task's own yield raced by a cancel from another thread: cancelled at
/// its next run, which finds it held and `CANCELLED` (polled once), or
/// completed first (polled twice); the future is dropped once either way.
#[test]
fn own_yield_races_a_cancel() {
    model("own_yield_races_a_cancel", || {
        let probe = Probe::new();
        let (rq, join) = spawn(&probe, Behavior::OwnYieldOnce);
        let th = {
            let probe = probe.clone();
            thread::spawn(move || {
                drop(probe.wait_for_waker());
                join.cancel();
                join
            })
        };
        rq.run_all();
        let join = th.join().unwrap();
        rq.run_all();
        let jw = StdArc::new(JoinWaker::default());
        let (mut join, first) = join_from(join, &jw);
        match join_result(first, &mut join, &jw) {
            Ok(out) => {
                assert_eq!(probe.polls.load(SeqCst), 2);
                drop(out);
            }
            Err(e) => {
                assert!(e.is_cancelled(), "unexpected join error: {e}");
                assert_eq!(probe.polls.load(SeqCst), 1);
            }
        }
        drop(join);
        probe.assert_task_released();
        jw.assert_all_dropped();
    });
}

/// A held task is run by another thread (a thief that took it from the
/// queue) while the model thread wakes it by value: the queue hands the
/// right to poll over with the task (the future's cell is accessed from
/// both threads, which loom checks), and the wake, which finds the task
/// `RUNNING` (held or in its second poll) or complete, queues nothing: the
/// task is polled exactly twice, never by two threads at once, and
/// completes.
#[test]
fn held_task_runs_on_another_thread_racing_a_wake() {
    model("held_task_runs_on_another_thread_racing_a_wake", || {
        let probe = Probe::new();
        let (rq, join) = spawn(&probe, Behavior::OwnYieldOnce);
        rq.run_all_once();
        let waker = probe.take_waker();
        let thief = {
            let rq = rq.clone();
            thread::spawn(move || rq.run_all())
        };
        waker.wake();
        thief.join().unwrap();
        assert!(
            rq.0.lock().unwrap().is_empty(),
            "the wake queued the task again"
        );
        assert_eq!(probe.polls.load(SeqCst), 2);
        assert_eq!(probe.yields.load(SeqCst), 1);
        assert_completed(&probe, join);
    });
}

/// A task that yields forever, held in the queue, is run by a thief while
/// the model thread cancels it; then the model thread runs the queue once.
/// The thief's run finds `CANCELLED` and drops the future unpolled, or
/// polls it (the cancel came later) and queues it held again, `CANCELLED`
/// now or soon: a held task's run must honour the flag, so after the model
/// thread's run the task is cancelled, polled once or twice, and released.
#[test]
fn held_task_runs_on_another_thread_racing_a_cancel() {
    model("held_task_runs_on_another_thread_racing_a_cancel", || {
        let probe = Probe::new();
        let (rq, join) = spawn(&probe, Behavior::OwnYieldForever);
        rq.run_all_once();
        let thief = {
            let rq = rq.clone();
            thread::spawn(move || rq.run_all_once())
        };
        join.cancel();
        thief.join().unwrap();
        rq.run_all_once();
        assert!(
            rq.0.lock().unwrap().is_empty(),
            "a cancelled task was queued again"
        );
        let jw = StdArc::new(JoinWaker::default());
        let (mut join, first) = join_from(join, &jw);
        let err = join_result(first, &mut join, &jw)
            .err()
            .expect("the task never completes on its own");
        assert!(err.is_cancelled(), "unexpected join error: {err}");
        let polls = probe.polls.load(SeqCst);
        assert!(polls == 1 || polls == 2, "polled {polls} times");
        drop(join);
        probe.assert_task_released();
        jw.assert_all_dropped();
    });
}

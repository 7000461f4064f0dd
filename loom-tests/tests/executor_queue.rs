#![cfg(loom)]
//! Loom models of the run queues (`filch-executor/src/sched/queue.rs`): the
//! real `LifoSlot` together with the mutex-backed stand-in for
//! crossbeam-deque that the executor itself uses under `cfg(loom)`.
//!
//! The owner side repeats what `worker.rs` does with them: a task woken by
//! the running task goes into the LIFO slot, the task it displaces goes to
//! the back of the local deque, and the owner looks at the LIFO slot first,
//! then the deque. Thieves take the LIFO slot (as a worker rescuing a stuck
//! LIFO task does) and steal a batch from the deque. The property: every
//! task is run exactly once and none is lost or leaked. *When* a thief may
//! take the LIFO slot is timing policy and is not modelled here.

mod common;

use common::model;
use filch_executor::__loom::{
    JoinHandle, LifoSlot, Local, Notified, Schedule, Stealer, Task, new_unbound, next_id,
};
use loom::cell::UnsafeCell;
use loom::sync::Arc;
use loom::thread;
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc as StdArc;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;
use std::task::{Context, Poll, Waker};

/// How often each job ran and how many were dropped (std atomics: loom runs
/// all model threads on one OS thread; these only record, and are checked
/// after every model thread was joined).
struct Tally {
    runs: Vec<AtomicUsize>,
    drops: AtomicUsize,
    /// Tasks deallocated (their scheduler handle dropped).
    deallocs: AtomicUsize,
}

impl Tally {
    fn new(n: usize) -> StdArc<Tally> {
        StdArc::new(Tally {
            runs: (0..n).map(|_| AtomicUsize::new(0)).collect(),
            drops: AtomicUsize::new(0),
            deallocs: AtomicUsize::new(0),
        })
    }

    fn assert_each_ran_once(&self) {
        for (id, runs) in self.runs.iter().enumerate() {
            assert_eq!(runs.load(SeqCst), 1, "job {id} must run exactly once");
        }
    }
}

/// A queued job. Its payload is written by the thread that queues it after
/// the job was made, and read by whoever runs it: loom flags the read if the
/// queue did not order it after the write.
struct Job {
    id: usize,
    payload: UnsafeCell<usize>,
    tally: StdArc<Tally>,
}

impl Job {
    fn new(id: usize, tally: &StdArc<Tally>) -> Box<Job> {
        let job = Box::new(Job {
            id,
            payload: UnsafeCell::new(0),
            tally: tally.clone(),
        });
        // SAFETY: the job is not shared yet.
        job.payload.with_mut(|p| unsafe { *p = id + 100 });
        job
    }

    /// Runs the job, taking the box as the queues hand it over.
    #[allow(clippy::boxed_local)]
    fn run(self: Box<Self>) {
        // SAFETY: whoever runs the job owns it.
        let payload = self.payload.with(|p| unsafe { *p });
        assert_eq!(payload, self.id + 100);
        self.tally.runs[self.id].fetch_add(1, SeqCst);
    }
}

impl Drop for Job {
    fn drop(&mut self) {
        self.tally.drops.fetch_add(1, SeqCst);
    }
}

/// The owner's queues, as `worker.rs` uses them.
struct Owner<T: filch_executor::__loom::IntoPtr> {
    lifo: Arc<LifoSlot<T>>,
    local: Local<T>,
}

impl<T: filch_executor::__loom::IntoPtr> Owner<T> {
    fn new() -> Owner<T> {
        Owner {
            lifo: Arc::new(LifoSlot::new()),
            local: Local::new_fifo(),
        }
    }

    /// `schedule_local` with LIFO enabled: the displaced task goes to the
    /// back of the deque.
    fn schedule(&self, task: T) {
        if let Some(prev) = self.lifo.push(task) {
            self.local.push(prev);
        }
    }

    /// `next_task` without the injector: LIFO slot first, then the deque.
    fn next(&self) -> Option<T> {
        self.lifo.take().or_else(|| self.local.pop())
    }
}

/// A thief: rescues the LIFO task, then steals half of the deque into its own
/// deque, and runs everything it got.
fn thief<T: filch_executor::__loom::IntoPtr>(
    lifo: &LifoSlot<T>,
    stealer: &Stealer<T>,
    mut run: impl FnMut(T),
) {
    if let Some(task) = lifo.take() {
        run(task);
    }
    let mine = Local::new_fifo();
    if let Some(task) = stealer.steal_batch_and_pop(&mine).success() {
        run(task);
    }
    while let Some(task) = mine.pop() {
        run(task);
    }
}

/// The owner queues three jobs through the LIFO slot (each displaces the
/// previous one into the deque) and runs one of them midway, while
/// `thieves` threads each take the LIFO slot and steal from the deque; the
/// owner drains what is left at the end. Each job runs once, on whichever
/// thread took it, and sees the payload written before it was queued.
fn lifo_and_deque_model(thieves: usize) {
    let tally = Tally::new(3);
    let owner = Owner::<Box<Job>>::new();

    let threads: Vec<_> = (0..thieves)
        .map(|_| {
            let lifo = owner.lifo.clone();
            let stealer = owner.local.stealer();
            thread::spawn(move || thief(&lifo, &stealer, Job::run))
        })
        .collect();

    owner.schedule(Job::new(0, &tally));
    owner.schedule(Job::new(1, &tally));
    if let Some(job) = owner.next() {
        job.run();
    }
    owner.schedule(Job::new(2, &tally));
    for th in threads {
        th.join().unwrap();
    }
    while let Some(job) = owner.next() {
        job.run();
    }

    tally.assert_each_ran_once();
    assert_eq!(tally.drops.load(SeqCst), 3);
}

#[test]
fn lifo_slot_and_deque_with_a_thief() {
    model("lifo_slot_and_deque_with_a_thief", || {
        lifo_and_deque_model(1)
    });
}

#[test]
fn lifo_slot_and_deque_with_two_thieves() {
    model("lifo_slot_and_deque_with_two_thieves", || {
        lifo_and_deque_model(2)
    });
}

/// Two thieves race the owner for one LIFO task: exactly one of the three
/// takes it.
#[test]
fn lifo_slot_taken_by_exactly_one() {
    model("lifo_slot_taken_by_exactly_one", || {
        let tally = Tally::new(1);
        let lifo = Arc::new(LifoSlot::<Box<Job>>::new());
        lifo.push(Job::new(0, &tally));

        let thieves: Vec<_> = (0..2)
            .map(|_| {
                let lifo = lifo.clone();
                thread::spawn(move || {
                    if let Some(job) = lifo.take() {
                        job.run();
                    }
                })
            })
            .collect();
        if let Some(job) = lifo.take() {
            job.run();
        }
        for th in thieves {
            th.join().unwrap();
        }

        tally.assert_each_ran_once();
        assert!(!lifo.is_occupied());
        assert_eq!(tally.drops.load(SeqCst), 1);
    });
}

/// The scheduler of tasks that complete on their first poll: never asked
/// to queue anything; counts its drop, which is the task's deallocation.
struct NoSched(StdArc<Tally>);

impl Drop for NoSched {
    fn drop(&mut self) {
        self.0.deallocs.fetch_add(1, SeqCst);
    }
}

impl Schedule for NoSched {
    fn schedule(&self, _task: Notified<Self>) {
        unreachable!("the queue models' tasks are never woken");
    }

    fn release(&self, _task: &Task<Self>) -> Option<Task<Self>> {
        None
    }
}

/// A future that records its poll and is ready at once.
struct Once {
    id: usize,
    tally: StdArc<Tally>,
}

impl Future for Once {
    type Output = usize;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<usize> {
        self.tally.runs[self.id].fetch_add(1, SeqCst);
        Poll::Ready(self.id)
    }
}

impl Drop for Once {
    fn drop(&mut self) {
        self.tally.drops.fetch_add(1, SeqCst);
    }
}

/// The first model again, with real tasks instead of boxed jobs (`Notified`
/// travels through the LIFO slot as a raw pointer and through the deque by
/// value): each task is polled once, each join handle gets its task's
/// output, and every task is deallocated.
#[test]
fn real_tasks_through_lifo_slot_and_deque_with_a_thief() {
    model(
        "real_tasks_through_lifo_slot_and_deque_with_a_thief",
        || {
            let tally = Tally::new(2);
            let owner = Owner::<Notified<NoSched>>::new();
            let mut joins: Vec<JoinHandle<usize>> = Vec::new();
            let mut spawn = |id| {
                let future = Once {
                    id,
                    tally: tally.clone(),
                };
                let (notified, join) = new_unbound(future, NoSched(tally.clone()), next_id());
                joins.push(join);
                notified
            };
            let (a, b) = (spawn(0), spawn(1));

            let lifo = owner.lifo.clone();
            let stealer = owner.local.stealer();
            let th = thread::spawn(move || thief(&lifo, &stealer, Notified::run));

            owner.schedule(a);
            owner.schedule(b);
            if let Some(task) = owner.next() {
                task.run();
            }
            th.join().unwrap();
            while let Some(task) = owner.next() {
                task.run();
            }

            tally.assert_each_ran_once();
            assert_eq!(tally.drops.load(SeqCst), 2, "each future dropped once");
            for (id, mut join) in joins.into_iter().enumerate() {
                let out = Pin::new(&mut join).poll(&mut Context::from_waker(Waker::noop()));
                assert!(matches!(out, Poll::Ready(Ok(n)) if n == id));
            }
            assert_eq!(tally.deallocs.load(SeqCst), 2, "each task deallocated once");
        },
    );
}

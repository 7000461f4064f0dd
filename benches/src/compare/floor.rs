//! The floors: what a workload's bookkeeping costs on one thread with no
//! runtime, so that each runtime's figure reads as a multiple of it.
//!
//! A scheduler floor is a count of the three things any work-stealing
//! runtime must do, done back to back on one thread:
//!
//! * `allocs`: one allocation and free of a task-sized payload per task
//!   (and per channel a workload creates): a 64-byte `Box`. glibc serves
//!   every size these futures have from the same small-bin path, so the
//!   exact size does not matter;
//! * `queue`: one push/pop pair on a crossbeam-deque FIFO (the worker queue
//!   filch uses) per time a task is made runnable (spawned or woken);
//! * `wakes`: one atomic read-modify-write per wake-up or completion (the
//!   state-word transition a waker or a join needs at the least).
//!
//! The payloads travel through the deque, so a task's allocation is live
//! from its spawn to its last pop, as in the runtimes.
//!
//! A timer floor is a sorted insert and removal per timer in a
//! `BinaryHeap`; for the random sleeps, the floor also waits until the
//! longest sleep's deadline, since nothing can finish before it.
//!
//! The floor runs in the same rounds as the runtimes, so it sees the same
//! machine. It uses one thread where the runtimes use `--workers`, so a
//! runtime can beat it (by running on two cores, or by not doing the work:
//! filch's `timeout` never registers a timer whose future is ready at
//! once). Owns the floor code only.

use super::Instance;
use crate::sched::{CHAIN, NUM_PINGS, NUM_SPAWN, NUM_YIELD, YIELD_TASKS};
use crate::timer::{MAX_SLEEP, SLEEPS, TIMEOUT_TASKS, TIMEOUTS, random_ms};
use crossbeam_deque::Worker;
use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::hint::black_box;
use std::sync::atomic::{AtomicU64, Ordering::AcqRel};
use std::time::Instant;

/// What one iteration of a scheduler workload must do at the least.
#[derive(Clone, Copy, Debug)]
pub struct Ops {
    pub allocs: u64,
    pub queue: u64,
    pub wakes: u64,
}

/// 10,000 tasks: each allocated, queued once, completed once.
pub const SPAWN_MANY_LOCAL: Ops = Ops {
    allocs: NUM_SPAWN as u64,
    queue: NUM_SPAWN as u64,
    wakes: NUM_SPAWN as u64,
};

/// The same, each completion also waking its join handle (one RMW).
pub const REMOTE_IDLE: Ops = SPAWN_MANY_LOCAL;

/// 200 tasks, queued at spawn and after each of their 1,000 yields; each
/// yield is a wake-up.
pub const YIELD_MANY: Ops = Ops {
    allocs: YIELD_TASKS as u64,
    queue: (YIELD_TASKS * (NUM_YIELD + 1)) as u64,
    wakes: (YIELD_TASKS * NUM_YIELD) as u64,
};

/// Per pair: two tasks and two oneshots allocated; both tasks queued at
/// spawn and the pinger once more when the pong wakes it; two sends, each
/// a wake-up.
pub const PING_PONG: Ops = Ops {
    allocs: 4 * NUM_PINGS as u64,
    queue: 3 * NUM_PINGS as u64,
    wakes: 2 * NUM_PINGS as u64,
};

/// 1,000 tasks, each allocated, queued and completed once.
pub const CHAINED_SPAWN: Ops = Ops {
    allocs: CHAIN as u64,
    queue: CHAIN as u64,
    wakes: CHAIN as u64,
};

/// A task-sized payload.
struct Payload([u64; 8]);

/// The scheduler floor of `ops`, as an instance.
pub fn sched(ops: Ops) -> Instance {
    let queue = Worker::<Box<Payload>>::new_fifo();
    let state = AtomicU64::new(0);
    Box::new(super::timed(move || {
        sched_once(ops, &queue, &state);
        0
    }))
}

fn sched_once(ops: Ops, queue: &Worker<Box<Payload>>, state: &AtomicU64) {
    for i in 0..ops.allocs.min(ops.queue) {
        queue.push(Box::new(Payload([i; 8])));
    }
    let mut requeue = ops.queue.saturating_sub(ops.allocs);
    let mut wakes = ops.wakes;
    // Allocations beyond the queued tasks (channels): allocated and freed.
    for i in ops.queue..ops.allocs {
        drop(black_box(Box::new(Payload([i; 8]))));
    }
    while let Some(task) = queue.pop() {
        black_box(task.0[0]);
        if wakes > 0 {
            state.fetch_add(1, AcqRel);
            wakes -= 1;
        }
        if requeue > 0 {
            queue.push(task);
            requeue -= 1;
        } else {
            drop(black_box(task));
        }
    }
    for _ in 0..wakes {
        state.fetch_add(1, AcqRel);
    }
}

/// 1,000,000 timeouts over 64 tasks: 64 task allocations and queue pairs,
/// and per timeout a sorted insert and removal in a heap holding the other
/// tasks' 63 live timers.
pub fn timeouts() -> Instance {
    let tasks = Ops {
        allocs: TIMEOUT_TASKS as u64,
        queue: TIMEOUT_TASKS as u64,
        wakes: TIMEOUT_TASKS as u64,
    };
    let queue = Worker::<Box<Payload>>::new_fifo();
    let state = AtomicU64::new(0);
    let mut heap = BinaryHeap::with_capacity(TIMEOUT_TASKS);
    Box::new(super::timed(move || {
        sched_once(tasks, &queue, &state);
        heap.clear();
        for t in 0..TIMEOUT_TASKS as u64 - 1 {
            heap.push(Reverse(30_000 + t));
        }
        let mut sum = 0u64;
        for i in 0..TIMEOUTS as u64 {
            heap.push(Reverse(30_000 + i));
            sum = sum.wrapping_add(heap.pop().map_or(0, |r| r.0));
        }
        black_box(sum)
    }))
}

/// 100,000 sleeps: a task each (allocated, queued at spawn and at its
/// wake-up, woken once), a sorted insert of every deadline and their
/// removal in deadline order; then a wait until the longest deadline.
pub fn sleeps() -> Instance {
    let tasks = Ops {
        allocs: SLEEPS,
        queue: 2 * SLEEPS,
        wakes: SLEEPS,
    };
    let queue = Worker::<Box<Payload>>::new_fifo();
    let state = AtomicU64::new(0);
    let mut heap = BinaryHeap::with_capacity(SLEEPS as usize);
    Box::new(super::timed(move || {
        let start = Instant::now();
        for i in 0..SLEEPS {
            heap.push(Reverse(random_ms(i)));
        }
        let mut sum = 0u64;
        while let Some(Reverse(ms)) = heap.pop() {
            sum = sum.wrapping_add(ms);
        }
        sched_once(tasks, &queue, &state);
        let end = start + MAX_SLEEP;
        let now = Instant::now();
        if end > now {
            std::thread::sleep(end - now);
        }
        black_box(sum)
    }))
}

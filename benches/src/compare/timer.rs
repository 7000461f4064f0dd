//! The timer rows: the workloads of `benches/common/timer.rs`, each with
//! its floor.

use super::{Kind, Spec, floor};
use crate::per_runtime;
use crate::timer::{SLEEPS, TIMEOUT_TASKS, TIMEOUTS, random_ms};

pub fn specs() -> Vec<Spec> {
    vec![
        Spec {
            name: "timeouts_1m",
            family: "timers",
            what: "1M timeout(30 s, ready), 64 tasks",
            ops: TIMEOUTS as u64,
            kind: Kind::Timer,
            make: per_runtime!(timer, timed |rt, w| w::timeout_ready(&rt)),
            floor: Some(floor::timeouts),
            expect: Some(|iters| {
                let per_task = (TIMEOUTS / TIMEOUT_TASKS) as u64;
                iters * TIMEOUT_TASKS as u64 * per_task * (per_task - 1) / 2
            }),
        },
        Spec {
            name: "sleeps_100k",
            family: "timers",
            what: "100k tasks sleep 1-50 ms",
            ops: SLEEPS,
            kind: Kind::Timer,
            make: per_runtime!(timer, timed |rt, w| w::sleeps_random(&rt)),
            floor: Some(floor::sleeps),
            expect: Some(|iters| iters * (0..SLEEPS).map(random_ms).sum::<u64>()),
        },
    ]
}

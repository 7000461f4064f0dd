//! The scheduler rows: the workloads of `benches/common/sched.rs` (tokio's
//! `rt_multi_threaded` shapes), each with its floor.

use super::{Kind, Spec, floor};
use crate::per_runtime;
use crate::sched::{CHAIN, NUM_PINGS, NUM_SPAWN, NUM_YIELD, YIELD_TASKS, sum_below};

pub fn specs() -> Vec<Spec> {
    vec![
        Spec {
            name: "spawn_many_local",
            family: "scheduler",
            what: "10,000 spawns from a task",
            ops: NUM_SPAWN as u64,
            kind: Kind::Sched,
            make: per_runtime!(sched, timed |rt, w| w::spawn_many_local(&rt)),
            floor: Some(|| floor::sched(floor::SPAWN_MANY_LOCAL)),
            expect: Some(|iters| iters * NUM_SPAWN as u64),
        },
        Spec {
            name: "remote_idle",
            family: "scheduler",
            what: "10,000 spawns from outside, joined",
            ops: NUM_SPAWN as u64,
            kind: Kind::Sched,
            make: per_runtime!(sched, timed |rt, w| w::spawn_many_remote(&rt, NUM_SPAWN)),
            floor: Some(|| floor::sched(floor::REMOTE_IDLE)),
            expect: Some(|iters| iters * sum_below(NUM_SPAWN)),
        },
        Spec {
            name: "yield_many",
            family: "scheduler",
            what: "200 tasks x 1,000 yields",
            ops: (YIELD_TASKS * NUM_YIELD) as u64,
            kind: Kind::Sched,
            make: per_runtime!(sched, timed |rt, w| w::yield_many(&rt)),
            floor: Some(|| floor::sched(floor::YIELD_MANY)),
            expect: Some(|iters| iters * (YIELD_TASKS * NUM_YIELD) as u64),
        },
        Spec {
            name: "ping_pong",
            family: "scheduler",
            what: "1,000 task pairs, 2 oneshots each",
            ops: NUM_PINGS as u64,
            kind: Kind::Sched,
            make: per_runtime!(sched, timed |rt, w| w::ping_pong(&rt)),
            floor: Some(|| floor::sched(floor::PING_PONG)),
            expect: Some(|iters| iters * sum_below(NUM_PINGS + 1)),
        },
        Spec {
            name: "chained_spawn",
            family: "scheduler",
            what: "a chain of 1,000 spawns",
            ops: CHAIN as u64,
            kind: Kind::Sched,
            make: per_runtime!(sched, timed |rt, w| w::chained_spawn(&rt)),
            floor: Some(|| floor::sched(floor::CHAINED_SPAWN)),
            expect: Some(|iters| iters * CHAIN as u64),
        },
    ]
}

//! The sync rows: the workloads of `benches/common/sync.rs`, each on its
//! runtime family's own primitives. No floor: the primitives' own protocol
//! is what is measured.

use super::{Kind, Spec, timed};
use crate::per_runtime;
use std::sync::Arc;

pub fn specs() -> Vec<Spec> {
    vec![
        Spec {
            name: "mpsc",
            family: "sync",
            what: "5 senders x 1,000 msgs, bounded 128",
            ops: 5_000,
            kind: Kind::Sync,
            make: per_runtime!(sync, timed |rt, w| rt.block_on(w::mpsc_bounded(128))),
            floor: None,
            expect: Some(|iters| iters * 5 * (1_000 * 999 / 2)),
        },
        Spec {
            name: "oneshot_request_reply",
            family: "sync",
            what: "1,000 requests from block_on",
            ops: 1_000,
            kind: Kind::Sync,
            make: per_runtime!(sync, |side, w, workers| {
                let rt = side::Rt::new(workers);
                let server = rt.block_on(async { w::start_server() });
                timed(move || rt.block_on(w::request_reply(&server)))
            }),
            floor: None,
            expect: Some(|iters| iters * (1..=1_000).sum::<u64>()),
        },
        Spec {
            name: "semaphore",
            family: "sync",
            what: "6 tasks x 100 acquires of 5 permits",
            ops: 600,
            kind: Kind::Sync,
            make: per_runtime!(sync, |side, w, workers| {
                let rt = side::Rt::new(workers);
                let sem = Arc::new(side::sync::Semaphore::new(5));
                timed(move || rt.block_on(w::semaphore_contended(sem.clone())))
            }),
            floor: None,
            expect: Some(|iters| iters * 600),
        },
        Spec {
            name: "mutex_contended",
            family: "sync",
            what: "5 tasks x 1,000 increments",
            ops: 5_000,
            kind: Kind::Sync,
            make: per_runtime!(sync, |side, w, workers| {
                let rt = side::Rt::new(workers);
                let m = Arc::new(side::sync::Mutex::new(0u64));
                timed(move || rt.block_on(w::mutex_contended(m.clone())))
            }),
            floor: None,
            expect: Some(|iters| iters * 5_000),
        },
    ]
}

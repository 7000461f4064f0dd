//! filch-sync beside tokio::sync and smol's primitives, one workload per
//! primitive, in one run. The workloads are `benches/common/sync.rs`
//! (written once against each side's `sync` module; shared with the
//! `compare` binary); this file owns the criterion groups only.
//!
//! Group names are `sync/<workload>` with the functions `filch`,
//! `filch-pool-only` (filch with `block_on_runs_tasks(false)`: the
//! `block_on` thread only polls its future, as tokio's does), `tokio`,
//! `filch-sync-on-tokio` (filch's primitives on tokio's runtime, to tell the
//! primitive's cost from the executor's) and `smol` (async-channel and
//! async-lock on async-executor; not for `Notify`, which smol lacks); results
//! and their reading are in `docs/benchmarks.md`. 2 workers per runtime,
//! each with all its drivers.

use criterion::{Criterion, criterion_group, criterion_main};
use filch_benches::sides;
// The workload modules, per side.
use filch_benches::sync as work;
use filch_benches::sync::notify as notify_work;
use std::sync::Arc;
use std::time::Duration;

const WORKERS: usize = 2;

/// Benches one workload in group `sync/<name>` on each listed contender
/// (`filch`, `pool_only`, `tokio`, `filch_on_tokio`, `smol`); only the
/// runtime being measured is alive. `$root` is the workload module
/// (`work` or `notify_work`), `$make` builds per-contender state inside the
/// runtime with that side's `sync` module and workload module `$w` in
/// scope; the body sees it as `$s`.
macro_rules! group {
    ($c:expr, $name:expr, [$($who:ident),+], $root:ident, |$w:ident, $s:ident| $body:expr, $make:expr) => {{
        let mut g = $c.benchmark_group(format!("sync/{}", $name));
        $(group!(@one $who, g, $root, |$w, $s| $body, $make);)+
        g.finish();
    }};
    (@one filch, $g:ident, $root:ident, |$w:ident, $s:ident| $body:expr, $make:expr) => {
        group!(@run "filch", sides::filch::Rt::with(WORKERS, true), filch, filch, $g, $root, |$w, $s| $body, $make)
    };
    (@one pool_only, $g:ident, $root:ident, |$w:ident, $s:ident| $body:expr, $make:expr) => {
        group!(@run "filch-pool-only", sides::filch::Rt::with(WORKERS, false), filch, filch, $g, $root, |$w, $s| $body, $make)
    };
    (@one tokio, $g:ident, $root:ident, |$w:ident, $s:ident| $body:expr, $make:expr) => {
        group!(@run "tokio", sides::tokio::Rt::new(WORKERS), tokio, tokio, $g, $root, |$w, $s| $body, $make)
    };
    (@one filch_on_tokio, $g:ident, $root:ident, |$w:ident, $s:ident| $body:expr, $make:expr) => {
        group!(@run "filch-sync-on-tokio", sides::tokio::Rt::new(WORKERS), filch_on_tokio, filch_on_tokio, $g, $root, |$w, $s| $body, $make)
    };
    (@one smol, $g:ident, $root:ident, |$w:ident, $s:ident| $body:expr, $make:expr) => {
        group!(@run "smol", sides::smol::Rt::new(WORKERS), smol, smol, $g, $root, |$w, $s| $body, $make)
    };
    (@run $id:expr, $rt:expr, $side:ident, $work:ident, $g:ident, $root:ident, |$w:ident, $s:ident| $body:expr, $make:expr) => {{
        let rt = $rt;
        #[allow(unused_imports)]
        use $root::$work as $w;
        let $s = {
            #[allow(unused_imports)]
            use sides::$side::sync;
            rt.block_on(async { $make })
        };
        $g.bench_function($id, |b| b.iter(|| rt.block_on($body)));
    }};
}

fn mpsc(c: &mut Criterion) {
    // Not on smol: async-channel allocates a bounded channel's whole
    // capacity up front, so this one would measure a 1M-slot allocation.
    group!(
        c,
        "mpsc_bounded",
        [filch, pool_only, tokio, filch_on_tokio],
        work,
        |w, _s| w::mpsc_bounded(1_000_000),
        ()
    );
    group!(
        c,
        "mpsc_bounded_full",
        [filch, pool_only, tokio, filch_on_tokio, smol],
        work,
        |w, _s| w::mpsc_bounded(100),
        ()
    );
    group!(
        c,
        "mpsc_unbounded",
        [filch, pool_only, tokio, filch_on_tokio, smol],
        work,
        |w, _s| w::mpsc_unbounded(),
        ()
    );
}

fn oneshot(c: &mut Criterion) {
    // The server task is spawned inside each side's runtime by `$make`.
    group!(
        c,
        "oneshot_request_reply",
        [filch, pool_only, tokio, filch_on_tokio, smol],
        work,
        |w, server| w::request_reply(&server),
        w::start_server()
    );
}

fn semaphore(c: &mut Criterion) {
    group!(
        c,
        "semaphore_uncontended",
        [filch, pool_only, tokio, filch_on_tokio, smol],
        work,
        |w, sem| w::semaphore_uncontended(&sem),
        sync::Semaphore::new(10)
    );
    group!(
        c,
        "semaphore_contended",
        [filch, pool_only, tokio, filch_on_tokio, smol],
        work,
        |w, sem| w::semaphore_contended(sem.clone()),
        Arc::new(sync::Semaphore::new(5))
    );
}

fn mutex(c: &mut Criterion) {
    group!(
        c,
        "mutex_contended",
        [filch, pool_only, tokio, filch_on_tokio, smol],
        work,
        |w, m| w::mutex_contended(m.clone()),
        Arc::new(sync::Mutex::new(0u64))
    );
}

fn notify(c: &mut Criterion) {
    for n in [10, 50, 100, 200, 500] {
        group!(
            c,
            format!("notify_waiters_{n}"),
            [filch, pool_only, tokio, filch_on_tokio],
            notify_work,
            |w, waiters| w::notify_rounds(&waiters, true),
            w::start_waiters(n)
        );
        group!(
            c,
            format!("notify_one_{n}"),
            [filch, pool_only, tokio, filch_on_tokio],
            notify_work,
            |w, waiters| w::notify_rounds(&waiters, false),
            w::start_waiters(n)
        );
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4))
        .sample_size(40)
}

criterion_group! {
    name = sync;
    config = config();
    targets = mpsc, oneshot, semaphore, mutex, notify
}
criterion_main!(sync);

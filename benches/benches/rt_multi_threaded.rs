//! tokio's `rt_multi_threaded` scheduler workloads, run on filch, tokio and
//! smol side by side, 2 workers each. The workloads themselves are
//! `benches/common/sched.rs` (shared with the `compare` binary, which runs
//! them interleaved); this file owns the criterion groups only.
//!
//! Each workload is one criterion group whose ids are `filch`,
//! `filch-pool-only` (filch with `block_on_runs_tasks(false)`, tokio's
//! multi-thread behaviour, so that what the helping `block_on` thread
//! brings can be told from the rest), `filch-debug` (filch in debug mode: a
//! slow-poll threshold, so every poll is timed into the histogram and
//! watched; its cost reads as `filch-debug` / `filch`), `tokio` and `smol`
//! (async-executor + async-io, `crate::sides::smol`), so one `cargo bench`
//! run compares them:
//!
//! ```text
//! cargo bench -p filch-benches --bench rt_multi_threaded
//! ```
//!
//! Every runtime is built with all its drivers (filch's facade runtime,
//! tokio's `enable_all`, smol with async-io) and lives only while its own
//! benchmark id runs, so background tasks of the busy workloads never
//! compete with another runtime.

use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, criterion_group, criterion_main};
use filch_benches::sched::{self, BUSY2_SPAWN, Busy, NUM_SPAWN};
use filch_benches::sides;
use std::time::Duration;

const WORKERS: usize = 2;

fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(30)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    g
}

/// filch three ways, built one at a time as iterated: its defaults, with
/// the `block_on` thread leaving every task to the workers, and in debug
/// mode.
fn filch_rts() -> impl Iterator<Item = (&'static str, sides::filch::Rt)> {
    [
        ("filch", true, false),
        ("filch-pool-only", false, false),
        ("filch-debug", true, true),
    ]
    .into_iter()
    .map(|(id, helps, debug)| {
        let mut b = filch::Runtime::builder();
        b.worker_threads(WORKERS).block_on_runs_tasks(helps);
        if debug {
            b.slow_poll_threshold(Duration::from_secs(1));
        }
        (id, sides::filch::Rt(b.build().expect("filch runtime")))
    })
}

/// Benches `$iter` once per contender, with `$rt` its runtime and `$w` its
/// workload module; `$prep` runs before the measurement and is dropped
/// after it, before the runtime.
macro_rules! contenders {
    ($g:expr, |$rt:ident, $w:ident| prepare: $prep:expr, iter: $iter:expr) => {{
        for (id, rt) in filch_rts() {
            let $rt = rt;
            use sched::filch as $w;
            let _prep = $prep;
            $g.bench_function(id, |b| b.iter(|| $iter));
        }
        {
            let $rt = sides::tokio::Rt::new(WORKERS);
            use sched::tokio as $w;
            let _prep = $prep;
            $g.bench_function("tokio", |b| b.iter(|| $iter));
        }
        {
            let $rt = sides::smol::Rt::new(WORKERS);
            use sched::smol as $w;
            let _prep = $prep;
            $g.bench_function("smol", |b| b.iter(|| $iter));
        }
    }};
}

fn spawn_many_local(c: &mut Criterion) {
    let mut g = group(c, "spawn_many_local");
    contenders!(g, |rt, w| prepare: (), iter: w::spawn_many_local(&rt));
    g.finish();
}

fn spawn_many_remote(c: &mut Criterion, name: &str, busy: Busy, n: usize) {
    let mut g = group(c, name);
    contenders!(g, |rt, w| prepare: w::start_background(&rt, busy, WORKERS),
        iter: w::spawn_many_remote(&rt, n));
    g.finish();
}

fn spawn_many_remote_idle(c: &mut Criterion) {
    spawn_many_remote(c, "spawn_many_remote_idle", Busy::Idle, NUM_SPAWN);
}

fn spawn_many_remote_busy1(c: &mut Criterion) {
    spawn_many_remote(c, "spawn_many_remote_busy1", Busy::Yielding, NUM_SPAWN);
}

fn spawn_many_remote_busy2(c: &mut Criterion) {
    spawn_many_remote(c, "spawn_many_remote_busy2", Busy::Spawning, BUSY2_SPAWN);
}

fn yield_many(c: &mut Criterion) {
    let mut g = group(c, "yield_many");
    contenders!(g, |rt, w| prepare: (), iter: w::yield_many(&rt));
    g.finish();
}

fn ping_pong(c: &mut Criterion) {
    let mut g = group(c, "ping_pong");
    contenders!(g, |rt, w| prepare: (), iter: w::ping_pong(&rt));
    g.finish();
}

fn chained_spawn(c: &mut Criterion) {
    let mut g = group(c, "chained_spawn");
    contenders!(g, |rt, w| prepare: (), iter: w::chained_spawn(&rt));
    g.finish();
}

criterion_group!(
    rt_multi_threaded,
    spawn_many_local,
    spawn_many_remote_idle,
    spawn_many_remote_busy1,
    spawn_many_remote_busy2,
    yield_many,
    ping_pong,
    chained_spawn,
);
criterion_main!(rt_multi_threaded);

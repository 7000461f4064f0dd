//! The blocking-pool workloads of `benches/common/blocking.rs` ((a) a
//! burst of 2,000 `spawn_blocking` calls among 20,000 plain tasks, (b)
//! 10,000 sequential round trips, (c) 64 tasks × 100 small-file reads, (d)
//! the same with the pool capped at 4 threads) on filch, tokio and smol's
//! `blocking::unblock`, 2 workers each, one criterion group per workload:
//!
//! ```text
//! cargo bench -p filch-benches --bench blocking
//! ```
//!
//! smol's pool size is read from `BLOCKING_MAX_THREADS` once per process,
//! so smol appears in `fs_reads` only when that variable is unset and in
//! `fs_reads_capped` only when it is `4`:
//! `BLOCKING_MAX_THREADS=4 cargo bench -p filch-benches --bench blocking -- capped`.
//! Criterion measures one contender after the other, and on a noisy VM the
//! windows drift more than the differences: the blocking rows of the comparison binary
//! (`cargo run --release -p filch-benches --bin compare -- --filter blocking`)
//! is the comparison to quote.

use filch_benches::blocking;

use blocking::{FS_CAP, Files, WORKERS};
use criterion::measurement::WallTime;
use criterion::{BenchmarkGroup, Criterion, SamplingMode, criterion_group, criterion_main};
use std::time::Duration;

fn group<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut g = c.benchmark_group(name);
    g.sampling_mode(SamplingMode::Flat)
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    g
}

/// Whether smol's pool in this process has `cap` threads at most (`None`:
/// the crate's default).
fn smol_cap_is(cap: Option<usize>) -> bool {
    std::env::var("BLOCKING_MAX_THREADS").ok() == cap.map(|n| n.to_string())
}

/// One criterion group running `$workload` (a function of each side's
/// module taking the runtime) on every side, checked against `$want`.
macro_rules! group_of_sides {
    ($c:expr, $name:expr, $workload:ident, $want:expr) => {{
        let mut g = group($c, $name);
        let want = $want;
        {
            let rt = blocking::filch::rt(WORKERS, None);
            g.bench_function("filch", |b| {
                b.iter(|| assert_eq!(blocking::filch::$workload(&rt), want))
            });
        }
        {
            let rt = blocking::tokio::rt(WORKERS, None);
            g.bench_function("tokio", |b| {
                b.iter(|| assert_eq!(blocking::tokio::$workload(&rt), want))
            });
        }
        {
            let rt = blocking::smol::rt(WORKERS, None);
            g.bench_function("smol", |b| {
                b.iter(|| assert_eq!(blocking::smol::$workload(&rt), want))
            });
        }
    }};
}

fn burst(c: &mut Criterion) {
    group_of_sides!(c, "blocking_burst", burst, blocking::burst_checksum());
}

fn round_trips(c: &mut Criterion) {
    group_of_sides!(
        c,
        "blocking_round_trips",
        round_trips,
        blocking::round_trips_checksum()
    );
}

fn fs_reads_with(c: &mut Criterion, name: &str, cap: Option<usize>) {
    let mut g = group(c, name);
    let files = Files::new();
    let want = blocking::fs_reads_checksum();
    {
        let rt = blocking::filch::rt(WORKERS, cap);
        g.bench_function("filch", |b| {
            b.iter(|| assert_eq!(blocking::filch::fs_reads(&rt, &files), want))
        });
    }
    {
        let rt = blocking::tokio::rt(WORKERS, cap);
        g.bench_function("tokio", |b| {
            b.iter(|| assert_eq!(blocking::tokio::fs_reads(&rt, &files), want))
        });
    }
    if smol_cap_is(cap) {
        let rt = blocking::smol::rt(WORKERS, cap);
        g.bench_function("smol", |b| {
            b.iter(|| assert_eq!(blocking::smol::fs_reads(&rt, &files), want))
        });
    }
}

fn fs_reads(c: &mut Criterion) {
    fs_reads_with(c, "blocking_fs_reads", None);
}

fn fs_reads_capped(c: &mut Criterion) {
    fs_reads_with(c, "blocking_fs_reads_capped", Some(FS_CAP));
}

criterion_group!(benches, burst, round_trips, fs_reads, fs_reads_capped);
criterion_main!(benches);

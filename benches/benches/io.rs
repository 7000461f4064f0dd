//! TCP echo on loopback, filch beside tokio in one run: 64 persistent
//! connections, each doing round trips of 64-byte or 16 KiB messages
//! against an echo server in the same runtime (2 workers each).
//!
//! One criterion iteration is one round trip on every connection at once;
//! throughput is counted in bytes sent by the clients. Both runtimes run
//! with an I/O driver and no timer driver (tokio: `enable_io()` only), so
//! the comparison is reactor against reactor. This file owns the
//! I/O benchmark only; results and commands are in `docs/benchmarks.md`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use std::time::Duration;

#[path = "../common/echo.rs"]
mod echo;
use echo::{CONNECTIONS, filch_side, tokio_side};

const SIZES: [usize; 2] = [64, 16 << 10];

fn tcp_echo(c: &mut Criterion) {
    let mut group = c.benchmark_group("tcp_echo_64conn");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    let mut filch = filch_side::Bench::new();
    let mut tokio = tokio_side::Bench::new();
    for size in SIZES {
        group.throughput(Throughput::Bytes((CONNECTIONS * size) as u64));
        group.bench_with_input(BenchmarkId::new("filch", size), &size, |b, &size| {
            b.iter_custom(|iters| filch.run(iters, size))
        });
        group.bench_with_input(BenchmarkId::new("tokio", size), &size, |b, &size| {
            b.iter_custom(|iters| tokio.run(iters, size))
        });
    }
    group.finish();
}

criterion_group!(benches, tcp_echo);
criterion_main!(benches);

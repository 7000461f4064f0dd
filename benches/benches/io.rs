//! TCP echo on loopback, filch beside tokio and smol in one run: 64
//! persistent connections, each doing round trips of 64-byte or 16 KiB
//! messages against an echo server in the same runtime (2 workers each).
//!
//! One criterion iteration is one round trip on every connection at once;
//! throughput is counted in bytes sent by the clients. Each runtime runs
//! with all its drivers. The workload is `benches/common/echo.rs` (shared
//! with `io_interleaved` and the `compare` binary); this file owns the
//! criterion group only. Results and commands are in `docs/benchmarks.md`.

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use filch_benches::echo::{self, CONNECTIONS};
use std::time::Duration;

const SIZES: [usize; 2] = [64, 16 << 10];
const WORKERS: usize = 2;

fn tcp_echo(c: &mut Criterion) {
    let mut group = c.benchmark_group("tcp_echo_64conn");
    group
        .sample_size(20)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(5));
    let mut filch = echo::filch::Bench::new(WORKERS);
    let mut tokio = echo::tokio::Bench::new(WORKERS);
    let mut smol = echo::smol::Bench::new(WORKERS);
    for size in SIZES {
        group.throughput(Throughput::Bytes((CONNECTIONS * size) as u64));
        group.bench_with_input(BenchmarkId::new("filch", size), &size, |b, &size| {
            b.iter_custom(|iters| filch.run(iters, size).0)
        });
        group.bench_with_input(BenchmarkId::new("tokio", size), &size, |b, &size| {
            b.iter_custom(|iters| tokio.run(iters, size).0)
        });
        group.bench_with_input(BenchmarkId::new("smol", size), &size, |b, &size| {
            b.iter_custom(|iters| smol.run(iters, size).0)
        });
    }
    group.finish();
}

criterion_group!(benches, tcp_echo);
criterion_main!(benches);

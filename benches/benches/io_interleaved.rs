//! TCP echo, filch against tokio in **interleaved bursts** in one run:
//! the same workload as `benches/io.rs` (64 loopback connections, 2
//! workers per runtime), but instead of one long window per runtime it runs
//! many short bursts, alternating which runtime goes first, and reports the
//! median of the per-round ratios. On a noisy 2-core VM that cancels the
//! drift between two long windows, which is what makes criterion's two
//! medians disagree from run to run by more than the difference measured.
//!
//! Reports, per runtime, the median wall time and the median CPU time
//! (user + system, whole process: the idle runtime is parked and uses
//! none) per round trip on all 64 connections.
//!
//! ```text
//! cargo bench -p filch-benches --bench io_interleaved
//! ```
//! Knobs (environment): `ECHO_SIZES` (message sizes, default `64,16384`),
//! `ECHO_ROUNDS` (default 40), `ECHO_BURST_MS` (default 150). Not a
//! criterion bench (`harness = false`): criterion measures one contender
//! at a time. The `compare` binary's echo rows are the same measurement
//! with smol added and without the CPU figures. This file owns the
//! measurement loop only; the workload is `benches/common/echo.rs`, the
//! statistics `filch_benches::stats`.

use filch_benches::echo;
use filch_benches::stats::{median, median_with_ci};
use std::time::Duration;

const WORKERS: usize = 2;

/// Process CPU time (user + system) so far.
fn cpu_time() -> Duration {
    // SAFETY: `getrusage` writes one `rusage` into the zeroed value we own.
    let usage = unsafe {
        let mut usage: libc::rusage = std::mem::zeroed();
        assert_eq!(libc::getrusage(libc::RUSAGE_SELF, &mut usage), 0);
        usage
    };
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    tv(usage.ru_utime) + tv(usage.ru_stime)
}

/// Wall and CPU time per iteration of one burst.
#[derive(Clone, Copy)]
struct Sample {
    wall_us: f64,
    cpu_us: f64,
}

/// One side's workload: `iters` round trips on every connection.
type Run<'a> = Box<dyn FnMut(u64) -> Duration + 'a>;

fn burst(run: &mut Run<'_>, iters: u64) -> Sample {
    let cpu = cpu_time();
    let wall = run(iters);
    let cpu = cpu_time() - cpu;
    Sample {
        wall_us: wall.as_secs_f64() * 1e6 / iters as f64,
        cpu_us: cpu.as_secs_f64() * 1e6 / iters as f64,
    }
}

/// The environment knob `name` as a `T`, or `default`.
fn knob<T: std::str::FromStr>(name: &str, default: T) -> T {
    match std::env::var(name) {
        Ok(v) => v
            .parse()
            .unwrap_or_else(|_| panic!("{name}={v:?} is not a valid number")),
        Err(_) => default,
    }
}

fn main() {
    // `cargo bench` passes `--bench` (and any filter); there is nothing to
    // filter here, so arguments are ignored.
    let sizes: Vec<usize> = std::env::var("ECHO_SIZES")
        .unwrap_or_else(|_| "64,16384".into())
        .split(',')
        .map(|v| {
            v.trim()
                .parse()
                .unwrap_or_else(|_| panic!("ECHO_SIZES: {v:?} is not a size in bytes"))
        })
        .collect();
    let rounds: usize = knob("ECHO_ROUNDS", 40);
    let burst_ms: u64 = knob("ECHO_BURST_MS", 150);
    assert!(rounds > 0, "ECHO_ROUNDS must be at least 1");

    let mut filch = echo::filch::Bench::new(WORKERS);
    let mut tokio = echo::tokio::Bench::new(WORKERS);
    for size in sizes {
        let mut sides: [(&str, Run<'_>); 2] = [
            ("filch", Box::new(|iters| filch.run(iters, size).0)),
            ("tokio", Box::new(|iters| tokio.run(iters, size).0)),
        ];
        compare(&mut sides, size, rounds, burst_ms);
    }
}

/// `rounds` alternated bursts of about `burst_ms` each for both sides;
/// prints the medians and the median per-round ratio.
fn compare(sides: &mut [(&str, Run<'_>); 2], size: usize, rounds: usize, burst_ms: u64) {
    // Warm up both and size the bursts from tokio's pace.
    for (_, run) in sides.iter_mut() {
        burst(run, 200);
    }
    let per_iter = burst(&mut sides[1].1, 500).wall_us;
    let iters = ((burst_ms as f64 * 1e3 / per_iter) as u64).max(10);

    let mut samples: Vec<[Sample; 2]> = Vec::with_capacity(rounds);
    for round in 0..rounds {
        let mut pair = [Sample {
            wall_us: 0.0,
            cpu_us: 0.0,
        }; 2];
        // Alternate who goes first so neither always follows the other.
        let order = if round % 2 == 0 { [0, 1] } else { [1, 0] };
        for i in order {
            pair[i] = burst(&mut sides[i].1, iters);
        }
        samples.push(pair);
    }

    println!("tcp echo, {size} B, 64 connections, {rounds} rounds of {iters} round trips each");
    for (i, (name, _)) in sides.iter().enumerate() {
        let wall = median(&samples.iter().map(|p| p[i].wall_us).collect::<Vec<_>>());
        let cpu = median(&samples.iter().map(|p| p[i].cpu_us).collect::<Vec<_>>());
        println!(
            "{name:>6}: median {wall:8.1} µs wall, {cpu:8.1} µs CPU per round trip on all connections"
        );
    }
    let (wall, ci) = median_with_ci(
        &samples
            .iter()
            .map(|p| p[0].wall_us / p[1].wall_us)
            .collect::<Vec<_>>(),
    );
    let (lo, hi) = ci.unwrap_or((f64::NAN, f64::NAN));
    let cpu = median(
        &samples
            .iter()
            .map(|p| p[0].cpu_us / p[1].cpu_us)
            .collect::<Vec<_>>(),
    );
    let faster = samples
        .iter()
        .filter(|p| p[0].wall_us < p[1].wall_us)
        .count();
    println!(
        "filch/tokio time per round trip: median of the per-round ratios {wall:.3} \
         (95% CI {lo:.3}-{hi:.3}), CPU {cpu:.3}; below 1 is filch faster; \
         filch faster in {faster} of {rounds} rounds"
    );
}

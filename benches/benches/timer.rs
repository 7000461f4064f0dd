//! Timer benchmarks, filch beside tokio and smol in one run, 2 workers
//! each. The workloads are `benches/common/timer.rs` (shared with the
//! `compare` binary); this file owns the criterion groups and the lateness
//! report:
//!
//! * `timeout_ready`: 1,000,000 `timeout(30 s, ready)` created and dropped
//!   without firing, spread over 64 tasks (both workers busy).
//! * `timeout_pending_once`: the same, but the inner future is pending once
//!   (a request that completes after one wake-up): every timer is really
//!   registered and then cancelled, which is what a server does per request.
//! * `sleeps_random`: 100,000 tasks sleeping a random 1-50 ms, all completing;
//!   measured in wall time and again in process CPU time.
//! * lateness of `sleep(10 ms)` on an idle runtime: printed as p50/p99 after
//!   the criterion groups (criterion reports means and medians only).

use criterion::measurement::{Measurement, ValueFormatter};
use criterion::{BenchmarkGroup, BenchmarkId, Criterion, Throughput};
use filch_benches::{sides, timer};
use std::time::{Duration, Instant};

const WORKERS: usize = 2;

/// Benches `$iter` once per runtime in group `$g`, with `$rt` the runtime
/// and `$w` its workload module; `$id` turns a name into the benchmark id.
macro_rules! contenders {
    ($g:expr, |$rt:ident, $w:ident| $iter:expr) => {{
        {
            let $rt = sides::filch::Rt::new(WORKERS);
            use timer::filch as $w;
            $g.bench_function(BenchmarkId::from_parameter("filch"), |b| b.iter(|| $iter));
        }
        {
            let $rt = sides::tokio::Rt::new(WORKERS);
            use timer::tokio as $w;
            $g.bench_function(BenchmarkId::from_parameter("tokio"), |b| b.iter(|| $iter));
        }
        {
            let $rt = sides::smol::Rt::new(WORKERS);
            use timer::smol as $w;
            $g.bench_function(BenchmarkId::from_parameter("smol"), |b| b.iter(|| $iter));
        }
    }};
}

fn timeouts(c: &mut Criterion) {
    let mut g = c.benchmark_group("timer/timeout_ready");
    g.sample_size(20).measurement_time(Duration::from_secs(6));
    g.throughput(Throughput::Elements(timer::TIMEOUTS as u64));
    contenders!(g, |rt, w| w::timeout_ready(&rt));
    g.finish();

    let mut g = c.benchmark_group("timer/timeout_pending_once");
    g.sample_size(20).measurement_time(Duration::from_secs(6));
    g.throughput(Throughput::Elements(timer::TIMEOUTS as u64));
    contenders!(g, |rt, w| w::timeout_pending_once(&rt));
    g.finish();
}

fn sleeps<M: Measurement>(mut g: BenchmarkGroup<'_, M>) {
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    contenders!(g, |rt, w| w::sleeps_random(&rt));
    g.finish();
}

/// Process CPU time (all threads), so a runtime that burns CPU while it
/// waits (spinning, timed polling) shows up.
struct CpuTime;

fn process_cpu_time() -> Duration {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; CLOCK_PROCESS_CPUTIME_ID is
    // supported on every Linux the benches run on.
    let rc = unsafe { libc::clock_gettime(libc::CLOCK_PROCESS_CPUTIME_ID, &mut ts) };
    assert_eq!(rc, 0, "clock_gettime(CLOCK_PROCESS_CPUTIME_ID) failed");
    Duration::new(ts.tv_sec as u64, ts.tv_nsec as u32)
}

impl Measurement for CpuTime {
    type Intermediate = Duration;
    type Value = Duration;
    fn start(&self) -> Duration {
        process_cpu_time()
    }
    fn end(&self, start: Duration) -> Duration {
        process_cpu_time().saturating_sub(start)
    }
    fn add(&self, a: &Duration, b: &Duration) -> Duration {
        *a + *b
    }
    fn zero(&self) -> Duration {
        Duration::ZERO
    }
    fn to_f64(&self, v: &Duration) -> f64 {
        v.as_nanos() as f64
    }
    fn formatter(&self) -> &dyn ValueFormatter {
        &CpuFormatter
    }
}

struct CpuFormatter;

impl ValueFormatter for CpuFormatter {
    fn scale_values(&self, typical: f64, values: &mut [f64]) -> &'static str {
        let (factor, unit) = if typical < 1e3 {
            (1.0, "ns cpu")
        } else if typical < 1e6 {
            (1e-3, "µs cpu")
        } else if typical < 1e9 {
            (1e-6, "ms cpu")
        } else {
            (1e-9, "s cpu")
        };
        for v in values.iter_mut() {
            *v *= factor;
        }
        unit
    }
    fn scale_throughputs(
        &self,
        _typical: f64,
        _t: &Throughput,
        values: &mut [f64],
    ) -> &'static str {
        for v in values.iter_mut() {
            *v *= 1.0;
        }
        "ns cpu"
    }
    fn scale_for_machines(&self, _values: &mut [f64]) -> &'static str {
        "ns cpu"
    }
}

fn sleeps_cpu(c: &mut Criterion<CpuTime>) {
    sleeps(c.benchmark_group("timer/sleeps_random_cpu"));
}

/// `sleep(10 ms)` lateness on an idle runtime: (p50, p99) in microseconds.
fn lateness(sample: impl Fn() -> Duration, n: usize) -> (f64, f64) {
    let mut late: Vec<f64> = (0..n)
        .map(|_| {
            let elapsed = sample();
            elapsed
                .saturating_sub(Duration::from_millis(10))
                .as_secs_f64()
                * 1e6
        })
        .collect();
    late.sort_by(|a, b| a.total_cmp(b));
    (late[n / 2], late[n * 99 / 100])
}

/// One runtime's lateness, measured with its own `sleep`.
macro_rules! lateness_of {
    ($side:ident, $n:expr) => {{
        let rt = sides::$side::Rt::new(WORKERS);
        lateness(
            || {
                rt.block_on(rt.spawn(async {
                    let start = Instant::now();
                    sides::$side::time::sleep(Duration::from_millis(10)).await;
                    start.elapsed()
                }))
            },
            $n,
        )
    }};
}

fn lateness_report() {
    const N: usize = 300;
    let rows = [
        ("filch", lateness_of!(filch, N)),
        ("tokio", lateness_of!(tokio, N)),
        ("smol", lateness_of!(smol, N)),
    ];
    println!("\ntimer/sleep_10ms_lateness ({N} sleeps each, idle runtime, 2 workers)");
    println!("  runtime    p50 (µs)   p99 (µs)");
    for (name, (p50, p99)) in rows {
        println!("  {name:6} {p50:9.0}  {p99:9.0}");
    }
    let (f, t) = (rows[0].1, rows[1].1);
    println!("  filch/tokio {:6.2}  {:9.2}", f.0 / t.0, f.1 / t.1);
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    timeouts(&mut c);
    sleeps(c.benchmark_group("timer/sleeps_random_wall"));
    let mut cpu = Criterion::default()
        .with_measurement(CpuTime)
        .configure_from_args();
    sleeps_cpu(&mut cpu);
    c.final_summary();
    if std::env::args().any(|a| a == "--bench") {
        lateness_report();
    }
}

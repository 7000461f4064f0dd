//! Timer benchmarks (issue 3), filch beside tokio in one run, 2 workers each:
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
use criterion::{BenchmarkId, Criterion, Throughput};
use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};

const WORKERS: usize = 2;

fn filch_rt() -> filch::Runtime {
    filch::Runtime::builder()
        .worker_threads(WORKERS)
        .build()
        .unwrap()
}

fn tokio_rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(WORKERS)
        .enable_all()
        .build()
        .unwrap()
}

/// Pending once, then ready (wakes itself).
struct PendingOnce(bool);

impl Future for PendingOnce {
    type Output = ();
    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        if self.0 {
            Poll::Ready(())
        } else {
            self.0 = true;
            cx.waker().wake_by_ref();
            Poll::Pending
        }
    }
}

const TIMEOUTS: usize = 1_000_000;
const TIMEOUT_TASKS: usize = 64;

fn timeouts(c: &mut Criterion) {
    let mut g = c.benchmark_group("timer/timeout_ready");
    g.sample_size(20).measurement_time(Duration::from_secs(6));
    g.throughput(Throughput::Elements(TIMEOUTS as u64));
    {
        let rt = filch_rt();
        g.bench_function("filch", |b| {
            b.iter(|| {
                rt.block_on(async {
                    let tasks: Vec<_> = (0..TIMEOUT_TASKS)
                        .map(|_| {
                            filch::spawn(async {
                                let mut sum = 0usize;
                                for i in 0..TIMEOUTS / TIMEOUT_TASKS {
                                    sum +=
                                        filch::time::timeout(Duration::from_secs(30), async { i })
                                            .await
                                            .unwrap();
                                }
                                sum
                            })
                        })
                        .collect();
                    for t in tasks {
                        std::hint::black_box(t.await.unwrap());
                    }
                })
            })
        });
    }
    {
        let rt = tokio_rt();
        g.bench_function("tokio", |b| {
            b.iter(|| {
                rt.block_on(async {
                    let tasks: Vec<_> = (0..TIMEOUT_TASKS)
                        .map(|_| {
                            tokio::spawn(async {
                                let mut sum = 0usize;
                                for i in 0..TIMEOUTS / TIMEOUT_TASKS {
                                    sum +=
                                        tokio::time::timeout(Duration::from_secs(30), async { i })
                                            .await
                                            .unwrap();
                                }
                                sum
                            })
                        })
                        .collect();
                    for t in tasks {
                        std::hint::black_box(t.await.unwrap());
                    }
                })
            })
        });
    }
    g.finish();

    let mut g = c.benchmark_group("timer/timeout_pending_once");
    g.sample_size(20).measurement_time(Duration::from_secs(6));
    g.throughput(Throughput::Elements(TIMEOUTS as u64));
    {
        let rt = filch_rt();
        g.bench_function("filch", |b| {
            b.iter(|| {
                rt.block_on(async {
                    let tasks: Vec<_> = (0..TIMEOUT_TASKS)
                        .map(|_| {
                            filch::spawn(async {
                                for _ in 0..TIMEOUTS / TIMEOUT_TASKS {
                                    filch::time::timeout(
                                        Duration::from_secs(30),
                                        PendingOnce(false),
                                    )
                                    .await
                                    .unwrap();
                                }
                            })
                        })
                        .collect();
                    for t in tasks {
                        t.await.unwrap();
                    }
                })
            })
        });
    }
    {
        let rt = tokio_rt();
        g.bench_function("tokio", |b| {
            b.iter(|| {
                rt.block_on(async {
                    let tasks: Vec<_> = (0..TIMEOUT_TASKS)
                        .map(|_| {
                            tokio::spawn(async {
                                for _ in 0..TIMEOUTS / TIMEOUT_TASKS {
                                    tokio::time::timeout(
                                        Duration::from_secs(30),
                                        PendingOnce(false),
                                    )
                                    .await
                                    .unwrap();
                                }
                            })
                        })
                        .collect();
                    for t in tasks {
                        t.await.unwrap();
                    }
                })
            })
        });
    }
    g.finish();
}

const SLEEPS: u64 = 100_000;

/// A fixed pseudo-random 1..=50 ms for task `i` (same for both runtimes).
fn random_ms(i: u64) -> Duration {
    let mut x = i.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xD1B5_4A32_D192_ED03;
    x ^= x >> 31;
    Duration::from_millis(1 + x % 50)
}

fn filch_sleeps(rt: &filch::Runtime) {
    rt.block_on(async {
        let tasks: Vec<_> = (0..SLEEPS)
            .map(|i| filch::spawn(async move { filch::time::sleep(random_ms(i)).await }))
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    })
}

fn tokio_sleeps(rt: &tokio::runtime::Runtime) {
    rt.block_on(async {
        let tasks: Vec<_> = (0..SLEEPS)
            .map(|i| tokio::spawn(async move { tokio::time::sleep(random_ms(i)).await }))
            .collect();
        for t in tasks {
            t.await.unwrap();
        }
    })
}

fn sleeps_wall(c: &mut Criterion) {
    let mut g = c.benchmark_group("timer/sleeps_random_wall");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    {
        let rt = filch_rt();
        g.bench_function("filch", |b| b.iter(|| filch_sleeps(&rt)));
    }
    {
        let rt = tokio_rt();
        g.bench_function("tokio", |b| b.iter(|| tokio_sleeps(&rt)));
    }
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
    let mut g = c.benchmark_group("timer/sleeps_random_cpu");
    g.sample_size(20).measurement_time(Duration::from_secs(8));
    {
        let rt = filch_rt();
        g.bench_function(BenchmarkId::from_parameter("filch"), |b| {
            b.iter(|| filch_sleeps(&rt))
        });
    }
    {
        let rt = tokio_rt();
        g.bench_function(BenchmarkId::from_parameter("tokio"), |b| {
            b.iter(|| tokio_sleeps(&rt))
        });
    }
    g.finish();
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

fn lateness_report() {
    const N: usize = 300;
    let rt = filch_rt();
    let filch = lateness(
        || {
            rt.block_on(rt.spawn(async {
                let start = Instant::now();
                filch::time::sleep(Duration::from_millis(10)).await;
                start.elapsed()
            }))
            .unwrap()
        },
        N,
    );
    drop(rt);
    let rt = tokio_rt();
    let tokio = lateness(
        || {
            rt.block_on(rt.spawn(async {
                let start = Instant::now();
                tokio::time::sleep(Duration::from_millis(10)).await;
                start.elapsed()
            }))
            .unwrap()
        },
        N,
    );
    println!("\ntimer/sleep_10ms_lateness ({N} sleeps each, idle runtime, 2 workers)");
    println!("  runtime    p50 (µs)   p99 (µs)");
    println!("  filch    {:9.0}  {:9.0}", filch.0, filch.1);
    println!("  tokio    {:9.0}  {:9.0}", tokio.0, tokio.1);
    println!(
        "  ratio    {:9.2}  {:9.2}",
        filch.0 / tokio.0,
        filch.1 / tokio.1
    );
}

fn main() {
    let mut c = Criterion::default().configure_from_args();
    timeouts(&mut c);
    sleeps_wall(&mut c);
    let mut cpu = Criterion::default()
        .with_measurement(CpuTime)
        .configure_from_args();
    sleeps_cpu(&mut cpu);
    c.final_summary();
    if std::env::args().any(|a| a == "--bench") {
        lateness_report();
    }
}

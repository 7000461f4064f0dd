//! One scheduler workload on one runtime, a fixed number of times: a driver
//! for profilers (`perf stat`, `perf record`, `valgrind`), whose counts can
//! then be divided by the iteration count. The workloads are
//! `benches/common/sched.rs`, the same code the criterion bench
//! (`benches/rt_multi_threaded.rs`) and the `compare` binary measure; this
//! is the microscope.
//!
//! ```text
//! cargo build --release -p filch-benches --example rt_workload
//! perf stat -e context-switches,syscalls:sys_enter_futex \
//!     target/release/examples/rt_workload filch spawn_many_local 200
//! ```
//!
//! Runtimes: `filch`, `tokio`, `smol`. Workloads: `spawn_many_local`,
//! `spawn_many_remote_idle`, `spawn_many_remote_busy1`,
//! `spawn_many_remote_busy2`, `yield_many`, `ping_pong`, `chained_spawn`.
//! Prints the mean wall time per iteration. `FILCH_GLOBAL_QUEUE_INTERVAL=n`
//! sets filch's `global_queue_interval`; `WORKERS=n` the worker count
//! (default 2).

use filch_benches::sched::{self, BUSY2_SPAWN, Busy, NUM_SPAWN};
use filch_benches::sides;
use std::time::Instant;

/// Runs `workload` `iters` times on runtime `$rt` with workload module `$w`.
macro_rules! run {
    ($rt:expr, $w:path, $workload:expr, $iters:expr, $workers:expr) => {{
        use $w as w;
        let rt = $rt;
        let busy = match $workload {
            "spawn_many_remote_busy1" => Busy::Yielding,
            "spawn_many_remote_busy2" => Busy::Spawning,
            _ => Busy::Idle,
        };
        let _background = w::start_background(&rt, busy, $workers);
        let start = Instant::now();
        for _ in 0..$iters {
            std::hint::black_box(match $workload {
                "spawn_many_local" => w::spawn_many_local(&rt),
                "spawn_many_remote_idle" | "spawn_many_remote_busy1" => {
                    w::spawn_many_remote(&rt, NUM_SPAWN)
                }
                "spawn_many_remote_busy2" => w::spawn_many_remote(&rt, BUSY2_SPAWN),
                "yield_many" => w::yield_many(&rt),
                "ping_pong" => w::ping_pong(&rt),
                "chained_spawn" => w::chained_spawn(&rt),
                other => panic!("unknown workload {other}"),
            });
        }
        start.elapsed() / $iters as u32
    }};
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (Some(rt), Some(workload)) = (args.get(1), args.get(2)) else {
        eprintln!("usage: rt_workload <filch|tokio|smol> <workload> [iterations]");
        std::process::exit(2);
    };
    let iters: usize = args.get(3).map_or(100, |s| s.parse().expect("iterations"));
    let workers: usize = std::env::var("WORKERS").map_or(2, |v| v.parse().expect("WORKERS"));
    let workload = workload.as_str();
    let per = match rt.as_str() {
        "filch" => {
            let mut b = filch::Runtime::builder();
            b.worker_threads(workers);
            if let Ok(v) = std::env::var("FILCH_GLOBAL_QUEUE_INTERVAL") {
                b.global_queue_interval(v.parse().expect("FILCH_GLOBAL_QUEUE_INTERVAL"));
            }
            let filch = sides::filch::Rt(b.build().expect("filch runtime"));
            run!(filch, sched::filch, workload, iters, workers)
        }
        "tokio" => run!(
            sides::tokio::Rt::new(workers),
            sched::tokio,
            workload,
            iters,
            workers
        ),
        "smol" => run!(
            sides::smol::Rt::new(workers),
            sched::smol,
            workload,
            iters,
            workers
        ),
        other => panic!("unknown runtime {other}"),
    };
    println!("{workload}: {per:?} per iteration ({iters} iterations)");
}

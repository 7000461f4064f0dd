//! One I/O workload (`benches/common/echo.rs`, `benches/common/http.rs`)
//! on one runtime, a fixed number of iterations: a driver for profilers
//! (`perf stat`, `strace -c -f`, `valgrind --tool=callgrind`), whose counts
//! can then be divided by the iteration count. The comparison binary's I/O
//! rows (`compare --filter io`) are the measurement; this is the
//! microscope.
//!
//! ```text
//! cargo build --release -p filch-benches --example io_workload
//! strace -c -f target/release/examples/io_workload filch echo_64b 2000
//! ```
//!
//! Runtimes: `filch`, `tokio`, `smol`. Workloads: `echo_64b`, `echo_16k`,
//! `http1`. The connections are set up and warmed by one untimed
//! iteration; prints the wall time per iteration (one round trip on every
//! connection).

use filch_benches::{echo, http};
use std::time::Duration;

macro_rules! run_side {
    ($side:ident, $workload:expr, $iters:expr) => {{
        let workers = 2;
        match $workload {
            "echo_64b" | "echo_16k" => {
                let size = if $workload == "echo_64b" {
                    64
                } else {
                    16 << 10
                };
                let mut bench = echo::$side::Bench::new(workers);
                bench.run(1, size);
                let (elapsed, sum) = bench.run($iters, size);
                assert_eq!(sum, echo::expected(echo::CONNECTIONS, $iters));
                elapsed
            }
            "http1" => {
                let mut bench = http::$side::Bench::new(workers);
                bench.run(1);
                bench.run($iters).0
            }
            other => panic!("unknown workload {other:?}"),
        }
    }};
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: io_workload <filch|tokio|smol> <echo_64b|echo_16k|http1> <iterations>";
    let (side, workload, iters) = match &args[1..] {
        [s, w, n] => (s.as_str(), w.as_str(), n.parse::<u64>().expect(usage)),
        _ => panic!("{usage}"),
    };
    let elapsed: Duration = match side {
        "filch" => run_side!(filch, workload, iters),
        "tokio" => run_side!(tokio, workload, iters),
        "smol" => run_side!(smol, workload, iters),
        other => panic!("unknown runtime {other:?}; {usage}"),
    };
    println!(
        "{side} {workload}: {:?} per iteration",
        elapsed / iters as u32
    );
}

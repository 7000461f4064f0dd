//! One blocking-pool workload (`benches/common/blocking.rs`) on one
//! runtime, a fixed number of times: a driver for profilers (`perf stat`,
//! `strace -c -f`, `valgrind --tool=callgrind`), whose counts can then be
//! divided by the call count. The comparison binary's blocking rows
//! (`compare --filter blocking`) are the measurement; this is the
//! microscope.
//!
//! ```text
//! cargo build --release -p filch-benches --example blocking_workload
//! perf stat -e context-switches,syscalls:sys_enter_futex \
//!     target/release/examples/blocking_workload filch round_trips 20
//! ```
//!
//! Runtimes: `filch`, `tokio`, `smol` (for `fs_reads_capped`, start it with
//! `BLOCKING_MAX_THREADS=4`). Workloads: `burst`, `round_trips`,
//! `fs_reads`, `fs_reads_capped`. One untimed warm-up call comes first (it
//! starts the pool's threads); prints the mean wall time per timed call.

use filch_benches::blocking;

use blocking::{FS_CAP, Files, WORKERS};
use std::time::Instant;

macro_rules! run_side {
    ($side:ident, $workload:expr, $calls:expr) => {{
        let cap = ($workload == "fs_reads_capped").then_some(FS_CAP);
        let rt = blocking::$side::rt(WORKERS, cap);
        let files = Files::new();
        let once = || match $workload {
            "burst" => assert_eq!(blocking::$side::burst(&rt), blocking::burst_checksum()),
            "round_trips" => assert_eq!(
                blocking::$side::round_trips(&rt),
                blocking::round_trips_checksum()
            ),
            "fs_reads" | "fs_reads_capped" => assert_eq!(
                blocking::$side::fs_reads(&rt, &files),
                blocking::fs_reads_checksum()
            ),
            other => panic!("unknown workload {other:?}"),
        };
        once();
        let start = Instant::now();
        for _ in 0..$calls {
            once();
        }
        start.elapsed() / $calls
    }};
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let usage = "usage: blocking_workload <filch|tokio|smol> \
                 <burst|round_trips|fs_reads|fs_reads_capped> <calls>";
    let (side, workload, calls) = match &args[1..] {
        [s, w, n] => (s.as_str(), w.as_str(), n.parse::<u32>().expect(usage)),
        _ => panic!("{usage}"),
    };
    let per_call = match side {
        "filch" => run_side!(filch, workload, calls),
        "tokio" => run_side!(tokio, workload, calls),
        "smol" => run_side!(smol, workload, calls),
        other => panic!("unknown runtime {other:?}; {usage}"),
    };
    println!("{side} {workload}: {per_call:?} per call ({calls} calls)");
}

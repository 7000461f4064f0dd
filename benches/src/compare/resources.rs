//! The resource figures, each measured in a fresh child process of the
//! compare binary (`compare --child PROBE RUNTIME --workers N`), so that
//! one runtime's allocator state and threads never leak into another's:
//!
//! * `idle`: build the runtime, run one task that sleeps 1 ms, let it
//!   settle, then for [`IDLE_WINDOW`] read every runtime thread's CPU time
//!   (`/proc/self/task/*/schedstat`) and context switches (`status`:
//!   voluntary + involuntary): an idle runtime should use no CPU and never
//!   wake up. Also counts the threads the runtime started.
//! * `tasks`: resident bytes per pending task: RSS (`/proc/self/statm`)
//!   before and after spawning [`PENDING_TASKS`] tasks from outside, each
//!   holding both ends of its runtime family's oneshot and awaiting the
//!   receiver (so it never fires), once every task has been polled.
//! * `timeouts_rss`: the peak RSS (`VmHWM`) of one run of the 1M-timeouts
//!   workload.
//!
//! A child prints one line of `key=value` pairs on stdout. The parent
//! starts the idle children first, so their 5 s overlap the timed rounds
//! (an idle child uses no CPU to disturb them, and the rounds cannot
//! change an idle thread's CPU time or its wake-ups), and the memory
//! children after the rounds, three at a time. Linux only (`/proc`).
//! Owns the probes and their parsing; the table is `report.rs`'s.

use super::RUNTIMES;
use std::collections::HashMap;
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// How long an idle runtime is watched.
pub const IDLE_WINDOW: Duration = Duration::from_secs(5);
/// Tasks left pending for the memory figure.
pub const PENDING_TASKS: usize = 1_000_000;

/// The resource rows' names (what `--filter` matches).
pub const PROBES: [&str; 3] = ["idle", "task_memory", "timeouts_peak_rss"];

// ---- /proc readers ------------------------------------------------------

fn proc_file(path: &str) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

/// Thread ids of this process other than the main thread.
fn other_threads() -> Vec<u32> {
    let main = std::process::id();
    let mut tids: Vec<u32> = std::fs::read_dir("/proc/self/task")
        .expect("read /proc/self/task")
        .filter_map(|e| e.ok()?.file_name().to_str()?.parse().ok())
        .filter(|&t| t != main)
        .collect();
    tids.sort_unstable();
    tids
}

/// (CPU ns, context switches) of thread `tid`, or `None` if it is gone.
fn thread_usage(tid: u32) -> Option<(u64, u64)> {
    let sched = std::fs::read_to_string(format!("/proc/self/task/{tid}/schedstat")).ok()?;
    let cpu_ns = sched.split_whitespace().next()?.parse().ok()?;
    let status = std::fs::read_to_string(format!("/proc/self/task/{tid}/status")).ok()?;
    let switches = status
        .lines()
        .filter(|l| l.starts_with("voluntary_ctxt_switches") || l.starts_with("nonvoluntary"))
        .filter_map(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
        .sum();
    Some((cpu_ns, switches))
}

fn usage_snapshot() -> HashMap<u32, (u64, u64)> {
    other_threads()
        .into_iter()
        .filter_map(|t| Some((t, thread_usage(t)?)))
        .collect()
}

/// Resident set size now, in bytes.
fn rss_bytes() -> u64 {
    let statm = proc_file("/proc/self/statm");
    let pages: u64 = statm
        .split_whitespace()
        .nth(1)
        .and_then(|v| v.parse().ok())
        .expect("statm's resident field");
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) } as u64;
    pages * page
}

/// Peak resident set size so far (`VmHWM`), in bytes.
fn peak_rss_bytes() -> u64 {
    let status = proc_file("/proc/self/status");
    let kb: u64 = status
        .lines()
        .find(|l| l.starts_with("VmHWM:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .expect("VmHWM in /proc/self/status");
    kb * 1024
}

// ---- the probes, per runtime ----------------------------------------------

macro_rules! probes {
    ($rt:ident) => {
        mod $rt {
            use super::*;
            use crate::sides::$rt::{Rt, detach, spawn, sync, time};

            pub fn idle(workers: usize) -> String {
                let rt = Rt::new(workers);
                rt.block_on(async {
                    spawn(async {
                        time::sleep(Duration::from_millis(1)).await;
                    })
                    .await
                });
                // Let whatever follows a wake-up (searching workers) end.
                std::thread::sleep(Duration::from_millis(200));
                let before = usage_snapshot();
                std::thread::sleep(IDLE_WINDOW);
                let after = usage_snapshot();
                let (mut cpu, mut wakeups) = (0, 0);
                for (tid, (c, w)) in &after {
                    let (c0, w0) = before.get(tid).copied().unwrap_or((0, 0));
                    cpu += c - c0;
                    wakeups += w - w0;
                }
                let threads = other_threads().len();
                drop(rt);
                format!("idle_cpu_ns={cpu} idle_wakeups={wakeups} threads={threads}")
            }

            pub fn tasks(workers: usize) -> String {
                let rt = Rt::new(workers);
                // Warm up: grow queues and allocator arenas once.
                let warm: Vec<_> = (0..10_000).map(|i| rt.spawn(async move { i })).collect();
                rt.block_on(async {
                    for h in warm {
                        h.await;
                    }
                });
                std::thread::sleep(Duration::from_millis(50));
                let before = rss_bytes();
                let polled = Arc::new(AtomicUsize::new(0));
                for _ in 0..PENDING_TASKS {
                    let polled = polled.clone();
                    detach(rt.spawn(async move {
                        let (tx, rx) = sync::oneshot::channel::<()>();
                        polled.fetch_add(1, Relaxed);
                        let _ = rx.await;
                        drop(tx);
                    }));
                }
                let deadline = Instant::now() + Duration::from_secs(120);
                while polled.load(Relaxed) < PENDING_TASKS {
                    assert!(
                        Instant::now() < deadline,
                        "the pending tasks were not all polled"
                    );
                    std::thread::sleep(Duration::from_millis(2));
                }
                let after = rss_bytes();
                let per_task = after.saturating_sub(before) as f64 / PENDING_TASKS as f64;
                // Exit without tearing down a million tasks.
                println!("bytes_per_task={per_task:.1} rss_before={before} rss_after={after}");
                std::process::exit(0);
            }

            pub fn timeouts_rss(workers: usize) -> String {
                let rt = Rt::new(workers);
                let base = peak_rss_bytes();
                std::hint::black_box(crate::timer::$rt::timeout_ready(&rt));
                let peak = peak_rss_bytes();
                format!("peak_rss={peak} peak_rss_before={base}")
            }
        }
    };
}

probes!(filch);
probes!(tokio);
probes!(smol);

/// The child's side: runs `probe` on `runtime` and prints its line.
pub fn child(probe: &str, runtime: &str, workers: usize) -> Result<(), String> {
    type Probe = fn(usize) -> String;
    let table: [(&str, [Probe; 3]); 3] = [
        ("idle", [filch::idle, tokio::idle, smol::idle]),
        ("tasks", [filch::tasks, tokio::tasks, smol::tasks]),
        (
            "timeouts_rss",
            [filch::timeouts_rss, tokio::timeouts_rss, smol::timeouts_rss],
        ),
    ];
    let probes = table
        .iter()
        .find(|(p, _)| *p == probe)
        .ok_or_else(|| format!("unknown probe {probe:?}: idle, tasks or timeouts_rss"))?;
    let i = RUNTIMES
        .iter()
        .position(|r| *r == runtime)
        .ok_or_else(|| format!("unknown runtime {runtime:?}: filch, tokio or smol"))?;
    println!("{}", (probes.1[i])(workers));
    Ok(())
}

/// One child's `key=value` figures, or why it failed.
pub type Figures = Result<HashMap<String, f64>, String>;

/// A running child probe.
#[derive(Debug)]
pub struct Running {
    probe: &'static str,
    runtime: &'static str,
    child: Child,
}

/// Starts `probe` on every runtime, each in its own child process.
pub fn start(probe: &'static str, workers: usize) -> Result<Vec<Running>, String> {
    let exe = std::env::current_exe().map_err(|e| format!("find the compare binary: {e}"))?;
    RUNTIMES
        .iter()
        .map(|&runtime| {
            let child = Command::new(&exe)
                .args(["--child", probe, runtime, "--workers", &workers.to_string()])
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit())
                .spawn()
                .map_err(|e| format!("start the {probe} probe for {runtime}: {e}"))?;
            Ok(Running {
                probe,
                runtime,
                child,
            })
        })
        .collect()
}

/// Waits for the children; per runtime, its `key=value` figures or why it
/// failed.
pub fn finish(running: Vec<Running>) -> Vec<(&'static str, Figures)> {
    running
        .into_iter()
        .map(|r| {
            let res = r
                .child
                .wait_with_output()
                .map_err(|e| format!("wait for the {} probe: {e}", r.probe))
                .and_then(|out| {
                    if !out.status.success() {
                        return Err(format!(
                            "the {} probe for {} failed ({})",
                            r.probe, r.runtime, out.status
                        ));
                    }
                    Ok(String::from_utf8_lossy(&out.stdout)
                        .split_whitespace()
                        .filter_map(|kv| {
                            let (k, v) = kv.split_once('=')?;
                            Some((k.to_string(), v.parse().ok()?))
                        })
                        .collect())
                });
            (r.runtime, res)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::mpsc::channel;

    /// The idle probe's readers see a thread that wakes up: 20 sleeps of
    /// 1 ms are at least 20 context switches, and a spin is CPU time.
    #[test]
    fn usage_snapshot_counts_wake_ups_and_cpu() {
        let (tid_tx, tid_rx) = channel::<u32>();
        let (go, go_rx) = channel::<()>();
        let (done, done_rx) = channel::<()>();
        let (exit, exit_rx) = channel::<()>();
        let t = std::thread::spawn(move || {
            // SAFETY: gettid has no preconditions.
            tid_tx.send(unsafe { libc::gettid() } as u32).unwrap();
            go_rx.recv().unwrap();
            for _ in 0..20 {
                std::thread::sleep(Duration::from_millis(1));
            }
            let start = Instant::now();
            while start.elapsed() < Duration::from_millis(5) {
                std::hint::spin_loop();
            }
            done.send(()).unwrap();
            // Stay alive until the figures are read.
            exit_rx.recv().unwrap();
        });
        let tid = tid_rx.recv().unwrap();
        let before = usage_snapshot()[&tid];
        go.send(()).unwrap();
        done_rx.recv().unwrap();
        let after = thread_usage(tid).expect("the thread is still alive");
        exit.send(()).unwrap();
        t.join().unwrap();
        assert!(after.1 - before.1 >= 20, "switches {before:?} -> {after:?}");
        assert!(after.0 > before.0, "cpu {before:?} -> {after:?}");
        // Not `peak >= rss`: the kernel updates VmHWM lazily, so VmRSS read
        // a moment later can be above it (failed 2 runs in 3 here).
        assert!(rss_bytes() > 0 && peak_rss_bytes() > 0);
    }
}

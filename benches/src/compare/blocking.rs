//! The blocking-pool rows (issue 17): the workloads of
//! `benches/common/blocking.rs` on each runtime's own pool (`filch` and
//! tokio's `spawn_blocking`, smol's `blocking::unblock`). No floor: the
//! pool's hand-off is what is measured.
//!
//! smol's pool can be capped only through `BLOCKING_MAX_THREADS`, read once
//! per process, so its instance of the capped row runs in a child process
//! (this binary, `--blocking-child`, started with that variable set) and
//! is driven over a pipe: the parent writes an iteration count, the child
//! runs them and answers `nanos checksum`. Spawning and the pipe are
//! outside the timed part; the child's clock is the one that counts.
//!
//! Owns the rows and the child; the workloads are `crate::blocking`'s.

use super::{Instance, Kind, Make, Spec, timed};
use crate::blocking::{
    FS_CAP, Files, burst_checksum, filch as f, fs_reads_checksum, round_trips_checksum, smol as s,
    tokio as t,
};
use crate::per_runtime;
use std::io::{BufRead, BufReader, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

/// The hidden argument that starts the capped row's smol child.
pub const CHILD_ARG: &str = "--blocking-child";

pub fn specs() -> Vec<Spec> {
    vec![
        row(
            "blocking_burst",
            "2,000 spawn_blocking among 20,000 tasks",
            2_000,
            90,
            per_runtime!(blocking, |side, w, workers| {
                let rt = w::rt(workers, None);
                timed(move || w::burst(&rt))
            }),
            |iters| iters * burst_checksum(),
        ),
        row(
            "blocking_round_trips",
            "10,000 sequential spawn_blocking().await",
            10_000,
            100,
            per_runtime!(blocking, |side, w, workers| {
                let rt = w::rt(workers, None);
                timed(move || w::round_trips(&rt))
            }),
            |iters| iters * round_trips_checksum(),
        ),
        row(
            "blocking_fs_reads",
            "64 tasks x 100 small-file fs::read",
            6_400,
            90,
            per_runtime!(blocking, |side, w, workers| {
                let rt = w::rt(workers, None);
                let files = Files::new();
                timed(move || w::fs_reads(&rt, &files))
            }),
            |iters| iters * fs_reads_checksum(),
        ),
        row(
            "blocking_fs_reads_capped",
            "the same, pool capped at 4 threads",
            6_400,
            100,
            [capped_filch as Make, capped_tokio, capped_smol],
            |iters| iters * fs_reads_checksum(),
        ),
    ]
}

/// One blocking row: no floor, a known checksum, a limit against tokio
/// in hundredths.
fn row(
    name: &'static str,
    what: &'static str,
    ops: u64,
    limit_pct: u8,
    make: [Make; 3],
    expect: fn(u64) -> u64,
) -> Spec {
    Spec {
        name,
        family: "blocking",
        what,
        ops,
        kind: Kind::Blocking { limit_pct },
        make,
        floor: None,
        expect: Some(expect),
    }
}

fn capped_filch(workers: usize) -> Instance {
    let rt = f::rt(workers, Some(FS_CAP));
    let files = Files::new();
    Box::new(timed(move || f::fs_reads(&rt, &files)))
}

fn capped_tokio(workers: usize) -> Instance {
    let rt = t::rt(workers, Some(FS_CAP));
    let files = Files::new();
    Box::new(timed(move || t::fs_reads(&rt, &files)))
}

/// smol's capped instance: a child process with `BLOCKING_MAX_THREADS`
/// set, killed and reaped when the instance is dropped.
fn capped_smol(workers: usize) -> Instance {
    let mut child = SmolChild::start(workers).unwrap_or_else(|e| panic!("{e}"));
    Box::new(move |iters| child.run(iters).unwrap_or_else(|e| panic!("{e}")))
}

struct SmolChild {
    child: Child,
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

impl SmolChild {
    fn start(workers: usize) -> Result<SmolChild, String> {
        let exe = std::env::current_exe().map_err(|e| format!("find the compare binary: {e}"))?;
        let mut child = Command::new(exe)
            .args([CHILD_ARG, "--workers", &workers.to_string()])
            .env("BLOCKING_MAX_THREADS", FS_CAP.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .map_err(|e| format!("start smol's capped blocking child: {e}"))?;
        let stdin = child.stdin.take().expect("piped stdin");
        let stdout = BufReader::new(child.stdout.take().expect("piped stdout"));
        Ok(SmolChild {
            child,
            stdin,
            stdout,
        })
    }

    fn run(&mut self, iters: u64) -> Result<(Duration, u64), String> {
        writeln!(self.stdin, "{iters}")
            .and_then(|()| self.stdin.flush())
            .map_err(|e| format!("smol's capped blocking child: write: {e}"))?;
        let mut line = String::new();
        self.stdout
            .read_line(&mut line)
            .map_err(|e| format!("smol's capped blocking child: read: {e}"))?;
        parse_reply(&line)
            .ok_or_else(|| format!("smol's capped blocking child answered {line:?} (it failed)"))
    }
}

impl Drop for SmolChild {
    fn drop(&mut self) {
        // The child exits at the end of its input; kill it too, in case
        // it is stuck (the hang watchdog may be why we are dropping).
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `nanos checksum`.
fn parse_reply(line: &str) -> Option<(Duration, u64)> {
    let (nanos, sum) = line.trim().split_once(' ')?;
    Some((
        Duration::from_nanos(nanos.parse().ok()?),
        sum.parse().ok()?,
    ))
}

/// The child's side: reads iteration counts from stdin until it closes,
/// runs each on smol with the pool capped (the parent set
/// `BLOCKING_MAX_THREADS`) and answers `nanos checksum` per line.
pub fn child(workers: usize) -> Result<(), String> {
    let rt = s::rt(workers, Some(FS_CAP));
    let files = Files::new();
    let mut out = std::io::stdout().lock();
    for line in std::io::stdin().lock().lines() {
        let line = line.map_err(|e| format!("read stdin: {e}"))?;
        let iters: u64 = line
            .trim()
            .parse()
            .map_err(|e| format!("bad iteration count {line:?}: {e}"))?;
        let start = Instant::now();
        let mut sum = 0u64;
        for _ in 0..iters {
            sum = sum.wrapping_add(s::fs_reads(&rt, &files));
        }
        let nanos = start.elapsed().as_nanos();
        writeln!(out, "{nanos} {sum}")
            .and_then(|()| out.flush())
            .map_err(|e| format!("write stdout: {e}"))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::parse_reply;
    use std::time::Duration;

    #[test]
    fn a_reply_is_nanos_then_checksum() {
        assert_eq!(
            parse_reply("1500 42\n"),
            Some((Duration::from_nanos(1500), 42))
        );
        assert_eq!(parse_reply("thread panicked\n"), None);
        assert_eq!(parse_reply(""), None);
    }
}

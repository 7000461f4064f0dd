//! The one-command comparison: every workload family on filch, tokio and
//! smol (and, where there is one, its floor), interleaved in alternating
//! rounds in one process, then the resource figures from fresh child
//! processes; one table, optionally JSON. `src/bin/compare.rs` is its
//! command line.
//!
//! **Adding a workload family** is one small file and one word: write the
//! workload once per side in `benches/common/<family>.rs` (as `sched.rs`
//! does; a `#[path]` module of the library), then a file here,
//! `compare/<family>.rs`, whose `pub fn specs() -> Vec<Spec>` lists its
//! workloads with [`per_runtime!`], and add `<family>` to the
//! `families!` list below.
//!
//! **How a workload is measured.** Each contender (the three runtimes and
//! the floor) builds its own instance, with its own runtime. One warm-up
//! iteration each (its checksum checked), then one timed iteration each
//! sizes the samples: `iters` iterations, the same for every contender, so
//! that the slowest takes about `--sample-ms`. Then `--rounds` rounds, each
//! running every contender once, in an order rotated by one each round, so
//! no runtime always runs after another. A round's ratio filch/tokio is
//! taken within the round, which cancels the machine's drift between
//! rounds; the table shows the median of those ratios and a
//! distribution-free 95 % interval (`crate::stats`).
//!
//! Owns the harness: the workloads live in `benches/common/`, the floors in
//! `floor.rs`, the resource children in `resources.rs`, the table in
//! `report.rs`.

pub mod floor;
pub mod report;
pub mod resources;

use std::panic::{self, AssertUnwindSafe};
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::time::{Duration, Instant};

/// The families, each a module here with `pub fn specs() -> Vec<Spec>`.
macro_rules! families {
    ($($family:ident),* $(,)?) => {
        $(pub mod $family;)*
        /// Every workload, in table order.
        pub fn all_specs() -> Vec<Spec> {
            let mut v = Vec::new();
            $(v.extend($family::specs());)*
            v
        }
    };
}

families!(sched, timer, sync, io, blocking);

/// One contender's instance of a workload: runs `iters` iterations and
/// returns the time they took and their checksum.
pub type Instance = Box<dyn FnMut(u64) -> (Duration, u64)>;

/// Builds one runtime's instance with `workers` threads.
pub type Make = fn(usize) -> Instance;

/// The runtimes, in column order.
pub const RUNTIMES: [&str; 3] = ["filch", "tokio", "smol"];

/// What a row is compared against in the targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Kind {
    /// Scheduler: at or below 1.0 against tokio and smol, within 3x of the
    /// floor.
    Sched,
    /// Timers and sync primitives: at or below 1.0 against tokio and smol.
    Timer,
    Sync,
    /// I/O: at or above tokio's throughput (time ratio at or below 1.0).
    Io,
    /// The blocking pool: at or below `limit_pct` hundredths of tokio's
    /// time (issue 17 asks 0.9 of some rows, 1.0 of others); smol's column
    /// is shown, not a target.
    Blocking {
        /// The limit of filch/tokio, in hundredths.
        limit_pct: u8,
    },
}

/// One workload.
pub struct Spec {
    pub name: &'static str,
    pub family: &'static str,
    /// What one iteration is, for the table.
    pub what: &'static str,
    /// Operations per iteration (per-operation figures in the JSON, and the
    /// comparison across worker counts).
    pub ops: u64,
    pub kind: Kind,
    /// One instance maker per runtime, in `RUNTIMES` order.
    pub make: [Make; 3],
    /// The single-threaded floor, if the workload has one.
    pub floor: Option<fn() -> Instance>,
    /// The checksum `iters` iterations must give, where it is known.
    pub expect: Option<fn(u64) -> u64>,
}

impl std::fmt::Debug for Spec {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Spec")
            .field("name", &self.name)
            .field("what", &self.what)
            .finish()
    }
}

/// One instance maker per runtime from one body: `$side` is the runtime's
/// `crate::sides` module, `$w` the family's workload module for it
/// (`crate::$family::<runtime>`), `$workers` the thread count.
///
/// ```ignore
/// make: per_runtime!(sched, |side, w, workers| {
///     let rt = side::Rt::new(workers);
///     timed(move || w::chained_spawn(&rt))
/// }),
/// ```
///
/// The common case, a runtime built with `Rt::new(workers)` and one
/// iteration timed as one call, has a short form:
/// `per_runtime!(sched, timed |rt, w| w::chained_spawn(&rt))`.
#[macro_export]
macro_rules! per_runtime {
    ($family:ident, timed |$rt:ident, $w:ident| $iter:expr) => {
        $crate::per_runtime!($family, |side, $w, workers| {
            let $rt = side::Rt::new(workers);
            $crate::compare::timed(move || $iter)
        })
    };
    ($family:ident, |$side:ident, $w:ident, $workers:ident| $body:expr) => {
        [
            $crate::per_runtime!(@one filch, $family, $side, $w, $workers, $body),
            $crate::per_runtime!(@one tokio, $family, $side, $w, $workers, $body),
            $crate::per_runtime!(@one smol, $family, $side, $w, $workers, $body),
        ]
    };
    (@one $rt:ident, $family:ident, $side:ident, $w:ident, $workers:ident, $body:expr) => {{
        fn make($workers: usize) -> $crate::compare::Instance {
            #[allow(unused_imports)]
            use $crate::sides::$rt as $side;
            #[allow(unused_imports)]
            use $crate::$family::$rt as $w;
            Box::new($body)
        }
        make as $crate::compare::Make
    }};
}

/// An instance from a closure that runs one iteration and returns its
/// checksum.
pub fn timed(mut f: impl FnMut() -> u64 + 'static) -> impl FnMut(u64) -> (Duration, u64) {
    move |iters| {
        let start = Instant::now();
        let mut sum = 0u64;
        for _ in 0..iters {
            sum = sum.wrapping_add(f());
        }
        (start.elapsed(), sum)
    }
}

/// Settings from the command line.
#[derive(Clone, Debug)]
pub struct Settings {
    pub workers: usize,
    pub rounds: usize,
    pub filter: Option<String>,
    /// Target length of the slowest contender's sample.
    pub sample: Duration,
    /// Give up (exit 2) if one sample runs longer than this: a hang.
    pub hang_after: Duration,
}

/// One workload's results.
#[derive(Debug)]
pub struct Outcome {
    pub name: &'static str,
    pub family: &'static str,
    pub what: &'static str,
    pub ops: u64,
    pub kind: Kind,
    pub iters: u64,
    /// Per round, seconds per iteration for filch, tokio, smol, floor.
    pub samples: Vec<[Option<f64>; 4]>,
    /// Why the workload failed, if it did.
    pub error: Option<String>,
    pub elapsed: Duration,
}

/// Contender labels, the three runtimes then the floor.
const CONTENDERS: [&str; 4] = ["filch", "tokio", "smol", "floor"];

/// What is running now, for the hang watchdog.
static RUNNING: Mutex<String> = Mutex::new(String::new());
/// Milliseconds since `EPOCH` at which the current sample started, or 0.
static STARTED_MS: AtomicU64 = AtomicU64::new(0);

fn epoch() -> Instant {
    static EPOCH: std::sync::OnceLock<Instant> = std::sync::OnceLock::new();
    *EPOCH.get_or_init(Instant::now)
}

fn now_ms() -> u64 {
    epoch().elapsed().as_millis() as u64 + 1
}

/// Starts the thread that ends the process (exit code 2) when one sample
/// runs longer than `limit`: a runtime that hangs cannot be recovered
/// from inside the process, but the table must not wait forever.
pub fn start_watchdog(limit: Duration) {
    epoch();
    std::thread::Builder::new()
        .name("compare-watchdog".into())
        .spawn(move || {
            loop {
                std::thread::sleep(Duration::from_millis(250));
                let started = STARTED_MS.load(Relaxed);
                if started != 0 && now_ms() - started > limit.as_millis() as u64 {
                    let what = RUNNING.lock().map(|s| s.clone()).unwrap_or_default();
                    eprintln!(
                        "compare: {what} has run for more than {limit:?}: it hangs; giving up"
                    );
                    std::process::exit(2);
                }
            }
        })
        .expect("start the watchdog thread");
}

/// Runs `f` as one guarded sample: under the watchdog, with panics caught.
fn guarded<T>(label: String, f: impl FnOnce() -> T) -> Result<T, String> {
    *RUNNING.lock().unwrap() = label;
    STARTED_MS.store(now_ms(), Relaxed);
    let res = panic::catch_unwind(AssertUnwindSafe(f));
    STARTED_MS.store(0, Relaxed);
    res.map_err(|payload| {
        payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic".into())
    })
}

/// Runs one workload on every contender.
pub fn run_spec(spec: &Spec, s: &Settings) -> Outcome {
    let start = Instant::now();
    let mut out = Outcome {
        name: spec.name,
        family: spec.family,
        what: spec.what,
        ops: spec.ops,
        kind: spec.kind,
        iters: 0,
        samples: Vec::new(),
        error: None,
        elapsed: Duration::ZERO,
    };
    if let Err(e) = measure(spec, s, &mut out) {
        out.error = Some(e);
    }
    out.elapsed = start.elapsed();
    out
}

fn measure(spec: &Spec, s: &Settings, out: &mut Outcome) -> Result<(), String> {
    // Build every contender (a runtime each; the floor has none).
    let mut insts: Vec<Option<Instance>> = Vec::new();
    for (i, make) in spec.make.iter().enumerate() {
        let workers = s.workers;
        let make = *make;
        let inst = guarded(format!("{} on {}: setup", spec.name, RUNTIMES[i]), || {
            make(workers)
        })
        .map_err(|e| format!("{} failed to set up: {e}", RUNTIMES[i]))?;
        insts.push(Some(inst));
    }
    insts.push(match spec.floor {
        Some(f) => Some(f()),
        None => None,
    });

    // Warm up (checking the checksum), then size the samples.
    let mut per_iter = [0f64; 4];
    let mut reference: Option<u64> = None;
    for pass in 0..2 {
        for (i, inst) in insts.iter_mut().enumerate() {
            let Some(inst) = inst else { continue };
            let (t, sum) = sample(spec, i, inst, 1)?;
            if i < 3 {
                check(spec, i, 1, sum, &mut reference)?;
            }
            if pass == 1 {
                per_iter[i] = t;
            }
        }
    }
    let slowest = per_iter.iter().cloned().fold(0f64, f64::max).max(1e-9);
    let iters = ((s.sample.as_secs_f64() / slowest).round() as u64).clamp(1, 100_000);
    out.iters = iters;

    let mut reference = None;
    for round in 0..s.rounds {
        let mut row = [None; 4];
        for k in 0..4 {
            let i = (round + k) % 4;
            let Some(inst) = insts[i].as_mut() else {
                continue;
            };
            let (t, sum) = sample(spec, i, inst, iters)?;
            if i < 3 {
                check(spec, i, iters, sum, &mut reference)?;
            }
            row[i] = Some(t);
        }
        out.samples.push(row);
    }
    // Drop the runtimes under the watchdog too (a shutdown can hang).
    for (i, inst) in insts.into_iter().enumerate() {
        guarded(
            format!("{} on {}: shutdown", spec.name, CONTENDERS[i]),
            || drop(inst),
        )?;
    }
    Ok(())
}

/// One sample: seconds per iteration and the checksum.
fn sample(spec: &Spec, i: usize, inst: &mut Instance, iters: u64) -> Result<(f64, u64), String> {
    let (t, sum) = guarded(format!("{} on {}", spec.name, CONTENDERS[i]), || {
        inst(iters)
    })
    .map_err(|e| format!("{} panicked: {e}", CONTENDERS[i]))?;
    Ok((t.as_secs_f64() / iters as f64, sum))
}

/// The checksum must match the known value and every other runtime's.
fn check(
    spec: &Spec,
    i: usize,
    iters: u64,
    sum: u64,
    reference: &mut Option<u64>,
) -> Result<(), String> {
    if let Some(expect) = spec.expect {
        let want = expect(iters);
        if sum != want {
            return Err(format!(
                "{} gave checksum {sum} for {iters} iterations, expected {want}",
                RUNTIMES[i]
            ));
        }
    }
    match *reference {
        None => *reference = Some(sum),
        Some(r) if r != sum => {
            return Err(format!(
                "{} gave checksum {sum} where the runtime before it gave {r}",
                RUNTIMES[i]
            ));
        }
        Some(_) => {}
    }
    Ok(())
}

/// Whether `name` passes the filter.
pub fn selected(name: &str, s: &Settings) -> bool {
    s.filter.as_deref().is_none_or(|f| name.contains(f))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings() -> Settings {
        Settings {
            workers: 1,
            rounds: 3,
            filter: None,
            sample: Duration::from_millis(1),
            hang_after: Duration::from_secs(60),
        }
    }

    fn spec(make: [Make; 3]) -> Spec {
        Spec {
            name: "test",
            family: "test",
            what: "nothing",
            ops: 1,
            kind: Kind::Sync,
            make,
            floor: None,
            expect: Some(|iters| 2 * iters),
        }
    }

    fn two(_workers: usize) -> Instance {
        Box::new(timed(|| 2))
    }

    #[test]
    fn agreeing_runtimes_pass_and_fill_every_round() {
        let o = run_spec(&spec([two, two, two]), &settings());
        assert_eq!(o.error, None);
        assert_eq!(o.samples.len(), 3);
        assert!(o.samples.iter().all(|r| r[..3].iter().all(Option::is_some)));
    }

    #[test]
    fn a_wrong_checksum_fails_the_workload_and_names_the_runtime() {
        let o = run_spec(&spec([two, two, |_| Box::new(timed(|| 3))]), &settings());
        let e = o.error.expect("a mismatch is a failure");
        assert!(e.contains("smol"), "{e}");
    }

    #[test]
    fn a_panic_fails_the_workload() {
        let o = run_spec(
            &spec([two, |_| Box::new(timed(|| panic!("boom"))), two]),
            &settings(),
        );
        let e = o.error.expect("a panic is a failure");
        assert!(e.contains("tokio") && e.contains("boom"), "{e}");
    }
}

//! The stress suite's harness: the scale knob, watchdogs that fail a hung
//! scenario with a dump of the runtime's tasks, ledgers that prove every
//! future was dropped and every output delivered exactly once, a seeded
//! RNG, and the process's resident memory.
//!
//! The scenarios themselves live in `tests/` (`stress.rs`, `faults.rs`,
//! `shutdown.rs`, `memory.rs`); this crate must not contain any. It is a
//! library only so that the test targets share one copy of the harness.
//!
//! ## Knobs (environment)
//!
//! * `STRESS_SCALE` (default `1`): multiplies every scenario's size. A
//!   float, so `STRESS_SCALE=0.01` shrinks the suite (what
//!   `scripts/valgrind.sh` uses) and `STRESS_SCALE=10` runs it ten times
//!   longer. Watchdog limits grow with it.
//! * `STRESS_VALGRIND=1`: the suite runs under valgrind (about 50 times
//!   slower): watchdog limits are multiplied by 50, and the few checks that
//!   need real time (the memory test's child process) adapt.
//! * `STRESS_SEED` (default fixed): the seed of every scenario's RNG, so a
//!   failure can be replayed; printed by each scenario.

use filch::runtime::Handle;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering::SeqCst};
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// The `STRESS_SCALE` factor (default 1.0).
///
/// ```
/// assert!(filch_stress::scale() > 0.0);
/// ```
pub fn scale() -> f64 {
    match std::env::var("STRESS_SCALE") {
        Ok(s) => match s.trim().parse::<f64>() {
            Ok(v) if v > 0.0 && v.is_finite() => v,
            _ => panic!("STRESS_SCALE must be a positive number, got {s:?}"),
        },
        Err(_) => 1.0,
    }
}

/// `n` scaled by [`scale`], at least 1.
///
/// ```
/// assert!(filch_stress::scaled(1000) >= 1);
/// ```
pub fn scaled(n: u64) -> u64 {
    ((n as f64 * scale()).round() as u64).max(1)
}

/// Whether the suite runs under valgrind (`STRESS_VALGRIND=1`).
///
/// ```
/// let _ = filch_stress::under_valgrind();
/// ```
pub fn under_valgrind() -> bool {
    std::env::var_os("STRESS_VALGRIND").is_some_and(|v| v != "0")
}

/// The seed for scenario `salt` (`STRESS_SEED` mixed with the salt).
///
/// ```
/// assert_ne!(filch_stress::seed(1), filch_stress::seed(2));
/// ```
pub fn seed(salt: u64) -> u64 {
    let base = std::env::var("STRESS_SEED")
        .ok()
        .and_then(|s| s.trim().parse::<u64>().ok())
        .unwrap_or(0x5EED_F11C);
    splitmix(base ^ salt.wrapping_mul(0x9E37_79B9_7F4A_7C15))
}

fn splitmix(mut z: u64) -> u64 {
    z = z.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// A small seeded RNG (xorshift64*), cheap enough to call per task.
///
/// ```
/// let mut rng = filch_stress::Rng::new(7);
/// assert!(rng.below(10) < 10);
/// ```
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    /// An RNG from `seed` (any value).
    pub fn new(seed: u64) -> Rng {
        Rng(splitmix(seed) | 1)
    }

    /// The next 64 random bits.
    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n` (`n > 0`).
    pub fn below(&mut self, n: u64) -> u64 {
        self.next_u64() % n
    }

    /// True with probability `1 / n`.
    pub fn one_in(&mut self, n: u64) -> bool {
        self.below(n) == 0
    }
}

/// A runtime with `workers` workers, I/O and timers.
///
/// ```
/// let rt = filch_stress::runtime(1);
/// assert_eq!(rt.block_on(async { 1 }), 1);
/// ```
pub fn runtime(workers: usize) -> filch::Runtime {
    filch::Runtime::builder()
        .worker_threads(workers)
        .build()
        .expect("build a runtime")
}

/// What the watchdog prints about a hung runtime: `Handle::dump()` (a
/// summary line, then every live task with its name, state, age and spawn
/// location). The watchdog calls nothing else, so this is the one place to
/// change what a hang report shows.
///
/// ```
/// let rt = filch_stress::runtime(1);
/// assert!(filch_stress::task_dump(rt.handle()).contains("0 live tasks"));
/// ```
pub fn task_dump(handle: &Handle) -> String {
    handle.dump()
}

/// How long a scenario may run before its watchdog fires: `base` times the
/// scale (at least 1), times 50 under valgrind.
///
/// ```
/// assert!(filch_stress::limit(10) >= std::time::Duration::from_secs(10));
/// ```
pub fn limit(base_secs: u64) -> Duration {
    let mut secs = base_secs as f64 * scale().max(1.0);
    if under_valgrind() {
        secs *= 50.0;
    }
    Duration::from_secs_f64(secs)
}

/// Runs `f`; if it has not returned after [`limit`]`(base_secs)`, prints
/// `name`, how long it ran and a [`task_dump`] of every runtime in
/// `handles` (each with its own deadline, in case the hang holds a lock the
/// dump needs), then aborts the process, so that a hang fails the test
/// run instead of stalling it. A guard against hangs, not a timing assert:
/// the limits are many times what a scenario takes.
///
/// ```
/// let rt = filch_stress::runtime(1);
/// let v = filch_stress::watchdog("doc", 60, &[rt.handle().clone()], || rt.block_on(async { 3 }));
/// assert_eq!(v, 3);
/// ```
pub fn watchdog<R>(name: &str, base_secs: u64, handles: &[Handle], f: impl FnOnce() -> R) -> R {
    let limit = limit(base_secs);
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let name = name.to_string();
    let handles = handles.to_vec();
    let start = Instant::now();
    let dog = std::thread::Builder::new()
        .name(format!("watchdog {name}"))
        .spawn(move || {
            if let Err(mpsc::RecvTimeoutError::Timeout) = done_rx.recv_timeout(limit) {
                eprintln!(
                    "\nSTRESS WATCHDOG: scenario {name:?} still running after {:.1?} \
                     (limit {limit:?}): dumping tasks, then aborting",
                    start.elapsed()
                );
                for (i, handle) in handles.into_iter().enumerate() {
                    let (tx, rx) = mpsc::channel();
                    std::thread::spawn(move || {
                        let _ = tx.send(task_dump(&handle));
                    });
                    match rx.recv_timeout(Duration::from_secs(10)) {
                        Ok(dump) => eprintln!("runtime {i}: {dump}"),
                        Err(_) => eprintln!("runtime {i}: the task dump itself hung (a lock?)"),
                    }
                }
                std::process::abort();
            }
        })
        .expect("start the watchdog");
    let out = f();
    drop(done_tx);
    dog.join().expect("watchdog thread");
    out
}

/// Per-id counters that prove "exactly once": how often each future was
/// dropped, each output delivered, each task reported cancelled.
///
/// ```
/// let ledger = filch_stress::Ledger::new(2);
/// drop(ledger.guard(0));
/// drop(ledger.guard(1));
/// ledger.assert_all_dropped_once("doc");
/// ```
#[derive(Debug)]
pub struct Ledger {
    dropped: Box<[AtomicU8]>,
    delivered: Box<[AtomicU8]>,
    cancelled: Box<[AtomicU8]>,
    guards_made: AtomicUsize,
}

impl Ledger {
    /// A ledger for ids `0..n`.
    pub fn new(n: usize) -> Arc<Ledger> {
        let zeros = |n| (0..n).map(|_| AtomicU8::new(0)).collect::<Box<[_]>>();
        Arc::new(Ledger {
            dropped: zeros(n),
            delivered: zeros(n),
            cancelled: zeros(n),
            guards_made: AtomicUsize::new(0),
        })
    }

    /// The number of ids.
    pub fn len(&self) -> usize {
        self.dropped.len()
    }

    /// True if the ledger has no ids.
    pub fn is_empty(&self) -> bool {
        self.dropped.is_empty()
    }

    /// A guard to move into future `id`: its drop is counted.
    pub fn guard(self: &Arc<Self>, id: usize) -> DropGuard {
        self.guards_made.fetch_add(1, SeqCst);
        DropGuard {
            ledger: self.clone(),
            id,
        }
    }

    /// Records that task `id`'s output reached its joiner.
    pub fn delivered(&self, id: usize) {
        bump(&self.delivered[id]);
    }

    /// Records that task `id`'s joiner saw it cancelled.
    pub fn cancelled(&self, id: usize) {
        bump(&self.cancelled[id]);
    }

    /// How many times future `id` was dropped so far.
    pub fn drops_of(&self, id: usize) -> u8 {
        self.dropped[id].load(SeqCst)
    }

    /// How many times task `id`'s output was delivered so far.
    pub fn deliveries_of(&self, id: usize) -> u8 {
        self.delivered[id].load(SeqCst)
    }

    /// How many times task `id` was reported cancelled so far.
    pub fn cancellations_of(&self, id: usize) -> u8 {
        self.cancelled[id].load(SeqCst)
    }

    /// Guards dropped so far (all ids).
    pub fn drops(&self) -> usize {
        self.dropped.iter().map(|d| d.load(SeqCst) as usize).sum()
    }

    /// Panics unless every id's guard was dropped exactly once.
    pub fn assert_all_dropped_once(&self, what: &str) {
        for (id, d) in self.dropped.iter().enumerate() {
            let d = d.load(SeqCst);
            assert_eq!(
                d, 1,
                "{what}: future {id} was dropped {d} times (must be once)"
            );
        }
    }

    /// Panics unless every id was delivered once or cancelled once (and not
    /// both).
    pub fn assert_all_delivered_or_cancelled_once(&self, what: &str) {
        for id in 0..self.len() {
            let d = self.delivered[id].load(SeqCst);
            let c = self.cancelled[id].load(SeqCst);
            assert!(
                d + c == 1,
                "{what}: task {id} was delivered {d} times and reported cancelled {c} times \
                 (must be exactly one of the two, once)"
            );
        }
    }

    /// (delivered, cancelled) totals.
    pub fn outcomes(&self) -> (usize, usize) {
        let sum = |v: &[AtomicU8]| v.iter().map(|d| d.load(SeqCst) as usize).sum();
        (sum(&self.delivered), sum(&self.cancelled))
    }
}

fn bump(c: &AtomicU8) {
    // Saturating: a count of 2 or more is already a failure.
    let _ = c.fetch_update(SeqCst, SeqCst, |v| v.checked_add(1));
}

/// Counts its own drop in a [`Ledger`].
#[derive(Debug)]
pub struct DropGuard {
    ledger: Arc<Ledger>,
    id: usize,
}

impl DropGuard {
    /// The id this guard stands for.
    pub fn id(&self) -> usize {
        self.id
    }
}

impl Drop for DropGuard {
    fn drop(&mut self) {
        bump(&self.ledger.dropped[self.id]);
    }
}

/// The process's resident set size in KiB (`VmRSS` in `/proc/self/status`).
///
/// ```
/// assert!(filch_stress::rss_kib() > 0);
/// ```
pub fn rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("read /proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS in /proc/self/status")
}

/// Serializes the scenarios of one test binary: each one sizes its load
/// for the whole machine, and two at once would only make both slower and
/// their watchdogs less meaningful.
///
/// ```
/// let _one_at_a_time = filch_stress::exclusive();
/// ```
pub fn exclusive() -> std::sync::MutexGuard<'static, ()> {
    static LOCK: std::sync::Mutex<()> = std::sync::Mutex::new(());
    LOCK.lock().unwrap_or_else(|e| e.into_inner())
}

/// Prints one line of a scenario's figures (shown with `--nocapture`, and
/// collected for `docs/verification.md`).
///
/// ```
/// filch_stress::report("doc", std::time::Instant::now(), "nothing");
/// ```
pub fn report(name: &str, start: Instant, what: &str) {
    eprintln!(
        "[stress] {name}: {what} in {:.2?} (scale {})",
        start.elapsed(),
        scale()
    );
}

/// Runs `future` to completion on this thread with a waker that unparks
/// it: for threads that are not in any runtime (a client thread awaiting
/// join handles, or code that runs after a runtime is gone). No runtime
/// context is entered.
///
/// ```
/// assert_eq!(filch_stress::block_on_thread(async { 5 }), 5);
/// ```
pub fn block_on_thread<F: std::future::Future>(future: F) -> F::Output {
    use std::task::{Context, Poll, Wake, Waker};
    struct Unpark(std::thread::Thread);
    impl Wake for Unpark {
        fn wake(self: Arc<Self>) {
            self.0.unpark();
        }
        fn wake_by_ref(self: &Arc<Self>) {
            self.0.unpark();
        }
    }
    let waker = Waker::from(Arc::new(Unpark(std::thread::current())));
    let mut cx = Context::from_waker(&waker);
    let mut future = std::pin::pin!(future);
    loop {
        if let Poll::Ready(v) = future.as_mut().poll(&mut cx) {
            return v;
        }
        std::thread::park();
    }
}

/// The marker in the message of every panic a scenario causes on purpose.
pub const EXPECTED_PANIC: &str = "stress: expected panic";

/// Installs (once) a panic hook that stays quiet about panics whose message
/// starts with [`EXPECTED_PANIC`] and reports every other panic as the default
/// hook does.
///
/// ```
/// filch_stress::quiet_expected_panics();
/// let r = std::panic::catch_unwind(|| panic!("{}", filch_stress::EXPECTED_PANIC));
/// assert!(r.is_err());
/// ```
pub fn quiet_expected_panics() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let payload = info.payload();
            let msg = payload
                .downcast_ref::<&str>()
                .copied()
                .or_else(|| payload.downcast_ref::<String>().map(String::as_str));
            if msg.is_some_and(|m| m.starts_with(EXPECTED_PANIC)) {
                return;
            }
            default(info);
        }));
    });
}

/// The message of a panic payload (`&str` or `String`), if it has one.
///
/// ```
/// let p = std::panic::catch_unwind(|| panic!("boom")).unwrap_err();
/// assert_eq!(filch_stress::panic_message(&*p), Some("boom"));
/// ```
pub fn panic_message(payload: &(dyn std::any::Any + Send)) -> Option<&str> {
    payload
        .downcast_ref::<&str>()
        .copied()
        .or_else(|| payload.downcast_ref::<String>().map(String::as_str))
}

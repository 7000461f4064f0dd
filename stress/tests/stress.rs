//! The whole runtime under load: millions of spawns from every kind of
//! thread, wake storms on the same tasks from many threads, random
//! cancellation of running, idle and finished tasks, spawns from
//! destructors and from wakers called deep inside the runtime, and
//! runtimes nested on different threads.
//!
//! Each scenario runs under a watchdog (a hang fails the run with a dump of
//! the runtime's tasks) and checks, per task, with a `Ledger`: its future
//! was dropped exactly once, and its output was delivered exactly once or
//! it reported cancelled. Sizes scale with `STRESS_SCALE` (see the
//! `filch_stress` docs); the figures of a run are printed with
//! `--nocapture`.

use filch::runtime::Handle;
use filch::sync::oneshot;
use filch_stress::{
    DropGuard, Ledger, Rng, block_on_thread, exclusive, report, runtime, scaled, seed, watchdog,
};
use std::future::{Future, poll_fn};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Poll, Wake, Waker};
use std::time::{Duration, Instant};

/// A task's output: carries its id and counts its own drop.
struct Out {
    id: usize,
    _guard: DropGuard,
}

/// What happens to one task of the spawn storm, decided by its id.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Fate {
    /// Ready at its first poll.
    Ready,
    /// Yields once, then ready.
    Yield,
    /// Its handle is dropped right after the spawn: the output is dropped
    /// by the runtime.
    Detached,
    /// Cancelled right after the spawn: cancelled, or done if it was first.
    Cancelled,
}

fn fate(id: usize) -> Fate {
    match Rng::new(seed(1) ^ id as u64).below(64) {
        0 => Fate::Detached,
        1 => Fate::Cancelled,
        2..=9 => Fate::Yield,
        _ => Fate::Ready,
    }
}

fn storm_task(
    id: usize,
    futures: &Arc<Ledger>,
    outputs: &Arc<Ledger>,
) -> impl Future<Output = Out> + Send + use<> {
    let guard = futures.guard(id);
    let outputs = outputs.clone();
    async move {
        let _guard = guard;
        if fate(id) == Fate::Yield {
            filch::yield_now().await;
        }
        Out {
            id,
            _guard: outputs.guard(id),
        }
    }
}

/// Spawns the ids `range` (through `spawn`) in chunks of at most `CHUNK`
/// handles in flight, and awaits each chunk in spawn order.
async fn spawn_range(
    range: std::ops::Range<usize>,
    futures: Arc<Ledger>,
    outputs: Arc<Ledger>,
    spawn: impl Fn(Pin<Box<dyn Future<Output = Out> + Send>>) -> filch::task::JoinHandle<Out>,
) {
    const CHUNK: usize = 1024;
    let mut start = range.start;
    while start < range.end {
        let end = (start + CHUNK).min(range.end);
        let handles: Vec<_> = (start..end)
            .map(|id| {
                let h = spawn(Box::pin(storm_task(id, &futures, &outputs)));
                match fate(id) {
                    Fate::Detached => None,
                    Fate::Cancelled => {
                        h.cancel();
                        Some(h)
                    }
                    _ => Some(h),
                }
            })
            .collect();
        for (k, h) in handles.into_iter().enumerate() {
            let id = start + k;
            let Some(h) = h else { continue };
            match h.await {
                Ok(out) => {
                    assert_eq!(out.id, id, "task {id} returned the output of {}", out.id);
                    futures.delivered(id);
                }
                Err(e) if e.is_cancelled() => futures.cancelled(id),
                Err(e) => panic!("task {id} failed: {e}"),
            }
        }
        start = end;
    }
}

/// 10,000,000 spawns at scale 1: half from tasks on the workers (the
/// local queue and LIFO slot), a quarter from the `block_on` thread (the
/// global queue, partly run by that thread itself), a quarter from two
/// foreign threads that await their handles with a plain thread-parking
/// waker (join wake-ups that leave the runtime). One task in eight yields,
/// one in 64 is detached, one in 64 is cancelled right after its spawn.
#[test]
fn ten_million_spawns() {
    let _one = exclusive();
    let n = scaled(10_000_000) as usize;
    let rt = runtime(2);
    let futures = Ledger::new(n);
    let outputs = Ledger::new(n);
    let start = Instant::now();
    watchdog("ten_million_spawns", 300, &[rt.handle().clone()], || {
        let half = n / 2;
        let three_q = half + n / 4;
        let q8 = n / 8;
        let foreign: Vec<_> = [(three_q, three_q + q8), (three_q + q8, n)]
            .into_iter()
            .map(|(a, b)| {
                let (f, o, h) = (futures.clone(), outputs.clone(), rt.handle().clone());
                std::thread::spawn(move || {
                    block_on_thread(spawn_range(a..b, f, o, move |fut| h.spawn(fut)))
                })
            })
            .collect();
        let (f, o) = (futures.clone(), outputs.clone());
        rt.block_on(async move {
            let workers: Vec<_> = (0..4)
                .map(|w| {
                    let (f, o) = (f.clone(), o.clone());
                    let (a, b) = (w * half / 4, (w + 1) * half / 4);
                    filch::spawn(spawn_range(a..b, f, o, |fut| filch::spawn(fut)))
                })
                .collect();
            spawn_range(half..three_q, f, o, |fut| filch::spawn(fut)).await;
            for w in workers {
                w.await.unwrap();
            }
        });
        for t in foreign {
            t.join().unwrap();
        }
        // Detached tasks may still be finishing.
        while rt.handle().num_alive_tasks() != 0 {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    report("ten_million_spawns", start, &format!("{n} tasks"));
    drop(rt);
    let (mut delivered, mut cancelled) = (0, 0);
    for id in 0..n {
        let (d, c) = (futures.deliveries_of(id), futures.cancellations_of(id));
        match fate(id) {
            Fate::Detached => assert_eq!((d, c), (0, 0), "detached task {id} was joined"),
            Fate::Cancelled => assert_eq!(d + c, 1, "task {id}: delivered {d}, cancelled {c}"),
            _ => assert_eq!((d, c), (1, 0), "task {id}: delivered {d}, cancelled {c}"),
        }
        // An output exists (and was dropped once) unless the task was
        // cancelled before it could finish.
        let expect_output = if c == 1 { 0 } else { 1 };
        assert_eq!(outputs.drops_of(id), expect_output, "output of task {id}");
        delivered += d as usize;
        cancelled += c as usize;
    }
    futures.assert_all_dropped_once("ten_million_spawns");
    eprintln!("[stress]   {delivered} delivered, {cancelled} cancelled before they ran");
}

/// One target of the wake storm: done once `count` reaches the goal.
#[derive(Default)]
struct Target {
    count: AtomicU64,
    waker: Mutex<Option<Waker>>,
    polls: AtomicU64,
    wakes: AtomicU64,
    polling: AtomicBool,
    done: AtomicBool,
}

struct WaitForCount {
    target: Arc<Target>,
    goal: u64,
    _guard: DropGuard,
}

impl Future for WaitForCount {
    type Output = u64;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<u64> {
        let t = &self.target;
        assert!(
            !t.polling.swap(true, SeqCst),
            "a task was polled twice at once"
        );
        let polls = t.polls.fetch_add(1, SeqCst) + 1;
        let res = if t.count.load(SeqCst) >= self.goal {
            Poll::Ready(polls)
        } else {
            {
                let mut slot = t.waker.lock().unwrap();
                if !slot.as_ref().is_some_and(|w| w.will_wake(cx.waker())) {
                    *slot = Some(cx.waker().clone());
                }
            }
            // Look again after publishing the waker (the wakers count first,
            // then take the waker), so no increment can be missed.
            if t.count.load(SeqCst) >= self.goal {
                Poll::Ready(polls)
            } else {
                Poll::Pending
            }
        };
        if res.is_ready() {
            t.done.store(true, SeqCst);
        }
        t.polling.store(false, SeqCst);
        res
    }
}

/// Bumps a random unfinished target and wakes it (by value, by reference,
/// or through a clone that is then dropped unused), until every target is
/// done. Returns how many wake-ups it sent.
fn storm(targets: &[Arc<Target>], rng: &mut Rng) -> u64 {
    let mut sent = 0;
    loop {
        let start = rng.below(targets.len() as u64) as usize;
        let Some(t) = (0..targets.len())
            .map(|k| &targets[(start + k) % targets.len()])
            .find(|t| !t.done.load(SeqCst))
        else {
            return sent;
        };
        t.count.fetch_add(1, SeqCst);
        let waker = t.waker.lock().unwrap().clone();
        if let Some(w) = waker {
            t.wakes.fetch_add(1, SeqCst);
            match rng.below(3) {
                0 => w.wake(),
                1 => w.wake_by_ref(),
                _ => {
                    let extra = w.clone();
                    w.wake_by_ref();
                    drop(extra);
                }
            }
            sent += 1;
        }
    }
}

/// 32 tasks, each waiting for its counter to reach a goal, woken from three
/// foreign threads and two tasks on the workers at once (by value, by
/// reference, through clones), so wake-ups land while the task is idle,
/// queued, in the LIFO slot, and being polled. No task is polled twice at
/// once, none misses its last wake-up (it would hang), and no task is
/// polled more often than it was woken (plus its first poll).
#[test]
fn wake_storm() {
    let _one = exclusive();
    const TARGETS: usize = 32;
    let goal = scaled(100_000);
    let rt = runtime(2);
    let ledger = Ledger::new(TARGETS);
    let targets: Vec<Arc<Target>> = (0..TARGETS).map(|_| Arc::default()).collect();
    let start = Instant::now();
    let sent = AtomicU64::new(0);
    watchdog("wake_storm", 120, &[rt.handle().clone()], || {
        let handles: Vec<_> = targets
            .iter()
            .enumerate()
            .map(|(i, t)| {
                rt.spawn(WaitForCount {
                    target: t.clone(),
                    goal,
                    _guard: ledger.guard(i),
                })
            })
            .collect();
        let in_tasks: Vec<_> = (0..2)
            .map(|k| {
                let targets = targets.clone();
                rt.spawn(async move {
                    let mut rng = Rng::new(seed(20 + k));
                    let mut sent = 0;
                    // Storm in slices, yielding between them so the targets
                    // get the worker too.
                    while targets.iter().any(|t| !t.done.load(SeqCst)) {
                        for _ in 0..64 {
                            sent += storm_once(&targets, &mut rng);
                        }
                        filch::yield_now().await;
                    }
                    sent
                })
            })
            .collect();
        std::thread::scope(|s| {
            for k in 0..3 {
                let (targets, sent) = (&targets, &sent);
                s.spawn(move || {
                    let n = storm(targets, &mut Rng::new(seed(10 + k)));
                    sent.fetch_add(n, SeqCst);
                });
            }
        });
        for (i, h) in handles.into_iter().enumerate() {
            let polls = block_on_thread(h).unwrap();
            let wakes = targets[i].wakes.load(SeqCst);
            assert!(
                polls <= wakes + 1,
                "target {i} was polled {polls} times for {wakes} wake-ups"
            );
            ledger.delivered(i);
        }
        for h in in_tasks {
            sent.fetch_add(block_on_thread(h).unwrap(), SeqCst);
        }
    });
    drop(rt);
    ledger.assert_all_dropped_once("wake_storm");
    ledger.assert_all_delivered_or_cancelled_once("wake_storm");
    let polls: u64 = targets.iter().map(|t| t.polls.load(SeqCst)).sum();
    report(
        "wake_storm",
        start,
        &format!(
            "{TARGETS} tasks, {} wake-ups, {polls} polls",
            sent.load(SeqCst)
        ),
    );
}

/// One step of [`storm`] (for the storming tasks, which must yield).
fn storm_once(targets: &[Arc<Target>], rng: &mut Rng) -> u64 {
    let t = &targets[rng.below(targets.len() as u64) as usize];
    if t.done.load(SeqCst) {
        return 0;
    }
    t.count.fetch_add(1, SeqCst);
    let waker = t.waker.lock().unwrap().clone();
    match waker {
        Some(w) => {
            t.wakes.fetch_add(1, SeqCst);
            if rng.one_in(2) {
                w.wake();
            } else {
                w.wake_by_ref();
            }
            1
        }
        None => 0,
    }
}

/// What a task of the cancellation scenario does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    /// Completes at once; cancelled only once it is finished (so it must
    /// deliver).
    Finished,
    /// Waits for a flag that is set (or not) by another thread while the
    /// cancellers work.
    Idle { woken: bool },
    /// Yields `n` times, then completes.
    Running { n: u32 },
}

#[derive(Default)]
struct CancelProbe {
    /// Set right after a `cancel()` call on the task returned.
    cancel_returned: AtomicBool,
    /// Polls that began after `cancel_returned` was set: at most one (a
    /// poll already past its state transition when the cancel came).
    polls_after_cancel: AtomicUsize,
    flag: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

impl CancelProbe {
    fn wake_with_flag(&self) {
        self.flag.store(true, SeqCst);
        if let Some(w) = self.waker.lock().unwrap().take() {
            w.wake();
        }
    }
}

struct Victim {
    kind: Kind,
    probe: Arc<CancelProbe>,
    yields: u32,
    id: usize,
    outputs: Arc<Ledger>,
    _guard: DropGuard,
}

impl Future for Victim {
    type Output = Out;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Out> {
        if self.probe.cancel_returned.load(SeqCst) {
            self.probe.polls_after_cancel.fetch_add(1, SeqCst);
        }
        let ready = match self.kind {
            Kind::Finished => true,
            Kind::Idle { .. } => {
                *self.probe.waker.lock().unwrap() = Some(cx.waker().clone());
                self.probe.flag.load(SeqCst)
            }
            Kind::Running { n } => {
                if self.yields < n {
                    self.yields += 1;
                    cx.waker().wake_by_ref();
                    false
                } else {
                    true
                }
            }
        };
        if ready {
            Poll::Ready(Out {
                id: self.id,
                _guard: self.outputs.guard(self.id),
            })
        } else {
            Poll::Pending
        }
    }
}

type Slot = Mutex<Option<filch::task::JoinHandle<Out>>>;

fn cancel_slot(slot: &Slot, probe: &CancelProbe) {
    if let Some(h) = slot.lock().unwrap().as_ref() {
        h.cancel();
        probe.cancel_returned.store(true, SeqCst);
    }
}

/// Rounds of 2,000 tasks (500,000 at scale 1) that are running (yielding),
/// idle (waiting for a flag), or finished, cancelled at random from two
/// foreign threads and a task while a third thread sets some idle tasks'
/// flags. Every task delivers its output or reports cancelled, exactly
/// once; a task cancelled only after it finished delivers; an idle task
/// whose flag is never set is cancelled; no task is polled again after its
/// cancel returned, except for one poll already under way.
#[test]
fn random_cancellation() {
    let _one = exclusive();
    const ROUND: usize = 2_000;
    let rounds = (scaled(250) as usize).max(1);
    let n = rounds * ROUND;
    let rt = runtime(2);
    let futures = Ledger::new(n);
    let outputs = Ledger::new(n);
    let kinds: Vec<Kind> = (0..n)
        .map(|id| {
            let mut rng = Rng::new(seed(3) ^ id as u64);
            match rng.below(3) {
                0 => Kind::Finished,
                1 => Kind::Idle {
                    woken: rng.one_in(2),
                },
                _ => Kind::Running {
                    n: 1 + rng.below(40) as u32,
                },
            }
        })
        .collect();
    let start = Instant::now();
    watchdog("random_cancellation", 180, &[rt.handle().clone()], || {
        for round in 0..rounds {
            let base = round * ROUND;
            let probes: Arc<Vec<Arc<CancelProbe>>> =
                Arc::new((0..ROUND).map(|_| Arc::default()).collect());
            let slots: Arc<Vec<Slot>> = Arc::new((0..ROUND).map(|_| Mutex::new(None)).collect());
            for (i, slot) in slots.iter().enumerate() {
                let id = base + i;
                let h = rt.spawn(Victim {
                    kind: kinds[id],
                    probe: probes[i].clone(),
                    yields: 0,
                    id,
                    outputs: outputs.clone(),
                    _guard: futures.guard(id),
                });
                *slot.lock().unwrap() = Some(h);
            }
            // Finished tasks are cancelled only once they are done.
            let finished: Vec<usize> = (0..ROUND)
                .filter(|&i| kinds[base + i] == Kind::Finished)
                .collect();
            // Cancellers: two threads and a task, each over a random third
            // of the tasks that are not `Finished`, in random order.
            let pick = |salt: u64| -> Vec<usize> {
                let mut rng = Rng::new(seed(salt) ^ round as u64);
                (0..ROUND)
                    .filter(|&i| kinds[base + i] != Kind::Finished && rng.one_in(3))
                    .collect()
            };
            let (a, b, c) = (pick(31), pick(32), pick(33));
            let canceller_task = {
                let (slots, probes) = (slots.clone(), probes.clone());
                rt.spawn(async move {
                    for (k, i) in c.into_iter().enumerate() {
                        cancel_slot(&slots[i], &probes[i]);
                        if k % 16 == 0 {
                            filch::yield_now().await;
                        }
                    }
                })
            };
            std::thread::scope(|s| {
                for list in [a, b] {
                    let (slots, probes) = (&slots, &probes);
                    s.spawn(move || {
                        for i in list {
                            cancel_slot(&slots[i], &probes[i]);
                        }
                    });
                }
                let (all, kinds) = (&probes, &kinds);
                s.spawn(move || {
                    for (i, p) in all.iter().enumerate() {
                        if kinds[base + i] == (Kind::Idle { woken: true }) {
                            p.wake_with_flag();
                        }
                    }
                });
                let (slots, probes) = (&slots, &probes);
                s.spawn(move || {
                    for &i in &finished {
                        let slot = &slots[i];
                        while !slot.lock().unwrap().as_ref().unwrap().is_finished() {
                            std::thread::yield_now();
                        }
                        cancel_slot(slot, &probes[i]);
                    }
                });
            });
            block_on_thread(canceller_task).unwrap();
            // Idle tasks that nobody will wake are cancelled now, so that
            // every task ends.
            for i in 0..ROUND {
                if kinds[base + i] == (Kind::Idle { woken: false }) {
                    cancel_slot(&slots[i], &probes[i]);
                }
            }
            // Join every task through its slot (the cancellers are done, but
            // the handle stays where they found it).
            let joined = rt.block_on(async {
                let mut joined = 0;
                for (i, slot) in slots.iter().enumerate() {
                    let id = base + i;
                    let res =
                        poll_fn(|cx| Pin::new(slot.lock().unwrap().as_mut().unwrap()).poll(cx))
                            .await;
                    match res {
                        Ok(out) => {
                            assert_eq!(out.id, id);
                            futures.delivered(id);
                        }
                        Err(e) if e.is_cancelled() => futures.cancelled(id),
                        Err(e) => panic!("task {id} failed: {e}"),
                    }
                    joined += 1;
                }
                joined
            });
            assert_eq!(joined, ROUND);
            for (i, p) in probes.iter().enumerate() {
                let after = p.polls_after_cancel.load(SeqCst);
                assert!(
                    after <= 1,
                    "task {} ({:?}) was polled {after} times after its cancel returned",
                    base + i,
                    kinds[base + i]
                );
            }
        }
    });
    drop(rt);
    futures.assert_all_dropped_once("random_cancellation");
    futures.assert_all_delivered_or_cancelled_once("random_cancellation");
    for (id, kind) in kinds.iter().enumerate() {
        let (d, c) = (futures.deliveries_of(id), futures.cancellations_of(id));
        match kind {
            Kind::Finished => assert_eq!(d, 1, "finished task {id} was cancelled"),
            Kind::Idle { woken: false } => assert_eq!(c, 1, "unwoken idle task {id} delivered"),
            _ => {}
        }
        assert_eq!(outputs.drops_of(id), d, "output of task {id}");
    }
    let (d, c) = futures.outcomes();
    report(
        "random_cancellation",
        start,
        &format!("{n} tasks: {d} delivered, {c} cancelled"),
    );
}

/// A future whose destructor spawns the next link of its chain (until
/// `depth` is 0), through a handle: on a worker, in a cancellation, and
/// during the runtime's shutdown (where the spawn is refused and the new
/// task is dropped at once, so the chain unrolls right there).
struct Link {
    handle: Handle,
    depth: usize,
    id: usize,
    ids: Arc<AtomicUsize>,
    ledger: Arc<Ledger>,
    behavior: u64,
    _guard: DropGuard,
}

impl Link {
    fn new(
        handle: &Handle,
        depth: usize,
        ids: &Arc<AtomicUsize>,
        ledger: &Arc<Ledger>,
        behavior: u64,
    ) -> Link {
        let id = ids.fetch_add(1, SeqCst);
        Link {
            handle: handle.clone(),
            depth,
            id,
            ids: ids.clone(),
            ledger: ledger.clone(),
            behavior,
            _guard: ledger.guard(id),
        }
    }
}

impl Future for Link {
    type Output = usize;

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<usize> {
        match self.behavior % 4 {
            // Stays pending: dropped by a cancel or by the shutdown.
            0 => Poll::Pending,
            _ => Poll::Ready(self.id),
        }
    }
}

impl Drop for Link {
    fn drop(&mut self) {
        if self.depth > 0 {
            let next = Link::new(
                &self.handle,
                self.depth - 1,
                &self.ids,
                &self.ledger,
                self.behavior
                    .wrapping_mul(6364136223846793005)
                    .wrapping_add(1)
                    >> 7,
            );
            let h = self.handle.spawn(next);
            if self.behavior.is_multiple_of(7) {
                h.cancel();
            }
        }
    }
}

/// A waker that spawns a task each time it is woken, then wakes the task
/// it stands in for. Called wherever filch wakes: in a timer firing on a
/// worker, in the reactor's dispatch, in a task's completion (a join
/// waker), in another task's poll (channel, `Notify`), in the shutdown.
struct SpawningWaker {
    handle: Handle,
    inner: Waker,
    ids: Arc<AtomicUsize>,
    ledger: Arc<Ledger>,
    spawned: Arc<AtomicUsize>,
    ran: Arc<AtomicUsize>,
}

impl SpawningWaker {
    fn spawn_one(&self) {
        self.spawned.fetch_add(1, SeqCst);
        let id = self.ids.fetch_add(1, SeqCst);
        let guard = self.ledger.guard(id);
        let ran = self.ran.clone();
        drop(self.handle.spawn(async move {
            let _guard = guard;
            ran.fetch_add(1, SeqCst);
        }));
    }
}

impl Wake for SpawningWaker {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &Arc<Self>) {
        self.spawn_one();
        self.inner.wake_by_ref();
    }
}

/// Polls `F` with a [`SpawningWaker`] around the task's waker.
struct WithSpawningWaker<F> {
    inner: Pin<Box<F>>,
    handle: Handle,
    ids: Arc<AtomicUsize>,
    ledger: Arc<Ledger>,
    spawned: Arc<AtomicUsize>,
    ran: Arc<AtomicUsize>,
}

impl<F: Future> Future for WithSpawningWaker<F> {
    type Output = F::Output;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let waker = Waker::from(Arc::new(SpawningWaker {
            handle: self.handle.clone(),
            inner: cx.waker().clone(),
            ids: self.ids.clone(),
            ledger: self.ledger.clone(),
            spawned: self.spawned.clone(),
            ran: self.ran.clone(),
        }));
        self.inner.as_mut().poll(&mut Context::from_waker(&waker))
    }
}

/// Destructor chains (64 links each) whose links complete, stay pending
/// until cancelled or shut down, or are cancelled as they are spawned; and
/// tasks waiting on a timer, a channel, a `Notify`, a join handle and a
/// socket through a waker that spawns a task whenever filch wakes it.
/// Every future (links and spawned tasks) is dropped exactly once, the
/// spawned-by-waker tasks all run, and nothing deadlocks (a spawn from
/// inside a wake path that held a lock would).
#[test]
fn spawn_from_destructors_and_wakers() {
    let _one = exclusive();
    const DEPTH: usize = 64;
    let chains = scaled(5_000) as usize;
    let waiters = scaled(20_000) as usize;
    // Links: chains * (DEPTH + 1). Waker spawns: unknown in advance, at
    // most a few per waiter; the ledger has room for far more.
    let capacity = chains * (DEPTH + 1) + waiters * 64;
    let ledger = Ledger::new(capacity);
    let ids = Arc::new(AtomicUsize::new(0));
    let ran = Arc::new(AtomicUsize::new(0));
    let spawned = Arc::new(AtomicUsize::new(0));
    let rt = runtime(2);
    let start = Instant::now();
    watchdog(
        "spawn_from_destructors_and_wakers",
        180,
        &[rt.handle().clone()],
        || {
            let handle = rt.handle().clone();
            let (ids2, ledger2, ran2, spawned2) =
                (ids.clone(), ledger.clone(), ran.clone(), spawned.clone());
            rt.block_on(async move {
                let (ids, ledger, ran, spawned) = (ids2, ledger2, ran2, spawned2);
                let mut rng = Rng::new(seed(4));
                // Destructor chains.
                let mut pending = Vec::new();
                for _ in 0..chains {
                    let behavior = rng.next_u64();
                    let h = filch::spawn(Link::new(&handle, DEPTH, &ids, &ledger, behavior));
                    if behavior.is_multiple_of(4) {
                        // The first link stays pending: cancel half of those
                        // now, leave the rest to the shutdown.
                        if rng.one_in(2) {
                            h.cancel();
                            pending.push(h);
                        }
                    } else {
                        pending.push(h);
                    }
                }
                for h in pending {
                    let _ = h.await;
                }
                // Wakers that spawn.
                let wrap = |f| WithSpawningWaker {
                    inner: Box::pin(f),
                    handle: handle.clone(),
                    ids: ids.clone(),
                    ledger: ledger.clone(),
                    spawned: spawned.clone(),
                    ran: ran.clone(),
                };
                let mut joins = Vec::new();
                for i in 0..waiters {
                    match i % 5 {
                        0 => {
                            let ms = 1 + rng.below(3);
                            joins.push(filch::spawn(wrap(Box::pin(async move {
                                filch::time::sleep(Duration::from_millis(ms)).await;
                            })
                                as Pin<Box<dyn Future<Output = ()> + Send>>)));
                        }
                        1 => {
                            let (tx, rx) = oneshot::channel::<()>();
                            joins.push(filch::spawn(wrap(Box::pin(async move {
                                let _ = rx.await;
                            }))));
                            filch::spawn(async move {
                                filch::yield_now().await;
                                let _ = tx.send(());
                            });
                        }
                        2 => {
                            // One `Notify` per pair: permits do not
                            // accumulate, so with one shared by all pairs two
                            // `notify_one` calls while no waiter was
                            // registered left one waiter pending forever
                            // (seen once in 5 runs).
                            let notify = Arc::new(filch::sync::Notify::new());
                            let n = notify.clone();
                            joins.push(filch::spawn(wrap(Box::pin(async move {
                                n.notified().await;
                            }))));
                            let n = notify;
                            filch::spawn(async move {
                                filch::yield_now().await;
                                n.notify_one();
                            });
                        }
                        3 => {
                            let other = filch::spawn(async {
                                filch::yield_now().await;
                            });
                            joins.push(filch::spawn(wrap(Box::pin(async move {
                                other.await.unwrap();
                            }))));
                        }
                        _ => {
                            let (mut a, mut b) = filch::net::UnixStream::pair().unwrap();
                            joins.push(filch::spawn(wrap(Box::pin(async move {
                                use filch::io::AsyncReadExt;
                                let mut buf = [0u8; 1];
                                a.read_exact(&mut buf).await.unwrap();
                            }))));
                            filch::spawn(async move {
                                use filch::io::AsyncWriteExt;
                                filch::yield_now().await;
                                b.write_all(b"x").await.unwrap();
                            });
                        }
                    }
                }
                for j in joins {
                    j.await.unwrap();
                }
            });
            // Every task spawned by a waker so far runs (it may still be
            // queued); later wake-ups' tasks may be left to the shutdown.
            while ran.load(SeqCst) < spawned.load(SeqCst) {
                std::thread::sleep(Duration::from_millis(1));
            }
            // Waiters left pending in the first phase are dropped by the
            // shutdown, which unrolls their chains.
            drop(rt);
        },
    );
    let made = ids.load(SeqCst);
    assert!(made <= capacity, "{made} ids for a ledger of {capacity}");
    for id in 0..made {
        assert_eq!(
            ledger.drops_of(id),
            1,
            "future {id} dropped {} times",
            ledger.drops_of(id)
        );
    }
    for id in made..capacity {
        assert_eq!(ledger.drops_of(id), 0);
    }
    // A waiter whose event came before its first poll is never woken; most
    // are (so the wake paths were exercised).
    let by_wakers = made - chains * (DEPTH + 1);
    assert!(
        by_wakers >= waiters / 2,
        "only {by_wakers} spawns from the wakers of {waiters} waiters"
    );
    report(
        "spawn_from_destructors_and_wakers",
        start,
        &format!(
            "{} chain links, {by_wakers} spawns from wakers",
            chains * (DEPTH + 1)
        ),
    );
}

/// Three threads, each building a runtime per round (100 rounds at scale
/// 1), run tasks on their own runtime and on the
/// others' (through handles shared on a board), await join handles across
/// runtimes, and build and drop a runtime inside a `spawn_blocking` closure
/// of their own. A runtime is dropped while other threads may still spawn
/// onto it: those spawns are cancelled, never lost. Every future is
/// dropped exactly once; every task delivers or reports cancelled.
#[test]
fn nested_runtimes() {
    let _one = exclusive();
    const THREADS: usize = 3;
    let rounds = scaled(100) as usize;
    // Per thread and round: PER_ROUND local + PER_ROUND remote + 20 inner.
    let per = PER_ROUND * 2 + 20;
    let n = THREADS * rounds * per;
    let ledger = Ledger::new(n);
    let board: Arc<Mutex<Vec<Option<Handle>>>> = Arc::new(Mutex::new(vec![None; THREADS]));
    let start = Instant::now();
    watchdog("nested_runtimes", 180, &[], || {
        std::thread::scope(|s| {
            for t in 0..THREADS {
                let (ledger, board) = (&ledger, &board);
                s.spawn(move || nested_runtime_thread(t, rounds, per, ledger, board));
            }
        });
    });
    ledger.assert_all_dropped_once("nested_runtimes");
    ledger.assert_all_delivered_or_cancelled_once("nested_runtimes");
    let (d, c) = ledger.outcomes();
    report(
        "nested_runtimes",
        start,
        &format!(
            "{} runtimes, {n} tasks: {d} delivered, {c} cancelled (spawned onto a runtime shutting down)",
            THREADS * rounds * 2
        ),
    );
}

const PER_ROUND: usize = 200;

fn nested_runtime_thread(
    t: usize,
    rounds: usize,
    per: usize,
    ledger: &Arc<Ledger>,
    board: &Arc<Mutex<Vec<Option<Handle>>>>,
) {
    let mut rng = Rng::new(seed(50 + t as u64));
    for round in 0..rounds {
        let base = (t * rounds + round) * per;
        let rt = runtime(2);
        board.lock().unwrap()[t] = Some(rt.handle().clone());
        let other = {
            let board = board.lock().unwrap();
            let k = (t + 1 + rng.below(board.len() as u64 - 1) as usize) % board.len();
            board[k].clone()
        };
        let ledger2 = ledger.clone();
        let results = rt.block_on(async move {
            let ledger = ledger2;
            let mut handles = Vec::new();
            for i in 0..PER_ROUND {
                let id = base + i;
                let g = ledger.guard(id);
                handles.push((
                    id,
                    filch::spawn(async move {
                        let _g = g;
                        filch::yield_now().await;
                        id
                    }),
                ));
            }
            // Onto another runtime (or our own if no other is up yet).
            let target = other.unwrap_or_else(Handle::current);
            for i in 0..PER_ROUND {
                let id = base + PER_ROUND + i;
                let g = ledger.guard(id);
                handles.push((
                    id,
                    target.spawn(async move {
                        let _g = g;
                        filch::yield_now().await;
                        id
                    }),
                ));
            }
            // A runtime inside a blocking thread of this one.
            let inner_ledger = ledger.clone();
            let inner_base = base + 2 * PER_ROUND;
            let inner = filch::spawn_blocking(move || {
                let inner_rt = runtime(1);
                let out: Vec<(usize, Result<usize, filch::task::JoinError>)> =
                    inner_rt.block_on(async move {
                        let hs: Vec<_> = (0..20)
                            .map(|i| {
                                let id = inner_base + i;
                                let g = inner_ledger.guard(id);
                                (
                                    id,
                                    filch::spawn(async move {
                                        let _g = g;
                                        id
                                    }),
                                )
                            })
                            .collect();
                        let mut out = Vec::new();
                        for (id, h) in hs {
                            out.push((id, h.await));
                        }
                        out
                    });
                drop(inner_rt);
                out
            });
            let mut results = Vec::new();
            for (id, h) in handles {
                results.push((id, h.await));
            }
            results.extend(inner.await.unwrap());
            results
        });
        board.lock().unwrap()[t] = None;
        drop(rt);
        for (id, res) in results {
            match res {
                Ok(v) => {
                    assert_eq!(v, id);
                    ledger.delivered(id);
                }
                Err(e) if e.is_cancelled() => ledger.cancelled(id),
                Err(e) => panic!("task {id}: {e}"),
            }
        }
    }
}

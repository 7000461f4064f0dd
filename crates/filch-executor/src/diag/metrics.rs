//! Runtime metrics: per-worker counters and poll-time histograms, and the
//! live view users read them through ([`RuntimeMetrics`]).
//!
//! Each worker counts in plain fields of its loop and publishes them to
//! counters on cache lines of its own, with one store each, at every
//! maintenance (61 polls by default) and before it parks: counting costs
//! nothing on the poll path and never contends. A reader sees an idle
//! worker's counts exactly and a busy one's at most one maintenance
//! interval late. Counts that producers on many threads would otherwise share are
//! counted where they are consumed instead: a task pushed to the global
//! queue is counted by the worker that takes it (plus what is still queued),
//! and spawns are counted by the owned-task list's shard locks, which spawn
//! holds anyway.
//!
//! Owns the counters and the view; it must not decide when they move (the
//! scheduler does).

use crate::Handle;
use crate::loom::atomic::AtomicU64;
use std::fmt;
use std::sync::atomic::Ordering::Relaxed;
use std::time::Duration;

/// A counter with one writer: `inc` is a load and a store.
#[derive(Default)]
pub(crate) struct Counter(AtomicU64);

impl fmt::Debug for Counter {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

impl Counter {
    /// Adds one (only the counter's single writer may call this).
    #[inline]
    pub(crate) fn inc(&self) {
        self.add(1);
    }

    /// Adds `n` (only the counter's single writer may call this).
    #[inline]
    pub(crate) fn add(&self, n: u64) {
        self.0.store(self.0.load(Relaxed).wrapping_add(n), Relaxed);
    }

    /// Sets the count (only the counter's single writer may call this).
    #[inline]
    pub(crate) fn set(&self, n: u64) {
        self.0.store(n, Relaxed);
    }

    /// Adds `n` from any thread (a read-modify-write, for counters shared by
    /// threads that are not workers).
    pub(crate) fn add_shared(&self, n: u64) {
        self.0.fetch_add(n, Relaxed);
    }

    pub(crate) fn get(&self) -> u64 {
        self.0.load(Relaxed)
    }
}

/// Number of poll-time histogram buckets: below 1 µs, then powers of two up
/// to 2^23 µs (about 8.4 s), then everything longer.
pub(crate) const BUCKETS: usize = 25;

/// The upper bound of bucket `i` (exclusive); the last bucket's is
/// `Duration::MAX`.
pub(crate) fn bucket_bound(i: usize) -> Duration {
    if i + 1 >= BUCKETS {
        Duration::MAX
    } else {
        Duration::from_micros(1 << i)
    }
}

/// The bucket a poll of `elapsed` falls in.
pub(crate) fn bucket_of(elapsed: Duration) -> usize {
    let micros = elapsed.as_micros();
    if micros == 0 {
        return 0;
    }
    let bits = (u128::BITS - micros.leading_zeros()) as usize;
    bits.min(BUCKETS - 1)
}

/// A poll-time histogram.
#[derive(Default)]
pub(crate) struct Histogram {
    buckets: [Counter; BUCKETS],
}

impl Histogram {
    /// Counts a poll (single writer).
    pub(crate) fn record(&self, elapsed: Duration) {
        self.buckets[bucket_of(elapsed)].inc();
    }

    /// Counts a poll from any thread.
    pub(crate) fn record_shared(&self, elapsed: Duration) {
        self.buckets[bucket_of(elapsed)].add_shared(1);
    }

    /// Adds every bucket of `other` into this one, from any thread.
    pub(crate) fn merge_shared(&self, other: &Histogram) {
        for (mine, theirs) in self.buckets.iter().zip(&other.buckets) {
            let n = theirs.get();
            if n != 0 {
                mine.add_shared(n);
            }
        }
    }

    fn add_into(&self, out: &mut [u64; BUCKETS]) {
        for (o, b) in out.iter_mut().zip(&self.buckets) {
            *o += b.get();
        }
    }
}

/// What one worker counts. On cache lines of its own (`CachePadded` in
/// `Shared`), written only by its worker.
#[derive(Default)]
pub(crate) struct WorkerStats {
    /// Task polls (and cancellations) run.
    pub(crate) polls: Counter,
    /// Tasks this worker queued on itself (spawned or woken by its tasks).
    pub(crate) local_schedules: Counter,
    /// Tasks it took from the global queue.
    pub(crate) injector_takes: Counter,
    /// Tasks it stole from other workers (LIFO rescues included).
    pub(crate) steals: Counter,
    /// Times it parked.
    pub(crate) parks: Counter,
    /// Tasks it ran from its LIFO slot.
    pub(crate) lifo_hits: Counter,
    /// Its poll timing: the slot the watchdog reads and its histogram.
    pub(crate) slot: super::timing::ThreadSlot,
}

/// A live view of a runtime's metrics ([`Handle::metrics`]): every getter
/// reads the current value. Workers publish their counts at every
/// maintenance (61 polls by default) and whenever they park, so the counts
/// of a parked worker are exact and those of a busy one at most that many
/// polls late; sums over workers are not one atomic snapshot.
///
/// ```
/// let rt = filch_executor::Builder::new().worker_threads(2).build().unwrap();
/// rt.block_on(async {
///     let tasks: Vec<_> = (0..10).map(|_| filch_executor::spawn(async {})).collect();
///     for t in tasks {
///         t.await.unwrap();
///     }
/// });
/// let m = rt.handle().metrics();
/// assert_eq!(m.num_workers(), 2);
/// assert_eq!(m.spawned_tasks(), 10);
/// println!("{m:#?}");
/// ```
#[derive(Clone)]
pub struct RuntimeMetrics {
    handle: Handle,
}

impl RuntimeMetrics {
    pub(crate) fn new(handle: Handle) -> RuntimeMetrics {
        RuntimeMetrics { handle }
    }

    fn worker(&self, i: usize) -> &WorkerStats {
        let stats = &self.handle.shared.stats;
        assert!(
            i < stats.len(),
            "worker index {i} is out of range: the runtime has {} workers",
            stats.len()
        );
        &stats[i]
    }

    fn sum(&self, f: impl Fn(&WorkerStats) -> &Counter) -> u64 {
        self.handle.shared.stats.iter().map(|s| f(s).get()).sum()
    }

    /// The number of worker threads.
    ///
    /// ```
    /// let rt = filch_executor::Builder::new().worker_threads(3).build().unwrap();
    /// assert_eq!(rt.handle().metrics().num_workers(), 3);
    /// ```
    pub fn num_workers(&self) -> usize {
        self.handle.shared.remotes.len()
    }

    /// Tasks spawned and not yet completed (blocking-pool closures are not
    /// counted: see [`blocking_threads`](Self::blocking_threads)).
    ///
    /// ```
    /// let rt = filch_executor::Executor::new().unwrap();
    /// let h = rt.spawn(std::future::pending::<()>());
    /// assert_eq!(rt.handle().metrics().live_tasks(), 1);
    /// h.cancel();
    /// ```
    pub fn live_tasks(&self) -> usize {
        self.handle.num_alive_tasks()
    }

    /// Tasks spawned since the runtime started.
    ///
    /// ```
    /// let rt = filch_executor::Executor::new().unwrap();
    /// rt.block_on(rt.spawn(async {})).unwrap();
    /// assert_eq!(rt.handle().metrics().spawned_tasks(), 1);
    /// ```
    pub fn spawned_tasks(&self) -> u64 {
        self.handle.shared.owned.spawned() + crate::local::spawned(&self.handle)
    }

    /// Tasks that workers took from other workers' queues (including tasks
    /// rescued from a stuck worker's LIFO slot).
    ///
    /// ```
    /// let rt = filch_executor::Executor::new().unwrap();
    /// let _ = rt.handle().metrics().steal_count();
    /// ```
    pub fn steal_count(&self) -> u64 {
        self.sum(|s| &s.steals)
    }

    /// [`steal_count`](Self::steal_count) of worker `i`.
    ///
    /// # Panics
    /// If `i` is not below [`num_workers`](Self::num_workers).
    ///
    /// ```
    /// let rt = filch_executor::Builder::new().worker_threads(2).build().unwrap();
    /// let m = rt.handle().metrics();
    /// assert_eq!(m.worker_steal_count(0) + m.worker_steal_count(1), m.steal_count());
    /// ```
    pub fn worker_steal_count(&self, i: usize) -> u64 {
        self.worker(i).steals.get()
    }

    /// Tasks that code running on a worker queued on that same worker
    /// (spawned or woken from a task).
    ///
    /// ```
    /// // Tasks then run on the worker only, not on the `block_on` thread.
    /// let rt = filch_executor::Builder::new().worker_threads(1).block_on_runs_tasks(false).build().unwrap();
    /// rt.block_on(rt.spawn(async { filch_executor::spawn(async {}).await.unwrap() })).unwrap();
    /// // A worker publishes its counts when it parks (and every 61 polls).
    /// while rt.handle().num_unparked_workers() != 0 {
    ///     std::thread::yield_now();
    /// }
    /// assert!(rt.handle().metrics().local_schedule_count() >= 1);
    /// ```
    pub fn local_schedule_count(&self) -> u64 {
        self.sum(|s| &s.local_schedules)
    }

    /// [`local_schedule_count`](Self::local_schedule_count) of worker `i`.
    ///
    /// # Panics
    /// If `i` is not below [`num_workers`](Self::num_workers).
    ///
    /// ```
    /// let rt = filch_executor::Builder::new().worker_threads(1).build().unwrap();
    /// assert_eq!(rt.handle().metrics().worker_local_schedule_count(0), 0);
    /// ```
    pub fn worker_local_schedule_count(&self, i: usize) -> u64 {
        self.worker(i).local_schedules.get()
    }

    /// Tasks queued from outside the workers (spawned or woken by another
    /// thread) through the global queue: those taken from it so far plus
    /// those still in it.
    ///
    /// ```
    /// let rt = filch_executor::Executor::new().unwrap();
    /// rt.block_on(rt.spawn(async {})).unwrap();
    /// assert_eq!(rt.handle().metrics().remote_schedule_count(), 1);
    /// ```
    pub fn remote_schedule_count(&self) -> u64 {
        let shared = &self.handle.shared;
        // Under the lock that a finishing `block_on` moves its count under.
        let block_ons: u64 = {
            let list = shared.block_ons.lock();
            list.iter().map(|b| b.injector_takes.get()).sum::<u64>()
                + shared.others_injector_takes.get()
        };
        self.sum(|s| &s.injector_takes) + block_ons + shared.injector.len() as u64
    }

    /// Times workers parked (went to sleep for want of work).
    ///
    /// ```
    /// let rt = filch_executor::Executor::new().unwrap();
    /// let _ = rt.handle().metrics().park_count();
    /// ```
    pub fn park_count(&self) -> u64 {
        self.sum(|s| &s.parks)
    }

    /// [`park_count`](Self::park_count) of worker `i`.
    ///
    /// # Panics
    /// If `i` is not below [`num_workers`](Self::num_workers).
    ///
    /// ```
    /// let rt = filch_executor::Builder::new().worker_threads(1).build().unwrap();
    /// let _ = rt.handle().metrics().worker_park_count(0);
    /// ```
    pub fn worker_park_count(&self, i: usize) -> u64 {
        self.worker(i).parks.get()
    }

    /// Tasks run from a worker's LIFO slot (the task its previous task woke,
    /// run next for message-passing latency).
    ///
    /// ```
    /// let rt = filch_executor::Executor::new().unwrap();
    /// let _ = rt.handle().metrics().lifo_hits();
    /// ```
    pub fn lifo_hits(&self) -> u64 {
        self.sum(|s| &s.lifo_hits)
    }

    /// [`lifo_hits`](Self::lifo_hits) of worker `i`.
    ///
    /// # Panics
    /// If `i` is not below [`num_workers`](Self::num_workers).
    ///
    /// ```
    /// let rt = filch_executor::Builder::new().worker_threads(1).build().unwrap();
    /// let _ = rt.handle().metrics().worker_lifo_hits(0);
    /// ```
    pub fn worker_lifo_hits(&self, i: usize) -> u64 {
        self.worker(i).lifo_hits.get()
    }

    /// Task polls (and cancellations) run by the workers.
    ///
    /// ```
    /// let rt = filch_executor::Builder::new().worker_threads(1).block_on_runs_tasks(false).build().unwrap();
    /// rt.block_on(rt.spawn(async {})).unwrap();
    /// // A worker publishes its counts when it parks (and every 61 polls).
    /// while rt.handle().num_unparked_workers() != 0 {
    ///     std::thread::yield_now();
    /// }
    /// assert_eq!(rt.handle().metrics().poll_count(), 1);
    /// ```
    pub fn poll_count(&self) -> u64 {
        self.sum(|s| &s.polls)
    }

    /// [`poll_count`](Self::poll_count) of worker `i`.
    ///
    /// # Panics
    /// If `i` is not below [`num_workers`](Self::num_workers).
    ///
    /// ```
    /// let rt = filch_executor::Builder::new().worker_threads(1).build().unwrap();
    /// let _ = rt.handle().metrics().worker_poll_count(0);
    /// ```
    pub fn worker_poll_count(&self, i: usize) -> u64 {
        self.worker(i).polls.get()
    }

    /// Tasks waiting in worker `i`'s queue (its LIFO slot included).
    ///
    /// # Panics
    /// If `i` is not below [`num_workers`](Self::num_workers).
    ///
    /// ```
    /// let rt = filch_executor::Builder::new().worker_threads(1).build().unwrap();
    /// assert_eq!(rt.handle().metrics().worker_queue_depth(0), 0);
    /// ```
    pub fn worker_queue_depth(&self, i: usize) -> usize {
        let _ = self.worker(i);
        let remote = &self.handle.shared.remotes[i];
        remote.stealer.len() + usize::from(remote.lifo.is_occupied())
    }

    /// Tasks waiting in the global queue.
    ///
    /// ```
    /// let rt = filch_executor::Executor::new().unwrap();
    /// assert_eq!(rt.handle().metrics().injection_queue_depth(), 0);
    /// ```
    pub fn injection_queue_depth(&self) -> usize {
        self.handle.shared.injector.len()
    }

    /// Threads in the blocking pool right now (running a closure or waiting
    /// for one until their keep-alive ends).
    ///
    /// ```
    /// let rt = filch_executor::Executor::new().unwrap();
    /// rt.block_on(rt.spawn_blocking(|| ())).unwrap();
    /// assert!(rt.handle().metrics().blocking_threads() <= 1);
    /// ```
    pub fn blocking_threads(&self) -> usize {
        self.handle.shared.blocking.num_threads()
    }

    /// Blocking-pool closures queued or running right now.
    ///
    /// ```
    /// let rt = filch_executor::Executor::new().unwrap();
    /// assert_eq!(rt.handle().metrics().blocking_tasks(), 0);
    /// ```
    pub fn blocking_tasks(&self) -> usize {
        self.handle.shared.blocking.num_active()
    }

    /// Whether polls are timed into the histogram (debug mode, or
    /// `Builder::poll_time_histogram(true)`).
    ///
    /// ```
    /// let rt = filch_executor::Executor::new().unwrap();
    /// let _ = rt.handle().metrics().poll_time_histogram_enabled();
    /// ```
    pub fn poll_time_histogram_enabled(&self) -> bool {
        self.handle.shared.diag.timing.is_some()
    }

    /// How long task polls took: `(upper bound, polls)` per bucket, the
    /// bounds doubling from 1 µs (the first bucket holds polls under 1 µs,
    /// the last, bounded by `Duration::MAX`, those over about 8.4 s).
    /// Empty unless [`poll_time_histogram_enabled`](Self::poll_time_histogram_enabled).
    ///
    /// ```
    /// let rt = filch_executor::Builder::new().poll_time_histogram(true).build().unwrap();
    /// rt.block_on(rt.spawn(async {})).unwrap();
    /// let hist = rt.handle().metrics().poll_time_histogram();
    /// assert_eq!(hist.iter().map(|(_, n)| n).sum::<u64>(), 1);
    /// assert_eq!(hist[0].0, std::time::Duration::from_micros(1));
    /// ```
    pub fn poll_time_histogram(&self) -> Vec<(Duration, u64)> {
        let shared = &self.handle.shared;
        let Some(timing) = &shared.diag.timing else {
            return Vec::new();
        };
        let mut counts = [0u64; BUCKETS];
        for s in shared.stats.iter() {
            s.slot.histogram.add_into(&mut counts);
        }
        timing.others.add_into(&mut counts);
        for b in shared.block_ons.lock().iter() {
            if let Some(slot) = &b.slot {
                slot.histogram.add_into(&mut counts);
            }
        }
        counts
            .iter()
            .enumerate()
            .map(|(i, &n)| (bucket_bound(i), n))
            .collect()
    }
}

impl fmt::Debug for RuntimeMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RuntimeMetrics")
            .field("num_workers", &self.num_workers())
            .field("live_tasks", &self.live_tasks())
            .field("spawned_tasks", &self.spawned_tasks())
            .field("poll_count", &self.poll_count())
            .field("steal_count", &self.steal_count())
            .field("local_schedule_count", &self.local_schedule_count())
            .field("remote_schedule_count", &self.remote_schedule_count())
            .field("park_count", &self.park_count())
            .field("lifo_hits", &self.lifo_hits())
            .field("injection_queue_depth", &self.injection_queue_depth())
            .field("blocking_threads", &self.blocking_threads())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_double_from_one_microsecond() {
        assert_eq!(bucket_of(Duration::from_nanos(999)), 0);
        assert_eq!(bucket_of(Duration::from_micros(1)), 1);
        assert_eq!(bucket_of(Duration::from_nanos(1999)), 1);
        assert_eq!(bucket_of(Duration::from_micros(2)), 2);
        assert_eq!(bucket_of(Duration::from_secs(3600)), BUCKETS - 1);
        for i in 0..BUCKETS - 1 {
            // Every bucket's bound is the first duration of the next one.
            assert_eq!(bucket_of(bucket_bound(i)), i + 1);
            if i > 0 {
                assert_eq!(bucket_of(bucket_bound(i) - Duration::from_nanos(1)), i);
            }
        }
        assert_eq!(bucket_bound(BUCKETS - 1), Duration::MAX);
    }
}

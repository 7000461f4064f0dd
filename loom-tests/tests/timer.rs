#![cfg(loom)]
//! Loom models of the timer protocol (`filch-timer/src/entry.rs` and
//! `driver.rs`): a worker firing its wheel while the owner of a `Sleep`, on
//! another thread, drops, resets or polls it; and a parked worker that must
//! be woken when a registration makes its wheel's next deadline earlier.
//!
//! Every model drives the real code: a `WheelCell` made by
//! `WheelCell::standalone` (the same cell a runtime makes, on a running
//! clock, with no executor behind it), real `Entry`s pinned on the heap
//! (`register`, `poll_registered`, `reset` and the real `Drop`), `fire_due`,
//! the cell's `park_timeout` and `process` (what the worker's
//! `WorkerDriver` calls), and the executor's real `Parker`. The few lines of
//! `sleep.rs` around those calls (look at the state lock-free before taking
//! the lock; unpark the wheel's worker when a registration lowered its next
//! deadline) are repeated here, as the executor's models repeat `worker.rs`.
//!
//! Deadlines are ticks passed to the wheel directly; the worker's "now" is
//! the tick given to `fire_due`. Only the parking models read the clock, and
//! their deadlines are hours away, so no execution ever sees one due.
//!
//! How the models observe: wakers count their wake-ups and their live
//! clones in plain std atomics (loom runs all model threads on one OS
//! thread, so these only record what happened), checked once the threads
//! were joined. A use of an entry after its drop: under loom, `Entry`'s
//! drop ends with a write of its waker slot (a loom `UnsafeCell`), and the
//! models keep the entry's memory until the model ends, so a worker that
//! touches the slot of a dropped entry without the wheel lock ordering it
//! before the drop is reported as a causality violation (not as a read of
//! freed memory). A lost wake-up of a parked worker leaves it blocked for
//! good, which loom reports as a deadlock.

mod common;

use common::model;
use filch_executor::__loom::{Parker, Unparker};
use filch_timer::__loom::{Entry, EntryState, Registered, WheelCell, fire_due};
use loom::thread::{self, JoinHandle};
use std::mem::ManuallyDrop;
use std::pin::Pin;
use std::sync::Arc as StdArc;
use std::sync::atomic::AtomicUsize;
use std::sync::atomic::Ordering::SeqCst;
use std::task::{Wake, Waker};
use std::time::Duration;

/// Counts wake-ups; its strong count counts the live wakers made from it.
#[derive(Default)]
struct WakeCount(AtomicUsize);

impl Wake for WakeCount {
    fn wake(self: StdArc<Self>) {
        self.wake_by_ref();
    }

    fn wake_by_ref(self: &StdArc<Self>) {
        self.0.fetch_add(1, SeqCst);
    }
}

/// A task's waker, as the model's `Sleep` owner hands it to the entry.
struct CountingWaker {
    count: StdArc<WakeCount>,
    waker: Waker,
}

impl CountingWaker {
    fn new() -> CountingWaker {
        let count = StdArc::new(WakeCount::default());
        CountingWaker {
            waker: Waker::from(count.clone()),
            count,
        }
    }

    fn wakes(&self) -> usize {
        self.count.0.load(SeqCst)
    }

    /// Every clone the entry took was released (woken by value or
    /// dropped). Call once the entry is gone.
    fn assert_no_clone_left(self) {
        let CountingWaker { count, waker } = self;
        drop(waker);
        assert_eq!(
            StdArc::strong_count(&count),
            1,
            "a waker clone was leaked by the timer"
        );
    }
}

/// A `Sleep`'s entry, pinned on the heap. [`PinnedEntry::drop_entry`] runs
/// the entry's real `Drop` in place (unlink under the wheel lock, then,
/// under loom, a write of the waker slot); the allocation is freed only
/// when the `PinnedEntry` goes, after the model's threads were joined, so a
/// worker touching a dropped entry is reported by loom instead of reading
/// freed memory.
struct PinnedEntry {
    entry: Pin<Box<ManuallyDrop<Entry>>>,
    dropped: bool,
}

impl PinnedEntry {
    fn new() -> PinnedEntry {
        PinnedEntry {
            entry: Box::pin(ManuallyDrop::new(Entry::new())),
            dropped: false,
        }
    }

    fn get(&self) -> &Entry {
        assert!(!self.dropped, "the model used a dropped entry");
        &self.entry
    }

    /// What dropping the `Sleep` does to its entry.
    fn drop_entry(&mut self) {
        assert!(!self.dropped);
        self.dropped = true;
        // SAFETY: the entry is dropped where it is pinned (never moved), and
        // `get` refuses to hand it out afterwards; its memory stays allocated
        // until `self` is dropped.
        unsafe { ManuallyDrop::drop(self.entry.as_mut().get_unchecked_mut()) };
    }
}

impl Drop for PinnedEntry {
    fn drop(&mut self) {
        if !self.dropped {
            self.drop_entry();
        }
    }
}

/// A `Sleep` registered in `cell` for `tick`, with a waker of its own.
fn registered_sleep(cell: &StdArc<WheelCell>, tick: u64) -> (PinnedEntry, CountingWaker) {
    let waker = CountingWaker::new();
    let entry = PinnedEntry::new();
    match entry.get().register(cell, tick, &waker.waker) {
        Registered::Linked { .. } => (entry, waker),
        other => panic!("tick {tick} is not due, no shutdown in this model: {other:?}"),
    }
}

/// The worker owning `cell`, firing it at each of `ticks` in turn.
fn spawn_firing(cell: &StdArc<WheelCell>, ticks: &'static [u64]) -> JoinHandle<()> {
    let cell = cell.clone();
    thread::spawn(move || {
        for &now in ticks {
            fire_due(&cell, now, false);
        }
    })
}

/// The checks every model ends with: once the `Sleep`s are dropped, the
/// wheel is empty and every waker clone the timer took was released.
fn assert_all_released(cell: &WheelCell, sleeps: Vec<(PinnedEntry, CountingWaker)>) {
    let (entries, wakers): (Vec<_>, Vec<_>) = sleeps.into_iter().unzip();
    drop(entries);
    assert_eq!(cell.num_registered(), 0, "a dropped sleep is still linked");
    for waker in wakers {
        waker.assert_no_clone_left();
    }
}

/// `Sleep::poll_inner` on a registered entry: the lock-free look at the
/// state, then `poll_registered` under the lock, which installs `waker` if
/// the entry is still pending. True if ready.
fn poll_sleep(entry: &Entry, waker: &Waker) -> bool {
    match entry.state() {
        EntryState::Fired => true,
        EntryState::Pending => match entry.poll_registered(waker) {
            EntryState::Fired => true,
            EntryState::Pending => false,
            EntryState::Shutdown => panic!("no shutdown in this model"),
        },
        EntryState::Shutdown => panic!("no shutdown in this model"),
    }
}

/// Whether the owning worker, asking `park_timeout` now, would wake by tick
/// `tick` (the clock starts at tick 0 when the cell is made).
fn wakes_by(cell: &WheelCell, tick: u64) -> bool {
    cell.park_timeout()
        .is_some_and(|t| t <= Duration::from_millis(tick))
}

/// A worker fires its wheel at tick 1 while the owner of one of the two
/// `Sleep`s registered for tick 1 drops it (the other stays). Whichever
/// takes the wheel lock first: the dropped entry is never touched after its
/// drop (else a causality violation), its waker is woken at most once and
/// released; the other entry fires and is woken exactly once; the wheel
/// ends empty.
#[test]
fn fire_races_drop_of_the_sleep() {
    model("fire_races_drop_of_the_sleep", || {
        let cell = WheelCell::standalone();
        let (mut dropped, dropped_waker) = registered_sleep(&cell, 1);
        let (kept, kept_waker) = registered_sleep(&cell, 1);

        let worker = spawn_firing(&cell, &[1]);
        // The owner: seen fired (lock-free), then dropped.
        let fired_before_drop = dropped.get().state() == EntryState::Fired;
        dropped.drop_entry();
        worker.join().unwrap();

        assert!(dropped_waker.wakes() <= 1, "woken twice");
        if fired_before_drop {
            assert_eq!(dropped_waker.wakes(), 1, "fired but not woken");
        }
        assert_eq!(kept_waker.wakes(), 1);
        assert_eq!(kept.get().state(), EntryState::Fired);
        assert_all_released(&cell, vec![(dropped, dropped_waker), (kept, kept_waker)]);
    });
}

/// A `Sleep` for tick 1 is reset to tick 3 by its owner while the worker
/// fires at tick 2 (past the old deadline, before the new one); with
/// `repoll`, the owner then polls it with a new waker, as a task awaiting
/// it again does. The state seen lock-free is never "fired" for a deadline
/// not reached; the old deadline woke the old waker at most once, and only
/// if it fired before the reset; the entry is pending at tick 3 with the
/// worker due to wake by then. At tick 3 it fires once and wakes the latest
/// waker, unless the old deadline already woke the task after its last
/// poll (a fired entry has handed its waker over; the re-linked entry has
/// none until polled again): either way the task is woken exactly once
/// after its last poll.
fn reset_to_later_races_fire(repoll: bool) {
    let cell = WheelCell::standalone();
    let (entry, first) = registered_sleep(&cell, 1);
    let second = CountingWaker::new();

    let worker = spawn_firing(&cell, &[2]);
    let lowered = match entry.get().reset(3) {
        Registered::Linked { lowered } => lowered,
        other => panic!("tick 3 is not due at tick 2: {other:?}"),
    };
    assert_eq!(
        entry.get().state(),
        EntryState::Pending,
        "fired for a deadline that was not reached"
    );
    if repoll {
        assert!(!poll_sleep(entry.get(), &second.waker));
    }
    worker.join().unwrap();

    assert_eq!(entry.get().state(), EntryState::Pending);
    assert_eq!(cell.num_registered(), 1);
    assert!(wakes_by(&cell, 3), "the worker would sleep past tick 3");
    // The next deadline was later than 3 only if the worker had fired tick
    // 1 (and then published "no deadline") before the reset.
    let fired_old = usize::from(lowered);
    assert_eq!(first.wakes(), fired_old);
    assert_eq!(second.wakes(), 0);

    fire_due(&cell, 3, false);
    assert_eq!(entry.get().state(), EntryState::Fired);
    if repoll {
        assert_eq!((first.wakes(), second.wakes()), (fired_old, 1));
    } else {
        assert_eq!(first.wakes(), 1, "woken once after the last poll");
    }
    assert_all_released(&cell, vec![(entry, first)]);
    second.assert_no_clone_left();
}

/// [`reset_to_later_races_fire`], the task polling the sleep again.
#[test]
fn fire_races_reset_to_later() {
    model("fire_races_reset_to_later", || {
        reset_to_later_races_fire(true)
    });
}

/// [`reset_to_later_races_fire`], the task not polling the sleep again.
#[test]
fn fire_races_reset_to_later_without_repoll() {
    model("fire_races_reset_to_later_without_repoll", || {
        reset_to_later_races_fire(false)
    });
}

/// A `Sleep` for tick 3 is reset to tick 1 by its owner while the worker
/// fires at tick 2. If the worker went first, tick 1 is in the past and
/// the reset wakes the waker itself; otherwise the entry is linked for tick
/// 1, lowering the next deadline (`Sleep::reset` then unparks the worker),
/// and the worker fires it. Either way the waker is woken exactly once and
/// the wheel ends empty.
#[test]
fn fire_races_reset_to_earlier() {
    model("fire_races_reset_to_earlier", || {
        let cell = WheelCell::standalone();
        let (entry, waker) = registered_sleep(&cell, 3);

        let worker = spawn_firing(&cell, &[2]);
        match entry.get().reset(1) {
            Registered::Due => {
                assert_eq!(waker.wakes(), 1, "a reset into the past must wake");
                assert_eq!(entry.get().state(), EntryState::Fired);
            }
            Registered::Linked { lowered } => {
                assert!(lowered, "moving 3 to 1 must lower the next deadline")
            }
            Registered::Shutdown => panic!("no shutdown in this model"),
        }
        worker.join().unwrap();

        assert_eq!(waker.wakes(), 1);
        assert_eq!(entry.get().state(), EntryState::Fired);
        assert_all_released(&cell, vec![(entry, waker)]);
    });
}

/// The owner polls a `Sleep` for tick 1 with a new waker (the task moved,
/// or is polled through another combinator) while the worker fires it.
/// Ready means the fire came first and woke the old waker; `Pending` means
/// the new waker was installed first and is the one woken. Exactly one wake
/// either way: none lost, none to a stale waker.
#[test]
fn fire_races_poll_with_a_new_waker() {
    model("fire_races_poll_with_a_new_waker", || {
        let cell = WheelCell::standalone();
        let (entry, old) = registered_sleep(&cell, 1);
        let new = CountingWaker::new();

        let worker = spawn_firing(&cell, &[1]);
        let ready = poll_sleep(entry.get(), &new.waker);
        worker.join().unwrap();

        if ready {
            assert_eq!((old.wakes(), new.wakes()), (1, 0));
        } else {
            assert_eq!(
                (old.wakes(), new.wakes()),
                (0, 1),
                "Pending must be followed by a wake of the latest waker"
            );
        }
        assert_eq!(entry.get().state(), EntryState::Fired);
        assert_all_released(&cell, vec![(entry, old)]);
        new.assert_no_clone_left();
    });
}

/// Fire, reset and drop together: the owner resets a `Sleep` for tick 1 to
/// tick 3 and then drops it, while the worker fires at tick 2 and then at
/// tick 3. Whatever the order, the entry is never touched after its drop,
/// its waker is woken at most once (the reset keeps the waker only if the
/// old deadline had not fired) and released, and the wheel ends empty.
#[test]
fn fire_races_reset_then_drop() {
    model("fire_races_reset_then_drop", || {
        let cell = WheelCell::standalone();
        let (mut entry, waker) = registered_sleep(&cell, 1);

        let worker = spawn_firing(&cell, &[2, 3]);
        // `Due` if the worker already reached tick 3.
        assert_ne!(entry.get().reset(3), Registered::Shutdown);
        entry.drop_entry();
        worker.join().unwrap();

        assert!(waker.wakes() <= 1, "woken twice");
        assert_all_released(&cell, vec![(entry, waker)]);
    });
}

/// Fire, cancel and reset on three threads: two `Sleep`s share a wheel;
/// the owner of one (tick 3) resets it to tick 1, the owner of the other
/// (tick 2) drops it on its own thread, and the worker fires at tick 2.
/// The reset sleep is woken exactly once (by the worker, or by the reset
/// itself if the worker already passed tick 1); the dropped one at most
/// once and never touched after its drop; the wheel ends empty.
#[test]
fn fire_races_reset_and_drop_of_two_sleeps() {
    model("fire_races_reset_and_drop_of_two_sleeps", || {
        let cell = WheelCell::standalone();
        let (reset, reset_waker) = registered_sleep(&cell, 3);
        let (mut dropped, dropped_waker) = registered_sleep(&cell, 2);

        let worker = spawn_firing(&cell, &[2]);
        let dropper = thread::spawn(move || {
            dropped.drop_entry();
            dropped
        });
        assert_ne!(reset.get().reset(1), Registered::Shutdown);
        worker.join().unwrap();
        let dropped = dropper.join().unwrap();

        assert_eq!(reset_waker.wakes(), 1);
        assert_eq!(reset.get().state(), EntryState::Fired);
        assert!(dropped_waker.wakes() <= 1, "woken twice");
        assert_all_released(&cell, vec![(reset, reset_waker), (dropped, dropped_waker)]);
    });
}

/// The runtime shuts down (`TimerHandle::shutdown` on this wheel) while a
/// `Sleep` registers. The registration sees the shutdown, or it is linked
/// first and the shutdown wakes it marked as orphaned: no timer is left in
/// a wheel that will never fire again, and no owner waits for one.
#[test]
fn shutdown_races_registration() {
    model("shutdown_races_registration", || {
        let cell = WheelCell::standalone();
        let waker = CountingWaker::new();
        let entry = PinnedEntry::new();

        let shutdown = {
            let cell = cell.clone();
            thread::spawn(move || cell.shut_down())
        };
        let registered = entry.get().register(&cell, 1, &waker.waker);
        shutdown.join().unwrap();

        match registered {
            Registered::Linked { .. } => {
                assert_eq!(waker.wakes(), 1, "a linked timer is woken by the shutdown");
                assert_eq!(
                    entry.get().poll_registered(&waker.waker),
                    EntryState::Shutdown
                );
            }
            Registered::Shutdown => assert_eq!(waker.wakes(), 0),
            Registered::Due => panic!("tick 1 is only due once the wheel shut down"),
        }
        assert_all_released(&cell, vec![(entry, waker)]);
    });
}

/// Ticks in an hour (a tick is a millisecond).
const HOUR: u64 = 3_600_000;

/// Spawns the worker owning `cell` as `worker.rs` runs it with the timer
/// driver (after firing tick `fire_first`, if any): compute the park
/// timeout from the published next deadline, park on the real `Parker`,
/// fire what is due (`process`), again; until the timeout shows a
/// deadline within the hour. In loom a timed park is untimed, so a later
/// deadline can never end a park: only an unpark can. Returns the worker
/// and its unparker.
fn spawn_parking_worker(
    cell: &StdArc<WheelCell>,
    fire_first: Option<u64>,
) -> (JoinHandle<()>, Unparker) {
    let mut parker = Parker::new(None);
    let unparker = parker.unparker();
    let cell = cell.clone();
    let worker = thread::spawn(move || {
        if let Some(now) = fire_first {
            fire_due(&cell, now, false);
        }
        loop {
            let timeout = cell.park_timeout();
            if timeout.is_some_and(|t| t <= Duration::from_millis(HOUR)) {
                return;
            }
            parker.park(timeout);
            cell.process();
        }
    });
    (worker, unparker)
}

/// What `Sleep` does with a registration or reset on a wheel that is not
/// the current worker's (`wake_owner_if_remote`): unpark the wheel's
/// worker if the next deadline got earlier.
fn unpark_if_lowered(registered: &Registered, owner: &Unparker) {
    match registered {
        Registered::Linked { lowered: true } => owner.unpark(),
        Registered::Linked { lowered: false } => {}
        other => panic!("not due, no shutdown in this model: {other:?}"),
    }
}

/// Registers a `Sleep` for `tick` in `cell` from a thread that is not its
/// worker, unparking the worker if that lowered the next deadline.
fn register_remotely(
    cell: &StdArc<WheelCell>,
    tick: u64,
    owner: &Unparker,
) -> (Registered, (PinnedEntry, CountingWaker)) {
    let waker = CountingWaker::new();
    let entry = PinnedEntry::new();
    let registered = entry.get().register(cell, tick, &waker.waker);
    unpark_if_lowered(&registered, owner);
    (registered, (entry, waker))
}

/// A worker with a timer two hours out parks until then; another thread
/// registers a timer one hour out in its wheel and, since that lowered the
/// next deadline, unparks it. The worker ends its park and its timeout then
/// shows the earlier deadline, also when the registration falls between
/// its reading of the next deadline and its park (the parker keeps the
/// unpark), and when its `process` republishes the next deadline
/// concurrently. A lost wake-up leaves the worker parked: deadlock.
#[test]
fn earlier_registration_wakes_the_parked_worker() {
    model("earlier_registration_wakes_the_parked_worker", || {
        let cell = WheelCell::standalone();
        let late = registered_sleep(&cell, 2 * HOUR);
        let (worker, unparker) = spawn_parking_worker(&cell, None);
        let (registered, early) = register_remotely(&cell, HOUR, &unparker);
        worker.join().unwrap();

        assert_eq!(registered, Registered::Linked { lowered: true });
        assert_eq!(cell.num_registered(), 2);
        assert_eq!((late.1.wakes(), early.1.wakes()), (0, 0));
        assert_all_released(&cell, vec![late, early]);
    });
}

/// The same with an empty wheel: the worker parks with no timeout, and its
/// `process` after a park returns at once while the published deadline
/// reads "none". A registration from another thread lowers it from "none",
/// so it unparks the worker, whose next timeout shows the deadline, also
/// when the registration lands between that early return and the park.
#[test]
fn registration_into_an_empty_wheel_wakes_the_parked_worker() {
    model(
        "registration_into_an_empty_wheel_wakes_the_parked_worker",
        || {
            let cell = WheelCell::standalone();
            let (worker, unparker) = spawn_parking_worker(&cell, None);
            let (registered, early) = register_remotely(&cell, HOUR, &unparker);
            worker.join().unwrap();

            assert_eq!(registered, Registered::Linked { lowered: true });
            assert_eq!(cell.num_registered(), 1);
            assert_eq!(early.1.wakes(), 0);
            assert_all_released(&cell, vec![early]);
        },
    );
}

/// As above, but the worker's only timer is reset from two hours to one
/// by its owner on another thread (`Sleep::reset`).
#[test]
fn earlier_reset_wakes_the_parked_worker() {
    model("earlier_reset_wakes_the_parked_worker", || {
        let cell = WheelCell::standalone();
        let (entry, waker) = registered_sleep(&cell, 2 * HOUR);
        let (worker, unparker) = spawn_parking_worker(&cell, None);
        let registered = entry.get().reset(HOUR);
        unpark_if_lowered(&registered, &unparker);
        worker.join().unwrap();

        assert_eq!(registered, Registered::Linked { lowered: true });
        assert_eq!(cell.num_registered(), 1);
        assert_eq!(waker.wakes(), 0);
        assert_all_released(&cell, vec![(entry, waker)]);
    });
}

/// The worker wakes at tick 1 to fire its last timer and, having published
/// "no deadline", parks; meanwhile another thread registers a timer one
/// hour out. The registration either comes first, and the worker's
/// recomputation (under the lock) sees it, or it comes after the worker
/// published "no deadline", lowers that and unparks the worker: the worker
/// never sleeps without a deadline while a timer is in its wheel.
#[test]
fn registration_races_the_worker_firing_its_last_timer() {
    model(
        "registration_races_the_worker_firing_its_last_timer",
        || {
            let cell = WheelCell::standalone();
            let due = registered_sleep(&cell, 1);
            let (worker, unparker) = spawn_parking_worker(&cell, Some(1));
            let (_, new) = register_remotely(&cell, HOUR, &unparker);
            worker.join().unwrap();

            assert_eq!((due.1.wakes(), new.1.wakes()), (1, 0));
            assert_eq!(cell.num_registered(), 1);
            assert_all_released(&cell, vec![due, new]);
        },
    );
}

/// Two threads register timers 1.5 hours and one hour out in the wheel of a
/// worker parked until two hours: whichever lowers the next deadline
/// unparks the worker (the second may find it already lower and not). The
/// worker may be woken by the first, park again, and must be woken by the
/// second: an unpark consumed for one lowering does not absorb the next.
#[test]
fn two_earlier_registrations_wake_the_parked_worker() {
    model("two_earlier_registrations_wake_the_parked_worker", || {
        let cell = WheelCell::standalone();
        let late = registered_sleep(&cell, 2 * HOUR);
        let (worker, unparker) = spawn_parking_worker(&cell, None);
        let middle = {
            let (cell, unparker) = (cell.clone(), unparker.clone());
            thread::spawn(move || register_remotely(&cell, HOUR + HOUR / 2, &unparker).1)
        };
        let (registered, early) = register_remotely(&cell, HOUR, &unparker);
        let middle = middle.join().unwrap();
        worker.join().unwrap();

        assert_eq!(registered, Registered::Linked { lowered: true });
        assert_eq!(cell.num_registered(), 3);
        for (_, waker) in [&late, &middle, &early] {
            assert_eq!(waker.wakes(), 0);
        }
        assert_all_released(&cell, vec![late, middle, early]);
    });
}

/// The park of a runtime with timers and no I/O (`filch_timer::driver`,
/// `TimerOnlyPark`: a flag and a condition variable) against its driver's
/// `unpark`, twice: the first unpark comes before, during or after the
/// first park, and each park returns: a notification that comes before the
/// park is kept until the park consumes it, one that comes during the wait
/// ends it, and the second park is ended by the second unpark.
#[test]
fn timer_only_park_races_unpark() {
    model("timer_only_park_races_unpark", || {
        let (mut park, driver) = filch_timer::driver(1, false);
        let round = StdArc::new(AtomicUsize::new(0));
        let th = {
            let round = round.clone();
            thread::spawn(move || {
                driver.unpark();
                // The second unpark only once the first park returned.
                while round.load(SeqCst) == 0 {
                    thread::yield_now();
                }
                driver.unpark();
            })
        };
        park.park(None);
        round.store(1, SeqCst);
        park.park(Some(Duration::from_secs(3600)));
        th.join().unwrap();
    });
}

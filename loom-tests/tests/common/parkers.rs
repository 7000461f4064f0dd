//! What the models of parking share (`executor_park.rs`, and
//! `io_wake.rs`, which runs them against the reactor's wake-up gate):
//! parking until a published count, and two parkers sharing one driver.
//! Included with `#[path = "common/parkers.rs"] mod parkers;`.

use filch_executor::__loom::{DriverSlot, Parker};
use loom::sync::Arc;
use loom::sync::atomic::AtomicUsize;
use loom::thread;
use std::sync::Arc as StdArc;
use std::sync::atomic::Ordering::{Acquire, Release};

/// Parks until `count` reaches `target`, as every user of a parker does
/// (a return from `park` may be spurious).
pub fn park_until(parker: &mut Parker, count: &AtomicUsize, target: usize) {
    while count.load(Acquire) < target {
        parker.park(None);
    }
}

/// Two parkers share the driver `slot`: whichever gets it first blocks in
/// the driver, the other on its own condition variable (or also in the
/// driver, after the first left it). A third thread publishes a count and
/// unparks both: both return (else loom reports the blocked one as a
/// deadlock).
pub fn two_parkers_share(slot: StdArc<DriverSlot>) {
    let count = Arc::new(AtomicUsize::new(0));
    let mut a = Parker::new(Some(slot.clone()));
    let mut b = Parker::new(Some(slot));
    let (ua, ub) = (a.unparker(), b.unparker());

    let count2 = count.clone();
    let th = thread::spawn(move || park_until(&mut b, &count2, 1));
    let count3 = count.clone();
    let waker = thread::spawn(move || {
        count3.store(1, Release);
        ua.unpark();
        ub.unpark();
    });
    park_until(&mut a, &count, 1);
    th.join().unwrap();
    waker.join().unwrap();
}

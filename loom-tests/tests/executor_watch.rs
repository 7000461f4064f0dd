#![cfg(loom)]
//! Loom model of the LIFO-watcher handshake (`filch-executor/src/sched/
//! idle.rs`, `Watchers`, as `worker.rs` uses it): a worker fills its LIFO
//! slot while a parked worker, having found every slot empty, gives up
//! watching. The task in the slot must not be left with nobody watching and
//! nobody woken (if its owner then got stuck in a long poll, the task would
//! wait for as long). Runs the real `LifoSlot`, `Watchers` and `Idle`.

mod common;

use common::model;
use filch_executor::__loom::{Idle, LifoSlot, Watchers};
use loom::sync::Arc;
use loom::thread;

/// Worker 0 fills its slot (`schedule_local` then `ensure_lifo_watcher`);
/// worker 1 is parking: it counted itself a watcher and parked, found the
/// slot empty, and drops the role before its last look (`observe_lifo_slots`).
/// Either that last look sees the task (worker 1 keeps watching, with a
/// timeout), or worker 0 sees no watcher and someone to wake.
#[test]
fn lifo_fill_vs_watcher_giving_up() {
    model("lifo_fill_vs_watcher_giving_up", || {
        let slot = Arc::new(LifoSlot::<Box<u32>>::new());
        let watchers = Arc::new(Watchers::new());
        let idle = Arc::new(Idle::new(2));
        // Worker 1 counts itself a watcher before it counts itself parked.
        watchers.add();
        idle.transition_worker_to_parked(1, false);

        let filler = {
            let (slot, watchers, idle) = (slot.clone(), watchers.clone(), idle.clone());
            thread::spawn(move || {
                assert!(slot.push(Box::new(7)).is_none());
                watchers.none_after_fill() && idle.nobody_looking()
            })
        };

        let watching = if slot.is_occupied() {
            true
        } else {
            watchers.remove();
            watchers.before_last_look();
            slot.is_occupied()
        };
        let woke_someone = filler.join().unwrap();
        assert!(
            watching || woke_someone,
            "LIFO task with nobody watching and nobody woken"
        );
        drop(slot.take());
    });
}

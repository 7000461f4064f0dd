#![cfg(loom)]
//! Loom model of the slow-poll watchdog's view of a poll in progress
//! (`filch-executor/src/diag/timing.rs`): a sequence lock with one writer
//! (the polling thread) and one reader (the watchdog). Whatever the
//! interleaving, a snapshot the reader accepts belongs to exactly one poll:
//! its task and start time were written together, for the poll whose
//! sequence number it carries.
//!
//! The writer is the model's main thread and the reader a spawned one: loom
//! 0.7 explores no interleaving at all when a spawned thread loads an atomic
//! and then stores to it while the main thread reads it (tokio-rs/loom#392),
//! which is exactly what a writer thread would do here.

mod common;

use common::model;
use filch_executor::__loom::PollSlot;
use loom::sync::Arc;
use loom::thread;

/// Two polls, of task 1 then task 2, while the watchdog looks twice.
#[test]
fn a_snapshot_belongs_to_one_poll() {
    model("a_snapshot_belongs_to_one_poll", || {
        let slot = Arc::new(PollSlot::default());
        let reader = {
            let slot = slot.clone();
            thread::spawn(move || {
                let mut last_seq = 0;
                for _ in 0..2 {
                    if let Some(s) = slot.snapshot() {
                        let expected = match s.seq {
                            1 => (1, 10, 100),
                            3 => (2, 20, 200),
                            other => panic!("a snapshot with seq {other} (polls are odd)"),
                        };
                        assert_eq!(
                            (s.task, s.shard, s.started_ns),
                            expected,
                            "torn snapshot {s:?}"
                        );
                        assert!(s.seq >= last_seq, "the sequence never goes back");
                        last_seq = s.seq;
                    }
                }
            })
        };
        slot.begin(1, 10, 100);
        slot.end();
        slot.begin(2, 20, 200);
        slot.end();
        reader.join().unwrap();
        assert!(
            slot.snapshot().is_none(),
            "no poll is in progress at the end"
        );
    });
}

/// `is_in` tells the watchdog whether the poll it read is still going:
/// once the writer has ended a poll, it never says so of that poll again.
#[test]
fn is_in_turns_false_for_good() {
    model("is_in_turns_false_for_good", || {
        let slot = Arc::new(PollSlot::default());
        slot.begin(7, 1, 50);
        let snap = slot.snapshot().expect("a poll is in progress");
        let reader = {
            let slot = slot.clone();
            thread::spawn(move || {
                let first = slot.is_in(snap.seq);
                let second = slot.is_in(snap.seq);
                assert!(
                    first || !second,
                    "a poll that ended never looks in progress again"
                );
            })
        };
        slot.end();
        slot.begin(8, 1, 60);
        reader.join().unwrap();
        assert!(!slot.is_in(snap.seq));
    });
}

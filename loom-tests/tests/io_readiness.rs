#![cfg(loom)]
//! Loom models of filch-io's readiness protocol (`reactor/scheduled_io.rs`):
//! the reactor setting readiness and taking wakers, tasks registering
//! wakers and clearing readiness with a tick, and deregistration / reactor
//! shutdown, a short read's presumed clear racing the hang-up watch's
//! report and urgent data, in every interleaving loom explores.
//!
//! The invariant in every model is "no lost wake-up": a task whose poll
//! returned `Pending` is woken by whatever made it ready, and a readiness
//! event that arrived after a task saw the old state is never erased by
//! that task's clear.
//!
//! Run: `RUSTFLAGS="--cfg loom -C debug-assertions" LOOM_MAX_PREEMPTIONS=2
//! CARGO_TARGET_DIR=target/loom cargo test --release -p filch-loom-tests --test io_readiness`

mod common;

use filch_io::__loom::{
    Direction, Interest, READ_CLOSED, READABLE, ReadyEvent, Rearm, ScheduledIo, URGENT, WRITABLE,
};
use loom::sync::atomic::{AtomicBool, AtomicUsize};
use loom::sync::{Arc, Mutex};
use loom::thread;
use std::io;
use std::sync::atomic::Ordering::SeqCst;
use std::task::{Context, Poll, Wake, Waker};

/// A waker that records that it was woken (a loom atomic, so the model
/// tracks the happens-before edge from the wake to the check).
struct Flag(AtomicBool);

impl Wake for Flag {
    fn wake(self: std::sync::Arc<Self>) {
        self.0.store(true, SeqCst);
    }

    fn wake_by_ref(self: &std::sync::Arc<Self>) {
        self.0.store(true, SeqCst);
    }
}

fn flag() -> (std::sync::Arc<Flag>, Waker) {
    let flag = std::sync::Arc::new(Flag(AtomicBool::new(false)));
    let waker = Waker::from(flag.clone());
    (flag, waker)
}

/// The read event a task sees now (it must be ready: `why` says why).
fn read_event(io: &ScheduledIo, why: &str) -> ReadyEvent {
    let (_, noop) = flag();
    match io.poll_ready(&mut Context::from_waker(&noop), Direction::Read, None) {
        Poll::Ready(ev) => ev,
        Poll::Pending => panic!("{why}"),
    }
}

/// What the reactor thread does for one event.
fn dispatch(io: &ScheduledIo, bits: usize) {
    let mut wakers = Vec::new();
    io.dispatch(bits, None, &mut wakers);
    wakers.into_iter().for_each(Waker::wake);
}

/// Readiness set by the reactor vs a task registering its waker: the task
/// either sees the readiness or is woken.
#[test]
fn dispatch_vs_poll_ready() {
    common::model("dispatch_vs_poll_ready", || {
        let io = Arc::new(ScheduledIo::new(0));
        let reactor = {
            let io = io.clone();
            thread::spawn(move || dispatch(&io, READABLE))
        };
        let (woken, waker) = flag();
        let first = io.poll_ready(&mut Context::from_waker(&waker), Direction::Read, None);
        reactor.join().unwrap();
        if first.is_pending() {
            assert!(woken.0.load(SeqCst), "lost wake-up");
        }
        let (_, waker) = flag();
        assert!(
            io.poll_ready(&mut Context::from_waker(&waker), Direction::Read, None)
                .is_ready()
        );
    });
}

/// The tick: a task saw readiness, its syscall said `WouldBlock`, and it
/// clears what it saw; meanwhile a new edge arrives. The new event must
/// survive the stale clear (or its wake-up must reach the task).
#[test]
fn stale_clear_does_not_lose_a_new_event() {
    common::model("stale_clear_does_not_lose_a_new_event", || {
        let io = Arc::new(ScheduledIo::new(READABLE));
        let seen = read_event(&io, "initially readable");
        // The data the task was going to read arrives now.
        let reactor = {
            let io = io.clone();
            thread::spawn(move || dispatch(&io, READABLE))
        };
        // The task's syscall (issued before the data) said WouldBlock.
        io.clear_readiness(seen);
        let (woken, waker) = flag();
        let again = io.poll_ready(&mut Context::from_waker(&waker), Direction::Read, None);
        reactor.join().unwrap();
        assert!(
            again.is_ready() || woken.0.load(SeqCst),
            "edge lost: cleared by a stale tick and nobody woken"
        );
    });
}

/// The task saw its stream readable and its read came back short, so it
/// presumes the receive buffer drained (`clear_presumed`); meanwhile the
/// hang-up watch reports the FIN that came with that data. Whatever the
/// order, the task is not left waiting: it sees the read direction ready or
/// is woken, and from then on reads stay ready (the FIN is sticky).
#[test]
fn hangup_vs_presumed_clear() {
    common::model("hangup_vs_presumed_clear", || {
        let io = Arc::new(ScheduledIo::new(READABLE));
        let (_, noop) = flag();
        let seen = read_event(&io, "initially readable");
        let reactor = {
            let io = io.clone();
            thread::spawn(move || dispatch(&io, READABLE | READ_CLOSED))
        };
        io.clear_presumed(seen);
        let (woken, waker) = flag();
        let again = io.poll_ready(&mut Context::from_waker(&waker), Direction::Read, None);
        reactor.join().unwrap();
        assert!(
            again.is_ready() || woken.0.load(SeqCst),
            "hang-up lost: presumed drained and nobody woken"
        );
        // Neither kind of clear can take the hang-up away.
        let mut cx = Context::from_waker(&noop);
        let ev = read_event(&io, "a hang-up must keep the read direction ready");
        io.clear_presumed(ev);
        io.clear_readiness(ev);
        assert!(io.poll_ready(&mut cx, Direction::Read, None).is_ready());
        // The write direction is not affected by a read hang-up.
        assert!(io.poll_ready(&mut cx, Direction::Write, None).is_pending());
    });
}

/// Urgent data reported before or during a short read: a read stops short
/// at the urgent mark, so the presumption must not clear what is behind
/// it. After the report the read direction stays ready however the clear
/// and the dispatch interleave; a presumed clear without urgent data does
/// clear.
#[test]
fn urgent_data_turns_presumption_off() {
    common::model("urgent_data_turns_presumption_off", || {
        let io = Arc::new(ScheduledIo::new(READABLE));
        let (_, noop) = flag();
        let mut cx = Context::from_waker(&noop);
        let seen = read_event(&io, "initially readable");
        let reactor = {
            let io = io.clone();
            thread::spawn(move || dispatch(&io, READABLE | URGENT))
        };
        io.clear_presumed(seen);
        reactor.join().unwrap();
        let ev = read_event(&io, "the urgent report's readiness was presumed away");
        io.clear_presumed(ev);
        assert!(io.poll_ready(&mut cx, Direction::Read, None).is_ready());
        // Without urgent data, a presumed clear is a clear.
        let plain = ScheduledIo::new(READABLE);
        let ev = read_event(&plain, "initially readable");
        plain.clear_presumed(ev);
        assert!(
            plain
                .poll_ready(&mut cx, Direction::Read, None)
                .is_pending()
        );
    });
}

/// A clear with the current tick does clear (so a drained socket waits).
#[test]
fn current_clear_clears() {
    common::model("current_clear_clears", || {
        let io = ScheduledIo::new(READABLE | WRITABLE);
        let (_, noop) = flag();
        let mut cx = Context::from_waker(&noop);
        let ev = read_event(&io, "initially readable");
        io.clear_readiness(ev);
        assert!(io.poll_ready(&mut cx, Direction::Read, None).is_pending());
        // The other direction is untouched.
        assert!(io.poll_ready(&mut cx, Direction::Write, None).is_ready());
    });
}

/// Deregistration (or reactor shutdown) vs a task registering as one of
/// several shared waiters vs another waiter cancelling: every waiter left
/// is woken and then sees the shutdown.
#[test]
fn shutdown_vs_shared_waiters() {
    common::model("shutdown_vs_shared_waiters", || {
        let io = Arc::new(ScheduledIo::new(0));
        let deregister = {
            let io = io.clone();
            thread::spawn(move || {
                let mut wakers = Vec::new();
                io.shutdown(&mut wakers);
                wakers.into_iter().for_each(Waker::wake);
            })
        };
        let canceller = {
            let io = io.clone();
            thread::spawn(move || {
                let (_, waker) = flag();
                let mut key = None;
                let res = io.poll_ready_shared(
                    &mut Context::from_waker(&waker),
                    Direction::Write,
                    &mut key,
                    None,
                );
                // Gives up (its future is dropped).
                if let Some(k) = key {
                    assert!(res.is_pending());
                    io.cancel_shared(k);
                }
            })
        };
        let (woken, waker) = flag();
        let mut key = None;
        let first = io.poll_ready_shared(
            &mut Context::from_waker(&waker),
            Direction::Read,
            &mut key,
            None,
        );
        deregister.join().unwrap();
        canceller.join().unwrap();
        if first.is_pending() {
            assert!(
                woken.0.load(SeqCst),
                "waiter left hanging by deregistration"
            );
        }
        let (_, waker) = flag();
        match io.poll_ready_shared(
            &mut Context::from_waker(&waker),
            Direction::Read,
            &mut key,
            None,
        ) {
            Poll::Ready(ev) => assert!(ev.is_shutdown()),
            Poll::Pending => panic!("pending after shutdown"),
        }
        assert!(key.is_none(), "a ready poll drops its waiter entry");
        assert!(io.is_shutdown());
    });
}

/// Two tasks wait as shared readers (two `recv_from` on one socket) while
/// the reactor reports readability: each is woken or sees the readiness.
#[test]
fn two_shared_readers_vs_dispatch() {
    common::model("two_shared_readers_vs_dispatch", || {
        let io = Arc::new(ScheduledIo::new(0));
        let other = {
            let io = io.clone();
            thread::spawn(move || {
                let (woken, waker) = flag();
                let mut key = None;
                let res = io.poll_ready_shared(
                    &mut Context::from_waker(&waker),
                    Direction::Read,
                    &mut key,
                    None,
                );
                (res.is_ready(), woken)
            })
        };
        let reactor = {
            let io = io.clone();
            thread::spawn(move || dispatch(&io, READABLE))
        };
        let (woken, waker) = flag();
        let mut key = None;
        let ready = io
            .poll_ready_shared(
                &mut Context::from_waker(&waker),
                Direction::Read,
                &mut key,
                None,
            )
            .is_ready();
        let (other_ready, other_woken) = other.join().unwrap();
        reactor.join().unwrap();
        assert!(
            ready || woken.0.load(SeqCst),
            "first reader lost its wake-up"
        );
        assert!(
            other_ready || other_woken.0.load(SeqCst),
            "second reader lost its wake-up"
        );
    });
}

/// A reader and a writer wait at once; one event reports both directions.
/// Both are woken or see readiness; neither steals the other's wake-up.
#[test]
fn reader_and_writer_vs_dispatch() {
    common::model("reader_and_writer_vs_dispatch", || {
        let io = Arc::new(ScheduledIo::new(0));
        let writer = {
            let io = io.clone();
            thread::spawn(move || {
                let (woken, waker) = flag();
                let res = io.poll_ready(&mut Context::from_waker(&waker), Direction::Write, None);
                (res.is_ready(), woken)
            })
        };
        let reactor = {
            let io = io.clone();
            thread::spawn(move || dispatch(&io, READABLE | WRITABLE))
        };
        let (woken, waker) = flag();
        let read_ready = io
            .poll_ready(&mut Context::from_waker(&waker), Direction::Read, None)
            .is_ready();
        let (write_ready, write_woken) = writer.join().unwrap();
        reactor.join().unwrap();
        assert!(
            read_ready || woken.0.load(SeqCst),
            "reader lost its wake-up"
        );
        assert!(
            write_ready || write_woken.0.load(SeqCst),
            "writer lost its wake-up"
        );
    });
}

/// Oneshot mode: re-arms happen under the waiter lock with the union of
/// what is waited for, so a reader and a writer re-arming at once cannot
/// overwrite each other's interest.
#[test]
fn oneshot_rearm_keeps_both_interests() {
    struct Recorder {
        armed: Mutex<Interest>,
        calls: AtomicUsize,
    }
    impl Rearm for Recorder {
        fn rearm(&self, interest: Interest) -> io::Result<()> {
            *self.armed.lock().unwrap() = interest;
            self.calls.fetch_add(1, SeqCst);
            Ok(())
        }
    }
    common::model("oneshot_rearm_keeps_both_interests", || {
        let io = Arc::new(ScheduledIo::new(0));
        let rec = Arc::new(Recorder {
            armed: Mutex::new(Interest::default()),
            calls: AtomicUsize::new(0),
        });
        let writer = {
            let (io, rec) = (io.clone(), rec.clone());
            thread::spawn(move || {
                let (_, waker) = flag();
                let res = io.poll_ready(
                    &mut Context::from_waker(&waker),
                    Direction::Write,
                    Some(&*rec),
                );
                assert!(res.is_pending());
            })
        };
        let (_, waker) = flag();
        let res = io.poll_ready(
            &mut Context::from_waker(&waker),
            Direction::Read,
            Some(&*rec),
        );
        assert!(res.is_pending());
        writer.join().unwrap();
        let armed = *rec.armed.lock().unwrap();
        assert!(
            armed.readable && armed.writable,
            "last re-arm dropped an interest: {armed:?}"
        );
        assert!(rec.calls.load(SeqCst) <= 2);

        // An event for the reader disarms everything; the dispatch re-arms
        // what the writer still waits for.
        let mut wakers = Vec::new();
        io.dispatch(READABLE, Some(&*rec), &mut wakers);
        assert_eq!(wakers.len(), 1);
        let armed = *rec.armed.lock().unwrap();
        assert!(!armed.readable && armed.writable, "{armed:?}");
    });
}

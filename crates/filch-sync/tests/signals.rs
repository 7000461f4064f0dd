//! Notify, Event and Barrier: permits, broadcasts (including waiters that
//! arrive while a broadcast is waking a batch), leaders and reuse.

mod common;

use common::{Manual, rt, with_deadline};
use filch_sync::{Barrier, Event, EventWait, Notified, Notify};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::sync::{Arc, Mutex};
use std::task::{Context, Wake, Waker};

fn enabled(notify: &'static Notify) -> Pin<Box<Notified<'static>>> {
    let mut n = Box::pin(notify.notified());
    n.as_mut().enable();
    n
}

#[test]
fn notify_one_stores_a_single_permit() {
    let notify = Notify::new();
    notify.notify_one();
    notify.notify_one();
    let mut first = Manual::new(notify.notified());
    first.ready();
    let mut second = Manual::new(notify.notified());
    second.pending();
    notify.notify_one();
    assert_eq!(second.wakes(), 1);
    second.ready();
}

#[test]
fn notify_one_wakes_the_oldest_and_notify_last_the_newest() {
    let notify = Notify::new();
    let mut ws: Vec<_> = (0..3).map(|_| Manual::new(notify.notified())).collect();
    for w in &mut ws {
        w.pending();
    }
    notify.notify_one();
    assert_eq!(ws.iter().map(|w| w.wakes()).collect::<Vec<_>>(), [1, 0, 0]);
    notify.notify_last();
    assert_eq!(ws.iter().map(|w| w.wakes()).collect::<Vec<_>>(), [1, 0, 1]);
    ws[0].ready();
    ws[2].ready();
    ws[1].pending();
}

#[test]
fn notify_waiters_wakes_everyone_waiting_and_stores_nothing() {
    let notify = Notify::new();
    let mut ws: Vec<_> = (0..100).map(|_| Manual::new(notify.notified())).collect();
    for w in &mut ws {
        w.pending();
    }
    // Created before the call but never polled: also completes.
    let mut unpolled = Manual::new(notify.notified());
    notify.notify_waiters();
    for w in &mut ws {
        assert_eq!(w.wakes(), 1);
        w.ready();
    }
    unpolled.ready();
    // Created after: not completed, no permit was stored.
    let mut later = Manual::new(notify.notified());
    later.pending();
}

/// A waker that, the first time it is woken (during a broadcast, outside
/// the lock), runs `f`.
struct OnWake<F: Fn() + Send + Sync>(AtomicUsize, F);

impl<F: Fn() + Send + Sync> Wake for OnWake<F> {
    fn wake(self: Arc<Self>) {
        self.wake_by_ref();
    }
    fn wake_by_ref(self: &Arc<Self>) {
        if self.0.fetch_add(1, SeqCst) == 0 {
            (self.1)();
        }
    }
}

/// Queues a first waiter polled with `hook` (woken in the broadcast's
/// first batch), then more waiters than one wake batch, runs `broadcast`
/// and checks that every waiter queued before it was released.
fn broadcast_over<F: Future>(
    hook: Waker,
    waiter: impl Fn() -> F,
    broadcast: impl FnOnce(),
) -> Pin<Box<F>> {
    let mut first = Box::pin(waiter());
    assert!(
        first
            .as_mut()
            .poll(&mut Context::from_waker(&hook))
            .is_pending()
    );
    let mut rest: Vec<_> = (0..100).map(|_| Manual::new(waiter())).collect();
    for w in &mut rest {
        w.pending();
    }
    broadcast();
    for w in &mut rest {
        w.ready();
    }
    first
}

#[test]
fn notify_one_during_a_broadcast_reaches_a_new_waiter() {
    let notify: &'static Notify = Box::leak(Box::new(Notify::new()));
    let newcomer: Arc<Mutex<Option<Pin<Box<Notified<'static>>>>>> = Arc::default();
    let hook = {
        let newcomer = newcomer.clone();
        Arc::new(OnWake(AtomicUsize::new(0), move || {
            // While notify_waiters has dropped the lock to wake its first
            // batch: a new task starts waiting, then someone notifies one.
            *newcomer.lock().unwrap() = Some(enabled(notify));
            notify.notify_one();
        }))
    };
    let _first = broadcast_over(
        Waker::from(hook),
        || notify.notified(),
        || notify.notify_waiters(),
    );
    let mut n = newcomer.lock().unwrap().take().expect("hook ran");
    assert!(
        n.as_mut().enable(),
        "the notify_one went to the new waiter, not to an old one"
    );
    // And it was not turned into a stored permit either.
    let mut after = Manual::new(notify.notified());
    after.pending();
}

#[test]
fn event_wait_returns_at_once_when_set() {
    let ev = Event::new();
    ev.set();
    let mut w = Manual::new(ev.wait());
    w.ready();
    assert!(ev.is_set());
    ev.clear();
    let mut w = Manual::new(ev.wait());
    w.pending();
    ev.set();
    assert_eq!(w.wakes(), 1);
    w.ready();
}

#[test]
fn event_set_wakes_every_waiter_even_if_cleared_before_they_run() {
    let ev = Event::new();
    let mut ws: Vec<_> = (0..70).map(|_| Manual::new(ev.wait())).collect();
    for w in &mut ws {
        w.pending();
    }
    ev.set();
    ev.clear();
    for w in &mut ws {
        w.ready();
    }
}

#[test]
fn a_wait_started_during_set_after_a_clear_is_not_released() {
    let ev: &'static Event = Box::leak(Box::new(Event::new()));
    let newcomer: Arc<Mutex<Option<Pin<Box<EventWait<'static>>>>>> = Arc::default();
    let hook = {
        let newcomer = newcomer.clone();
        Arc::new(OnWake(AtomicUsize::new(0), move || {
            ev.clear();
            let mut w = Box::pin(ev.wait());
            assert!(
                w.as_mut()
                    .poll(&mut Context::from_waker(Waker::noop()))
                    .is_pending()
            );
            *newcomer.lock().unwrap() = Some(w);
        }))
    };
    let _first = broadcast_over(Waker::from(hook), || ev.wait(), || ev.set());
    let mut late = newcomer.lock().unwrap().take().expect("hook ran");
    let mut cx = Context::from_waker(Waker::noop());
    assert!(
        late.as_mut().poll(&mut cx).is_pending(),
        "not released by the old set"
    );
    ev.set();
    assert!(late.as_mut().poll(&mut cx).is_ready());
}

#[test]
fn barrier_releases_rounds_with_one_leader_each() {
    with_deadline(60, || {
        let rt = rt(2);
        let n = 5;
        let rounds = 50;
        let barrier = Arc::new(Barrier::new(n));
        let leaders = Arc::new(AtomicUsize::new(0));
        let arrived = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let tasks: Vec<_> = (0..n)
                .map(|_| {
                    let (b, l, a) = (barrier.clone(), leaders.clone(), arrived.clone());
                    filch_executor::spawn(async move {
                        for round in 0..rounds {
                            a.fetch_add(1, SeqCst);
                            let res = b.wait().await;
                            // Nobody passes round r before all n arrived at it.
                            assert!(a.load(SeqCst) >= (round + 1) * n);
                            if res.is_leader() {
                                l.fetch_add(1, SeqCst);
                            }
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        assert_eq!(leaders.load(SeqCst), rounds);
    });
}

#[test]
fn barrier_of_zero_or_one_never_waits() {
    for n in [0, 1] {
        let b = Barrier::new(n);
        let mut w = Manual::new(b.wait());
        assert!(w.ready().is_leader());
    }
}

#[test]
fn a_dropped_barrier_waiter_takes_its_arrival_back() {
    let b = Barrier::new(2);
    let mut quitter = Manual::new(b.wait());
    quitter.pending();
    drop(quitter);
    let mut a = Manual::new(b.wait());
    a.pending();
    let mut c = Manual::new(b.wait());
    assert!(c.ready().is_leader());
    assert!(!a.ready().is_leader());
}

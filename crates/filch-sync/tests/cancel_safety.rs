//! Cancellation safety, proven case by case: a pending `acquire`, `lock`,
//! `read`/`write`, `notified`, `recv`, `send`, `get` or `put` is dropped at
//! each point of its life (never polled, queued, chosen but not yet
//! polled, partially served), and the test checks that no permit, message
//! or wake-up was lost: what the dropped future had been handed goes to
//! the next waiter.

mod common;

use common::Manual;
use filch_sync::{Event, Mutex, Notify, Queue, RwLock, Semaphore, mpsc, oneshot};

#[test]
fn semaphore_acquire_dropped_at_every_point() {
    // Never polled: nothing happens.
    let sem = Semaphore::new(1);
    drop(Manual::new(sem.acquire()));
    assert_eq!(sem.available_permits(), 1);

    // Queued, then dropped: the queue is cleaned up, the next release goes
    // to the word (fast path) rather than to a ghost.
    let sem = Semaphore::new(0);
    let mut a = Manual::new(sem.acquire());
    a.pending();
    drop(a);
    sem.add_permits(1);
    assert_eq!(sem.available_permits(), 1);
    assert!(sem.try_acquire().is_ok());

    // Served but not yet polled: the permit goes to the next waiter.
    let sem = Semaphore::new(0);
    let mut a = Manual::new(sem.acquire());
    let mut b = Manual::new(sem.acquire());
    a.pending();
    b.pending();
    sem.add_permits(1);
    assert_eq!((a.wakes(), b.wakes()), (1, 0));
    drop(a);
    assert_eq!(b.wakes(), 1, "the permit was passed on");
    let pb = b.ready().unwrap();
    drop(pb);
    assert_eq!(sem.available_permits(), 1);

    // Served, not polled, nobody else waiting: the permit goes back.
    let sem = Semaphore::new(0);
    let mut a = Manual::new(sem.acquire());
    a.pending();
    sem.add_permits(1);
    drop(a);
    assert_eq!(sem.available_permits(), 1);

    // Partially served acquire_many: its share goes on, in FIFO order.
    let sem = Semaphore::new(0);
    let mut big = Manual::new(sem.acquire_many(3));
    let mut small = Manual::new(sem.acquire());
    big.pending();
    small.pending();
    sem.add_permits(2);
    assert_eq!(sem.available_permits(), 0, "both went to the head waiter");
    drop(big);
    assert_eq!(small.wakes(), 1);
    small.ready().unwrap().forget();
    assert_eq!(sem.available_permits(), 1, "the rest went back");
}

#[test]
fn mutex_lock_dropped_after_the_hand_off_passes_the_lock_on() {
    let m = Mutex::new(0);
    let g = m.try_lock().unwrap();
    let mut a = Manual::new(m.lock());
    let mut b = Manual::new(m.lock());
    a.pending();
    b.pending();
    drop(g);
    assert_eq!(a.wakes(), 1);
    drop(a); // owned the lock without knowing it
    assert_eq!(b.wakes(), 1);
    *b.ready() += 1;
    assert_eq!(*m.try_lock().unwrap(), 1);
}

#[test]
fn rwlock_writer_dropped_while_collecting_slots_lets_readers_in() {
    let lock = RwLock::new(());
    let r1 = lock.try_read().unwrap();
    let r2 = lock.try_read().unwrap();
    let mut w = Manual::new(lock.write());
    w.pending();
    let mut r3 = Manual::new(lock.read());
    r3.pending();
    drop(r1); // the writer collects this slot
    drop(w); // gives it back, and r3 may now enter
    assert_eq!(r3.wakes(), 1);
    let r3 = r3.ready();
    drop((r2, r3));
    assert!(lock.try_write().is_ok());
}

#[test]
fn notified_dropped_after_notify_one_passes_it_on() {
    let notify = Notify::new();
    let mut a = Manual::new(notify.notified());
    let mut b = Manual::new(notify.notified());
    a.pending();
    b.pending();
    notify.notify_one();
    assert_eq!((a.wakes(), b.wakes()), (1, 0));
    drop(a);
    assert_eq!(b.wakes(), 1);
    b.ready();

    // With nobody else waiting it becomes the stored permit.
    let mut a = Manual::new(notify.notified());
    a.pending();
    notify.notify_one();
    drop(a);
    Manual::new(notify.notified()).ready();

    // Dropped while merely waiting: the next notify_one is not swallowed.
    let mut a = Manual::new(notify.notified());
    a.pending();
    drop(a);
    notify.notify_one();
    Manual::new(notify.notified()).ready();
}

#[test]
fn event_wait_dropped_leaves_others_alone() {
    let ev = Event::new();
    let mut a = Manual::new(ev.wait());
    let mut b = Manual::new(ev.wait());
    a.pending();
    b.pending();
    drop(a);
    ev.set();
    b.ready();
}

#[test]
fn mpsc_recv_dropped_while_pending_loses_no_message() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    {
        // Dropped while asleep.
        let mut r = Manual::new(rx.recv());
        r.pending();
    }
    tx.send(1).unwrap();
    assert_eq!(rx.try_recv(), Ok(1));
    {
        // Dropped after its wake-up, before it was polled again: the
        // message stays in the channel.
        let mut r = Manual::new(rx.recv());
        r.pending();
        tx.send(2).unwrap();
        assert_eq!(r.wakes(), 1);
    }
    assert_eq!(rx.try_recv(), Ok(2));
    // And the next wait still gets woken.
    let mut r = Manual::new(rx.recv());
    r.pending();
    tx.send(3).unwrap();
    assert_eq!(r.wakes(), 1);
    assert_eq!(r.ready(), Some(3));
}

#[test]
fn bounded_send_dropped_after_being_given_room_passes_it_on() {
    let (tx, mut rx) = mpsc::channel(1);
    tx.try_send(0).unwrap();
    let mut a = Manual::new(tx.send(1));
    let mut b = Manual::new(tx.send(2));
    a.pending();
    b.pending();
    assert_eq!(rx.try_recv(), Ok(0)); // room handed to `a`
    assert_eq!(a.wakes(), 1);
    drop(a); // message 1 is not sent; its room goes to `b`
    assert_eq!(b.wakes(), 1);
    b.ready().unwrap();
    assert_eq!(rx.try_recv(), Ok(2));
    assert_eq!(tx.capacity(), 1, "no room was lost");
}

#[test]
fn oneshot_receive_dropped_while_pending_keeps_the_value() {
    let (tx, mut rx) = oneshot::channel();
    {
        let mut r = Manual::new(&mut rx);
        r.pending();
    }
    tx.send(9).unwrap();
    assert_eq!(rx.try_recv(), Ok(9));
}

#[test]
fn queue_get_and_put_dropped_after_their_wake_up_pass_it_on() {
    let q = Queue::new(1);
    let mut g1 = Manual::new(q.get());
    let mut g2 = Manual::new(q.get());
    g1.pending();
    g2.pending();
    q.try_put(1).unwrap();
    assert_eq!((g1.wakes(), g2.wakes()), (1, 0));
    drop(g1);
    assert_eq!(g2.wakes(), 1, "the wake-up went to the next getter");
    assert_eq!(g2.ready(), Ok(1));

    q.try_put(2).unwrap();
    let mut p1 = Manual::new(q.put(3));
    let mut p2 = Manual::new(q.put(4));
    p1.pending();
    p2.pending();
    assert_eq!(q.try_get(), Ok(2));
    assert_eq!((p1.wakes(), p2.wakes()), (1, 0));
    drop(p1); // item 3 is not put
    assert_eq!(p2.wakes(), 1);
    p2.ready().unwrap();
    assert_eq!(q.try_get(), Ok(4));

    // A getter dropped while waiting does not take a later item with it.
    let mut g = Manual::new(q.get());
    g.pending();
    drop(g);
    q.try_put(5).unwrap();
    assert_eq!(q.try_get(), Ok(5));
}

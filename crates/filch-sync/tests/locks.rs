//! Semaphore, Mutex and RwLock: FIFO fairness, no barging, multi-permit
//! acquires, close, owned/mapped guards, and misuse.

mod common;

use common::{Manual, rt};
use filch_sync::{
    AcquireError, Mutex, MutexGuard, OwnedMutexGuard, RwLock, RwLockWriteGuard, Semaphore,
    TryAcquireError,
};
use std::sync::Arc;

#[test]
fn semaphore_serves_waiters_in_arrival_order() {
    let sem = Semaphore::new(0);
    let mut a = Manual::new(sem.acquire());
    let mut b = Manual::new(sem.acquire());
    let mut c = Manual::new(sem.acquire());
    a.pending();
    b.pending();
    c.pending();
    sem.add_permits(1);
    assert_eq!((a.wakes(), b.wakes(), c.wakes()), (1, 0, 0));
    assert!(b.poll().is_pending());
    let pa = a.ready().unwrap();
    sem.add_permits(2);
    assert_eq!((b.wakes(), c.wakes()), (1, 1));
    let pb = b.ready().unwrap();
    let pc = c.ready().unwrap();
    assert_eq!(sem.available_permits(), 0);
    drop((pa, pb, pc));
    assert_eq!(sem.available_permits(), 3);
}

#[test]
fn a_large_acquire_at_the_head_is_not_starved_by_small_ones() {
    let sem = Semaphore::new(2);
    let held = sem.try_acquire_many(2).unwrap();
    let mut big = Manual::new(sem.acquire_many(2));
    let mut small = Manual::new(sem.acquire());
    big.pending();
    small.pending();
    // One permit comes back: it is enough for `small`, but `big` is first.
    let mut held = held;
    let one = held.split(1).unwrap();
    drop(one);
    assert_eq!(small.wakes(), 0);
    small.pending();
    assert_eq!(
        sem.available_permits(),
        0,
        "the permit went to the head waiter"
    );
    drop(held);
    let big_permit = big.ready().unwrap();
    assert_eq!(big_permit.num_permits(), 2);
    small.pending();
    drop(big_permit);
    assert_eq!(small.ready().unwrap().num_permits(), 1);
    assert_eq!(sem.available_permits(), 2);
}

#[test]
fn try_acquire_does_not_overtake_a_waiter() {
    let sem = Semaphore::new(1);
    let p = sem.try_acquire().unwrap();
    let mut waiter = Manual::new(sem.acquire());
    waiter.pending();
    drop(p);
    assert_eq!(
        sem.try_acquire().unwrap_err(),
        TryAcquireError::NoPermits,
        "the released permit belongs to the waiter"
    );
    assert!(waiter.ready().is_ok());
}

#[test]
fn acquire_zero_permits_succeeds_at_once() {
    let sem = Semaphore::new(0);
    let mut z = Manual::new(sem.acquire_many(0));
    assert_eq!(z.ready().unwrap().num_permits(), 0);
}

#[test]
fn close_fails_every_waiter_and_keeps_held_permits_valid() {
    let sem = Arc::new(Semaphore::new(1));
    let held = sem.try_acquire().unwrap();
    let mut waiters: Vec<_> = (0..100).map(|_| Manual::new(sem.acquire())).collect();
    for w in &mut waiters {
        w.pending();
    }
    sem.close();
    for w in &mut waiters {
        assert_eq!(w.wakes(), 1);
        let err: AcquireError = w.ready().unwrap_err();
        assert_eq!(err.to_string(), "semaphore closed");
    }
    assert!(sem.try_acquire().is_err());
    drop(held);
    assert_eq!(sem.available_permits(), 1, "held permits still come back");
    let rt = rt(2);
    assert!(rt.block_on(sem.acquire()).is_err());
}

#[test]
fn close_returns_permits_assigned_to_a_partial_waiter() {
    let sem = Semaphore::new(1);
    let mut big = Manual::new(sem.acquire_many(3));
    big.pending();
    assert_eq!(
        sem.available_permits(),
        0,
        "the free permit went to the waiter"
    );
    sem.close();
    assert!(big.ready().is_err());
    assert_eq!(sem.available_permits(), 1, "its partial permit came back");
}

#[test]
fn forget_split_merge_keep_the_count_right() {
    let sem = Semaphore::new(5);
    let mut p = sem.try_acquire_many(4).unwrap();
    let q = p.split(3).unwrap();
    assert_eq!((p.num_permits(), q.num_permits()), (1, 3));
    p.merge(q);
    assert_eq!(p.num_permits(), 4);
    assert_eq!(sem.forget_permits(10), 1);
    p.forget();
    assert_eq!(sem.available_permits(), 0);
    sem.add_permits(2);
    assert_eq!(sem.available_permits(), 2);
}

#[test]
#[should_panic(expected = "at most")]
fn adding_too_many_permits_panics() {
    let sem = Semaphore::new(Semaphore::MAX_PERMITS);
    sem.add_permits(1);
}

#[test]
#[should_panic(expected = "different semaphores")]
fn merging_permits_of_two_semaphores_panics() {
    let a = Semaphore::new(1);
    let b = Semaphore::new(1);
    let mut pa = a.try_acquire().unwrap();
    pa.merge(b.try_acquire().unwrap());
}

#[test]
fn owned_permits_move_into_tasks() {
    let rt = rt(2);
    let sem = Arc::new(Semaphore::new(3));
    rt.block_on(async {
        let mut tasks = Vec::new();
        for _ in 0..30 {
            let permit = sem.clone().acquire_owned().await.unwrap();
            tasks.push(filch_executor::spawn(async move {
                filch_executor::yield_now().await;
                drop(permit);
            }));
        }
        for t in tasks {
            t.await.unwrap();
        }
    });
    assert_eq!(sem.available_permits(), 3);
}

#[test]
fn mutex_hands_the_lock_over_in_fifo_order() {
    let m = Mutex::new(Vec::new());
    let g = m.try_lock().unwrap();
    let mut waiters: Vec<_> = (0..5)
        .map(|i| {
            let m = &m;
            Manual::new(async move { m.lock().await.push(i) })
        })
        .collect();
    for w in &mut waiters {
        w.pending();
    }
    drop(g);
    // Each unlock wakes exactly the next waiter.
    for (i, w) in waiters.iter_mut().enumerate() {
        assert_eq!(w.wakes(), 1, "waiter {i} woken once, in turn");
        w.ready();
    }
    assert_eq!(*m.try_lock().unwrap(), [0, 1, 2, 3, 4]);
}

#[test]
fn try_lock_does_not_barge_past_a_waiter() {
    let m = Mutex::new(0);
    let g = m.try_lock().unwrap();
    let mut w = Manual::new(m.lock());
    w.pending();
    drop(g);
    assert!(m.try_lock().is_err(), "the lock was handed to the waiter");
    drop(w.ready());
    assert!(m.try_lock().is_ok());
}

#[test]
fn owned_and_mapped_guards() {
    let rt = rt(2);
    let m = Arc::new(Mutex::new((1, String::from("a"))));
    rt.block_on(async {
        let g = m.clone().lock_owned().await;
        let mut s = OwnedMutexGuard::map(g, |t| &mut t.1);
        filch_executor::spawn(async move { s.push('b') })
            .await
            .unwrap();
        let g = m.lock().await;
        let n = MutexGuard::try_map(g, |t| if t.0 == 1 { Some(&mut t.0) } else { None });
        let mut n = n.ok().unwrap();
        *n += 1;
    });
    assert_eq!(*m.try_lock().unwrap(), (2, String::from("ab")));
    let dbg = format!("{:?}", m);
    assert!(dbg.contains("ab"), "{dbg}");
    let _g = m.try_lock().unwrap();
    assert!(format!("{:?}", m).contains("<locked>"));
}

#[test]
fn blocking_lock_inside_the_runtime_panics_with_advice() {
    let rt = rt(1);
    let m = Mutex::new(0);
    let err = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rt.block_on(async { drop(m.blocking_lock()) })
    }))
    .unwrap_err();
    let msg = err.downcast_ref::<String>().cloned().unwrap_or_default();
    assert!(msg.contains("spawn_blocking"), "{msg}");
}

#[test]
fn rwlock_readers_share_and_writers_exclude() {
    let lock = RwLock::new(0);
    let r1 = lock.try_read().unwrap();
    let r2 = lock.try_read().unwrap();
    let mut w = Manual::new(lock.write());
    w.pending();
    // A writer is waiting: later readers queue behind it (no starvation).
    assert!(lock.try_read().is_err());
    let mut r3 = Manual::new(lock.read());
    r3.pending();
    drop(r1);
    assert_eq!(w.wakes(), 0, "one reader is still in");
    drop(r2);
    let mut guard = w.ready();
    *guard = 5;
    r3.pending();
    // Downgrading lets the queued reader in without another writer.
    let r = RwLockWriteGuard::downgrade(guard);
    assert_eq!(*r3.ready(), 5);
    assert_eq!(*r, 5);
}

#[test]
fn rwlock_with_max_readers_limits_readers() {
    let lock = RwLock::with_max_readers((), 3);
    let rs: Vec<_> = (0..3).map(|_| lock.try_read().unwrap()).collect();
    let mut r4 = Manual::new(lock.read());
    r4.pending();
    drop(rs);
    drop(r4.ready());
    assert!(lock.try_write().is_ok());
}

#[test]
fn rwlock_owned_guards_cross_tasks() {
    let rt = rt(2);
    let lock = Arc::new(RwLock::new(vec![1]));
    rt.block_on(async {
        let mut w = lock.clone().write_owned().await;
        filch_executor::spawn(async move { w.push(2) })
            .await
            .unwrap();
        let r = lock.clone().read_owned().await;
        let len = filch_executor::spawn(async move { r.len() }).await.unwrap();
        assert_eq!(len, 2);
    });
}

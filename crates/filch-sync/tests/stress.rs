//! Many tasks hammering each primitive on a multi-thread runtime, with
//! operations cancelled at random points (`give_up_after`), checking the
//! invariants: never two lock holders, permit conservation, every message
//! and item delivered exactly once, no lost wake-up (a lost one hangs a
//! test, which the deadline turns into a failure).

mod common;

use common::{Rng, give_up_after, rt, with_deadline};
use filch_sync::{Mutex, Notify, Queue, RwLock, Semaphore, mpsc};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};

const TASKS: u64 = 8;

#[test]
fn mutex_never_has_two_holders() {
    with_deadline(120, || {
        let rt = rt(3);
        let m = Arc::new(Mutex::new(0u64));
        let holders = Arc::new(AtomicUsize::new(0));
        let taken = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let tasks: Vec<_> = (0..TASKS)
                .map(|t| {
                    let (m, holders, taken) = (m.clone(), holders.clone(), taken.clone());
                    filch_executor::spawn(async move {
                        let mut rng = Rng::new(t);
                        for _ in 0..3_000 {
                            let guard = if rng.below(3) == 0 {
                                give_up_after(rng.below(4) as usize, m.lock()).await
                            } else {
                                Some(m.lock().await)
                            };
                            let Some(mut g) = guard else { continue };
                            assert_eq!(holders.fetch_add(1, SeqCst), 0, "two holders");
                            *g += 1;
                            if rng.below(8) == 0 {
                                filch_executor::yield_now().await;
                            }
                            holders.fetch_sub(1, SeqCst);
                            taken.fetch_add(1, SeqCst);
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        assert_eq!(*m.try_lock().unwrap() as usize, taken.load(SeqCst));
    });
}

#[test]
fn semaphore_permits_are_conserved() {
    with_deadline(120, || {
        let rt = rt(3);
        let total = 5usize;
        let sem = Arc::new(Semaphore::new(total));
        let in_use = Arc::new(AtomicUsize::new(0));
        rt.block_on(async {
            let tasks: Vec<_> = (0..TASKS)
                .map(|t| {
                    let (sem, in_use) = (sem.clone(), in_use.clone());
                    filch_executor::spawn(async move {
                        let mut rng = Rng::new(100 + t);
                        for _ in 0..3_000 {
                            let n = 1 + rng.below(3) as u32;
                            let permit = if rng.below(3) == 0 {
                                give_up_after(rng.below(4) as usize, sem.acquire_many(n)).await
                            } else {
                                Some(sem.acquire_many(n).await)
                            };
                            let Some(permit) = permit else { continue };
                            let permit = permit.unwrap();
                            let now = in_use.fetch_add(n as usize, SeqCst) + n as usize;
                            assert!(now <= total, "{now} permits in use of {total}");
                            if rng.below(4) == 0 {
                                filch_executor::yield_now().await;
                            }
                            in_use.fetch_sub(n as usize, SeqCst);
                            drop(permit);
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        assert_eq!(sem.available_permits(), total);
    });
}

#[test]
fn rwlock_writers_are_exclusive() {
    with_deadline(120, || {
        let rt = rt(3);
        let lock = Arc::new(RwLock::with_max_readers(0u64, 4));
        // readers in the low bits, a writer as 1 << 32
        let inside = Arc::new(AtomicUsize::new(0));
        const W: usize = 1 << 32;
        rt.block_on(async {
            let tasks: Vec<_> = (0..TASKS)
                .map(|t| {
                    let (lock, inside) = (lock.clone(), inside.clone());
                    filch_executor::spawn(async move {
                        let mut rng = Rng::new(200 + t);
                        for _ in 0..2_000 {
                            let cancel = rng.below(4) == 0;
                            let polls = rng.below(4) as usize;
                            if rng.below(3) == 0 {
                                let g = if cancel {
                                    give_up_after(polls, lock.write()).await
                                } else {
                                    Some(lock.write().await)
                                };
                                let Some(mut g) = g else { continue };
                                assert_eq!(inside.fetch_add(W, SeqCst), 0);
                                *g += 1;
                                filch_executor::yield_now().await;
                                inside.fetch_sub(W, SeqCst);
                            } else {
                                let g = if cancel {
                                    give_up_after(polls, lock.read()).await
                                } else {
                                    Some(lock.read().await)
                                };
                                let Some(_g) = g else { continue };
                                let before = inside.fetch_add(1, SeqCst);
                                assert!(before < 4, "reader with writer: {before:#x}");
                                inside.fetch_sub(1, SeqCst);
                            }
                        }
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
        });
        assert!(lock.try_write().is_ok());
    });
}

#[test]
fn bounded_mpsc_delivers_every_sent_message_once_despite_cancellation() {
    with_deadline(120, || {
        let rt = rt(3);
        let per = 5_000u64;
        let (sent_ok, received) = rt.block_on(async move {
            let (tx, mut rx) = mpsc::channel::<(u64, u64)>(4);
            let sent_ok = Arc::new(AtomicUsize::new(0));
            for s in 0..TASKS {
                let (tx, sent_ok) = (tx.clone(), sent_ok.clone());
                filch_executor::spawn(async move {
                    let mut rng = Rng::new(300 + s);
                    for i in 0..per {
                        let r = if rng.below(3) == 0 {
                            give_up_after(rng.below(3) as usize, tx.send((s, i))).await
                        } else {
                            Some(tx.send((s, i)).await)
                        };
                        if let Some(r) = r {
                            r.unwrap();
                            sent_ok.fetch_add(1, SeqCst);
                        }
                    }
                });
            }
            drop(tx);
            let mut rng = Rng::new(399);
            let mut last = vec![None::<u64>; TASKS as usize];
            let mut received = 0usize;
            loop {
                let msg = if rng.below(3) == 0 {
                    match give_up_after(rng.below(3) as usize, rx.recv()).await {
                        Some(m) => m,
                        None => continue,
                    }
                } else {
                    rx.recv().await
                };
                let Some((s, i)) = msg else { break };
                // Per-sender order holds even with cancelled sends.
                assert!(last[s as usize].is_none_or(|l| l < i));
                last[s as usize] = Some(i);
                received += 1;
            }
            (sent_ok.load(SeqCst), received)
        });
        assert_eq!(sent_ok, received);
    });
}

#[test]
fn queue_items_are_conserved_despite_cancellation() {
    // Each putter must put `per` items and each getter must get `per`
    // items, retrying after every cancelled attempt: the totals match, so a
    // lost wake-up would leave someone waiting forever.
    with_deadline(120, || {
        let rt = rt(3);
        let q = Arc::new(Queue::<u64>::new(3));
        let per = 2_000u64;
        let seen = Arc::new(
            (0..(TASKS / 2) * per)
                .map(|_| AtomicUsize::new(0))
                .collect::<Vec<_>>(),
        );
        rt.block_on(async {
            let mut tasks = Vec::new();
            for t in 0..TASKS {
                let (q, seen) = (q.clone(), seen.clone());
                tasks.push(filch_executor::spawn(async move {
                    let mut rng = Rng::new(400 + t);
                    let mut done = 0;
                    while done < per {
                        let cancel = rng.below(3) == 0;
                        let polls = rng.below(3) as usize;
                        if t % 2 == 0 {
                            let item = (t / 2) * per + done;
                            let r = if cancel {
                                give_up_after(polls, q.put(item)).await
                            } else {
                                Some(q.put(item).await)
                            };
                            if let Some(r) = r {
                                r.unwrap();
                                done += 1;
                            }
                        } else {
                            let r = if cancel {
                                give_up_after(polls, q.get()).await
                            } else {
                                Some(q.get().await)
                            };
                            if let Some(r) = r {
                                seen[r.unwrap() as usize].fetch_add(1, SeqCst);
                                done += 1;
                            }
                        }
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        });
        assert!(
            seen.iter().all(|c| c.load(SeqCst) == 1),
            "every item got once"
        );
        assert_eq!(q.qsize(), 0);
    });
}

#[test]
fn notify_one_as_a_condition_variable_loses_no_wake_up() {
    with_deadline(120, || {
        let rt = rt(3);
        let notify = Arc::new(Notify::new());
        let tokens = Arc::new(AtomicUsize::new(0));
        let consumed = Arc::new(AtomicUsize::new(0));
        let per = 3_000usize;
        rt.block_on(async {
            let mut tasks = Vec::new();
            for t in 0..4u64 {
                let (notify, tokens, consumed) = (notify.clone(), tokens.clone(), consumed.clone());
                tasks.push(filch_executor::spawn(async move {
                    let mut rng = Rng::new(500 + t);
                    let mut mine = 0;
                    while mine < per {
                        let notified = notify.notified();
                        let n = tokens.load(SeqCst);
                        if n > 0 && tokens.compare_exchange(n, n - 1, SeqCst, SeqCst).is_ok() {
                            mine += 1;
                            consumed.fetch_add(1, SeqCst);
                            continue;
                        }
                        if rng.below(3) == 0 {
                            // Cancelled at a random point; the loop retries.
                            give_up_after(rng.below(3) as usize, notified).await;
                        } else {
                            notified.await;
                        }
                    }
                    // Pass on what this consumer may have taken and not
                    // used: the wake-up (or the single permit two
                    // `notify_one`s collapsed into) that brought it here
                    // can stand for more tokens than its quota had left,
                    // and the consumers still waiting need one of them.
                    notify.notify_one();
                }));
            }
            for _ in 0..4 {
                let (notify, tokens) = (notify.clone(), tokens.clone());
                tasks.push(filch_executor::spawn(async move {
                    for i in 0..per {
                        tokens.fetch_add(1, SeqCst);
                        notify.notify_one();
                        if i % 16 == 0 {
                            filch_executor::yield_now().await;
                        }
                    }
                }));
            }
            for t in tasks {
                t.await.unwrap();
            }
        });
        assert_eq!(consumed.load(SeqCst), 4 * per);
    });
}

//! The sync-primitive workloads, written once against a side's `sync`
//! module (each runtime family's own channels and locks: filch-sync,
//! `tokio::sync`, smol's async-channel/async-lock adapted to tokio's
//! signatures in `crate::sides::smol`). Instantiated as `filch`, `tokio`,
//! `smol` and `filch_on_tokio` (filch-sync on tokio's runtime, which tells
//! the primitive's cost from the executor's). Shared by the criterion
//! bench `benches/sync.rs` and the `compare` binary.
//!
//! Each workload is an `async fn` run by the caller inside `block_on`
//! and returns a checksum of what went through the primitive. Owns the
//! workload code only.

macro_rules! sync_workloads {
    ($m:ident, $side:path) => {
        pub mod $m {
            use std::sync::Arc;
            use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
            use $side::{spawn, spawn_detached, sync, yield_now};

            pub const SENDERS: usize = 5;
            pub const PER_SENDER: usize = 1_000;

            /// 5 senders × 1,000 messages into a bounded channel of `cap`.
            /// Checksum: the sum of the messages received.
            pub async fn mpsc_bounded(cap: usize) -> u64 {
                let (tx, mut rx) = sync::mpsc::channel::<usize>(cap);
                for _ in 0..SENDERS {
                    let tx = tx.clone();
                    spawn_detached(async move {
                        for i in 0..PER_SENDER {
                            tx.send(i).await.unwrap();
                        }
                    });
                }
                let mut sum = 0;
                for _ in 0..SENDERS * PER_SENDER {
                    sum += rx.recv().await.unwrap() as u64;
                }
                sum
            }

            /// 5 senders × 1,000 messages into an unbounded channel.
            /// Checksum: the sum of the messages received.
            pub async fn mpsc_unbounded() -> u64 {
                let (tx, mut rx) = sync::mpsc::unbounded_channel::<usize>();
                for _ in 0..SENDERS {
                    let tx = tx.clone();
                    spawn_detached(async move {
                        for i in 0..PER_SENDER {
                            tx.send(i).unwrap();
                        }
                    });
                }
                let mut sum = 0;
                for _ in 0..SENDERS * PER_SENDER {
                    sum += rx.recv().await.unwrap() as u64;
                }
                sum
            }

            pub type Server = sync::mpsc::Sender<(u64, sync::oneshot::Sender<u64>)>;

            /// A task that answers every request with its number plus one
            /// (run inside the runtime).
            pub fn start_server() -> Server {
                let (tx, mut rx) = sync::mpsc::channel::<(u64, sync::oneshot::Sender<u64>)>(10);
                spawn_detached(async move {
                    while let Some((n, reply)) = rx.recv().await {
                        let _ = reply.send(n + 1);
                    }
                });
                tx
            }

            /// 1,000 requests, each answered through a fresh oneshot.
            /// Checksum: the sum of the answers.
            pub async fn request_reply(server: &Server) -> u64 {
                let mut sum = 0;
                for i in 0..1_000 {
                    let (tx, rx) = sync::oneshot::channel();
                    server.send((i, tx)).await.unwrap();
                    sum += rx.await.unwrap();
                }
                sum
            }

            /// 1,000 acquire/release pairs in one task, never contended.
            /// Checksum: the acquisitions.
            pub async fn semaphore_uncontended(sem: &sync::Semaphore) -> u64 {
                let mut n = 0;
                for _ in 0..1_000 {
                    drop(sem.acquire().await.unwrap());
                    n += 1;
                }
                n
            }

            /// 6 tasks × 100 acquires of a semaphore of 5 permits, each held
            /// across a yield, so tasks really wait for each other.
            /// Checksum: the acquisitions, plus a large penalty if more than
            /// 5 holders were ever seen at once (which would be a bug).
            pub async fn semaphore_contended(sem: Arc<sync::Semaphore>) -> u64 {
                let holders = Arc::new(AtomicUsize::new(0));
                let over = Arc::new(AtomicUsize::new(0));
                let tasks: Vec<_> = (0..6)
                    .map(|_| {
                        let (sem, holders, over) = (sem.clone(), holders.clone(), over.clone());
                        spawn(async move {
                            let mut n = 0u64;
                            for _ in 0..100 {
                                let p = sem.acquire().await.unwrap();
                                if holders.fetch_add(1, SeqCst) >= 5 {
                                    over.fetch_add(1, SeqCst);
                                }
                                yield_now().await;
                                holders.fetch_sub(1, SeqCst);
                                drop(p);
                                n += 1;
                            }
                            n
                        })
                    })
                    .collect();
                let mut n = 0;
                for t in tasks {
                    n += t.await;
                }
                n + 1_000_000 * over.load(SeqCst) as u64
            }

            /// 5 tasks × 1,000 increments under one mutex. Checksum: the
            /// increments this call added.
            pub async fn mutex_contended(m: Arc<sync::Mutex<u64>>) -> u64 {
                let before = *m.lock().await;
                let tasks: Vec<_> = (0..5)
                    .map(|_| {
                        let m = m.clone();
                        spawn(async move {
                            for _ in 0..1_000 {
                                *m.lock().await += 1;
                            }
                        })
                    })
                    .collect();
                for t in tasks {
                    t.await;
                }
                *m.lock().await - before
            }
        }
    };
}

/// `Notify` workloads, for the sides that have tokio's `Notify` (smol has
/// none).
macro_rules! notify_workloads {
    ($m:ident, $side:path) => {
        pub mod $m {
            use std::sync::Arc;
            use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
            use $side::{spawn_detached, sync};

            /// `n` waiter tasks and the handshake that tells the notifier
            /// they are all waiting.
            pub struct Waiters {
                notify: Arc<sync::Notify>,
                all_waiting: Arc<sync::Notify>,
                waiting: Arc<AtomicUsize>,
                n: usize,
            }

            impl std::fmt::Debug for Waiters {
                fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.debug_struct("Waiters").field("n", &self.n).finish()
                }
            }

            /// Spawns `n` tasks that wait on `notify` forever; the last one
            /// to (re)register signals `all_waiting` (run inside the
            /// runtime).
            pub fn start_waiters(n: usize) -> Waiters {
                let w = Waiters {
                    notify: Arc::new(sync::Notify::new()),
                    all_waiting: Arc::new(sync::Notify::new()),
                    waiting: Arc::new(AtomicUsize::new(0)),
                    n,
                };
                for _ in 0..n {
                    let (notify, all_waiting, waiting) =
                        (w.notify.clone(), w.all_waiting.clone(), w.waiting.clone());
                    spawn_detached(async move {
                        loop {
                            let mut notified = std::pin::pin!(notify.notified());
                            notified.as_mut().enable();
                            if waiting.fetch_add(1, SeqCst) + 1 == n {
                                all_waiting.notify_one();
                            }
                            notified.await;
                        }
                    });
                }
                w
            }

            /// About 500 wake-ups: rounds in which all `n` tasks are
            /// waiting and are woken by one `notify_waiters` (or by `n`
            /// `notify_one`s, one each, in FIFO order). Checksum: the
            /// rounds.
            pub async fn notify_rounds(w: &Waiters, all: bool) -> u64 {
                let rounds = (500 / w.n).max(1);
                for _ in 0..rounds {
                    w.all_waiting.notified().await;
                    w.waiting.store(0, SeqCst);
                    if all {
                        w.notify.notify_waiters();
                    } else {
                        for _ in 0..w.n {
                            w.notify.notify_one();
                        }
                    }
                }
                rounds as u64
            }
        }
    };
}

sync_workloads!(filch, crate::sides::filch);
sync_workloads!(tokio, crate::sides::tokio);
sync_workloads!(smol, crate::sides::smol);
sync_workloads!(filch_on_tokio, crate::sides::filch_on_tokio);

/// `Notify` rounds per side (smol has no `Notify`).
pub mod notify {
    notify_workloads!(filch, crate::sides::filch);
    notify_workloads!(tokio, crate::sides::tokio);
    notify_workloads!(filch_on_tokio, crate::sides::filch_on_tokio);
}

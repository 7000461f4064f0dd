//! The blocking-pool workloads of issue 17 (asyncio's `to_thread`), written
//! once and instantiated per runtime: `filch` (`filch::Runtime`, timer and
//! I/O driver on), `tokio` (multi-thread, `enable_all`) and `smol`
//! (async-executor run by as many threads, with the `blocking` crate's
//! `unblock`), the same number of workers each. A module of the
//! `filch-benches` library (`filch_benches::blocking`), used by the
//! criterion bench `benches/blocking.rs`, the comparison's blocking rows
//! (`src/compare/blocking.rs`) and the profiling driver
//! `examples/blocking_workload.rs`.
//!
//! * [`burst`](filch::burst): inside `block_on`, spawn 22,000 tasks; every
//!   eleventh (2,000 in all) calls `spawn_blocking` on a tiny closure and
//!   awaits it, the other 20,000 return at once. What this measures is the
//!   pool under a burst of short calls mixed into ordinary async work.
//! * [`round_trips`](filch::round_trips): one spawned task doing 10,000
//!   sequential `spawn_blocking(..).await` (latency of one hand-off to a
//!   warm pool thread and back).
//! * [`fs_reads`](filch::fs_reads): 64 tasks each reading its own small
//!   file 100 times with the runtime family's `fs::read` (`filch::fs`,
//!   `tokio::fs`; smol: `blocking::unblock(std::fs::read)`, which is all
//!   `async-fs::read` does). Run on a runtime built with
//!   [`rt`](filch::rt)`(workers, None)` this is (c); with `rt(workers, Some(FS_CAP))` it is
//!   (d), where the pool's queue, not thread creation, is measured.
//!
//! smol's pool size is the `BLOCKING_MAX_THREADS` environment variable,
//! read once per process when the pool first starts: `smol::rt` cannot cap
//! it and panics if asked to. (d) for smol runs in a process started with
//! `BLOCKING_MAX_THREADS=4` (the comparison does that with a child
//! process).
//!
//! Each function returns a checksum, the same on every runtime, so a
//! harness can tell a runtime that lost work. Owns the workload code only;
//! measurement is the caller's.

use std::path::{Path, PathBuf};

/// Worker threads per runtime in the criterion bench and the profiling
/// driver (the comparison takes `--workers`).
pub const WORKERS: usize = 2;
/// (a): blocking calls in the burst.
pub const BURST_BLOCKING: usize = 2_000;
/// (a): plain tasks between them.
pub const BURST_PLAIN: usize = 20_000;
/// (b): sequential round trips.
pub const ROUND_TRIPS: usize = 10_000;
/// (c), (d): tasks.
pub const FS_TASKS: usize = 64;
/// (c), (d): reads per task.
pub const FS_READS: usize = 100;
/// (c), (d): bytes per file.
pub const FS_FILE_BYTES: usize = 256;
/// (d): the pool's thread cap.
pub const FS_CAP: usize = 4;

/// The checksum of [`burst`](filch::burst): the tasks return their index.
pub fn burst_checksum() -> u64 {
    let n = (BURST_BLOCKING + BURST_PLAIN) as u64;
    n * (n - 1) / 2
}

/// The checksum of [`round_trips`](filch::round_trips).
pub fn round_trips_checksum() -> u64 {
    let n = ROUND_TRIPS as u64;
    n * (n - 1) / 2
}

/// The checksum of [`fs_reads`](filch::fs_reads): bytes read.
pub fn fs_reads_checksum() -> u64 {
    (FS_TASKS * FS_READS * FS_FILE_BYTES) as u64
}

/// The small files of (c) and (d), one per task, removed on drop.
#[derive(Debug)]
pub struct Files {
    dir: PathBuf,
    paths: Vec<PathBuf>,
}

impl Files {
    /// Writes `FS_TASKS` files of `FS_FILE_BYTES` bytes in a fresh
    /// directory under the system's temporary directory.
    pub fn new() -> Files {
        // One directory per instance: several live in one process at once
        // (the comparison's contenders), and each removes its own on drop.
        static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("filch-bench-blocking-{}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("create the bench directory");
        let paths = (0..FS_TASKS)
            .map(|i| {
                let p = dir.join(format!("f{i}"));
                std::fs::write(&p, vec![i as u8; FS_FILE_BYTES]).expect("write a bench file");
                p
            })
            .collect();
        Files { dir, paths }
    }

    /// The file of task `i`.
    pub fn path(&self, i: usize) -> &Path {
        &self.paths[i]
    }
}

impl Default for Files {
    fn default() -> Files {
        Files::new()
    }
}

impl Drop for Files {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// The tiny closure every blocking call runs: enough that it cannot be
/// folded away, far less than the hand-off costs.
fn work(i: usize) -> usize {
    std::hint::black_box(i)
}

/// The same workload code for each runtime. A side provides `Rt` with
/// `block_on`, and the functions `spawn` (from inside the runtime, awaiting
/// to the output), `unblock` (the pool call, awaiting to the closure's
/// result) and `read` (the family's `fs::read`).
macro_rules! blocking_workloads {
    () => {
        use super::*;

        /// (a) Checksum: [`burst_checksum`].
        pub fn burst(rt: &Rt) -> u64 {
            rt.block_on(async {
                let every = (BURST_BLOCKING + BURST_PLAIN) / BURST_BLOCKING;
                let tasks: Vec<_> = (0..BURST_BLOCKING + BURST_PLAIN)
                    .map(|i| {
                        spawn(async move {
                            if i % every == 0 {
                                unblock(move || work(i)).await
                            } else {
                                i
                            }
                        })
                    })
                    .collect();
                let mut sum = 0u64;
                for t in tasks {
                    sum += t.await as u64;
                }
                sum
            })
        }

        /// (b) Checksum: [`round_trips_checksum`].
        pub fn round_trips(rt: &Rt) -> u64 {
            rt.block_on(async {
                spawn(async {
                    let mut sum = 0u64;
                    for i in 0..ROUND_TRIPS {
                        sum += unblock(move || work(i)).await as u64;
                    }
                    sum
                })
                .await
            })
        }

        /// (c) on a runtime from `rt(workers, None)`, (d) on one from
        /// `rt(workers, Some(FS_CAP))`. Checksum: [`fs_reads_checksum`].
        pub fn fs_reads(rt: &Rt, files: &Files) -> u64 {
            rt.block_on(async {
                let tasks: Vec<_> = (0..FS_TASKS)
                    .map(|i| {
                        let path = files.path(i).to_owned();
                        spawn(async move {
                            let mut bytes = 0u64;
                            for _ in 0..FS_READS {
                                bytes += read(path.clone()).await.expect("read a bench file").len()
                                    as u64;
                            }
                            bytes
                        })
                    })
                    .collect();
                let mut sum = 0u64;
                for t in tasks {
                    sum += t.await;
                }
                sum
            })
        }
    };
}

pub mod filch {
    use std::future::Future;
    use std::path::PathBuf;

    /// The runtime's name.
    pub const NAME: &str = "filch";
    /// The runtime.
    pub type Rt = ::filch::Runtime;

    /// A filch runtime with `workers` workers; `max_blocking` caps the
    /// pool.
    pub fn rt(workers: usize, max_blocking: Option<usize>) -> Rt {
        let mut b = ::filch::Runtime::builder();
        b.worker_threads(workers);
        if let Some(n) = max_blocking {
            b.max_blocking_threads(n);
        }
        b.build().expect("build the filch runtime")
    }

    fn spawn<F>(f: F) -> impl Future<Output = F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let h = ::filch::spawn(f);
        async move { h.await.expect("a bench task failed") }
    }

    async fn unblock<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
        ::filch::spawn_blocking(f)
            .await
            .expect("a blocking call failed")
    }

    async fn read(path: PathBuf) -> std::io::Result<Vec<u8>> {
        ::filch::fs::read(path).await
    }

    blocking_workloads!();
}

pub mod tokio {
    use std::future::Future;
    use std::path::PathBuf;

    /// The runtime's name.
    pub const NAME: &str = "tokio";
    /// The runtime.
    pub type Rt = ::tokio::runtime::Runtime;

    /// A tokio multi-thread runtime with `workers` workers; `max_blocking`
    /// caps the pool.
    pub fn rt(workers: usize, max_blocking: Option<usize>) -> Rt {
        let mut b = ::tokio::runtime::Builder::new_multi_thread();
        b.worker_threads(workers).enable_all();
        if let Some(n) = max_blocking {
            b.max_blocking_threads(n);
        }
        b.build().expect("build the tokio runtime")
    }

    fn spawn<F>(f: F) -> impl Future<Output = F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        let h = ::tokio::spawn(f);
        async move { h.await.expect("a bench task failed") }
    }

    async fn unblock<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
        ::tokio::task::spawn_blocking(f)
            .await
            .expect("a blocking call failed")
    }

    async fn read(path: PathBuf) -> std::io::Result<Vec<u8>> {
        ::tokio::fs::read(path).await
    }

    blocking_workloads!();
}

pub mod smol {
    use std::future::Future;
    use std::path::PathBuf;

    /// The runtime's name.
    pub const NAME: &str = "smol";

    /// One async-executor run by `workers` threads until dropped, the bench
    /// thread blocking with `futures_lite::future::block_on` (smol's
    /// shape: there is no runtime object of its own).
    #[derive(Debug)]
    pub struct Rt {
        stops: Vec<futures_channel::oneshot::Sender<()>>,
        threads: Vec<std::thread::JoinHandle<()>>,
    }

    /// The executor of this process (leaked, so that tasks spawn onto it
    /// with a `'static` reference, as `tokio::spawn` does through its
    /// thread-local context).
    fn ex() -> &'static async_executor::Executor<'static> {
        static EX: std::sync::OnceLock<&'static async_executor::Executor<'static>> =
            std::sync::OnceLock::new();
        EX.get_or_init(|| Box::leak(Box::new(async_executor::Executor::new())))
    }

    /// The executor's threads. The pool cannot be capped here: the
    /// `blocking` crate reads `BLOCKING_MAX_THREADS` once per process, so
    /// `Some(n)` must match that variable or this panics.
    pub fn rt(workers: usize, max_blocking: Option<usize>) -> Rt {
        if let Some(n) = max_blocking {
            let set = std::env::var("BLOCKING_MAX_THREADS").ok();
            assert_eq!(
                set.as_deref(),
                Some(n.to_string().as_str()),
                "smol's blocking pool is capped only by BLOCKING_MAX_THREADS={n} in the \
                 environment of the process (read once, when the pool starts)"
            );
        }
        let mut stops = Vec::new();
        let mut threads = Vec::new();
        for i in 0..workers {
            let (stop, stopped) = futures_channel::oneshot::channel::<()>();
            stops.push(stop);
            threads.push(
                std::thread::Builder::new()
                    .name(format!("smol-{i}"))
                    .spawn(move || {
                        futures_lite::future::block_on(ex().run(async {
                            let _ = stopped.await;
                        }));
                    })
                    .expect("start an executor thread"),
            );
        }
        Rt { stops, threads }
    }

    impl Rt {
        /// Runs `f` to completion on the calling thread.
        pub fn block_on<F: Future>(&self, f: F) -> F::Output {
            futures_lite::future::block_on(f)
        }
    }

    impl Drop for Rt {
        fn drop(&mut self) {
            self.stops.clear();
            for t in self.threads.drain(..) {
                let _ = t.join();
            }
        }
    }

    fn spawn<F>(f: F) -> impl Future<Output = F::Output>
    where
        F: Future + Send + 'static,
        F::Output: Send + 'static,
    {
        ex().spawn(f)
    }

    async fn unblock<R: Send + 'static>(f: impl FnOnce() -> R + Send + 'static) -> R {
        ::blocking::unblock(f).await
    }

    /// What `async_fs::read` does.
    async fn read(path: PathBuf) -> std::io::Result<Vec<u8>> {
        ::blocking::unblock(move || std::fs::read(path)).await
    }

    blocking_workloads!();
}

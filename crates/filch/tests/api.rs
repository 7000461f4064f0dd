//! The facade's API, by the names users (and the seeds' examples) write.

use filch::runtime::{Builder, Handle};
use filch::task::{JoinError, JoinHandle};
use filch::time::{Instant, sleep, timeout};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Duration;

#[test]
fn run_is_asyncio_run() {
    let out = filch::run(async {
        let task = filch::spawn(async { 41 });
        task.await.unwrap() + 1
    });
    assert_eq!(out, 42);
}

#[test]
fn builder_settings_and_bad_input() {
    let rt = Builder::new()
        .worker_threads(2)
        .max_blocking_threads(3)
        .thread_name("api-test")
        .block_on_runs_tasks(false)
        .build()
        .unwrap();
    let name = rt.block_on(rt.spawn(async { std::thread::current().name().map(String::from) }));
    assert_eq!(name.unwrap().as_deref(), Some("api-test"));
    let err = filch::Runtime::builder()
        .worker_threads(0)
        .build()
        .unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    assert!(err.to_string().contains("worker_threads = 0"), "{err}");
    let err = filch::Runtime::builder()
        .max_blocking_threads(0)
        .build()
        .unwrap_err();
    assert!(
        err.to_string().contains("max_blocking_threads = 0"),
        "{err}"
    );
}

#[test]
fn handle_spawns_from_foreign_threads() {
    let rt = filch::Runtime::new().unwrap();
    let handle: Handle = rt.handle().clone();
    let hits = Arc::new(AtomicUsize::new(0));
    let threads: Vec<_> = (0..8)
        .map(|_| {
            let (handle, hits) = (handle.clone(), hits.clone());
            std::thread::spawn(move || {
                (0..100)
                    .map(|_| {
                        let hits = hits.clone();
                        handle.spawn(async move { hits.fetch_add(1, SeqCst) })
                    })
                    .collect::<Vec<JoinHandle<usize>>>()
            })
        })
        .collect();
    for t in threads {
        for h in t.join().unwrap() {
            rt.block_on(h).unwrap();
        }
    }
    assert_eq!(hits.load(SeqCst), 800);
    rt.block_on(async {
        let inner = Handle::current();
        assert_eq!(inner.spawn(async { 7 }).await.unwrap(), 7);
    });
}

#[test]
fn cancel_and_join_error() {
    filch::run(async {
        let task = filch::spawn(async {
            sleep(Duration::from_secs(3600)).await;
        });
        filch::yield_now().await;
        task.cancel();
        let err: JoinError = task.await.unwrap_err();
        assert!(err.is_cancelled());
        let boom = filch::spawn(async { panic!("boom") }).await.unwrap_err();
        assert!(boom.is_panic());
        assert_eq!(*boom.into_panic().downcast_ref::<&str>().unwrap(), "boom");
        let ok = filch::spawn(async {});
        while !ok.is_finished() {
            filch::yield_now().await;
        }
    });
}

#[test]
fn to_thread_and_wait_for() {
    filch::run(async {
        let n = filch::spawn_blocking(|| (1..=20u64).sum::<u64>())
            .await
            .unwrap();
        assert_eq!(n, 210);
        assert!(
            timeout(Duration::from_millis(5), sleep(Duration::from_secs(60)))
                .await
                .is_err()
        );
    });
}

#[test]
fn shutdown_timeout_returns() {
    let rt = filch::Runtime::new().unwrap();
    let release = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let r = release.clone();
    rt.spawn_blocking(move || {
        while !r.load(SeqCst) {
            std::thread::sleep(Duration::from_millis(1));
        }
    });
    rt.shutdown_timeout(Duration::from_millis(10));
    release.store(true, SeqCst);
}

#[filch::test]
async fn test_macro_runs_on_a_runtime() {
    assert_eq!(filch::spawn(async { 1 }).await.unwrap(), 1);
}

#[filch::test(worker_threads = 3)]
async fn test_macro_worker_threads() {
    assert_eq!(Handle::current().num_workers(), 3);
}

#[filch::test(start_paused = true)]
async fn test_macro_start_paused() {
    let t = Instant::now();
    sleep(Duration::from_secs(86_400)).await;
    assert_eq!(t.elapsed(), Duration::from_secs(86_400));
}

#[filch::test]
async fn test_macro_result_return() -> Result<(), JoinError> {
    filch::spawn(async {}).await?;
    Ok(())
}

mod main_macro {
    #[filch::main(worker_threads = 1)]
    async fn main() -> usize {
        filch::runtime::Handle::current().num_workers()
    }

    #[test]
    fn main_macro_builds_a_runtime() {
        assert_eq!(main(), 1);
    }
}

#[filch::test]
async fn asyncio_queue_through_the_facade() {
    // The producer/consumer shape of asyncio's Queue docs.
    let queue = std::sync::Arc::new(filch::sync::Queue::new(2));
    let q = queue.clone();
    let producer = filch::spawn(async move {
        for i in 0..10 {
            q.put(i).await.unwrap();
        }
    });
    let mut got = Vec::new();
    for _ in 0..10 {
        got.push(queue.get().await.unwrap());
        queue.task_done().unwrap();
    }
    producer.await.unwrap();
    queue.join().await;
    assert_eq!(got, (0..10).collect::<Vec<_>>());
}

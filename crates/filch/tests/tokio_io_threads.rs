//! The `tokio-io` bridge starts no runtime and no thread: running the TLS
//! echo (tokio-rustls), the `LinesCodec` echo (tokio-util) and both
//! `Compat` round trips leaves the process's thread count
//! (`/proc/self/task`) where it was. A test binary of its own, with one
//! test, so that no other test's threads come and go meanwhile.

mod tokio_common;

use std::time::Duration;
use tokio_common::*;

/// The names of the process's threads (one `/proc/self/task` entry each).
fn threads() -> Vec<String> {
    let mut names: Vec<String> = std::fs::read_dir("/proc/self/task")
        .expect("/proc/self/task (Linux)")
        .map(|task| {
            let comm = task.unwrap().path().join("comm");
            std::fs::read_to_string(comm)
                .unwrap_or_default()
                .trim()
                .to_owned()
        })
        .collect();
    names.sort();
    names
}

#[test]
fn the_bridges_start_no_runtime_and_no_thread() {
    let rt = filch::Runtime::builder()
        .worker_threads(2)
        // No blocking-pool thread may retire during the test (none should
        // start either).
        .thread_keep_alive(Duration::from_secs(600))
        .build()
        .unwrap();
    // Warm up what the runtime itself starts on first use: a plain TCP
    // connection and a timer.
    rt.block_on(async {
        let (listener, addr) = listener().await;
        let _client = filch::net::TcpStream::connect(addr).await.unwrap();
        let _server = listener.accept().await.unwrap();
        filch::time::sleep(Duration::from_millis(1)).await;
    });
    let before = threads();

    rt.block_on(async {
        guard("the TLS echo", tls_echo_round_trip()).await;
        guard("the LinesCodec echo", framed_lines_round_trip()).await;
        guard("futures-io -> tokio-io", compat_futures_to_tokio()).await;
        guard("tokio-io -> futures-io", compat_tokio_to_futures()).await;
    });

    let after = threads();
    // Counts, not names: a worker that has just started may not have
    // named itself yet when `before` is taken.
    assert_eq!(
        before.len(),
        after.len(),
        "threads came or went: {before:?} -> {after:?}"
    );
    assert!(
        !after.iter().any(|name| name.starts_with("tokio-")),
        "a tokio thread: {after:?}"
    );
}

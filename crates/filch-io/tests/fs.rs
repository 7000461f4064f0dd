//! File system calls on the blocking pool.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::Relaxed};

#[test]
fn fs_round_trip_and_many_concurrent_calls() {
    let rt = common::runtime();
    let dir = std::env::temp_dir().join(format!("filch-io-fs-{}", std::process::id()));
    common::with_watchdog("fs", 60, || {
        rt.block_on(async {
            let _ = filch_io::fs::remove_dir_all(&dir).await;
            filch_io::fs::create_dir_all(dir.join("sub")).await.unwrap();
            let done = Arc::new(AtomicUsize::new(0));
            let tasks: Vec<_> = (0..64)
                .map(|i| {
                    let dir = dir.clone();
                    let done = done.clone();
                    filch_executor::spawn(async move {
                        let path = dir.join("sub").join(format!("f{i}"));
                        let body = format!("file {i}\n").repeat(i + 1);
                        filch_io::fs::write(&path, &body).await.unwrap();
                        assert_eq!(filch_io::fs::read_to_string(&path).await.unwrap(), body);
                        assert_eq!(
                            filch_io::fs::metadata(&path).await.unwrap().len(),
                            body.len() as u64
                        );
                        done.fetch_add(1, Relaxed);
                    })
                })
                .collect();
            for t in tasks {
                t.await.unwrap();
            }
            assert_eq!(done.load(Relaxed), 64);
            let entries = filch_io::fs::read_dir(dir.join("sub")).await.unwrap();
            assert_eq!(entries.len(), 64);
            filch_io::fs::rename(dir.join("sub/f0"), dir.join("moved"))
                .await
                .unwrap();
            assert_eq!(
                filch_io::fs::read(dir.join("moved")).await.unwrap(),
                b"file 0\n"
            );
            let err = filch_io::fs::remove_dir(dir.join("sub")).await.unwrap_err();
            assert_eq!(err.kind(), std::io::ErrorKind::DirectoryNotEmpty);
            filch_io::fs::remove_dir_all(&dir).await.unwrap();
            assert!(!filch_io::fs::try_exists(&dir).await.unwrap());
        })
    });
}

#[test]
fn fs_outside_a_runtime_is_an_error_not_a_panic() {
    let err = futures_lite::future::block_on(filch_io::fs::read("/etc/hostname")).unwrap_err();
    assert!(err.to_string().contains("needs a filch runtime"), "{err}");
}

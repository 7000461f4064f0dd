//! Descriptor hygiene of child processes, with both exit watches: a child
//! inherits nothing but its standard streams (everything filch opens is
//! close-on-exec), and spawning — successful or not — leaves the process
//! with as many open descriptors as before and every child reaped. Counts
//! `/proc/self/fd`, which every test in a binary shares, so it is one test
//! alone in its own binary.

#![cfg(target_os = "linux")]

mod common;

use filch_io::io::AsyncReadExt;
use filch_io::net::{TcpListener, UnixStream};
use filch_io::process::{Command, Stdio};
use filch_io::signal::unix::{SignalKind, signal};
use std::time::{Duration, Instant};

/// The descriptors `ls /proc/self/fd` lists in a child: its standard
/// streams, the directory it reads, and whatever this test process
/// inherited without close-on-exec (the harness may pass some on).
fn fds_listed(ls_stdout: Vec<u8>) -> Vec<u32> {
    let mut fds: Vec<u32> = String::from_utf8(ls_stdout)
        .unwrap()
        .lines()
        .map(|l| l.parse().unwrap())
        .collect();
    fds.sort();
    fds
}

/// What a child started by std, before this test opened anything, sees.
fn baseline() -> Vec<u32> {
    let out = std::process::Command::new("ls")
        .arg("/proc/self/fd")
        .output()
        .unwrap();
    fds_listed(out.stdout)
}

/// What a child started by filch sees while this process holds sockets, a
/// signal listener and another child's pipes (and pidfd) open.
async fn descriptors_of_a_child() -> Vec<u32> {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let pair = UnixStream::pair().unwrap();
    let usr1 = signal(SignalKind::user_defined1()).unwrap();
    let mut cat = Command::new("cat")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let out = Command::new("ls")
        .arg("/proc/self/fd")
        .output()
        .await
        .unwrap();
    assert!(out.status.success());
    let fds = fds_listed(out.stdout);
    let mut rest = Vec::new();
    drop(cat.stdin.take());
    cat.stdout
        .take()
        .unwrap()
        .read_to_end(&mut rest)
        .await
        .unwrap();
    cat.wait().await.unwrap();
    drop((listener, pair, usr1));
    fds
}

#[test]
fn children_inherit_nothing_and_spawning_leaks_no_descriptor() {
    let inherited = baseline();
    let (rt, reactor) = common::runtime_with(filch_io::Trigger::Edge);
    // The fd count below includes whatever a first spawn sets up for good
    // (nothing is expected, but a lazily created global must not count as
    // a leak): warm up with both watches.
    for pidfd in [true, false] {
        filch_io::process::__set_pidfd(pidfd);
        rt.block_on(async { Command::new("true").status().await.unwrap() });
    }
    let before = common::open_fds();
    common::with_watchdog("process fds", 120, || {
        for pidfd in [true, false] {
            filch_io::process::__set_pidfd(pidfd);
            rt.block_on(async {
                assert_eq!(descriptors_of_a_child().await, inherited);
                for _ in 0..100 {
                    let status = Command::new("sh")
                        .args(["-c", "exit 0"])
                        .stdin(Stdio::piped())
                        .stdout(Stdio::piped())
                        .stderr(Stdio::piped())
                        .status()
                        .await
                        .unwrap();
                    assert!(status.success());
                }
                // The error paths: a missing program, a missing directory,
                // with pipes asked for.
                for _ in 0..100 {
                    let missing = Command::new("filch-no-such-program")
                        .stdin(Stdio::piped())
                        .stdout(Stdio::piped())
                        .spawn();
                    assert!(missing.is_err());
                    let nowhere = Command::new("true")
                        .current_dir("/filch/no/such/dir")
                        .output()
                        .await;
                    assert!(nowhere.is_err());
                }
                // Children dropped while running (killed, and not).
                for kill in [true, false] {
                    for _ in 0..20 {
                        let child = Command::new("sh")
                            .args(["-c", "read x"])
                            .stdin(Stdio::piped())
                            .kill_on_drop(kill)
                            .spawn()
                            .unwrap();
                        drop(child);
                    }
                }
            });
            // A child that starts but cannot be watched (the reactor shut
            // down under a live runtime): the spawn fails, the child is
            // killed, its pipes are closed, and it is left to the reaper,
            // which the next spawn in a healthy runtime starts.
            let (broken, broken_reactor) = common::runtime_with(filch_io::Trigger::Edge);
            broken.block_on(async {
                broken_reactor.shutdown();
                for _ in 0..20 {
                    let err = Command::new("sleep")
                        .arg("1000")
                        .stdin(Stdio::piped())
                        .stdout(Stdio::piped())
                        .spawn()
                        .unwrap_err();
                    assert!(err.to_string().contains("shut down"), "{err}");
                }
            });
            drop(broken);
            assert!(filch_io::process::__orphans() > 0);
            rt.block_on(async { Command::new("true").status().await.unwrap() });
            // The orphans are reaped by the background reaper.
            let deadline = Instant::now() + Duration::from_secs(60);
            while filch_io::process::__orphans() > 0 {
                assert!(Instant::now() < deadline, "orphans left unreaped");
                std::thread::sleep(Duration::from_millis(5));
            }
        }
    });
    assert_eq!(reactor.registered_sources(), 0);
    assert_eq!(common::open_fds(), before);
}

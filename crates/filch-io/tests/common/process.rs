//! The child-process cases, run by two test binaries: `process.rs` (exits
//! watched through pidfds) and `process_sigchld.rs` (the shared SIGCHLD
//! listener, forced). Each binary's root defines `WATCH` (the watch every
//! child must report) and `setup()` (selects it). No case sleeps to let
//! something happen: children block on pipes the test holds, and the
//! only polling loop (`wait_reaped`, for the background reaper) waits for
//! a condition under a deadline.

use super::common::{runtime, with_watchdog};
use super::{WATCH, setup};
use filch_executor::Executor;
use filch_io::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use filch_io::process::{Child, Command, Stdio};
use filch_io::signal::unix::SignalKind;
use futures_lite::future::{poll_once, zip};
use std::io::Write;
use std::os::unix::process::ExitStatusExt;
use std::pin::pin;
use std::time::{Duration, Instant};

/// A runtime with the watch selected.
fn rt() -> Executor {
    setup();
    runtime()
}

/// Spawns and checks that the child uses this binary's watch.
fn spawn(cmd: &mut Command) -> Child {
    let child = cmd.spawn().unwrap();
    assert_eq!(child.__exit_watch(), WATCH, "{child:?}");
    child
}

/// State letter and start time (clock ticks since boot) of `pid`, from
/// `/proc/<pid>/stat`; `None` if there is no such process.
fn proc_stat(pid: u32) -> Option<(char, u64)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command name is in parentheses and may contain spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split(' ').collect();
    // `rest` starts at field 3 (state); field 22 is the start time.
    Some((fields[0].chars().next()?, fields[19].parse().ok()?))
}

/// Start time of our running child `pid`.
fn started(pid: u32) -> u64 {
    let (state, start) = proc_stat(pid).expect("the child is running");
    assert_ne!(state, 'Z', "pid {pid} is a zombie already");
    start
}

/// Waits (under a deadline) until the process `pid` that started at
/// `start` is gone: reaped, not a zombie. A pid reused by another process
/// has another start time.
fn wait_reaped(pid: u32, start: u64) {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        match proc_stat(pid) {
            None => return,
            Some((_, s)) if s != start => return,
            Some(state) => assert!(
                Instant::now() < deadline,
                "pid {pid} not reaped after 30 s: {state:?} (orphans: {})",
                filch_io::process::__orphans()
            ),
        }
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// A child blocked reading a pipe whose write end the test holds: it
/// exits (status 0) when that end is closed, and not before.
fn blocked_child() -> (Child, std::io::PipeWriter) {
    let (reader, writer) = std::io::pipe().unwrap();
    let child = spawn(Command::new("cat").stdin(reader).stdout(Stdio::null()));
    (child, writer)
}

#[test]
fn output_collects_both_streams_and_the_exit_code() {
    let rt = rt();
    with_watchdog("output", 60, || {
        rt.block_on(async {
            let out = Command::new("sh")
                .args(["-c", "echo out; echo err >&2; exit 3"])
                .output()
                .await
                .unwrap();
            assert_eq!(out.stdout, b"out\n");
            assert_eq!(out.stderr, b"err\n");
            assert_eq!(out.status.code(), Some(3));
            let status = Command::new("false").status().await.unwrap();
            assert_eq!(status.code(), Some(1));
        })
    });
}

#[test]
fn stdin_and_stdout_stream_a_mebibyte_through_cat() {
    let rt = rt();
    with_watchdog("cat", 60, || {
        rt.block_on(async {
            let mut cat = spawn(
                Command::new("cat")
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped()),
            );
            let data: Vec<u8> = (0..1 << 20).map(|i: u32| (i % 251) as u8).collect();
            // Larger than both pipe buffers: the writer must wait for the
            // reader, on another task.
            let mut stdin = cat.stdin.take().unwrap();
            let writer = filch_executor::spawn({
                let data = data.clone();
                async move {
                    stdin.write_all(&data).await.unwrap();
                    stdin.close().await.unwrap();
                    // Closed: writing again is an error, not a hang.
                    let again = stdin.write(b"x").await.unwrap_err();
                    assert_eq!(again.kind(), std::io::ErrorKind::BrokenPipe);
                }
            });
            let mut back = Vec::new();
            cat.stdout
                .take()
                .unwrap()
                .read_to_end(&mut back)
                .await
                .unwrap();
            writer.await.unwrap();
            assert!(back == data, "cat gave back {} bytes", back.len());
            assert!(cat.wait().await.unwrap().success());
        })
    });
}

#[test]
fn stdout_lines_arrive_while_the_child_runs() {
    let rt = rt();
    with_watchdog("lines", 60, || {
        rt.block_on(async {
            // The second line is only printed after the test answers the
            // first: reading it proves the stream is live, not collected
            // at exit.
            let mut child = spawn(
                Command::new("sh")
                    .args(["-c", "echo first; read answer; echo second $answer"])
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped()),
            );
            let mut lines = BufReader::new(child.stdout.take().unwrap());
            let mut line = String::new();
            lines.read_line(&mut line).await.unwrap();
            assert_eq!(line, "first\n");
            let mut stdin = child.stdin.take().unwrap();
            stdin.write_all(b"42\n").await.unwrap();
            line.clear();
            lines.read_line(&mut line).await.unwrap();
            assert_eq!(line, "second 42\n");
            assert!(child.wait().await.unwrap().success());
        })
    });
}

#[test]
fn a_missing_program_is_not_found_and_named() {
    let rt = rt();
    rt.block_on(async {
        let err = Command::new("filch-no-such-program").spawn().unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
        assert!(
            err.to_string().contains("\"filch-no-such-program\""),
            "{err}"
        );
        let err = Command::new("true")
            .current_dir("/filch/no/such/dir")
            .output()
            .await
            .unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::NotFound);
        assert!(err.to_string().contains("/filch/no/such/dir"), "{err}");
    });
}

#[test]
fn spawning_outside_a_runtime_fails_before_starting_anything() {
    setup();
    let dir = std::env::temp_dir().join(format!(
        "filch-spawn-outside-{}-{WATCH}",
        std::process::id()
    ));
    let _ = std::fs::remove_file(&dir);
    let err = Command::new("touch").arg(&dir).spawn().unwrap_err();
    assert!(err.to_string().contains("reactor"), "{err}");
    // Had it started, `touch` would have had time to run by the end of a
    // spawn + wait of another process.
    std::process::Command::new("true").status().unwrap();
    assert!(!dir.exists(), "the program ran");
}

#[test]
fn kill_on_drop_kills_and_reaps() {
    let rt = rt();
    let (pid, start) = rt.block_on(async {
        let child = spawn(Command::new("sleep").arg("1000").kill_on_drop(true));
        let pid = child.id().unwrap();
        let start = started(pid);
        drop(child);
        (pid, start)
    });
    wait_reaped(pid, start);
}

#[test]
fn a_dropped_child_keeps_running_and_is_reaped_when_it_exits() {
    let rt = rt();
    let (pid, start, writer) = rt.block_on(async {
        let (child, writer) = blocked_child();
        let pid = child.id().unwrap();
        let start = started(pid);
        drop(child);
        (pid, start, writer)
    });
    // Dropped without kill_on_drop: still there, still running.
    let (state, _) = proc_stat(pid).expect("the dropped child still runs");
    assert_ne!(state, 'Z');
    // Let it finish: the background reaper reaps it.
    drop(writer);
    wait_reaped(pid, start);
    drop(rt);
}

#[test]
fn kill_reaps_before_it_returns() {
    let rt = rt();
    rt.block_on(async {
        let mut child = spawn(Command::new("sleep").arg("1000"));
        let pid = child.id().unwrap();
        let start = started(pid);
        child.kill().await.unwrap();
        assert_eq!(child.id(), None);
        assert_eq!(child.try_wait().unwrap().unwrap().signal(), Some(9));
        // Reaped by `kill` itself: gone at once, no polling.
        assert!(
            proc_stat(pid).is_none_or(|(_, s)| s != start),
            "pid {pid} left behind"
        );
        // Signalling a reaped child does nothing (its pid may be reused).
        child.start_kill().unwrap();
        child.send_signal(SignalKind::terminate()).unwrap();
    });
}

#[test]
fn send_signal_delivers_sigterm() {
    let rt = rt();
    rt.block_on(async {
        let mut child = spawn(Command::new("sleep").arg("1000"));
        child.send_signal(SignalKind::terminate()).unwrap();
        assert_eq!(child.wait().await.unwrap().signal(), Some(15));
        let err = child.send_signal(SignalKind::from_raw(1000)).unwrap_err();
        assert_eq!(err.kind(), std::io::ErrorKind::InvalidInput);
    });
}

#[test]
fn many_children_exiting_at_once_each_get_their_own_status() {
    let rt = rt();
    with_watchdog("many", 120, || {
        rt.block_on(async {
            // Exits close together coalesce into fewer SIGCHLDs than
            // children in the fallback: each must still see its own.
            let tasks: Vec<_> = (0..40)
                .map(|i| {
                    let mut child = spawn(Command::new("sh").args(["-c", &format!("exit {i}")]));
                    filch_executor::spawn(async move { child.wait().await.unwrap().code() })
                })
                .collect();
            for (i, t) in tasks.into_iter().enumerate() {
                assert_eq!(t.await.unwrap(), Some(i as i32));
            }
        })
    });
}

#[test]
fn wait_is_cancel_safe() {
    let rt = rt();
    with_watchdog("cancel-safe wait", 60, || {
        rt.block_on(async {
            let (mut child, mut writer) = blocked_child();
            {
                let wait = pin!(child.wait());
                assert!(poll_once(wait).await.is_none(), "cat cannot have exited");
            }
            assert_eq!(child.try_wait().unwrap(), None);
            writer.write_all(b"bye").unwrap();
            drop(writer);
            assert!(child.wait().await.unwrap().success());
        })
    });
}

#[test]
fn a_child_can_be_awaited_after_its_runtime_shut_down() {
    let (mut child, writer) = {
        let first = rt();
        let spawned = first.block_on(async { blocked_child() });
        drop(first);
        spawned
    };
    let second = rt();
    with_watchdog("second runtime", 60, || {
        second.block_on(async {
            // Waiting here first: the old watch is dead, a new one is made
            // in this runtime's reactor.
            let waiting = filch_executor::spawn(async move { child.wait().await.unwrap() });
            drop(writer);
            assert!(waiting.await.unwrap().success());
        })
    });
}

#[test]
fn wait_with_output_drains_both_pipes_at_once() {
    let rt = rt();
    with_watchdog("wait_with_output", 60, || {
        rt.block_on(async {
            // More than a pipe holds on each stream, stderr first: reading
            // only stdout until the end would deadlock.
            let child = spawn(
                Command::new("sh")
                    .args([
                        "-c",
                        "head -c 300000 /dev/zero >&2; head -c 200000 /dev/zero",
                    ])
                    .stdout(Stdio::piped())
                    .stderr(Stdio::piped()),
            );
            let out = child.wait_with_output().await.unwrap();
            assert!(out.status.success());
            assert_eq!((out.stdout.len(), out.stderr.len()), (200_000, 300_000));
        })
    });
}

#[test]
fn a_pipeline_hands_one_childs_stdout_to_the_next() {
    let rt = rt();
    with_watchdog("pipeline", 60, || {
        rt.block_on(async {
            let mut printf = spawn(
                Command::new("printf")
                    .arg("b\\na\\nc\\n")
                    .stdout(Stdio::piped()),
            );
            let sorted = Stdio::try_from(printf.stdout.take().unwrap()).unwrap();
            let (sort, status) =
                zip(Command::new("sort").stdin(sorted).output(), printf.wait()).await;
            assert_eq!(sort.unwrap().stdout, b"a\nb\nc\n");
            assert!(status.unwrap().success());
        })
    });
}

#[test]
fn exits_and_pipes_work_on_a_oneshot_reactor() {
    setup();
    let (rt, _) = super::common::runtime_with(filch_io::Trigger::Oneshot);
    with_watchdog("oneshot", 60, || {
        rt.block_on(async {
            let (mut child, writer) = blocked_child();
            let waiting = filch_executor::spawn(async move { child.wait().await.unwrap() });
            drop(writer);
            assert!(waiting.await.unwrap().success());
            let mut sh = spawn(
                Command::new("sh")
                    .args(["-c", "read x; echo got $x"])
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped()),
            );
            sh.stdin.take().unwrap().write_all(b"it\n").await.unwrap();
            let out = sh.wait_with_output().await.unwrap();
            assert_eq!(out.stdout, b"got it\n");
        })
    });
}

/// The pipes speak tokio's I/O traits too (feature `tokio-io`).
#[cfg(feature = "tokio-io")]
#[test]
fn the_pipes_implement_tokios_io_traits() {
    use tokio_traits::io::AsyncWriteExt as _;
    let rt = rt();
    with_watchdog("tokio traits", 60, || {
        rt.block_on(async {
            let mut cat = spawn(
                Command::new("cat")
                    .stdin(Stdio::piped())
                    .stdout(Stdio::piped()),
            );
            let mut stdin = cat.stdin.take().unwrap();
            tokio_traits::io::AsyncWriteExt::write_all(&mut stdin, b"through tokio")
                .await
                .unwrap();
            stdin.shutdown().await.unwrap();
            let mut out = String::new();
            let mut stdout = cat.stdout.take().unwrap();
            tokio_traits::io::AsyncReadExt::read_to_string(&mut stdout, &mut out)
                .await
                .unwrap();
            assert_eq!(out, "through tokio");
            assert!(cat.wait().await.unwrap().success());
        })
    });
}

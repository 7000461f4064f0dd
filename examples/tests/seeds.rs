//! Runs the seeds' example programs (built by `cargo test` alongside this
//! test) and checks that each does the job of its asyncio original: the
//! lines it prints, and their order where the original's order is
//! meaningful. The programs sleep for real (as the originals do), so they
//! run concurrently.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

fn example(name: &str) -> PathBuf {
    // target/<profile>/deps/seeds-<hash> -> target/<profile>/examples/<name>
    let mut path = std::env::current_exe().unwrap();
    path.pop();
    path.pop();
    path.push("examples");
    path.push(name);
    path
}

/// Runs an example with a hang guard; returns its stdout lines.
fn run(name: &'static str, args: &'static [&'static str]) -> std::thread::JoinHandle<Vec<String>> {
    std::thread::spawn(move || {
        let path = example(name);
        let mut child = Command::new(&path)
            .args(args)
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e} (is it built?)", path.display()));
        let deadline = Instant::now() + Duration::from_secs(60);
        while child.try_wait().unwrap().is_none() {
            if Instant::now() > deadline {
                let _ = child.kill();
                panic!("example {name} did not finish");
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        let Output {
            status,
            stdout,
            stderr,
        } = child.wait_with_output().unwrap();
        assert!(
            status.success(),
            "{name} failed: {}",
            String::from_utf8_lossy(&stderr)
        );
        String::from_utf8(stdout)
            .unwrap()
            .lines()
            .map(String::from)
            .collect()
    })
}

fn index_of(lines: &[String], needle: &str) -> usize {
    lines
        .iter()
        .position(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("{needle:?} not printed; got {lines:#?}"))
}

#[test]
fn seed_examples_do_their_job() {
    let hello = run("hello", &[]);
    let fetch_data = run("fetch_data", &[]);
    let create_task = run("create_task", &[]);
    let cancel = run("cancel", &[]);
    let background = run("background", &["--stop"]);
    let periodic = run("periodic", &["0.05", "--ticks", "4"]);
    let blocking = run("blocking", &[]);

    let l = hello.join().unwrap();
    assert_eq!(&l[..2], ["Hello", "world"]);
    assert!(l.iter().any(|x| x == r#"["hello", "world"]"#), "{l:#?}");

    let l = fetch_data.join().unwrap();
    assert_eq!(
        l,
        [
            "Start",
            "Fetching data...",
            "Data fetched!",
            r#"Result: {"data": 123}"#,
            "End"
        ]
    );

    let l = create_task.join().unwrap();
    assert!(index_of(&l, "Creating task") < index_of(&l, "Start fetching data"));
    assert!(index_of(&l, "Doing other work") < index_of(&l, "Still working..."));
    // The 1 s of other work ends before the 2 s fetch does.
    assert!(index_of(&l, "Still working...") < index_of(&l, "Data fetched"));
    assert_eq!(
        l.last().unwrap(),
        r#"Got result: {"data": "important stuff"}"#
    );

    let l = cancel.join().unwrap();
    assert_eq!(
        l,
        [
            "Long task started",
            "Long task was cancelled!",
            "Main: task was cancelled"
        ]
    );

    let l = background.join().unwrap();
    let runs = l
        .iter()
        .filter(|x| *x == "Background worker running...")
        .count();
    assert!((5..=6).contains(&runs), "{l:#?}");
    assert!(index_of(&l, "Main logic completed") >= 5);
    assert!(l.last().unwrap().contains("cancelled"));

    let l = periodic.join().unwrap();
    assert_eq!(l.len(), 4);
    assert!(
        l.iter()
            .enumerate()
            .all(|(i, x)| x.starts_with(&format!("run {}", i + 1)))
    );

    let l = blocking.join().unwrap();
    assert!(l[0].starts_with("blocking inside tasks") && l[1].starts_with("with spawn_blocking"));
}

#[test]
fn combinator_examples_do_their_job() {
    let gather = run("gather", &[]);
    let wait_for = run("wait_for", &[]);
    let retries = run("retries", &[]);

    let l = gather.join().unwrap();
    assert!(index_of(&l, "Task 2 finished") < index_of(&l, "Task 1 finished"));
    assert!(
        l[index_of(&l, "Task 1 finished") + 1]
            .starts_with(r#"["Task 1 result", "Task 2 result"] in"#)
    );
    assert!(index_of(&l, "hello") < index_of(&l, "world"));
    assert!(l[index_of(&l, "(\"world\", 42)")].starts_with(r#"("world", 42) in"#));
    index_of(&l, "task 1 summed to 500000500000");
    index_of(&l, "task 3 summed to 4500001500000");
    assert!(index_of(&l, "fast child done") < index_of(&l, "group failed after"));
    assert!(
        l.last()
            .unwrap()
            .ends_with("a task in the group failed: the database is down")
    );
    assert!(!l.iter().any(|x| x.contains("slow child")), "{l:#?}");

    let l = wait_for.join().unwrap();
    assert_eq!(l[0], "Task took too long!");
    assert_eq!(
        l[3..],
        [
            "task 0 done: 100 ms job",
            "task 1 done: 300 ms job",
            "task 2 still running: cancelling it"
        ]
    );

    let l = retries.join().unwrap();
    assert_eq!(l[1], "  got <contents of /stable>");
    assert!(index_of(&l, "/flaky: attempt 2 failed") < index_of(&l, "got <contents of /flaky>"));
    index_of(&l, "/down: attempt 4 failed");
    index_of(
        &l,
        "All retries failed for /down: gave up after 4 attempts (no attempts left): 503 Service Unavailable",
    );
    assert_eq!(
        l.last().unwrap(),
        "  All retries failed for /missing: gave up after 1 attempt (the error is not retryable): 404 Not Found"
    );
}

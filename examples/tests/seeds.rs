//! Runs the example programs (built by `cargo test` alongside this test)
//! and checks that each does its job (a seed's: that of its asyncio
//! original): the lines it prints, and their order where the order is
//! meaningful. The programs sleep for real (as the originals do), so they
//! run concurrently.

mod common;

use common::example;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

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
    // All three start at once, then finish in order of their delays.
    assert_eq!(
        l[..6],
        [
            "Task 1 started",
            "Task 2 started",
            "Task 3 started",
            "Task 3 finished",
            "Task 1 finished",
            "Task 2 finished"
        ]
    );
    assert!(l[6].starts_with(r#"["Task 1 result", "Task 2 result", "Task 3 result"] in"#));
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

/// The number after `prefix` in the line that starts with it (a duration in
/// seconds, as the examples print them).
fn seconds_after(lines: &[String], prefix: &str) -> f64 {
    let line = &lines[index_of(lines, prefix)];
    line[line.find(prefix).unwrap() + prefix.len()..]
        .split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("no number after {prefix:?} in {line:?}"))
}

/// How many lines are exactly `line`.
fn count(lines: &[String], line: &str) -> usize {
    lines.iter().filter(|l| *l == line).count()
}

#[test]
fn network_and_file_examples_do_their_job() {
    let fetch = run("fetch", &[]);
    let scraper = run("scraper", &[]);
    let scraper_one_at_a_time = run("scraper", &["--limit", "1"]);
    let aggregate = run("aggregate", &[]);
    let read_files = run("read_files", &[]);
    let fetch_retry = run("fetch_retry", &[]);

    // fetch: seed 1's first 100 characters of python.org, then seed 2's
    // five URLs, concurrently and one after another.
    let l = fetch.join().unwrap();
    assert!(
        l[0].starts_with(
            "Serving python.org, pypi.org, docs.python.org, github.com, stackoverflow.com on 127.0.0.1:"
        ),
        "{l:#?}"
    );
    // The first 100 characters end with the title line's newline.
    assert_eq!(
        l[1..8],
        [
            "<!doctype html>",
            "<html lang=\"en\">",
            "<head>",
            "<meta charset=\"utf-8\">",
            "<title>Welcome to Python.org</title>",
            "",
            "Fetching 5 URLs concurrently",
        ]
    );
    let sizes = [
        "http://python.org: 49237 bytes",
        "http://pypi.org: 15283 bytes",
        "http://docs.python.org: 12568 bytes",
        "http://github.com: 278965 bytes",
        "http://stackoverflow.com: 257062 bytes",
    ];
    // gather's results come in input order, whatever order they finished in.
    assert_eq!(l[8..13], sizes);
    let i = index_of(&l, "Fetching them one after another");
    assert_eq!(l[i + 1..i + 6], sizes);
    let concurrent = seconds_after(&l, "Completed in ");
    let sequential = seconds_after(&l, "Sequential: completed in ");
    // The server's delays add up to 0.9 s; the longest is 0.2 s.
    assert!(sequential >= 0.9, "{l:#?}");
    assert!(concurrent < 0.75 * sequential, "{l:#?}");
    // One connection per site, kept alive: 1 + 5 + 5 requests over 5.
    assert_eq!(
        l.last().unwrap(),
        "11 requests over 5 connections (kept alive and reused)"
    );

    // scraper: every page of the mirror exactly once, the broken link, the
    // links it must not follow, and the concurrency limit held.
    let pages = [
        ("/", "Python documentation"),
        ("/tutorial/", "The Python Tutorial"),
        ("/tutorial/intro.html", "An Informal Introduction"),
        ("/tutorial/coroutines.html", "Coroutines & Tasks"),
        ("/library/", "The Python Standard Library"),
        ("/library/asyncio.html", "asyncio \u{2014} Asynchronous I/O"),
        ("/library/asyncio-task.html", "Coroutines and Tasks"),
        ("/library/asyncio-queue.html", "Queues"),
        ("/library/asyncio-stream.html", "Streams"),
        ("/library/asyncio-sync.html", "Synchronization Primitives"),
        ("/faq.html", "Python Frequently Asked Questions"),
    ];
    for (l, limit) in [
        (scraper.join().unwrap(), 4),
        (scraper_one_at_a_time.join().unwrap(), 1),
    ] {
        assert!(
            l[0].starts_with("Crawling http://docs.python.org/ (served on 127.0.0.1:")
                && l[0].ends_with(&format!("at most {limit} requests at once")),
            "{l:#?}"
        );
        assert!(l[1].starts_with("[depth 0] 200 http://docs.python.org/ \"Python documentation\""));
        for (path, title) in pages {
            let needle = format!(" 200 http://docs.python.org{path} \"{title}\" (");
            let found = l.iter().filter(|x| x.contains(&needle)).count();
            assert_eq!(found, 1, "{needle:?} in {l:#?}");
        }
        assert_eq!(
            count(
                &l,
                "[depth 3] 404 http://docs.python.org/library/asyncio-dev.html \
                 (broken link on http://docs.python.org/library/asyncio.html)"
            ),
            1,
            "{l:#?}"
        );
        // A header, 12 fetches, 3 summary lines: nothing fetched twice.
        assert_eq!(l.len(), 16, "{l:#?}");
        index_of(&l, "Crawled 11 pages, 1 broken link, 0 errors in ");
        assert_eq!(l[14], "Skipped 3 off-site links and 1 non-web link");
        let last = l.last().unwrap();
        let peak: usize = last
            .strip_prefix("12 requests, at most ")
            .and_then(|r| r.strip_suffix(&format!(" at once (limit {limit})")))
            .and_then(|n| n.parse().ok())
            .unwrap_or_else(|| panic!("{last:?}"));
        assert!((1..=limit).contains(&peak), "{last:?}");
    }

    // aggregate: five sources at once, a timeout and a 500 reported, the
    // summary built from the other three.
    let l = aggregate.join().unwrap();
    assert!(l[0].ends_with(", 500 ms each at most"), "{l:#?}");
    let sources = &l[1..6];
    for (endpoint, outcome) in [
        ("/users", ": 4 records in "),
        ("/orders", ": 6 records in "),
        ("/inventory", ": 4 records in "),
        ("/reviews", ": failed in "),
        ("/payments", ": failed in "),
    ] {
        let needle = format!("{endpoint}{outcome}");
        assert_eq!(
            sources.iter().filter(|x| x.contains(&needle)).count(),
            1,
            "{needle:?} in {l:#?}"
        );
    }
    let failed = |endpoint: &str, why: &str| {
        sources
            .iter()
            .any(|x| x.contains(&format!("{endpoint}: failed in ")) && x.ends_with(why))
    };
    assert!(failed("/reviews", " s: timed out after 500 ms"), "{l:#?}");
    assert!(
        failed("/payments", " s: HTTP 500 Internal Server Error"),
        "{l:#?}"
    );
    assert_eq!(
        l[6..13],
        [
            "Summary:",
            "  users: 4 from 4 countries",
            "  orders: 6, revenue $120.50",
            "  top customer: Ada ($70.75 over 3 orders)",
            "  users without orders: Linus",
            "  low stock: hoodie (0), shirt (3)",
            "  partial: 2 of 5 sources failed: reviews (timed out after 500 ms), \
             payments (HTTP 500 Internal Server Error)",
        ]
    );
    // The timeout bounds the wait: at least the budget, well short of the
    // slow endpoint's 3 s.
    let took = seconds_after(&l, "Completed in ");
    assert!((0.5..3.0).contains(&took), "{l:#?}");

    // read_files: every file in order, the missing and the binary one as
    // error values, the all-or-nothing variant failing on either.
    let l = read_files.join().unwrap();
    let dir = l[0]
        .strip_prefix("Working in ")
        .expect("the temp dir is named");
    assert_eq!(
        l[1..8],
        [
            "Reading 7 files concurrently",
            "haiku.txt: 66 bytes, 3 lines, first line \"await the kettle\"",
            "notes.txt: 792 bytes, 100 lines, first line \"note 1\"",
            "data.csv: 73893 bytes, 5000 lines, first line \"row,value 1\"",
            "server.log: 1288894 bytes, 50000 lines, first line \"GET /index.html 200 1\"",
            "empty.txt: 0 bytes, 0 lines, first line \"\"",
            "missing.txt: error: No such file or directory (os error 2)",
        ]
    );
    assert_eq!(l[8], "image.bin: error: stream did not contain valid UTF-8");
    assert!(
        l[9].starts_with("Read 5 of 7 files, 1363645 bytes, in "),
        "{l:#?}"
    );
    assert_eq!(l[10], "All or nothing (try_join_all):");
    assert!(
        l[11] == "  failed: missing.txt: No such file or directory (os error 2)"
            || l[11] == "  failed: image.bin: stream did not contain valid UTF-8",
        "{l:#?}"
    );
    assert_eq!(l[12..], ["  read all 5 readable files, 1363645 bytes"]);
    assert!(!std::path::Path::new(dir).exists(), "{dir} was not removed");

    // fetch_retry: each site's failures, retried only while worth it.
    let l = fetch_retry.join().unwrap();
    assert_eq!(l[0], "Fetching 6 URLs concurrently, with retries");
    let failures = |url: &str| -> Vec<String> {
        let prefix = format!("  {url}: attempt ");
        l.iter()
            .filter_map(|x| x.strip_prefix(&prefix))
            .map(|rest| {
                let (n, rest) = rest.split_once(" failed at ").unwrap();
                let (_, why) = rest.split_once(" s: ").unwrap();
                format!("{n}: {why}")
            })
            .collect()
    };
    assert_eq!(failures("http://python.org"), Vec::<String>::new());
    assert_eq!(
        failures("http://pypi.org"),
        [
            "1: HTTP 503 Service Unavailable",
            "2: HTTP 503 Service Unavailable"
        ]
    );
    assert_eq!(
        failures("http://docs.python.org"),
        [
            "1: connection closed before message completed",
            "2: connection closed before message completed"
        ]
    );
    assert_eq!(
        failures("http://github.com"),
        ["1: no answer within 300 ms"]
    );
    assert_eq!(
        failures("http://stackoverflow.com"),
        (1..=5)
            .map(|n| format!("{n}: HTTP 503 Service Unavailable"))
            .collect::<Vec<_>>()
    );
    assert_eq!(
        failures("http://python.org/missing"),
        ["1: HTTP 404 Not Found"]
    );
    let n = l.len();
    assert_eq!(
        l[n - 7..n - 1],
        [
            "http://python.org: 22 bytes after 1 attempt",
            "http://pypi.org: 20 bytes after 3 attempts",
            "http://docs.python.org: 27 bytes after 3 attempts",
            "http://github.com: 22 bytes after 2 attempts",
            "http://stackoverflow.com: gave up after 5 attempts (no attempts left): \
             HTTP 503 Service Unavailable",
            "http://python.org/missing: gave up after 1 attempt (the error is not retryable): \
             HTTP 404 Not Found",
        ]
    );
    // 1 + 3 + 3 + 2 + 5 + 1 requests: no attempt beyond what each needed.
    assert!(
        l[n - 1].starts_with("Fetched 4 of 6 URLs with 15 requests in "),
        "{l:#?}"
    );
}

#[test]
fn the_debug_example_names_the_blocking_task() {
    let l = run("debug", &[]).join().unwrap();
    let stuck = index_of(&l, "\"blocker\"");
    assert!(l[stuck].contains("is still running"), "{l:#?}");
    let done = stuck + 1 + index_of(&l[stuck + 1..], "\"blocker\"");
    assert!(
        l[done].contains("in one poll, blocking its thread"),
        "{l:#?}"
    );
    assert!(!l.iter().any(|x| x.contains("\"sleeper\"")), "{l:#?}");
    // (The panicking poll may itself be reported as slow too: printing a
    // backtrace under RUST_BACKTRACE=1 can take longer than 100 ms.)
    let lost = index_of(&l, "never retrieved");
    assert!(l[lost].contains("\"forgotten\"") && l[lost].ends_with("lost connection"));
    let dump = index_of(&l, "task dump:");
    assert!(l[dump + 2].contains("\"server\" (idle"), "{l:#?}");
}

#[test]
fn tls_echo_example_does_its_job() {
    let l = run("tls_echo", &[]).join().unwrap();
    assert_eq!(l[0], "generated a self-signed certificate for localhost");
    for id in [1, 2] {
        let client = format!("client {id}: ");
        let connected = index_of(&l, &format!("{client}connected with TLSv1_3"));
        let short = index_of(&l, &format!("{client}sent 15 bytes, the echo matches"));
        let long = index_of(&l, &format!("{client}sent 40960 bytes, the echo matches"));
        let closed = index_of(&l, &format!("{client}closed cleanly"));
        assert!(connected < short && short < long && long < closed, "{l:#?}");
    }
    let echoed = l
        .iter()
        .filter(|x| x.starts_with("server: echoed 40975 bytes") && x.ends_with("close_notify"))
        .count();
    assert_eq!(echoed, 2, "{l:#?}");
    assert_eq!(
        l.last().unwrap(),
        "done: 2 TLS connections echoed and closed cleanly"
    );
}

#[test]
fn subprocess_example_does_its_job() {
    let l = run("subprocess", &[]).join().unwrap();
    assert_eq!(
        l[..6],
        [
            "Running 5 commands at once, 2 s each at most",
            "  echo hello: exit 0, \"hello\"",
            "  sleep 0.2 && echo in time: exit 0, \"in time\"",
            "  exit 3: exit 3, \"\"",
            "  sleep 30: timed out after 2 s (killed)",
            "  filch-no-such-program: error: could not run \"filch-no-such-program\": \
             No such file or directory (os error 2)",
        ]
    );
    // At once: the timeout bounds the whole gather, not the sum.
    let took = seconds_after(&l, "5 commands in ");
    assert!((2.0..20.0).contains(&took), "{l:#?}");
    // The counter's lines were printed as they came, in order.
    let i = index_of(&l, "Streaming the lines of a counter as they come");
    for (n, line) in l[i + 1..i + 4].iter().enumerate() {
        assert!(line.ends_with(&format!("] tick {}", n + 1)), "{l:#?}");
    }
    let stamps: Vec<f64> = l[i + 1..i + 4]
        .iter()
        .map(|x| {
            x.trim_start()[1..]
                .split(' ')
                .next()
                .unwrap()
                .parse()
                .unwrap()
        })
        .collect();
    // Printed while the counter ran: the last line came after its sleeps,
    // not together with the first at its exit.
    assert!(stamps[2] - stamps[0] >= 0.15, "{l:#?}");
    assert_eq!(l[i + 4], "  counter exited with exit status: 0");
    assert_eq!(
        l[i + 5..],
        [
            "Feeding sort through its stdin",
            "  sorted: apple banana fig pear"
        ]
    );
}

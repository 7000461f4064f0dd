//! asyncio's subprocesses, on filch: run several programs at once, each
//! with a timeout (the seeds' `gather` pattern over processes), stream one
//! program's output line by line while it runs, and feed another through
//! its stdin.
//!
//! ```python
//! async def run(cmd, timeout):
//!     proc = await asyncio.create_subprocess_shell(cmd, stdout=PIPE, stderr=PIPE)
//!     try:
//!         out, err = await asyncio.wait_for(proc.communicate(), timeout)
//!         return f"{cmd}: exit {proc.returncode}, {out.decode().strip()!r}"
//!     except asyncio.TimeoutError:
//!         proc.kill()
//!         await proc.wait()
//!         return f"{cmd}: timed out"
//!
//! async def main():
//!     for line in await asyncio.gather(*(run(cmd, 2) for cmd in COMMANDS)):
//!         print(line)
//! ```
//!
//! In filch the timeout drops the `output()` future, and with
//! `kill_on_drop(true)` dropping it kills the child; the runtime reaps it
//! (no zombie is left behind either way).

use filch::io::{AsyncBufReadExt, AsyncReadExt, AsyncWriteExt, BufReader};
use filch::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// How long each command may take.
const TIMEOUT: Duration = Duration::from_secs(2);

/// Shell commands, and one program that does not exist.
const COMMANDS: [&str; 5] = [
    "echo hello",
    "sleep 0.2 && echo in time",
    "exit 3",
    "sleep 30",
    "!filch-no-such-program",
];

/// Runs one command to its end or its timeout; says how it went.
async fn run(entry: &str) -> String {
    let command = entry.trim_start_matches('!');
    let mut cmd = match entry.strip_prefix('!') {
        // Not through the shell: spawning itself fails.
        Some(program) => Command::new(program),
        None => {
            let mut sh = Command::new("sh");
            sh.args(["-c", command]);
            sh
        }
    };
    match filch::time::timeout(TIMEOUT, cmd.kill_on_drop(true).output()).await {
        Ok(Ok(out)) => {
            let code = out.status.code().map_or("none".into(), |c| c.to_string());
            let text = String::from_utf8_lossy(&out.stdout);
            format!("{command}: exit {code}, {:?}", text.trim())
        }
        Ok(Err(e)) => format!("{command}: error: {e}"),
        Err(_) => format!(
            "{command}: timed out after {} s (killed)",
            TIMEOUT.as_secs()
        ),
    }
}

#[filch::main]
async fn main() {
    // 1. gather over processes: all at once, results in input order.
    println!(
        "Running {} commands at once, {} s each at most",
        COMMANDS.len(),
        TIMEOUT.as_secs()
    );
    let start = Instant::now();
    let results = filch::join_all(COMMANDS.map(run)).await;
    for line in &results {
        println!("  {line}");
    }
    println!(
        "{} commands in {:.2} s",
        results.len(),
        start.elapsed().as_secs_f64()
    );

    // 2. A child's stdout, line by line, while it still runs
    //    (`while line := await proc.stdout.readline()`).
    println!("Streaming the lines of a counter as they come");
    let mut counter = Command::new("sh")
        .args(["-c", "for i in 1 2 3; do echo tick $i; sleep 0.1; done"])
        .stdout(Stdio::piped())
        .spawn()
        .expect("sh runs");
    let start = Instant::now();
    let mut stdout = BufReader::new(counter.stdout.take().expect("piped"));
    let mut line = String::new();
    while stdout.read_line(&mut line).await.expect("the pipe reads") > 0 {
        println!(
            "  [{:.2} s] {}",
            start.elapsed().as_secs_f64(),
            line.trim_end()
        );
        line.clear();
    }
    let status = counter.wait().await.expect("sh is reaped");
    println!("  counter exited with {status}");

    // 3. Feeding a child's stdin while reading its stdout
    //    (`proc.communicate(input)`).
    println!("Feeding sort through its stdin");
    let mut sort = Command::new("sort")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .expect("sort runs");
    let mut stdin = sort.stdin.take().expect("piped");
    let feeder = filch::spawn(async move {
        for word in ["pear", "apple", "fig", "banana"] {
            stdin.write_all(format!("{word}\n").as_bytes()).await?;
        }
        // Dropping stdin closes it: sort sees the end of its input.
        std::io::Result::Ok(())
    });
    let mut sorted = String::new();
    sort.stdout
        .take()
        .expect("piped")
        .read_to_string(&mut sorted)
        .await
        .expect("the pipe reads");
    feeder
        .await
        .expect("the feeder ran")
        .expect("sort read it all");
    sort.wait().await.expect("sort is reaped");
    println!(
        "  sorted: {}",
        sorted.split_whitespace().collect::<Vec<_>>().join(" ")
    );
}

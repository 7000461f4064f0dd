//! Exercise 3 of "Python Async IO Basics": a periodic task that runs every
//! X seconds, indefinitely.
//!
//! Usage: `cargo run --example periodic -- [SECONDS] [--ticks N]`
//! (default every 1 s, forever; `--ticks N` stops after N runs).
//!
//! `interval` keeps the schedule (it does not drift by the time the work
//! takes, unlike `loop { work().await; sleep(x).await }`), and says what to
//! do when a run takes longer than the period.

use filch::time::{Instant, MissedTickBehavior, interval};
use std::time::Duration;

async fn job(n: u64, started: Instant) {
    println!("run {n} at +{:.1?}", started.elapsed());
}

#[filch::main]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let seconds: f64 = args.first().and_then(|a| a.parse().ok()).unwrap_or(1.0);
    let max_ticks: Option<u64> = args
        .iter()
        .position(|a| a == "--ticks")
        .and_then(|i| args.get(i + 1))
        .and_then(|n| n.parse().ok());
    if !(seconds > 0.0 && seconds.is_finite()) {
        eprintln!("the period must be a positive number of seconds, got {seconds}");
        std::process::exit(2);
    }

    let mut ticks = interval(Duration::from_secs_f64(seconds));
    ticks.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let started = Instant::now();
    let mut n = 0;
    while max_ticks.is_none_or(|max| n < max) {
        ticks.tick().await;
        n += 1;
        job(n, started).await;
    }
}

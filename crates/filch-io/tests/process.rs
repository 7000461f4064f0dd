//! Child processes whose exits are watched through pidfds (Linux's
//! default). The cases are shared with `process_sigchld.rs`, which forces
//! the SIGCHLD fallback: see `common/process.rs`.

#![cfg(target_os = "linux")]

#[path = "common/process.rs"]
mod cases;
mod common;

/// The exit watch every child spawned here must use.
const WATCH: &str = "pidfd";

fn setup() {
    filch_io::process::__set_pidfd(true);
}

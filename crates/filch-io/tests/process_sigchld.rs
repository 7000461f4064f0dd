//! Child processes whose exits are watched through the shared SIGCHLD
//! listener: the fallback for systems without pidfds, forced here so that
//! it is tested on Linux too. The cases are `common/process.rs`, shared
//! with `process.rs`; this binary selects the fallback for all of them.

#[path = "common/process.rs"]
mod cases;
mod common;

/// The exit watch every child spawned here must use.
const WATCH: &str = "sigchld";

fn setup() {
    filch_io::process::__set_pidfd(false);
}

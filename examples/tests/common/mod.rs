//! What the example tests share: where cargo put the example programs.

use std::path::PathBuf;

/// The path of example `name`, built by `cargo test` beside the tests:
/// `target/<profile>/deps/<test>-<hash>` → `target/<profile>/examples/<name>`.
pub fn example(name: &str) -> PathBuf {
    let mut path = std::env::current_exe().unwrap();
    path.pop();
    path.pop();
    path.push("examples");
    path.push(name);
    path
}

//! loom models of filch's synchronization protocols.
//!
//! The models live in `tests/` (one file per protocol family) and only exist
//! under `--cfg loom`; this library is empty. Run them with
//! `RUSTFLAGS="--cfg loom -C debug-assertions" LOOM_MAX_PREEMPTIONS=2
//! CARGO_TARGET_DIR=target/loom cargo test --release -p filch-loom-tests`.

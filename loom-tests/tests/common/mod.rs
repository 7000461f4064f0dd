//! What every loom model file shares: running a model and reporting how
//! much it explored. Included with `mod common;` by the files in `tests/`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering::SeqCst};
use std::time::Instant;

/// Runs `f` under loom (bounded by `LOOM_MAX_PREEMPTIONS`, read from the
/// environment) and reports how many interleavings it explored and how long
/// that took (shown with `--nocapture`).
pub fn model(name: &str, f: impl Fn() + Sync + Send + 'static) {
    let iterations = Arc::new(AtomicUsize::new(0));
    let counter = iterations.clone();
    let start = Instant::now();
    loom::model(move || {
        counter.fetch_add(1, SeqCst);
        f();
    });
    eprintln!(
        "{name}: {} interleavings in {:.2?}",
        iterations.load(SeqCst),
        start.elapsed()
    );
}

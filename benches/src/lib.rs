//! filch beside tokio and smol: the workload code shared by the criterion
//! benches (`benches/`), the profiling examples (`examples/`) and the
//! one-command comparison (`src/bin/compare.rs`, harness in `compare/`).
//!
//! * [`sides`]: the three runtimes behind one set of names;
//! * the workloads, each written once and instantiated per side, live in
//!   `benches/common/` ([`sched`], [`timer`], [`sync`], [`echo`],
//!   [`http`], [`blocking`]);
//! * [`stats`]: the median and its distribution-free interval;
//! * [`compare`]: the interleaved comparison harness, its floors and its
//!   resource measurements.
//!
//! Owns benchmark code only; nothing here is used by the runtime crates.

pub mod compare;
pub mod sides;
pub mod stats;

#[path = "../common/sched.rs"]
pub mod sched;

#[path = "../common/timer.rs"]
pub mod timer;

#[path = "../common/sync.rs"]
pub mod sync;

#[path = "../common/echo.rs"]
pub mod echo;

#[path = "../common/http.rs"]
pub mod http;

#[path = "../common/blocking.rs"]
pub mod blocking;

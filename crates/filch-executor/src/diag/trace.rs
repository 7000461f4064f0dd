//! The `tracing` feature: a span per task, entered for each of its polls
//! (and for the drop of its future), so that events logged by task code
//! carry the task's id, name and spawn location. Without the feature this
//! is the identity and costs nothing.
//!
//! Owns only the wrapping; it must not decide anything about scheduling.

use crate::tasks::Id;
use std::future::Future;
use std::panic::Location;

/// `future`, in a span named `task` (target `filch::task`) with fields
/// `task.id`, `task.name`, `loc.file`, `loc.line`, `loc.col`.
#[cfg(feature = "tracing")]
pub(crate) fn instrument<F: Future>(
    future: F,
    id: Id,
    name: Option<&str>,
    location: &'static Location<'static>,
) -> tracing::instrument::Instrumented<F> {
    use tracing::Instrument;
    let span = tracing::info_span!(
        target: "filch::task",
        "task",
        task.id = id.as_u64(),
        task.name = name,
        loc.file = location.file(),
        loc.line = location.line(),
        loc.col = location.column(),
    );
    future.instrument(span)
}

/// Without the `tracing` feature: `future` itself.
#[cfg(not(feature = "tracing"))]
#[inline(always)]
pub(crate) fn instrument<F: Future>(
    future: F,
    _id: Id,
    _name: Option<&str>,
    _location: &'static Location<'static>,
) -> F {
    future
}

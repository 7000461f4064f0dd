//! The I/O rows: TCP echo (`benches/common/echo.rs`) at 64 B and 16 KiB,
//! and HTTP/1 keep-alive over hyper (`benches/common/http.rs`). No floor:
//! the kernel's loopback path is most of the cost and is the same for all.

use super::{Kind, Spec};
use crate::per_runtime;
use crate::{echo, http};

pub fn specs() -> Vec<Spec> {
    vec![
        Spec {
            name: "echo_64b",
            family: "io",
            what: "64 conns x one 64 B round trip",
            ops: echo::CONNECTIONS as u64,
            kind: Kind::Io,
            make: per_runtime!(echo, |_side, w, workers| {
                let mut bench = w::Bench::new(workers);
                move |iters| bench.run(iters, 64)
            }),
            floor: None,
            expect: Some(|iters| echo::expected(echo::CONNECTIONS, iters)),
        },
        Spec {
            name: "echo_16k",
            family: "io",
            what: "64 conns x one 16 KiB round trip",
            ops: echo::CONNECTIONS as u64,
            kind: Kind::Io,
            make: per_runtime!(echo, |_side, w, workers| {
                let mut bench = w::Bench::new(workers);
                move |iters| bench.run(iters, 16 << 10)
            }),
            floor: None,
            expect: Some(|iters| echo::expected(echo::CONNECTIONS, iters)),
        },
        Spec {
            name: "http1_keepalive",
            family: "io",
            what: "64 hyper conns x one GET",
            ops: http::CONNECTIONS as u64,
            kind: Kind::Io,
            make: per_runtime!(http, |_side, w, workers| {
                let mut bench = w::Bench::new(workers);
                move |iters| bench.run(iters)
            }),
            floor: None,
            expect: Some(|iters| http::expected(http::CONNECTIONS, iters)),
        },
    ]
}

//! What several of the seeds' examples share: the HTTP plumbing that stands
//! in for aiohttp and for the internet.
//!
//! The tutorials fetch real web sites with aiohttp. Here there is no
//! internet, so the examples that fetch (`fetch`, `scraper`, `aggregate`,
//! `fetch_retry`) start a [`server`] on `127.0.0.1:0` inside the program and
//! talk to it through a [`client::Session`] — aiohttp's `ClientSession`,
//! built on hyper 1.x running on filch. Both are real HTTP/1.1 over real
//! TCP sockets: only the distance to the server is fake.
//!
//! ```
//! use filch_examples::client::Session;
//! use filch_examples::server::{self, reply};
//! use hyper::StatusCode;
//!
//! filch::run(async {
//!     let server = server::serve(|req| async move {
//!         let path = req.uri().path().to_owned();
//!         reply(StatusCode::OK, "text/plain", format!("you asked for {path}"))
//!     })
//!     .await
//!     .unwrap();
//!     let session = Session::new();
//!     let url = format!("http://{}/hello", server.addr());
//!     let response = session.get(&url).await.unwrap();
//!     assert_eq!(response.status(), StatusCode::OK);
//!     assert_eq!(response.text(), "you asked for /hello");
//! });
//! ```
//!
//! This crate holds plumbing only: what an example demonstrates belongs in
//! the example's own file, where a reader looks for it.

#![deny(missing_docs)]

pub mod client;
pub mod server;

/// `docs/asyncio-guide.md`, included so that `cargo test` compiles and runs
/// every Rust snippet of the guide: it cannot drift from the API.
#[cfg(doctest)]
#[doc = include_str!("../../docs/asyncio-guide.md")]
pub struct AsyncioGuide;

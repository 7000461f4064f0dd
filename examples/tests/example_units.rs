//! Runs the unit tests that live inside the example programs (the HTML
//! scraping of `scraper` and the merging of `aggregate`).
//!
//! The examples are compiled here as modules rather than marked `test = true`
//! in `Cargo.toml`: an example built as a test harness is not also built as a
//! program, and `tests/seeds.rs` needs the programs.

#[allow(dead_code)]
#[path = "../scraper.rs"]
mod scraper;

#[allow(dead_code)]
#[path = "../aggregate.rs"]
mod aggregate;

//! Exercise 1 of "Python Async IO Basics": "Create an asynchronous function
//! that reads multiple files concurrently and returns their contents."
//!
//! ```python
//! async def read_file(path):
//!     return await asyncio.to_thread(Path(path).read_text)
//!
//! async def read_files(paths):
//!     # one result per path, in order; a failed read is returned, not raised
//!     return await asyncio.gather(*(read_file(p) for p in paths),
//!                                 return_exceptions=True)
//! ```
//!
//! How it maps: operating systems offer no portable non-blocking file
//! reads, so asyncio users run them on threads (`to_thread`, or aiofiles,
//! which does the same); `filch::fs::read_to_string` runs the read on
//! filch's blocking pool in the same way. `gather(...,
//! return_exceptions=True)` is `filch::join_all` over futures that return
//! `Result`s: every read runs to the end and each file gets its own result.
//! Plain `gather` (the first failure fails the whole call) is
//! `filch::try_join_all`, shown too.
//!
//! The program writes a few files of different sizes to a fresh temporary
//! directory (concurrently, with `filch::fs::write`), reads them back
//! together with one name that does not exist and one file that is not
//! UTF-8, prints what each read returned, and removes the directory.
//!
//! Usage: `cargo run --example read_files -- [PATH ...]` — with paths, it
//! reads those instead.

use std::io;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// Reads every file concurrently; one result per path, in order
/// (`gather(..., return_exceptions=True)`).
async fn read_files(paths: &[PathBuf]) -> Vec<io::Result<String>> {
    filch::join_all(paths.iter().map(filch::fs::read_to_string)).await
}

/// Reads every file concurrently, or fails with the first error, saying
/// which file it was (plain `gather`).
async fn try_read_files(paths: &[PathBuf]) -> io::Result<Vec<String>> {
    filch::try_join_all(paths.iter().map(|path| async move {
        filch::fs::read_to_string(path)
            .await
            .map_err(|e| io::Error::new(e.kind(), format!("{}: {e}", name(path))))
    }))
    .await
}

fn name(path: &Path) -> String {
    path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    )
}

/// Prints what reading each path returned; returns the bytes read.
fn report(paths: &[PathBuf], results: &[io::Result<String>]) -> usize {
    let mut total = 0;
    for (path, result) in paths.iter().zip(results) {
        match result {
            Ok(text) => {
                total += text.len();
                let first = text.lines().next().unwrap_or("");
                println!(
                    "{}: {} bytes, {} lines, first line {first:?}",
                    name(path),
                    text.len(),
                    text.lines().count()
                );
            }
            Err(e) => println!("{}: error: {e}", name(path)),
        }
    }
    total
}

/// The demo's files: name and contents (`None`: left out on purpose).
fn demo_files() -> Vec<(&'static str, Option<Vec<u8>>)> {
    let lines = |n: usize, what: &str| -> Vec<u8> {
        (1..=n)
            .map(|i| format!("{what} {i}\n"))
            .collect::<String>()
            .into_bytes()
    };
    vec![
        (
            "haiku.txt",
            Some(b"await the kettle\nother tasks run while it boils\ntea, concurrently\n".to_vec()),
        ),
        ("notes.txt", Some(lines(100, "note"))),
        ("data.csv", Some(lines(5_000, "row,value"))),
        ("server.log", Some(lines(50_000, "GET /index.html 200"))),
        ("empty.txt", Some(Vec::new())),
        ("missing.txt", None),
        (
            "image.bin",
            Some(vec![0x89, b'P', b'N', b'G', 0xff, 0xfe, 0x00]),
        ),
    ]
}

async fn demo(dir: &Path) -> io::Result<()> {
    let files = demo_files();
    filch::try_join_all(files.iter().filter_map(|(name, contents)| {
        contents
            .as_ref()
            .map(|bytes| filch::fs::write(dir.join(name), bytes))
    }))
    .await?;
    let paths: Vec<PathBuf> = files.iter().map(|(name, _)| dir.join(name)).collect();

    println!("Reading {} files concurrently", paths.len());
    let start = Instant::now();
    let results = read_files(&paths).await;
    let elapsed = start.elapsed();
    let ok = results.iter().filter(|r| r.is_ok()).count();
    let total = report(&paths, &results);
    println!(
        "Read {ok} of {} files, {total} bytes, in {:.1} ms",
        paths.len(),
        elapsed.as_secs_f64() * 1e3
    );

    // Both missing.txt and image.bin fail: which error comes back is the
    // first to happen, not the first in the list (as with `gather`).
    println!("All or nothing (try_join_all):");
    match try_read_files(&paths).await {
        Ok(texts) => println!("  read all {} files", texts.len()),
        Err(e) => println!("  failed: {e}"),
    }
    let readable: Vec<PathBuf> = paths
        .iter()
        .zip(&results)
        .filter(|(_, r)| r.is_ok())
        .map(|(p, _)| p.clone())
        .collect();
    match try_read_files(&readable).await {
        Ok(texts) => println!(
            "  read all {} readable files, {} bytes",
            texts.len(),
            texts.iter().map(String::len).sum::<usize>()
        ),
        Err(e) => println!("  failed: {e}"),
    }
    Ok(())
}

#[filch::main]
async fn main() {
    let args: Vec<PathBuf> = std::env::args_os().skip(1).map(PathBuf::from).collect();
    if !args.is_empty() {
        let results = read_files(&args).await;
        report(&args, &results);
        if results.iter().any(Result::is_err) {
            std::process::exit(1);
        }
        return;
    }

    let dir = std::env::temp_dir().join(format!("filch-read-files-{}", std::process::id()));
    if let Err(e) = filch::fs::create_dir_all(&dir).await {
        eprintln!("cannot create {}: {e}", dir.display());
        std::process::exit(1);
    }
    println!("Working in {}", dir.display());
    let outcome = demo(&dir).await;
    // Clean up whatever happened; a destructor cannot await, so this is
    // done here rather than in a guard's `Drop`.
    let cleanup = filch::fs::remove_dir_all(&dir).await;
    if let Err(e) = outcome.and(cleanup) {
        eprintln!("read_files failed: {e}");
        std::process::exit(1);
    }
}

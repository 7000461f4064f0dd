//! File system operations (`filch::fs`), run on the runtime's blocking pool
//! so async workers never block on disk (asyncio's `to_thread` pattern,
//! which is also what tokio and aiofiles do: regular files have no
//! readiness to wait for).
//!
//! Each function takes owned copies of its arguments, runs the matching
//! `std::fs` function on the pool and returns its result unchanged, except
//! [`read`] and [`read_to_string`], which return what std's would but read
//! a small file without first asking for its size ([`read_whole`]). This
//! module must not hold files open across awaits (there is no async `File`
//! here yet).

use std::fs::{Metadata, Permissions};
use std::io;
use std::path::{Path, PathBuf};

/// Runs `f` on the current runtime's blocking pool.
async fn blocking<T: Send + 'static>(
    what: &'static str,
    f: impl FnOnce() -> io::Result<T> + Send + 'static,
) -> io::Result<T> {
    let Some(handle) = filch_executor::Handle::try_current() else {
        return Err(io::Error::other(format!(
            "filch::fs::{what} needs a filch runtime (it runs on the blocking pool): call it \
             from inside `filch::run` / `block_on` or a task"
        )));
    };
    handle
        .spawn_blocking(f)
        .await
        .map_err(|e| io::Error::other(format!("filch::fs::{what} did not finish: {e}")))?
}

/// Bytes read before a file's size is asked for (`read_whole`).
const FIRST_READ: usize = 4096;

/// Reads a whole file, as `std::fs::read` does, with one system call fewer
/// for a file of up to [`FIRST_READ`] bytes: std asks for the size first
/// (`statx`) to size its buffer, then reads until a read returns 0. Here
/// the first [`FIRST_READ`] bytes go to a stack buffer, and only a file that
/// fills it is sized and read on into a vector (one `read` more than std
/// for those, against at least 4 KiB copied). Reads go on until one returns
/// 0, as std's do: a short read proves nothing (a pipe, a `/proc` file).
fn read_whole(path: &Path) -> io::Result<Vec<u8>> {
    use std::io::Read;
    let mut file = std::fs::File::open(path)?;
    let mut first = [0u8; FIRST_READ];
    let mut len = 0;
    while len < FIRST_READ {
        match file.read(&mut first[len..]) {
            Ok(0) => return Ok(first[..len].to_vec()),
            Ok(n) => len += n,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    let size = file.metadata().map_or(0, |m| m.len() as usize);
    let mut bytes = Vec::new();
    bytes
        .try_reserve_exact(size.max(FIRST_READ))
        .map_err(|_| io::Error::from(io::ErrorKind::OutOfMemory))?;
    bytes.extend_from_slice(&first);
    file.read_to_end(&mut bytes)?;
    Ok(bytes)
}

/// Reads a whole file into bytes.
///
/// The same result as `std::fs::read`, with one system call fewer for a
/// file of up to 4 KiB (it does not ask for the size first).
///
/// Cancelling it (dropping the future) does not stop the call: it runs to the
/// end on the blocking pool and its result is dropped.
///
/// ```
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// let path = std::env::temp_dir().join(format!("filch-doc-fs-read-{}", std::process::id()));
/// rt.block_on(async {
///     filch_io::fs::write(&path, b"bytes").await.unwrap();
///     assert_eq!(filch_io::fs::read(&path).await.unwrap(), b"bytes");
///     let missing = filch_io::fs::read(path.with_extension("missing")).await.unwrap_err();
///     assert_eq!(missing.kind(), std::io::ErrorKind::NotFound);
///     filch_io::fs::remove_file(&path).await.unwrap();
/// });
/// ```
pub async fn read(path: impl AsRef<Path>) -> io::Result<Vec<u8>> {
    let path = path.as_ref().to_owned();
    blocking("read", move || read_whole(&path)).await
}

/// Reads a whole UTF-8 file into a string (`InvalidData` if it is not
/// UTF-8).
///
/// Cancelling it (dropping the future) does not stop the call: it runs to the
/// end on the blocking pool and its result is dropped.
///
/// ```
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// let path = std::env::temp_dir().join(format!("filch-doc-fs-rts-{}", std::process::id()));
/// rt.block_on(async {
///     filch_io::fs::write(&path, "text").await.unwrap();
///     assert_eq!(filch_io::fs::read_to_string(&path).await.unwrap(), "text");
///     filch_io::fs::write(&path, [0xff, 0xfe]).await.unwrap();
///     let err = filch_io::fs::read_to_string(&path).await.unwrap_err();
///     assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
///     filch_io::fs::remove_file(&path).await.unwrap();
/// });
/// ```
pub async fn read_to_string(path: impl AsRef<Path>) -> io::Result<String> {
    let path = path.as_ref().to_owned();
    blocking("read_to_string", move || {
        String::from_utf8(read_whole(&path)?).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidData,
                "stream did not contain valid UTF-8",
            )
        })
    })
    .await
}

/// Writes `contents` to a file, creating it or truncating it.
///
/// Cancelling it (dropping the future) does not stop the call: it runs to the
/// end on the blocking pool and its result is dropped.
///
/// ```
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// let path = std::env::temp_dir().join(format!("filch-doc-fs-write-{}", std::process::id()));
/// rt.block_on(async {
///     filch_io::fs::write(&path, "first").await.unwrap();
///     filch_io::fs::write(&path, "2nd").await.unwrap();
///     assert_eq!(filch_io::fs::read_to_string(&path).await.unwrap(), "2nd");
///     filch_io::fs::remove_file(&path).await.unwrap();
/// });
/// ```
pub async fn write(path: impl AsRef<Path>, contents: impl AsRef<[u8]>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    let contents = contents.as_ref().to_owned();
    blocking("write", move || std::fs::write(path, contents)).await
}

/// Creates a directory (its parent must exist).
///
/// Cancelling it (dropping the future) does not stop the call: it runs to the
/// end on the blocking pool and its result is dropped.
///
/// ```
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// let dir = std::env::temp_dir().join(format!("filch-doc-fs-mkdir-{}", std::process::id()));
/// rt.block_on(async {
///     filch_io::fs::create_dir(&dir).await.unwrap();
///     let again = filch_io::fs::create_dir(&dir).await.unwrap_err();
///     assert_eq!(again.kind(), std::io::ErrorKind::AlreadyExists);
///     filch_io::fs::remove_dir(&dir).await.unwrap();
/// });
/// ```
pub async fn create_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    blocking("create_dir", move || std::fs::create_dir(path)).await
}

/// Creates a directory and every missing parent.
///
/// Cancelling it (dropping the future) does not stop the call: it runs to the
/// end on the blocking pool and its result is dropped.
///
/// ```
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// let root = std::env::temp_dir().join(format!("filch-doc-fs-mkdirs-{}", std::process::id()));
/// rt.block_on(async {
///     filch_io::fs::create_dir_all(root.join("a/b/c")).await.unwrap();
///     assert!(filch_io::fs::metadata(root.join("a/b/c")).await.unwrap().is_dir());
///     filch_io::fs::remove_dir_all(&root).await.unwrap();
/// });
/// ```
pub async fn create_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    blocking("create_dir_all", move || std::fs::create_dir_all(path)).await
}

/// Removes a file.
///
/// Cancelling it (dropping the future) does not stop the call: it runs to the
/// end on the blocking pool and its result is dropped.
///
/// ```
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// let path = std::env::temp_dir().join(format!("filch-doc-fs-rm-{}", std::process::id()));
/// rt.block_on(async {
///     filch_io::fs::write(&path, "x").await.unwrap();
///     filch_io::fs::remove_file(&path).await.unwrap();
///     assert!(!filch_io::fs::try_exists(&path).await.unwrap());
/// });
/// ```
pub async fn remove_file(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    blocking("remove_file", move || std::fs::remove_file(path)).await
}

/// Removes an empty directory.
///
/// Cancelling it (dropping the future) does not stop the call: it runs to the
/// end on the blocking pool and its result is dropped.
///
/// ```
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// let dir = std::env::temp_dir().join(format!("filch-doc-fs-rmdir-{}", std::process::id()));
/// rt.block_on(async {
///     filch_io::fs::create_dir(&dir).await.unwrap();
///     filch_io::fs::remove_dir(&dir).await.unwrap();
/// });
/// ```
pub async fn remove_dir(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    blocking("remove_dir", move || std::fs::remove_dir(path)).await
}

/// Removes a directory and everything in it.
///
/// Cancelling it (dropping the future) does not stop the call: it runs to the
/// end on the blocking pool and its result is dropped.
///
/// ```
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// let dir = std::env::temp_dir().join(format!("filch-doc-fs-rmall-{}", std::process::id()));
/// rt.block_on(async {
///     filch_io::fs::create_dir_all(dir.join("x")).await.unwrap();
///     filch_io::fs::write(dir.join("x/f"), "f").await.unwrap();
///     filch_io::fs::remove_dir_all(&dir).await.unwrap();
///     assert!(!filch_io::fs::try_exists(&dir).await.unwrap());
/// });
/// ```
pub async fn remove_dir_all(path: impl AsRef<Path>) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    blocking("remove_dir_all", move || std::fs::remove_dir_all(path)).await
}

/// Renames (moves) a file or directory, replacing `to` if it is a file.
///
/// Cancelling it (dropping the future) does not stop the call: it runs to the
/// end on the blocking pool and its result is dropped.
///
/// ```
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// let a = std::env::temp_dir().join(format!("filch-doc-fs-mv-a-{}", std::process::id()));
/// let b = a.with_extension("b");
/// rt.block_on(async {
///     filch_io::fs::write(&a, "moved").await.unwrap();
///     filch_io::fs::rename(&a, &b).await.unwrap();
///     assert_eq!(filch_io::fs::read_to_string(&b).await.unwrap(), "moved");
///     filch_io::fs::remove_file(&b).await.unwrap();
/// });
/// ```
pub async fn rename(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<()> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    blocking("rename", move || std::fs::rename(from, to)).await
}

/// Copies a file's contents and permissions; returns the bytes copied.
///
/// Cancelling it (dropping the future) does not stop the call: it runs to the
/// end on the blocking pool and its result is dropped.
///
/// ```
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// let a = std::env::temp_dir().join(format!("filch-doc-fs-cp-{}", std::process::id()));
/// let b = a.with_extension("copy");
/// rt.block_on(async {
///     filch_io::fs::write(&a, "12345").await.unwrap();
///     assert_eq!(filch_io::fs::copy(&a, &b).await.unwrap(), 5);
///     filch_io::fs::remove_file(&a).await.unwrap();
///     filch_io::fs::remove_file(&b).await.unwrap();
/// });
/// ```
pub async fn copy(from: impl AsRef<Path>, to: impl AsRef<Path>) -> io::Result<u64> {
    let (from, to) = (from.as_ref().to_owned(), to.as_ref().to_owned());
    blocking("copy", move || std::fs::copy(from, to)).await
}

/// Metadata of a path, following symlinks.
///
/// Cancelling it (dropping the future) does not stop the call: it runs to the
/// end on the blocking pool and its result is dropped.
///
/// ```
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// rt.block_on(async {
///     let meta = filch_io::fs::metadata(std::env::temp_dir()).await.unwrap();
///     assert!(meta.is_dir());
/// });
/// ```
pub async fn metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let path = path.as_ref().to_owned();
    blocking("metadata", move || std::fs::metadata(path)).await
}

/// Metadata of a path itself (a symlink is not followed).
///
/// Cancelling it (dropping the future) does not stop the call: it runs to the
/// end on the blocking pool and its result is dropped.
///
/// ```
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// rt.block_on(async {
///     let meta = filch_io::fs::symlink_metadata(std::env::temp_dir()).await.unwrap();
///     assert!(meta.is_dir() || meta.file_type().is_symlink());
/// });
/// ```
pub async fn symlink_metadata(path: impl AsRef<Path>) -> io::Result<Metadata> {
    let path = path.as_ref().to_owned();
    blocking("symlink_metadata", move || std::fs::symlink_metadata(path)).await
}

/// Whether a path exists (`Ok(false)` if it does not; an error if that
/// cannot be told, e.g. permission denied on a parent).
///
/// Cancelling it (dropping the future) does not stop the call: it runs to the
/// end on the blocking pool and its result is dropped.
///
/// ```
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// rt.block_on(async {
///     assert!(filch_io::fs::try_exists(std::env::temp_dir()).await.unwrap());
///     assert!(!filch_io::fs::try_exists("/nonexistent/filch").await.unwrap());
/// });
/// ```
pub async fn try_exists(path: impl AsRef<Path>) -> io::Result<bool> {
    let path = path.as_ref().to_owned();
    blocking("try_exists", move || path.try_exists()).await
}

/// The canonical, absolute form of a path (symlinks resolved).
///
/// Cancelling it (dropping the future) does not stop the call: it runs to the
/// end on the blocking pool and its result is dropped.
///
/// ```
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// rt.block_on(async {
///     assert!(filch_io::fs::canonicalize(".").await.unwrap().is_absolute());
/// });
/// ```
pub async fn canonicalize(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let path = path.as_ref().to_owned();
    blocking("canonicalize", move || std::fs::canonicalize(path)).await
}

/// The entries of a directory (in no particular order; `.` and `..` are
/// not included).
///
/// Cancelling it (dropping the future) does not stop the call: it runs to the
/// end on the blocking pool and its result is dropped.
///
/// ```
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// let dir = std::env::temp_dir().join(format!("filch-doc-fs-ls-{}", std::process::id()));
/// rt.block_on(async {
///     filch_io::fs::create_dir_all(&dir).await.unwrap();
///     filch_io::fs::write(dir.join("one"), "1").await.unwrap();
///     let entries = filch_io::fs::read_dir(&dir).await.unwrap();
///     assert_eq!(entries.len(), 1);
///     assert_eq!(entries[0].file_name(), "one");
///     filch_io::fs::remove_dir_all(&dir).await.unwrap();
/// });
/// ```
pub async fn read_dir(path: impl AsRef<Path>) -> io::Result<Vec<std::fs::DirEntry>> {
    let path = path.as_ref().to_owned();
    blocking("read_dir", move || std::fs::read_dir(path)?.collect()).await
}

/// Sets a path's permissions.
///
/// Cancelling it (dropping the future) does not stop the call: it runs to the
/// end on the blocking pool and its result is dropped.
///
/// ```
/// use std::os::unix::fs::PermissionsExt;
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// let path = std::env::temp_dir().join(format!("filch-doc-fs-chmod-{}", std::process::id()));
/// rt.block_on(async {
///     filch_io::fs::write(&path, "x").await.unwrap();
///     let perms = std::fs::Permissions::from_mode(0o600);
///     filch_io::fs::set_permissions(&path, perms).await.unwrap();
///     let mode = filch_io::fs::metadata(&path).await.unwrap().permissions().mode();
///     assert_eq!(mode & 0o777, 0o600);
///     filch_io::fs::remove_file(&path).await.unwrap();
/// });
/// ```
pub async fn set_permissions(path: impl AsRef<Path>, perms: Permissions) -> io::Result<()> {
    let path = path.as_ref().to_owned();
    blocking("set_permissions", move || {
        std::fs::set_permissions(path, perms)
    })
    .await
}

/// Creates a hard link `link` to `original`.
///
/// Cancelling it (dropping the future) does not stop the call: it runs to the
/// end on the blocking pool and its result is dropped.
///
/// ```
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// let a = std::env::temp_dir().join(format!("filch-doc-fs-ln-{}", std::process::id()));
/// let b = a.with_extension("link");
/// rt.block_on(async {
///     filch_io::fs::write(&a, "same").await.unwrap();
///     filch_io::fs::hard_link(&a, &b).await.unwrap();
///     assert_eq!(filch_io::fs::read_to_string(&b).await.unwrap(), "same");
///     filch_io::fs::remove_file(&a).await.unwrap();
///     filch_io::fs::remove_file(&b).await.unwrap();
/// });
/// ```
pub async fn hard_link(original: impl AsRef<Path>, link: impl AsRef<Path>) -> io::Result<()> {
    let (original, link) = (original.as_ref().to_owned(), link.as_ref().to_owned());
    blocking("hard_link", move || std::fs::hard_link(original, link)).await
}

/// The target a symbolic link points to.
///
/// Cancelling it (dropping the future) does not stop the call: it runs to the
/// end on the blocking pool and its result is dropped.
///
/// ```
/// # let (park, driver) = filch_io::driver().unwrap();
/// # let rt = filch_executor::Builder::new().worker_threads(1).driver(park, driver).build().unwrap();
/// let link = std::env::temp_dir().join(format!("filch-doc-fs-rl-{}", std::process::id()));
/// std::os::unix::fs::symlink("/", &link).unwrap();
/// rt.block_on(async {
///     assert_eq!(filch_io::fs::read_link(&link).await.unwrap(), std::path::Path::new("/"));
///     filch_io::fs::remove_file(&link).await.unwrap();
/// });
/// ```
pub async fn read_link(path: impl AsRef<Path>) -> io::Result<PathBuf> {
    let path = path.as_ref().to_owned();
    blocking("read_link", move || std::fs::read_link(path)).await
}

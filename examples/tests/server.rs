//! Runs `examples/server.rs` as a child process and talks HTTP/1.1 to it
//! over plain std sockets: the routes, graceful shutdown on SIGTERM in the
//! middle of a streamed response (the response completes, idle connections
//! close, new ones are refused, the process exits 0), and the connection
//! limit. Every wait is on a socket or on the process, with generous read
//! timeouts only as a guard against hangs.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, ChildStdout, Command, ExitStatus, Stdio};
use std::time::{Duration, Instant};

/// Hang guard for every socket read and for the process exit.
const GUARD: Duration = Duration::from_secs(60);

/// A running server: the process, its address, and the rest of its stdout.
struct Server {
    child: Child,
    addr: SocketAddr,
    stdout: BufReader<ChildStdout>,
}

impl Server {
    fn start(envs: &[(&str, &str)]) -> Server {
        let path = common::example("server");
        let mut child = Command::new(&path)
            .arg("127.0.0.1:0")
            .envs(envs.iter().copied())
            .stdout(Stdio::piped())
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run {}: {e} (is it built?)", path.display()));
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        let first = read_line(&mut stdout);
        let addr = first
            .strip_prefix("listening on http://")
            .and_then(|a| a.trim().parse().ok())
            .unwrap_or_else(|| panic!("the first line names no address: {first:?}"));
        Server {
            child,
            addr,
            stdout,
        }
    }

    fn connect(&self) -> TcpStream {
        let s = TcpStream::connect(self.addr).unwrap();
        s.set_read_timeout(Some(GUARD)).unwrap();
        s
    }

    fn sigterm(&self) {
        let status = Command::new("kill")
            .args(["-TERM", &self.child.id().to_string()])
            .status()
            .unwrap();
        assert!(status.success());
    }

    fn next_line(&mut self) -> String {
        read_line(&mut self.stdout)
    }

    /// Waits for the exit (under the guard); returns it with the rest of
    /// stdout.
    fn wait(mut self) -> (ExitStatus, Vec<String>) {
        let mut rest = String::new();
        self.stdout.read_to_string(&mut rest).unwrap();
        let deadline = Instant::now() + GUARD;
        loop {
            if let Some(status) = self.child.try_wait().unwrap() {
                return (status, rest.lines().map(String::from).collect());
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("the server did not exit; it printed {rest:?}");
            }
            std::thread::sleep(Duration::from_millis(10));
        }
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        // A failed test must not leave the server running.
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The next line, without its line end. Panics at the end of the stream.
fn read_line(r: &mut impl BufRead) -> String {
    let mut line = String::new();
    assert!(
        r.read_line(&mut line).unwrap() > 0,
        "closed before a full line"
    );
    line.trim_end().to_owned()
}

/// Reads one response off `conn`: status code, and body (content-length
/// or chunked, both ways hyper sends them).
fn response(conn: &mut BufReader<TcpStream>) -> (u16, String) {
    let status_line = read_line(conn);
    let code = status_line
        .split(' ')
        .nth(1)
        .and_then(|c| c.parse().ok())
        .unwrap_or_else(|| panic!("not a status line: {status_line:?}"));
    let mut length = None;
    let mut chunked = false;
    loop {
        let header = read_line(conn);
        if header.is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').unwrap();
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = Some(value.trim().parse::<usize>().unwrap()),
            "transfer-encoding" => chunked = value.trim() == "chunked",
            _ => {}
        }
    }
    let mut body = Vec::new();
    if chunked {
        loop {
            let size = usize::from_str_radix(&read_line(conn), 16).unwrap();
            let mut chunk = vec![0; size + 2];
            conn.read_exact(&mut chunk).unwrap();
            assert_eq!(&chunk[size..], b"\r\n");
            if size == 0 {
                break;
            }
            body.extend_from_slice(&chunk[..size]);
        }
    } else {
        body.resize(length.expect("a length or chunks"), 0);
        conn.read_exact(&mut body).unwrap();
    }
    (code, String::from_utf8(body).unwrap())
}

fn send(conn: &mut TcpStream, path: &str, close: bool) {
    let connection = if close { "Connection: close\r\n" } else { "" };
    write!(
        conn,
        "GET {path} HTTP/1.1\r\nHost: test\r\n{connection}\r\n"
    )
    .unwrap();
}

/// One request on its own connection.
fn get(server: &Server, path: &str) -> (u16, String) {
    let mut conn = server.connect();
    send(&mut conn, path, true);
    response(&mut BufReader::new(conn))
}

/// Whether the server closed `conn` (a read sees the end of the stream).
fn closed_by_server(conn: &mut BufReader<TcpStream>) -> bool {
    let mut rest = Vec::new();
    conn.read_to_end(&mut rest).unwrap() == 0
}

#[test]
fn sigterm_mid_stream_finishes_the_response_then_exits_0() {
    let mut server = Server::start(&[]);
    assert_eq!(get(&server, "/"), (200, "hello from filch\n".into()));
    let (code, body) = get(&server, "/nowhere");
    assert_eq!((code, body.as_str()), (404, "no such page: /nowhere\n"));
    assert_eq!(get(&server, "/stream?chunks=lots").0, 400);

    // An idle kept-alive connection: shutdown must not wait for it.
    let mut idle = BufReader::new(server.connect());
    send(idle.get_mut(), "/", false);
    assert_eq!(response(&mut idle).0, 200);

    // A streamed response, interrupted by SIGTERM after its first chunk.
    let mut streaming = BufReader::new(server.connect());
    send(streaming.get_mut(), "/stream?chunks=10&ms=100", false);
    let head = read_line(&mut streaming);
    assert!(head.starts_with("HTTP/1.1 200"), "{head:?}");
    while read_line(&mut streaming) != "chunk 1/10" {}
    server.sigterm();

    // The server says it stopped accepting once its listener is closed.
    // At least the idle and the streaming connection are open, and the
    // stream is in flight (a connection that has just answered may still
    // be closing, a response just sent may still count).
    let stopped = server.next_line();
    let numbers: Vec<usize> = stopped
        .strip_prefix("SIGTERM: stopped accepting; ")
        .unwrap_or_else(|| panic!("{stopped:?}"))
        .split(' ')
        .filter_map(|w| w.parse().ok())
        .collect();
    let [open, in_flight] = numbers[..] else {
        panic!("{stopped:?}")
    };
    assert!(open >= 2 && in_flight >= 1, "{stopped:?}");
    let refused = TcpStream::connect(server.addr).unwrap_err();
    assert_eq!(refused.kind(), std::io::ErrorKind::ConnectionRefused);
    assert!(closed_by_server(&mut idle), "the idle connection was kept");

    // The rest of the stream arrives whole, then the connection closes.
    let mut rest = String::new();
    loop {
        let line = read_line(&mut streaming);
        if line == "0" {
            break;
        }
        rest.push_str(&line);
        rest.push('\n');
    }
    assert_eq!(read_line(&mut streaming), "");
    let lines: Vec<&str> = rest.lines().filter(|l| l.starts_with("chunk")).collect();
    let expected: Vec<String> = (2..=10).map(|i| format!("chunk {i}/10")).collect();
    assert_eq!(lines, expected);
    assert!(closed_by_server(&mut streaming));

    let (status, out) = server.wait();
    assert!(status.success(), "{status}: {out:?}");
    let summary = out.last().expect("a summary line");
    let requests = if in_flight == 1 {
        "request"
    } else {
        "requests"
    };
    assert!(
        summary.starts_with(&format!(
            "shut down on SIGTERM: served 5 connections and 5 requests; \
             {in_flight} {requests} in flight finished in "
        )) && summary.ends_with(" s (deadline 10 s)"),
        "{summary:?}"
    );
}

#[test]
fn the_connection_limit_holds_the_next_connection_back() {
    let server = Server::start(&[("FILCH_SERVER_MAX_CONNECTIONS", "1")]);
    // The one slot: a kept-alive connection, served and left open.
    let mut first = BufReader::new(server.connect());
    send(first.get_mut(), "/stream?chunks=3&ms=10", false);
    let (code, body) = response(&mut first);
    assert_eq!(
        (code, body.as_str()),
        (200, "chunk 1/3\nchunk 2/3\nchunk 3/3\n")
    );
    // The kernel completes this connect, but the server does not take the
    // connection while the first holds the slot...
    let mut second = server.connect();
    send(&mut second, "/stats", true);
    drop(first);
    // ...so when it answers, the first is gone: one connection open. (Had
    // it been served at once, it would count two.)
    let (code, stats) = response(&mut BufReader::new(second));
    assert_eq!(
        (code, stats.as_str()),
        (200, "connections 2 open 1 requests 2 in_flight 1\n")
    );
    server.sigterm();
    let (status, out) = server.wait();
    assert!(status.success(), "{status}: {out:?}");
}

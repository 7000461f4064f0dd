//! The facade's runtime drives sockets and timers together.

use filch::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use filch::net::{TcpListener, TcpStream};
use filch::time::{sleep, timeout};
use std::time::Duration;

#[filch::test]
async fn echo_with_timeouts_on_the_facade_runtime() {
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = filch::spawn(async move {
        let (stream, _) = listener.accept().await.unwrap();
        let mut reader = BufReader::new(stream);
        let mut line = String::new();
        while reader.read_line(&mut line).await.unwrap() > 0 {
            reader
                .get_mut()
                .write_all(line.to_uppercase().as_bytes())
                .await
                .unwrap();
            line.clear();
        }
    });
    let stream = TcpStream::connect(addr).await.unwrap();
    let mut client = BufReader::new(stream);
    for word in ["hello", "world"] {
        client
            .get_mut()
            .write_all(format!("{word}\n").as_bytes())
            .await
            .unwrap();
        let mut reply = String::new();
        timeout(Duration::from_secs(20), client.read_line(&mut reply))
            .await
            .expect("echo timed out")
            .unwrap();
        assert_eq!(reply, format!("{}\n", word.to_uppercase()));
    }
    // A read with nothing to read times out, and the stream still works.
    let mut reply = String::new();
    assert!(
        timeout(Duration::from_millis(20), client.read_line(&mut reply))
            .await
            .is_err()
    );
    drop(client);
    timeout(Duration::from_secs(20), server)
        .await
        .unwrap()
        .unwrap();
}

#[filch::test(start_paused = true)]
async fn virtual_time_with_a_reactor() {
    // The worker holding the driver blocks in the reactor; a paused clock
    // still jumps when every task waits.
    let t = filch::time::Instant::now();
    sleep(Duration::from_secs(600)).await;
    assert_eq!(t.elapsed(), Duration::from_secs(600));
}

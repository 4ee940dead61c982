//! Servers that hold, trickle or flood (issue 14, item 6): every request ends by the
//! target's `request_limits` or the enclosing wait's deadline, whichever comes first, and
//! an answer past `max_body` is refused without being read. Each server here misbehaves
//! forever, so the limit under test is the only way the request can end.

use std::future::Future;
use std::time::{Duration, SystemTime};

use reqwest::Method;
use tokio::io::{AsyncReadExt as _, AsyncWriteExt as _};
use tokio::net::TcpStream;

use super::*;
use crate::clock::Clock;
use crate::config::RequestLimits;

/// A PowerStore client of `url` with `limits`; the client tests use it too.
pub(super) fn client(url: &str, limits: RequestLimits) -> HttpClient {
    HttpClient::new(&Target {
        request_limits: limits,
        ..Target::for_tests(url)
    })
    .unwrap()
}

/// A loopback server that reads each request's head and hands the socket to `answer`.
async fn server<F, Fut>(answer: F) -> String
where
    F: Fn(TcpStream) -> Fut + Send + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut head = Vec::new();
            let mut buffer = [0_u8; 4096];
            while !head.windows(4).any(|w| w == b"\r\n\r\n") {
                match socket.read(&mut buffer).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => head.extend_from_slice(&buffer[..n]),
                }
            }
            tokio::spawn(answer(socket));
        }
    });
    url
}

/// Never answers, and keeps the connection open.
async fn hold(socket: TcpStream) {
    std::future::pending::<()>().await;
    drop(socket);
}

/// Announces a body and sends one byte of it every 20 ms, forever.
async fn trickle(mut socket: TcpStream) {
    let head =
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000000\r\n\r\n";
    if socket.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    while socket.write_all(b" ").await.is_ok() {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Sends the head of an answer and then nothing.
async fn go_quiet(mut socket: TcpStream) {
    let head = "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 10\r\n\r\n{";
    let _ = socket.write_all(head.as_bytes()).await;
    std::future::pending::<()>().await;
}

/// Announces 700 MB.
async fn announce_huge(mut socket: TcpStream) {
    let head =
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 734003200\r\n\r\n";
    let _ = socket.write_all(head.as_bytes()).await;
    std::future::pending::<()>().await;
}

/// Streams chunks of 1 KiB without announcing a length, forever.
async fn flood(mut socket: TcpStream) {
    let head =
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ntransfer-encoding: chunked\r\n\r\n";
    if socket.write_all(head.as_bytes()).await.is_err() {
        return;
    }
    let chunk = format!("400\r\n{}\r\n", " ".repeat(1024));
    while socket.write_all(chunk.as_bytes()).await.is_ok() {}
}

fn no_vendor_body(_: &str) -> Option<VendorMessage> {
    None
}

fn limits(timeout_ms: u64, read_idle_ms: u64, max_body: u64) -> RequestLimits {
    RequestLimits {
        timeout: Duration::from_millis(timeout_ms),
        read_idle: Duration::from_millis(read_idle_ms),
        max_body,
        ..RequestLimits::default()
    }
}

/// What one request ends with, sent below the gate: these limits hold for every request.
async fn call(client: &HttpClient, method: Method) -> String {
    // Only a change's answer is its outcome; anything but a GET here stands for one.
    let change = (method != Method::GET).then(|| super::tests::cutover(client));
    let request = client.request(method, client.url(&["api", "x"]));
    let request = client.build("import_sessions", request).unwrap();
    let err = client
        .transfer("import_sessions", request, no_vendor_body, change.as_ref())
        .await
        .unwrap_err();
    let url = err.url.clone().unwrap_or_default();
    err.to_string().replace(&url, "URL")
}

/// Checks what a read (a GET) and a change (a POST) on `client` end with.
async fn read_and_change_end_with(client: &HttpClient, read: &str, change: &str) {
    assert_eq!(call(client, Method::GET).await, read);
    assert_eq!(call(client, Method::POST).await, change);
}

#[tokio::test]
async fn a_held_or_trickled_answer_ends_at_the_request_timeout() {
    let short = limits(300, 60_000, 1 << 20);
    // Held, no status came: the advice is the change's verification. Trickled, the
    // status came: the change was answered, and the advice is to read it.
    let advice = [
        "read import session `lun03` before trying again: it took effect if its state is `Cutover_In_Progress` or `Import_Completed`",
        "read the object's state before trying again",
    ];
    for (answer, advice) in [server(hold).await, server(trickle).await]
        .into_iter()
        .zip(advice)
    {
        let client = client(&answer, short);
        let read = "`array1` import_sessions: no whole answer within 300ms (`request_limits.timeout` of target `array1`; raise it if the server is slow but alive) (kind: http, retryable)";
        let change = format!(
            "`array1` import_sessions: no whole answer within 300ms (`request_limits.timeout` of target `array1`; raise it if the server is slow but alive); the request may have been applied: {advice} (kind: unknown_outcome)"
        );
        read_and_change_end_with(&client, read, &change).await;
    }
}

#[tokio::test]
async fn an_answer_that_goes_quiet_ends_at_the_read_idle_timeout() {
    let client = client(&server(go_quiet).await, limits(60_000, 200, 1 << 20));
    let read = "`array1` import_sessions: reading the answer failed: error decoding response body: request or response body error: operation timed out (kind: http, retryable)";
    let change = "`array1` import_sessions: the request was sent but its answer was lost (error decoding response body: request or response body error: operation timed out); read the object's state before trying again (kind: unknown_outcome)";
    read_and_change_end_with(&client, read, change).await;
}

#[tokio::test]
async fn an_answer_past_max_body_is_refused_naming_the_limit() {
    for answer in [server(announce_huge).await, server(flood).await] {
        let client = client(&answer, limits(60_000, 60_000, 64 * 1024));
        let read = "`array1` import_sessions: the answer is larger than 65536 bytes (`request_limits.max_body` of target `array1`; raise it if such an answer is expected) (kind: http)";
        let change = "`array1` import_sessions: the answer is larger than 65536 bytes (`request_limits.max_body` of target `array1`; raise it if such an answer is expected); the request was applied but its answer was not read: read the object's state before trying again (kind: unknown_outcome)";
        read_and_change_end_with(&client, read, change).await;
    }
}

#[tokio::test]
async fn a_request_never_outlasts_the_wait_it_runs_in() {
    // The request's own timeout is far away; the wait's deadline, 3 s of clock time
    // ahead, is reached at once on a manual clock, which moves on instead of sleeping.
    let client = client(&server(hold).await, RequestLimits::default());
    let clock = Clock::manual(SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000));
    let deadline = clock.now() + Duration::from_secs(3);
    let get =
        super::super::retry::within_deadline(Some(deadline), &clock, call(&client, Method::GET));
    assert_eq!(
        get.await,
        "`array1` import_sessions: the wait timed out before the answer came (kind: timeout)"
    );
    let post =
        super::super::retry::within_deadline(Some(deadline), &clock, call(&client, Method::POST));
    assert_eq!(
        post.await,
        "`array1` import_sessions: the wait timed out before the answer came; read import session `lun03` before trying again: it took effect if its state is `Cutover_In_Progress` or `Import_Completed` (kind: unknown_outcome)"
    );
}

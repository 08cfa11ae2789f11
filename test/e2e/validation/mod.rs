//! Trying to break every route through HTTP: missing, unknown and mistyped fields, oversize and
//! dirty text, broken JSON and encodings, wrong media types, oversize and lying bodies, bad path
//! numbers, unknown boards and routes, wrong methods, bad query strings and oversize request
//! heads. Every refusal must be a clean JSON error, and every refused write must change nothing:
//! the next accepted post takes the very next number.

pub use std::net::SocketAddr;
pub use std::os::fd::AsRawFd;
pub use std::time::Duration;

pub use serde_json::{json, Value};
pub use tokio::net::TcpStream;

pub use crate::harness::*;

pub const THREADS: &str = "/api/boards/b/threads";

pub fn replies(board: &str, thread: u64) -> String {
    format!("/api/boards/{board}/threads/{thread}/posts")
}

/// Asserts the one error shape: `{"error":{"code","message","field"}}`, served as JSON.
#[track_caller]
pub fn assert_error_shape(r: &Reply) {
    let content_type = r.header("content-type");
    assert!(
        content_type
            .to_ascii_lowercase()
            .starts_with("application/json"),
        "error served as `{content_type}`: {}",
        r.json
    );
    let top = r
        .json
        .as_object()
        .unwrap_or_else(|| panic!("error body is not an object: {}", r.json));
    assert_eq!(top.keys().collect::<Vec<_>>(), ["error"], "{}", r.json);
    let err = r.json["error"]
        .as_object()
        .unwrap_or_else(|| panic!("`error` is not an object: {}", r.json));
    let mut keys: Vec<&str> = err.keys().map(String::as_str).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["code", "field", "message"], "{}", r.json);
    assert!(
        err["code"].as_str().is_some_and(|c| !c.is_empty()),
        "{}",
        r.json
    );
    assert!(
        err["message"].as_str().is_some_and(|m| !m.is_empty()),
        "{}",
        r.json
    );
    assert!(
        err["field"].is_string() || err["field"].is_null(),
        "{}",
        r.json
    );
}

/// Asserts an error status, code and field (`None`: the field is `null`), and the error shape.
#[track_caller]
pub fn refused(r: &Reply, status: u16, code: &str, field: Option<&str>) {
    r.assert_error(status, code);
    assert_error_shape(r);
    assert_eq!(r.json["error"]["field"].as_str(), field, "{}", r.json);
    assert_eq!(r.field(), field.unwrap_or(""));
}

/// The numbers of the posts of a thread, in order.
pub async fn post_numbers(s: &Server, board: &str, thread: u64) -> Vec<u64> {
    let r = s
        .get(&format!("/api/boards/{board}/threads/{thread}"))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    r.json["thread"]["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["no"].as_u64().unwrap())
        .collect()
}

/// The numbers of the live threads of a board, from its catalog.
pub async fn thread_numbers(s: &Server, board: &str) -> Vec<u64> {
    let r = s.get(&format!("/api/boards/{board}/catalog")).await;
    assert_eq!(r.status, 200, "{}", r.json);
    r.json["threads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["no"].as_u64().unwrap())
        .collect()
}

/// Checks that the board still holds exactly `threads` and the thread exactly `posts`, and that
/// the next reply takes the next number: nothing refused used up a number.
pub async fn assert_unchanged(
    s: &Server,
    board: &str,
    threads: &[u64],
    thread: u64,
    posts: &[u64],
) {
    assert_eq!(
        thread_numbers(s, board).await,
        threads,
        "live threads of /{board}/"
    );
    assert_eq!(
        post_numbers(s, board, thread).await,
        posts,
        "posts of thread {thread}"
    );
    let next = threads.iter().chain(posts).max().unwrap() + 1;
    let no = s
        .reply(board, thread, json!({ "body": "the next post" }))
        .await;
    assert_eq!(no, next, "a refused write used up a post number");
}

pub async fn assert_alive(s: &Server) {
    let r = s.get("/healthz").await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["ok"], true, "{}", r.json);
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP/1.1 over TCP, for what a well-behaved client library will not send.

/// A response read straight off the socket; `status` is `None` when the server closed the
/// connection without answering.
#[derive(Debug)]
pub struct RawResponse {
    pub status: Option<u16>,
    pub head: String,
    pub body: Vec<u8>,
}

impl RawResponse {
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    pub fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }
}

pub fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

pub fn content_length(head: &str) -> usize {
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Writes all of `bytes`; stops quietly (false) when the server closes the connection first.
pub async fn write_all(stream: &TcpStream, mut bytes: &[u8]) -> bool {
    while !bytes.is_empty() {
        if stream.writable().await.is_err() {
            return false;
        }
        match stream.try_write(bytes) {
            Ok(n) => bytes = &bytes[n..],
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => continue,
            Err(_) => return false,
        }
    }
    true
}

/// Reads one final response (skipping 1xx), or whatever arrives before the server closes.
pub async fn read_response(stream: &TcpStream) -> RawResponse {
    let mut buf = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    let mut closed = false;
    loop {
        if let Some(end) = find(&buf, b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).into_owned();
            let status = head
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse::<u16>().ok());
            if status.is_some_and(|s| (100..200).contains(&s)) {
                buf.drain(..end + 4);
                continue;
            }
            let len = content_length(&head);
            if buf.len() >= end + 4 + len || closed {
                let body = buf[end + 4..].iter().take(len).copied().collect();
                return RawResponse { status, head, body };
            }
        }
        if closed {
            return RawResponse {
                status: None,
                head: String::from_utf8_lossy(&buf).into_owned(),
                body: Vec::new(),
            };
        }
        if stream.readable().await.is_err() {
            closed = true;
            continue;
        }
        match stream.try_read(&mut chunk) {
            Ok(0) => closed = true,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
            Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
            Err(_) => closed = true,
        }
    }
}

/// Sends `request` while already reading the answer (the server may answer before it has read
/// everything), and returns the answer. Panics if the server neither answers nor closes in 10 s.
pub async fn exchange(addr: SocketAddr, request: &[u8]) -> RawResponse {
    let stream = TcpStream::connect(addr).await.expect("connecting");
    let work = async {
        let write = write_all(&stream, request);
        let read = read_response(&stream);
        tokio::pin!(write, read);
        let mut writing = true;
        loop {
            tokio::select! {
                _ = &mut write, if writing => writing = false,
                response = &mut read => return response,
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(10), work)
        .await
        .expect("the server neither answered nor closed the connection within 10 s")
}

/// A POST with a chunked body cut into chunks of `chunk` bytes.
pub fn chunked_post(path: &str, body: &[u8], chunk: usize) -> Vec<u8> {
    let mut out = format!(
        "POST {path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\n\
         Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
    )
    .into_bytes();
    for part in body.chunks(chunk) {
        out.extend_from_slice(format!("{:x}\r\n", part.len()).as_bytes());
        out.extend_from_slice(part);
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"0\r\n\r\n");
    out
}

/// `{"body":"<body>"}` padded with trailing spaces (valid JSON) to exactly `len` bytes.
pub fn padded_post(body: &str, len: usize) -> Vec<u8> {
    let mut out = serde_json::to_vec(&json!({ "body": body })).unwrap();
    assert!(out.len() <= len);
    out.resize(len, b' ');
    out
}

/// The request-body limit of the server (`MAX_JSON_BYTES`).
pub const LIMIT: usize = 128 * 1024;

mod bodies;
mod fields;
mod paths;
mod shape;
mod wire;

//! Trying to break every route through HTTP: missing, unknown and mistyped fields, oversize and
//! dirty text, broken JSON and encodings, wrong media types, oversize and lying bodies, bad path
//! numbers, unknown boards and routes, wrong methods, bad query strings and oversize request
//! heads. Every refusal must be a clean JSON error, and every refused write must change nothing:
//! the next accepted post takes the very next number.

use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::time::Duration;

use serde_json::{json, Value};
use tokio::net::TcpStream;

use crate::harness::*;

const THREADS: &str = "/api/boards/b/threads";

fn replies(board: &str, thread: u64) -> String {
    format!("/api/boards/{board}/threads/{thread}/posts")
}

/// Asserts the one error shape: `{"error":{"code","message","field"}}`, served as JSON.
#[track_caller]
fn assert_error_shape(r: &Reply) {
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
fn refused(r: &Reply, status: u16, code: &str, field: Option<&str>) {
    r.assert_error(status, code);
    assert_error_shape(r);
    assert_eq!(r.json["error"]["field"].as_str(), field, "{}", r.json);
    assert_eq!(r.field(), field.unwrap_or(""));
}

/// The numbers of the posts of a thread, in order.
async fn post_numbers(s: &Server, board: &str, thread: u64) -> Vec<u64> {
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
async fn thread_numbers(s: &Server, board: &str) -> Vec<u64> {
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
async fn assert_unchanged(s: &Server, board: &str, threads: &[u64], thread: u64, posts: &[u64]) {
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

async fn assert_alive(s: &Server) {
    let r = s.get("/healthz").await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["ok"], true, "{}", r.json);
}

// ---------------------------------------------------------------------------------------------
// Raw HTTP/1.1 over TCP, for what a well-behaved client library will not send.

/// A response read straight off the socket; `status` is `None` when the server closed the
/// connection without answering.
#[derive(Debug)]
struct RawResponse {
    status: Option<u16>,
    head: String,
    body: Vec<u8>,
}

impl RawResponse {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!(
                "body is not JSON ({e}): {}",
                String::from_utf8_lossy(&self.body)
            )
        })
    }

    fn code(&self) -> String {
        self.json()["error"]["code"]
            .as_str()
            .unwrap_or("")
            .to_owned()
    }
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}

fn content_length(head: &str) -> usize {
    head.lines()
        .filter_map(|l| l.split_once(':'))
        .find(|(name, _)| name.trim().eq_ignore_ascii_case("content-length"))
        .and_then(|(_, v)| v.trim().parse().ok())
        .unwrap_or(0)
}

/// Writes all of `bytes`; stops quietly (false) when the server closes the connection first.
async fn write_all(stream: &TcpStream, mut bytes: &[u8]) -> bool {
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
async fn read_response(stream: &TcpStream) -> RawResponse {
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
async fn exchange(addr: SocketAddr, request: &[u8]) -> RawResponse {
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
fn chunked_post(path: &str, body: &[u8], chunk: usize) -> Vec<u8> {
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
fn padded_post(body: &str, len: usize) -> Vec<u8> {
    let mut out = serde_json::to_vec(&json!({ "body": body })).unwrap();
    assert!(out.len() <= len);
    out.resize(len, b' ');
    out
}

/// The request-body limit of the server (`MAX_JSON_BYTES`).
const LIMIT: usize = 128 * 1024;

// ---------------------------------------------------------------------------------------------
// Fields: missing, blank, unknown, mistyped, null.

#[tokio::test]
async fn a_post_without_a_body_is_refused_naming_the_field() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    assert_eq!(t, 1);
    let missing = [
        json!({}),
        json!({ "name": "anon" }),
        json!({ "body": null }),
        json!({ "sage": true, "name": null, "body": null }),
    ];
    for payload in &missing {
        refused(
            &s.post(THREADS, payload.clone()).await,
            400,
            "missing_field",
            Some("body"),
        );
        refused(
            &s.post(&replies("b", t), payload.clone()).await,
            400,
            "missing_field",
            Some("body"),
        );
    }
    refused(
        &s.post(THREADS, json!({ "subject": "only a subject" }))
            .await,
        400,
        "missing_field",
        Some("body"),
    );
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;
}

#[tokio::test]
async fn a_blank_body_is_refused_as_empty() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    for blank in [
        "",
        " ",
        "   ",
        "\n",
        "\r\n\t \r\n",
        "\t\t",
        "\u{a0}\u{3000}\u{2003}",
    ] {
        let r = s
            .post(THREADS, json!({ "body": blank, "subject": "s" }))
            .await;
        refused(&r, 400, "empty", Some("body"));
        let r = s
            .post(&replies("b", t), json!({ "body": blank, "name": "n" }))
            .await;
        refused(&r, 400, "empty", Some("body"));
    }
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;
}

#[tokio::test]
async fn unknown_fields_are_refused_naming_them() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let cases = [
        (json!({ "body": "hi", "email": "a@example.com" }), "email"),
        (json!({ "body": "hi", "Body": "hi" }), "Body"),
        (json!({ "body": "hi", "no": 5 }), "no"),
        (json!({ "body": "hi", "thread": 1 }), "thread"),
        (json!({ "body": "hi", "html": "<b>x</b>" }), "html"),
        (json!({ "body": "hi", "created_at": 0 }), "created_at"),
        (json!({ "body": "hi", "sticky": true }), "sticky"),
        (json!({ "body": "hi", "": "" }), ""),
        (json!({ "email": "sage" }), "email"),
    ];
    for (payload, field) in &cases {
        refused(
            &s.post(THREADS, payload.clone()).await,
            400,
            "unknown_field",
            Some(field),
        );
        refused(
            &s.post(&replies("b", t), payload.clone()).await,
            400,
            "unknown_field",
            Some(field),
        );
    }
    // A reply has no subject: only an OP does.
    let r = s
        .post(&replies("b", t), json!({ "body": "hi", "subject": "nope" }))
        .await;
    refused(&r, 400, "unknown_field", Some("subject"));
    let r = s
        .post(&replies("b", t), json!({ "body": "hi", "subject": null }))
        .await;
    refused(&r, 400, "unknown_field", Some("subject"));
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;
}

#[tokio::test]
async fn mistyped_fields_are_refused_naming_them() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let both = [
        (json!({ "body": 5 }), "body"),
        (json!({ "body": 1.5 }), "body"),
        (json!({ "body": ["hi"] }), "body"),
        (json!({ "body": { "text": "hi" } }), "body"),
        (json!({ "body": true }), "body"),
        (json!({ "body": "hi", "sage": "yes" }), "sage"),
        (json!({ "body": "hi", "sage": "true" }), "sage"),
        (json!({ "body": "hi", "sage": 1 }), "sage"),
        (json!({ "body": "hi", "sage": 0 }), "sage"),
        (json!({ "body": "hi", "sage": [] }), "sage"),
        (json!({ "body": "hi", "name": 5 }), "name"),
        (json!({ "body": "hi", "name": false }), "name"),
        (json!({ "body": "hi", "name": ["a"] }), "name"),
        (json!({ "body": "hi", "name": {} }), "name"),
    ];
    for (payload, field) in &both {
        refused(
            &s.post(THREADS, payload.clone()).await,
            400,
            "invalid_type",
            Some(field),
        );
        refused(
            &s.post(&replies("b", t), payload.clone()).await,
            400,
            "invalid_type",
            Some(field),
        );
    }
    for subject in [json!(5), json!(true), json!(["s"]), json!({ "s": 1 })] {
        let r = s
            .post(THREADS, json!({ "body": "hi", "subject": subject }))
            .await;
        refused(&r, 400, "invalid_type", Some("subject"));
    }
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;
}

#[tokio::test]
async fn null_optional_fields_count_as_absent() {
    let s = Server::start().await;
    let r = s
        .post(
            THREADS,
            json!({ "body": "op", "subject": null, "name": null, "sage": null }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["no"], 1);
    let r = s
        .post(
            &replies("b", 1),
            json!({ "body": "re", "name": null, "sage": null }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["no"], 2);
    let thread = s.get("/api/boards/b/threads/1").await;
    let posts = thread.json["thread"]["posts"].as_array().unwrap();
    assert_eq!(posts.len(), 2);
    for post in posts {
        assert_eq!(post["name"], "Anonymous", "{post}");
        assert_eq!(post["subject"], Value::Null, "{post}");
        assert_eq!(post["sage"], false, "{post}");
    }
    assert_eq!(posts[0]["body"], "op");
    assert_eq!(posts[1]["body"], "re");
}

// ---------------------------------------------------------------------------------------------
// Text: lengths in characters, control characters, encodings.

#[tokio::test]
async fn length_limits_count_characters_not_bytes() {
    let s = Server::small().await;
    let t = s.thread("t", "first").await;
    let path = replies("t", t);
    let mut expected = vec![t];

    // Exactly at each limit is accepted; one more character is refused.
    for body in [
        "a".repeat(50),
        "é".repeat(50),
        "😀".repeat(50),
        "字".repeat(50),
    ] {
        let r = s.post(&path, json!({ "body": body })).await;
        assert_eq!(
            r.status,
            201,
            "{} chars of {:?}: {}",
            body.chars().count(),
            &body[..4],
            r.json
        );
        expected.push(r.json["no"].as_u64().unwrap());
        let stored = s
            .get(&format!("/api/boards/t/posts/{}", expected.last().unwrap()))
            .await;
        assert_eq!(
            stored.json["post"]["body"],
            body.as_str(),
            "the body is stored as written"
        );
    }
    for body in [
        "a".repeat(51),
        "é".repeat(51),
        "😀".repeat(51),
        format!("{}\n", "a".repeat(50)),
    ] {
        refused(
            &s.post(&path, json!({ "body": body })).await,
            400,
            "too_long",
            Some("body"),
        );
        let r = s
            .post("/api/boards/t/threads", json!({ "body": body }))
            .await;
        refused(&r, 400, "too_long", Some("body"));
    }
    // A long run of spaces is too long before it is empty.
    refused(
        &s.post(&path, json!({ "body": " ".repeat(51) })).await,
        400,
        "too_long",
        Some("body"),
    );

    let r = s
        .post(&path, json!({ "body": "x", "name": "n".repeat(8) }))
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    expected.push(r.json["no"].as_u64().unwrap());
    let r = s
        .post(&path, json!({ "body": "x", "name": "ñ".repeat(8) }))
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    expected.push(r.json["no"].as_u64().unwrap());
    for name in ["n".repeat(9), "ñ".repeat(9), format!(" {}", "n".repeat(8))] {
        refused(
            &s.post(&path, json!({ "body": "x", "name": name })).await,
            400,
            "too_long",
            Some("name"),
        );
        let r = s
            .post(
                "/api/boards/t/threads",
                json!({ "body": "x", "name": name }),
            )
            .await;
        refused(&r, 400, "too_long", Some("name"));
    }

    let r = s
        .post(
            "/api/boards/t/threads",
            json!({ "body": "x", "subject": "s".repeat(10) }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let second = r.json["no"].as_u64().unwrap();
    for subject in ["s".repeat(11), "ü".repeat(11)] {
        let r = s
            .post(
                "/api/boards/t/threads",
                json!({ "body": "x", "subject": subject }),
            )
            .await;
        refused(&r, 400, "too_long", Some("subject"));
    }

    assert_eq!(post_numbers(&s, "t", t).await, expected);
    assert_eq!(second, expected.last().unwrap() + 1);
    let mut threads = thread_numbers(&s, "t").await;
    threads.sort_unstable();
    assert_eq!(threads, [t, second]);
    let no = s.reply("t", t, json!({ "body": "next" })).await;
    assert_eq!(no, second + 1, "a refused write used up a post number");
}

#[tokio::test]
async fn the_default_board_limit_is_4000_characters_even_when_escaped() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    // 4000 characters, each written as a `\u00e9` escape: 24 KB of JSON for 4000 characters.
    let escaped = format!("{{\"body\":\"{}\"}}", "\\u00e9".repeat(4000));
    let r = s
        .post_raw(&replies("b", t), Some("application/json"), escaped)
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["no"], 2);
    let post = s.get("/api/boards/b/posts/2").await;
    assert_eq!(post.json["post"]["body"], "é".repeat(4000));

    let escaped = format!("{{\"body\":\"{}\"}}", "\\u00e9".repeat(4001));
    let r = s
        .post_raw(&replies("b", t), Some("application/json"), escaped)
        .await;
    refused(&r, 400, "too_long", Some("body"));
    refused(
        &s.post(THREADS, json!({ "body": "a".repeat(4001) })).await,
        400,
        "too_long",
        Some("body"),
    );
    refused(
        &s.post(THREADS, json!({ "body": "x", "subject": "a".repeat(101) }))
            .await,
        400,
        "too_long",
        Some("subject"),
    );
    refused(
        &s.post(THREADS, json!({ "body": "x", "name": "a".repeat(51) }))
            .await,
        400,
        "too_long",
        Some("name"),
    );
    assert_unchanged(&s, "b", &[1], 1, &[1, 2]).await;
}

#[tokio::test]
async fn control_characters_are_refused_naming_the_field() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let dirty = [
        "a\u{0}b",
        "\u{1b}[31mred",
        "a\u{7f}b",
        "a\u{85}b",
        "a\u{9f}b",
        "a\u{8}b",
        "a\u{7}b",
        "a\u{b}b",
        "a\u{c}b",
        "\u{1}",
    ];
    for body in dirty {
        let r = s.post(THREADS, json!({ "body": body })).await;
        refused(&r, 400, "control_characters", Some("body"));
        let r = s.post(&replies("b", t), json!({ "body": body })).await;
        refused(&r, 400, "control_characters", Some("body"));
    }
    for one_line in ["a\nb", "a\r\nb", "a\rb", "a\tb", "\n", "a\u{0}", "a\u{85}"] {
        let r = s
            .post(THREADS, json!({ "body": "x", "name": one_line }))
            .await;
        refused(&r, 400, "control_characters", Some("name"));
        let r = s
            .post(&replies("b", t), json!({ "body": "x", "name": one_line }))
            .await;
        refused(&r, 400, "control_characters", Some("name"));
        let r = s
            .post(THREADS, json!({ "body": "x", "subject": one_line }))
            .await;
        refused(&r, 400, "control_characters", Some("subject"));
    }
    // The same control character written as a JSON escape is the same character.
    let r = s
        .post_raw(THREADS, Some("application/json"), r#"{"body":"a\u0000b"}"#)
        .await;
    refused(&r, 400, "control_characters", Some("body"));
    let r = s
        .post_raw(THREADS, Some("application/json"), r#"{"body":"a\u001Bb"}"#)
        .await;
    refused(&r, 400, "control_characters", Some("body"));
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;

    // Line breaks and tabs belong in a body, and are kept exactly.
    let body = "line one\nline two\r\n\tindented\rend";
    let no = s.reply("b", t, json!({ "body": body })).await;
    assert_eq!(no, 3);
    let post = s.get("/api/boards/b/posts/3").await;
    assert_eq!(post.json["post"]["body"], body);
}

#[tokio::test]
async fn invalid_utf8_is_refused() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let bodies: [&[u8]; 6] = [
        b"{\"body\":\"\xff\"}",
        b"{\"body\":\"a\xfe\xfeb\"}",
        b"{\"body\":\"\xc0\xaf\"}",             // overlong encoding of '/'
        b"{\"body\":\"\xed\xa0\x80\"}",         // a surrogate, encoded
        b"{\"body\":\"\xe2\x82\"}",             // a truncated sequence
        b"{\"body\":\"ok\",\"name\":\"\x80\"}", // a lone continuation byte
    ];
    for bytes in bodies {
        let r = s
            .post_raw(THREADS, Some("application/json"), bytes.to_vec())
            .await;
        refused(&r, 400, "invalid_utf8", None);
        let r = s
            .post_raw(&replies("b", t), Some("application/json"), bytes.to_vec())
            .await;
        refused(&r, 400, "invalid_utf8", None);
    }
    // Latin-1 declared as such is still not UTF-8.
    let r = s
        .post_raw(
            THREADS,
            Some("application/json; charset=iso-8859-1"),
            b"{\"body\":\"caf\xe9\"}".to_vec(),
        )
        .await;
    refused(&r, 400, "invalid_utf8", None);
    // A lone surrogate written as a JSON escape cannot become a string either.
    let r = s
        .post_raw(THREADS, Some("application/json"), r#"{"body":"\ud800"}"#)
        .await;
    assert_eq!(r.status, 400, "{}", r.json);
    assert_error_shape(&r);
    assert!(
        ["invalid_json", "invalid_utf8"].contains(&r.code()),
        "{}",
        r.json
    );
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;
}

// ---------------------------------------------------------------------------------------------
// JSON syntax.

#[tokio::test]
async fn malformed_json_is_refused() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let broken = [
        "",
        " ",
        "{",
        r#"{"body":"x""#,
        r#"{"body":"x"#,
        r#"{"body":"x",}"#,
        r#"{"body":"x",,"name":"n"}"#,
        r#"{'body':'x'}"#,
        r#"{body:"x"}"#,
        r#"{"body":"x"} {}"#,
        r#"{"body":"x"}x"#,
        r#"{"body":"x" /* comment */}"#,
        r#"{"body":"x","sage":NaN}"#,
        r#"{"body":"x","sage":1e400}"#,
        r#"{"body":"x","sage":tru}"#,
        r#"{"body":"a\qb"}"#,
        "{\"body\":\"raw\nnewline\"}",
        "\u{feff}{\"body\":\"x\"}",
        "body=x",
    ];
    for text in broken {
        let r = s.post_raw(THREADS, Some("application/json"), text).await;
        refused(&r, 400, "invalid_json", None);
        let r = s
            .post_raw(&replies("b", t), Some("application/json"), text)
            .await;
        refused(&r, 400, "invalid_json", None);
    }
    // Valid JSON that is not an object.
    for text in ["[]", r#"[{"body":"x"}]"#, r#""body""#, "null", "42", "true"] {
        let r = s.post_raw(THREADS, Some("application/json"), text).await;
        refused(&r, 400, "invalid_type", None);
        let r = s
            .post_raw(&replies("b", t), Some("application/json"), text)
            .await;
        refused(&r, 400, "invalid_type", None);
    }
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;
}

#[tokio::test]
async fn deeply_nested_json_is_a_400_not_a_crash() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let depth = 10_000;
    let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let objects = format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
    let in_a_field = format!(r#"{{"body":"x","sage":{}}}"#, arrays);
    let unclosed = "[".repeat(100_000);
    for text in [&arrays, &objects, &in_a_field, &unclosed] {
        let r = s
            .post_raw(THREADS, Some("application/json"), text.clone())
            .await;
        refused(&r, 400, "invalid_json", None);
        let r = s
            .post_raw(&replies("b", t), Some("application/json"), text.clone())
            .await;
        refused(&r, 400, "invalid_json", None);
        assert_alive(&s).await;
    }
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;
}

// ---------------------------------------------------------------------------------------------
// Media types.

#[tokio::test]
async fn only_json_is_accepted() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let json_text = r#"{"body":"hello"}"#;
    let wrong: [(Option<&str>, &str); 10] = [
        (None, json_text),
        (Some(""), json_text),
        (Some("text/plain"), json_text),
        (Some("text/json"), json_text),
        (Some("application/x-www-form-urlencoded"), "body=hello"),
        (
            Some("multipart/form-data; boundary=XYZ"),
            "--XYZ\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nhello\r\n--XYZ--\r\n",
        ),
        (Some("application/jsonp"), json_text),
        (Some("application/json-patch+json"), json_text),
        (Some("application/xml"), "<body>hello</body>"),
        (Some("json"), json_text),
    ];
    for (content_type, body) in wrong {
        let r = s.post_raw(THREADS, content_type, body).await;
        refused(&r, 415, "unsupported_media_type", None);
        let r = s.post_raw(&replies("b", t), content_type, body).await;
        refused(&r, 415, "unsupported_media_type", None);
    }
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;

    // Parameters, case and surrounding space do not matter.
    let mut next = 3;
    for content_type in [
        "application/json; charset=utf-8",
        "Application/JSON",
        "APPLICATION/JSON;charset=UTF-8",
        " application/json ",
    ] {
        let r = s
            .post_raw(&replies("b", t), Some(content_type), json_text)
            .await;
        assert_eq!(r.status, 201, "{content_type}: {}", r.json);
        assert_eq!(r.json["no"], next, "{content_type}");
        next += 1;
    }
    let r = s
        .post_raw(THREADS, Some("application/json; charset=utf-8"), json_text)
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["no"], next);
}

// ---------------------------------------------------------------------------------------------
// Oversize and lying bodies.

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_content_length() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    // Exactly at the limit is read (and the trailing spaces are valid JSON).
    let r = s
        .post_raw(
            &replies("b", t),
            Some("application/json"),
            padded_post("at the limit", LIMIT),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["no"], 2);
    // One byte more is refused, whatever it holds.
    let r = s
        .post_raw(
            &replies("b", t),
            Some("application/json"),
            padded_post("over", LIMIT + 1),
        )
        .await;
    refused(&r, 413, "payload_too_large", None);
    let r = s
        .post_raw(
            THREADS,
            Some("application/json"),
            padded_post("over", LIMIT + 1),
        )
        .await;
    refused(&r, 413, "payload_too_large", None);
    let r = s.post(THREADS, json!({ "body": "a".repeat(LIMIT) })).await;
    refused(&r, 413, "payload_too_large", None);
    assert_alive(&s).await;
    assert_unchanged(&s, "b", &[1], 1, &[1, 2]).await;
}

#[tokio::test]
async fn a_declared_huge_body_is_refused_before_it_is_sent() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    // The client announces 1 GB and waits for 100 Continue: the server answers 413 at once.
    let request = format!(
        "POST /api/boards/b/threads/{t}/posts HTTP/1.1\r\nHost: localhost\r\n\
         Content-Type: application/json\r\nContent-Length: 1000000000\r\n\
         Expect: 100-continue\r\nConnection: close\r\n\r\n"
    );
    let r = exchange(s.addr, request.as_bytes()).await;
    assert_eq!(r.status, Some(413), "{}", r.head);
    assert_eq!(r.code(), "payload_too_large");
    // A Content-Length that is not a number is refused by the HTTP layer, not trusted.
    let request = format!(
        "POST /api/boards/b/threads/{t}/posts HTTP/1.1\r\nHost: localhost\r\n\
         Content-Type: application/json\r\nContent-Length: 99999999999999999999999\r\n\
         Connection: close\r\n\r\n{{\"body\":\"x\"}}"
    );
    let r = exchange(s.addr, request.as_bytes()).await;
    assert!(
        r.status.is_none_or(|st| (400..500).contains(&st)),
        "{}",
        r.head
    );
    assert_alive(&s).await;
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_refused() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let path = replies("b", t);

    // Chunked bodies work: exactly at the limit is accepted.
    let r = exchange(
        s.addr,
        &chunked_post(&path, &padded_post("chunked", LIMIT), 16 * 1024),
    )
    .await;
    assert_eq!(r.status, Some(201), "{}", r.head);
    assert_eq!(r.json()["no"], 2);

    // One byte over, and far over, with big and with tiny chunks.
    for (len, chunk) in [
        (LIMIT + 1, 16 * 1024),
        (LIMIT * 4, 16 * 1024),
        (LIMIT + 1, 1000),
        (LIMIT * 2, LIMIT * 2),
    ] {
        let r = exchange(
            s.addr,
            &chunked_post(&path, &padded_post("over", len), chunk),
        )
        .await;
        assert_eq!(
            r.status,
            Some(413),
            "{len} bytes in chunks of {chunk}: {}",
            r.head
        );
        assert_eq!(r.code(), "payload_too_large");
        assert!(
            r.head
                .to_ascii_lowercase()
                .contains("content-type: application/json"),
            "{}",
            r.head
        );
        let r = exchange(
            s.addr,
            &chunked_post(THREADS, &padded_post("over", len), chunk),
        )
        .await;
        assert_eq!(
            r.status,
            Some(413),
            "{len} bytes in chunks of {chunk}: {}",
            r.head
        );
    }
    assert_alive(&s).await;
    assert_unchanged(&s, "b", &[1], 1, &[1, 2]).await;
}

#[tokio::test]
async fn a_content_length_that_lies_neither_hangs_nor_posts() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let head = format!(
        "POST /api/boards/b/threads/{t}/posts HTTP/1.1\r\nHost: localhost\r\n\
         Content-Type: application/json\r\nContent-Length: 10\r\n\r\n"
    );

    // Declares 10 bytes, sends 5, then shuts its side: a prompt 400, not a wait for the rest.
    let stream = TcpStream::connect(s.addr).await.unwrap();
    assert!(write_all(&stream, head.as_bytes()).await);
    assert!(write_all(&stream, br#"{"bod"#).await);
    // SAFETY: shutting down the write side of a socket this test owns.
    assert_eq!(
        unsafe { libc::shutdown(stream.as_raw_fd(), libc::SHUT_WR) },
        0
    );
    let r = tokio::time::timeout(Duration::from_secs(10), read_response(&stream))
        .await
        .expect("the server hung on a body shorter than its Content-Length");
    assert_eq!(r.status, Some(400), "{}", r.head);
    assert_eq!(r.code(), "invalid_json");
    drop(stream);

    // Declares 30 bytes, sends 18 that already make a whole post, and stalls.
    // Other clients are served meanwhile, and the stalled request posts nothing.
    let stalled = TcpStream::connect(s.addr).await.unwrap();
    let head = head.replace("Content-Length: 10", "Content-Length: 30");
    assert!(write_all(&stalled, head.as_bytes()).await);
    assert!(write_all(&stalled, br#"{"body":"stalled"}"#).await);
    assert_alive(&s).await;
    let no = s.reply("b", t, json!({ "body": "meanwhile" })).await;
    assert_eq!(no, 2);
    drop(stalled);

    // Declares 30 bytes, sends 4 and vanishes.
    let vanished = TcpStream::connect(s.addr).await.unwrap();
    assert!(write_all(&vanished, head.as_bytes()).await);
    assert!(write_all(&vanished, br#"{"bo"#).await);
    drop(vanished);

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_alive(&s).await;
    assert_unchanged(&s, "b", &[1], 1, &[1, 2]).await;
}

// ---------------------------------------------------------------------------------------------
// Paths: numbers, boards, routes, methods.

#[tokio::test]
async fn malformed_numbers_in_paths_are_invalid_paths() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let bad = [
        "99999999999999999999999",
        "18446744073709551616", // u64::MAX + 1
        "-1",
        "+1",
        "1e3",
        "1.0",
        "0x10",
        "abc",
        "1a",
        "%31",
        "%20%31",
        "١",
    ];
    for n in bad {
        let r = s.get(&format!("/api/boards/b/threads/{n}")).await;
        refused(&r, 400, "invalid_path", Some("thread"));
        let r = s
            .post(
                &format!("/api/boards/b/threads/{n}/posts"),
                json!({ "body": "x" }),
            )
            .await;
        refused(&r, 400, "invalid_path", Some("thread"));
        let r = s.get(&format!("/api/boards/b/posts/{n}")).await;
        refused(&r, 400, "invalid_path", Some("no"));
        // The path is judged before the board.
        let r = s.get(&format!("/api/boards/zz/threads/{n}")).await;
        refused(&r, 400, "invalid_path", Some("thread"));
    }
    assert_unchanged(&s, "b", &[t], t, &[t]).await;
}

#[tokio::test]
async fn threads_and_posts_that_do_not_exist_are_404() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let reply = s.reply("b", t, json!({ "body": "a reply" })).await;
    assert_eq!(reply, 2);
    let max = u64::MAX.to_string();
    for n in ["0", "999", "3", max.as_str()] {
        let r = s.get(&format!("/api/boards/b/threads/{n}")).await;
        refused(&r, 404, "thread_not_found", None);
        let r = s
            .post(
                &format!("/api/boards/b/threads/{n}/posts"),
                json!({ "body": "x" }),
            )
            .await;
        refused(&r, 404, "thread_not_found", None);
        let r = s.get(&format!("/api/boards/b/posts/{n}")).await;
        refused(&r, 404, "post_not_found", None);
    }
    // A reply's number is a post, not a thread.
    let r = s.get(&format!("/api/boards/b/threads/{reply}")).await;
    refused(&r, 404, "thread_not_found", None);
    let r = s
        .post(&replies("b", reply), json!({ "body": "to a reply" }))
        .await;
    refused(&r, 404, "thread_not_found", None);
    let r = s.get(&format!("/api/boards/b/posts/{reply}")).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["post"]["thread"], t);
    assert_unchanged(&s, "b", &[1], 1, &[1, 2]).await;
}

#[tokio::test]
async fn unknown_boards_are_404_on_every_board_route() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let long = "a".repeat(100);
    for board in ["zz", "B", long.as_str(), "b1", "%62", "%C3%A9", "b%00"] {
        for path in [
            format!("/api/boards/{board}"),
            format!("/api/boards/{board}/threads/1"),
            format!("/api/boards/{board}/posts/1"),
            format!("/api/boards/{board}/catalog"),
            format!("/api/boards/{board}/index"),
        ] {
            refused(&s.get(&path).await, 404, "board_not_found", None);
        }
        let r = s
            .post(
                &format!("/api/boards/{board}/threads"),
                json!({ "body": "x" }),
            )
            .await;
        refused(&r, 404, "board_not_found", None);
        let r = s
            .post(
                &format!("/api/boards/{board}/threads/1/posts"),
                json!({ "body": "x" }),
            )
            .await;
        refused(&r, 404, "board_not_found", None);
    }
    let boards = s.get("/api/boards").await;
    assert_eq!(
        boards.json["boards"].as_array().unwrap().len(),
        1,
        "{}",
        boards.json
    );
    assert_unchanged(&s, "b", &[t], t, &[t]).await;
}

#[tokio::test]
async fn unknown_routes_are_404() {
    let s = Server::start().await;
    s.thread("b", "first").await;
    let paths = [
        "/",
        "/api",
        "/api/",
        "/api/boards/",
        "/api/boards/b/",
        "/api/boards/b/threads/1/",
        "/api/boards/b/nope",
        "/api/boards/b/thread/1",
        "/api/boards/b/threads/1/posts/2",
        "/api/boards/b/posts",
        "/api/boards/b/catalog/1",
        "//healthz",
        "/healthz/",
        "/HEALTHZ",
        "/API/boards",
        "/api//boards",
        "/index.html",
    ];
    for path in paths {
        refused(&s.get(path).await, 404, "route_not_found", None);
        refused(
            &s.post(path, json!({ "body": "x" })).await,
            404,
            "route_not_found",
            None,
        );
        refused(
            &s.request("DELETE", path).await,
            404,
            "route_not_found",
            None,
        );
    }
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;
}

#[tokio::test]
async fn wrong_methods_are_405_with_allow() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let thread = format!("/api/boards/b/threads/{t}");
    let posts = replies("b", t);
    let cases = [
        ("DELETE", thread.as_str(), "GET, HEAD"),
        ("PUT", thread.as_str(), "GET, HEAD"),
        ("PATCH", thread.as_str(), "GET, HEAD"),
        ("POST", thread.as_str(), "GET, HEAD"),
        ("GET", THREADS, "POST"),
        ("PUT", THREADS, "POST"),
        ("DELETE", THREADS, "POST"),
        ("GET", posts.as_str(), "POST"),
        ("PUT", posts.as_str(), "POST"),
        ("POST", "/api/boards", "GET, HEAD"),
        ("DELETE", "/api/boards/b", "GET, HEAD"),
        ("POST", "/api/boards/b", "GET, HEAD"),
        ("POST", "/api/boards/b/catalog", "GET, HEAD"),
        ("POST", "/api/boards/b/index", "GET, HEAD"),
        ("DELETE", "/api/boards/b/posts/1", "GET, HEAD"),
        ("POST", "/healthz", "GET, HEAD"),
        ("OPTIONS", "/api/boards/b/catalog", "GET, HEAD"),
        ("OPTIONS", THREADS, "POST"),
        ("TRACE", "/healthz", "GET, HEAD"),
        ("FOO", THREADS, "POST"),
    ];
    for (method, path, allow) in cases {
        let r = s.request(method, path).await;
        refused(&r, 405, "method_not_allowed", None);
        assert_eq!(r.header("allow"), allow, "{method} {path}");
    }
    // A wrong method with a body posts nothing.
    let r = s
        .send(s.client.put(s.url(&posts)).json(&json!({ "body": "put" })))
        .await;
    refused(&r, 405, "method_not_allowed", None);
    // HEAD is GET without a body: on a POST-only route it is 405 too.
    let r = s.request("HEAD", THREADS).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), "POST");
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;
}

// ---------------------------------------------------------------------------------------------
// Query strings.

#[tokio::test]
async fn bad_page_numbers_are_invalid_queries() {
    let s = Server::start().await;
    s.thread("b", "first").await;
    let bad = [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
        ("page=99999999999999999999999", "page"),
        ("page=1.5", "page"),
        ("page=+1", "page"),
        ("page=", "page"),
        ("page", "page"),
        ("page=1&page=2", "page"),
        ("page=1&page=1", "page"),
        ("foo=1", "foo"),
        ("page=1&foo=1", "foo"),
        ("PAGE=1", "PAGE"),
        ("after=1", "after"),
    ];
    for (query, field) in bad {
        let r = s.get(&format!("/api/boards/b/index?{query}")).await;
        refused(&r, 400, "invalid_query", Some(field));
    }
    // A page past the last is not found; the empty query and page 1 are fine.
    let r = s.get("/api/boards/b/index?page=2").await;
    refused(&r, 404, "page_not_found", Some("page"));
    let r = s.get("/api/boards/b/index?page=18446744073709551615").await;
    refused(&r, 404, "page_not_found", Some("page"));
    for ok in [
        "/api/boards/b/index",
        "/api/boards/b/index?",
        "/api/boards/b/index?page=1",
        "/api/boards/b/index?page=01",
    ] {
        let r = s.get(ok).await;
        assert_eq!(r.status, 200, "{ok}: {}", r.json);
        assert_eq!(r.json["page"], 1, "{ok}");
        assert_eq!(r.json["pages"], 1, "{ok}");
    }
}

#[tokio::test]
async fn page_not_found_follows_the_last_page() {
    let s = Server::small().await; // two threads per page
    for body in ["one", "two", "three"] {
        s.thread("t", body).await;
    }
    let r = s.get("/api/boards/t/index?page=2").await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["pages"], 2);
    assert_eq!(r.json["threads"].as_array().unwrap().len(), 1);
    let r = s.get("/api/boards/t/index?page=3").await;
    refused(&r, 404, "page_not_found", Some("page"));
}

#[tokio::test]
async fn unknown_query_parameters_are_refused_on_every_read_route() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let reads = [
        "/api/boards".to_owned(),
        "/api/boards/b".to_owned(),
        "/api/boards/b/catalog".to_owned(),
        "/api/boards/b/index".to_owned(),
        format!("/api/boards/b/threads/{t}"),
        format!("/api/boards/b/posts/{t}"),
    ];
    for path in &reads {
        for (query, field) in [
            ("foo=1", "foo"),
            ("foo", "foo"),
            ("=1", ""),
            ("%70age=1", "%70age"),
        ] {
            let r = s.get(&format!("{path}?{query}")).await;
            refused(&r, 400, "invalid_query", Some(field));
        }
    }
    for path in [
        "/api/boards/b/catalog".to_owned(),
        format!("/api/boards/b/posts/{t}"),
    ] {
        let r = s.get(&format!("{path}?page=1")).await;
        refused(&r, 400, "invalid_query", Some("page"));
    }
    // `after` on a thread: a whole number from 0, once.
    let thread = format!("/api/boards/b/threads/{t}");
    for query in [
        "after=x",
        "after=-1",
        "after=",
        "after=1.0",
        "after=99999999999999999999999",
        "after=1&after=2",
    ] {
        let r = s.get(&format!("{thread}?{query}")).await;
        refused(&r, 400, "invalid_query", Some("after"));
    }
    refused(
        &s.get(&format!("{thread}?page=1")).await,
        400,
        "invalid_query",
        Some("page"),
    );
    let r = s.get(&format!("{thread}?after=0")).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["thread"]["posts"].as_array().unwrap().len(), 1);
    let r = s.get(&format!("{thread}?after=1")).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["thread"]["posts"].as_array().unwrap().len(), 0);
    // Routes that take a body take no query: a query on a POST is refused, not ignored.
    let r = s
        .post(
            &format!("{}?thread=5", replies("b", t)),
            json!({ "body": "with a query" }),
        )
        .await;
    refused(&r, 400, "invalid_query", Some("thread"));
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;
}

// ---------------------------------------------------------------------------------------------
// Oversize request heads and garbage on the wire.

#[tokio::test]
async fn a_huge_header_is_refused_and_the_server_stays_up() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let head_of = |r: &RawResponse| r.head[..r.head.len().min(200)].to_owned();

    // Far over the bound, and more headers than the server keeps: 431 or a closed connection.
    let huge = "x".repeat(200 * 1024);
    let request = format!(
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: {huge}\r\nConnection: close\r\n\r\n"
    );
    let r = exchange(s.addr, request.as_bytes()).await;
    assert!(
        r.status.is_none_or(|st| st == 431),
        "200 KB header: {}",
        head_of(&r)
    );
    let mut many = String::from("GET /healthz HTTP/1.1\r\nHost: localhost\r\n");
    for i in 0..2000 {
        many.push_str(&format!("X-H{i}: {i}\r\n"));
    }
    many.push_str("Connection: close\r\n\r\n");
    let r = exchange(s.addr, many.as_bytes()).await;
    assert!(
        r.status.is_none_or(|st| st == 431),
        "2000 headers: {}",
        head_of(&r)
    );
    // Through a client library too: an error status or a dropped connection, never a success.
    let sent = s
        .client
        .get(s.url("/healthz"))
        .header("x-big", huge.as_str())
        .send()
        .await;
    if let Ok(resp) = sent {
        assert_eq!(resp.status().as_u16(), 431);
    }
    assert_alive(&s).await;

    // 100 KB: over the server's 64 KiB bound on request heads, so refused as well; and a
    // refused head must not let its request through.
    let big = "x".repeat(100 * 1024);
    let request = format!(
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: {big}\r\nConnection: close\r\n\r\n"
    );
    let r = exchange(s.addr, request.as_bytes()).await;
    assert!(
        r.status.is_none_or(|st| st == 431),
        "a 100 KB header value was accepted past the 64 KiB head bound: {}",
        head_of(&r)
    );
    let request = format!(
        "POST /api/boards/b/threads/{t}/posts HTTP/1.1\r\nHost: localhost\r\nX-Big: {big}\r\n\
         Content-Type: application/json\r\nContent-Length: 12\r\nConnection: close\r\n\r\n{{\"body\":\"x\"}}"
    );
    let r = exchange(s.addr, request.as_bytes()).await;
    assert!(
        r.status.is_none_or(|st| st == 431),
        "a post with a 100 KB header value was accepted past the 64 KiB head bound: {}",
        head_of(&r)
    );

    assert_alive(&s).await;
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;
}

#[tokio::test]
async fn a_huge_url_is_refused_and_the_server_stays_up() {
    let s = Server::start().await;
    s.thread("b", "first").await;
    for path in [
        format!("/api/boards/b/threads/{}", "9".repeat(100 * 1024)),
        format!("/{}", "a/".repeat(50 * 1024)),
        format!("/api/boards/b/index?{}", "page=1&".repeat(15 * 1024)),
    ] {
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        let r = exchange(s.addr, request.as_bytes()).await;
        assert!(
            r.status.is_none_or(|st| st == 414 || st == 431),
            "{}",
            &r.head[..r.head.len().min(200)]
        );
        assert_alive(&s).await;
    }
    // Long but within what the server reads: ordinary JSON errors.
    let r = s
        .get(&format!("/api/boards/b/threads/{}", "9".repeat(10_000)))
        .await;
    refused(&r, 400, "invalid_path", Some("thread"));
    let r = s
        .get(&format!("/api/boards/{}/catalog", "b".repeat(10_000)))
        .await;
    refused(&r, 404, "board_not_found", None);
    let r = s
        .get(&format!("/api/boards/b/index?{}=1", "q".repeat(10_000)))
        .await;
    refused(&r, 400, "invalid_query", Some("q".repeat(10_000).as_str()));
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;
}

#[tokio::test]
async fn garbage_on_the_wire_does_not_bring_the_server_down() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let body = r#"{"body":"smuggled"}"#;
    let requests = [
        "GARBAGE\r\n\r\n".to_owned(),
        "\0\0\0\0\r\n\r\n".to_owned(),
        "GET\r\n\r\n".to_owned(),
        "GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n".to_owned(),
        "GET /healthz HTTP/1.1\r\nBad Header Name: x\r\n\r\n".to_owned(),
        format!(
            "POST /api/boards/b/threads/{t}/posts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nContent-Length: 3\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
        format!(
            "POST /api/boards/b/threads/{t}/posts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
            body.len()
        ),
        format!(
            "POST /api/boards/b/threads/{t}/posts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{body}\r\n0\r\n\r\n"
        ),
    ];
    for request in &requests {
        let r = exchange(s.addr, request.as_bytes()).await;
        assert!(
            r.status
                .is_none_or(|st| (400..500).contains(&st) || st == 505),
            "{request:?} → {}",
            r.head
        );
        assert_alive(&s).await;
    }
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;
}

// ---------------------------------------------------------------------------------------------
// The error body, for every code a client can provoke.

#[tokio::test]
async fn every_error_has_one_shape() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let reply = s.reply("b", t, json!({ "body": "a reply" })).await;
    let posts = replies("b", t);
    let raw = |ct: &'static str, body: &'static [u8]| (ct, body.to_vec());
    let cases: Vec<(Reply, u16, &str)> = vec![
        (s.get("/nope").await, 404, "route_not_found"),
        (
            s.request("DELETE", THREADS).await,
            405,
            "method_not_allowed",
        ),
        (s.get("/api/boards/zz").await, 404, "board_not_found"),
        (
            s.get("/api/boards/b/threads/999").await,
            404,
            "thread_not_found",
        ),
        (
            s.post(&replies("b", reply), json!({ "body": "x" })).await,
            404,
            "thread_not_found",
        ),
        (
            s.get("/api/boards/b/posts/999").await,
            404,
            "post_not_found",
        ),
        (
            s.get("/api/boards/b/index?page=9").await,
            404,
            "page_not_found",
        ),
        (s.get("/api/boards/b/threads/x").await, 400, "invalid_path"),
        (
            s.get("/api/boards/b/catalog?x=1").await,
            400,
            "invalid_query",
        ),
        {
            let (ct, body) = raw("application/json", b"{");
            (
                s.post_raw(&posts, Some(ct), body).await,
                400,
                "invalid_json",
            )
        },
        {
            let (ct, body) = raw("application/json", b"{\"body\":\"\xff\"}");
            (
                s.post_raw(&posts, Some(ct), body).await,
                400,
                "invalid_utf8",
            )
        },
        (
            s.post_raw(&posts, Some("text/plain"), "hi").await,
            415,
            "unsupported_media_type",
        ),
        (
            s.post_raw(
                &posts,
                Some("application/json"),
                padded_post("x", LIMIT + 1),
            )
            .await,
            413,
            "payload_too_large",
        ),
        (s.post(&posts, json!({})).await, 400, "missing_field"),
        (
            s.post(&posts, json!({ "body": "x", "subject": "s" })).await,
            400,
            "unknown_field",
        ),
        (
            s.post(&posts, json!({ "body": 1 })).await,
            400,
            "invalid_type",
        ),
        (
            s.post(&posts, json!({ "body": "a".repeat(4001) })).await,
            400,
            "too_long",
        ),
        (s.post(&posts, json!({ "body": " " })).await, 400, "empty"),
        (
            s.post(&posts, json!({ "body": "\u{0}" })).await,
            400,
            "control_characters",
        ),
    ];
    for (r, status, code) in &cases {
        r.assert_error(*status, code);
        assert_error_shape(r);
        assert_eq!(
            r.header("content-type"),
            "application/json; charset=utf-8",
            "{code}"
        );
        assert_eq!(
            r.header("cache-control"),
            "no-store",
            "{code}: errors must not be cached"
        );
        assert!(r.header("etag").is_empty(), "{code}: an error has no ETag");
    }
    assert_unchanged(&s, "b", &[1], 1, &[1, 2]).await;
}

//! Connection slots, slow and stalled clients, unread responses and read amplification.
//!
//! Each attack runs with small limits from the config, so it takes seconds: one address holding
//! its share of connections or live streams, idle and half-sent requests, a body trickled a byte
//! at a time, a client that asks for much and reads nothing.

mod protocol;

use std::time::Duration;

use serde_json::json;
use tokio::net::{TcpSocket, TcpStream};

use crate::harness::*;
use crate::validation::{exchange, find, read_response, write_all, RawResponse};

/// A GET of `path` for the client `client` (believed: the test connects from 127.0.0.1).
fn get_as(path: &str, client: &str) -> Vec<u8> {
    format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nX-Forwarded-For: {client}\r\n\r\n")
        .into_bytes()
}

/// Opens a connection for `client` and uses it once, leaving it open (keep-alive).
async fn hold(s: &Server, client: &str) -> (TcpStream, RawResponse) {
    let stream = TcpStream::connect(s.addr).await.unwrap();
    assert!(write_all(&stream, &get_as("/healthz", client)).await);
    let response = read_response(&stream).await;
    (stream, response)
}

/// Whether the server closes `stream` (EOF or reset) within 20 s without our sending more.
async fn closed_by_server(stream: &TcpStream) -> bool {
    let wait = async {
        let mut buf = [0u8; 4096];
        loop {
            if stream.readable().await.is_err() {
                return;
            }
            match stream.try_read(&mut buf) {
                Ok(0) => return,
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => return,
            }
        }
    };
    tokio::time::timeout(Duration::from_secs(20), wait)
        .await
        .is_ok()
}

#[track_caller]
fn assert_too_many(r: &RawResponse) {
    assert_eq!(r.status, Some(429), "{}", r.head);
    assert_eq!(
        r.json()["error"]["code"],
        "too_many_connections",
        "{}",
        r.head
    );
    let head = r.head.to_ascii_lowercase();
    assert!(head.contains("\r\nretry-after: 5"), "{head}");
}

const CAPS: &str = "max_connections_per_client = 3\nmax_streams_per_client = 2\n";

#[tokio::test]
async fn one_address_holding_its_connections_is_refused_while_others_are_served() {
    let s = Server::with_config(CAPS).await;
    let mut held = Vec::new();
    for _ in 0..3 {
        let (stream, r) = hold(&s, "198.51.100.7").await;
        assert_eq!(r.status, Some(200), "{}", r.head);
        held.push(stream);
    }
    // The fourth connection of that address is answered 429 and closed, freeing the slot.
    let (extra, r) = hold(&s, "198.51.100.7").await;
    assert_too_many(&r);
    assert!(
        r.head.to_ascii_lowercase().contains("connection: close"),
        "{}",
        r.head
    );
    assert!(
        closed_by_server(&extra).await,
        "a refused connection is closed"
    );

    // Everybody else is served at once.
    let other = s
        .get_with("/healthz", &[("x-forwarded-for", "198.51.100.8")])
        .await;
    assert_eq!(other.status, 200);

    // An IPv6 client counts per /64: other addresses of the same network share its cap.
    let mut v6 = Vec::new();
    for client in ["2001:db8::1", "2001:db8::2", "2001:db8::3"] {
        let (stream, r) = hold(&s, client).await;
        assert_eq!(r.status, Some(200), "{client}: {}", r.head);
        v6.push(stream);
    }
    let (_, r) = hold(&s, "2001:db8::ffff:1").await;
    assert_too_many(&r);
    let (_, r) = hold(&s, "2001:db8:0:1::1").await;
    assert_eq!(r.status, Some(200), "another /64 is another client");

    // A connection that ends gives its slot back.
    drop(held.pop());
    let mut served = false;
    for _ in 0..200 {
        let (_, r) = hold(&s, "198.51.100.7").await;
        if r.status == Some(200) {
            served = true;
            break;
        }
        assert_too_many(&r);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(served, "the freed slot was never given back");
}

async fn live(s: &Server, client: &str) -> reqwest::Response {
    s.client
        .get(s.url("/api/live?board=b"))
        .header("x-forwarded-for", client)
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn one_address_holds_at_most_its_live_streams() {
    let s = Server::with_config(CAPS).await;
    let first = live(&s, "198.51.100.7").await;
    let second = live(&s, "198.51.100.7").await;
    assert_eq!(
        (first.status().as_u16(), second.status().as_u16()),
        (200, 200)
    );

    let third = live(&s, "198.51.100.7").await;
    assert_eq!(third.status(), 429);
    assert_eq!(third.headers()["retry-after"], "5");
    let body: serde_json::Value = third.json().await.unwrap();
    assert_eq!(body["error"]["code"], "too_many_connections", "{body}");

    let other = live(&s, "198.51.100.8").await;
    assert_eq!(other.status(), 200, "another address follows freely");

    drop(first);
    let mut followed = false;
    for _ in 0..200 {
        let again = live(&s, "198.51.100.7").await;
        if again.status() == 200 {
            followed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(followed, "a closed stream never gave its slot back");
    drop(second);
}

#[tokio::test]
async fn a_live_stream_ends_at_its_lifetime() {
    let s = Server::with_config("stream_max_secs = 1\n").await;
    let stream = live(&s, "198.51.100.7").await;
    assert_eq!(stream.status(), 200);
    let body = tokio::time::timeout(Duration::from_secs(20), stream.bytes())
        .await
        .expect("the stream never ended")
        .expect("the stream ends cleanly");
    assert!(find(&body, b"retry: 3000").is_some());
}

#[tokio::test]
async fn idle_and_half_sent_connections_are_closed() {
    let s = Server::with_config("header_timeout_secs = 1\n").await;
    // Connects and says nothing.
    let silent = TcpStream::connect(s.addr).await.unwrap();
    // Asks once, then idles on the keep-alive connection.
    let (idle, r) = hold(&s, "198.51.100.7").await;
    assert_eq!(r.status, Some(200));
    // Sends its request head a line at a time, never finishing it.
    let slow = TcpStream::connect(s.addr).await.unwrap();
    assert!(write_all(&slow, b"GET /healthz HTTP/1.1\r\nHost: localhost\r\n").await);
    let trickle = async {
        for i in 0..200 {
            tokio::time::sleep(Duration::from_millis(100)).await;
            if !write_all(&slow, format!("X-Pad-{i}: x\r\n").as_bytes()).await {
                return;
            }
        }
    };
    let (_, slow_closed) = tokio::join!(trickle, closed_by_server(&slow));
    assert!(
        slow_closed,
        "a head sent a line at a time kept its connection"
    );
    assert!(
        closed_by_server(&silent).await,
        "a silent connection stayed open"
    );
    assert!(
        closed_by_server(&idle).await,
        "an idle keep-alive connection stayed open"
    );
    assert_eq!(s.get("/healthz").await.status, 200);
}

/// A multipart post whose file part then arrives a byte at a time.
fn slow_upload_head() -> Vec<u8> {
    let mut out = b"POST /api/boards/b/threads HTTP/1.1\r\nHost: localhost\r\n\
        Content-Type: multipart/form-data; boundary=XYZ\r\nContent-Length: 1000000\r\n\r\n\
        --XYZ\r\nContent-Disposition: form-data; name=\"body\"\r\n\r\nslow\r\n\
        --XYZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\
        Content-Type: image/png\r\n\r\n"
        .to_vec();
    out.extend_from_slice(b"\x89PNG\r\n\x1a\n");
    out.extend_from_slice(&[0u8; 20_000]);
    out
}

#[tokio::test]
async fn a_body_trickled_a_byte_at_a_time_is_cut_off_and_leaves_nothing() {
    let s = Server::with_config("body_timeout_secs = 2\n").await;
    for (what, head) in [
        ("multipart", slow_upload_head()),
        (
            "json",
            b"POST /api/boards/b/threads HTTP/1.1\r\nHost: localhost\r\n\
              Content-Type: application/json\r\nContent-Length: 1000\r\n\r\n{\"body\":\""
                .to_vec(),
        ),
    ] {
        let stream = TcpStream::connect(s.addr).await.unwrap();
        assert!(write_all(&stream, &head).await);
        let trickle = async {
            // Each byte comes well inside any per-read timeout; only a total deadline ends it.
            for _ in 0..600 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                if !write_all(&stream, b"a").await {
                    // Closed: the answer, read alongside, decides.
                    std::future::pending::<()>().await;
                }
            }
        };
        let r = tokio::select! {
            r = read_response(&stream) => r,
            () = trickle => panic!("{what}: the trickle outlived 60 s"),
        };
        assert_eq!(r.status, Some(408), "{what}: {}", r.head);
        assert_eq!(r.json()["error"]["code"], "request_timeout", "{what}");
        assert!(
            closed_by_server(&stream).await,
            "{what}: the connection stays open"
        );
        assert_eq!(s.tmp_files(), Vec::<std::path::PathBuf>::new(), "{what}");
    }
    let listing = s.get("/api/boards/b/catalog").await;
    assert_eq!(listing.json["threads"], json!([]), "nothing was posted");
}

#[tokio::test]
async fn a_client_that_does_not_read_its_responses_is_dropped() {
    let s = Server::with_config("write_timeout_secs = 1\n").await;
    let thread = s.thread("b", "a big thread").await;
    let text = "word ".repeat(790);
    for _ in 0..30 {
        s.reply("b", thread, json!({ "body": text })).await;
    }
    let path = format!("/api/boards/b/threads/{thread}?after=0");
    let one = s.get(&path).await;
    assert_eq!(one.status, 200);

    // Asks for the thread 100 times in one go through a tiny receive window, then reads nothing.
    let socket = TcpSocket::new_v4().unwrap();
    socket.set_recv_buffer_size(4096).unwrap();
    let stream = socket.connect(s.addr).await.unwrap();
    let requests: Vec<u8> = (0..100)
        .flat_map(|_| get_as(&path, "198.51.100.7"))
        .collect();
    assert!(write_all(&stream, &requests).await);
    // Longer than the write timeout: the server gives up on this client meanwhile.
    tokio::time::sleep(Duration::from_secs(4)).await;

    let read_all = async {
        let mut seen = Vec::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            if stream.readable().await.is_err() {
                return seen;
            }
            match stream.try_read(&mut buf) {
                Ok(0) => return seen,
                Ok(n) => seen.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                Err(_) => return seen,
            }
        }
    };
    let seen = tokio::time::timeout(Duration::from_secs(30), read_all)
        .await
        .expect("the server kept the connection of a client that did not read");
    let answered = seen.windows(12).filter(|w| w == b"HTTP/1.1 200").count();
    assert!(
        answered < 100,
        "all {answered} responses were kept for the client"
    );
    // Others were served all along.
    assert_eq!(s.get("/healthz").await.status, 200);
}

#[tokio::test]
async fn polling_with_after_gets_exactly_the_newer_posts() {
    let s = Server::start().await;
    let thread = s.thread("b", "op").await;
    let mut numbers = vec![thread];
    for i in 0..4 {
        numbers.push(
            s.reply("b", thread, json!({ "body": format!("reply {i}") }))
                .await,
        );
    }
    let whole = s.get(&format!("/api/boards/b/threads/{thread}")).await;
    for after in [0, thread, numbers[2], numbers[4], numbers[4] + 100] {
        let r = s
            .get(&format!("/api/boards/b/threads/{thread}?after={after}"))
            .await;
        assert_eq!(r.status, 200);
        let expected: Vec<_> = whole.json["thread"]["posts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["no"].as_u64().unwrap() > after)
            .cloned()
            .collect();
        assert_eq!(r.json["thread"]["posts"], json!(expected), "after={after}");
        let mut head = r.json["thread"].clone();
        let mut whole_head = whole.json["thread"].clone();
        head["posts"] = json!(null);
        whole_head["posts"] = json!(null);
        assert_eq!(head, whole_head, "after={after}");
        assert!(!r.header("content-length").is_empty(), "after={after}");
        // Revalidation works per `after`, and a new reply changes the answer.
        let etag = r.header("etag").to_owned();
        assert_ne!(etag, whole.header("etag"));
        let again = s
            .get_with(
                &format!("/api/boards/b/threads/{thread}?after={after}"),
                &[("if-none-match", &etag)],
            )
            .await;
        assert_eq!(again.status, 304, "after={after}");
    }
    let r = s
        .get(&format!(
            "/api/boards/b/threads/{thread}?after={}",
            numbers[4]
        ))
        .await;
    let etag = r.header("etag").to_owned();
    let newest = s.reply("b", thread, json!({ "body": "newest" })).await;
    let r = s
        .get_with(
            &format!("/api/boards/b/threads/{thread}?after={}", numbers[4]),
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json["thread"]["posts"][0]["no"], newest);
}

#[tokio::test]
async fn a_crowd_of_cold_readers_all_get_the_same_thread() {
    let s = Server::start().await;
    let thread = s.thread("b", "op").await;
    for i in 0..10 {
        s.reply("b", thread, json!({ "body": format!("reply {i}") }))
            .await;
    }
    let mut tasks = Vec::new();
    for i in 0..32u64 {
        let (client, url) = (
            s.client.clone(),
            s.url(&format!("/api/boards/b/threads/{thread}?after={i}")),
        );
        tasks.push(tokio::spawn(async move {
            let r = client.get(url).send().await.unwrap();
            (r.status(), r.json::<serde_json::Value>().await.unwrap())
        }));
    }
    for (i, task) in tasks.into_iter().enumerate() {
        let (status, body) = task.await.unwrap();
        assert_eq!(status, 200);
        let posts = body["thread"]["posts"].as_array().unwrap();
        assert!(posts.iter().all(|p| p["no"].as_u64().unwrap() > i as u64));
        assert_eq!(body["thread"]["replies"], 10);
    }
    // A direct exchange on its own connection is answered too.
    let r = exchange(s.addr, &get_as("/healthz", "198.51.100.9")).await;
    assert_eq!(r.status, Some(200));
}

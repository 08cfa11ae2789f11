//! What nginx must keep of wani's behaviour: the client's address, the upload limit, live events
//! without delay, stored files served from disk with wani's own headers, and revalidation.

use std::time::{Duration, Instant};

use futures_util::StreamExt;
use reqwest::header::HeaderMap;
use reqwest::StatusCode;
use serde_json::{json, Value};

use super::{client_from, Nginx};
use crate::harness::*;
use crate::uploads::{form, png, threads};

/// wani trusts only 127.0.0.1 (where nginx connects from), not the default's ::1, and /b/ takes
/// posts of up to 1 MiB.
const CONFIG: &str = r#"
trusted_proxies = ["127.0.0.1"]

[[boards]]
slug = "b"
title = "Random"
max_file_bytes = 1048576
max_post_bytes = 1048576

[[boards]]
slug = "s"
title = "Small"
max_file_bytes = 65536
max_post_bytes = 65536
"#;

async fn setup() -> (Server, Nginx) {
    let wani = Server::with_config(CONFIG).await;
    let config = wani.data_dir().parent().unwrap().join("config.toml");
    let nginx = Nginx::start(&wani, &config);
    (wani, nginx)
}

/// The client address of wani's log line for `path`, waiting for the line to be written.
async fn logged_client(wani: &Server, path: &str) -> String {
    let needle = format!(" path=\"{path}\" ");
    let deadline = Instant::now() + EVENT_WAIT;
    loop {
        if let Some(line) = wani.logs().iter().find(|l| l.contains(&needle)) {
            let client = line.split(" client=").nth(1).unwrap_or("");
            return client.split_whitespace().next().unwrap_or("").to_owned();
        }
        assert!(
            Instant::now() < deadline,
            "wani logged no request for {path}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Whether wani logged a request for `path` (waiting briefly for lines in flight).
async fn wani_saw(wani: &Server, path: &str) -> bool {
    tokio::time::sleep(Duration::from_millis(200)).await;
    let needle = format!(" path=\"{path}\" ");
    wani.logs().iter().any(|l| l.contains(&needle))
}

/// How many requests for `path` wani logged, once it has logged `expected` of them or
/// [`EVENT_WAIT`] has passed (its log lines arrive a moment after the answers, later on a busy
/// machine), and 200 ms more for any beyond them.
async fn served(wani: &Server, path: &str, expected: usize) -> usize {
    let needle = format!(" path=\"{path}\" ");
    let count = || wani.logs().iter().filter(|l| l.contains(&needle)).count();
    let deadline = Instant::now() + EVENT_WAIT;
    while count() < expected && Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    tokio::time::sleep(Duration::from_millis(200)).await;
    count()
}

#[tokio::test]
async fn the_client_address_comes_from_nginx_and_a_spoofed_header_is_ignored() {
    let (wani, nginx) = setup().await;
    // Through nginx from 127.0.0.3, with a forged header nginx must replace.
    let via = client_from("127.0.0.3");
    let r = via
        .get(nginx.url("/api/boards/via1"))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(logged_client(&wani, "/api/boards/via1").await, "127.0.0.3");

    // Straight to wani from 127.0.0.2, a peer it does not trust: the header proves nothing.
    let direct = client_from("127.0.0.2");
    let r = direct
        .get(wani.url("/api/boards/direct1"))
        .header("x-forwarded-for", "203.0.113.9")
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 404);
    assert_eq!(
        logged_client(&wani, "/api/boards/direct1").await,
        "127.0.0.2"
    );

    // A post through nginx is the poster's own: its address decides the poster's limits, ids
    // and deletion attempts; here the log says whose it is.
    let r = via
        .post(nginx.url(&threads("b")))
        .json(&json!({ "body": "through nginx" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    assert_eq!(logged_client(&wani, &threads("b")).await, "127.0.0.3");
}

#[tokio::test]
async fn an_upload_over_the_largest_board_limit_is_refused_by_nginx() {
    let (wani, nginx) = setup().await;
    let client = reqwest::Client::new();
    // One byte over /b/'s max_post_bytes, the largest of the boards: nginx answers, in wani's
    // error format, and wani never sees the request.
    let body = vec![b'x'; 1_048_577];
    let r = client
        .post(nginx.url("/api/boards/zz/threads"))
        .header("content-type", "application/octet-stream")
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(
        r.headers()["content-type"].to_str().unwrap(),
        "application/json; charset=utf-8"
    );
    let json: Value = r.json().await.unwrap();
    assert_eq!(json["error"]["code"], "payload_too_large", "{json}");
    assert!(!wani_saw(&wani, "/api/boards/zz/threads").await);
}

/// Over /s/'s own limit but under nginx's (the largest board's): wani's answer, not a 502 from a
/// connection reset while nginx still streams the body. Several rounds, since the reset was a
/// race.
#[tokio::test]
async fn an_upload_over_one_boards_limit_gets_wanis_413_through_nginx() {
    let (_wani, nginx) = setup().await;
    let client = reqwest::Client::new();
    for round in 0..5 {
        let file = vec![b'x'; 900_000];
        let r = client
            .post(nginx.url(&threads("s")))
            .multipart(form(Some("too big for /s/"), vec![(file, "a.png")]))
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), StatusCode::PAYLOAD_TOO_LARGE, "round {round}");
        let json: Value = r.json().await.unwrap();
        assert_eq!(json["error"]["code"], "payload_too_large", "{json}");
        assert!(
            json["error"]["message"].as_str().unwrap().contains("65536"),
            "wani's own sentence, naming /s/'s limit: {json}"
        );
    }
}

#[tokio::test]
async fn live_events_pass_through_nginx_at_once() {
    let (_wani, nginx) = setup().await;
    let client = reqwest::Client::new();
    let resp = client
        .get(nginx.url("/api/live?board=b"))
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(
        resp.headers()["content-type"].to_str().unwrap(),
        "text/event-stream"
    );
    assert!(resp.headers().get("content-encoding").is_none());
    let mut body = resp.bytes_stream();
    let mut seen = String::new();
    // The opening `retry` arrives before any event: nothing waits for a buffer to fill.
    while !seen.contains("\n\n") {
        let chunk = tokio::time::timeout(EVENT_WAIT, body.next())
            .await
            .expect("the stream's first message in time")
            .unwrap()
            .unwrap();
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    let posted = Instant::now();
    let r = client
        .post(nginx.url(&threads("b")))
        .json(&json!({ "body": "live through nginx" }))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let mut event = String::new();
    // A tiny event, far below any proxy buffer: it arrives only if nginx passes it on at once.
    // The wait only keeps a broken setup from hanging; it stays below the 20 s heartbeat, which
    // would flush a buffered event.
    while !event.contains("live through nginx") {
        let chunk = tokio::time::timeout(Duration::from_secs(15), body.next())
            .await
            .expect("the event within 15 s")
            .unwrap()
            .unwrap();
        event.push_str(&String::from_utf8_lossy(&chunk));
    }
    println!(
        "live event through nginx: {:.1} ms from the post's start",
        posted.elapsed().as_secs_f64() * 1000.0
    );
}

/// The headers a test compares: all of them but those each server sets for itself.
fn comparable(headers: &HeaderMap) -> Vec<(String, String)> {
    let mut out: Vec<(String, String)> = headers
        .iter()
        .filter(|(name, _)| {
            !matches!(
                name.as_str(),
                "date" | "server" | "connection" | "keep-alive" | "transfer-encoding"
            )
        })
        .map(|(n, v)| (n.to_string(), v.to_str().unwrap().to_owned()))
        .collect();
    out.sort();
    out
}

async fn get(
    client: &reqwest::Client,
    url: &str,
    headers: &[(&str, &str)],
) -> (StatusCode, HeaderMap, Vec<u8>) {
    let mut req = client.get(url);
    for (name, value) in headers {
        req = req.header(*name, *value);
    }
    let r = req.send().await.unwrap();
    let (status, h) = (r.status(), r.headers().clone());
    (status, h, r.bytes().await.unwrap().to_vec())
}

#[tokio::test]
async fn stored_files_come_from_disk_with_wanis_headers_and_revalidate() {
    let (wani, nginx) = setup().await;
    let client = reqwest::Client::new();
    let r = client
        .post(nginx.url(&threads("b")))
        .multipart(form(
            Some("a file"),
            vec![(png(64, 48, [10, 200, 30]), "a.png")],
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);
    let no = r.json::<Value>().await.unwrap()["no"].as_u64().unwrap();
    let post = crate::uploads::post(&wani, "b", no).await;
    let file = &post["files"][0];
    let sha = file["sha256"].as_str().unwrap();
    let cases = [
        (file["url"].as_str().unwrap(), format!("\"{sha}\"")),
        (
            file["thumb_url"].as_str().unwrap(),
            format!("\"{sha}-thumb\""),
        ),
    ];
    for (url, etag) in cases {
        for headers in [
            &[][..],
            &[("range", "bytes=0-9")][..],
            &[("if-none-match", etag.as_str())][..],
            &[("if-none-match", &*format!("\"other\", W/{etag}"))][..],
            &[("if-none-match", "\"other\"")][..],
        ] {
            let from_wani = get(&client, &wani.url(url), headers).await;
            let from_nginx = get(&client, &nginx.url(url), headers).await;
            assert_eq!(from_nginx.0, from_wani.0, "{url} {headers:?}: status");
            assert_eq!(
                comparable(&from_nginx.1),
                comparable(&from_wani.1),
                "{url} {headers:?}: headers (nginx, then wani)"
            );
            assert_eq!(from_nginx.2, from_wani.2, "{url} {headers:?}: body");
        }
        // nginx served the two without If-None-Match from the disk; wani answered the three
        // revalidations (nginx knows only its own ETags) and its own five.
        assert_eq!(
            served(&wani, url, 5 + 3).await,
            5 + 3,
            "{url}: requests wani served"
        );
    }

    // A file that is not on disk is wani's to answer (from its S3 backup, or 404).
    let missing = format!("/files/00/00/{}.png", "0".repeat(64));
    let (status, headers, body) = get(&client, &nginx.url(&missing), &[]).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert_eq!(headers["content-type"], "application/json; charset=utf-8");
    let json: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(json["error"]["code"], "file_not_found", "{json}");
    assert_eq!(served(&wani, &missing, 1).await, 1);
}

#[tokio::test]
async fn a_304_works_through_nginx_for_what_wani_serves() {
    let (_wani, nginx) = setup().await;
    let client = reqwest::Client::new();
    let r = client
        .post(nginx.url(&threads("b")))
        .json(&json!({ "body": "revalidate me ".repeat(80) }))
        .send()
        .await
        .unwrap();
    let no = r.json::<Value>().await.unwrap()["no"].as_u64().unwrap();
    let url = nginx.url(&format!("/api/boards/b/threads/{no}"));
    let (status, headers, _) = get(&client, &url, &[]).await;
    assert_eq!(status, 200);
    let etag = headers["etag"].to_str().unwrap().to_owned();
    let (status, headers, body) = get(&client, &url, &[("if-none-match", &etag)]).await;
    assert_eq!(status, StatusCode::NOT_MODIFIED);
    assert_eq!(headers["etag"].to_str().unwrap(), etag);
    assert!(body.is_empty());
    // Compressed by wani (its gzip copy is made just after the entry, so the first answers may
    // still be plain), passed through by nginx with wani's own strong ETag.
    let mut compressed = None;
    for _ in 0..100 {
        let (status, headers, _) = get(&client, &url, &[("accept-encoding", "gzip")]).await;
        assert_eq!(status, 200);
        if headers.get("content-encoding").is_some() {
            compressed = Some(headers);
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let headers = compressed.expect("wani's gzip copy never reached the client through nginx");
    assert_eq!(headers["content-encoding"], "gzip");
    assert!(headers["vary"]
        .to_str()
        .unwrap()
        .eq_ignore_ascii_case("accept-encoding"));
    let gzip_etag = headers["etag"].to_str().unwrap().to_owned();
    assert!(!gzip_etag.starts_with("W/"), "{gzip_etag}");
    assert_ne!(gzip_etag, etag);
    let (status, ..) = get(
        &client,
        &url,
        &[("accept-encoding", "gzip"), ("if-none-match", &gzip_etag)],
    )
    .await;
    assert_eq!(status, StatusCode::NOT_MODIFIED, "{gzip_etag}");
}

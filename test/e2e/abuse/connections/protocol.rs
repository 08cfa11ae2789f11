//! RFC 9110 and 9112 edges: Host, transfer codings, If-Range, encoded query names, and HEAD
//! answering with exactly GET's headers on every GET route.

use reqwest::header::HeaderMap;
use serde_json::{json, Value};

use crate::harness::*;
use crate::uploads::{form, png, threads, upload};
use crate::validation::exchange;

#[tokio::test]
async fn http11_needs_exactly_one_valid_host() {
    let s = Server::start().await;
    let cases: [(&str, &[u8], Option<u16>); 6] = [
        ("no Host", b"GET /healthz HTTP/1.1\r\n\r\n", Some(400)),
        (
            "two Hosts",
            b"GET /healthz HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n",
            Some(400),
        ),
        (
            "userinfo",
            b"GET /healthz HTTP/1.1\r\nHost: user@localhost\r\n\r\n",
            Some(400),
        ),
        (
            "not a host",
            b"GET /healthz HTTP/1.1\r\nHost: local host\r\n\r\n",
            Some(400),
        ),
        (
            "HTTP/1.0 without Host",
            b"GET /healthz HTTP/1.0\r\n\r\n",
            Some(200),
        ),
        (
            "one Host with a port",
            b"GET /healthz HTTP/1.1\r\nHost: localhost:8080\r\nConnection: close\r\n\r\n",
            Some(200),
        ),
    ];
    for (what, request, status) in cases {
        let r = exchange(s.addr, request).await;
        assert_eq!(r.status, status, "{what}: {}", r.head);
        if status == Some(400) {
            assert_eq!(r.json()["error"]["code"], "invalid_host", "{what}");
            assert_eq!(r.json()["error"]["field"], "Host", "{what}");
        }
    }
}

#[tokio::test]
async fn unknown_transfer_codings_are_501_and_post_nothing() {
    let s = Server::start().await;
    let body = br#"{"body":"coded"}"#;
    let chunked = |coding: &str| {
        let mut out = format!(
            "POST /api/boards/b/threads HTTP/1.1\r\nHost: localhost\r\n\
             Content-Type: application/json\r\nTransfer-Encoding: {coding}\r\n\r\n{:x}\r\n",
            body.len()
        )
        .into_bytes();
        out.extend_from_slice(body);
        out.extend_from_slice(b"\r\n0\r\n\r\n");
        out
    };
    for coding in ["gzip, chunked", "x-unknown, chunked", "deflate,chunked"] {
        let r = exchange(s.addr, &chunked(coding)).await;
        assert_eq!(r.status, Some(501), "{coding}: {}", r.head);
        assert_eq!(
            r.json()["error"]["code"],
            "unsupported_transfer_coding",
            "{coding}"
        );
    }
    // A coding list that does not end in chunked has no knowable length: hyper's own 400.
    let r = exchange(s.addr, &chunked("gzip")).await;
    assert_eq!(r.status, Some(400), "{}", r.head);
    let catalog = s.get("/api/boards/b/catalog").await;
    assert_eq!(catalog.json["threads"], json!([]), "nothing was posted");
    // Plain chunked is decoded as ever.
    let r = exchange(s.addr, &chunked("chunked")).await;
    assert_eq!(r.status, Some(201), "{}", r.head);
}

#[tokio::test]
async fn query_names_and_values_are_decoded_before_they_are_checked() {
    let s = Server::start().await;
    for path in [
        "/api/boards/b/index?%70age=1",
        "/api/boards/b/index?page=%31",
        "/api/boards/b/index?p%61ge=1",
    ] {
        let r = s.get(path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.json);
        assert_eq!(r.json["page"], 1, "{path}");
    }
    let cases = [
        ("/api/boards/b/index?pag%65s=1", "pages"),
        ("/api/boards/b/index?%70age=1&page=1", "page"),
        ("/api/boards/b/index?page=%zz", "page"),
        ("/api/boards/b/catalog?%61=1", "a"),
    ];
    for (path, field) in cases {
        let r = s.get(path).await;
        r.assert_error(400, "invalid_query");
        assert_eq!(r.field(), field, "{path}");
    }
}

#[tokio::test]
async fn if_range_serves_the_range_only_for_the_same_file() {
    let s = Server::start().await;
    let (_, op) = upload(
        &s,
        &threads("b"),
        form(
            Some("ranged"),
            vec![(png(300, 200, [30, 140, 220]), "a.png")],
        ),
    )
    .await;
    let url = op["files"][0]["url"].as_str().unwrap().to_owned();
    let (_, h, whole) = s.get_bytes(&url, &[]).await;
    let etag = h["etag"].to_str().unwrap().to_owned();
    let weak = format!("W/{etag}");
    let cases = [
        (etag.as_str(), 206),
        (weak.as_str(), 200),
        ("\"another\"", 200),
        ("Sat, 01 Jan 2000 00:00:00 GMT", 200),
    ];
    for (validator, status) in cases {
        let (got, h, body) = s
            .get_bytes(&url, &[("range", "bytes=0-9"), ("if-range", validator)])
            .await;
        assert_eq!(got, status, "If-Range: {validator}");
        if status == 206 {
            assert_eq!(body, whole[..10]);
            assert_eq!(h["content-range"], format!("bytes 0-9/{}", whole.len()));
        } else {
            assert_eq!(body, whole, "If-Range: {validator}");
            assert!(h.get("content-range").is_none());
        }
    }
}

/// Headers that may differ between a GET and a HEAD: the date, and `Transfer-Encoding`, which
/// frames a body of unknown length (the live stream) and which hyper never writes for HEAD, as
/// RFC 9112 §6.1 allows.
const VOLATILE: &[&str] = &["date", "transfer-encoding"];

fn comparable(headers: &HeaderMap) -> Vec<(String, String)> {
    let mut out: Vec<_> = headers
        .iter()
        .filter(|(name, _)| !VOLATILE.contains(&name.as_str()))
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                value.to_str().unwrap_or("?").to_owned(),
            )
        })
        .collect();
    out.sort();
    out
}

#[tokio::test]
async fn head_answers_with_the_headers_of_get_on_every_get_route() {
    let s = Server::start().await;
    let (op, post) = upload(
        &s,
        &threads("b"),
        form(
            Some("with a file"),
            vec![(png(300, 200, [30, 140, 220]), "a.png")],
        ),
    )
    .await;
    let reply = s.reply("b", op, json!({ "body": "a reply" })).await;
    let file = &post["files"][0];
    let four: Value = s.get(&format!("/b/thread/{op}.json")).await.json;
    let tim = four["posts"][0]["tim"].as_u64().expect("tim");
    let ext = four["posts"][0]["ext"].as_str().expect("ext").to_owned();
    // One fixture per GET route of the route table (src/http/route.rs).
    let paths = [
        "/healthz".to_owned(),
        "/api/boards".to_owned(),
        "/api/boards/b".to_owned(),
        format!("/api/boards/b/threads/{op}"),
        format!("/api/boards/b/threads/{op}?after={op}"),
        format!("/api/boards/b/posts/{reply}"),
        "/api/boards/b/catalog".to_owned(),
        "/api/boards/b/index".to_owned(),
        "/api/boards/b/archive".to_owned(),
        "/api/recent".to_owned(),
        "/api/live?board=b".to_owned(),
        "/api/openapi.json".to_owned(),
        file["url"].as_str().unwrap().to_owned(),
        file["thumb_url"].as_str().unwrap().to_owned(),
        "/boards.json".to_owned(),
        "/b/threads.json".to_owned(),
        "/b/catalog.json".to_owned(),
        "/b/archive.json".to_owned(),
        "/b/1.json".to_owned(),
        format!("/b/thread/{op}.json"),
        format!("/b/res/{op}.json"),
        format!("/b/{tim}{ext}"),
        format!("/b/src/{tim}{ext}"),
        format!("/b/{tim}s.jpg"),
        format!("/b/thumb/{tim}s.jpg"),
        // An error answer too.
        "/api/boards/b/threads/999999".to_owned(),
    ];
    for path in paths {
        let get = s.client.get(s.url(&path)).send().await.unwrap();
        let get_status = get.status();
        let get_headers = comparable(get.headers());
        drop(get);
        let head = s.client.head(s.url(&path)).send().await.unwrap();
        assert_eq!(head.status(), get_status, "{path}");
        assert_eq!(comparable(head.headers()), get_headers, "{path}");
        assert!(head.bytes().await.unwrap().is_empty(), "{path}");
    }
}

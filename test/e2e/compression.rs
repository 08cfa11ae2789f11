//! Compressed answers: each coding decodes to exactly the identity bytes, has its own ETag and
//! its own 304, says `Vary`, and is chosen by `Accept-Encoding` as its q-values say. And the
//! lean post: fields holding their empty value are left out.

use std::io::Read;
use std::time::Duration;

use reqwest::header::HeaderMap;
use serde_json::{json, Value};

use crate::harness::*;

/// A reply long enough that a thread of a few of them is well over the 1 KiB threshold.
const TEXT: &str = "Agreed with the post above. I measured the same thing on two machines and \
                    got numbers within a few percent of each other.\nThe difference only shows \
                    under load, so test with real traffic before you decide.";

fn header(headers: &HeaderMap, name: &str) -> Option<String> {
    headers.get(name).map(|v| v.to_str().unwrap().to_owned())
}

fn decode(coding: &str, bytes: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    match coding {
        "gzip" => {
            flate2::read::GzDecoder::new(bytes)
                .read_to_end(&mut out)
                .unwrap();
        }
        "zstd" => {
            zstd::stream::read::Decoder::new(bytes)
                .unwrap()
                .read_to_end(&mut out)
                .unwrap();
        }
        other => panic!("unexpected coding {other}"),
    }
    out
}

/// Three short threads, then a thread of an OP and eight replies on /b/ (so every listing is
/// over 1 KiB); returns the long thread's number.
async fn long_thread(s: &Server) -> u64 {
    for _ in 0..3 {
        s.thread("b", TEXT).await;
    }
    let t = s.thread("b", TEXT).await;
    for _ in 0..8 {
        s.reply("b", t, json!({ "body": TEXT })).await;
    }
    t
}

/// GETs `path` with `Accept-Encoding: gzip` until the answer comes gzipped: the copies are made
/// just after the first read builds the body. Gives up after a few seconds.
async fn until_compressed(s: &Server, path: &str) {
    for _ in 0..500 {
        let (status, headers, _) = s.get_bytes(path, &[("accept-encoding", "gzip")]).await;
        assert_eq!(status, 200, "{path}");
        if header(&headers, "content-encoding").as_deref() == Some("gzip") {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("{path} never came gzipped");
}

/// Every check of one compressible path: decodes, ETags, 304s, HEAD, `Vary`.
async fn check_codings(s: &Server, path: &str) {
    until_compressed(s, path).await;
    let (status, headers, identity) = s.get_bytes(path, &[]).await;
    assert_eq!(status, 200, "{path}");
    assert_eq!(header(&headers, "content-encoding"), None, "{path}");
    assert_eq!(header(&headers, "vary").as_deref(), Some("accept-encoding"));
    let identity_tag = header(&headers, "etag").unwrap();
    let mut tags = vec![identity_tag.clone()];
    for coding in ["gzip", "zstd"] {
        let accept = [("accept-encoding", coding)];
        let (status, headers, bytes) = s.get_bytes(path, &accept).await;
        assert_eq!(status, 200, "{path} {coding}");
        assert_eq!(
            header(&headers, "content-encoding").as_deref(),
            Some(coding)
        );
        assert_eq!(header(&headers, "vary").as_deref(), Some("accept-encoding"));
        assert!(bytes.len() < identity.len() / 2, "{path} {coding}");
        assert_eq!(decode(coding, &bytes), identity, "{path} {coding}");
        let tag = header(&headers, "etag").unwrap();
        assert!(tag.starts_with('"') && tag.ends_with('"'), "{tag}");
        tags.push(tag.clone());

        // Its own ETag revalidates in its own coding, and only there.
        let with_tag = [("accept-encoding", coding), ("if-none-match", tag.as_str())];
        let (status, headers, body) = s.get_bytes(path, &with_tag).await;
        assert_eq!(status, 304, "{path} {coding}");
        assert!(body.is_empty());
        assert_eq!(header(&headers, "etag"), Some(tag.clone()));
        assert_eq!(header(&headers, "vary").as_deref(), Some("accept-encoding"));
        let (status, _, body) = s.get_bytes(path, &[("if-none-match", &tag)]).await;
        assert_eq!((status.as_u16(), body), (200, identity.clone()), "{path}");

        // HEAD says what GET would send, without the body.
        let (status, headers, body) = s.request_bytes("HEAD", path, &accept).await;
        assert_eq!(status, 200);
        assert!(body.is_empty());
        assert_eq!(
            header(&headers, "content-encoding").as_deref(),
            Some(coding)
        );
        assert_eq!(header(&headers, "etag"), Some(tag));
        assert_eq!(
            header(&headers, "content-length"),
            Some(bytes.len().to_string()),
            "{path} {coding}"
        );
    }
    let with_tag = [("if-none-match", identity_tag.as_str())];
    assert_eq!(s.get_bytes(path, &with_tag).await.0, 304, "{path}");
    tags.sort();
    tags.dedup();
    assert_eq!(tags.len(), 3, "one ETag per coding: {tags:?}");
}

#[tokio::test]
async fn cached_json_comes_in_each_coding_with_its_own_etag() {
    let s = Server::start().await;
    let t = long_thread(&s).await;
    for path in [
        format!("/api/boards/b/threads/{t}"),
        "/api/boards/b/catalog".to_owned(),
        "/api/boards/b/index".to_owned(),
        "/api/recent".to_owned(),
        "/api/openapi.json".to_owned(),
        format!("/b/thread/{t}.json"),
        "/b/catalog.json".to_owned(),
        "/b/1.json".to_owned(),
    ] {
        check_codings(&s, &path).await;
    }
}

#[tokio::test]
async fn web_client_files_come_in_each_coding() {
    let s = Server::start().await;
    let (_, _, page) = s.get_bytes("/", &[]).await;
    let page = String::from_utf8(page).unwrap();
    let urls: Vec<String> = page
        .split("\"/app/")
        .skip(1)
        .map(|rest| format!("/app/{}", rest.split('"').next().unwrap()))
        .filter(|url| url.matches('.').count() == 2)
        .collect();
    let big = urls
        .iter()
        .filter(|u| u.ends_with(".js") || u.ends_with(".css"))
        .collect::<Vec<_>>();
    assert!(big.len() >= 5, "{urls:?}");
    for url in big {
        let (_, _, identity) = s.get_bytes(url, &[]).await;
        if identity.len() >= 1024 {
            check_codings(&s, url).await;
        }
    }
    // The entry page is made per path and is not compressed.
    let (_, headers, _) = s.get_bytes("/", &[("accept-encoding", "gzip")]).await;
    assert_eq!(header(&headers, "content-encoding"), None);
}

#[tokio::test]
async fn accept_encoding_is_honoured_as_written() {
    let s = Server::start().await;
    let t = long_thread(&s).await;
    let path = format!("/api/boards/b/threads/{t}");
    until_compressed(&s, &path).await;
    let cases = [
        ("gzip", Some("gzip")),
        ("zstd", Some("zstd")),
        ("gzip, deflate, br, zstd", Some("zstd")),
        ("gzip, deflate, br", Some("gzip")),
        ("gzip;q=1.0, zstd;q=0.5", Some("gzip")),
        ("GZIP", Some("gzip")),
        ("*", Some("zstd")),
        ("*;q=0.5, zstd;q=0", Some("gzip")),
        // q=0 refuses a coding.
        ("gzip;q=0", None),
        ("zstd;q=0, gzip;q=0", None),
        ("*;q=0", None),
        ("gzip;q=0.4, identity;q=0.5", None),
        ("gzip, identity;q=0", Some("gzip")),
        // Unknown codings fall back to identity.
        ("br", None),
        ("compress, deflate", None),
        ("identity", None),
        ("", None),
        // A malformed header is ignored as a whole.
        ("gzip;q=2", None),
        ("gzip;q=0.12345", None),
        ("gzip;level=9", None),
        ("zstd, gzip;q=x", None),
    ];
    let mut failures = Vec::new();
    for (accept, expected) in cases {
        let (status, headers, bytes) = s.get_bytes(&path, &[("accept-encoding", accept)]).await;
        let got = header(&headers, "content-encoding");
        if status != 200 || got.as_deref() != expected {
            failures.push(format!("{accept:?}: {status} {got:?}, wanted {expected:?}"));
        }
        if got.is_none() {
            serde_json::from_slice::<Value>(&bytes).unwrap();
        }
    }
    assert!(failures.is_empty(), "{failures:#?}");
}

#[tokio::test]
async fn short_bodies_and_slices_are_sent_as_they_are() {
    let s = Server::start().await;
    let t = long_thread(&s).await;
    let path = format!("/api/boards/b/threads/{t}");
    until_compressed(&s, &path).await;
    let gzip = [("accept-encoding", "gzip, zstd")];
    // Under 1 KiB: no copies, and nothing to vary.
    for short in ["/api/boards/b", "/api/boards", "/healthz"] {
        let (status, headers, _) = s.get_bytes(short, &gzip).await;
        assert_eq!(status, 200, "{short}");
        assert_eq!(header(&headers, "content-encoding"), None, "{short}");
        assert_eq!(header(&headers, "vary"), None, "{short}");
    }
    // `?after=` cuts the identity body; the cut is sent as it is.
    let whole = s.get(&path).await.json;
    let second = whole["thread"]["posts"][1]["no"].as_u64().unwrap();
    let (status, headers, bytes) = s.get_bytes(&format!("{path}?after={second}"), &gzip).await;
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-encoding"), None);
    let after: Value = serde_json::from_slice(&bytes).unwrap();
    assert_eq!(after["thread"]["posts"].as_array().unwrap().len(), 7);
    // A range is not served on JSON: the whole body comes, in the chosen coding.
    let (status, headers, _) = s
        .get_bytes(
            &path,
            &[("accept-encoding", "gzip"), ("range", "bytes=0-9")],
        )
        .await;
    assert_eq!(status, 200);
    assert_eq!(
        header(&headers, "content-encoding").as_deref(),
        Some("gzip")
    );
    assert_eq!(header(&headers, "content-range"), None);
}

#[tokio::test]
async fn a_change_is_served_at_once_then_compressed_again() {
    let s = Server::start().await;
    let t = long_thread(&s).await;
    let path = format!("/api/boards/b/threads/{t}");
    until_compressed(&s, &path).await;
    let (_, headers, _) = s.get_bytes(&path, &[("accept-encoding", "gzip")]).await;
    let old_tag = header(&headers, "etag").unwrap();
    let no = s.reply("b", t, json!({ "body": "fresh" })).await;
    // Whatever coding it comes in, the first answer after the reply already holds it.
    let (status, headers, bytes) = s.get_bytes(&path, &[("accept-encoding", "gzip")]).await;
    assert_eq!(status, 200);
    let body = match header(&headers, "content-encoding") {
        Some(coding) => decode(&coding, &bytes),
        None => bytes,
    };
    let thread: Value = serde_json::from_slice(&body).unwrap();
    assert_eq!(thread["thread"]["posts"][9]["no"], no);
    let stale = [
        ("accept-encoding", "gzip"),
        ("if-none-match", old_tag.as_str()),
    ];
    assert_eq!(s.get_bytes(&path, &stale).await.0, 200);
    until_compressed(&s, &path).await;
    let (_, _, bytes) = s.get_bytes(&path, &[("accept-encoding", "gzip")]).await;
    let again: Value = serde_json::from_slice(&decode("gzip", &bytes)).unwrap();
    assert_eq!(again, thread);
}

/// The keys of a JSON object, sorted.
fn keys(v: &Value) -> Vec<&str> {
    let mut keys: Vec<&str> = v.as_object().unwrap().keys().map(String::as_str).collect();
    keys.sort_unstable();
    keys
}

#[tokio::test]
async fn posts_leave_out_what_is_empty_and_html_that_is_only_text() {
    let s = Server::with_config(
        r#"
[[boards]]
slug = "b"
title = "Random"
poster_ids = true
"#,
    )
    .await;
    let t = s.thread("b", "plain <text> & 'quotes'\nsecond line").await;
    let marked = s
        .reply(
            "b",
            t,
            json!({ "body": format!(">>{t} **bold**"), "sage": true }),
        )
        .await;
    let tripped = s
        .reply("b", t, json!({ "name": "me#secret", "body": "signed" }))
        .await;
    let thread = s.get(&format!("/api/boards/b/threads/{t}")).await.json;
    let posts = thread["thread"]["posts"].as_array().unwrap();
    let base = ["board", "body", "created_at", "id", "name", "no", "thread"];
    // The OP: plain text, so no html; it is quoted, so it has backlinks.
    let op = &posts[0];
    let mut want = base.to_vec();
    want.push("backlinks");
    want.sort_unstable();
    assert_eq!(keys(op), want, "{op}");
    assert_eq!(op["backlinks"], json!([marked]));
    // Markup: html is there, and so is sage.
    let reply = &posts[1];
    let mut want = base.to_vec();
    want.extend(["html", "sage"]);
    want.sort_unstable();
    assert_eq!(keys(reply), want, "{reply}");
    assert_eq!(reply["sage"], true);
    assert!(reply["html"]
        .as_str()
        .unwrap()
        .contains("<strong>bold</strong>"));
    // A tripcode and an empty body: the trip is there, html is not.
    let third = &posts[2];
    assert_eq!(third["no"], tripped);
    let mut want = base.to_vec();
    want.push("trip");
    want.sort_unstable();
    assert_eq!(keys(third), want, "{third}");
    // The same rule everywhere a post is served.
    let single = s.get(&format!("/api/boards/b/posts/{t}")).await.json;
    assert_eq!(&single["post"], op);
    let catalog = s.get("/api/boards/b/catalog").await.json;
    assert!(catalog["threads"][0].get("html").is_none());
    assert!(catalog["threads"][0].get("files").is_none());
    let recent = s.get("/api/recent").await.json;
    assert_eq!(&recent["posts"][0], third);
    // The document says the same (absent fields are not required, present ones are non-empty).
    let spec: Value = s.get("/api/openapi.json").await.json;
    let post = &spec["components"]["schemas"]["PostFields"];
    let mut required: Vec<&str> = post["required"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    required.sort_unstable();
    assert_eq!(
        required,
        ["board", "body", "created_at", "name", "no", "thread"]
    );
}

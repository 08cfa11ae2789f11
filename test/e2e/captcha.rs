//! Captcha: the challenge route, then every way a post's answer can be wrong (missing, wrong,
//! reused, another board's, another address's, expired), a proof of work solved here as a
//! browser would, a text picture checked for what a test can check, staff skipping it, and
//! `auto` turning it on under a burst of posts.

use base64::Engine;
use reqwest::multipart::{Form, Part};
use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::harness::{Reply, Server};
use crate::session::{Session, ACCOUNTS, PASSWORD};

const BOARDS: &str = r#"
[captcha]
pow_bits = 10
challenges_per_address_per_minute = 20
auto_posts_per_minute = 5

[[boards]]
slug = "p"
title = "Proof of work"
captcha = "pow"

[[boards]]
slug = "q"
title = "Another"
captcha = "pow"

[[boards]]
slug = "x"
title = "Text"
captcha = "text"

[[boards]]
slug = "a"
title = "Auto"
captcha = "auto"

[[boards]]
slug = "o"
title = "Off"
"#;

async fn server(extra: &str) -> Server {
    Server::with_config(&format!("{BOARDS}\n{extra}\n{ACCOUNTS}")).await
}

/// A request from one client address (the default config trusts `X-Forwarded-For` from
/// loopback).
fn from(server: &Server, method: reqwest::Method, path: &str, ip: &str) -> reqwest::RequestBuilder {
    server
        .client
        .request(method, server.url(path))
        .header("x-forwarded-for", ip)
}

async fn challenge(server: &Server, board: &str, ip: &str) -> Value {
    let path = format!("/api/boards/{board}/captcha");
    let r = server
        .send(from(server, reqwest::Method::GET, &path, ip))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    r.json
}

fn zero_bits(digest: &[u8]) -> u32 {
    let mut bits = 0;
    for b in digest {
        if *b != 0 {
            return bits + b.leading_zeros();
        }
        bits += 8;
    }
    bits
}

fn holds(id: &str, nonce: u64, bits: u32) -> bool {
    zero_bits(&Sha256::digest(format!("{id}:{nonce}").as_bytes())) >= bits
}

/// Solves a proof of work as a browser client does: counting nonces from 0.
fn solve(c: &Value) -> String {
    let (id, bits) = (
        c["id"].as_str().unwrap(),
        c["bits"].as_u64().unwrap() as u32,
    );
    (0u64..).find(|n| holds(id, *n, bits)).unwrap().to_string()
}

/// A nonce that does not solve it.
fn wrong(c: &Value) -> String {
    let (id, bits) = (
        c["id"].as_str().unwrap(),
        c["bits"].as_u64().unwrap() as u32,
    );
    (0u64..).find(|n| !holds(id, *n, bits)).unwrap().to_string()
}

async fn post(server: &Server, path: &str, ip: &str, body: Value) -> Reply {
    server
        .send(from(server, reqwest::Method::POST, path, ip).json(&body))
        .await
}

fn with(c: &Value, answer: &str, body: Value) -> Value {
    let mut body = body;
    body["captcha_id"] = c["id"].clone();
    body["captcha_answer"] = json!(answer);
    body
}

async fn thread_count(server: &Server, board: &str) -> usize {
    let r = server.get(&format!("/api/boards/{board}/catalog")).await;
    r.json["threads"].as_array().map_or(0, Vec::len)
}

#[tokio::test]
async fn the_challenge_route_is_checked_and_bounded() {
    let server = server("").await;
    server
        .get("/api/boards/nope/captcha")
        .await
        .assert_error(404, "board_not_found");
    server
        .get("/api/boards/p/captcha?x=1")
        .await
        .assert_error(400, "invalid_query");
    let r = server.post("/api/boards/p/captcha", json!({})).await;
    r.assert_error(405, "method_not_allowed");
    assert_eq!(
        challenge(&server, "o", "10.0.1.1").await,
        json!({ "mode": "off" })
    );
    let c = challenge(&server, "p", "10.0.1.1").await;
    assert_eq!(c["mode"], "pow");
    assert_eq!(c["bits"], 10);
    let id = c["id"].as_str().unwrap();
    assert!(
        id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()),
        "{id}"
    );
    assert!(c["expires_at"].as_u64().unwrap() > 1_700_000_000);
    assert_ne!(challenge(&server, "p", "10.0.1.1").await["id"], c["id"]);
    // 20 a minute per network: this one has fetched 2 (the `off` answer is free).
    for _ in 0..18 {
        challenge(&server, "p", "10.0.1.1").await;
    }
    let r = server
        .send(from(
            &server,
            reqwest::Method::GET,
            "/api/boards/x/captcha",
            "10.0.1.1",
        ))
        .await;
    r.assert_error(429, "rate_limited");
    assert!(r.header("retry-after").parse::<u64>().unwrap() >= 1);
    challenge(&server, "p", "10.0.1.2").await;
}

#[tokio::test]
async fn wrong_answers_are_refused_and_change_nothing() {
    let server = server("").await;
    let ip = "10.0.2.1";
    let threads = "/api/boards/p/threads";
    let body = json!({ "body": "spam?" });
    // Missing.
    post(&server, threads, ip, body.clone())
        .await
        .assert_error(403, "captcha_required");
    let c = challenge(&server, "p", ip).await;
    let only_id = json!({ "body": "x", "captcha_id": c["id"] });
    post(&server, threads, ip, only_id)
        .await
        .assert_error(403, "captcha_required");
    // Malformed.
    let cases = [
        (
            json!({ "body": "x", "captcha_id": 5, "captcha_answer": "1" }),
            400,
            "invalid_type",
        ),
        (
            json!({ "body": "x", "captcha_id": "a", "captcha_answer": "1".repeat(65) }),
            400,
            "too_long",
        ),
    ];
    for (body, status, code) in cases {
        let r = post(&server, threads, ip, body.clone()).await;
        assert_eq!((r.status.as_u16(), r.code()), (status, code), "{body}");
    }
    // Wrong, then that challenge is spent even with the right answer.
    let c = challenge(&server, "p", ip).await;
    post(&server, threads, ip, with(&c, &wrong(&c), body.clone()))
        .await
        .assert_error(403, "captcha_failed");
    post(&server, threads, ip, with(&c, &solve(&c), body.clone()))
        .await
        .assert_error(403, "captcha_failed");
    // Another board's challenge.
    let other = challenge(&server, "q", ip).await;
    let r = post(
        &server,
        threads,
        ip,
        with(&other, &solve(&other), body.clone()),
    )
    .await;
    r.assert_error(403, "captcha_failed");
    assert!(r.json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("another board"));
    // Another address's.
    let theirs = challenge(&server, "p", "10.0.2.2").await;
    let r = post(
        &server,
        threads,
        ip,
        with(&theirs, &solve(&theirs), body.clone()),
    )
    .await;
    r.assert_error(403, "captcha_failed");
    assert!(r.json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("another address"));
    // An id never issued.
    let forged = json!({ "id": "0".repeat(32), "bits": 10 });
    post(
        &server,
        threads,
        ip,
        with(&forged, &solve(&forged), body.clone()),
    )
    .await
    .assert_error(403, "captcha_failed");
    assert_eq!(thread_count(&server, "p").await, 0, "nothing was posted");

    // Solved as a browser would: the thread is posted; the same answer again is refused.
    let c = challenge(&server, "p", ip).await;
    let solved = with(&c, &solve(&c), json!({ "body": "hello" }));
    let r = post(&server, threads, ip, solved.clone()).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let no = r.json["thread"].as_u64().unwrap();
    post(&server, threads, ip, solved)
        .await
        .assert_error(403, "captcha_failed");
    // Replies too, JSON and multipart; in multipart the answer must come before the file.
    let replies = format!("/api/boards/p/threads/{no}/posts");
    post(&server, &replies, ip, json!({ "body": "re" }))
        .await
        .assert_error(403, "captcha_required");
    let c = challenge(&server, "p", ip).await;
    let r = post(
        &server,
        &replies,
        ip,
        with(&c, &solve(&c), json!({ "body": "re" })),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let png = || Part::bytes(crate::uploads::png(8, 8, [200, 30, 30])).file_name("a.png");
    let c = challenge(&server, "p", ip).await;
    let late = Form::new()
        .text("body", "file first")
        .part("file", png())
        .text("captcha_id", c["id"].as_str().unwrap().to_owned())
        .text("captcha_answer", solve(&c));
    let req = from(&server, reqwest::Method::POST, &replies, ip).multipart(late);
    server.send(req).await.assert_error(403, "captcha_required");
    let none = Form::new().text("body", "no answer").part("file", png());
    let req = from(&server, reqwest::Method::POST, &replies, ip).multipart(none);
    server.send(req).await.assert_error(403, "captcha_required");
    let c = challenge(&server, "p", ip).await;
    let right = Form::new()
        .text("captcha_id", c["id"].as_str().unwrap().to_owned())
        .text("captcha_answer", solve(&c))
        .text("body", "with a file")
        .part("file", png());
    let req = from(&server, reqwest::Method::POST, &replies, ip).multipart(right);
    let r = server.send(req).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let thread = server.get(&format!("/api/boards/p/threads/{no}")).await;
    assert_eq!(thread.json["thread"]["posts"].as_array().unwrap().len(), 3);
}

#[tokio::test]
async fn an_expired_challenge_is_refused() {
    let config = BOARDS.replace("pow_bits = 10", "pow_bits = 10\nchallenge_secs = 1");
    let server2 = Server::with_config(&format!("{config}\n{ACCOUNTS}")).await;
    let c = challenge(&server2, "p", "10.0.3.1").await;
    let answer = solve(&c);
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    let r = post(
        &server2,
        "/api/boards/p/threads",
        "10.0.3.1",
        with(&c, &answer, json!({ "body": "late" })),
    )
    .await;
    r.assert_error(403, "captcha_failed");
    assert!(r.json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("expired"));
}

#[tokio::test]
async fn a_text_captcha_is_a_picture_and_refuses_wrong_and_reused_answers() {
    let server = server("").await;
    let ip = "10.0.4.1";
    let c = challenge(&server, "x", ip).await;
    assert_eq!(c["mode"], "text");
    assert_eq!(
        (c["width"].as_u64(), c["height"].as_u64()),
        (Some(240), Some(80))
    );
    let data = c["image"].as_str().unwrap();
    let b64 = data.strip_prefix("data:image/png;base64,").unwrap();
    let png = base64::engine::general_purpose::STANDARD
        .decode(b64)
        .unwrap();
    let img = image::load_from_memory_with_format(&png, image::ImageFormat::Png).unwrap();
    assert_eq!((img.width(), img.height()), (240, 80));
    let threads = "/api/boards/x/threads";
    post(&server, threads, ip, json!({ "body": "t" }))
        .await
        .assert_error(403, "captcha_required");
    // Characters outside the alphabet can never be the answer.
    post(
        &server,
        threads,
        ip,
        with(&c, "000000", json!({ "body": "t" })),
    )
    .await
    .assert_error(403, "captcha_failed");
    let r = post(
        &server,
        threads,
        ip,
        with(&c, "000000", json!({ "body": "t" })),
    )
    .await;
    r.assert_error(403, "captcha_failed");
    assert!(r.json["error"]["message"]
        .as_str()
        .unwrap()
        .contains("already used"));
    assert_eq!(thread_count(&server, "x").await, 0);
}

#[tokio::test]
async fn staff_skip_the_captcha() {
    let server = server("").await;
    let root = Session::signup(&server, "root", PASSWORD).await;
    let r = root
        .post(&server, "/api/boards/p/threads", json!({ "body": "staff" }))
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    // A plain user is no staff.
    let ann = Session::signup(&server, "ann", PASSWORD).await;
    ann.post(&server, "/api/boards/p/threads", json!({ "body": "user" }))
        .await
        .assert_error(403, "captcha_required");
    // The setting is in the board's JSON and the admin API changes it.
    assert_eq!(
        server.get("/api/boards/o").await.json["board"]["captcha"],
        "off"
    );
    let r = root
        .post(
            &server,
            "/api/admin/boards/o",
            json!({ "captcha": "always" }),
        )
        .await;
    r.assert_error(400, "invalid_value");
    let r = root
        .post(&server, "/api/admin/boards/o", json!({ "captcha": "pow" }))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(challenge(&server, "o", "10.0.5.1").await["mode"], "pow");
    post(
        &server,
        "/api/boards/o/threads",
        "10.0.5.1",
        json!({ "body": "now" }),
    )
    .await
    .assert_error(403, "captcha_required");
}

#[tokio::test]
async fn auto_turns_the_captcha_on_under_a_burst_of_posts() {
    let server = server("").await;
    let ip = "10.0.6.1";
    assert_eq!(challenge(&server, "a", ip).await, json!({ "mode": "off" }));
    let r = post(
        &server,
        "/api/boards/a/threads",
        ip,
        json!({ "body": "op" }),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let no = r.json["thread"].as_u64().unwrap();
    let replies = format!("/api/boards/a/threads/{no}/posts");
    // Five posts a minute turn it on: the OP and four replies.
    for i in 0..4 {
        let r = post(&server, &replies, ip, json!({ "body": format!("r{i}") })).await;
        assert_eq!(r.status, 201, "{}", r.json);
    }
    post(&server, &replies, ip, json!({ "body": "one more" }))
        .await
        .assert_error(403, "captcha_required");
    let c = challenge(&server, "a", ip).await;
    assert_eq!(c["mode"], "pow");
    let r = post(
        &server,
        &replies,
        ip,
        with(&c, &solve(&c), json!({ "body": "solved" })),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.json);
    // Other boards are not affected.
    assert_eq!(challenge(&server, "o", ip).await, json!({ "mode": "off" }));
}

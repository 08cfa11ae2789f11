//! Flood control: cooldowns per client network, duplicate text, threads per minute, the
//! request budget, what boards.json reports, and staff who skip them.

mod dnsbl;

use std::time::Duration;

use reqwest::multipart::Form;
use serde_json::{json, Value};

use crate::harness::{Reply, Server};
use crate::session::{Session, ACCOUNTS, PASSWORD};
use crate::uploads::{file_part, png};
use crate::validation::refused;

/// A JSON POST from `client` (X-Forwarded-For from 127.0.0.1 is trusted, as from nginx).
async fn post_as(s: &Server, client: &str, path: &str, body: Value) -> Reply {
    let req = s
        .client
        .post(s.url(path))
        .header("x-forwarded-for", client)
        .json(&body);
    s.send(req).await
}

/// A reply with one small PNG from `client`.
async fn reply_with_file(s: &Server, client: &str, board: &str, thread: u64, body: &str) -> Reply {
    let form = Form::new()
        .part("file", file_part(png(8, 8, [200, 40, 40]), "a.png"))
        .text("body", body.to_owned());
    let req = s
        .client
        .post(s.url(&format!("/api/boards/{board}/threads/{thread}/posts")))
        .header("x-forwarded-for", client)
        .multipart(form);
    s.send(req).await
}

async fn open_as(s: &Server, client: &str, board: &str, body: &str) -> Reply {
    let path = format!("/api/boards/{board}/threads");
    post_as(s, client, &path, json!({ "body": body })).await
}

async fn reply_as(s: &Server, client: &str, board: &str, thread: u64, body: &str) -> Reply {
    let path = format!("/api/boards/{board}/threads/{thread}/posts");
    post_as(s, client, &path, json!({ "body": body })).await
}

#[track_caller]
fn created(r: &Reply) -> u64 {
    assert_eq!(r.status, 201, "{}", r.json);
    r.json["no"].as_u64().unwrap()
}

/// Asserts a 429 with `code` and returns its Retry-After, which must be there and sane.
#[track_caller]
fn too_soon(r: &Reply, code: &str, field: Option<&str>, most: u64) -> u64 {
    refused(r, 429, code, field);
    let secs: u64 = r
        .header("retry-after")
        .parse()
        .unwrap_or_else(|_| panic!("no Retry-After: {:?}", r.headers));
    assert!(
        (1..=most).contains(&secs),
        "Retry-After {secs}, at most {most}"
    );
    secs
}

/// /t/: cooldowns of 2 s for threads and replies, none for files; /i/: 2 s for replies with
/// files only; /d/: the duplicate window alone; /c/: two threads a minute.
const BOARDS: &str = r#"
flood_control = true

[[boards]]
slug = "t"
title = "Cooldowns"
cooldown_threads_secs = 2
cooldown_replies_secs = 2
cooldown_images_secs = 0
duplicate_window_secs = 0
max_threads_per_minute = 0

[[boards]]
slug = "i"
title = "Images"
cooldown_threads_secs = 0
cooldown_replies_secs = 0
cooldown_images_secs = 2
duplicate_window_secs = 0

[[boards]]
slug = "d"
title = "Duplicates"
cooldown_threads_secs = 0
cooldown_replies_secs = 0
cooldown_images_secs = 0
duplicate_window_secs = 2

[[boards]]
slug = "c"
title = "Capped"
cooldown_threads_secs = 0
cooldown_replies_secs = 0
cooldown_images_secs = 0
duplicate_window_secs = 0
max_threads_per_minute = 2
"#;

async fn flood_server() -> Server {
    Server::with_config(&format!("{BOARDS}\n{ACCOUNTS}")).await
}

#[tokio::test]
async fn each_cooldown_refuses_then_allows_after_retry_after() {
    let s = flood_server().await;
    let a = "198.51.100.1";
    let thread = created(&open_as(&s, a, "t", "first thread").await);
    let mut waits = vec![too_soon(
        &open_as(&s, a, "t", "second thread").await,
        "cooldown",
        None,
        2,
    )];
    // Lanes are separate: a reply right after a thread is taken.
    created(&reply_as(&s, a, "t", thread, "reply one").await);
    waits.push(too_soon(
        &reply_as(&s, a, "t", thread, "reply two").await,
        "cooldown",
        None,
        2,
    ));
    // Another address has its own cooldown.
    created(&reply_as(&s, "198.51.100.2", "t", thread, "someone else").await);
    // One IPv6 /64 is one client; the next /64 is another.
    created(&reply_as(&s, "2001:db8:1:2::1", "t", thread, "v6 one").await);
    waits.push(too_soon(
        &reply_as(&s, "2001:db8:1:2:ffff::9", "t", thread, "v6 same /64").await,
        "cooldown",
        None,
        2,
    ));
    created(&reply_as(&s, "2001:db8:1:3::1", "t", thread, "v6 next /64").await);
    // A refused post starts no cooldown of its own: an empty body from a fresh address is
    // refused, and that address's next reply is taken.
    let r = reply_as(&s, "198.51.100.3", "t", thread, "").await;
    refused(&r, 400, "empty", Some("body"));
    created(&reply_as(&s, "198.51.100.3", "t", thread, "now with text").await);

    // Replies with files have a cooldown of their own; text replies do not wait for it.
    let img = created(&open_as(&s, a, "i", "image thread").await);
    created(&reply_with_file(&s, a, "i", img, "file one").await);
    waits.push(too_soon(
        &reply_with_file(&s, a, "i", img, "file two").await,
        "cooldown",
        None,
        2,
    ));
    created(&reply_as(&s, a, "i", img, "text between files").await);

    let longest = waits.into_iter().max().unwrap();
    tokio::time::sleep(Duration::from_millis(longest * 1000 + 100)).await;
    created(&open_as(&s, a, "t", "second thread").await);
    created(&reply_as(&s, a, "t", thread, "reply two").await);
    created(&reply_as(&s, "2001:db8:1:2:ffff::9", "t", thread, "v6 same /64").await);
    created(&reply_with_file(&s, a, "i", img, "file two").await);
}

#[tokio::test]
async fn the_same_text_is_refused_on_the_board_within_its_window() {
    let s = flood_server().await;
    let thread = created(&open_as(&s, "198.51.100.1", "d", "Buy cheap pills").await);
    // Anyone, in a reply or a new thread, with other case and spacing.
    let r = reply_as(&s, "198.51.100.2", "d", thread, "  buy CHEAP\npills ").await;
    let wait = too_soon(&r, "duplicate_text", Some("body"), 2);
    let r = open_as(&s, "198.51.100.3", "d", "buy cheap pills").await;
    too_soon(&r, "duplicate_text", Some("body"), 2);
    // Other text, and the same text on another board, are taken.
    created(&reply_as(&s, "198.51.100.2", "d", thread, "buy cheaper pills").await);
    created(&open_as(&s, "198.51.100.2", "i", "buy cheap pills").await);
    tokio::time::sleep(Duration::from_millis(wait * 1000 + 100)).await;
    created(&reply_as(&s, "198.51.100.2", "d", thread, "buy cheap pills").await);
}

#[tokio::test]
async fn a_board_takes_its_threads_per_minute_and_staff_skip_flood_control() {
    let s = flood_server().await;
    let capped = created(&open_as(&s, "198.51.100.1", "c", "one").await);
    created(&open_as(&s, "198.51.100.2", "c", "two").await);
    let r = open_as(&s, "198.51.100.3", "c", "three").await;
    too_soon(&r, "too_many_threads", None, 60);
    // Replies are not capped.
    created(&reply_as(&s, "198.51.100.4", "c", capped, "a reply").await);

    // Staff skip the cap, the cooldowns and the duplicate window.
    let root = Session::signup(&s, "root", PASSWORD).await;
    let body = |text: &str| json!({ "body": text });
    created(
        &root
            .post(&s, "/api/boards/c/threads", body("staff thread"))
            .await,
    );
    let thread = created(&open_as(&s, "198.51.100.1", "t", "cooldowns").await);
    let reply_path = format!("/api/boards/t/threads/{thread}/posts");
    created(&root.post(&s, &reply_path, body("staff reply 1")).await);
    created(&root.post(&s, &reply_path, body("staff reply 2")).await);
    created(
        &root
            .post(&s, "/api/boards/t/threads", body("staff thread 1"))
            .await,
    );
    created(
        &root
            .post(&s, "/api/boards/t/threads", body("staff thread 2"))
            .await,
    );
    created(
        &root
            .post(&s, "/api/boards/d/threads", body("same words"))
            .await,
    );
    created(
        &root
            .post(&s, "/api/boards/d/threads", body("same words"))
            .await,
    );
    // A plain account is no staff.
    let user = Session::signup(&s, "plain", PASSWORD).await;
    created(
        &user
            .post(&s, &reply_path, json!({ "body": "user one" }))
            .await,
    );
    let r = user
        .post(&s, &reply_path, json!({ "body": "user two" }))
        .await;
    too_soon(&r, "cooldown", None, 2);
}

#[tokio::test]
async fn boards_json_reports_the_cooldowns_the_admin_api_sets() {
    let s = flood_server().await;
    let cooldowns = |s: &Server| {
        let url = s.url("/boards.json");
        let client = s.client.clone();
        async move {
            let doc: Value = client.get(url).send().await.unwrap().json().await.unwrap();
            let t = doc["boards"]
                .as_array()
                .unwrap()
                .iter()
                .find(|b| b["board"] == "t")
                .unwrap()
                .clone();
            t["cooldowns"].clone()
        }
    };
    assert_eq!(
        cooldowns(&s).await,
        json!({ "threads": 2, "replies": 2, "images": 0 })
    );
    let root = Session::signup(&s, "root", PASSWORD).await;
    let path = "/api/admin/boards/t";
    for (patch, field) in [
        (
            json!({ "cooldown_replies_secs": 86_401 }),
            "cooldown_replies_secs",
        ),
        (
            json!({ "cooldown_images_secs": -1 }),
            "cooldown_images_secs",
        ),
        (
            json!({ "max_threads_per_minute": "5" }),
            "max_threads_per_minute",
        ),
    ] {
        let r = root.post(&s, path, patch.clone()).await;
        assert_eq!(r.status, 400, "{patch}: {}", r.json);
        assert_eq!(r.field(), field, "{}", r.json);
    }
    let patch = json!({ "cooldown_threads_secs": 900, "cooldown_images_secs": 45 });
    let r = root.post(&s, path, patch).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(
        cooldowns(&s).await,
        json!({ "threads": 900, "replies": 2, "images": 45 })
    );
    let board = s.get("/api/boards/t").await;
    assert_eq!(
        board.json["board"]["cooldown_threads_secs"], 900,
        "{}",
        board.json
    );
    assert_eq!(board.json["board"]["duplicate_window_secs"], 0);
}

#[tokio::test]
async fn the_request_budget_refuses_before_the_body_is_read() {
    let s = Server::with_config(&format!(
        "request_budget_per_minute = 60\nrequest_budget_burst = 3\n{ACCOUNTS}"
    ))
    .await;
    let g = "203.0.113.9";
    let thread = created(&open_as(&s, g, "b", "budget").await);
    created(&reply_as(&s, g, "b", thread, "two").await);
    // A refused post spends its request too: the budget counts requests, not posts.
    let r = reply_as(&s, g, "b", thread, "").await;
    refused(&r, 400, "empty", Some("body"));
    let r = reply_as(&s, g, "b", thread, "four").await;
    let wait = too_soon(&r, "rate_limited", None, 1);
    // Refused before the body is read: a broken body gets the same answer.
    let req = s
        .client
        .post(s.url(&format!("/api/boards/b/threads/{thread}/posts")))
        .header("x-forwarded-for", g)
        .header("content-type", "application/json")
        .body("{not json");
    too_soon(&s.send(req).await, "rate_limited", None, 1);
    // Login and deletion draw on the same budget.
    let login = json!({ "username": "nobody", "password": PASSWORD });
    too_soon(
        &post_as(&s, g, "/auth/login", login).await,
        "rate_limited",
        None,
        1,
    );
    // Reads are free, and another address has its own budget.
    assert_eq!(s.get("/api/boards/b/catalog").await.status, 200);
    created(&reply_as(&s, "203.0.113.10", "b", thread, "other").await);
    tokio::time::sleep(Duration::from_millis(wait * 1000 + 100)).await;
    created(&reply_as(&s, g, "b", thread, "four").await);
}

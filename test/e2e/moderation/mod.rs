//! Moderation through the API: reports and their queue, staff deletions, posters as staff see
//! them, the staff log and its public view, and the erasure of addresses. First every route is
//! broken (no session, wrong role, another board's janitor, forged numbers, malformed bodies),
//! then the flows run with real staff sessions and several client addresses.

use serde_json::{json, Value};

use crate::admin_boards::{admin, staff};
use crate::harness::*;
use crate::session::{Session, ACCOUNTS};

mod erasure;
mod flows;
mod live_counts;
mod moving;
mod refusals;
mod spam_flow;

/// Open signup, `root` an admin by config, boards /t/ and /u/; `extra` goes at the top level.
pub fn config(extra: &str) -> String {
    format!(
        "{extra}\n{ACCOUNTS}\n{}",
        r#"
[[boards]]
slug = "t"
title = "Test"

[[boards]]
slug = "u"
title = "Other"
"#
    )
}

/// A request from client address `ip` (the test's loopback is a trusted proxy).
pub fn from(s: &Server, ip: &str, path: &str) -> reqwest::RequestBuilder {
    s.client.post(s.url(path)).header("x-forwarded-for", ip)
}

/// Opens a thread on `board` from `ip`; its number.
pub async fn thread_from(s: &Server, ip: &str, board: &str, body: &str) -> u64 {
    let path = format!("/api/boards/{board}/threads");
    let r = s
        .send(from(s, ip, &path).json(&json!({ "body": body })))
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    r.json["no"].as_u64().unwrap()
}

/// Replies from `ip`; the reply's number.
pub async fn reply_from(s: &Server, ip: &str, board: &str, thread: u64, body: &str) -> u64 {
    let path = format!("/api/boards/{board}/threads/{thread}/posts");
    let r = s
        .send(from(s, ip, &path).json(&json!({ "body": body })))
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    r.json["no"].as_u64().unwrap()
}

/// Reports post `no` from `ip`.
pub async fn report_from(s: &Server, ip: &str, board: &str, no: u64, body: Value) -> Reply {
    let path = format!("/api/boards/{board}/posts/{no}/report");
    s.send(from(s, ip, &path).json(&body)).await
}

/// Whether post `no` is there (200) or gone (410).
pub async fn exists(s: &Server, board: &str, no: u64) -> bool {
    let r = s.get(&format!("/api/boards/{board}/posts/{no}")).await;
    match r.status.as_u16() {
        200 => true,
        410 => false,
        other => panic!("post {no}: {other} {}", r.json),
    }
}

/// The admin, a janitor of /t/ and a janitor of /u/.
pub async fn team(s: &Server) -> (Session, Session, Session) {
    let root = admin(s).await;
    let jan = staff(s, &root, "jan", "janitor", &["t"]).await;
    let other = staff(s, &root, "ulla", "janitor", &["u"]).await;
    (root, jan, other)
}

//! Bans through HTTP: every route broken first (no session, wrong role, another board's
//! moderator, malformed networks and durations, forged ids, appeals from elsewhere), then
//! range bans in IPv4 and IPv6, board and global scope, expiry, the public mark in both APIs,
//! and the ban → appeal → answer flows. `X-Forwarded-For` (trusted from 127.0.0.1) lets one
//! test act as many client addresses.

use serde_json::{json, Value};

use crate::admin_boards::{admin, staff};
use crate::harness::*;
use crate::session::{Session, ACCOUNTS};

mod flows;
mod refusals;

/// Open signup, `root` an admin by config, boards /t/ and /u/.
pub fn config() -> String {
    format!(
        "{ACCOUNTS}\n{}",
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

/// The staff of these tests: an admin, a global moderator, /t/'s moderator and janitor, and
/// /u/'s moderator.
pub struct Staff {
    pub root: Session,
    pub global: Session,
    pub t_mod: Session,
    pub t_janitor: Session,
    pub u_mod: Session,
}

pub async fn team(s: &Server) -> Staff {
    let root = admin(s).await;
    Staff {
        global: staff(s, &root, "gina", "global_mod", &[]).await,
        t_mod: staff(s, &root, "tom", "board_mod", &["t"]).await,
        t_janitor: staff(s, &root, "jan", "janitor", &["t"]).await,
        u_mod: staff(s, &root, "uma", "board_mod", &["u"]).await,
        root,
    }
}

/// A new thread on `board` from client address `from`; the reply as it came.
pub async fn thread_from(s: &Server, from: &str, board: &str, body: &str) -> Reply {
    let req = s
        .client
        .post(s.url(&format!("/api/boards/{board}/threads")))
        .header("x-forwarded-for", from)
        .json(&json!({ "body": body }));
    s.send(req).await
}

/// A reply from `from`.
pub async fn reply_from(s: &Server, from: &str, board: &str, thread: u64, body: &str) -> Reply {
    let req = s
        .client
        .post(s.url(&format!("/api/boards/{board}/threads/{thread}/posts")))
        .header("x-forwarded-for", from)
        .json(&json!({ "body": body }));
    s.send(req).await
}

/// `GET /api/bans/mine` from `from`.
pub async fn mine(s: &Server, from: &str) -> Value {
    let r = s
        .get_with("/api/bans/mine", &[("x-forwarded-for", from)])
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    r.json
}

/// `POST /api/bans/{id}/appeal` from `from`.
pub async fn appeal_from(s: &Server, from: &str, id: u64, text: &str) -> Reply {
    let req = s
        .client
        .post(s.url(&format!("/api/bans/{id}/appeal")))
        .header("x-forwarded-for", from)
        .json(&json!({ "text": text }));
    s.send(req).await
}

/// Creates a ban as `who` and returns it.
pub async fn ban(s: &Server, who: &Session, body: Value) -> Value {
    let r = who.post(s, "/api/bans", body.clone()).await;
    assert_eq!(r.status, 201, "banning with {body}: {}", r.json);
    r.json["ban"].clone()
}

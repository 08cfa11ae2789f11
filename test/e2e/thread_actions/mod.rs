//! Staff actions on threads through HTTP: sticky, lock, cyclic and move. Each route is broken
//! first (no session, a role that does not reach it, another board's moderator, unknown and
//! wrong numbers, malformed bodies), then each action's effect is read back through the native
//! API, the 4chan API and the live stream.

use serde_json::{json, Value};

use crate::harness::*;
use crate::session::{Session, ACCOUNTS, PASSWORD};

mod flows;
mod moving;
mod refusals;

/// /t/ with a bump limit of 3 (so cyclical threads turn over quickly), /u/ to move to, /v/
/// keeping one live thread (so a second archives the first).
pub fn config() -> String {
    format!(
        "{ACCOUNTS}\n{}",
        r#"
[[boards]]
slug = "t"
title = "Test"
bump_limit = 3
thread_limit = 10
threads_per_page = 10

[[boards]]
slug = "u"
title = "Other"

[[boards]]
slug = "v"
title = "Small"
thread_limit = 1
"#
    )
}

/// The config admin, signed up.
pub async fn admin(s: &Server) -> Session {
    Session::signup(s, "root", PASSWORD).await
}

/// A user signed up and given `role` on `boards` by `admin`.
pub async fn staff(
    s: &Server,
    admin: &Session,
    name: &str,
    role: &str,
    boards: &[&str],
) -> Session {
    let user = Session::signup(s, name, PASSWORD).await;
    let r = admin
        .post(
            s,
            &format!("/api/admin/users/{name}/role"),
            json!({ "role": role, "boards": boards }),
        )
        .await;
    assert_eq!(r.status, 200, "appointing {name}: {}", r.json);
    user
}

/// The path of a thread action.
pub fn action(board: &str, thread: u64, act: &str) -> String {
    format!("/api/boards/{board}/threads/{thread}/{act}")
}

/// Performs an action that must succeed; returns the answer's `thread`.
pub async fn act(
    s: &Server,
    who: &Session,
    board: &str,
    thread: u64,
    verb: &str,
    body: Value,
) -> Value {
    let r = who.post(s, &action(board, thread, verb), body).await;
    assert_eq!(r.status, 200, "{verb} {board}/{thread}: {}", r.json);
    r.json["thread"].clone()
}

/// A thread's JSON (`thread`), following redirects.
pub async fn thread(s: &Server, board: &str, no: u64) -> Value {
    let r = s.get(&format!("/api/boards/{board}/threads/{no}")).await;
    assert_eq!(r.status, 200, "{}", r.json);
    r.json["thread"].clone()
}

/// The numbers of a listing's threads, in order.
pub fn numbers(threads: &Value) -> Vec<u64> {
    threads
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["no"].as_u64().unwrap())
        .collect()
}

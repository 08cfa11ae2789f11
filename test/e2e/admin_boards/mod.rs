//! Board administration through the API: who may call each route and what each refuses, then
//! the flows (create, post, appoint a moderator, change settings, restart, delete with files),
//! all through HTTP with real staff sessions.

use serde_json::{json, Value};

use crate::harness::*;
use crate::session::{Session, ACCOUNTS, PASSWORD};

mod deletion;
mod flows;
mod refusals;

/// Open signup, `root` an admin by config, and two boards.
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
    appoint(s, admin, name, role, boards).await;
    // Roles are read at each request: the same session now has them.
    user
}

/// Sets a user's role and boards through the admin route for users.
pub async fn appoint(s: &Server, admin: &Session, name: &str, role: &str, boards: &[&str]) {
    let r = admin
        .post(
            s,
            &format!("/api/admin/users/{name}/role"),
            json!({ "role": role, "boards": boards }),
        )
        .await;
    assert_eq!(r.status, 200, "appointing {name}: {}", r.json);
}

/// A board's public JSON.
pub async fn public_board(s: &Server, slug: &str) -> Value {
    let r = s.get(&format!("/api/boards/{slug}")).await;
    assert_eq!(r.status, 200, "{}", r.json);
    r.json["board"].clone()
}

/// The 4chan `boards.json` entry of a board, if listed.
pub async fn fourchan_entry(s: &Server, slug: &str) -> Option<Value> {
    let r = s.get("/boards.json").await;
    assert_eq!(r.status, 200);
    r.json["boards"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["board"] == slug)
        .cloned()
}

/// `DELETE path` with a JSON body, as `session` (cookie and CSRF token).
pub async fn delete(s: &Server, session: &Session, path: &str, body: Value) -> Reply {
    let req = session
        .request(s, reqwest::Method::DELETE, path)
        .json(&body);
    s.send(req).await
}

//! File bans and word filters through the API: who may call each route and what each refuses,
//! then banned files (exact and resized or recompressed copies) refused at upload, bans that
//! delete the posts carrying a file, and each filter action on each field.

use reqwest::Method;
use serde_json::{json, Value};

use crate::admin_boards::{admin, config, staff};
use crate::harness::*;
use crate::session::Session;
use crate::uploads::{fixture, form, only_file, post, threads};

mod file_bans;
mod filters;

/// Sends `method path` with `body` (none for `Value::Null`) as `session`, or anonymously.
async fn send(
    s: &Server,
    session: Option<&Session>,
    method: &Method,
    path: &str,
    body: &Value,
) -> Reply {
    let mut req = match session {
        Some(user) => user.request(s, method.clone(), path),
        None => s.client.request(method.clone(), s.url(path)),
    };
    if !body.is_null() {
        req = req.json(body);
    }
    s.send(req).await
}

/// The staff log of board `board` as its moderators see it, newest first.
async fn board_log(s: &Server, admin: &Session, board: &str) -> Vec<Value> {
    let r = admin.get(s, &format!("/api/admin/boards/{board}")).await;
    assert_eq!(r.status, 200, "{}", r.json);
    r.json["log"].as_array().unwrap().clone()
}

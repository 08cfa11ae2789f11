//! The ban routes in the documented session: each answer, successes and refusals, checked
//! against the served document.

use reqwest::Method;
use serde_json::{json, Value};

use super::{request, Spec};
use crate::harness::*;
use crate::session::{Session, PASSWORD};

/// Uses every ban operation as the config admin `root` (signed up earlier in the session) and
/// as a banned client (by `X-Forwarded-For`), with refusals anonymously and as a plain user.
pub async fn exercise(spec: &Spec, s: &Server) {
    let admin = Session::login(s, "root", PASSWORD).await;
    let plain = Session::signup(s, "banless", PASSWORD).await;
    let (get, post) = (Method::GET, Method::POST);
    let call = |who: Option<&Session>,
                from: &str,
                method: &Method,
                path: &str,
                body: Value,
                status: u16| {
        let mut req = match who {
            Some(user) => user.request(s, method.clone(), path),
            None => request(s, method, path),
        };
        req = req.header("x-forwarded-for", from);
        if !body.is_null() {
            req = req.json(&body);
        }
        let (method, path) = (method.clone(), path.to_owned());
        async move { spec.call(method, &path, req, status).await }
    };
    let root = Some(&admin);
    let here = "127.0.0.1";
    let poster = "192.0.2.99";

    let ban = |id: u64, what: &str| format!("/api/bans/{id}/{what}");
    let body = json!({"address": poster, "board": "b", "duration": 600, "reason": "spam"});
    let first = call(root, here, &post, "/api/bans", body.clone(), 201).await;
    let first = first.json()["ban"]["id"].as_u64().unwrap();
    let second = call(root, here, &post, "/api/bans", body.clone(), 201).await;
    let second = second.json()["ban"]["id"].as_u64().unwrap();
    let third = json!({"address": "2001:db8::/32", "global": true, "duration": "permanent",
                       "reason": "range", "note": "private"});
    let third = call(root, here, &post, "/api/bans", third, 201).await;
    let third = third.json()["ban"]["id"].as_u64().unwrap();
    call(root, here, &get, "/api/bans", Value::Null, 200).await;
    call(
        root,
        here,
        &get,
        "/api/bans?board=b&limit=1",
        Value::Null,
        200,
    )
    .await;
    call(
        root,
        here,
        &get,
        &format!("/api/bans?address={poster}"),
        Value::Null,
        200,
    )
    .await;
    // The banned client: refused a thread, told why, appeals twice.
    let thread = json!({"body": "let me post"});
    let r = call(None, poster, &post, "/api/boards/b/threads", thread, 403).await;
    assert_eq!(r.code(), "banned");
    call(None, poster, &get, "/api/bans/mine", Value::Null, 200).await;
    let text = json!({"text": "sorry"});
    call(
        None,
        poster,
        &post,
        &ban(first, "appeal"),
        text.clone(),
        201,
    )
    .await;
    call(
        None,
        poster,
        &post,
        &ban(first, "appeal"),
        text.clone(),
        409,
    )
    .await;
    call(
        None,
        "192.0.2.98",
        &post,
        &ban(second, "appeal"),
        text.clone(),
        404,
    )
    .await;
    call(
        None,
        poster,
        &post,
        &ban(second, "appeal"),
        text.clone(),
        201,
    )
    .await;
    call(root, here, &get, "/api/bans/appeals", Value::Null, 200).await;
    let no = json!({"answer": "no"});
    call(
        root,
        here,
        &post,
        &ban(first, "appeal/deny"),
        no.clone(),
        200,
    )
    .await;
    call(root, here, &post, &ban(first, "appeal/deny"), no, 409).await;
    call(
        root,
        here,
        &post,
        &ban(second, "appeal/accept"),
        json!({}),
        200,
    )
    .await;
    call(
        root,
        here,
        &post,
        &ban(third, "lift"),
        json!({"note": "done"}),
        200,
    )
    .await;
    call(root, here, &post, &ban(third, "lift"), json!({}), 404).await;
    call(root, here, &post, &ban(first, "lift"), json!({}), 200).await;

    // Banning the poster of a post, with its public mark.
    let spam = json!({"body": "spam"});
    let r = call(
        None,
        "192.0.2.150",
        &post,
        "/api/boards/b/threads",
        spam,
        201,
    )
    .await;
    let no = r.json()["no"].as_u64().unwrap();
    let terms = json!({"duration": 60, "reason": "spam", "mark": true});
    let path = format!("/api/boards/b/posts/{no}/ban");
    call(root, here, &post, &path, terms.clone(), 201).await;
    call(Some(&plain), here, &post, &path, terms.clone(), 403).await;
    call(
        root,
        here,
        &post,
        "/api/boards/b/posts/999999/ban",
        terms,
        404,
    )
    .await;
    call(
        root,
        here,
        &get,
        &format!("/api/boards/b/posts/{no}"),
        Value::Null,
        200,
    )
    .await;

    // Refusals.
    call(None, here, &get, "/api/bans", Value::Null, 403).await;
    call(Some(&plain), here, &post, "/api/bans", body.clone(), 403).await;
    call(
        Some(&plain),
        here,
        &get,
        "/api/bans/appeals",
        Value::Null,
        403,
    )
    .await;
    let bad = json!({"address": "10.0.0.0/33", "board": "b", "duration": 60, "reason": "x"});
    call(root, here, &post, "/api/bans", bad, 400).await;
    let nowhere = json!({"address": "10.0.0.1", "board": "zz", "duration": 60, "reason": "x"});
    call(root, here, &post, "/api/bans", nowhere, 404).await;
    call(root, here, &get, "/api/bans?limit=500", Value::Null, 400).await;
    call(root, here, &post, "/api/bans/x/lift", json!({}), 400).await;
}

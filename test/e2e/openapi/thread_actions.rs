//! The thread action routes in the documented session: each answer, successes, refusals and
//! the redirect a moved thread leaves, checked against the served document.

use reqwest::Method;
use serde_json::{json, Value};

use super::{request, Spec};
use crate::harness::*;
use crate::session::{Session, PASSWORD};

/// Pins, locks, makes cyclical and moves a thread on /b/ as the config admin `root` (signed up
/// earlier in the session), then reads its old number without following the redirect.
pub async fn exercise(spec: &Spec, s: &Server) {
    let admin = Session::login(s, "root", PASSWORD).await;
    let post = Method::POST;
    let call = |who: Option<&Session>, path: &str, body: Value, status: u16| {
        let req = match who {
            Some(user) => user.request(s, post.clone(), path),
            None => request(s, &post, path),
        }
        .json(&body);
        let path = path.to_owned();
        async move { spec.call(Method::POST, &path, req, status).await }
    };
    let root = Some(&admin);
    let no = s.thread("b", "to be moved").await;
    let reply = s.reply("b", no, json!({ "body": format!(">>{no}") })).await;
    let path = |act: &str| format!("/api/boards/b/threads/{no}/{act}");

    call(
        root,
        &path("sticky"),
        json!({"sticky": true, "order": 1, "reason": "rules"}),
        200,
    )
    .await;
    call(
        root,
        &path("lock"),
        json!({"locked": true, "note": "for staff"}),
        200,
    )
    .await;
    call(root, &path("cyclic"), json!({"cyclical": true}), 200).await;
    call(None, &path("lock"), json!({"locked": false}), 403).await;
    call(root, &path("lock"), json!({"locked": "no"}), 400).await;
    call(
        root,
        &path("sticky"),
        json!({"sticky": true, "order": 5000}),
        400,
    )
    .await;
    call(
        root,
        "/api/boards/b/threads/999999/lock",
        json!({"locked": true}),
        404,
    )
    .await;
    call(root, &path("move"), json!({"board": "b"}), 400).await;
    call(root, &path("move"), json!({"board": "zz"}), 404).await;
    let moved = call(root, &path("move"), json!({"board": "t"}), 200).await;
    let new_no = moved.json()["thread"]["no"].as_u64().unwrap();
    call(root, &path("lock"), json!({"locked": false}), 404).await;

    // The old numbers answer 301 with the new place.
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let get = |path: String| {
        let req = plain.get(s.url(&path));
        async move { spec.call(Method::GET, &path, req, 301).await }
    };
    let a = get(format!("/api/boards/b/threads/{no}")).await;
    assert_eq!(
        a.header("location"),
        format!("/api/boards/t/threads/{new_no}")
    );
    get(format!("/api/boards/b/posts/{reply}")).await;
}

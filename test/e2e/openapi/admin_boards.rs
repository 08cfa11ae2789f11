//! The board administration routes in the documented session: each answer, successes and
//! refusals, checked against the served document.

use reqwest::Method;
use serde_json::{json, Value};

use super::{request, Spec};
use crate::harness::*;
use crate::session::{Session, PASSWORD};

/// Uses every admin board operation as the config admin `root` (signed up earlier in the
/// session), and anonymously and with a plain account for the refusals.
pub async fn exercise(spec: &Spec, s: &Server) {
    let admin = Session::login(s, "root", PASSWORD).await;
    let plain = Session::signup(s, "plain", PASSWORD).await;
    let (get, post, delete) = (Method::GET, Method::POST, Method::DELETE);
    let call = |who: Option<&Session>, method: &Method, path: &str, body: Value, status: u16| {
        let mut req = match who {
            Some(user) => user.request(s, method.clone(), path),
            None => request(s, method, path),
        };
        if !body.is_null() {
            req = req.json(&body);
        }
        let (method, path) = (method.clone(), path.to_owned());
        async move { spec.call(method, &path, req, status).await }
    };
    let root = Some(&admin);

    call(root, &get, "/api/admin/boards", Value::Null, 200).await;
    call(root, &get, "/api/admin/stats", Value::Null, 200).await;
    call(None, &get, "/api/admin/stats", Value::Null, 403).await;
    call(Some(&plain), &get, "/api/admin/stats", Value::Null, 403).await;
    call(root, &get, "/api/admin/stats?x=1", Value::Null, 400).await;
    let created = call(
        root,
        &post,
        "/api/admin/boards",
        json!({"slug": "g", "title": "Games", "rules": "**Be kind.**", "nsfw": true}),
        201,
    )
    .await;
    assert_eq!(created.header("location"), "/api/admin/boards/g");
    call(root, &get, "/api/admin/boards/g", Value::Null, 200).await;
    let changes = json!({"title": "Games & more", "max_files": 2, "allowed_types": ["png"]});
    call(root, &post, "/api/admin/boards/g", changes, 200).await;
    call(root, &get, "/api/admin/boards/g", Value::Null, 200).await;

    // Refusals.
    call(None, &get, "/api/admin/boards", Value::Null, 403).await;
    call(Some(&plain), &get, "/api/admin/boards/g", Value::Null, 403).await;
    call(
        Some(&plain),
        &post,
        "/api/admin/boards/g",
        json!({"nsfw": false}),
        403,
    )
    .await;
    call(root, &get, "/api/admin/boards/zz", Value::Null, 404).await;
    call(root, &get, "/api/admin/boards?x=1", Value::Null, 400).await;
    let slug_taken = json!({"slug": "g", "title": "Again"});
    call(root, &post, "/api/admin/boards", slug_taken, 409).await;
    let bad_slug = json!({"slug": "API", "title": "x"});
    call(root, &post, "/api/admin/boards", bad_slug, 400).await;
    let out_of_range = json!({"thread_limit": 0});
    call(root, &post, "/api/admin/boards/g", out_of_range, 400).await;
    call(
        root,
        &post,
        "/api/admin/boards/zz",
        json!({"nsfw": true}),
        404,
    )
    .await;
    let path = "/api/admin/boards/g";
    let req = admin
        .request(s, post.clone(), path)
        .header("content-type", "text/plain")
        .body("{}");
    spec.call(post.clone(), path, req, 415).await;
    let huge = json!({ "rules": "a".repeat(140 * 1024) });
    call(root, &post, path, huge, 413).await;
    call(root, &delete, path, json!({"confirm": "t"}), 400).await;
    call(Some(&plain), &delete, path, json!({"confirm": "g"}), 403).await;
    call(
        root,
        &delete,
        "/api/admin/boards/zz",
        json!({"confirm": "zz"}),
        404,
    )
    .await;
    call(root, &delete, path, json!({"confirm": "g"}), 200).await;
}

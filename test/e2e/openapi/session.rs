//! A session that uses every documented operation, successes and refusals, each answer checked
//! against the served document.

use std::time::Duration;

use reqwest::multipart::{Form, Part};
use reqwest::Method;
use serde_json::{json, Value};

use super::{request, Spec};
use crate::harness::*;
use crate::uploads::png;

/// /b/ as shipped; /t/ archives at once, needs a file to open a thread, shows poster ids and
/// lets nobody delete their posts.
const CONFIG: &str = r#"
[[boards]]
slug = "b"
title = "Random"

[[boards]]
slug = "t"
title = "Test"
thread_limit = 1
threads_per_page = 1
require_file = true
poster_ids = true
delete_window_secs = 0

[accounts]
signup = "open"
admins = ["root"]
argon2_memory_kib = 1024
argon2_iterations = 1
"#;

fn file(bytes: Vec<u8>, name: &str) -> Part {
    Part::bytes(bytes)
        .file_name(name.to_owned())
        .mime_str("image/png")
        .unwrap()
}

#[tokio::test]
async fn every_answer_of_a_session_matches_the_document() {
    let s = Server::with_config(CONFIG).await;
    let spec = Spec::fetch(&s).await;
    let (get, post) = (Method::GET, Method::POST);
    let call = |method: &Method, path: &str, status: u16| {
        let req = request(&s, method, path);
        let (spec, method, path) = (&spec, method.clone(), path.to_owned());
        async move { spec.call(method, &path, req, status).await }
    };
    let send = |method: &Method, path: &str, req: reqwest::RequestBuilder, status: u16| {
        let (spec, method, path) = (&spec, method.clone(), path.to_owned());
        async move { spec.call(method, &path, req, status).await }
    };
    let json_post = |path: &str, body: Value, status: u16| {
        let req = request(&s, &Method::POST, path).json(&body);
        send(&Method::POST, path, req, status)
    };

    call(&get, "/api/openapi.json", 200).await;
    call(&get, "/healthz", 200).await;
    call(&get, "/api/boards", 200).await;
    call(&get, "/api/boards/b", 200).await;
    call(&get, "/api/boards/t", 200).await;

    // Posting: JSON and multipart, with a tripcode, a password, sage and a spoilered file.
    let op = json!({"subject": "Hello", "name": "Anon#secret", "body": "first\n>green",
                    "email": "SAGE", "password": "pw"});
    let a = json_post("/api/boards/b/threads", op, 201).await;
    assert_eq!(a.header("location"), "/api/boards/b/posts/1");
    json_post(
        "/api/boards/b/threads/1/posts",
        json!({"body": ">>1 yes", "sage": true, "password": "pw", "name": null}),
        201,
    )
    .await;
    let form = Form::new()
        .text("body", "with a picture")
        .text("sage", "on")
        .text("password", "pw")
        .part("file", file(png(40, 30, [200, 10, 10]), "red.png"))
        .text("spoiler", "0");
    let path = "/api/boards/b/threads/1/posts";
    send(&post, path, request(&s, &post, path).multipart(form), 201).await;
    for colour in [[10, 200, 10], [10, 10, 200]] {
        let form = Form::new().part("file", file(png(20, 20, colour), "t.png"));
        let path = "/api/boards/t/threads";
        let req = request(&s, &post, path).multipart(form.text("password", "pw"));
        send(&post, path, req, 201).await;
    }

    // Reading.
    let a = call(&get, "/api/boards/b/threads/1", 200).await;
    let etag = a.header("etag").to_owned();
    let path = "/api/boards/b/threads/1";
    let req = request(&s, &get, path).header("if-none-match", &etag);
    send(&get, path, req, 304).await;
    call(&get, "/api/boards/b/threads/1?after=1", 200).await;
    let op = call(&get, "/api/boards/b/posts/1", 200).await.json();
    assert!(op["post"]["trip"].is_string(), "{op}");
    assert_eq!(op["post"]["backlinks"], json!([2]));
    let with_file = call(&get, "/api/boards/b/posts/3", 200).await.json();
    let with_id = call(&get, "/api/boards/t/posts/2", 200).await.json();
    assert!(with_id["post"]["id"].is_string(), "{with_id}");
    call(&get, "/api/boards/b/catalog", 200).await;
    call(&get, "/api/boards/t/catalog", 200).await;
    call(&get, "/api/boards/b/index", 200).await;
    call(&get, "/api/boards/b/index?page=1", 200).await;
    call(&get, "/api/boards/t/index?page=2", 404).await;
    let archive = call(&get, "/api/boards/t/archive", 200).await.json();
    assert_eq!(archive["threads"][0]["no"], 1, "{archive}");
    let archived = call(&get, "/api/boards/t/threads/1", 200).await.json();
    assert_eq!(archived["thread"]["archived"], true);
    call(&get, "/api/recent?limit=5", 200).await;
    call(&get, "/api/recent", 200).await;

    // Files: whole, ranges, revalidation, and names that are no stored file.
    let f = &with_file["post"]["files"][0];
    let (url, thumb) = (f["url"].as_str().unwrap(), f["thumb_url"].as_str().unwrap());
    call(&get, url, 200).await;
    call(&get, thumb, 200).await;
    let ranged = |range: &str, status: u16| {
        let req = request(&s, &get, url).header("range", range);
        send(&get, url, req, status)
    };
    ranged("bytes=0-9", 206).await;
    ranged("bytes=-5", 206).await;
    ranged("bytes=99999999-", 416).await;
    let req = request(&s, &get, url).header(
        "if-none-match",
        format!("\"{}\"", f["sha256"].as_str().unwrap()),
    );
    send(&get, url, req, 304).await;
    let missing = url.replace(&url[7..12], "00/00");
    call(&get, &missing, 404).await;
    call(&get, &format!("{}.png", &thumb[..thumb.len() - 5]), 404).await;

    // Live updates: the stream, and one event's data against `LiveEvent`.
    let path = "/api/live?board=b";
    let mut stream = request(&s, &get, path).send().await.unwrap();
    let a = super::Answer {
        status: stream.status(),
        headers: stream.headers().clone(),
        body: Vec::new(),
    };
    spec.conforms(&get, path, &a).unwrap();
    assert_eq!(a.status, 200);
    json_post(
        "/api/boards/b/threads/1/posts",
        json!({"body": "live"}),
        201,
    )
    .await;
    let mut text = String::new();
    let data = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            // Only messages already ended by a blank line count.
            let complete = text.rsplit_once("\n\n").map_or("", |(done, _)| done);
            if let Some(data) = complete.lines().find_map(|l| l.strip_prefix("data: ")) {
                return data.to_owned();
            }
            let chunk = stream.chunk().await.unwrap().expect("the stream ended");
            text.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    })
    .await
    .expect("no live event within 10 s");
    let event: Value = serde_json::from_str(&data).unwrap();
    assert_eq!(event["event"], "post", "{event}");
    spec.validate_component("LiveEvent", &event).unwrap();
    drop(stream);
    call(&get, "/api/live", 400).await;
    call(&get, "/api/live?board=zz", 404).await;
    call(&get, "/api/live?board=b&thread=99", 404).await;
    let req = request(&s, &get, "/api/live?board=b").header("last-event-id", "x");
    send(&get, "/api/live?board=b", req, 400).await;

    // Deleting: files only, then the post; refusals.
    let del = |no: u64| format!("/api/boards/b/posts/{no}/delete");
    let a = json_post(&del(3), json!({"password": "pw", "file_only": true}), 200).await;
    assert_eq!(a.json()["deleted"]["file_only"], true);
    json_post(&del(3), json!({"password": "pw", "file_only": true}), 400).await;
    json_post(&del(2), json!({"password": "nope"}), 403).await;
    json_post(&del(2), json!({"password": "pw"}), 200).await;
    json_post(&del(2), json!({"password": "pw"}), 410).await;
    call(&get, "/api/boards/b/posts/2", 410).await;
    json_post(&del(99), json!({"password": "pw"}), 404).await;
    let a = json_post(
        "/api/boards/t/posts/2/delete",
        json!({"password": "pw"}),
        403,
    )
    .await;
    assert_eq!(a.code(), "delete_window_closed");

    // Refusals of every kind of request.
    call(&get, "/api/boards/zz", 404).await;
    call(&get, "/api/boards/b/threads/2", 404).await;
    call(&get, "/api/boards/b/threads/x", 400).await;
    call(&get, "/api/boards?x=1", 400).await;
    call(&get, "/api/recent?limit=101", 400).await;
    let path = "/api/boards/b/threads";
    let req = request(&s, &post, path)
        .header("content-type", "text/plain")
        .body("hi");
    send(&post, path, req, 415).await;
    let huge = json!({ "body": "a".repeat(140 * 1024) });
    json_post(path, huge, 413).await;
    json_post(path, json!({"body": "a".repeat(4001)}), 400).await;
    json_post(path, json!({"body": "x", "zz": 1}), 400).await;
    json_post("/api/boards/zz/threads", json!({"body": "x"}), 404).await;
    json_post("/api/boards/t/threads", json!({"body": "x"}), 400).await;
    let form = Form::new().part("file", file(b"not an image".to_vec(), "fake.png"));
    send(&post, path, request(&s, &post, path).multipart(form), 415).await;
    json_post("/api/boards/t/threads/1/posts", json!({"body": "x"}), 409).await;
    json_post("/api/boards/b/threads/3/posts", json!({"body": "x"}), 404).await;
    json_post(&del(1), json!({"password": "pw"}), 200).await;
    call(&get, "/api/boards/b/threads/1", 410).await;
    json_post("/api/boards/b/threads/1/posts", json!({"body": "x"}), 410).await;

    // Accounts: signup, login, the staff routes, capcodes, then the account's end.
    let password = "violet staple 42 orbit";
    let creds = |name: &str| json!({"username": name, "password": password});
    let root = json_post("/auth/signup", creds("root"), 201).await;
    let cookie = root
        .header("set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let csrf = root.json()["csrf"].as_str().unwrap().to_owned();
    json_post("/auth/signup", creds("ann"), 201).await;
    json_post("/auth/signup", creds("ann"), 409).await;
    json_post(
        "/auth/signup",
        json!({"username": "a b", "password": password}),
        400,
    )
    .await;
    json_post(
        "/auth/login",
        json!({"username": "ann", "password": "not it at all"}),
        403,
    )
    .await;
    let ann = json_post("/auth/login", creds("ann"), 200).await;
    let ann_cookie = ann
        .header("set-cookie")
        .split(';')
        .next()
        .unwrap()
        .to_owned();
    let ann_csrf = ann.json()["csrf"].as_str().unwrap().to_owned();
    let staff = |method: &Method, path: &str, who: (&str, &str)| {
        request(&s, method, path)
            .header("cookie", who.0)
            .header("x-csrf-token", who.1)
    };
    let as_root = (cookie.as_str(), csrf.as_str());
    let as_ann = (ann_cookie.as_str(), ann_csrf.as_str());
    call(&get, "/auth/csrf", 403).await;
    let path = "/auth/csrf";
    send(&get, path, staff(&get, path, as_root), 200).await;
    let path = "/api/admin/users";
    send(&get, path, staff(&get, path, as_root), 200).await;
    send(&get, path, staff(&get, path, as_ann), 403).await;
    let path = "/api/admin/users?limit=1001";
    send(&get, path, staff(&get, path, as_root), 400).await;
    let path = "/api/admin/users/ann/role";
    let role = json!({"role": "board_mod", "boards": ["b"]});
    send(&post, path, staff(&post, path, as_root).json(&role), 200).await;
    send(&post, path, staff(&post, path, as_ann).json(&role), 403).await;
    let path = "/api/admin/users/nobody/role";
    send(&post, path, staff(&post, path, as_root).json(&role), 404).await;
    let path = "/api/admin/users/ann/disabled";
    let off = json!({"disabled": false});
    send(&post, path, staff(&post, path, as_root).json(&off), 200).await;
    let path = "/api/boards/b/threads";
    let capcode = json!({"body": "staff", "capcode": "mod"});
    send(&post, path, staff(&post, path, as_ann).json(&capcode), 201).await;
    json_post(path, capcode.clone(), 403).await;
    let req = request(&s, &post, path)
        .header("cookie", &ann_cookie)
        .json(&capcode);
    send(&post, path, req, 403).await;
    // API tokens: created with a session, used by a script with no cookie, revoked.
    let path = "/api/me/tokens";
    let new = json!({"name": "script", "expires_days": 1, "scope": "admin"});
    let created = send(&post, path, staff(&post, path, as_root).json(&new), 201).await;
    send(&post, path, staff(&post, path, as_ann).json(&new), 403).await;
    let nameless = json!({"expires_days": 1, "scope": "read"});
    send(
        &post,
        path,
        staff(&post, path, as_root).json(&nameless),
        400,
    )
    .await;
    send(&get, path, staff(&get, path, as_root), 200).await;
    let secret = created.json()["secret"].as_str().unwrap().to_owned();
    let id = created.json()["token"]["id"].as_str().unwrap().to_owned();
    let bearer = |method: &Method, path: &str, token: &str| {
        request(&s, method, path).header("authorization", format!("Bearer {token}"))
    };
    let path = "/api/admin/users";
    send(&get, path, bearer(&get, path, &secret), 200).await;
    send(&get, path, bearer(&get, path, "wani_short"), 403).await;
    let path = "/api/admin/users/ann/disabled";
    send(&post, path, bearer(&post, path, &secret).json(&off), 200).await;
    let delete = Method::DELETE;
    let path = format!("/api/me/tokens/{id}");
    send(&delete, &path, staff(&delete, &path, as_root), 200).await;
    send(&delete, &path, staff(&delete, &path, as_root), 403).await;
    send(
        &delete,
        "/api/me/tokens/x",
        staff(&delete, "/api/me/tokens/x", as_root),
        400,
    )
    .await;
    let path = "/api/admin/users";
    send(&get, path, bearer(&get, path, &secret), 403).await;
    // A second factor: enrolled, confirmed, needed at login, turned off.
    let path = "/api/me/totp";
    let enrolled = send(
        &post,
        path,
        staff(&post, path, as_root).json(&json!({})),
        201,
    )
    .await;
    let totp = crate::auth::totp::Totp::new(enrolled.json()["secret"].as_str().unwrap());
    let path = "/api/me/totp/confirm";
    let first = json!({"code": totp.code(0)});
    send(&post, path, staff(&post, path, as_root).json(&first), 200).await;
    send(&post, path, staff(&post, path, as_root).json(&first), 409).await;
    let a = json_post("/auth/login", creds("root"), 403).await;
    assert_eq!(a.code(), "totp_required");
    let mut second = creds("root");
    second["totp"] = json!(totp.code(1));
    json_post("/auth/login", second, 200).await;
    let path = "/api/me/totp/disable";
    let proof = json!({"password": password});
    send(&post, path, staff(&post, path, as_root).json(&proof), 200).await;
    send(&post, path, staff(&post, path, as_root).json(&proof), 409).await;
    // A password reset: issued by an admin, spent once.
    json_post("/auth/signup", creds("bea"), 201).await;
    let path = "/api/admin/users/bea/reset";
    let issued = send(
        &post,
        path,
        staff(&post, path, as_root).json(&json!({})),
        201,
    )
    .await;
    send(
        &post,
        path,
        staff(&post, path, as_ann).json(&json!({})),
        403,
    )
    .await;
    let token = issued.json()["token"].as_str().unwrap().to_owned();
    let reset = json!({"token": token, "password": "copper kettle 19 dune"});
    json_post("/auth/reset", reset.clone(), 200).await;
    let a = json_post("/auth/reset", reset, 403).await;
    assert_eq!(a.code(), "reset_token_invalid");
    // An address for resets, and recovery requests (answered alike whoever they name).
    let path = "/api/me/email";
    send(&get, path, staff(&get, path, as_root), 200).await;
    let email = json!({"email": "root@example.org", "password": password});
    send(&post, path, staff(&post, path, as_root).json(&email), 200).await;
    send(&post, path, staff(&post, path, as_ann).json(&email), 409).await;
    json_post("/auth/recover", json!({"username": "root"}), 202).await;
    json_post("/auth/recover", json!({"email": "nobody@example.org"}), 202).await;
    json_post("/auth/recover", json!({"email": "nobody"}), 400).await;
    // A lost second factor (here a pending one), cleared by an admin.
    let path = "/api/me/totp";
    send(
        &post,
        path,
        staff(&post, path, as_root).json(&json!({})),
        201,
    )
    .await;
    let path = "/api/admin/users/root/totp/clear";
    let why = json!({"reason": "lost phone"});
    send(&post, path, staff(&post, path, as_root).json(&why), 200).await;
    send(&post, path, staff(&post, path, as_root).json(&why), 409).await;
    // A captcha challenge: /b/ asks for none.
    call(&get, "/api/boards/b/captcha", 200).await;
    call(&get, "/api/boards/nope/captcha", 404).await;
    let path = "/auth/changePassword";
    let change = json!({"password": password, "new_password": "amber lantern 77 quay"});
    send(&post, path, staff(&post, path, as_ann).json(&change), 200).await;
    let path = "/auth/logout";
    send(&post, path, staff(&post, path, as_root), 200).await;
    send(&post, path, staff(&post, path, as_root), 403).await;
    let path = "/auth/destroy";
    let wrong = json!({"password": "not it at all"});
    send(&post, path, staff(&post, path, as_ann).json(&wrong), 403).await;
    let destroy = json!({"password": "amber lantern 77 quay"});
    send(&post, path, staff(&post, path, as_ann).json(&destroy), 200).await;

    super::admin_boards::exercise(&spec, &s).await;
    super::moderation::exercise(&spec, &s).await;
    super::thread_actions::exercise(&spec, &s).await;
    super::bans::exercise(&spec, &s).await;
    super::filtering::exercise(&spec, &s).await;

    let missed: Vec<_> = spec
        .operations()
        .into_iter()
        .filter(|op| !spec.succeeded().contains(op))
        .collect();
    assert!(missed.is_empty(), "never answered with a 2xx: {missed:?}");
}

//! Breaking the thread actions: callers who may not act, numbers that name no live thread,
//! malformed bodies, moves to nowhere. Nothing refused changes the thread.

use super::*;
use crate::uploads::{assert_no_mismatches, mismatch};

/// Each action with a body the right caller would have accepted.
fn valid() -> Vec<(&'static str, Value)> {
    vec![
        ("sticky", json!({ "sticky": true })),
        ("lock", json!({ "locked": true })),
        ("cyclic", json!({ "cyclical": true })),
        ("move", json!({ "board": "u" })),
    ]
}

/// What a thread shows, to prove a refusal changed nothing.
async fn state(s: &Server, no: u64) -> Value {
    let t = thread(s, "t", no).await;
    json!([
        t["sticky"],
        t["locked"],
        t["cyclical"],
        t["no"],
        t["posts"].as_array().unwrap().len()
    ])
}

#[tokio::test]
async fn only_moderators_of_the_board_act() {
    let s = Server::with_config(&config()).await;
    let root = admin(&s).await;
    let plain = Session::signup(&s, "plain", PASSWORD).await;
    let janitor = staff(&s, &root, "janitor", "janitor", &["t"]).await;
    let other = staff(&s, &root, "umod", "board_mod", &["u"]).await;
    let tmod = staff(&s, &root, "tmod", "board_mod", &["t"]).await;
    let no = s.thread("t", "a thread").await;
    let before = state(&s, no).await;

    let mut failures = Vec::new();
    for (verb, body) in valid() {
        let path = action("t", no, verb);
        let r = s.post(&path, body.clone()).await;
        failures.extend(
            mismatch(&r, 403, "not_logged_in", None).map(|m| format!("anonymous {verb}: {m}")),
        );
        for (who, user) in [
            ("user", &plain),
            ("janitor", &janitor),
            ("mod of /u/", &other),
        ] {
            let r = user.post(&s, &path, body.clone()).await;
            failures
                .extend(mismatch(&r, 403, "forbidden", None).map(|m| format!("{who} {verb}: {m}")));
        }
        // A session without its CSRF token.
        let r = tmod.post_csrf(&s, &path, None, body.clone()).await;
        failures
            .extend(mismatch(&r, 403, "csrf_failed", None).map(|m| format!("no csrf {verb}: {m}")));
    }
    // A moderator of /t/ only may not move a thread into /u/.
    let r = tmod
        .post(&s, &action("t", no, "move"), json!({ "board": "u" }))
        .await;
    failures.extend(
        mismatch(&r, 403, "forbidden", Some("board")).map(|m| format!("tmod move to u: {m}")),
    );
    assert_no_mismatches(&failures);
    assert_eq!(state(&s, no).await, before);
    assert_eq!(
        s.get("/api/boards/u/catalog").await.json["threads"],
        json!([])
    );
}

#[tokio::test]
async fn numbers_and_bodies_that_name_no_action_are_refused() {
    let s = Server::with_config(&config()).await;
    let root = admin(&s).await;
    let tmod = staff(&s, &root, "tmod", "board_mod", &["t"]).await;
    let no = s.thread("t", "a thread").await;
    let reply = s.reply("t", no, json!({ "body": "a reply" })).await;
    // A thread deleted by its poster, and one pushed into /v/'s archive.
    let r = s
        .post(
            "/api/boards/t/threads",
            json!({ "body": "gone soon", "password": "hunter22" }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let deleted = r.json["no"].as_u64().unwrap();
    let r = s
        .post(
            &format!("/api/boards/t/posts/{deleted}/delete"),
            json!({ "password": "hunter22" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let archived = s.thread("v", "first").await;
    s.thread("v", "second").await;
    assert_eq!(thread(&s, "v", archived).await["archived"], true);
    let before = state(&s, no).await;

    let lock = json!({ "locked": true });
    let long = "x".repeat(1001);
    let cases: Vec<(String, Value, u16, &str, Option<&str>)> = vec![
        (
            action("t", 999, "lock"),
            lock.clone(),
            404,
            "thread_not_found",
            None,
        ),
        (
            action("t", reply, "lock"),
            lock.clone(),
            404,
            "thread_not_found",
            None,
        ),
        (
            action("t", deleted, "lock"),
            lock.clone(),
            410,
            "thread_deleted",
            None,
        ),
        (
            action("v", archived, "lock"),
            lock.clone(),
            409,
            "thread_archived",
            None,
        ),
        (
            action("zz", no, "lock"),
            lock.clone(),
            404,
            "board_not_found",
            None,
        ),
        (
            "/api/boards/t/threads/abc/lock".into(),
            lock.clone(),
            400,
            "invalid_path",
            Some("thread"),
        ),
        (
            action("t", no, "lock"),
            json!({}),
            400,
            "missing_field",
            Some("locked"),
        ),
        (
            action("t", no, "lock"),
            json!({ "locked": "yes" }),
            400,
            "invalid_type",
            Some("locked"),
        ),
        (
            action("t", no, "lock"),
            json!({ "locked": true, "sticky": true }),
            400,
            "unknown_field",
            Some("sticky"),
        ),
        (
            action("t", no, "lock"),
            json!([true]),
            400,
            "invalid_type",
            None,
        ),
        (
            action("t", no, "lock"),
            json!({ "locked": true, "reason": long }),
            400,
            "too_long",
            Some("reason"),
        ),
        (
            action("t", no, "lock"),
            json!({ "locked": true, "note": 5 }),
            400,
            "invalid_type",
            Some("note"),
        ),
        (
            action("t", no, "sticky"),
            json!({ "sticky": true, "order": 1001 }),
            400,
            "out_of_range",
            Some("order"),
        ),
        (
            action("t", no, "sticky"),
            json!({ "sticky": true, "order": -1 }),
            400,
            "out_of_range",
            Some("order"),
        ),
        (
            action("t", no, "sticky"),
            json!({ "sticky": true, "order": "1" }),
            400,
            "invalid_type",
            Some("order"),
        ),
        (
            action("t", no, "cyclic"),
            json!({ "cyclical": 1 }),
            400,
            "invalid_type",
            Some("cyclical"),
        ),
        (
            action("t", no, "move"),
            json!({}),
            400,
            "missing_field",
            Some("board"),
        ),
        (
            action("t", no, "move"),
            json!({ "board": "t" }),
            400,
            "invalid_value",
            Some("board"),
        ),
        (
            action("t", no, "move"),
            json!({ "board": "zz" }),
            404,
            "board_not_found",
            Some("board"),
        ),
    ];
    let mut failures = Vec::new();
    for (path, body, status, code, field) in cases {
        let r = root.post(&s, &path, body.clone()).await;
        failures.extend(mismatch(&r, status, code, field).map(|m| format!("{path} {body}: {m}")));
    }
    // A body that is not JSON at all.
    let req = tmod
        .request(&s, reqwest::Method::POST, &action("t", no, "lock"))
        .header("content-type", "application/json")
        .body("{locked: true");
    let r = s.send(req).await;
    failures.extend(mismatch(&r, 400, "invalid_json", None).map(|m| format!("not json: {m}")));
    assert_no_mismatches(&failures);
    assert_eq!(state(&s, no).await, before);
    assert_eq!(
        s.get("/api/boards/u/catalog").await.json["threads"],
        json!([])
    );
}

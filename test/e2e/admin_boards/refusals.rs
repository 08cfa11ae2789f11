//! Breaking each route first: callers without a session, without the right CSRF token or
//! without the right role, malformed bodies, unknown fields, values out of bounds, and
//! deletions without the right confirmation. Nothing refused changes anything.

use reqwest::Method;

use super::*;
use crate::uploads::{assert_no_mismatches, mismatch};

/// Every admin board route with a body it would accept from the right caller.
fn routes() -> Vec<(Method, &'static str, Value)> {
    vec![
        (Method::GET, "/api/admin/boards", Value::Null),
        (
            Method::POST,
            "/api/admin/boards",
            json!({"slug": "g", "title": "Games"}),
        ),
        (Method::GET, "/api/admin/boards/t", Value::Null),
        (
            Method::POST,
            "/api/admin/boards/t",
            json!({"title": "Taken over"}),
        ),
        (
            Method::DELETE,
            "/api/admin/boards/t",
            json!({"confirm": "t"}),
        ),
    ]
}

/// Sends `method path` with `body` (none for `Value::Null`) as `session`, or anonymously.
async fn send(
    s: &Server,
    session: Option<&Session>,
    method: &Method,
    path: &str,
    body: &Value,
) -> Reply {
    match (session, method.as_str()) {
        (Some(user), "GET") => user.get(s, path).await,
        (Some(user), "POST") => user.post(s, path, body.clone()).await,
        (Some(user), _) => delete(s, user, path, body.clone()).await,
        (None, _) => {
            let mut req = s.client.request(method.clone(), s.url(path));
            if !body.is_null() {
                req = req.json(body);
            }
            s.send(req).await
        }
    }
}

/// What staff and the public see of the boards, to show that nothing changed.
async fn state(s: &Server, admin: &Session) -> (Value, Value, Value) {
    let list = admin.get(s, "/api/admin/boards").await;
    assert_eq!(list.status, 200, "{}", list.json);
    let t = admin.get(s, "/api/admin/boards/t").await;
    (list.json, t.json, s.get("/api/boards").await.json)
}

#[tokio::test]
async fn only_the_right_roles_reach_each_route() {
    let s = Server::with_config(&config()).await;
    let root = admin(&s).await;
    let before = state(&s, &root).await;
    let plain = Session::signup(&s, "plain", PASSWORD).await;
    let other_mod = staff(&s, &root, "othermod", "board_mod", &["u"]).await;
    let janitor = staff(&s, &root, "janitor", "janitor", &["t"]).await;
    let global = staff(&s, &root, "global", "global_mod", &[]).await;

    let mut failures = Vec::new();
    for (method, path, body) in routes() {
        let r = send(&s, None, &method, path, &body).await;
        failures.extend(
            mismatch(&r, 403, "not_logged_in", None)
                .map(|m| format!("anonymous {method} {path}: {m}")),
        );
        for (who, user) in [
            ("user", &plain),
            ("moderator of /u/", &other_mod),
            ("janitor of /t/", &janitor),
        ] {
            let r = send(&s, Some(user), &method, path, &body).await;
            failures.extend(
                mismatch(&r, 403, "forbidden", None).map(|m| format!("{who} {method} {path}: {m}")),
            );
        }
    }
    // A global moderator reads and edits any board, but neither creates nor deletes one; a
    // board moderator may not delete even their own board.
    for (method, path, body) in routes() {
        let r = send(&s, Some(&global), &method, path, &body).await;
        let reaches = path == "/api/admin/boards/t" && method != Method::DELETE;
        if !reaches {
            failures.extend(
                mismatch(&r, 403, "forbidden", None)
                    .map(|m| format!("global {method} {path}: {m}")),
            );
        } else if r.status != 200 {
            failures.push(format!("global {method} {path}: {} {}", r.status, r.json));
        }
    }
    let r = delete(
        &s,
        &other_mod,
        "/api/admin/boards/u",
        json!({"confirm": "u"}),
    )
    .await;
    failures.extend(
        mismatch(&r, 403, "forbidden", None).map(|m| format!("moderator deleting /u/: {m}")),
    );
    assert_no_mismatches(&failures);

    // The global moderator's one change went through; nothing else did.
    let (list, t, public) = state(&s, &root).await;
    assert_eq!(t["board"]["title"], "Taken over");
    assert_eq!(t["log"][0]["actor"], "global");
    assert_eq!(list["boards"].as_array().unwrap().len(), 2);
    assert_eq!(public["boards"].as_array().unwrap().len(), 2);
    assert_eq!(before.0["deleting"], json!([]));
    assert_eq!(list["deleting"], json!([]));
}

#[tokio::test]
async fn state_changes_need_the_sessions_csrf_token() {
    let s = Server::with_config(&config()).await;
    let root = admin(&s).await;
    let before = state(&s, &root).await;
    let other = Session::signup(&s, "other", PASSWORD).await;
    let mut failures = Vec::new();
    for (method, path, body) in routes() {
        if method == Method::GET {
            continue;
        }
        for token in [None, Some("wrong"), Some("")] {
            let mut req = s
                .client
                .request(method.clone(), s.url(path))
                .header("cookie", &root.cookie)
                .json(&body);
            if let Some(token) = token {
                req = req.header("x-csrf-token", token);
            }
            let r = s.send(req).await;
            failures.extend(
                mismatch(&r, 403, "csrf_failed", None)
                    .map(|m| format!("{method} {path} with token {token:?}: {m}")),
            );
        }
        // Another session's token is as wrong as any.
        let req = s
            .client
            .request(method.clone(), s.url(path))
            .header("cookie", &root.cookie)
            .header("x-csrf-token", &other.csrf)
            .json(&body);
        let r = s.send(req).await;
        failures.extend(
            mismatch(&r, 403, "csrf_failed", None)
                .map(|m| format!("{method} {path} with another session's token: {m}")),
        );
    }
    assert_no_mismatches(&failures);
    assert_eq!(state(&s, &root).await, before);
}

#[tokio::test]
async fn bad_changes_are_refused_naming_the_field_and_change_nothing() {
    let s = Server::with_config(&config()).await;
    let root = admin(&s).await;
    let before = state(&s, &root).await;
    let long = |n: usize| "x".repeat(n);
    let cases: Vec<(Value, u16, &str, Option<&str>)> = vec![
        (json!({"titel": "x"}), 400, "unknown_field", Some("titel")),
        (json!({"slug": "v"}), 400, "unknown_field", Some("slug")),
        (
            json!({"rules_html": "<b>x</b>"}),
            400,
            "unknown_field",
            Some("rules_html"),
        ),
        (
            json!({"thread_limit": 0}),
            400,
            "out_of_range",
            Some("thread_limit"),
        ),
        (
            json!({"thread_limit": 10_001}),
            400,
            "out_of_range",
            Some("thread_limit"),
        ),
        (
            json!({"max_files": -1}),
            400,
            "out_of_range",
            Some("max_files"),
        ),
        (
            json!({"max_files": 33}),
            400,
            "out_of_range",
            Some("max_files"),
        ),
        (
            json!({"archive_days": 3651}),
            400,
            "out_of_range",
            Some("archive_days"),
        ),
        (
            json!({"max_image_width": 16_385}),
            400,
            "out_of_range",
            Some("max_image_width"),
        ),
        (
            json!({"delete_window_secs": 31_536_001u64}),
            400,
            "out_of_range",
            Some("delete_window_secs"),
        ),
        (
            json!({"bump_limit": "3"}),
            400,
            "invalid_type",
            Some("bump_limit"),
        ),
        (
            json!({"bump_limit": 2.5}),
            400,
            "invalid_type",
            Some("bump_limit"),
        ),
        (json!({"nsfw": "yes"}), 400, "invalid_type", Some("nsfw")),
        (
            json!({"allowed_types": "png"}),
            400,
            "invalid_type",
            Some("allowed_types"),
        ),
        (json!({"title": ""}), 400, "empty", Some("title")),
        (json!({"title": "\u{200b}"}), 400, "empty", Some("title")),
        (json!({"title": long(101)}), 400, "too_long", Some("title")),
        (
            json!({"title": "two\nlines"}),
            400,
            "control_characters",
            Some("title"),
        ),
        (
            json!({"rules": long(10_001)}),
            400,
            "too_long",
            Some("rules"),
        ),
        (
            json!({"allowed_types": ["svg"]}),
            400,
            "invalid_value",
            Some("allowed_types"),
        ),
        (
            json!({"allowed_types": ["png", "png"]}),
            400,
            "invalid_value",
            Some("allowed_types"),
        ),
        // This server has no ffmpeg.
        (
            json!({"allowed_types": ["webm"]}),
            400,
            "invalid_value",
            Some("allowed_types"),
        ),
        // Checked against the board as it would be: the default files are 8 MiB.
        (
            json!({"max_post_bytes": 1000}),
            400,
            "out_of_range",
            Some("max_file_bytes"),
        ),
        (
            json!({"max_files": 0, "require_file": true}),
            400,
            "invalid_value",
            Some("require_file"),
        ),
        // One bad field refuses the whole change.
        (
            json!({"title": "Fine", "max_quotes": 1001}),
            400,
            "out_of_range",
            Some("max_quotes"),
        ),
    ];
    let mut failures = Vec::new();
    for (body, status, code, field) in cases {
        let r = root.post(&s, "/api/admin/boards/t", body.clone()).await;
        failures.extend(mismatch(&r, status, code, field).map(|m| format!("{body}: {m}")));
    }

    let creations: Vec<(Value, u16, &str, Option<&str>)> = vec![
        (json!({}), 400, "missing_field", Some("slug")),
        (json!({"slug": "g"}), 400, "missing_field", Some("title")),
        (
            json!({"slug": 7, "title": "x"}),
            400,
            "invalid_type",
            Some("slug"),
        ),
        (
            json!({"slug": "G", "title": "x"}),
            400,
            "invalid_value",
            Some("slug"),
        ),
        (
            json!({"slug": "a-b", "title": "x"}),
            400,
            "invalid_value",
            Some("slug"),
        ),
        (
            json!({"slug": long(17), "title": "x"}),
            400,
            "invalid_value",
            Some("slug"),
        ),
        (
            json!({"slug": "api", "title": "x"}),
            400,
            "invalid_value",
            Some("slug"),
        ),
        (
            json!({"slug": "healthz", "title": "x"}),
            400,
            "invalid_value",
            Some("slug"),
        ),
        (
            json!({"slug": "g", "title": "x", "max_quotes": 1001}),
            400,
            "out_of_range",
            Some("max_quotes"),
        ),
        (
            json!({"slug": "g", "title": "x", "bogus": 1}),
            400,
            "unknown_field",
            Some("bogus"),
        ),
        (
            json!({"slug": "t", "title": "Again"}),
            409,
            "board_exists",
            Some("slug"),
        ),
    ];
    for (body, status, code, field) in creations {
        let r = root.post(&s, "/api/admin/boards", body.clone()).await;
        failures.extend(mismatch(&r, status, code, field).map(|m| format!("create {body}: {m}")));
    }

    let deletions: Vec<(&str, Value, u16, &str, Option<&str>)> = vec![
        ("t", json!({}), 400, "missing_field", Some("confirm")),
        (
            "t",
            json!({"confirm": null}),
            400,
            "missing_field",
            Some("confirm"),
        ),
        (
            "t",
            json!({"confirm": "u"}),
            400,
            "invalid_value",
            Some("confirm"),
        ),
        (
            "t",
            json!({"confirm": "T"}),
            400,
            "invalid_value",
            Some("confirm"),
        ),
        (
            "t",
            json!({"confirm": 1}),
            400,
            "invalid_type",
            Some("confirm"),
        ),
        (
            "t",
            json!({"confirm": "t", "force": true}),
            400,
            "unknown_field",
            Some("force"),
        ),
        ("zz", json!({"confirm": "zz"}), 404, "board_not_found", None),
    ];
    for (board, body, status, code, field) in deletions {
        let r = delete(
            &s,
            &root,
            &format!("/api/admin/boards/{board}"),
            body.clone(),
        )
        .await;
        failures.extend(
            mismatch(&r, status, code, field).map(|m| format!("delete /{board}/ {body}: {m}")),
        );
    }
    for path in ["/api/admin/boards/zz", "/api/admin/boards/T"] {
        let r = root.get(&s, path).await;
        failures
            .extend(mismatch(&r, 404, "board_not_found", None).map(|m| format!("GET {path}: {m}")));
        let r = root.post(&s, path, json!({"title": "x"})).await;
        failures.extend(
            mismatch(&r, 404, "board_not_found", None).map(|m| format!("POST {path}: {m}")),
        );
    }
    assert_no_mismatches(&failures);
    assert_eq!(
        state(&s, &root).await,
        before,
        "a refused request changed something"
    );
}

#[tokio::test]
async fn malformed_bodies_are_refused() {
    let s = Server::with_config(&config()).await;
    let root = admin(&s).await;
    let before = state(&s, &root).await;
    let raw = |method: Method, path: &str, content_type: &str, body: Vec<u8>| {
        s.client
            .request(method, s.url(path))
            .header("cookie", &root.cookie)
            .header("x-csrf-token", &root.csrf)
            .header("content-type", content_type.to_owned())
            .body(body)
    };
    let json_type = "application/json";
    let huge = format!("{{\"rules\":\"{}\"}}", "x".repeat(140 * 1024)).into_bytes();
    let mut failures = Vec::new();
    for (method, path) in [
        (Method::POST, "/api/admin/boards"),
        (Method::POST, "/api/admin/boards/t"),
        (Method::DELETE, "/api/admin/boards/t"),
    ] {
        let cases: Vec<(&str, Vec<u8>, u16, &str)> = vec![
            (json_type, b"not json".to_vec(), 400, "invalid_json"),
            (json_type, b"{\"title\":".to_vec(), 400, "invalid_json"),
            (json_type, b"[1, 2]".to_vec(), 400, "invalid_type"),
            (json_type, b"\"t\"".to_vec(), 400, "invalid_type"),
            (
                json_type,
                b"{\"confirm\":\"t\",\"confirm\":\"t\"}".to_vec(),
                400,
                "duplicate_field",
            ),
            (
                json_type,
                b"{\"title\":\"\xff\"}".to_vec(),
                400,
                "invalid_utf8",
            ),
            (
                "text/plain",
                b"{\"confirm\":\"t\"}".to_vec(),
                415,
                "unsupported_media_type",
            ),
            (json_type, huge.clone(), 413, "payload_too_large"),
        ];
        for (content_type, body, status, code) in cases {
            let r = s
                .send(raw(method.clone(), path, content_type, body.clone()))
                .await;
            failures.extend(mismatch(&r, status, code, None).map(|m| {
                format!(
                    "{method} {path} {:?}: {m}",
                    String::from_utf8_lossy(&body[..body.len().min(40)])
                )
            }));
        }
        let r = s
            .send(raw(
                method.clone(),
                &format!("{path}?x=1"),
                json_type,
                b"{}".to_vec(),
            ))
            .await;
        failures.extend(
            mismatch(&r, 400, "invalid_query", None).map(|m| format!("{method} {path}?x=1: {m}")),
        );
    }
    for path in ["/api/admin/boards", "/api/admin/boards/t"] {
        let r = root.get(&s, &format!("{path}?page=2")).await;
        failures.extend(
            mismatch(&r, 400, "invalid_query", None).map(|m| format!("GET {path}?page=2: {m}")),
        );
    }
    let r = delete(&s, &root, "/api/admin/boards", json!({"confirm": "t"})).await;
    failures.extend(
        mismatch(&r, 405, "method_not_allowed", None).map(|m| format!("DELETE the list: {m}")),
    );
    assert_no_mismatches(&failures);
    assert_eq!(
        state(&s, &root).await,
        before,
        "a refused request changed something"
    );
}

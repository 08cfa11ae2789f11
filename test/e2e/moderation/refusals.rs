//! Breaking every moderation route first: who may not call it, forged numbers, malformed and
//! oversized bodies, duplicate and excessive reports. Each refusal changes nothing.

use super::*;

/// Every staff route, on board /t/ post or thread `no`, with a valid body for POSTs.
fn staff_routes(no: u64) -> Vec<(&'static str, String, Value)> {
    vec![
        (
            "POST",
            format!("/api/boards/t/posts/{no}/staff-delete"),
            json!({"scope": "post"}),
        ),
        (
            "POST",
            format!("/api/boards/t/reports/{no}"),
            json!({"action": "dismiss"}),
        ),
        ("GET", "/api/boards/t/reports".into(), Value::Null),
        (
            "GET",
            format!("/api/boards/t/threads/{no}/posters"),
            Value::Null,
        ),
    ]
}

async fn call(s: &Server, who: Option<&Session>, method: &str, path: &str, body: &Value) -> Reply {
    let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
    let req = match who {
        Some(session) => session.request(s, method, path),
        None => s.client.request(method, s.url(path)),
    };
    let req = if body.is_null() { req } else { req.json(body) };
    s.send(req).await
}

#[tokio::test]
async fn staff_routes_refuse_who_may_not_act_on_the_board() {
    let s = Server::with_config(&config("")).await;
    let (root, _jan, other) = team(&s).await;
    let user = Session::signup(&s, "visitor", crate::session::PASSWORD).await;
    let op = s.thread("t", "spam").await;
    report_from(&s, "10.0.0.1", "t", op, json!({"category": "spam"})).await;

    for (method, path, body) in staff_routes(op) {
        call(&s, None, method, &path, &body)
            .await
            .assert_error(403, "not_logged_in");
        call(&s, Some(&user), method, &path, &body)
            .await
            .assert_error(403, "forbidden");
        // A janitor of /u/ is nobody on /t/.
        call(&s, Some(&other), method, &path, &body)
            .await
            .assert_error(403, "forbidden");
    }
    // The staff-wide routes need a staff role, any.
    for path in ["/api/reports", "/api/reports/counts", "/api/modlog"] {
        s.get(path).await.assert_error(403, "not_logged_in");
        user.get(&s, path).await.assert_error(403, "forbidden");
    }
    // A session without its CSRF token changes nothing.
    let r = root
        .post_csrf(
            &s,
            &format!("/api/boards/t/posts/{op}/staff-delete"),
            None,
            json!({"scope": "post"}),
        )
        .await;
    r.assert_error(403, "csrf_failed");
    assert!(exists(&s, "t", op).await);
    // The other board's janitor sees no /t/ report, and no /t/ log.
    let counts = other.get(&s, "/api/reports/counts").await;
    assert_eq!(counts.json, json!({"counts": {"u": 0}, "total": 0}));
    assert_eq!(
        other.get(&s, "/api/reports").await.json["reports"],
        json!([])
    );
    assert_eq!(root.get(&s, "/api/reports/counts").await.json["total"], 1);
}

#[tokio::test]
async fn forged_numbers_and_malformed_bodies_are_refused() {
    let s = Server::with_config(&config("")).await;
    let (_root, jan, _) = team(&s).await;
    let op = s.thread("t", "first").await;
    let reply = s.reply("t", op, json!({"body": "gone soon"})).await;
    let r = jan
        .post(
            &s,
            &format!("/api/boards/t/posts/{reply}/staff-delete"),
            json!({"scope": "post"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);

    let delete = |no: &str| format!("/api/boards/t/posts/{no}/staff-delete");
    // (path, body, status, code)
    let long_reason = "r".repeat(201);
    let long_note = "n".repeat(1001);
    let cases: Vec<(String, Value, u16, &str)> = vec![
        (
            delete("999"),
            json!({"scope": "post"}),
            404,
            "post_not_found",
        ),
        (
            delete(&reply.to_string()),
            json!({"scope": "post"}),
            410,
            "post_deleted",
        ),
        (delete("abc"), json!({"scope": "post"}), 400, "invalid_path"),
        (delete("-1"), json!({"scope": "post"}), 400, "invalid_path"),
        (
            "/api/boards/zz/posts/1/staff-delete".into(),
            json!({"scope": "post"}),
            403,
            "forbidden",
        ),
        (delete(&op.to_string()), json!({}), 400, "missing_field"),
        (
            delete(&op.to_string()),
            json!({"scope": "all"}),
            400,
            "invalid_value",
        ),
        (
            delete(&op.to_string()),
            json!({"scope": 1}),
            400,
            "invalid_type",
        ),
        (
            delete(&op.to_string()),
            json!({"scope": "post", "ban": true}),
            400,
            "unknown_field",
        ),
        (
            delete(&op.to_string()),
            json!({"scope": "post", "reason": long_reason}),
            400,
            "too_long",
        ),
        (
            delete(&op.to_string()),
            json!({"scope": "post", "reason": "two\nlines"}),
            400,
            "control_characters",
        ),
        (
            delete(&op.to_string()),
            json!({"scope": "post", "note": long_note}),
            400,
            "too_long",
        ),
        (
            delete(&op.to_string()),
            json!({"scope": "files"}),
            400,
            "no_files",
        ),
        (
            format!("/api/boards/t/reports/{op}"),
            json!({"action": "dismiss"}),
            404,
            "report_not_found",
        ),
        (
            format!("/api/boards/t/reports/{op}"),
            json!({"action": "ban_everyone"}),
            400,
            "invalid_value",
        ),
    ];
    for (path, body, status, code) in cases {
        let r = jan.post(&s, &path, body.clone()).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (status, code),
            "{path} {body}: {}",
            r.json
        );
    }
    assert!(exists(&s, "t", op).await, "no refusal deleted anything");
    let log = jan.get(&s, "/api/modlog").await;
    let actions: Vec<&Value> = log.json["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| &e["action"])
        .collect();
    assert_eq!(
        actions,
        [&json!("post_delete"), &json!("board_create")],
        "only the deletion that was made is logged"
    );

    // Queries are checked as well.
    for path in [
        "/api/boards/t/reports?limit=0",
        "/api/boards/t/reports?limit=101",
        "/api/boards/t/reports?sort=old",
        "/api/modlog?limit=201",
        "/api/modlog?before=x",
    ] {
        jan.get(&s, path).await.assert_error(400, "invalid_query");
    }
    s.get("/api/boards/zz/modlog")
        .await
        .assert_error(404, "board_not_found");
    s.get("/api/boards/t/modlog?limit=x")
        .await
        .assert_error(400, "invalid_query");
    jan.get(&s, "/api/boards/t/threads/999/posters")
        .await
        .assert_error(404, "thread_not_found");
}

#[tokio::test]
async fn reports_are_checked_once_per_client_and_limited() {
    let s = Server::with_config(&config("")).await;
    let op = s.thread("t", "first").await;
    let post = |no: u64| format!("/api/boards/t/posts/{no}/report");
    // (body, status, code)
    let cases: Vec<(Value, u16, &str)> = vec![
        (json!({}), 400, "missing_field"),
        (json!({"category": "boring"}), 400, "invalid_value"),
        (json!({"category": ["spam"]}), 400, "invalid_type"),
        (
            json!({"category": "spam", "why": "x"}),
            400,
            "unknown_field",
        ),
        (
            json!({"category": "other", "note": "n".repeat(501)}),
            400,
            "too_long",
        ),
        (
            json!({"category": "other", "note": "bell\u{7}"}),
            400,
            "control_characters",
        ),
    ];
    for (body, status, code) in cases {
        let r = report_from(&s, "10.0.0.1", "t", op, body.clone()).await;
        assert_eq!((r.status.as_u16(), r.code()), (status, code), "{body}");
    }
    let r = s
        .post_raw(&post(op), Some("text/plain"), "category=spam")
        .await;
    r.assert_error(415, "unsupported_media_type");
    let spam = json!({"category": "spam"});
    report_from(&s, "10.0.0.1", "t", 999, spam.clone())
        .await
        .assert_error(404, "post_not_found");
    report_from(&s, "10.0.0.1", "zz", 1, spam.clone())
        .await
        .assert_error(404, "board_not_found");

    let r = report_from(&s, "10.0.0.2", "t", op, spam.clone()).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json, json!({"reported": {"board": "t", "no": op}}));
    report_from(&s, "10.0.0.2", "t", op, spam.clone())
        .await
        .assert_error(409, "already_reported");
    // Another address of the same IPv6 /64 is the same client.
    let v6 = report_from(&s, "2001:db8::1", "t", op, spam.clone()).await;
    assert_eq!(v6.status, 201);
    report_from(&s, "2001:db8::2", "t", op, spam.clone())
        .await
        .assert_error(409, "already_reported");

    // Ten reports per client network per ten minutes, whatever they are about.
    let mut posts = Vec::new();
    for i in 0..11 {
        posts.push(s.reply("t", op, json!({"body": format!("r{i}")})).await);
    }
    let mut refused = None;
    for no in &posts {
        let r = report_from(&s, "10.0.0.3", "t", *no, spam.clone()).await;
        if r.status == 429 {
            refused = Some(r);
            break;
        }
        assert_eq!(r.status, 201, "{}", r.json);
    }
    let refused = refused.expect("the eleventh report is refused");
    refused.assert_error(429, "rate_limited");
    assert!(refused.header("retry-after").parse::<u64>().unwrap() >= 1);
    let other = report_from(&s, "10.0.0.4", "t", posts[10], spam).await;
    assert_eq!(other.status, 201, "another address is not limited");
}

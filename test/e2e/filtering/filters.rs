//! Word filters: refusals first, then each action on each field, a regex, matches through
//! full-width letters, accents and zero-width spaces, changes and deletion taking effect at
//! once, and a filtered post leaving no trace.

use super::*;

fn spam_filter() -> Value {
    json!({ "pattern": "spam", "action": "reject", "message": "No spam." })
}

fn routes() -> Vec<(Method, &'static str, Value)> {
    vec![
        (Method::GET, "/api/boards/t/filters", Value::Null),
        (Method::POST, "/api/boards/t/filters", spam_filter()),
        (Method::POST, "/api/boards/t/filters/1", spam_filter()),
        (Method::DELETE, "/api/boards/t/filters/1", Value::Null),
        (Method::GET, "/api/filters", Value::Null),
        (Method::POST, "/api/filters", spam_filter()),
        (Method::POST, "/api/filters/1", spam_filter()),
        (Method::DELETE, "/api/filters/1", Value::Null),
    ]
}

#[tokio::test]
async fn filter_routes_refuse_wrong_callers_and_bad_input() {
    let s = Server::with_config(&config()).await;
    let root = admin(&s).await;
    let user = Session::signup(&s, "plain", crate::session::PASSWORD).await;
    let other_mod = staff(&s, &root, "umod", "board_mod", &["u"]).await;
    let t_mod = staff(&s, &root, "tmod", "board_mod", &["t"]).await;
    let global = staff(&s, &root, "gmod", "global_mod", &[]).await;
    for (method, path, body) in routes() {
        send(&s, None, &method, path, &body)
            .await
            .assert_error(403, "not_logged_in");
        for who in [&user, &other_mod] {
            send(&s, Some(who), &method, path, &body)
                .await
                .assert_error(403, "forbidden");
        }
        // Global filters are for admins only.
        if !path.starts_with("/api/boards/") {
            for who in [&t_mod, &global] {
                send(&s, Some(who), &method, path, &body)
                    .await
                    .assert_error(403, "forbidden");
            }
        }
    }
    let long = "a".repeat(257);
    let bad: Vec<(Value, &str, &str)> = vec![
        (
            json!({ "action": "reject", "message": "m" }),
            "missing_field",
            "pattern",
        ),
        (
            json!({ "pattern": "(", "regex": true, "action": "reject", "message": "m" }),
            "invalid_pattern",
            "pattern",
        ),
        (
            json!({ "pattern": "\\w{1000}", "regex": true, "action": "reject", "message": "m" }),
            "invalid_pattern",
            "pattern",
        ),
        (
            json!({ "pattern": "a*", "regex": true, "action": "reject", "message": "m" }),
            "invalid_pattern",
            "pattern",
        ),
        (
            json!({ "pattern": long, "action": "reject", "message": "m" }),
            "invalid_pattern",
            "pattern",
        ),
        (
            json!({ "pattern": "\u{200b}", "action": "reject", "message": "m" }),
            "invalid_pattern",
            "pattern",
        ),
        (
            json!({ "pattern": "x", "action": "ban", "message": "m" }),
            "invalid_value",
            "action",
        ),
        (
            json!({ "pattern": "x", "action": "reject" }),
            "missing_field",
            "message",
        ),
        (
            json!({ "pattern": "x", "action": "replace" }),
            "missing_field",
            "replacement",
        ),
        (
            json!({ "pattern": "x", "action": "reject", "message": "m", "replacement": "y" }),
            "unknown_field",
            "replacement",
        ),
        (
            json!({ "pattern": "x", "action": "reject", "message": "m", "fields": ["email"] }),
            "invalid_value",
            "fields",
        ),
        (
            json!({ "pattern": "x", "action": "reject", "message": "m", "fields": [] }),
            "empty",
            "fields",
        ),
        (
            json!({ "pattern": "x", "action": "reject", "message": "m", "fields": "body" }),
            "invalid_type",
            "fields",
        ),
        (
            json!({ "pattern": "x", "action": "reject", "message": "m", "board": "u" }),
            "unknown_field",
            "board",
        ),
        (
            json!({ "pattern": "x", "action": "replace", "replacement": "y".repeat(201) }),
            "too_long",
            "replacement",
        ),
    ];
    for (body, code, field) in &bad {
        let r = t_mod.post(&s, "/api/boards/t/filters", body.clone()).await;
        r.assert_error(400, code);
        assert_eq!(r.field(), *field, "{body}");
    }
    t_mod
        .post(&s, "/api/boards/t/filters/99", spam_filter())
        .await
        .assert_error(404, "filter_not_found");
    t_mod
        .delete(&s, "/api/boards/t/filters/99")
        .await
        .assert_error(404, "filter_not_found");
    t_mod
        .delete(&s, "/api/boards/t/filters/x")
        .await
        .assert_error(400, "invalid_path");
    root.post(&s, "/api/boards/nope/filters", spam_filter())
        .await
        .assert_error(404, "board_not_found");
    // A board's filter is not reachable through another board or the global routes.
    let r = t_mod.post(&s, "/api/boards/t/filters", spam_filter()).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let id = r.json["filter"]["id"].as_u64().unwrap();
    root.delete(&s, &format!("/api/boards/u/filters/{id}"))
        .await
        .assert_error(404, "filter_not_found");
    root.delete(&s, &format!("/api/filters/{id}"))
        .await
        .assert_error(404, "filter_not_found");
    // Nothing refused was written: one filter, on /t/.
    let r = root.get(&s, "/api/filters").await;
    assert_eq!(r.json, json!({ "filters": [] }));
    let r = t_mod.get(&s, "/api/boards/t/filters").await;
    assert_eq!(r.json["filters"].as_array().unwrap().len(), 1);
}

/// Posts a thread on /t/ with every filterable field holding `word` but `except`, which holds
/// "fine"; the reply.
async fn post_fields(s: &Server, word: &str, except: &str) -> Reply {
    let text = |field: &str| if field == except { "fine" } else { word };
    let form = form(
        Some(&format!("body {}", text("body"))),
        vec![(
            crate::uploads::png(8, 8, [10, 200, 30]),
            &format!("{}.png", text("file_name")),
        )],
    )
    .text("name", format!("nm{}", text("name")))
    .text("subject", format!("sub {}", text("subject")));
    s.post_form(&threads("t"), form).await
}

async fn post_all_fields(s: &Server, word: &str) -> Reply {
    post_fields(s, word, "").await
}

#[tokio::test]
async fn each_action_applies_to_its_fields_only() {
    let s = Server::with_config(&config()).await;
    let root = admin(&s).await;
    let t_mod = staff(&s, &root, "tmod", "board_mod", &["t"]).await;
    for field in ["name", "subject", "body", "file_name"] {
        let r = t_mod
            .post(
                &s,
                "/api/boards/t/filters",
                json!({ "pattern": "darn", "action": "replace", "replacement": "dang", "fields": [field] }),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.json);
        let id = r.json["filter"]["id"].as_u64().unwrap();
        let r = post_all_fields(&s, "darn").await;
        assert_eq!(r.status, 201, "{}", r.json);
        let p = post(&s, "t", r.json["no"].as_u64().unwrap()).await;
        let seen = [
            ("name", p["name"].as_str().unwrap().to_owned()),
            ("subject", p["subject"].as_str().unwrap().to_owned()),
            ("body", p["body"].as_str().unwrap().to_owned()),
            (
                "file_name",
                only_file(&p)["name"].as_str().unwrap().to_owned(),
            ),
        ];
        for (name, value) in seen {
            let expected = if name == field { "dang" } else { "darn" };
            assert!(value.contains(expected), "{field} filter, {name}: {value}");
        }
        t_mod
            .delete(&s, &format!("/api/boards/t/filters/{id}"))
            .await;

        let r = t_mod
            .post(
                &s,
                "/api/boards/t/filters",
                json!({ "pattern": "heck", "action": "reject", "message": "Mind your words.", "fields": [field] }),
            )
            .await;
        let id = r.json["filter"]["id"].as_u64().unwrap();
        let r = post_all_fields(&s, "heck").await;
        r.assert_error(403, "post_filtered");
        assert_eq!(r.json["error"]["message"], "Mind your words.");
        // The same word in the other fields only passes.
        let r = post_fields(&s, "heck", field).await;
        assert_eq!(r.status, 201, "{field}: {}", r.json);
        t_mod
            .delete(&s, &format!("/api/boards/t/filters/{id}"))
            .await;
    }
    let log = board_log(&s, &root, "t").await;
    let actions: Vec<&str> = log.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(&actions[..2], ["filter_delete", "filter_create"]);
}

#[tokio::test]
async fn regexes_and_normalized_text_match_and_changes_apply_at_once() {
    let s = Server::with_config(&config()).await;
    let root = admin(&s).await;
    let r = root
        .post(
            &s,
            "/api/filters",
            json!({ "pattern": "b[a@]d\\s*w[o0]rd", "regex": true, "action": "reject", "message": "Not on this board." }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(
        r.header("location"),
        format!("/api/filters/{}", r.json["filter"]["id"])
    );
    let r = root
        .post(
            &s,
            "/api/boards/t/filters",
            json!({ "pattern": "Spam", "action": "replace", "replacement": "ham", "fields": ["body"] }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let spam = r.json["filter"]["id"].as_u64().unwrap();
    let body = |text: &str| json!({ "body": text });
    let cases: &[(&str, &str, Result<&str, ()>)] = &[
        ("t", "a B@D  W0RD here", Err(())),
        ("u", "a bad word", Err(())),
        ("u", "a bad sword", Ok("a bad sword")),
        ("t", "buy SPAM", Ok("buy ham")),
        ("t", "buy ＳＰＡＭ now", Ok("buy ham now")),
        ("t", "buy sp\u{200b}am", Ok("buy ham")),
        ("t", "buy spám", Ok("buy ham")),
        ("u", "buy spam", Ok("buy spam")),
    ];
    for (board, text, expected) in cases {
        let r = s.post(&threads(board), body(text)).await;
        match expected {
            Err(()) => r.assert_error(403, "post_filtered"),
            Ok(kept) => {
                assert_eq!(r.status, 201, "{text}: {}", r.json);
                let p = post(&s, board, r.json["no"].as_u64().unwrap()).await;
                assert_eq!(p["body"], *kept, "/{board}/ {text:?}");
            }
        }
    }
    // A change takes effect on the next post.
    let r = root
        .post(
            &s,
            &format!("/api/boards/t/filters/{spam}"),
            json!({ "pattern": "spam", "action": "reject", "message": "Spam is gone now." }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(
        r.json["filter"]["fields"],
        json!(["name", "subject", "body", "file_name"])
    );
    let r = s.post(&threads("t"), body("spam")).await;
    r.assert_error(403, "post_filtered");
    assert_eq!(r.json["error"]["message"], "Spam is gone now.");
    let r = root
        .delete(&s, &format!("/api/boards/t/filters/{spam}"))
        .await;
    assert_eq!(r.json, json!({ "deleted": spam }));
    assert_eq!(s.post(&threads("t"), body("spam")).await.status, 201);
    let log = board_log(&s, &root, "t").await;
    let actions: Vec<&str> = log.iter().map(|e| e["action"].as_str().unwrap()).collect();
    assert_eq!(
        &actions[..3],
        ["filter_delete", "filter_update", "filter_create"]
    );
}

#[tokio::test]
async fn a_filtered_post_leaves_no_trace() {
    let s = Server::with_config(&config()).await;
    let root = admin(&s).await;
    let r = root
        .post(
            &s,
            "/api/boards/t/filters",
            json!({ "pattern": "forbidden", "action": "reject", "message": "Not on this board." }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let first = s.thread("t", "allowed").await;
    let reply_path = format!("/api/boards/t/threads/{first}/posts");
    let refused = [
        s.post(&threads("t"), json!({ "body": "forbidden" })).await,
        s.post(&reply_path, json!({ "body": "forbidden" })).await,
        s.post_form(
            &threads("t"),
            form(
                Some("forbidden"),
                vec![(crate::uploads::png(64, 64, [9, 9, 9]), "a.png")],
            ),
        )
        .await,
        s.post_form(
            &reply_path,
            form(
                Some("ok"),
                vec![(crate::uploads::png(64, 64, [9, 9, 9]), "forbidden.png")],
            ),
        )
        .await,
    ];
    for r in refused {
        r.assert_error(403, "post_filtered");
    }
    // No file, thumbnail or temporary file, and no post number used.
    assert_eq!(s.stored_files(), Vec::<std::path::PathBuf>::new());
    let next = s.thread("t", "allowed again").await;
    assert_eq!(next, first + 1);
    let r = s.get(&format!("/api/boards/t/threads/{first}")).await;
    assert_eq!(
        r.json["thread"]["posts"].as_array().unwrap().len(),
        1,
        "{}",
        r.json
    );
}

#[tokio::test]
async fn reject_and_ban_refuses_the_post_and_bans_its_poster() {
    let s = Server::with_config(&config()).await;
    let root = admin(&s).await;
    let t_mod = staff(&s, &root, "tmod", "board_mod", &["t"]).await;
    let bad: &[(Value, u16, &str, &str)] = &[
        (
            json!({ "pattern": "x", "action": "reject_and_ban", "message": "Bye now." }),
            400,
            "missing_field",
            "ban_secs",
        ),
        (
            json!({ "pattern": "x", "action": "reject_and_ban", "message": "Bye now.", "ban_secs": 5 }),
            400,
            "out_of_range",
            "ban_secs",
        ),
        (
            json!({ "pattern": "x", "action": "reject_and_ban", "message": "Bye now.", "ban_secs": "1h" }),
            400,
            "invalid_type",
            "ban_secs",
        ),
        (
            json!({ "pattern": "x", "action": "reject", "message": "Bye now.", "ban_secs": 60 }),
            400,
            "unknown_field",
            "ban_secs",
        ),
    ];
    for (body, status, code, field) in bad {
        let r = t_mod.post(&s, "/api/boards/t/filters", body.clone()).await;
        r.assert_error(*status, code);
        assert_eq!(r.field(), *field, "{body}");
    }
    let r = t_mod
        .post(
            &s,
            "/api/boards/t/filters",
            json!({ "pattern": "casino", "action": "reject_and_ban", "message": "Casino spam.", "ban_secs": 3600, "fields": ["body"] }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["filter"]["ban_secs"], 3600);
    let from = |ip: &str, text: &str| {
        s.client
            .post(s.url(&threads("t")))
            .header("x-forwarded-for", ip)
            .json(&json!({ "body": text }))
    };
    let r = s.send(from("203.0.113.7", "best CASINO deals")).await;
    r.assert_error(403, "post_filtered");
    assert_eq!(r.json["error"]["message"], "Casino spam.");
    // The poster is banned on /t/ now, whatever they post; others and other boards are not.
    let r = s.send(from("203.0.113.7", "hello")).await;
    r.assert_error(403, "banned");
    assert!(
        r.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("Casino spam."),
        "{}",
        r.json
    );
    assert_eq!(s.send(from("203.0.113.8", "hello")).await.status, 201);
    let r = s
        .send(
            s.client
                .post(s.url(&threads("u")))
                .header("x-forwarded-for", "203.0.113.7")
                .json(&json!({ "body": "hello" })),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
}

//! A poster deleting their own post, a whole thread or only the files, with the password they
//! posted with, within the board's window; and what is left on disk afterwards.

use super::*;

/// `what` and what differs, when `r` is not this error.
fn check(what: &str, r: Reply, status: u16, code: &str, field: Option<&str>) -> Option<String> {
    mismatch(&r, status, code, field).map(|m| format!("{what}: {m}"))
}

#[tokio::test]
async fn the_delete_route_refuses_what_it_cannot_do() {
    let s = Server::with_config(&(board("b", "") + &board("off", "delete_window_secs = 0"))).await;
    let t = open(&s, "b", json!({ "body": "op", "password": "pw-op" })).await;
    let no_password = s.reply("b", t, json!({ "body": "no password" })).await;
    let target = s
        .reply("b", t, json!({ "body": "target", "password": "pw-3" }))
        .await;
    assert_eq!((t, no_password, target), (1, 2, 3));
    let path = delete_path("b", target);
    let mut failures = Vec::new();

    let r = delete(&s, "zz", target, json!({ "password": "pw-3" })).await;
    failures.extend(check("unknown board", r, 404, "board_not_found", None));
    for n in [0, 4, 99, u64::MAX] {
        let r = delete(&s, "b", n, json!({ "password": "pw-3" })).await;
        failures.extend(check(&format!("post {n}"), r, 404, "post_not_found", None));
    }
    for n in ["abc", "-1", "1.0", "99999999999999999999999"] {
        let r = s
            .post(
                &format!("/api/boards/b/posts/{n}/delete"),
                json!({ "password": "pw-3" }),
            )
            .await;
        failures.extend(check(
            &format!("post {n}"),
            r,
            400,
            "invalid_path",
            Some("no"),
        ));
    }
    let bodies = [
        (json!({}), "missing_field", "password"),
        (json!({ "password": null }), "missing_field", "password"),
        (json!({ "file_only": false }), "missing_field", "password"),
        (
            json!({ "password": "pw-3", "force": true }),
            "unknown_field",
            "force",
        ),
        (
            json!({ "password": "pw-3", "Password": "pw-3" }),
            "unknown_field",
            "Password",
        ),
        (json!({ "password": 3 }), "invalid_type", "password"),
        (json!({ "password": ["pw-3"] }), "invalid_type", "password"),
        (
            json!({ "password": "pw-3", "file_only": "yes" }),
            "invalid_type",
            "file_only",
        ),
        (
            json!({ "password": "pw-3", "file_only": 1 }),
            "invalid_type",
            "file_only",
        ),
    ];
    for (body, code, field) in bodies {
        let r = s.post(&path, body.clone()).await;
        failures.extend(check(&body.to_string(), r, 400, code, Some(field)));
    }
    let r = s.post(&path, json!(["pw-3"])).await;
    if r.status != 400 {
        failures.push(format!("a JSON array: {} {}", r.status, r.json));
    }
    let r = s
        .post_raw(&path, Some("application/json"), r#"{"password":"pw-3""#)
        .await;
    failures.extend(check("broken JSON", r, 400, "invalid_json", None));
    for content_type in [
        None,
        Some("text/plain"),
        Some("application/x-www-form-urlencoded"),
    ] {
        let r = s
            .post_raw(&path, content_type, r#"{"password":"pw-3"}"#)
            .await;
        failures.extend(check(
            &format!("content type {content_type:?}"),
            r,
            415,
            "unsupported_media_type",
            None,
        ));
    }
    let r = s
        .post_form(&path, Form::new().text("password", "pw-3"))
        .await;
    failures.extend(check("a form", r, 415, "unsupported_media_type", None));
    let huge = format!(r#"{{"password":"{}"}}"#, "p".repeat(200 * 1024));
    let r = s.post_raw(&path, Some("application/json"), huge).await;
    failures.extend(check("a 200 KiB body", r, 413, "payload_too_large", None));
    let r = s
        .post(&format!("{path}?force=1"), json!({ "password": "pw-3" }))
        .await;
    failures.extend(check("a query", r, 400, "invalid_query", Some("force")));
    let r = s.request("GET", &path).await;
    failures.extend(check("GET", r, 405, "method_not_allowed", None));

    for (no, password) in [
        (target, "nope"),
        (target, "PW-3"),
        (target, "pw-3 "),
        (target, "pw-op"),
        (no_password, "anything"),
        (no_password, "pw-3"),
    ] {
        let r = delete(&s, "b", no, json!({ "password": password })).await;
        failures.extend(check(
            &format!("post {no} with {password:?}"),
            r,
            403,
            "wrong_password",
            None,
        ));
    }
    let r = delete(
        &s,
        "b",
        target,
        json!({ "password": "pw-3", "file_only": true }),
    )
    .await;
    failures.extend(check("file_only without files", r, 400, "no_files", None));
    let off = open(&s, "off", json!({ "body": "op", "password": "pw-off" })).await;
    let r = delete(&s, "off", off, json!({ "password": "pw-off" })).await;
    failures.extend(check(
        "a board with no window",
        r,
        403,
        "delete_window_closed",
        None,
    ));
    assert_no_mismatches(&failures);

    // None of that deleted anything.
    assert_eq!(post(&s, "off", off).await["body"], "op");
    let th = thread(&s, "b", t).await;
    assert_eq!(numbers(&th["posts"]), [1, 2, 3]);
    assert_eq!(th["replies"], 2);

    delete_ok(&s, "b", target, "pw-3", false).await;
    for password in ["pw-3", "nope"] {
        let r = delete(&s, "b", target, json!({ "password": password })).await;
        refused(&r, 410, "post_deleted", None);
    }
    let r = delete(
        &s,
        "b",
        target,
        json!({ "password": "pw-3", "file_only": true }),
    )
    .await;
    refused(&r, 410, "post_deleted", None);
}

#[tokio::test]
async fn a_deleted_reply_leaves_its_thread() {
    let s = Server::start().await;
    let t = s.thread("b", "op").await;
    let text = s
        .reply("b", t, json!({ "body": "text", "password": "pw-2" }))
        .await;
    let (pic, p) = upload(
        &s,
        &replies("b", t),
        form(
            Some("with a picture"),
            vec![(png(64, 48, [200, 20, 20]), "red.png")],
        )
        .text("password", "pw-3"),
    )
    .await;
    let last = s.reply("b", t, json!({ "body": "the last" })).await;
    assert_eq!((text, pic, last), (2, 3, 4));
    let file = only_file(&p).clone();
    let th = thread(&s, "b", t).await;
    assert_eq!((&th["replies"], &th["images"]), (&json!(3), &json!(1)));
    assert_eq!(p.get("files_deleted"), None);

    delete_ok(&s, "b", text, "pw-2", false).await;
    refused(
        &s.get(&format!("/api/boards/b/posts/{text}")).await,
        410,
        "post_deleted",
        None,
    );
    let th = thread(&s, "b", t).await;
    assert_eq!(numbers(&th["posts"]), [1, 3, 4]);
    assert_eq!((&th["replies"], &th["images"]), (&json!(2), &json!(1)));

    delete_ok(&s, "b", pic, "pw-3", false).await;
    refused(
        &s.get(&format!("/api/boards/b/posts/{pic}")).await,
        410,
        "post_deleted",
        None,
    );
    assert_file_gone(&s, &file, "the only post with the file was deleted").await;
    let th = thread(&s, "b", t).await;
    assert_eq!(numbers(&th["posts"]), [1, 4]);
    assert_eq!((&th["replies"], &th["images"]), (&json!(1), &json!(0)));
    let cat = s.get("/api/boards/b/catalog").await.json;
    assert_eq!(
        (&cat["threads"][0]["replies"], &cat["threads"][0]["images"]),
        (&json!(1), &json!(0))
    );
    let idx = s.get("/api/boards/b/index").await.json;
    let entry = &idx["threads"][0];
    assert_eq!(numbers(&entry["posts"]), [1, 4]);
    assert_eq!(
        (&entry["replies"], &entry["images"]),
        (&json!(1), &json!(0))
    );

    // Numbers are never reused, and a quote of a deleted one is dead.
    let next = s.reply("b", t, json!({ "body": ">>3 where?" })).await;
    assert_eq!(next, 5);
    assert_eq!(
        html(&s, "b", next).await,
        "<span class=\"deadlink\">&gt;&gt;3</span> where?"
    );
    let recent = s.get("/api/recent").await.json;
    let listed: Vec<u64> = numbers(&recent["posts"]);
    assert_eq!(listed, [5, 4, 1], "deleted posts are not recent");
}

#[tokio::test]
async fn deleting_the_op_deletes_the_thread() {
    let s = Server::start().await;
    let t = open(
        &s,
        "b",
        json!({ "body": "doomed", "subject": "Doomed", "password": "pw-op" }),
    )
    .await;
    let r2 = s.reply("b", t, json!({ "body": "a reply" })).await;
    let (r3, p3) = upload(
        &s,
        &replies("b", t),
        form(
            Some("doomed picture"),
            vec![(jpeg(120, 80, [30, 90, 200]), "blue.jpg")],
        ),
    )
    .await;
    let other = open(&s, "b", json!({ "body": ">>2 quoted from elsewhere" })).await;
    assert_eq!((t, r2, r3, other), (1, 2, 3, 4));
    let file = only_file(&p3).clone();

    delete_ok(&s, "b", t, "pw-op", false).await;
    refused(
        &s.get(&format!("/api/boards/b/threads/{t}")).await,
        410,
        "thread_deleted",
        None,
    );
    for no in [t, r2, r3] {
        refused(
            &s.get(&format!("/api/boards/b/posts/{no}")).await,
            410,
            "post_deleted",
            None,
        );
        let r = delete(&s, "b", no, json!({ "password": "pw-op" })).await;
        refused(&r, 410, "post_deleted", None);
    }
    assert_eq!(catalog(&s, "b").await, [other]);
    assert_eq!(index(&s, "b").await, [other]);
    assert_eq!(archive(&s, "b").await, Vec::<u64>::new());
    assert_file_gone(&s, &file, "the thread's reply held it").await;
    assert_eq!(
        html(&s, "b", other).await,
        "<span class=\"deadlink\">&gt;&gt;2</span> quoted from elsewhere"
    );
    let recent = s.get("/api/recent").await.json;
    assert_eq!(numbers(&recent["posts"]), [other]);

    // No reply reaches it, and a refused reply leaves no file and uses no number.
    let stored = s.stored_files();
    let r = s.post(&replies("b", t), json!({ "body": "late" })).await;
    refused(&r, 410, "thread_deleted", None);
    let r = s
        .post_form(
            &replies("b", t),
            form(Some("late"), vec![(png(30, 30, [1, 2, 3]), "late.png")]),
        )
        .await;
    refused(&r, 410, "thread_deleted", None);
    assert_eq!(s.stored_files(), stored, "a refused reply left a file");
    assert_eq!(s.thread("b", "next").await, 5);
}

#[tokio::test]
async fn deleting_only_the_files_keeps_the_post() {
    let s = Server::start().await;
    let (t, op) = upload(
        &s,
        &threads("b"),
        form(
            Some("op caption"),
            vec![(png(70, 50, [10, 120, 240]), "op.png")],
        )
        .text("password", "pw-op"),
    )
    .await;
    let (r, p) = upload(
        &s,
        &replies("b", t),
        form(
            Some("reply caption"),
            vec![
                (png(60, 40, [240, 10, 10]), "one.png"),
                (jpeg(90, 60, [10, 240, 10]), "two.jpg"),
            ],
        )
        .text("password", "pw-r"),
    )
    .await;
    let text = s
        .reply("b", t, json!({ "body": "no files", "password": "pw-t" }))
        .await;
    let reply_files = p["files"].as_array().unwrap().clone();
    assert_eq!(reply_files.len(), 2);
    assert_eq!(thread(&s, "b", t).await["images"], 2);
    for no in [t, r, text] {
        assert_eq!(post(&s, "b", no).await.get("files_deleted"), None);
    }

    delete_ok(&s, "b", r, "pw-r", true).await;
    let after = post(&s, "b", r).await;
    assert_eq!(after.get("files"), None);
    assert_eq!(after["files_deleted"], true);
    assert_eq!(after["body"], "reply caption");
    assert_eq!(after["html"], p["html"]);
    for file in &reply_files {
        assert_file_gone(&s, file, "the reply's files were deleted").await;
    }
    let th = thread(&s, "b", t).await;
    assert_eq!(numbers(&th["posts"]), [t, r, text]);
    assert_eq!((&th["replies"], &th["images"]), (&json!(2), &json!(0)));
    assert_eq!(th["posts"][1]["files_deleted"], true);

    // Nothing left to delete: the files are gone, and the text post never had any.
    let again = delete(&s, "b", r, json!({ "password": "pw-r", "file_only": true })).await;
    refused(&again, 400, "no_files", None);
    let none = delete(
        &s,
        "b",
        text,
        json!({ "password": "pw-t", "file_only": true }),
    )
    .await;
    refused(&none, 400, "no_files", None);

    // An OP's files: the thread stays, its catalog entry loses them.
    delete_ok(&s, "b", t, "pw-op", true).await;
    assert_file_gone(&s, only_file(&op), "the OP's file was deleted").await;
    let th = thread(&s, "b", t).await;
    assert_eq!(th["posts"][0].get("files"), None);
    assert_eq!(th["posts"][0]["files_deleted"], true);
    let cat = s.get("/api/boards/b/catalog").await.json;
    assert_eq!(cat["threads"][0]["no"], t);
    assert_eq!(cat["threads"][0].get("files"), None);
    assert_eq!(cat["threads"][0]["body"], "op caption");

    // The whole post can still go.
    delete_ok(&s, "b", r, "pw-r", false).await;
    assert_eq!(thread(&s, "b", t).await["replies"], 1);
}

#[tokio::test]
async fn a_file_stays_while_another_live_post_carries_it() {
    let s = Server::start().await;
    let bytes = png(80, 60, [10, 200, 10]);
    let (t, op) = upload(
        &s,
        &threads("b"),
        form(Some("first"), vec![(bytes.clone(), "one.png")]).text("password", "pw-a"),
    )
    .await;
    let (r, _) = upload(
        &s,
        &replies("b", t),
        form(Some("second"), vec![(bytes.clone(), "two.png")]).text("password", "pw-b"),
    )
    .await;
    let (last, _) = upload(
        &s,
        &replies("b", t),
        form(Some("third"), vec![(bytes.clone(), "three.png")]).text("password", "pw-c"),
    )
    .await;
    let file = only_file(&op).clone();

    delete_ok(&s, "b", r, "pw-b", false).await;
    assert_file_kept(&s, &file, "two posts still carry it").await;
    delete_ok(&s, "b", t, "pw-a", true).await;
    assert_file_kept(&s, &file, "the third post still carries it").await;
    assert_eq!(only_file(&post(&s, "b", last).await)["url"], file["url"]);
    delete_ok(&s, "b", last, "pw-c", false).await;
    assert_file_gone(&s, &file, "no live post carries it").await;
    assert_eq!(
        s.stored_files(),
        Vec::<PathBuf>::new(),
        "nothing is left on disk"
    );
}

#[tokio::test]
async fn self_deletion_closes_after_the_window() {
    let s = Server::with_config(&board("q", "delete_window_secs = 1")).await;
    let t = open(&s, "q", json!({ "body": "op", "password": "pw-op" })).await;
    let quick = s
        .reply("q", t, json!({ "body": "quick", "password": "pw-q" }))
        .await;
    let slow = s
        .reply("q", t, json!({ "body": "slow", "password": "pw-s" }))
        .await;
    delete_ok(&s, "q", quick, "pw-q", false).await;

    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    for (no, password) in [(slow, "pw-s"), (t, "pw-op")] {
        let r = delete(&s, "q", no, json!({ "password": password })).await;
        refused(&r, 403, "delete_window_closed", None);
    }
    assert_eq!(post(&s, "q", slow).await["body"], "slow");
    assert_eq!(numbers(&thread(&s, "q", t).await["posts"]), [t, slow]);
    // The window runs from each post's own time.
    let late = s
        .reply("q", t, json!({ "body": "late", "password": "pw-l" }))
        .await;
    delete_ok(&s, "q", late, "pw-l", false).await;
}

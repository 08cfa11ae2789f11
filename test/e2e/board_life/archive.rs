//! Threads pushed out of the live list: kept read-only in the archive, or deleted at once with
//! their files when the board keeps no archive.

use std::time::{SystemTime, UNIX_EPOCH};

use super::*;

fn now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn config() -> String {
    board("t", "thread_limit = 2") + &board("gone", "thread_limit = 2\narchive_days = 0")
}

#[tokio::test]
async fn the_archive_route_refuses_bad_requests() {
    let s = Server::with_config(&config()).await;
    let r = s.get("/api/boards/t/archive").await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json, json!({ "threads": [] }));
    let mut failures = Vec::new();
    for board in ["zz", "b", "T"] {
        let r = s.get(&format!("/api/boards/{board}/archive")).await;
        failures.extend(mismatch(&r, 404, "board_not_found", None));
    }
    for (query, field) in [
        ("page=1", "page"),
        ("foo=1", "foo"),
        ("limit=5", "limit"),
        ("foo", "foo"),
    ] {
        let r = s.get(&format!("/api/boards/t/archive?{query}")).await;
        failures.extend(
            mismatch(&r, 400, "invalid_query", Some(field)).map(|m| format!("?{query}: {m}")),
        );
    }
    let r = s.request("POST", "/api/boards/t/archive").await;
    failures.extend(mismatch(&r, 405, "method_not_allowed", None));
    assert_no_mismatches(&failures);
}

#[tokio::test]
async fn threads_pushed_out_of_the_live_list_are_archived() {
    let s = Server::with_config(&config()).await;
    let before = now();
    let first = open(
        &s,
        "t",
        json!({ "body": "first thread body", "subject": "First" }),
    )
    .await;
    upload(
        &s,
        &replies("t", first),
        form(
            Some("a picture"),
            vec![(png(40, 30, [90, 90, 200]), "p.png")],
        ),
    )
    .await;
    let second = s.thread("t", "second").await;
    let third = s.thread("t", "third pushes the first out").await;
    assert_eq!((first, second, third), (1, 3, 4));

    assert_eq!(catalog(&s, "t").await, [third, second]);
    assert_eq!(index(&s, "t").await, [third, second]);
    let r = s.get("/api/boards/t/archive").await;
    assert_eq!(r.status, 200, "{}", r.json);
    let entries = r.json["threads"].as_array().unwrap();
    assert_eq!(entries.len(), 1, "{}", r.json);
    let entry = &entries[0];
    assert_eq!(entry["no"], first);
    assert_eq!(entry["subject"], "First");
    assert_eq!(entry["excerpt"], "first thread body");
    assert_eq!(
        (&entry["replies"], &entry["images"]),
        (&json!(1), &json!(1))
    );
    let archived_at = entry["archived_at"]
        .as_u64()
        .unwrap_or_else(|| panic!("archived_at: {entry}"));
    assert!(
        (before..=now() + 1).contains(&archived_at),
        "archived_at {archived_at} is not the time it was archived"
    );

    // Still readable, but closed.
    let th = thread(&s, "t", first).await;
    assert_eq!(th["archived"], true);
    assert_eq!(th["posts"][0]["body"], "first thread body");
    assert_eq!(thread(&s, "t", second).await["archived"], false);
    let r = s
        .post(&replies("t", first), json!({ "body": "late" }))
        .await;
    refused(&r, 409, "thread_archived", None);
    let stored = s.stored_files();
    let r = s
        .post_form(
            &replies("t", first),
            form(Some("late"), vec![(png(20, 20, [1, 1, 1]), "late.png")]),
        )
        .await;
    refused(&r, 409, "thread_archived", None);
    assert_eq!(s.stored_files(), stored, "a refused reply left a file");
    // Its file is still served.
    let file = only_file(&thread(&s, "t", first).await["posts"][1]).clone();
    assert_file_kept(&s, &file, "an archived thread keeps its files").await;

    // Most recently archived first.
    let fourth = s.thread("t", "fourth").await;
    assert_eq!(archive(&s, "t").await, [second, first]);
    let fifth = s.thread("t", "fifth").await;
    assert_eq!(archive(&s, "t").await, [third, second, first]);
    assert_eq!(catalog(&s, "t").await, [fifth, fourth]);
    let listed = s.get("/api/boards/t/archive").await.json;
    let times: Vec<u64> = listed["threads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["archived_at"].as_u64().unwrap())
        .collect();
    assert!(
        times.windows(2).all(|w| w[0] >= w[1]),
        "archived_at is not newest first: {times:?}"
    );
    // A refused reply used no number.
    assert_eq!(s.thread("t", "sixth").await, fifth + 1);
}

#[tokio::test]
async fn a_poster_can_delete_an_archived_thread() {
    let s = Server::with_config(&config()).await;
    let first = open(&s, "t", json!({ "body": "first", "password": "pw-1" })).await;
    let second = s.thread("t", "second").await;
    s.thread("t", "third").await;
    assert_eq!(archive(&s, "t").await, [first]);
    delete_ok(&s, "t", first, "pw-1", false).await;
    assert_eq!(archive(&s, "t").await, Vec::<u64>::new());
    refused(
        &s.get(&format!("/api/boards/t/threads/{first}")).await,
        410,
        "thread_deleted",
        None,
    );
    s.thread("t", "fourth").await;
    assert_eq!(archive(&s, "t").await, [second]);
}

#[tokio::test]
async fn without_an_archive_a_pushed_out_thread_is_deleted_with_its_files() {
    let s = Server::with_config(&config()).await;
    let (first, op) = upload(
        &s,
        &threads("gone"),
        form(
            Some("short lived"),
            vec![(png(50, 50, [250, 120, 0]), "op.png")],
        ),
    )
    .await;
    let (reply, p) = upload(
        &s,
        &replies("gone", first),
        form(
            Some("reply"),
            vec![(jpeg(64, 64, [0, 120, 250]), "reply.jpg")],
        ),
    )
    .await;
    let (second, kept) = upload(
        &s,
        &threads("gone"),
        form(
            Some("second"),
            vec![(png(50, 50, [20, 220, 20]), "kept.png")],
        ),
    )
    .await;
    let quote = s
        .reply("gone", second, json!({ "body": ">>2 soon gone" }))
        .await;
    let third = s.thread("gone", "third pushes the first out").await;
    assert_eq!((first, reply, second, quote, third), (1, 2, 3, 4, 5));

    refused(
        &s.get(&format!("/api/boards/gone/threads/{first}")).await,
        410,
        "thread_deleted",
        None,
    );
    for no in [first, reply] {
        refused(
            &s.get(&format!("/api/boards/gone/posts/{no}")).await,
            410,
            "post_deleted",
            None,
        );
    }
    let r = s
        .post(&replies("gone", first), json!({ "body": "late" }))
        .await;
    refused(&r, 410, "thread_deleted", None);
    assert_eq!(archive(&s, "gone").await, Vec::<u64>::new());
    assert_eq!(catalog(&s, "gone").await, [third, second]);
    assert_file_gone(&s, only_file(&op), "the deleted OP's file").await;
    assert_file_gone(&s, only_file(&p), "the deleted reply's file").await;
    assert_file_kept(&s, only_file(&kept), "a live thread's file").await;
    assert_eq!(
        html(&s, "gone", quote).await,
        "<span class=\"deadlink\">&gt;&gt;2</span> soon gone"
    );
    let recent = s.get("/api/recent").await.json;
    assert_eq!(numbers(&recent["posts"]), [third, quote, second]);
}

//! Deleting a board: its threads, posts and files go (a file another board still carries
//! stays), it answers 404 everywhere at once, even where a response was cached, and its slug can
//! be taken again once the purge is done, numbering on where it stopped.

use std::time::Duration;

use super::*;
use crate::uploads::{form, png, upload};

/// Waits until no board is being deleted; a bound on waiting, not a timed assertion.
async fn purged(s: &Server, admin: &Session) {
    for _ in 0..400 {
        let list = admin.get(s, "/api/admin/boards").await;
        assert_eq!(list.status, 200, "{}", list.json);
        if list.json["deleting"] == json!([]) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("the board's purge does not end");
}

#[tokio::test]
async fn a_deleted_board_goes_with_its_threads_and_files() {
    let s = Server::with_config(&config()).await;
    let root = admin(&s).await;
    let r = root
        .post(
            &s,
            "/api/admin/boards",
            json!({"slug": "g", "title": "Doomed", "thread_limit": 2}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);

    // Three threads (one pushed to the archive), files of their own and one shared with /u/,
    // replies, and a post on /u/ quoting /g/.
    let own = png(30, 30, [250, 0, 0]);
    let shared = png(31, 31, [0, 250, 0]);
    let (first, _) = upload(
        &s,
        "/api/boards/g/threads",
        form(Some("own"), vec![(own.clone(), "own.png")]),
    )
    .await;
    upload(
        &s,
        "/api/boards/g/threads",
        form(Some("shared"), vec![(shared.clone(), "shared.png")]),
    )
    .await;
    upload(
        &s,
        "/api/boards/u/threads",
        form(Some("shared on u"), vec![(shared, "shared.png")]),
    )
    .await;
    let last = s.thread("g", "third").await;
    for n in 0..40 {
        s.reply("g", last, json!({ "body": format!(">>{first} reply {n}") }))
            .await;
    }
    let on_u = s.thread("u", &format!(">>>/g/{last} across")).await;
    let files_before = s.stored_files();
    assert_eq!(files_before.len(), 4, "two originals and two thumbnails");
    let last_no = root.get(&s, "/api/admin/boards/g").await.json["board"]["last_no"]
        .as_u64()
        .unwrap();

    // Read (and cached) before the deletion.
    let paths = [
        "/api/boards/g".to_owned(),
        "/api/boards/g/catalog".to_owned(),
        "/api/boards/g/archive".to_owned(),
        "/api/boards/g/index".to_owned(),
        format!("/api/boards/g/threads/{last}"),
        format!("/api/boards/g/threads/{first}"),
        format!("/api/boards/g/posts/{last}"),
        "/g/catalog.json".to_owned(),
        "/g/threads.json".to_owned(),
        format!("/g/thread/{last}.json"),
    ];
    for path in &paths {
        assert_eq!(s.get(path).await.status, 200, "{path}");
    }

    let on_g = |recent: &Value| {
        recent["posts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|p| p["board"] == "g")
            .count()
    };
    assert!(on_g(&s.get("/api/recent").await.json) > 0);

    let r = delete(&s, &root, "/api/admin/boards/g", json!({"confirm": "g"})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json, json!({"deleted": "g"}));
    assert_eq!(on_g(&s.get("/api/recent").await.json), 0);
    // Gone at once, cached or not.
    for path in &paths {
        let r = s.get(path).await;
        assert_eq!(r.status, 404, "{path}: {}", r.json);
    }
    for path in ["/api/admin/boards/g"] {
        root.get(&s, path)
            .await
            .assert_error(404, "board_not_found");
    }
    assert!(fourchan_entry(&s, "g").await.is_none());
    let listed: Vec<Value> = s.get("/api/boards").await.json["boards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["slug"].clone())
        .collect();
    assert_eq!(listed, [json!("t"), json!("u")]);
    s.post("/api/boards/g/threads", json!({"body": "too late"}))
        .await
        .assert_error(404, "board_not_found");

    purged(&s, &root).await;
    // The file only /g/ carried is off the disk; the one /u/ carries stays, and is served.
    let files_after = s.stored_files();
    assert_eq!(files_after.len(), 2, "{files_after:?}");
    let u_post = s.get("/api/boards/u/posts/1").await.json["post"].clone();
    let kept = u_post["files"][0]["url"].as_str().unwrap();
    assert_eq!(s.get_bytes(kept, &[]).await.0, 200);
    // The link from /u/ is dead now.
    let across = s.get(&format!("/api/boards/u/posts/{on_u}")).await.json["post"].clone();
    assert!(
        across["html"].as_str().unwrap().contains("deadlink"),
        "{across}"
    );

    // The slug can be taken again; numbers go on where they stopped.
    let r = root
        .post(
            &s,
            "/api/admin/boards",
            json!({"slug": "g", "title": "Reborn"}),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let fresh = s.thread("g", "fresh start").await;
    assert_eq!(fresh, last_no + 1);
    assert_eq!(
        s.get(&format!("/api/boards/g/threads/{last}")).await.status,
        404
    );
    let log = root.get(&s, "/api/admin/boards/g").await.json["log"].clone();
    let actions: Vec<&str> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap())
        .collect();
    assert_eq!(actions, ["board_create", "board_delete", "board_create"]);
    assert_eq!(log[1]["change"]["last_no"], last_no);
}

#[tokio::test]
async fn a_deleted_config_board_stays_deleted_across_restarts() {
    let mut s = Server::with_config(&config()).await;
    let root = admin(&s).await;
    s.thread("t", "on a config board").await;
    let r = delete(&s, &root, "/api/admin/boards/t", json!({"confirm": "t"})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    purged(&s, &root).await;
    s.stop();
    s.restart();
    s.get("/api/boards/t")
        .await
        .assert_error(404, "board_not_found");
    assert_eq!(public_board(&s, "u").await["title"], "Other");
}

//! The flows: the config admin creates a board and posts on it, appoints its moderator, who
//! changes its settings (and not another board's); each change shows at once in the board's
//! JSON, its catalog, the 4chan documents and the live stream, is logged, and survives a
//! restart; a config board edited through the API keeps its edits when the server restarts
//! with the same config.

use std::time::Duration;

use super::*;
use crate::uploads::{form, png, upload};

/// The settings a moderator changes on /g/.
fn changes() -> Value {
    json!({
        "title": "Games & more",
        "description": "Video games.",
        "rules": "1. **No spoilers** outside ||spoiler tags||.\n2. See >>>/t/",
        "nsfw": true,
        "threads_per_page": 1,
        "bump_limit": 2,
        "max_body_chars": 300,
        "forced_anon": true,
        "poster_ids": true,
        "delete_window_secs": 0,
        "show_in_recent": false,
        "allowed_types": ["png"],
        "max_files": 2,
        "require_file": true,
        "archive_days": 1,
        "max_replies": 50,
        "max_quotes": 10,
        "max_post_bytes": 100000,
        "max_file_bytes": 50000
    })
}

#[tokio::test]
async fn an_admin_creates_a_board_and_its_moderator_runs_it() {
    let mut s = Server::with_config(&config()).await;
    let root = admin(&s).await;

    let created = root
        .post(
            &s,
            "/api/admin/boards",
            json!({"slug": "g", "title": "Games"}),
        )
        .await;
    assert_eq!(created.status, 201, "{}", created.json);
    assert_eq!(created.header("location"), "/api/admin/boards/g");
    assert_eq!(created.json["board"]["slug"], "g");
    assert_eq!(
        created.json["board"]["thread_limit"], 150,
        "the config's default"
    );
    assert_eq!(public_board(&s, "g").await, created.json["board"]);
    assert_eq!(fourchan_entry(&s, "g").await.unwrap()["ws_board"], 1);

    // Posting on it: three threads, one with a file.
    let (op, _) = upload(
        &s,
        "/api/boards/g/threads",
        form(Some("first on g"), vec![(png(20, 20, [1, 2, 3]), "a.png")]),
    )
    .await;
    assert_eq!(op, 1);
    s.thread("g", "second").await;
    s.thread("g", "third").await;
    let catalog = s.get("/g/catalog.json").await;
    assert_eq!(catalog.json.as_array().unwrap().len(), 1, "one page of 150");

    let moderator = staff(&s, &root, "gamer", "board_mod", &["g"]).await;
    let own = moderator.get(&s, "/api/admin/boards/g").await;
    assert_eq!(own.status, 200, "{}", own.json);
    assert_eq!(own.json["board"]["live_threads"], 3);
    assert_eq!(own.json["board"]["last_no"], 3);
    assert_eq!(own.json["log"][0]["action"], "board_create");
    assert_eq!(own.json["log"][0]["actor"], "root");

    let r = moderator.post(&s, "/api/admin/boards/g", changes()).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let board = public_board(&s, "g").await;
    assert_eq!(r.json["board"], board);
    for (key, value) in changes().as_object().unwrap() {
        assert_eq!(&board[key], value, "{key}");
    }
    assert_eq!(
        board["rules_html"],
        "1. <strong>No spoilers</strong> outside <span class=\"spoiler\">spoiler tags</span>.<br>\
         2. See <a class=\"boardlink\" href=\"/t/\">&gt;&gt;&gt;/t/</a>"
    );
    // Not another board's.
    let r = moderator
        .post(&s, "/api/admin/boards/t", json!({"title": "Mine now"}))
        .await;
    r.assert_error(403, "forbidden");
    assert_eq!(public_board(&s, "t").await["title"], "Test");

    // At once everywhere: the catalog's pages, the 4chan documents, and posting itself.
    let catalog = s.get("/g/catalog.json").await;
    assert_eq!(
        catalog.json.as_array().unwrap().len(),
        3,
        "one thread a page"
    );
    let entry = fourchan_entry(&s, "g").await.unwrap();
    assert_eq!(entry["title"], "Games & more");
    assert_eq!(entry["ws_board"], 0);
    assert_eq!(entry["per_page"], 1);
    assert_eq!(entry["forced_anon"], 1);
    assert_eq!(s.get("/api/boards/g/index?page=3").await.status, 200);
    let text_only = s
        .post("/api/boards/g/threads", json!({"body": "no file"}))
        .await;
    text_only.assert_error(400, "file_required");
    let long = s
        .post(
            "/api/boards/g/threads/1/posts",
            json!({"body": "x".repeat(301)}),
        )
        .await;
    long.assert_error(400, "too_long");

    // Logged with who and what.
    let log = root.get(&s, "/api/admin/boards/g").await.json["log"].clone();
    assert_eq!(log[0]["action"], "board_update");
    assert_eq!(log[0]["actor"], "gamer");
    assert_eq!(log[0]["change"]["nsfw"], json!({"old": false, "new": true}));
    assert_eq!(
        log[0]["change"]["threads_per_page"],
        json!({"old": 10, "new": 1})
    );

    // Across a restart, with the same config (which does not list /g/).
    s.stop();
    s.restart();
    assert_eq!(public_board(&s, "g").await, board);
    assert_eq!(
        s.get("/g/catalog.json")
            .await
            .json
            .as_array()
            .unwrap()
            .len(),
        3
    );
    let moderator = Session::login(&s, "gamer", PASSWORD).await;
    let r = moderator
        .post(&s, "/api/admin/boards/g", json!({"nsfw": false}))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(fourchan_entry(&s, "g").await.unwrap()["ws_board"], 1);
}

#[tokio::test]
async fn a_config_board_edited_through_the_api_keeps_its_edits() {
    let mut s = Server::with_config(&config()).await;
    let root = admin(&s).await;
    let r = root
        .post(
            &s,
            "/api/admin/boards/t",
            json!({"title": "Edited", "bump_limit": 5, "rules": "Be nice."}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let edited = public_board(&s, "t").await;
    for _ in 0..2 {
        s.stop();
        s.restart();
        assert_eq!(public_board(&s, "t").await, edited);
    }
    assert_eq!(edited["title"], "Edited");
    assert_eq!(edited["rules_html"], "Be nice.");
    // The config seeded it once: the seed is in the log, by nobody, before the edit.
    let log = root.get(&s, "/api/admin/boards/t").await.json["log"].clone();
    let actions: Vec<(&str, Value)> = log
        .as_array()
        .unwrap()
        .iter()
        .map(|e| (e["action"].as_str().unwrap(), e["actor"].clone()))
        .collect();
    assert_eq!(
        actions,
        [
            ("board_update", json!("root")),
            ("board_create", Value::Null)
        ]
    );
}

/// Reads SSE bytes from `stream` until an event named `name` arrives; its data line.
async fn next_event(resp: &mut reqwest::Response, buffer: &mut String, name: &str) -> Value {
    let marker = format!("event: {name}\ndata: ");
    loop {
        if let Some(at) = buffer.find(&marker) {
            let rest = &buffer[at + marker.len()..];
            if let Some(end) = rest.find('\n') {
                let data = serde_json::from_str(&rest[..end]).unwrap();
                buffer.drain(..at + marker.len() + end);
                return data;
            }
        }
        // A bound on waiting, not on speed: a missing event fails instead of hanging.
        let chunk = tokio::time::timeout(Duration::from_secs(10), resp.chunk())
            .await
            .unwrap_or_else(|_| panic!("no `{name}` event; got {buffer:?}"))
            .unwrap()
            .unwrap_or_else(|| panic!("the stream ended; got {buffer:?}"));
        buffer.push_str(&String::from_utf8_lossy(&chunk));
    }
}

#[tokio::test]
async fn live_subscribers_of_the_board_hear_of_changes_and_deletion() {
    let s = Server::with_config(&config()).await;
    let root = admin(&s).await;
    let thread = s.thread("t", "followed").await;
    let mut following = s
        .client
        .get(s.url(&format!("/api/live?board=t&thread={thread}")))
        .send()
        .await
        .unwrap();
    assert_eq!(following.status(), 200);
    let mut buffer = String::new();
    let r = root
        .post(&s, "/api/admin/boards/t", json!({"nsfw": true}))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let data = next_event(&mut following, &mut buffer, "board").await;
    assert_eq!(
        data,
        json!({"event": "board", "board": "t", "deleted": false})
    );
    let r = delete(&s, &root, "/api/admin/boards/t", json!({"confirm": "t"})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let data = next_event(&mut following, &mut buffer, "board").await;
    assert_eq!(
        data,
        json!({"event": "board", "board": "t", "deleted": true})
    );
}

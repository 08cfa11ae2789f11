//! Boards: the embedded default, boards seeded from config, and their settings.

use serde_json::json;

use crate::harness::*;

#[tokio::test]
async fn default_board_is_random() {
    let server = Server::start().await;
    let r = server.get("/api/boards").await;
    assert_eq!(r.status, 200);
    let boards = r.json["boards"].as_array().unwrap();
    assert_eq!(boards.len(), 1);
    assert_eq!(boards[0]["slug"], "b");
    assert_eq!(boards[0]["title"], "Random");
    for limit in [
        "bump_limit",
        "thread_limit",
        "threads_per_page",
        "max_body_chars",
        "max_subject_chars",
        "max_name_chars",
    ] {
        assert!(
            boards[0][limit].as_u64().is_some_and(|n| n > 0),
            "{limit} in {}",
            boards[0]
        );
    }
    let one = server.get("/api/boards/b").await;
    assert_eq!(one.status, 200);
    assert_eq!(one.json["board"], boards[0]);
}

#[tokio::test]
async fn config_boards_are_only_a_first_seed() {
    let mut server = Server::small().await;
    let t = server.get("/api/boards/t").await;
    assert_eq!(t.json["board"]["title"], "Test");
    assert_eq!(t.json["board"]["description"], "A board for tests");
    assert_eq!(t.json["board"]["bump_limit"], 3);
    assert_eq!(t.json["board"]["max_body_chars"], 50);
    server
        .get("/api/boards/b")
        .await
        .assert_error(404, "board_not_found");
    let thread = server.thread("t", "kept across the restart").await;

    server.stop();
    let changed = SMALL_BOARD
        .replace("title = \"Test\"", "title = \"Renamed\"")
        .replace("bump_limit = 3", "bump_limit = 7");
    server.set_config(&format!(
        "{changed}\n[[boards]]\nslug = \"g\"\ntitle = \"Games\"\n"
    ));
    server.restart();
    let boards = server.get("/api/boards").await;
    let slugs: Vec<&str> = boards.json["boards"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["slug"].as_str().unwrap())
        .collect();
    assert_eq!(slugs, ["g", "t"]);
    // The database holds the board now: a changed config table does not overwrite it (the
    // admin API edits it), while a new table is created.
    let t = server.get("/api/boards/t").await;
    assert_eq!(t.json["board"]["title"], "Test");
    assert_eq!(t.json["board"]["bump_limit"], 3);
    assert_eq!(t.json["board"]["nsfw"], false);
    assert_eq!(t.json["board"]["rules"], "");
    assert_eq!(
        server
            .get(&format!("/api/boards/t/threads/{thread}"))
            .await
            .status,
        200
    );
    // Post numbers are per board: a new board starts at 1.
    let r = server
        .post("/api/boards/g/threads", json!({"body": "first on g"}))
        .await;
    assert_eq!(r.json["no"], 1);
}

//! The newest posts across boards: order, limits, boards that opt out, deleted posts.

use super::*;

fn config() -> String {
    two_boards() + &board("hid", "show_in_recent = false")
}

/// The (board, number) of each recent post, newest first.
async fn recent(s: &Server, query: &str) -> Vec<(String, u64)> {
    let r = s.get(&format!("/api/recent{query}")).await;
    assert_eq!(r.status, 200, "/api/recent{query}: {}", r.json);
    r.json["posts"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", r.json))
        .iter()
        .map(|p| {
            (
                p["board"].as_str().unwrap().to_owned(),
                p["no"].as_u64().unwrap(),
            )
        })
        .collect()
}

fn on(board: &str, numbers: impl IntoIterator<Item = u64>) -> Vec<(String, u64)> {
    numbers.into_iter().map(|n| (board.to_owned(), n)).collect()
}

#[tokio::test]
async fn recent_posts_are_the_newest_across_boards() {
    let s = Server::with_config(&config()).await;
    assert_eq!(recent(&s, "").await, []);
    let a = open(&s, "a", json!({ "body": "a op" })).await;
    let c = open(&s, "c", json!({ "body": "c op", "password": "pw-c" })).await;
    let hid = open(&s, "hid", json!({ "body": "hidden op" })).await;
    s.reply("a", a, json!({ "body": "a 2" })).await;
    s.reply("c", c, json!({ "body": "c 2" })).await;
    s.reply("hid", hid, json!({ "body": "hidden 2" })).await;
    s.reply("a", a, json!({ "body": "a 3", "password": "pw-a3" }))
        .await;
    let mut expected = [
        on("a", [3]),
        on("c", [2]),
        on("a", [2]),
        on("c", [1]),
        on("a", [1]),
    ]
    .concat();
    assert_eq!(recent(&s, "").await, expected);
    assert_eq!(recent(&s, "?limit=2").await, expected[..2]);
    assert_eq!(recent(&s, "?limit=1").await, expected[..1]);
    assert_eq!(recent(&s, "?limit=100").await, expected);

    // Each entry is the post as the post route gives it.
    let r = s.get("/api/recent?limit=1").await;
    assert_eq!(r.json["posts"][0], post(&s, "a", 3).await);

    // Twenty more on /a/: the default is the newest 20.
    for i in 4..=23 {
        assert_eq!(
            s.reply("a", a, json!({ "body": format!("a {i}") })).await,
            i
        );
    }
    s.reply("hid", hid, json!({ "body": "hidden, and newest" }))
        .await;
    let newest: Vec<(String, u64)> = on("a", (4..=23).rev());
    assert_eq!(recent(&s, "").await, newest);
    expected = [newest.clone(), expected].concat();
    assert_eq!(recent(&s, "?limit=100").await, expected);
    assert_eq!(recent(&s, "?limit=21").await, expected[..21]);

    // Deleted posts, and every post of a deleted thread, are gone from it.
    delete_ok(&s, "a", 3, "pw-a3", false).await;
    delete_ok(&s, "c", c, "pw-c", false).await;
    let expected = [newest, on("a", [2, 1])].concat();
    assert_eq!(recent(&s, "?limit=100").await, expected);
    assert!(
        !s.get("/api/recent?limit=100")
            .await
            .json
            .to_string()
            .contains("hidden"),
        "a board with show_in_recent = false appears"
    );
}

#[tokio::test]
async fn the_recent_route_refuses_bad_queries() {
    let s = Server::with_config(&config()).await;
    s.thread("a", "one").await;
    let mut failures = Vec::new();
    for (query, field) in [
        ("limit=0", "limit"),
        ("limit=101", "limit"),
        ("limit=-1", "limit"),
        ("limit=abc", "limit"),
        ("limit=1.5", "limit"),
        ("limit=", "limit"),
        ("limit", "limit"),
        ("limit=99999999999999999999999", "limit"),
        ("limit=1&limit=2", "limit"),
        ("foo=1", "foo"),
        ("limit=5&foo=1", "foo"),
        ("LIMIT=5", "LIMIT"),
        ("page=1", "page"),
    ] {
        let r = s.get(&format!("/api/recent?{query}")).await;
        failures.extend(
            mismatch(&r, 400, "invalid_query", Some(field)).map(|m| format!("?{query}: {m}")),
        );
    }
    let r = s.request("POST", "/api/recent").await;
    failures.extend(mismatch(&r, 405, "method_not_allowed", None));
    assert_no_mismatches(&failures);
    for ok in ["", "?", "?limit=1", "?limit=100", "?limit=20"] {
        assert_eq!(recent(&s, ok).await, on("a", [1]), "{ok}");
    }
}

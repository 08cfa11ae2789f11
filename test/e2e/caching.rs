//! Strong ETags, 304s, and that a write shows up in exactly the responses it changed.

use serde_json::json;

use crate::harness::*;

const GETS: [&str; 5] = [
    "/api/boards",
    "/api/boards/b",
    "/api/boards/b/catalog",
    "/api/boards/b/index",
    "/healthz",
];

#[tokio::test]
async fn every_json_get_has_a_strong_etag_and_answers_304() {
    let server = Server::start().await;
    let t = server.thread("b", "op").await;
    let thread = format!("/api/boards/b/threads/{t}");
    let post = format!("/api/boards/b/posts/{t}");
    for path in GETS.iter().copied().chain([thread.as_str(), post.as_str()]) {
        if path == "/healthz" {
            // Its body holds the uptime, so only the header's presence and form are stable.
            let r = server.get(path).await;
            assert!(r.header("etag").starts_with('"'), "{path}");
            continue;
        }
        let first = server.get(path).await;
        let etag = first.header("etag").to_owned();
        assert!(
            etag.starts_with('"') && etag.ends_with('"') && etag.len() > 10,
            "{path}: strong etag, got {etag:?}"
        );
        assert_eq!(
            server.get(path).await.header("etag"),
            etag,
            "{path}: same body, same etag"
        );
        let cached = server.get_with(path, &[("if-none-match", &etag)]).await;
        assert_eq!(cached.status, 304, "{path}");
        assert_eq!(
            cached.json,
            serde_json::Value::Null,
            "{path}: a 304 has no body"
        );
        assert_eq!(cached.header("etag"), etag);
        let stale = server
            .get_with(path, &[("if-none-match", "\"not-this-one\"")])
            .await;
        assert_eq!(stale.status, 200, "{path}");
        assert_eq!(stale.json, first.json);
    }
}

#[tokio::test]
async fn a_reply_changes_its_thread_and_listings_but_not_other_threads() {
    let server = Server::start().await;
    let a = server.thread("b", "a").await;
    let b = server.thread("b", "b").await;
    let tag = |r: Reply| r.header("etag").to_owned();
    let thread_a = tag(server.get(&format!("/api/boards/b/threads/{a}")).await);
    let thread_b = tag(server.get(&format!("/api/boards/b/threads/{b}")).await);
    let post_b = tag(server.get(&format!("/api/boards/b/posts/{b}")).await);
    let catalog = tag(server.get("/api/boards/b/catalog").await);
    let index = tag(server.get("/api/boards/b/index").await);
    let board = tag(server.get("/api/boards/b").await);

    let r = server.reply("b", a, json!({"body": "fresh"})).await;

    let now_a = server.get(&format!("/api/boards/b/threads/{a}")).await;
    assert_ne!(now_a.header("etag"), thread_a);
    assert_eq!(
        now_a.json["thread"]["posts"][1]["no"], r,
        "the reply is visible at once"
    );
    let stale = server
        .get_with(
            &format!("/api/boards/b/threads/{a}"),
            &[("if-none-match", &thread_a)],
        )
        .await;
    assert_eq!(stale.status, 200, "an old etag no longer matches");
    assert_ne!(tag(server.get("/api/boards/b/catalog").await), catalog);
    let now_index = server.get("/api/boards/b/index").await;
    assert_ne!(now_index.header("etag"), index);
    assert_eq!(now_index.json["threads"][0]["no"], a);

    assert_eq!(
        tag(server.get(&format!("/api/boards/b/threads/{b}")).await),
        thread_b
    );
    assert_eq!(
        tag(server.get(&format!("/api/boards/b/posts/{b}")).await),
        post_b
    );
    assert_eq!(tag(server.get("/api/boards/b").await), board);
}

#[tokio::test]
async fn reads_racing_writes_never_serve_a_stale_thread() {
    let server = Server::start().await;
    let t = server.thread("b", "op").await;
    let path = format!("/api/boards/b/threads/{t}");
    for i in 0..40 {
        // A reader hammers the thread while each reply commits; once the 201 is in, every read
        // must include the reply.
        let (client, url) = (server.client.clone(), server.url(&path));
        let reader = tokio::spawn(async move {
            for _ in 0..5 {
                let _ = client.get(&url).send().await.unwrap().bytes().await;
            }
        });
        let no = server
            .reply("b", t, json!({"body": format!("reply {i}")}))
            .await;
        reader.await.unwrap();
        let thread = server.get(&path).await;
        let last = thread.json["thread"]["posts"]
            .as_array()
            .unwrap()
            .last()
            .unwrap()["no"]
            .clone();
        assert_eq!(last, no, "round {i}");
    }
}

#[tokio::test]
async fn head_answers_like_get_without_a_body() {
    let server = Server::start().await;
    let get = server.get("/api/boards").await;
    let head = server.request("HEAD", "/api/boards").await;
    assert_eq!(head.status, 200);
    assert_eq!(head.json, serde_json::Value::Null);
    assert_eq!(head.header("etag"), get.header("etag"));
}

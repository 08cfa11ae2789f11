//! The error body, for every code a client can provoke.

use super::*;

#[tokio::test]
async fn every_error_has_one_shape() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let reply = s.reply("b", t, json!({ "body": "a reply" })).await;
    let posts = replies("b", t);
    let raw = |ct: &'static str, body: &'static [u8]| (ct, body.to_vec());
    let cases: Vec<(Reply, u16, &str)> = vec![
        (s.get("/nope").await, 404, "route_not_found"),
        (
            s.request("DELETE", THREADS).await,
            405,
            "method_not_allowed",
        ),
        (s.get("/api/boards/zz").await, 404, "board_not_found"),
        (
            s.get("/api/boards/b/threads/999").await,
            404,
            "thread_not_found",
        ),
        (
            s.post(&replies("b", reply), json!({ "body": "x" })).await,
            404,
            "thread_not_found",
        ),
        (
            s.get("/api/boards/b/posts/999").await,
            404,
            "post_not_found",
        ),
        (
            s.get("/api/boards/b/index?page=9").await,
            404,
            "page_not_found",
        ),
        (s.get("/api/boards/b/threads/x").await, 400, "invalid_path"),
        (
            s.get("/api/boards/b/catalog?x=1").await,
            400,
            "invalid_query",
        ),
        {
            let (ct, body) = raw("application/json", b"{");
            (
                s.post_raw(&posts, Some(ct), body).await,
                400,
                "invalid_json",
            )
        },
        {
            let (ct, body) = raw("application/json", b"{\"body\":\"\xff\"}");
            (
                s.post_raw(&posts, Some(ct), body).await,
                400,
                "invalid_utf8",
            )
        },
        (
            s.post_raw(&posts, Some("text/plain"), "hi").await,
            415,
            "unsupported_media_type",
        ),
        (
            s.post_raw(
                &posts,
                Some("application/json"),
                padded_post("x", LIMIT + 1),
            )
            .await,
            413,
            "payload_too_large",
        ),
        (s.post(&posts, json!({})).await, 400, "missing_field"),
        (
            s.post(&posts, json!({ "body": "x", "subject": "s" })).await,
            400,
            "unknown_field",
        ),
        (
            s.post(&posts, json!({ "body": 1 })).await,
            400,
            "invalid_type",
        ),
        (
            s.post(&posts, json!({ "body": "a".repeat(4001) })).await,
            400,
            "too_long",
        ),
        (s.post(&posts, json!({ "body": " " })).await, 400, "empty"),
        (
            s.post(&posts, json!({ "body": "\u{0}" })).await,
            400,
            "control_characters",
        ),
    ];
    for (r, status, code) in &cases {
        r.assert_error(*status, code);
        assert_error_shape(r);
        assert_eq!(
            r.header("content-type"),
            "application/json; charset=utf-8",
            "{code}"
        );
        assert_eq!(
            r.header("cache-control"),
            "no-store",
            "{code}: errors must not be cached"
        );
        assert!(r.header("etag").is_empty(), "{code}: an error has no ETag");
    }
    assert_unchanged(&s, "b", &[1], 1, &[1, 2]).await;
}

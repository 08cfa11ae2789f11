//! Paths and queries: malformed numbers, unknown boards, routes and methods, bad query strings.

use super::*;

#[tokio::test]
async fn malformed_numbers_in_paths_are_invalid_paths() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let bad = [
        "99999999999999999999999",
        "18446744073709551616", // u64::MAX + 1
        "-1",
        "+1",
        "1e3",
        "1.0",
        "0x10",
        "abc",
        "1a",
        "%31",
        "%20%31",
        "١",
    ];
    for n in bad {
        let r = s.get(&format!("/api/boards/b/threads/{n}")).await;
        refused(&r, 400, "invalid_path", Some("thread"));
        let r = s
            .post(
                &format!("/api/boards/b/threads/{n}/posts"),
                json!({ "body": "x" }),
            )
            .await;
        refused(&r, 400, "invalid_path", Some("thread"));
        let r = s.get(&format!("/api/boards/b/posts/{n}")).await;
        refused(&r, 400, "invalid_path", Some("no"));
        // The path is judged before the board.
        let r = s.get(&format!("/api/boards/zz/threads/{n}")).await;
        refused(&r, 400, "invalid_path", Some("thread"));
    }
    assert_unchanged(&s, "b", &[t], t, &[t]).await;
}

#[tokio::test]
async fn threads_and_posts_that_do_not_exist_are_404() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let reply = s.reply("b", t, json!({ "body": "a reply" })).await;
    assert_eq!(reply, 2);
    let max = u64::MAX.to_string();
    for n in ["0", "999", "3", max.as_str()] {
        let r = s.get(&format!("/api/boards/b/threads/{n}")).await;
        refused(&r, 404, "thread_not_found", None);
        let r = s
            .post(
                &format!("/api/boards/b/threads/{n}/posts"),
                json!({ "body": "x" }),
            )
            .await;
        refused(&r, 404, "thread_not_found", None);
        let r = s.get(&format!("/api/boards/b/posts/{n}")).await;
        refused(&r, 404, "post_not_found", None);
    }
    // A reply's number is a post, not a thread.
    let r = s.get(&format!("/api/boards/b/threads/{reply}")).await;
    refused(&r, 404, "thread_not_found", None);
    let r = s
        .post(&replies("b", reply), json!({ "body": "to a reply" }))
        .await;
    refused(&r, 404, "thread_not_found", None);
    let r = s.get(&format!("/api/boards/b/posts/{reply}")).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["post"]["thread"], t);
    assert_unchanged(&s, "b", &[1], 1, &[1, 2]).await;
}

#[tokio::test]
async fn unknown_boards_are_404_on_every_board_route() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let long = "a".repeat(100);
    for board in ["zz", "B", long.as_str(), "b1", "%62", "%C3%A9", "b%00"] {
        for path in [
            format!("/api/boards/{board}"),
            format!("/api/boards/{board}/threads/1"),
            format!("/api/boards/{board}/posts/1"),
            format!("/api/boards/{board}/catalog"),
            format!("/api/boards/{board}/index"),
        ] {
            refused(&s.get(&path).await, 404, "board_not_found", None);
        }
        let r = s
            .post(
                &format!("/api/boards/{board}/threads"),
                json!({ "body": "x" }),
            )
            .await;
        refused(&r, 404, "board_not_found", None);
        let r = s
            .post(
                &format!("/api/boards/{board}/threads/1/posts"),
                json!({ "body": "x" }),
            )
            .await;
        refused(&r, 404, "board_not_found", None);
    }
    let boards = s.get("/api/boards").await;
    assert_eq!(
        boards.json["boards"].as_array().unwrap().len(),
        1,
        "{}",
        boards.json
    );
    assert_unchanged(&s, "b", &[t], t, &[t]).await;
}

#[tokio::test]
async fn unknown_routes_are_404() {
    let s = Server::start().await;
    s.thread("b", "first").await;
    // `/` is the web client's entry page (test/e2e/web.rs).
    let paths = [
        "/api",
        "/api/",
        "/api/boards/",
        "/api/boards/b/",
        "/api/boards/b/threads/1/",
        "/api/boards/b/nope",
        "/api/boards/b/thread/1",
        "/api/boards/b/threads/1/posts/2",
        "/api/boards/b/posts",
        "/api/boards/b/catalog/1",
        "//healthz",
        "/healthz/",
        "/HEALTHZ",
        "/API/boards",
        "/api//boards",
        "/index.html",
    ];
    for path in paths {
        refused(&s.get(path).await, 404, "route_not_found", None);
        refused(
            &s.post(path, json!({ "body": "x" })).await,
            404,
            "route_not_found",
            None,
        );
        refused(
            &s.request("DELETE", path).await,
            404,
            "route_not_found",
            None,
        );
    }
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;
}

#[tokio::test]
async fn wrong_methods_are_405_with_allow() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let thread = format!("/api/boards/b/threads/{t}");
    let posts = replies("b", t);
    let cases = [
        ("DELETE", thread.as_str(), "GET, HEAD"),
        ("PUT", thread.as_str(), "GET, HEAD"),
        ("PATCH", thread.as_str(), "GET, HEAD"),
        ("POST", thread.as_str(), "GET, HEAD"),
        ("GET", THREADS, "POST"),
        ("PUT", THREADS, "POST"),
        ("DELETE", THREADS, "POST"),
        ("GET", posts.as_str(), "POST"),
        ("PUT", posts.as_str(), "POST"),
        ("POST", "/api/boards", "GET, HEAD"),
        ("DELETE", "/api/boards/b", "GET, HEAD"),
        ("POST", "/api/boards/b", "GET, HEAD"),
        ("POST", "/api/boards/b/catalog", "GET, HEAD"),
        ("POST", "/api/boards/b/index", "GET, HEAD"),
        ("DELETE", "/api/boards/b/posts/1", "GET, HEAD"),
        ("POST", "/healthz", "GET, HEAD"),
        ("OPTIONS", "/api/boards/b/catalog", "GET, HEAD"),
        ("OPTIONS", THREADS, "POST"),
        ("TRACE", "/healthz", "GET, HEAD"),
        ("FOO", THREADS, "POST"),
    ];
    for (method, path, allow) in cases {
        let r = s.request(method, path).await;
        refused(&r, 405, "method_not_allowed", None);
        assert_eq!(r.header("allow"), allow, "{method} {path}");
    }
    // A wrong method with a body posts nothing.
    let r = s
        .send(s.client.put(s.url(&posts)).json(&json!({ "body": "put" })))
        .await;
    refused(&r, 405, "method_not_allowed", None);
    // HEAD is GET without a body: on a POST-only route it is 405 too.
    let r = s.request("HEAD", THREADS).await;
    assert_eq!(r.status, 405);
    assert_eq!(r.header("allow"), "POST");
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;
}

#[tokio::test]
async fn bad_page_numbers_are_invalid_queries() {
    let s = Server::start().await;
    s.thread("b", "first").await;
    let bad = [
        ("page=0", "page"),
        ("page=-1", "page"),
        ("page=abc", "page"),
        ("page=99999999999999999999999", "page"),
        ("page=1.5", "page"),
        ("page=+1", "page"),
        ("page=", "page"),
        ("page", "page"),
        ("page=1&page=2", "page"),
        ("page=1&page=1", "page"),
        ("foo=1", "foo"),
        ("page=1&foo=1", "foo"),
        ("PAGE=1", "PAGE"),
        ("after=1", "after"),
    ];
    for (query, field) in bad {
        let r = s.get(&format!("/api/boards/b/index?{query}")).await;
        refused(&r, 400, "invalid_query", Some(field));
    }
    // A page past the last is not found; the empty query and page 1 are fine.
    let r = s.get("/api/boards/b/index?page=2").await;
    refused(&r, 404, "page_not_found", Some("page"));
    let r = s.get("/api/boards/b/index?page=18446744073709551615").await;
    refused(&r, 404, "page_not_found", Some("page"));
    for ok in [
        "/api/boards/b/index",
        "/api/boards/b/index?",
        "/api/boards/b/index?page=1",
        "/api/boards/b/index?page=01",
    ] {
        let r = s.get(ok).await;
        assert_eq!(r.status, 200, "{ok}: {}", r.json);
        assert_eq!(r.json["page"], 1, "{ok}");
        assert_eq!(r.json["pages"], 1, "{ok}");
    }
}

#[tokio::test]
async fn page_not_found_follows_the_last_page() {
    let s = Server::small().await; // two threads per page
    for body in ["one", "two", "three"] {
        s.thread("t", body).await;
    }
    let r = s.get("/api/boards/t/index?page=2").await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["pages"], 2);
    assert_eq!(r.json["threads"].as_array().unwrap().len(), 1);
    let r = s.get("/api/boards/t/index?page=3").await;
    refused(&r, 404, "page_not_found", Some("page"));
}

#[tokio::test]
async fn unknown_query_parameters_are_refused_on_every_read_route() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let reads = [
        "/api/boards".to_owned(),
        "/api/boards/b".to_owned(),
        "/api/boards/b/catalog".to_owned(),
        "/api/boards/b/index".to_owned(),
        format!("/api/boards/b/threads/{t}"),
        format!("/api/boards/b/posts/{t}"),
    ];
    for path in &reads {
        for (query, field) in [
            ("foo=1", "foo"),
            ("foo", "foo"),
            ("=1", ""),
            // Names are decoded before they are checked: this is `foo`.
            ("%66oo=1", "foo"),
        ] {
            let r = s.get(&format!("{path}?{query}")).await;
            refused(&r, 400, "invalid_query", Some(field));
        }
    }
    for path in [
        "/api/boards/b/catalog".to_owned(),
        format!("/api/boards/b/posts/{t}"),
    ] {
        let r = s.get(&format!("{path}?page=1")).await;
        refused(&r, 400, "invalid_query", Some("page"));
    }
    // `after` on a thread: a whole number from 0, once.
    let thread = format!("/api/boards/b/threads/{t}");
    for query in [
        "after=x",
        "after=-1",
        "after=",
        "after=1.0",
        "after=99999999999999999999999",
        "after=1&after=2",
    ] {
        let r = s.get(&format!("{thread}?{query}")).await;
        refused(&r, 400, "invalid_query", Some("after"));
    }
    refused(
        &s.get(&format!("{thread}?page=1")).await,
        400,
        "invalid_query",
        Some("page"),
    );
    let r = s.get(&format!("{thread}?after=0")).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["thread"]["posts"].as_array().unwrap().len(), 1);
    let r = s.get(&format!("{thread}?after=1")).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["thread"]["posts"].as_array().unwrap().len(), 0);
    // Routes that take a body take no query: a query on a POST is refused, not ignored.
    let r = s
        .post(
            &format!("{}?thread=5", replies("b", t)),
            json!({ "body": "with a query" }),
        )
        .await;
    refused(&r, 400, "invalid_query", Some("thread"));
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;
}

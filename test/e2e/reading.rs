//! Reading: threads with `?after=`, single posts, the catalog and index pages.

use serde_json::{json, Value};

use crate::harness::*;

fn numbers(posts: &Value) -> Vec<u64> {
    posts
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["no"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn thread_has_every_documented_field() {
    let server = Server::start().await;
    let r = server
        .post(
            "/api/boards/b/threads",
            json!({"subject": "S", "body": "op"}),
        )
        .await;
    let t = r.json["no"].as_u64().unwrap();
    let thread = server.get(&format!("/api/boards/b/threads/{t}")).await;
    assert_eq!(thread.status, 200);
    assert!(thread
        .header("content-type")
        .starts_with("application/json"));
    let thread = &thread.json["thread"];
    for (field, expected) in [
        ("no", json!(t)),
        ("subject", json!("S")),
        ("sticky", json!(false)),
        ("locked", json!(false)),
        ("archived", json!(false)),
        ("replies", json!(0)),
        ("images", json!(0)),
    ] {
        assert_eq!(thread[field], expected, "{field}");
    }
    assert!(thread["bumped_at"].as_u64().is_some());
    let post = &thread["posts"][0];
    for field in [
        "no",
        "thread",
        "board",
        "created_at",
        "name",
        "subject",
        "body",
    ] {
        assert!(post.get(field).is_some(), "post lacks {field}: {post}");
    }
    // Plain text, no sage: `html` and `sage` are left out (the body shows as text).
    for field in ["html", "sage"] {
        assert!(post.get(field).is_none(), "post has {field}: {post}");
    }
}

#[tokio::test]
async fn after_returns_only_newer_posts() {
    let server = Server::start().await;
    let t = server.thread("b", "op").await;
    let other = server
        .thread("b", "another thread, its numbers interleave")
        .await;
    let r1 = server.reply("b", t, json!({"body": "1"})).await;
    server.reply("b", other, json!({"body": "elsewhere"})).await;
    let r2 = server.reply("b", t, json!({"body": "2"})).await;

    let all = server
        .get(&format!("/api/boards/b/threads/{t}?after=0"))
        .await;
    assert_eq!(numbers(&all.json["thread"]["posts"]), [t, r1, r2]);
    let newer = server
        .get(&format!("/api/boards/b/threads/{t}?after={r1}"))
        .await;
    assert_eq!(numbers(&newer.json["thread"]["posts"]), [r2]);
    assert_eq!(
        newer.json["thread"]["replies"], 2,
        "thread fields stay whole with after"
    );
    let none = server
        .get(&format!("/api/boards/b/threads/{t}?after={r2}"))
        .await;
    assert_eq!(none.status, 200);
    assert_eq!(numbers(&none.json["thread"]["posts"]), Vec::<u64>::new());
    // The poll's ETag lets a client ask again for nothing.
    let etag = none.header("etag").to_owned();
    let again = server
        .get_with(
            &format!("/api/boards/b/threads/{t}?after={r2}"),
            &[("if-none-match", &etag)],
        )
        .await;
    assert_eq!(again.status, 304);
}

#[tokio::test]
async fn a_single_post_by_number() {
    let server = Server::start().await;
    let t = server.thread("b", "op").await;
    let r = server
        .reply("b", t, json!({"body": "the reply", "sage": true}))
        .await;
    let post = server.get(&format!("/api/boards/b/posts/{r}")).await;
    assert_eq!(post.status, 200);
    assert_eq!(post.json["post"]["body"], "the reply");
    assert_eq!(post.json["post"]["thread"], t);
    assert_eq!(post.json["post"]["sage"], true);
    // A reply's number is not a thread.
    server
        .get(&format!("/api/boards/b/threads/{r}"))
        .await
        .assert_error(404, "thread_not_found");
}

#[tokio::test]
async fn catalog_lists_live_threads_in_bump_order_with_excerpts() {
    let server = Server::start().await;
    let long = "word ".repeat(100);
    let a = server.thread("b", &long).await;
    let b = server.thread("b", "short\n\nbody").await;
    server.reply("b", a, json!({"body": "bump a"})).await;
    let catalog = server.get("/api/boards/b/catalog").await;
    let threads = catalog.json["threads"].as_array().unwrap();
    assert_eq!(numbers(&catalog.json["threads"]), [a, b]);
    assert_eq!(threads[0]["replies"], 1);
    assert_eq!(threads[1]["replies"], 0);
    assert_eq!(threads[1]["excerpt"], "short body");
    let excerpt = threads[0]["excerpt"].as_str().unwrap();
    assert!(
        excerpt.chars().count() < 200 && excerpt.ends_with('…'),
        "{excerpt}"
    );
    assert_eq!(
        threads[0]["body"], long,
        "catalog entries carry the OP's fields"
    );
    assert!(threads[0]["bumped_at"].as_u64().unwrap() >= threads[1]["bumped_at"].as_u64().unwrap());
}

#[tokio::test]
async fn index_pages_hold_the_op_and_its_last_five_replies() {
    let server = Server::small().await; // threads_per_page = 2, bump_limit = 3
    let first = server.thread("t", "first").await;
    let mut replies = Vec::new();
    for i in 0..7 {
        replies.push(
            server
                .reply("t", first, json!({"body": format!("r{i}")}))
                .await,
        );
    }
    let second = server.thread("t", "second").await;
    let third = server.thread("t", "third").await;

    let page1 = server.get("/api/boards/t/index").await;
    assert_eq!(page1.json["page"], 1);
    assert_eq!(page1.json["pages"], 2);
    assert_eq!(numbers(&page1.json["threads"]), [third, second]);
    assert_eq!(
        page1.json,
        server.get("/api/boards/t/index?page=1").await.json
    );

    let page2 = server.get("/api/boards/t/index?page=2").await;
    let thread = &page2.json["threads"][0];
    assert_eq!(thread["no"], first);
    assert_eq!(thread["body"], "first");
    let shown = numbers(&thread["posts"]);
    assert_eq!(shown[0], first, "the OP comes first");
    assert_eq!(
        &shown[1..],
        &replies[2..],
        "then the last five replies, oldest first"
    );
    assert_eq!(thread["omitted_posts"], 2);
    assert_eq!(thread["omitted_images"], 0);
    assert_eq!(thread["replies"], 7);

    server
        .get("/api/boards/t/index?page=3")
        .await
        .assert_error(404, "page_not_found");
}

#[tokio::test]
async fn an_empty_board_has_one_empty_page() {
    let server = Server::start().await;
    let index = server.get("/api/boards/b/index").await;
    assert_eq!(index.status, 200);
    assert_eq!(index.json, json!({"page": 1, "pages": 1, "threads": []}));
    assert_eq!(
        server.get("/api/boards/b/catalog").await.json,
        json!({"threads": []})
    );
}

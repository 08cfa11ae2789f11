//! Creating threads and replies: numbering, names, bodies, bumping, sage, limits, archiving.

use serde_json::json;

use crate::harness::*;

#[tokio::test]
async fn a_thread_and_its_replies_get_increasing_numbers() {
    let server = Server::start().await;
    let r = server
        .post(
            "/api/boards/b/threads",
            json!({"subject": "Hello", "name": "alice", "body": "first"}),
        )
        .await;
    assert_eq!(r.status, 201);
    assert_eq!(r.json, json!({"board": "b", "thread": 1, "no": 1}));
    assert_eq!(r.header("location"), "/api/boards/b/posts/1");
    let r = server
        .post("/api/boards/b/threads/1/posts", json!({"body": "second"}))
        .await;
    assert_eq!(r.json, json!({"board": "b", "thread": 1, "no": 2}));
    let r = server
        .post("/api/boards/b/threads", json!({"body": "another thread"}))
        .await;
    assert_eq!(r.json, json!({"board": "b", "thread": 3, "no": 3}));
    let r = server
        .post(
            "/api/boards/b/threads/1/posts",
            json!({"body": "third in thread 1"}),
        )
        .await;
    assert_eq!(r.json["no"], 4);

    let thread = server.get("/api/boards/b/threads/1").await.json["thread"].clone();
    let numbers: Vec<u64> = thread["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["no"].as_u64().unwrap())
        .collect();
    assert_eq!(numbers, [1, 2, 4]);
    assert_eq!(thread["subject"], "Hello");
    assert_eq!(thread["replies"], 2);
    let op = &thread["posts"][0];
    assert_eq!(op["name"], "alice");
    assert_eq!(op["subject"], "Hello");
    assert_eq!(op["board"], "b");
    assert_eq!(op["thread"], 1);
    assert!(op["created_at"].as_u64().unwrap() > 1_700_000_000);
    assert_eq!(thread["posts"][1]["subject"], serde_json::Value::Null);
}

#[tokio::test]
async fn names_default_to_anonymous_and_are_trimmed() {
    let server = Server::start().await;
    let t = server.thread("b", "op").await;
    server
        .reply("b", t, json!({"body": "x", "name": "  bob  "}))
        .await;
    server
        .reply("b", t, json!({"body": "x", "name": "   "}))
        .await;
    server
        .reply("b", t, json!({"body": "x", "name": null}))
        .await;
    let posts =
        server.get(&format!("/api/boards/b/threads/{t}")).await.json["thread"]["posts"].clone();
    let names: Vec<&str> = posts
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["Anonymous", "bob", "Anonymous", "Anonymous"]);
}

#[tokio::test]
async fn body_is_kept_exactly_and_html_is_escaped() {
    let server = Server::start().await;
    let body =
        "  <script>alert('x')</script> & \"q\"\r\nline two\n\n<img src=x onerror=alert(1)>  ";
    let r = server
        .post("/api/boards/b/threads", json!({"body": body}))
        .await;
    let post = server
        .get(&format!("/api/boards/b/posts/{}", r.json["no"]))
        .await
        .json["post"]
        .clone();
    assert_eq!(post["body"], body);
    assert_eq!(
        post["html"],
        // The last line starts with `<`: pinktext, its text still escaped.
        "  &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;q&quot;<br>line two<br><br><span class=\"pinktext\">&lt;img src=x onerror=alert(1)&gt;  </span>"
    );
    let html = post["html"].as_str().unwrap();
    // The only tags are the renderer's own.
    let own = html
        .replace("<br>", "")
        .replace("<span class=\"pinktext\">", "")
        .replace("</span>", "");
    assert!(!own.contains('<'), "{html}");
}

async fn catalog_order(server: &Server, board: &str) -> Vec<u64> {
    let r = server.get(&format!("/api/boards/{board}/catalog")).await;
    r.json["threads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["no"].as_u64().unwrap())
        .collect()
}

#[tokio::test]
async fn replies_bump_unless_sage_or_over_the_bump_limit() {
    let server = Server::small().await; // bump_limit = 3
    let a = server.thread("t", "a").await;
    let b = server.thread("t", "b").await;
    assert_eq!(catalog_order(&server, "t").await, [b, a]);

    server.reply("t", a, json!({"body": "bump"})).await;
    assert_eq!(catalog_order(&server, "t").await, [a, b]);

    server
        .reply("t", b, json!({"body": "quiet", "sage": true}))
        .await;
    assert_eq!(
        catalog_order(&server, "t").await,
        [a, b],
        "a sage reply must not bump"
    );
    let thread_b = server.get(&format!("/api/boards/t/threads/{b}")).await.json["thread"].clone();
    assert_eq!(thread_b["replies"], 1);
    assert_eq!(thread_b["posts"][1]["sage"], true);

    server.reply("t", b, json!({"body": "2"})).await; // b: 2 replies, bumps
    server.reply("t", b, json!({"body": "3"})).await; // b: 3 replies, bumps (the 3rd is within the limit)
    assert_eq!(catalog_order(&server, "t").await, [b, a]);
    let bumped_at =
        server.get(&format!("/api/boards/t/threads/{b}")).await.json["thread"]["bumped_at"].clone();
    server.reply("t", a, json!({"body": "a bumps"})).await;
    assert_eq!(catalog_order(&server, "t").await, [a, b]);
    server
        .reply("t", b, json!({"body": "4: over the bump limit"}))
        .await;
    assert_eq!(
        catalog_order(&server, "t").await,
        [a, b],
        "a thread past its bump limit must not bump"
    );
    let thread_b = server.get(&format!("/api/boards/t/threads/{b}")).await.json["thread"].clone();
    assert_eq!(thread_b["replies"], 4);
    assert_eq!(thread_b["bumped_at"], bumped_at);
}

#[tokio::test]
async fn a_new_thread_beyond_the_limit_archives_the_least_recently_bumped() {
    let server = Server::small().await; // thread_limit = 4
    let mut threads = Vec::new();
    for i in 0..4 {
        threads.push(server.thread("t", &format!("thread {i}")).await);
    }
    // Bump the oldest, so the second oldest is now the least recently bumped.
    server
        .reply("t", threads[0], json!({"body": "still alive"}))
        .await;
    let newest = server.thread("t", "pushes one out").await;

    let live = catalog_order(&server, "t").await;
    assert_eq!(live, [newest, threads[0], threads[3], threads[2]]);
    let archived = server
        .get(&format!("/api/boards/t/threads/{}", threads[1]))
        .await;
    assert_eq!(archived.status, 200, "an archived thread stays readable");
    assert_eq!(archived.json["thread"]["archived"], true);
    assert_eq!(archived.json["thread"]["posts"][0]["body"], "thread 1");

    let refused = server
        .post(
            &format!("/api/boards/t/threads/{}/posts", threads[1]),
            json!({"body": "late"}),
        )
        .await;
    refused.assert_error(409, "thread_archived");
    let again = server
        .get(&format!("/api/boards/t/threads/{}", threads[1]))
        .await;
    assert_eq!(
        again.json["thread"]["replies"], 0,
        "a refused reply changes nothing"
    );
    // The refused reply used no number.
    let next = server.thread("t", "next").await;
    assert_eq!(next, newest + 1);
}

#[tokio::test]
async fn concurrent_posters_get_distinct_numbers() {
    let server = Server::start().await;
    let t = server.thread("b", "busy thread").await;
    let mut tasks = Vec::new();
    for i in 0..64 {
        let (client, url) = (
            server.client.clone(),
            server.url(&format!("/api/boards/b/threads/{t}/posts")),
        );
        tasks.push(tokio::spawn(async move {
            // Each poster is its own client: one address holds a bounded share of connections.
            let r = client
                .post(url)
                .header("x-forwarded-for", format!("198.51.100.{i}"))
                .json(&json!({"body": format!("poster {i}")}))
                .send()
                .await
                .unwrap();
            assert_eq!(r.status(), 201);
            r.json::<serde_json::Value>().await.unwrap()["no"]
                .as_u64()
                .unwrap()
        }));
    }
    let mut numbers = Vec::new();
    for task in tasks {
        numbers.push(task.await.unwrap());
    }
    numbers.sort();
    assert_eq!(numbers, (2..=65).collect::<Vec<u64>>());
    let thread = server.get(&format!("/api/boards/b/threads/{t}")).await;
    assert_eq!(thread.json["thread"]["replies"], 64);
}

//! Sticky, lock and cyclic as a reader sees them: the order of the index and the catalog, a
//! locked thread refusing replies, a cyclical thread keeping its length and releasing the
//! files of the replies it drops; in the native API and the 4chan API alike.

use super::*;
use crate::uploads::{form, png, replies, upload};

/// The numbers of the threads on 4chan's first catalog page and `threads.json`'s first page.
async fn fourchan_order(s: &Server, board: &str) -> (Vec<u64>, Vec<u64>) {
    let catalog = s.get(&format!("/{board}/catalog.json")).await;
    let list = s.get(&format!("/{board}/threads.json")).await;
    assert_eq!(catalog.status, 200);
    assert_eq!(list.status, 200);
    (
        numbers(&catalog.json[0]["threads"]),
        numbers(&list.json[0]["threads"]),
    )
}

/// A field of one thread in a 4chan listing (`catalog.json` or `threads.json`).
fn listed<'a>(pages: &'a Value, no: u64, field: &str) -> &'a Value {
    let thread = pages[0]["threads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["no"] == no)
        .unwrap_or_else(|| panic!("thread {no} is not listed: {pages}"));
    &thread[field]
}

#[tokio::test]
async fn stickies_lead_the_listings_in_their_order() {
    let s = Server::with_config(&config()).await;
    let root = admin(&s).await;
    let tmod = staff(&s, &root, "tmod", "board_mod", &["t"]).await;
    let a = s.thread("t", "a").await;
    let b = s.thread("t", "b").await;
    let c = s.thread("t", "c").await;
    let catalog = || async { numbers(&s.get("/api/boards/t/catalog").await.json["threads"]) };
    let index = || async { numbers(&s.get("/api/boards/t/index").await.json["threads"]) };
    assert_eq!(catalog().await, [c, b, a]);

    let answer = act(
        &s,
        &tmod,
        "t",
        a,
        "sticky",
        json!({ "sticky": true, "order": 2 }),
    )
    .await;
    assert_eq!(answer["sticky"], true);
    assert_eq!(answer["sticky_order"], 2);
    assert_eq!(answer["board"], "t");
    act(
        &s,
        &tmod,
        "t",
        b,
        "sticky",
        json!({ "sticky": true, "order": 1, "reason": "rules" }),
    )
    .await;
    assert_eq!(catalog().await, [b, a, c]);
    assert_eq!(index().await, [b, a, c]);
    assert_eq!(
        fourchan_order(&s, "t").await,
        (vec![b, a, c], vec![b, a, c])
    );
    // A reply bumps c above the other non-sticky threads only.
    s.reply("t", a, json!({ "body": "bump a" })).await;
    s.reply("t", c, json!({ "body": "bump c" })).await;
    assert_eq!(catalog().await, [b, a, c]);

    let t = thread(&s, "t", a).await;
    assert_eq!(
        (t["sticky"].clone(), t["sticky_order"].clone()),
        (json!(true), json!(2))
    );
    let four_catalog = s.get("/t/catalog.json").await.json;
    assert_eq!(*listed(&four_catalog, a, "sticky"), 1);
    assert!(listed(&four_catalog, c, "sticky").is_null());
    let four_list = s.get("/t/threads.json").await.json;
    assert_eq!(*listed(&four_list, b, "sticky"), 1);
    let four_thread = s.get(&format!("/t/thread/{a}.json")).await.json;
    assert_eq!(four_thread["posts"][0]["sticky"], 1);

    // Unpinned, a thread takes its place by bump again.
    let answer = act(&s, &tmod, "t", b, "sticky", json!({ "sticky": false })).await;
    assert_eq!(
        (answer["sticky"].clone(), answer["sticky_order"].clone()),
        (json!(false), json!(0))
    );
    assert_eq!(catalog().await, [a, c, b]);
    assert!(listed(&s.get("/t/threads.json").await.json, b, "sticky").is_null());
}

#[tokio::test]
async fn a_locked_thread_refuses_replies_and_shows_closed() {
    let s = Server::with_config(&config()).await;
    let root = admin(&s).await;
    let tmod = staff(&s, &root, "tmod", "board_mod", &["t"]).await;
    let no = s.thread("t", "lock me").await;
    s.reply("t", no, json!({ "body": "before" })).await;
    let answer = act(
        &s,
        &tmod,
        "t",
        no,
        "lock",
        json!({ "locked": true, "note": "spam wave" }),
    )
    .await;
    assert_eq!(answer["locked"], true);

    let r = s.post(&replies("t", no), json!({ "body": "after" })).await;
    r.assert_error(409, "thread_locked");
    // Staff are refused too: they unlock first.
    let r = root
        .post(&s, &replies("t", no), json!({ "body": "staff" }))
        .await;
    r.assert_error(409, "thread_locked");
    let t = thread(&s, "t", no).await;
    assert_eq!(t["locked"], true);
    assert_eq!(t["replies"], 1);
    let catalog = s.get("/api/boards/t/catalog").await.json;
    assert_eq!(catalog["threads"][0]["locked"], true);
    let four = s.get(&format!("/t/thread/{no}.json")).await.json;
    assert_eq!(four["posts"][0]["closed"], 1);
    assert_eq!(
        *listed(&s.get("/t/threads.json").await.json, no, "closed"),
        1
    );
    assert_eq!(
        *listed(&s.get("/t/catalog.json").await.json, no, "closed"),
        1
    );

    act(&s, &tmod, "t", no, "lock", json!({ "locked": false })).await;
    s.reply("t", no, json!({ "body": "open again" })).await;
    let four = s.get(&format!("/t/thread/{no}.json")).await.json;
    assert!(four["posts"][0]["closed"].is_null(), "{}", four["posts"][0]);
}

#[tokio::test]
async fn a_cyclical_thread_keeps_its_length_and_releases_dropped_files() {
    let s = Server::with_config(&config()).await;
    let root = admin(&s).await;
    let tmod = staff(&s, &root, "tmod", "board_mod", &["t"]).await;
    let no = s.thread("t", "a general").await;
    let answer = act(&s, &tmod, "t", no, "cyclic", json!({ "cyclical": true })).await;
    assert_eq!(answer["cyclical"], true);
    // /t/'s bump limit is 3: six replies, each with its own image, keep the last three.
    let mut posted = Vec::new();
    let mut urls = Vec::new();
    for i in 0..6u8 {
        let image = png(8, 8, [40 * i, 200 - 30 * i, 90]);
        let (reply, post) = upload(
            &s,
            &replies("t", no),
            form(Some(&format!("reply {i}")), vec![(image, "r.png")]),
        )
        .await;
        posted.push(reply);
        let file = &post["files"][0];
        urls.push([
            file["url"].as_str().unwrap().to_owned(),
            file["thumb_url"].as_str().unwrap().to_owned(),
        ]);
    }
    let t = thread(&s, "t", no).await;
    let shown: Vec<u64> = numbers(&t["posts"]);
    assert_eq!(shown, [no, posted[3], posted[4], posted[5]]);
    assert_eq!(t["replies"], 3);
    assert_eq!(t["images"], 3);
    assert_eq!(t["cyclical"], true);
    assert_eq!(t["locked"], false);
    for dropped in &posted[..3] {
        s.get(&format!("/api/boards/t/posts/{dropped}"))
            .await
            .assert_error(410, "post_deleted");
    }
    // The dropped replies' files (originals and thumbnails) are gone; the kept ones served.
    for (i, pair) in urls.iter().enumerate() {
        for url in pair {
            let status = s.client.get(s.url(url)).send().await.unwrap().status();
            assert_eq!(status, if i < 3 { 404 } else { 200 }, "reply {i}: {url}");
        }
    }
    let four = s.get(&format!("/t/thread/{no}.json")).await.json;
    assert_eq!(four["posts"][0]["cyclical"], 1);
    assert_eq!(four["posts"].as_array().unwrap().len(), 4);
    assert_eq!(
        *listed(&s.get("/t/threads.json").await.json, no, "cyclical"),
        1
    );
    let catalog = s.get("/api/boards/t/catalog").await.json;
    assert_eq!(catalog["threads"][0]["cyclical"], true);
}

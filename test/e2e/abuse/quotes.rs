//! Quote amplification and unbounded threads: posting, deleting and pruning stay linear.

use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::Server;

/// `/q/` links five posts at most and takes 250 replies a thread; `/p/` keeps one live thread
/// and no archive, so a new thread deletes the old; `/z/` quotes across boards.
const CONFIG: &str = r#"
[[boards]]
slug = "q"
title = "Quotes"
max_body_chars = 2000
max_quotes = 5
max_replies = 250
delete_window_secs = 3600

[[boards]]
slug = "p"
title = "Pushed"
max_body_chars = 2000
max_quotes = 5
thread_limit = 1
archive_days = 0

[[boards]]
slug = "z"
title = "Elsewhere"
"#;

/// As many `>>N` quotes of posts `1..` as fit in 2000 characters: the attack's body.
fn quoting_everything() -> String {
    let mut body = String::new();
    for no in 1.. {
        let quote = format!(">>{no} ");
        if body.len() + quote.len() > 2000 {
            break;
        }
        body.push_str(&quote);
    }
    body
}

fn db_size(s: &Server) -> u64 {
    std::fs::metadata(s.data_dir().join("wani.redb"))
        .unwrap()
        .len()
}

async fn post(s: &Server, board: &str, no: u64) -> Value {
    let r = s.get(&format!("/api/boards/{board}/posts/{no}")).await;
    assert_eq!(r.status, 200, "{}", r.json);
    r.json["post"].clone()
}

/// Opens a thread on `board` with a deletion password and `replies` maximally quoting replies.
async fn quoting_thread(s: &Server, board: &str, replies: usize) -> (u64, Vec<u64>) {
    let r = s
        .post(
            &format!("/api/boards/{board}/threads"),
            json!({ "body": "the target", "password": "pw" }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let t = r.json["no"].as_u64().unwrap();
    let body = quoting_everything();
    let mut numbers = Vec::new();
    for _ in 0..replies {
        numbers.push(s.reply(board, t, json!({ "body": body })).await);
    }
    (t, numbers)
}

#[tokio::test]
async fn links_beyond_the_board_limit_are_plain_text() {
    let s = Server::with_config(CONFIG).await;
    let t = s.thread("q", "op").await;
    for i in 0..7 {
        s.reply("q", t, json!({ "body": format!("reply {i}") }))
            .await;
    }
    let q = s
        .reply("q", t, json!({ "body": ">>1 >>2 >>3 >>4 >>5 >>6 >>7 >>8" }))
        .await;
    let html = post(&s, "q", q).await["html"].as_str().unwrap().to_owned();
    assert_eq!(html.matches("class=\"quotelink\"").count(), 5, "{html}");
    assert!(html.ends_with(" &gt;&gt;6 &gt;&gt;7 &gt;&gt;8"), "{html}");
    // Only the linked posts list the quote.
    assert_eq!(post(&s, "q", 5).await["backlinks"], json!([q]));
    assert_eq!(post(&s, "q", 6).await.get("backlinks"), None);
    // The 4chan-compatible thread draws the same five links.
    let four = s.get(&format!("/q/thread/{t}.json")).await;
    assert_eq!(four.status, 200);
    let com = four.json["posts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["no"] == q)
        .unwrap()["com"]
        .as_str()
        .unwrap()
        .to_owned();
    assert_eq!(com.matches("class=\"quotelink\"").count(), 5, "{com}");

    // A cross-board quote lists its board; the same-board list is unchanged.
    let zt = s.thread("z", ">>>/q/2 from another board").await;
    let two = post(&s, "q", 2).await;
    assert_eq!(two["cross_backlinks"], json!([{ "board": "z", "no": zt }]));
    assert_eq!(two["backlinks"], json!([q]));
}

#[tokio::test]
async fn a_thread_locks_at_its_reply_cap() {
    let s = Server::with_config(&CONFIG.replace("max_replies = 250", "max_replies = 12")).await;
    let t = s.thread("q", "op").await;
    for i in 0..12 {
        s.reply("q", t, json!({ "body": format!("reply {i}") }))
            .await;
    }
    let thread = s.get(&format!("/api/boards/q/threads/{t}")).await.json;
    assert_eq!(thread["thread"]["locked"], true, "{thread}");
    assert_eq!(thread["thread"]["replies"], 12);
    let r = s
        .post(
            &format!("/api/boards/q/threads/{t}/posts"),
            json!({ "body": "one too many" }),
        )
        .await;
    r.assert_error(409, "thread_locked");
    assert!(
        r.json["error"]["message"]
            .as_str()
            .unwrap()
            .contains("12 replies"),
        "{}",
        r.json
    );
    let thread = s.get(&format!("/api/boards/q/threads/{t}")).await.json;
    assert_eq!(thread["thread"]["replies"], 12);
    let four = s.get(&format!("/q/thread/{t}.json")).await.json;
    assert_eq!(four["posts"][0]["closed"], 1, "{}", four["posts"][0]);
    // Other threads take replies as before.
    let other = s.thread("q", "another").await;
    s.reply("q", other, json!({ "body": "fine" })).await;
}

#[tokio::test]
async fn a_maximally_quoting_thread_stays_small_and_is_deleted_while_others_are_served() {
    let mut s = Server::with_config(CONFIG).await;
    let linker_thread = s.thread("q", "an unrelated thread").await;
    let before = db_size(&s);
    let (t, replies) = quoting_thread(&s, "q", 200).await;
    // Every reply quotes every post before it, but links (and costs) five.
    let first = post(&s, "q", replies[0]).await;
    assert_eq!(
        first["html"].as_str().unwrap().matches("quotelink").count(),
        2
    );
    let op = post(&s, "q", t).await;
    assert_eq!(op["backlinks"].as_array().unwrap().len(), 200);
    let last = post(&s, "q", *replies.last().unwrap()).await;
    assert_eq!(
        last["html"].as_str().unwrap().matches("quotelink").count(),
        5
    );
    // 200 bodies of 2000 characters: 400 KB of text. Before the limit and the backlink table,
    // each reply rewrote every post it quoted and the file grew by hundreds of megabytes.
    let grown = db_size(&s).saturating_sub(before);
    assert!(grown < 8 << 20, "the database grew by {grown} bytes");

    // A post elsewhere quotes the thread's first reply, which the purge removes last.
    let linker = s
        .reply(
            "q",
            linker_thread,
            json!({ "body": format!(">>{} from outside", replies[0]) }),
        )
        .await;

    // Delete the thread while another client posts and reads.
    let deleting = {
        let client = s.client.clone();
        let url = s.url(&format!("/api/boards/q/posts/{t}/delete"));
        tokio::spawn(async move {
            client
                .post(url)
                .json(&json!({ "password": "pw" }))
                .send()
                .await
                .unwrap()
                .status()
        })
    };
    for i in 0..5 {
        s.reply(
            "q",
            linker_thread,
            json!({ "body": format!("meanwhile {i}") }),
        )
        .await;
        assert_eq!(s.get("/healthz").await.status, 200);
    }
    assert_eq!(deleting.await.unwrap(), 200);
    s.get(&format!("/api/boards/q/threads/{t}"))
        .await
        .assert_error(410, "thread_deleted");
    for no in [t, replies[0], replies[100], *replies.last().unwrap()] {
        s.get(&format!("/api/boards/q/posts/{no}"))
            .await
            .assert_error(410, "post_deleted");
    }
    let r = s
        .post(
            &format!("/api/boards/q/threads/{t}/posts"),
            json!({ "body": "late" }),
        )
        .await;
    r.assert_error(410, "thread_deleted");

    // Killed in the middle of the purge or not, the next start finishes it: the link from
    // outside to the last post removed turns dead.
    s.kill();
    s.restart();
    let mut html = String::new();
    for _ in 0..200 {
        html = post(&s, "q", linker).await["html"]
            .as_str()
            .unwrap()
            .to_owned();
        if html.contains("deadlink") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(
        html.contains("deadlink"),
        "the purge did not finish: {html}"
    );
    s.get(&format!("/api/boards/q/threads/{t}"))
        .await
        .assert_error(410, "thread_deleted");
}

#[tokio::test]
async fn a_big_quoting_thread_pushed_off_a_board_without_archive_is_deleted() {
    let s = Server::with_config(CONFIG).await;
    let (t, replies) = quoting_thread(&s, "p", 150).await;
    let next = s.thread("p", "the next thread").await;
    s.get(&format!("/api/boards/p/threads/{t}"))
        .await
        .assert_error(410, "thread_deleted");
    s.get(&format!("/api/boards/p/posts/{}", replies[0]))
        .await
        .assert_error(410, "post_deleted");
    let catalog = s.get("/api/boards/p/catalog").await.json;
    let live: Vec<&Value> = catalog["threads"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| &t["no"])
        .collect();
    assert_eq!(live, [&json!(next)], "{catalog}");
    // The board goes on: the next thread takes replies.
    s.reply("p", next, json!({ "body": ">>1 >>2 >>3" })).await;
    assert_eq!(s.get("/healthz").await.status, 200);
}

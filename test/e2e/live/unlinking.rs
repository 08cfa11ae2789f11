//! Deleting a post that many posts quote sends one event per stream that shows them, not one
//! per quoting post: its own thread gets the `delete`, every other quoting thread one
//! `unlinked`.

use super::*;

#[tokio::test]
async fn deleting_a_quoted_post_sends_no_event_per_quoting_post() {
    let s = Server::with_config(&config()).await;
    let t = s.thread("a", "op").await;
    let doomed = s
        .reply("a", t, json!({ "body": "quoted a lot", "password": "pw" }))
        .await;
    let mut same = Vec::new();
    for i in 0..5 {
        let body = format!(">>{doomed} same thread {i}");
        same.push(s.reply("a", t, json!({ "body": body })).await);
    }
    let u = s.thread("a", &format!(">>{doomed} another thread")).await;
    for i in 0..3 {
        let body = format!(">>{doomed} another thread {i}");
        s.reply("a", u, json!({ "body": body })).await;
    }
    let v = s
        .thread("c", &format!(">>>/a/{doomed} another board"))
        .await;
    let mut board = Live::open(&s, "board=a").await;
    let mut own = Live::open(&s, &format!("board=a&thread={t}")).await;
    let mut other = Live::open(&s, &format!("board=a&thread={u}")).await;
    let mut across = Live::open(&s, "board=c").await;

    delete_ok(&s, "a", doomed, "pw", false).await;
    // A post on each thread afterwards: the event each stream gets next.
    let after_t = s.reply("a", t, json!({ "body": "after" })).await;
    let after_u = s.reply("a", u, json!({ "body": "after" })).await;
    let after_v = s.reply("c", v, json!({ "body": "after" })).await;

    let unlinked = |board: &str, thread: u64| {
        json!({ "event": "unlinked", "board": board, "thread": thread,
            "target": { "board": "a", "no": doomed } })
    };
    let got = own.take(2).await;
    assert_delete(&got[0], "a", t, doomed);
    assert_eq!(got[1].key(), ("post".into(), after_t));
    let got = other.take(2).await;
    assert_eq!(got[0].data, unlinked("a", u));
    assert_eq!(got[1].key(), ("post".into(), after_u));
    let got = across.take(2).await;
    assert_eq!(got[0].data, unlinked("c", v));
    assert_eq!(got[1].key(), ("post".into(), after_v));
    let got: Vec<(String, u64)> = board.take(4).await.iter().map(Event::key).collect();
    assert_eq!(
        got,
        [
            ("delete".into(), doomed),
            ("unlinked".into(), doomed),
            ("post".into(), after_t),
            ("post".into(), after_u)
        ]
    );

    // What they were not sent, readers are served: every quoting post's link is dead.
    let thread = s.get(&format!("/api/boards/a/threads/{t}")).await.json;
    let dead = format!("<span class=\"deadlink\">&gt;&gt;{doomed}</span>");
    for post in thread["thread"]["posts"].as_array().unwrap() {
        if same.contains(&post["no"].as_u64().unwrap()) {
            assert!(post["html"].as_str().unwrap().starts_with(&dead), "{post}");
        }
    }
}

//! Moving a thread: new numbers on the other board, its links rewritten, links into it from
//! elsewhere following it, its old numbers redirecting (native and 4chan paths), its files
//! shared rather than copied, and live subscribers told.

use std::time::Duration;

use super::*;
use crate::uploads::{form, png, replies, upload};

/// See [`EVENT_WAIT`].
const WAIT: Duration = EVENT_WAIT;

/// A live subscriber reading `/api/live` as raw SSE.
struct Live {
    resp: reqwest::Response,
    buf: String,
}

impl Live {
    async fn open(s: &Server, query: &str) -> Live {
        let resp = s
            .client
            .get(s.url(&format!("/api/live?{query}")))
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), 200);
        Live {
            resp,
            buf: String::new(),
        }
    }

    /// The data of the next event named `name`, skipping others.
    async fn next(&mut self, name: &str) -> Value {
        loop {
            while let Some(end) = self.buf.find("\n\n") {
                let block: String = self.buf.drain(..end + 2).collect();
                let field = |prefix: &str| {
                    block
                        .lines()
                        .find_map(|l| l.strip_prefix(prefix))
                        .map(str::to_owned)
                };
                if field("event: ").as_deref() == Some(name) {
                    return serde_json::from_str(&field("data: ").unwrap()).unwrap();
                }
            }
            let chunk = tokio::time::timeout(WAIT, self.resp.chunk())
                .await
                .unwrap_or_else(|_| panic!("no `{name}` event within {WAIT:?}"))
                .unwrap()
                .expect("the stream ended");
            self.buf.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }
}

#[tokio::test]
async fn a_moved_thread_takes_its_links_and_leaves_redirects() {
    let s = Server::with_config(&config()).await;
    let root = admin(&s).await;
    let both = staff(&s, &root, "both", "board_mod", &["t", "u"]).await;
    let other = s.thread("t", "elsewhere").await;
    let e = s.thread("t", "move me").await;
    let r1 = s
        .reply("t", e, json!({ "body": format!(">>{e} first") }))
        .await;
    let r2 = s
        .reply("t", e, json!({ "body": format!(">>{r1} and >>{other}") }))
        .await;
    let (r3, with_file) = upload(
        &s,
        &replies("t", e),
        form(Some("a file"), vec![(png(8, 8, [9, 90, 200]), "f.png")]),
    )
    .await;
    let outside = s
        .reply(
            "t",
            other,
            json!({ "body": format!(">>{r1} from outside") }),
        )
        .await;
    let files = s.stored_files();
    let mut thread_live = Live::open(&s, &format!("board=t&thread={e}")).await;
    let mut board_live = Live::open(&s, "board=u").await;

    let r = both
        .post(
            &s,
            &action("t", e, "move"),
            json!({ "board": "u", "reason": "off topic" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let moved = &r.json["thread"];
    assert_eq!(moved["board"], "u");
    assert_eq!(moved["moved_from"], json!({ "board": "t", "thread": e }));
    let new_e = moved["no"].as_u64().unwrap();
    assert_eq!(moved["replies"], 3);

    // Live: the old thread's subscribers learn where it went; the new board's see it arrive.
    let update = thread_live.next("update").await;
    assert_eq!(update["moved_to"], json!({ "board": "u", "thread": new_e }));
    let arrived = board_live.next("thread").await;
    assert_eq!(
        (arrived["board"].clone(), arrived["thread"].clone()),
        (json!("u"), json!(new_e))
    );

    // New numbers, in order, with the links inside rewritten.
    let t = thread(&s, "u", new_e).await;
    let nos = numbers(&t["posts"]);
    assert_eq!(nos.len(), 4);
    assert_eq!(nos[0], new_e);
    let (new_r1, new_r3) = (nos[1], nos[3]);
    let posts = t["posts"].as_array().unwrap();
    assert_eq!(posts[1]["body"], format!(">>{new_e} first"));
    assert_eq!(posts[2]["body"], format!(">>{new_r1} and >>>/t/{other}"));
    let html = posts[2]["html"].as_str().unwrap();
    assert!(
        html.contains(&format!("href=\"/u/thread/{new_e}#p{new_r1}\"")),
        "{html}"
    );
    assert!(
        html.contains(&format!("href=\"/t/thread/{other}#p{other}\"")),
        "{html}"
    );
    assert_eq!(posts[0]["backlinks"], json!([new_r1]));
    assert_eq!(posts[1]["backlinks"], json!([nos[2]]));
    assert_eq!(
        posts[1]["cross_backlinks"],
        json!([{ "board": "t", "no": outside }])
    );
    // Files are shared, not copied.
    assert_eq!(posts[3]["files"], with_file["files"]);
    assert_eq!(s.stored_files(), files);

    // The post that quoted it from elsewhere still says what it said, and links to the new place.
    let quoting = s.get(&format!("/api/boards/t/posts/{outside}")).await.json["post"].clone();
    assert_eq!(quoting["body"], format!(">>{r1} from outside"));
    let html = quoting["html"].as_str().unwrap();
    assert!(
        html.contains(&format!("href=\"/u/thread/{new_e}#p{new_r1}\"")),
        "{html}"
    );
    let four = s.get(&format!("/t/thread/{other}.json")).await.json;
    let com = four["posts"][1]["com"].as_str().unwrap();
    assert!(
        com.contains(&format!("/u/thread/{new_e}#p{new_r1}")),
        "{com}"
    );

    // The old numbers redirect: the thread, each post, the 4chan thread.
    let plain = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let cases = [
        (
            format!("/api/boards/t/threads/{e}"),
            format!("/api/boards/u/threads/{new_e}"),
        ),
        (
            format!("/api/boards/t/posts/{r1}"),
            format!("/api/boards/u/posts/{new_r1}"),
        ),
        (
            format!("/api/boards/t/posts/{r2}"),
            format!("/api/boards/u/posts/{}", nos[2]),
        ),
        (
            format!("/api/boards/t/posts/{r3}"),
            format!("/api/boards/u/posts/{new_r3}"),
        ),
        (
            format!("/t/thread/{e}.json"),
            format!("/u/thread/{new_e}.json"),
        ),
    ];
    for (old, new) in cases {
        let r = s.send(plain.get(s.url(&old))).await;
        r.assert_error(301, "thread_moved");
        assert_eq!(r.header("location"), new, "{old}");
        assert_eq!(r.json["error"]["location"], new.as_str(), "{old}");
    }
    // A client that follows redirects reads the thread at its new place.
    assert_eq!(thread(&s, "t", e).await["no"], new_e);

    // The listings: gone from /t/, first on /u/.
    let t_catalog = numbers(&s.get("/api/boards/t/catalog").await.json["threads"]);
    assert_eq!(t_catalog, [other]);
    let u_catalog = numbers(&s.get("/api/boards/u/catalog").await.json["threads"]);
    assert_eq!(u_catalog, [new_e]);
    // Replies go to the new number; the old one is no thread any more.
    s.post(&replies("t", e), json!({ "body": "late" }))
        .await
        .assert_error(404, "thread_not_found");
    s.reply("u", new_e, json!({ "body": "here now" })).await;
    // Acting on it again takes the new number.
    both.post(&s, &action("t", e, "lock"), json!({ "locked": true }))
        .await
        .assert_error(404, "thread_not_found");
    act(&s, &both, "u", new_e, "lock", json!({ "locked": true })).await;
}

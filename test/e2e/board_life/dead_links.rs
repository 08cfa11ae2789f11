//! Links to a deleted post: the posts quoting it are not rewritten, yet every way of reading
//! them (and every copy of them the server had cached) shows the link dead.

use super::*;

/// A post quoting the deleted one: `(board, thread, no)`.
type Quoting = (&'static str, u64, u64);

/// Every `html` (and 4chan `com`) served for each quoting post, named by where it was read:
/// the thread, the post alone, the recent list, the board's index and (for an OP) catalog,
/// and 4chan's thread, index page and catalog.
async fn served(s: &Server, quoting: &[Quoting]) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let find = |list: &Value, board: &str, no: u64| -> Value {
        list.as_array()
            .unwrap_or_else(|| panic!("not a list: {list}"))
            .iter()
            .find(|p| p["no"] == no && p.get("board").is_none_or(|b| b == board))
            .unwrap_or_else(|| panic!("/{board}/{no} not in {list}"))
            .clone()
    };
    let text = |post: &Value, field: &str| post[field].as_str().unwrap_or("").to_owned();
    let recent = s.get("/api/recent").await.json;
    for &(board, thread, no) in quoting {
        let at = |what: &str| format!("/{board}/{no} in {what}");
        let t = s
            .get(&format!("/api/boards/{board}/threads/{thread}"))
            .await;
        let post = find(&t.json["thread"]["posts"], board, no);
        out.push((at("the thread"), text(&post, "html")));
        let single = s.get(&format!("/api/boards/{board}/posts/{no}")).await;
        out.push((at("the post alone"), text(&single.json["post"], "html")));
        out.push((
            at("recent"),
            text(&find(&recent["posts"], board, no), "html"),
        ));
        let index = s.get(&format!("/api/boards/{board}/index")).await.json;
        let listed = find(&index["threads"], board, thread);
        out.push((
            at("the index"),
            text(&find(&listed["posts"], board, no), "html"),
        ));
        if no == thread {
            let catalog = s.get(&format!("/api/boards/{board}/catalog")).await.json;
            out.push((
                at("the catalog"),
                text(&find(&catalog["threads"], board, no), "html"),
            ));
        }
        let four = s.get(&format!("/{board}/thread/{thread}.json")).await.json;
        out.push((
            at("4chan's thread"),
            text(&find(&four["posts"], board, no), "com"),
        ));
        let page = s.get(&format!("/{board}/1.json")).await.json;
        let posts: Vec<Value> = page["threads"]
            .as_array()
            .unwrap()
            .iter()
            .flat_map(|t| t["posts"].as_array().unwrap().clone())
            .collect();
        out.push((
            at("4chan's index"),
            text(&find(&Value::from(posts), board, no), "com"),
        ));
    }
    out
}

#[tokio::test]
async fn a_deleted_post_reads_dead_everywhere_it_is_quoted_cached_or_not() {
    let s = Server::with_config(&two_boards()).await;
    let t = s.thread("a", "op").await;
    let doomed = s
        .reply("a", t, json!({ "body": "quoted", "password": "pw" }))
        .await;
    // Quoting it: a reply of its own thread (which also quotes the OP), the opening post and a
    // reply of another thread, and an opening post on another board.
    let same = s
        .reply("a", t, json!({ "body": format!(">>{t} >>{doomed} same") }))
        .await;
    let u = open(&s, "a", json!({ "body": format!(">>{doomed} other") })).await;
    let reply_u = s
        .reply("a", u, json!({ "body": format!("x >>{doomed}") }))
        .await;
    let v = open(&s, "c", json!({ "body": format!(">>>/a/{doomed} across") })).await;
    let quoting: [Quoting; 4] = [("a", t, same), ("a", u, u), ("a", u, reply_u), ("c", v, v)];

    // A live link to it, natively or in 4chan's dialect; a dead one.
    let live = [format!("data-no=\"{doomed}\""), format!("#p{doomed}\"")];
    let links = |html: &str| live.iter().any(|l| html.contains(l));
    let dead = [
        format!("<span class=\"deadlink\">&gt;&gt;{doomed}</span>"),
        format!("<span class=\"deadlink\">&gt;&gt;&gt;/a/{doomed}</span>"),
    ];
    let dead = |html: &str| dead.iter().any(|d| html.contains(d));

    // Read once, so that every one of these documents is cached with the live link.
    for (what, html) in served(&s, &quoting).await {
        assert!(links(&html) && !dead(&html), "{what}: {html}");
    }

    delete_ok(&s, "a", doomed, "pw", false).await;
    let mut failures = Vec::new();
    for (what, html) in served(&s, &quoting).await {
        if links(&html) || !dead(&html) {
            failures.push(format!("{what}: {html}"));
        }
    }
    assert_no_mismatches(&failures);
    // The other link of the reply in its own thread stays live, exactly as a new render draws it.
    let kept = s.get(&format!("/api/boards/a/posts/{same}")).await.json;
    assert_eq!(
        kept["post"]["html"],
        format!(
            "<a class=\"quotelink\" href=\"/a/thread/{t}#p{t}\" data-board=\"a\" \
             data-no=\"{t}\">&gt;&gt;{t}</a> <span class=\"deadlink\">&gt;&gt;{doomed}</span> same"
        )
    );
    let fresh = s
        .reply("a", t, json!({ "body": format!(">>{t} >>{doomed} same") }))
        .await;
    let drawn = s.get(&format!("/api/boards/a/posts/{fresh}")).await.json;
    assert_eq!(kept["post"]["html"], drawn["post"]["html"]);
}

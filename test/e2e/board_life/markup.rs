//! Markup as a reader sees it: the exact HTML of the common forms, no way to inject markup,
//! backlinks, and links that die with the post they point to.

use super::*;

fn link(board: &str, thread: u64, no: u64, text: &str) -> String {
    format!(
        "<a class=\"quotelink\" href=\"/{board}/thread/{thread}#p{no}\" data-board=\"{board}\" \
         data-no=\"{no}\">{text}</a>"
    )
}

fn dead(text: &str) -> String {
    format!("<span class=\"deadlink\">{text}</span>")
}

#[tokio::test]
async fn common_markup_renders_to_exact_html() {
    let s = Server::with_config(&two_boards()).await;
    let c1 = open(&s, "c", json!({ "body": "over on c" })).await;
    let t = open(&s, "a", json!({ "body": "op" })).await;
    let r2 = s.reply("a", t, json!({ "body": "a reply" })).await;
    let other = open(&s, "a", json!({ "body": "another thread" })).await;
    assert_eq!((c1, t, r2, other), (1, 1, 2, 3));

    let url = "https://example.com/a";
    let cases: Vec<(&str, String)> = vec![
        (
            ">be me",
            "<span class=\"greentext\">&gt;be me</span>".into(),
        ),
        ("<pink", "<span class=\"pinktext\">&lt;pink</span>".into()),
        (">>1", link("a", 1, 1, "&gt;&gt;1")),
        // A reply in another thread: the link goes to that thread.
        (">>2", link("a", 1, 2, "&gt;&gt;2")),
        (">>99", dead("&gt;&gt;99")),
        (">>>/c/1", link("c", 1, 1, "&gt;&gt;&gt;/c/1")),
        (">>>/a/2", link("a", 1, 2, "&gt;&gt;&gt;/a/2")),
        (
            ">>>/c/",
            "<a class=\"boardlink\" href=\"/c/\">&gt;&gt;&gt;/c/</a>".into(),
        ),
        (">>>/zz/", dead("&gt;&gt;&gt;/zz/")),
        ("||secret||", "<span class=\"spoiler\">secret</span>".into()),
        ("**bold**", "<strong>bold</strong>".into()),
        (
            url,
            format!(
                "<a href=\"{url}\" rel=\"nofollow noopener noreferrer ugc\" \
                 target=\"_blank\">{url}</a>"
            ),
        ),
        (
            "see >>1 and >>99\n>green & <b>\nplain",
            format!(
                "see {} and {}<br><span class=\"greentext\">&gt;green &amp; &lt;b&gt;</span>\
                 <br>plain",
                link("a", 1, 1, "&gt;&gt;1"),
                dead("&gt;&gt;99")
            ),
        ),
    ];
    let mut failures = Vec::new();
    let mut posted = Vec::new();
    for (body, expected) in &cases {
        let no = s.reply("a", other, json!({ "body": body })).await;
        let p = post(&s, "a", no).await;
        if p["body"] != *body {
            failures.push(format!("{body:?}: body changed to {}", p["body"]));
        }
        if p["html"] != expected.as_str() {
            failures.push(format!(
                "{body:?}:\n  expected {expected}\n  got      {}",
                p["html"]
            ));
        }
        posted.push((no, p));
    }
    // The thread shows the same rendering as the single post.
    let th = thread(&s, "a", other).await;
    for (no, p) in &posted {
        let shown = th["posts"]
            .as_array()
            .unwrap()
            .iter()
            .find(|q| q["no"] == *no)
            .unwrap_or_else(|| panic!("post {no} is not in its thread"));
        if shown["html"] != p["html"] {
            failures.push(format!("post {no}: thread shows {}", shown["html"]));
        }
    }
    // A post sent as a form is rendered the same way.
    let (_, p) = upload(
        &s,
        &replies("a", other),
        form(Some(">from a form\n||hidden||"), vec![]),
    )
    .await;
    if p["html"]
        != "<span class=\"greentext\">&gt;from a form</span><br><span class=\"spoiler\">hidden</span>"
    {
        failures.push(format!("multipart post: {}", p["html"]));
    }
    assert_no_mismatches(&failures);
}

/// Checks that `html` is made only of the tags markup produces, each well formed, with quoted
/// attributes, no event handlers and no `javascript:` link. Returns what is wrong.
fn unsafe_html(html: &str) -> Option<String> {
    const TAGS: &[&str] = &["a", "span", "strong", "em", "u", "s", "code", "pre", "br"];
    const ATTRIBUTES: &[&str] = &["class", "href", "rel", "target", "data-board", "data-no"];
    let lower = html.to_ascii_lowercase();
    for bad in ["<script", "<svg", "<img", "<iframe", "<style", "<object"] {
        if lower.contains(bad) {
            return Some(format!("contains `{bad}`"));
        }
    }
    let mut rest = html;
    while let Some(start) = rest.find('<') {
        let tag = &rest[start + 1..];
        let (closing, tag) = match tag.strip_prefix('/') {
            Some(t) => (true, t),
            None => (false, tag),
        };
        let name_len = tag
            .find(|c: char| !c.is_ascii_alphanumeric())
            .unwrap_or(tag.len());
        let name = &tag[..name_len];
        if !TAGS.contains(&name) {
            return Some(format!("tag `{name}`"));
        }
        let mut attrs = &tag[name_len..];
        loop {
            attrs = attrs.trim_start_matches(' ');
            if let Some(after) = attrs.strip_prefix('>') {
                rest = after;
                break;
            }
            if closing {
                return Some(format!("malformed closing tag `</{name}`"));
            }
            let Some((attr, value_and_rest)) = attrs.split_once("=\"") else {
                return Some(format!("malformed attributes in `<{name}{attrs}`"));
            };
            let Some((value, after)) = value_and_rest.split_once('"') else {
                return Some(format!("unterminated attribute `{attr}`"));
            };
            let attr_lower = attr.to_ascii_lowercase();
            if attr_lower.starts_with("on") || !ATTRIBUTES.contains(&attr) {
                return Some(format!("attribute `{attr}` on `<{name}>`"));
            }
            if value.contains(['<', '>']) {
                return Some(format!(
                    "`{attr}` holds an unescaped angle bracket: {value}"
                ));
            }
            if attr == "href" {
                let href = value.to_ascii_lowercase();
                let safe = href.starts_with("https://")
                    || href.starts_with("http://")
                    || (href.starts_with('/') && !href.starts_with("//"));
                if !safe || href.contains("javascript:") {
                    return Some(format!("href `{value}`"));
                }
            }
            attrs = after;
        }
    }
    None
}

#[tokio::test]
async fn markup_cannot_inject_html() {
    let s = Server::with_config(&two_boards()).await;
    open(&s, "c", json!({ "body": "c" })).await;
    let t = open(&s, "a", json!({ "body": "op" })).await;
    let samples = [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "javascript:alert(1)",
        "JaVaScRiPt:alert(document.cookie)",
        "\"><svg onload=alert(1)>",
        "'><svg onload=alert(1)>",
        "https://example.com/\"><svg onload=alert(1)>",
        "https://example.com/a\" onmouseover=\"alert(1)",
        "https://example.com/a'onmouseover='alert(1)",
        "https://example.com/<script>alert(1)</script>",
        "[click](javascript:alert(1))",
        "<a href=\"javascript:alert(1)\">x</a>",
        "||<script>alert(1)</script>||",
        "**<img src=x onerror=alert(1)>**",
        "==<iframe src=javascript:alert(1)>==",
        "`<svg onload=alert(1)>`",
        "```\n<script>alert(1)</script>\n```",
        ">>>/c/\"><script>alert(1)</script>",
        ">>1\"><svg onload=alert(1)>",
        ">\"><img src=x onerror=alert(1)>",
        "data:text/html,<script>alert(1)</script>",
        "~~<style>*{display:none}</style>~~",
        "__<object data=javascript:alert(1)>__",
    ];
    let mut failures = Vec::new();
    for body in samples {
        let no = s.reply("a", t, json!({ "body": body })).await;
        let p = post(&s, "a", no).await;
        let html = p["html"].as_str().unwrap_or_default();
        if let Some(problem) = unsafe_html(html) {
            failures.push(format!("{body:?} → {html}\n  {problem}"));
        }
        if p["body"] != body {
            failures.push(format!("{body:?}: body changed to {}", p["body"]));
        }
    }
    // Plain text has no html (a client shows the body as text); text inside markup comes
    // back escaped exactly, entities included.
    for (body, expected) in [
        ("say <script>alert(1)</script>", None),
        (
            "<script>alert(1)</script>",
            Some("<span class=\"pinktext\">&lt;script&gt;alert(1)&lt;/script&gt;</span>"),
        ),
        ("\"><svg onload=alert(1)>", None),
        ("&lt;b&gt; 'quoted'", None),
        (
            "**&lt;b&gt; 'quoted'**",
            Some("<strong>&amp;lt;b&amp;gt; &#39;quoted&#39;</strong>"),
        ),
    ] {
        let no = s.reply("a", t, json!({ "body": body })).await;
        let p = post(&s, "a", no).await;
        let html = p.get("html").map(|h| h.as_str().unwrap());
        if html != expected {
            failures.push(format!("{body:?}: expected {expected:?}, got {html:?}"));
        }
    }
    assert_no_mismatches(&failures);
}

/// A post's backlinks; the field is left out when there are none.
async fn backlinks(s: &Server, board: &str, no: u64) -> Value {
    let p = post(s, board, no).await;
    match p.get("backlinks") {
        Some(list) => {
            assert!(
                !list.as_array().unwrap().is_empty(),
                "an empty list is left out"
            );
            list.clone()
        }
        None => json!([]),
    }
}

#[tokio::test]
async fn backlinks_list_the_later_posts_that_quote_a_post() {
    let s = Server::with_config(&two_boards()).await;
    let t = open(&s, "a", json!({ "body": "op" })).await;
    let r2 = s.reply("a", t, json!({ "body": ">>1" })).await;
    let r3 = s
        .reply("a", t, json!({ "body": ">>1 and again >>1" }))
        .await;
    let r4 = s.reply("a", t, json!({ "body": "no quote" })).await;
    let t5 = open(&s, "a", json!({ "body": ">>1 from another thread" })).await;
    // A quote from another board names a number of that board: not a backlink here.
    let c1 = open(&s, "c", json!({ "body": ">>>/a/1 from c" })).await;
    let c2 = s.reply("c", c1, json!({ "body": ">>1 is c's own" })).await;
    let r6 = s.reply("a", t, json!({ "body": ">>>/a/1 and >>2" })).await;
    let r7 = s.reply("a", t, json!({ "body": ">>4" })).await;
    assert_eq!((r2, r3, r4, t5, r6, r7), (2, 3, 4, 5, 6, 7));

    assert_eq!(backlinks(&s, "a", t).await, json!([2, 3, 5, 6]));
    assert_eq!(backlinks(&s, "a", r2).await, json!([6]));
    assert_eq!(backlinks(&s, "a", r3).await, json!([]));
    assert_eq!(backlinks(&s, "a", r4).await, json!([7]));
    assert_eq!(backlinks(&s, "a", t5).await, json!([]));
    assert_eq!(backlinks(&s, "c", c1).await, json!([c2]));
    assert_eq!(backlinks(&s, "c", c2).await, json!([]));

    // The thread shows the same backlinks.
    let th = thread(&s, "a", t).await;
    let shown: Vec<(u64, Value)> = th["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            let list = p.get("backlinks").cloned().unwrap_or_else(|| json!([]));
            (p["no"].as_u64().unwrap(), list)
        })
        .collect();
    assert_eq!(
        shown,
        [
            (1, json!([2, 3, 5, 6])),
            (2, json!([6])),
            (3, json!([])),
            (4, json!([7])),
            (6, json!([])),
            (7, json!([])),
        ]
    );
}

#[tokio::test]
async fn links_to_a_deleted_post_die() {
    let s = Server::start().await;
    let t = s.thread("b", "op").await;
    let target = s
        .reply(
            "b",
            t,
            json!({ "body": ">>1 target", "password": "pw-target" }),
        )
        .await;
    let quoting = s.reply("b", t, json!({ "body": ">>2 look at this" })).await;
    let elsewhere = open(&s, "b", json!({ "body": ">>>/b/2 too" })).await;
    assert_eq!((target, quoting, elsewhere), (2, 3, 4));
    assert_eq!(
        html(&s, "b", quoting).await,
        format!("{} look at this", link("b", 1, 2, "&gt;&gt;2"))
    );
    assert_eq!(backlinks(&s, "b", t).await, json!([2]));
    assert_eq!(backlinks(&s, "b", target).await, json!([3, 4]));
    // Read the listings once, so a stale copy would show.
    thread(&s, "b", t).await;
    catalog(&s, "b").await;

    delete_ok(&s, "b", target, "pw-target", false).await;

    let dead_quote = format!("{} look at this", dead("&gt;&gt;2"));
    let p = post(&s, "b", quoting).await;
    assert_eq!(p["html"], dead_quote.as_str());
    assert_eq!(p["body"], ">>2 look at this", "the body is kept as written");
    let th = thread(&s, "b", t).await;
    assert_eq!(numbers(&th["posts"]), [1, 3]);
    assert_eq!(th["posts"][1]["html"], dead_quote.as_str());
    assert_eq!(
        html(&s, "b", elsewhere).await,
        format!("{} too", dead("&gt;&gt;&gt;/b/2"))
    );
    let cat = s.get("/api/boards/b/catalog").await.json;
    let entry = cat["threads"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["no"] == elsewhere)
        .expect("thread 4 in the catalog")
        .clone();
    assert_eq!(
        entry["html"],
        format!("{} too", dead("&gt;&gt;&gt;/b/2")),
        "the catalog shows the re-rendered OP"
    );
    assert_eq!(
        backlinks(&s, "b", t).await,
        json!([]),
        "a deleted post is no longer a backlink"
    );
    // A new quote of the deleted number is dead from the start.
    let late = s.reply("b", t, json!({ "body": ">>2" })).await;
    assert_eq!(late, 5, "the deleted number is not reused");
    assert_eq!(html(&s, "b", late).await, dead("&gt;&gt;2"));
}

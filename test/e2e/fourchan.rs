//! The 4chan-compatible read API, checked field by field against 4chan's published
//! documentation (github.com/4chan/4chan-API) and vichan's variants: what a 4chan client,
//! archiver or downloader reads must be there, with 4chan's types, and nothing that 4chan
//! would leave out.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::board_life::{board, delete_ok, open};
use crate::harness::*;
use crate::uploads::{form, jpeg, md5_base64, png, post, replies, threads, upload, Form};
use crate::validation::assert_error_shape;

/// A 200 JSON document.
async fn doc(s: &Server, path: &str) -> Value {
    let r = s.get(path).await;
    assert_eq!(r.status, 200, "GET {path}: {}", r.json);
    assert!(
        r.header("content-type").starts_with("application/json"),
        "GET {path}"
    );
    r.json
}

/// An object's keys, sorted.
#[track_caller]
fn keys(v: &Value) -> Vec<String> {
    let mut keys: Vec<String> = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"))
        .keys()
        .cloned()
        .collect();
    keys.sort_unstable();
    keys
}

#[track_caller]
fn assert_keys(v: &Value, expected: &[&str]) {
    let mut expected: Vec<String> = expected.iter().map(|k| (*k).to_owned()).collect();
    expected.sort_unstable();
    assert_eq!(keys(v), expected, "{v}");
}

/// Fields every post has, and a file's fields, as 4chan names them.
const POST: &[&str] = &["no", "resto", "now", "time", "name"];
const FILE: &[&str] = &[
    "tim", "filename", "ext", "fsize", "md5", "w", "h", "tn_w", "tn_h",
];
const OP: &[&str] = &[
    "replies",
    "images",
    "bumplimit",
    "imagelimit",
    "semantic_url",
    "last_modified",
];

fn fields(parts: &[&[&'static str]]) -> Vec<&'static str> {
    parts.iter().flat_map(|p| p.iter().copied()).collect()
}

/// A client that shows redirects instead of following them.
fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Where `path` redirects to, asserting a 301.
async fn redirect(s: &Server, path: &str) -> String {
    let r = no_redirects().get(s.url(path)).send().await.unwrap();
    assert_eq!(r.status(), StatusCode::MOVED_PERMANENTLY, "GET {path}");
    r.headers()["location"].to_str().unwrap().to_owned()
}

/// A 404 with the error body, and its code.
async fn missing(s: &Server, path: &str) -> String {
    let r = s.get(path).await;
    assert_eq!(r.status, 404, "GET {path}: {}", r.json);
    assert_error_shape(&r);
    r.code().to_owned()
}

/// `now` is `MM/DD/YY(Day)HH:MM:SS` and says the same moment as `time` (in UTC).
#[track_caller]
fn assert_now(post: &Value) {
    let now = post["now"].as_str().unwrap();
    let time = post["time"].as_u64().unwrap();
    let b = now.as_bytes();
    let digits = |r: std::ops::Range<usize>| b[r].iter().all(u8::is_ascii_digit);
    assert!(
        now.len() == 21
            && digits(0..2)
            && b[2] == b'/'
            && digits(3..5)
            && b[5] == b'/'
            && digits(6..8)
            && b[8] == b'('
            && b[12] == b')',
        "{now}"
    );
    let day = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"][(time / 86_400 % 7) as usize];
    let secs = time % 86_400;
    let clock = format!(
        "({day}){:02}:{:02}:{:02}",
        secs / 3600,
        secs / 60 % 60,
        secs % 60
    );
    assert!(now.ends_with(&clock), "{now} is not {time}");
}

fn config() -> String {
    board("b", "description = \"Anything & \\\"everything\\\"\"")
        + &board(
            "c",
            "forced_anon = true\nposter_ids = true\narchive_days = 0\nmax_files = 0",
        )
}

#[tokio::test]
async fn threads_read_field_by_field() {
    let s = Server::with_config(&config()).await;
    let body = ">greentext\nit's ||hidden|| **bold**\nsee https://example.com/x?a=1&b=2";
    let op_form = form(
        Some(body),
        vec![(jpeg(300, 200, [200, 40, 40]), "holiday.photo.jpg")],
    )
    .text("subject", "Hello & <World>!");
    let (op, native_op) = upload(&s, &threads("b"), op_form).await;
    let other = open(&s, "b", json!({ "body": "another thread" })).await;
    let two_files: Form = form(
        Some(&format!(">>{op}\n~~not a spoiler~~")),
        vec![
            (png(40, 30, [10, 200, 10]), "first.png"),
            (png(30, 40, [10, 10, 200]), "second.png"),
        ],
    )
    .text("name", "Alice#secret")
    .text("spoiler", "1");
    let (r1, native_r1) = upload(&s, &replies("b", op), two_files).await;
    let r2 = s
        .reply(
            "b",
            op,
            json!({ "body": format!(">>{other} >>>/c/ >>99999 <pink") }),
        )
        .await;
    let file_only =
        form(None, vec![(jpeg(20, 20, [1, 2, 3]), "x.jpg")]).text("name", "<b>O'Neil</b>");
    let (r3, native_r3) = upload(&s, &replies("b", op), file_only).await;

    let thread = doc(&s, &format!("/b/thread/{op}.json")).await;
    assert_keys(&thread, &["posts"]);
    let posts = thread["posts"].as_array().unwrap();
    let numbers: Vec<u64> = posts.iter().map(|p| p["no"].as_u64().unwrap()).collect();
    assert_eq!(numbers, [op, r1, r2, r3]);
    for p in posts {
        assert_now(p);
    }

    // The opening post: resto 0, its subject and comment as HTML, its file, the thread's state.
    let o = &posts[0];
    assert_keys(o, &fields(&[POST, &["sub", "com"], FILE, OP]));
    assert_eq!(o["resto"], 0);
    assert_eq!(o["time"], native_op["created_at"]);
    assert_eq!(o["name"], "Anonymous");
    assert_eq!(o["sub"], "Hello &amp; &lt;World&gt;!");
    assert_eq!(
        o["com"],
        "<span class=\"quote\">&gt;greentext</span><br>it&#039;s <s>hidden</s> <b>bold</b><br>\
         see https://example.com/x?a=1&amp;b=2"
    );
    let file = &native_op["files"][0];
    assert_eq!(o["tim"], op * 100);
    assert_eq!(o["filename"], "holiday.photo");
    assert_eq!(o["ext"], ".jpg");
    assert_eq!(o["fsize"], file["size"]);
    assert_eq!(o["md5"], file["md5"]);
    assert_eq!(o["md5"].as_str().unwrap().len(), 24);
    assert_eq!((&o["w"], &o["h"]), (&json!(300), &json!(200)));
    assert_eq!(
        (&o["tn_w"], &o["tn_h"]),
        (&file["thumb_width"], &file["thumb_height"])
    );
    assert_eq!(o["replies"], 3);
    assert_eq!(o["images"], 3, "files in the replies");
    assert_eq!((&o["bumplimit"], &o["imagelimit"]), (&json!(0), &json!(0)));
    assert_eq!(o["semantic_url"], "hello-world");
    assert!(o["last_modified"].as_u64().unwrap() >= o["time"].as_u64().unwrap());

    // A reply with two files: resto, trip, the first file at the top, the second in extra_files.
    let a = &posts[1];
    assert_keys(a, &fields(&[POST, &["trip", "com", "extra_files"], FILE]));
    assert_eq!(a["resto"], op);
    assert_eq!(a["name"], "Alice");
    assert_eq!(a["trip"], native_r1["trip"]);
    assert!(a["trip"].as_str().unwrap().starts_with("!!"));
    assert_eq!(
        a["com"],
        format!("<a href=\"#p{op}\" class=\"quotelink\">&gt;&gt;{op}</a><br>~~not a spoiler~~")
    );
    assert_eq!(
        (&a["tim"], &a["filename"], &a["ext"]),
        (&json!(r1 * 100), &json!("first"), &json!(".png"))
    );
    let extra = &a["extra_files"];
    assert_eq!(extra.as_array().unwrap().len(), 1);
    assert_keys(&extra[0], &fields(&[FILE, &["spoiler"]]));
    let second = &native_r1["files"][1];
    assert_eq!(extra[0]["tim"], r1 * 100 + 1);
    assert_eq!(extra[0]["filename"], "second");
    assert_eq!(extra[0]["spoiler"], 1);
    assert_eq!(extra[0]["md5"], second["md5"]);
    assert_eq!((&extra[0]["w"], &extra[0]["h"]), (&json!(30), &json!(40)));

    // A text reply: no file field at all; links across threads and boards, a dead link.
    let b = &posts[2];
    assert_keys(b, &fields(&[POST, &["com"]]));
    assert_eq!(
        b["com"],
        format!(
            "<a href=\"/b/thread/{other}#p{other}\" class=\"quotelink\">&gt;&gt;{other}</a> \
             <a href=\"/c/\" class=\"quotelink\">&gt;&gt;&gt;/c/</a> \
             <span class=\"deadlink\">&gt;&gt;99999</span> &lt;pink"
        )
    );

    // A file without a comment: no `com`; the name is HTML-escaped as 4chan does.
    let c = &posts[3];
    assert_keys(c, &fields(&[POST, FILE]));
    assert_eq!(c["name"], "&lt;b&gt;O&#039;Neil&lt;/b&gt;");
    assert_eq!(c["fsize"], native_r3["files"][0]["size"]);

    // vichan's path is the same document.
    let (_, _, thread_bytes) = s.get_bytes(&format!("/b/thread/{op}.json"), &[]).await;
    let (status, _, res_bytes) = s.get_bytes(&format!("/b/res/{op}.json"), &[]).await;
    assert_eq!(status, 200);
    assert_eq!(res_bytes, thread_bytes);

    // Files by tim: redirects to the stored bytes, for both naming schemes.
    let tim = op * 100;
    let url = file["url"].as_str().unwrap();
    let thumb = file["thumb_url"].as_str().unwrap();
    for path in [format!("/b/{tim}.jpg"), format!("/b/src/{tim}.jpg")] {
        assert_eq!(redirect(&s, &path).await, url, "{path}");
    }
    for path in [
        format!("/b/{tim}s.jpg"),
        format!("/b/thumb/{tim}.jpg"),
        format!("/b/thumb/{tim}.png"),
        format!("/b/thumb/{tim}.webp"),
    ] {
        assert_eq!(redirect(&s, &path).await, thumb, "{path}");
    }
    let (status, _, bytes) = s.get_bytes(&format!("/b/{tim}.jpg"), &[]).await;
    assert_eq!(status, 200, "the redirect resolves");
    assert_eq!(md5_base64(&bytes), o["md5"].as_str().unwrap());
    assert_eq!(bytes.len() as u64, o["fsize"].as_u64().unwrap());
    let (status, headers, _) = s.get_bytes(&format!("/b/{tim}s.jpg"), &[]).await;
    assert_eq!(status, 200);
    assert_eq!(headers["content-type"], "image/webp");
    let extra_tim = r1 * 100 + 1;
    let (_, _, bytes) = s.get_bytes(&format!("/b/{extra_tim}.png"), &[]).await;
    assert_eq!(md5_base64(&bytes), second["md5"].as_str().unwrap());
    for path in [
        format!("/b/{tim}.png"),
        format!("/b/src/{tim}.png"),
        format!("/b/thumb/{tim}.gif"),
        format!("/b/{}.jpg", tim + 1),
        format!("/b/{}.png", r1 * 100 + 2),
        format!("/b/{}.jpg", r2 * 100),
        format!("/b/{}.jpg", 99_999 * 100),
        format!("/c/{tim}.jpg"),
        "/b/18446744073709551615.jpg".to_owned(),
    ] {
        assert_eq!(missing(&s, &path).await, "file_not_found", "{path}");
    }
    assert_eq!(
        missing(&s, &format!("/zz/{tim}.jpg")).await,
        "board_not_found"
    );
}

#[tokio::test]
async fn boards_json_describes_every_board() {
    let s = Server::with_config(&config()).await;
    let boards = doc(&s, "/boards.json").await;
    assert_keys(&boards, &["boards"]);
    let list = boards["boards"].as_array().unwrap();
    let slugs: Vec<&str> = list.iter().map(|b| b["board"].as_str().unwrap()).collect();
    assert_eq!(slugs, ["b", "c"]);
    let common = [
        "board",
        "title",
        "ws_board",
        "per_page",
        "pages",
        "max_filesize",
        "max_webm_filesize",
        "max_comment_chars",
        "max_webm_duration",
        "bump_limit",
        "image_limit",
        "cooldowns",
        "meta_description",
    ];
    let b = &list[0];
    assert_keys(b, &fields(&[&common, &["spoilers", "is_archived"]]));
    assert_eq!(b["title"], "Board b");
    assert_eq!(b["ws_board"], 1);
    assert_eq!((&b["per_page"], &b["pages"]), (&json!(10), &json!(15)));
    assert_eq!(b["max_filesize"], 8 << 20);
    assert_eq!(b["max_comment_chars"], 4000);
    assert_eq!(b["bump_limit"], 300);
    for key in ["max_webm_filesize", "max_webm_duration", "image_limit"] {
        assert!(b[key].as_u64().is_some_and(|n| n > 0), "{key}: {b}");
    }
    assert_eq!(
        b["cooldowns"],
        json!({ "threads": 0, "replies": 0, "images": 0 })
    );
    assert_eq!(
        b["meta_description"],
        "Anything &amp; &quot;everything&quot;"
    );
    assert_eq!((&b["spoilers"], &b["is_archived"]), (&json!(1), &json!(1)));
    let c = &list[1];
    assert_keys(
        c,
        &fields(&[&common, &["forced_anon", "user_ids", "text_only"]]),
    );
    assert_eq!(
        (&c["forced_anon"], &c["user_ids"], &c["text_only"]),
        (&json!(1), &json!(1), &json!(1))
    );

    // Poster ids show as `id`; forced anonymity drops the trip.
    let t = open(&s, "c", json!({ "body": "hi", "name": "Bob#pw" })).await;
    let thread = doc(&s, &format!("/c/thread/{t}.json")).await;
    let o = &thread["posts"][0];
    assert_keys(o, &fields(&[POST, &["id", "com"], OP]));
    assert_eq!(o["name"], "Anonymous");
    assert_eq!(o["id"].as_str().unwrap().len(), 8);
    assert_eq!(o["semantic_url"], "hi");
}

#[tokio::test]
async fn listings_page_like_the_index() {
    let s = Server::small().await; // /t/: bump_limit 3, thread_limit 4, threads_per_page 2
    for path in ["/t/archive.json"] {
        assert_eq!(doc(&s, path).await, json!([]));
    }
    assert_eq!(
        doc(&s, "/t/threads.json").await,
        json!([{ "page": 1, "threads": [] }])
    );
    let a = s.thread("t", "thread a").await;
    let b = s.thread("t", "thread b").await;
    let c = s.thread("t", "thread c").await;
    let mut a_replies = Vec::new();
    for i in 0..6 {
        a_replies.push(s.reply("t", a, json!({ "body": format!("a{i}") })).await);
    }
    // A sage reply with an image: C keeps its place.
    let sage = form(Some("c0"), vec![(png(20, 20, [9, 9, 9]), "c.png")]).text("sage", "true");
    let (c_reply, _) = upload(&s, &replies("t", c), sage).await;

    // Order: A (bumped by its first three replies), C, B.
    let list = doc(&s, "/t/threads.json").await;
    let pages = list.as_array().unwrap();
    assert_eq!(pages.len(), 2);
    let listed: Vec<Vec<u64>> = pages
        .iter()
        .map(|p| {
            p["threads"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["no"].as_u64().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(listed, [vec![a, c], vec![b]]);
    for (i, page) in pages.iter().enumerate() {
        assert_keys(page, &["page", "threads"]);
        assert_eq!(page["page"], i + 1);
        for t in page["threads"].as_array().unwrap() {
            assert_keys(t, &["no", "last_modified", "replies"]);
            assert!(t["last_modified"].as_u64().unwrap() > 1_600_000_000);
        }
    }
    assert_eq!(pages[0]["threads"][0]["replies"], 6);
    assert_eq!(pages[0]["threads"][1]["replies"], 1);

    // The catalog: the same pages, each thread its OP with its last replies.
    let catalog = doc(&s, "/t/catalog.json").await;
    let cat: Vec<Vec<u64>> = catalog
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            p["threads"]
                .as_array()
                .unwrap()
                .iter()
                .map(|t| t["no"].as_u64().unwrap())
                .collect()
        })
        .collect();
    assert_eq!(cat, listed);
    let ca = &catalog[0]["threads"][0];
    let listing = ["omitted_posts", "omitted_images"];
    assert_keys(ca, &fields(&[POST, &["com", "last_replies"], OP, &listing]));
    assert_eq!(
        (&ca["omitted_posts"], &ca["omitted_images"]),
        (&json!(1), &json!(0))
    );
    assert_eq!(ca["bumplimit"], 1, "three replies reach /t/'s bump limit");
    let last: Vec<u64> = ca["last_replies"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["no"].as_u64().unwrap())
        .collect();
    assert_eq!(last, a_replies[1..]);
    for reply in ca["last_replies"].as_array().unwrap() {
        assert_keys(reply, &fields(&[POST, &["com"]]));
        assert_eq!(reply["resto"], a);
    }
    let cc = &catalog[0]["threads"][1];
    assert_eq!(
        (&cc["omitted_posts"], &cc["omitted_images"], &cc["images"]),
        (&json!(0), &json!(0), &json!(1))
    );
    assert_eq!(cc["last_replies"][0]["tim"], c_reply * 100);
    let cb = &catalog[1]["threads"][0];
    assert_keys(cb, &fields(&[POST, &["com"], OP, &listing]));
    assert_eq!(cb["bumplimit"], 0);

    // Index pages: 0.json is 1.json; each thread its OP and last five replies.
    let (_, _, zero) = s.get_bytes("/t/0.json", &[]).await;
    let (status, _, one) = s.get_bytes("/t/1.json", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(zero, one);
    let page = doc(&s, "/t/1.json").await;
    assert_keys(&page, &["threads"]);
    let first = &page["threads"][0];
    assert_keys(first, &["posts"]);
    let shown: Vec<u64> = first["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["no"].as_u64().unwrap())
        .collect();
    assert_eq!(shown, [&[a][..], &a_replies[1..]].concat());
    assert_keys(&first["posts"][0], &fields(&[POST, &["com"], OP, &listing]));
    assert_eq!(first["posts"][0]["omitted_posts"], 1);
    assert_eq!(first["posts"][1]["resto"], a);
    let page2 = doc(&s, "/t/2.json").await;
    assert_eq!(page2["threads"][0]["posts"][0]["no"], b);
    assert_eq!(page2["threads"][0]["posts"].as_array().unwrap().len(), 1);
    assert_eq!(missing(&s, "/t/3.json").await, "page_not_found");

    // Two more threads push the least recently bumped one, B, into the archive.
    let d = s.thread("t", "thread d").await;
    let e = s.thread("t", "thread e").await;
    assert_eq!(doc(&s, "/t/archive.json").await, json!([b]));
    let live: Vec<u64> = doc(&s, "/t/threads.json")
        .await
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|p| p["threads"].as_array().unwrap().clone())
        .map(|t| t["no"].as_u64().unwrap())
        .collect();
    assert_eq!(live, [e, d, a, c]);
    let archived = &doc(&s, &format!("/t/thread/{b}.json")).await["posts"][0];
    assert_keys(
        archived,
        &fields(&[POST, &["com", "closed", "archived", "archived_on"], OP]),
    );
    assert_eq!(
        (&archived["closed"], &archived["archived"]),
        (&json!(1), &json!(1))
    );
    assert!(archived["archived_on"].as_u64().unwrap() >= archived["time"].as_u64().unwrap());
}

fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .unwrap()
        .as_secs()
}

fn http_date(unix: u64) -> String {
    httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(unix))
}

/// `Last-Modified` of `path`, once there is one: it is held back in the second of a change.
async fn last_modified(s: &Server, path: &str) -> u64 {
    for _ in 0..40 {
        let r = s.get(path).await;
        assert_eq!(r.status, 200, "GET {path}: {}", r.json);
        if let Ok(date) = httpdate::parse_http_date(r.header("last-modified")) {
            return date.duration_since(UNIX_EPOCH).unwrap().as_secs();
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{path} never sent Last-Modified");
}

#[tokio::test]
async fn if_modified_since_answers_304_until_something_changes() {
    let s = Server::small().await;
    let t = open(&s, "t", json!({ "body": "op", "password": "pw" })).await;
    let thread = format!("/t/thread/{t}.json");
    let paths = [
        thread.as_str(),
        "/t/catalog.json",
        "/t/threads.json",
        "/t/1.json",
        "/t/archive.json",
        "/boards.json",
    ];
    let mut dates = Vec::new();
    for path in paths {
        let modified = last_modified(&s, path).await;
        assert!(modified <= unix_now(), "{path}");
        let since = http_date(modified);
        let r = s.get_with(path, &[("if-modified-since", &since)]).await;
        assert_eq!(r.status, 304, "{path}");
        assert_eq!(r.json, Value::Null, "{path}: a 304 has no body");
        assert!(r.header("etag").starts_with('"'), "{path}");
        assert_eq!(r.header("last-modified"), since, "{path}");
        let earlier = s
            .get_with(path, &[("if-modified-since", &http_date(modified - 1))])
            .await;
        assert_eq!(earlier.status, 200, "{path}");
        let future = s
            .get_with(
                path,
                &[("if-modified-since", &http_date(unix_now() + 3600))],
            )
            .await;
        assert_eq!(
            future.status, 200,
            "{path}: a date in the future proves nothing"
        );
        // If-None-Match decides when both are sent.
        let both = s
            .get_with(
                path,
                &[
                    ("if-modified-since", &since),
                    ("if-none-match", "\"other\""),
                ],
            )
            .await;
        assert_eq!(both.status, 200, "{path}");
        let etag = r.header("etag").to_owned();
        let by_tag = s.get_with(path, &[("if-none-match", &etag)]).await;
        assert_eq!(by_tag.status, 304, "{path}");
        dates.push(since);
    }

    // A reply changes the thread and the board's listings (archive.json follows them), not
    // the board list.
    let reply = s
        .reply("t", t, json!({ "body": "news", "password": "pw" }))
        .await;
    for (path, since) in paths.iter().zip(&dates) {
        let r = s.get_with(path, &[("if-modified-since", since)]).await;
        let want = if *path == "/boards.json" { 304 } else { 200 };
        assert_eq!(r.status, want, "{path} after a reply");
    }
    let after_reply = last_modified(&s, &thread).await;
    assert_ne!(http_date(after_reply), dates[0], "a later date");
    let since = http_date(after_reply);
    assert_eq!(
        s.get_with(&thread, &[("if-modified-since", &since)])
            .await
            .status,
        304
    );

    // So does a deletion, which leaves no newer post behind.
    delete_ok(&s, "t", reply, "pw", false).await;
    let r = s.get_with(&thread, &[("if-modified-since", &since)]).await;
    assert_eq!(r.status, 200, "a deletion is a change");
    assert_eq!(r.json["posts"].as_array().unwrap().len(), 1);
    assert_eq!(r.json["posts"][0]["replies"], 0);
}

#[tokio::test]
async fn deleted_files_and_threads() {
    let s = Server::start().await;
    let op_form = form(Some("op"), vec![(jpeg(40, 40, [5, 5, 5]), "a.jpg")]).text("password", "pw");
    let (t, _) = upload(&s, &threads("b"), op_form).await;
    let reply_form =
        form(Some("with file"), vec![(png(16, 16, [7, 7, 7]), "b.png")]).text("password", "pw");
    let (r, _) = upload(&s, &replies("b", t), reply_form).await;
    assert_eq!(
        redirect(&s, &format!("/b/{}.png", r * 100)).await,
        post(&s, "b", r).await["files"][0]["url"]
    );

    delete_ok(&s, "b", r, "pw", true).await;
    let thread = doc(&s, &format!("/b/thread/{t}.json")).await;
    let reply = &thread["posts"][1];
    assert_keys(reply, &fields(&[POST, &["com", "filedeleted"]]));
    assert_eq!(reply["filedeleted"], 1);
    assert_eq!(
        missing(&s, &format!("/b/{}.png", r * 100)).await,
        "file_not_found"
    );
    assert_eq!(
        missing(&s, &format!("/b/{}s.jpg", r * 100)).await,
        "file_not_found"
    );

    delete_ok(&s, "b", t, "pw", false).await;
    for path in [format!("/b/thread/{t}.json"), format!("/b/res/{t}.json")] {
        assert_eq!(
            missing(&s, &path).await,
            "thread_not_found",
            "{path}: 404 as on 4chan, not 410"
        );
    }
    assert_eq!(
        missing(&s, &format!("/b/{}.jpg", t * 100)).await,
        "file_not_found"
    );
}

#[tokio::test]
async fn malformed_and_unknown_paths_are_404() {
    let s = Server::small().await;
    let t = s.thread("t", "op").await;
    let reply = s.reply("t", t, json!({ "body": "reply" })).await;
    let route = [
        "/boards",
        "/boards.json/",
        "/t",
        "/t/threads",
        "/t/thread",
        "/t/res/1",
        "/t/thread/one.json",
        "/t/thread/-1.json",
        "/t/thread/1.5.json",
        "/t/thread/0x10.json",
        "/t/thread/99999999999999999999999.json",
        "/t/99999999999999999999999.json",
        "/t/-1.json",
        "/t/page.json",
        "/t/thread/1.JSON",
        "/t/1.json.bak",
        "/T/catalog.json",
        "/t!/catalog.json",
        "/abcdefghijklmnopq/catalog.json",
        "/api/catalog.json",
        "/files/1.json",
        "/thumbs/thread/1.json",
        "/t/700",
        "/t/700.JPG",
        "/t/x700.jpg",
        "/t/700ss.jpg",
        "/t/src/700s.jpg",
    ];
    for path in route {
        assert_eq!(missing(&s, path).await, "route_not_found", "{path}");
    }
    for path in [
        "/zz/catalog.json",
        "/zz/threads.json",
        "/zz/archive.json",
        "/zz/1.json",
        "/zz/thread/1.json",
        "/zz/700.jpg",
    ] {
        assert_eq!(missing(&s, path).await, "board_not_found", "{path}");
    }
    for path in [
        "/t/thread/999.json".to_owned(),
        "/t/thread/0.json".to_owned(),
        "/t/thread/18446744073709551615.json".to_owned(),
        format!("/t/thread/{reply}.json"),
        format!("/t/res/{reply}.json"),
    ] {
        assert_eq!(missing(&s, &path).await, "thread_not_found", "{path}");
    }
    for path in ["/t/2.json", "/t/18446744073709551615.json"] {
        assert_eq!(missing(&s, path).await, "page_not_found", "{path}");
    }
    for path in [
        "/t/700.jpg",
        "/t/700s.jpg",
        "/t/18446744073709551615.jpg",
        "/t/thumb/700.jpg",
    ] {
        assert_eq!(missing(&s, path).await, "file_not_found", "{path}");
    }

    // Read-only: other methods are refused with the methods it takes; HEAD answers like GET.
    for path in [
        "/boards.json",
        "/t/catalog.json",
        "/t/1.json",
        &format!("/t/thread/{t}.json"),
    ] {
        let r = s.request("POST", path).await;
        assert_eq!(r.status, 405, "{path}");
        assert_eq!(r.header("allow"), "GET, HEAD");
        let (status, headers, body) = s.request_bytes("HEAD", path, &[]).await;
        assert_eq!(status, 200, "HEAD {path}");
        assert!(body.is_empty());
        assert!(headers["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json"));
    }
    // A query is ignored, as by a static file server.
    assert_eq!(
        doc(&s, "/t/catalog.json?t=123").await,
        doc(&s, "/t/catalog.json").await
    );
}

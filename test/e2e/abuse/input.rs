//! Deletion-password guessing, look-alike names and invisible text, duplicate JSON keys, and
//! poster ids that one IPv6 /64 cannot multiply.

use reqwest::multipart::Form;
use serde_json::{json, Value};

use crate::harness::Server;
use crate::uploads::{multipart_type, png, raw_multipart};
use crate::validation::refused;

/// One board /t/ with these extra lines.
fn board(options: &str) -> String {
    format!("[[boards]]\nslug = \"t\"\ntitle = \"Test\"\n{options}\n")
}

/// A JSON POST that appears to come from `client` (the default config trusts X-Forwarded-For
/// from 127.0.0.1, as it would from a proxy in front).
async fn post_as(s: &Server, client: &str, path: &str, body: Value) -> crate::harness::Reply {
    let req = s
        .client
        .post(s.url(path))
        .header("x-forwarded-for", client)
        .json(&body);
    s.send(req).await
}

async fn delete_as(s: &Server, client: &str, no: u64, password: &str) -> crate::harness::Reply {
    let path = format!("/api/boards/t/posts/{no}/delete");
    post_as(s, client, &path, json!({ "password": password })).await
}

/// Opens a thread on /t/ with a password and returns its number.
async fn open(s: &Server, client: &str, body: Value) -> u64 {
    let r = post_as(s, client, "/api/boards/t/threads", body).await;
    assert_eq!(r.status, 201, "{}", r.json);
    r.json["no"].as_u64().unwrap()
}

async fn reply(s: &Server, client: &str, thread: u64, body: Value) -> u64 {
    let path = format!("/api/boards/t/threads/{thread}/posts");
    let r = post_as(s, client, &path, body).await;
    assert_eq!(r.status, 201, "{}", r.json);
    r.json["no"].as_u64().unwrap()
}

async fn get_post(s: &Server, no: u64) -> Value {
    let r = s.get(&format!("/api/boards/t/posts/{no}")).await;
    assert_eq!(r.status, 200, "{}", r.json);
    r.json["post"].clone()
}

#[track_caller]
fn assert_limited(r: &crate::harness::Reply) {
    refused(r, 429, "rate_limited", None);
    let secs: u64 = r
        .header("retry-after")
        .parse()
        .unwrap_or_else(|_| panic!("no Retry-After: {:?}", r.headers));
    assert!((1..=3600).contains(&secs), "Retry-After {secs}");
}

#[tokio::test]
async fn deletion_guesses_are_limited_per_address_and_per_post() {
    let config = format!(
        "delete_attempts_per_address = 3\ndelete_attempts_per_post = 5\n\
         delete_attempts_window_secs = 3600\n{}",
        board("")
    );
    let s = Server::with_config(&config).await;
    let t = open(
        &s,
        "198.51.100.1",
        json!({ "body": "op", "password": "right" }),
    )
    .await;
    let target = reply(
        &s,
        "198.51.100.1",
        t,
        json!({ "body": "x", "password": "right" }),
    )
    .await;
    let other = reply(
        &s,
        "198.51.100.1",
        t,
        json!({ "body": "y", "password": "right" }),
    )
    .await;

    // One address: three wrong guesses, then 429 even for the right password.
    for guess in ["a", "b", "c"] {
        delete_as(&s, "203.0.113.1", target, guess)
            .await
            .assert_error(403, "wrong_password");
    }
    assert_limited(&delete_as(&s, "203.0.113.1", target, "d").await);
    assert_limited(&delete_as(&s, "203.0.113.1", other, "right").await);
    // Another address is still heard.
    delete_as(&s, "203.0.113.2", target, "e")
        .await
        .assert_error(403, "wrong_password");

    // One IPv6 /64 is one client; the next /64 is another.
    for guess in ["f", "g", "h"] {
        let r = delete_as(&s, "2001:db8:5:6::1", other, guess).await;
        r.assert_error(403, "wrong_password");
    }
    assert_limited(&delete_as(&s, "2001:db8:5:6:ffff::2", other, "i").await);
    delete_as(&s, "2001:db8:5:7::1", other, "j")
        .await
        .assert_error(403, "wrong_password");

    // The post: five wrong guesses from all addresses together (three from .1, one from .2,
    // and now one more), then even a fresh address is refused for it, but not for another post.
    delete_as(&s, "203.0.113.3", target, "k")
        .await
        .assert_error(403, "wrong_password");
    let r = delete_as(&s, "203.0.113.4", target, "right").await;
    assert_limited(&r);
    let message = r.json["error"]["message"].as_str().unwrap();
    assert!(message.contains(&format!("post {target}")), "{message}");
    delete_as(&s, "203.0.113.4", t, "l")
        .await
        .assert_error(403, "wrong_password");

    // Nothing was deleted, and a normal client is still served.
    assert_eq!(get_post(&s, target).await["body"], "x");
    assert_eq!(get_post(&s, other).await["body"], "y");
    assert_eq!(s.get("/healthz").await.status, 200);

    // Attempts that are not wrong guesses give their tokens back: a poster who deletes their
    // own posts, or asks about missing ones, is never limited.
    for no in [9_000, 9_001, 9_002, 9_003, 9_004] {
        delete_as(&s, "203.0.113.9", no, "right")
            .await
            .assert_error(404, "post_not_found");
    }
    let mine: Vec<u64> = {
        let mut v = Vec::new();
        for body in ["m1", "m2", "m3", "m4"] {
            v.push(
                reply(
                    &s,
                    "203.0.113.9",
                    t,
                    json!({ "body": body, "password": "pw9" }),
                )
                .await,
            );
        }
        v
    };
    for no in mine {
        let r = delete_as(&s, "203.0.113.9", no, "pw9").await;
        assert_eq!(r.status, 200, "{}", r.json);
    }
}

#[tokio::test]
async fn the_default_limit_stops_a_guesser_at_ten() {
    let s = Server::with_config(&board("")).await;
    let t = open(
        &s,
        "198.51.100.1",
        json!({ "body": "op", "password": "right" }),
    )
    .await;
    for n in 0..10 {
        delete_as(&s, "203.0.113.50", t, &format!("guess{n}"))
            .await
            .assert_error(403, "wrong_password");
    }
    assert_limited(&delete_as(&s, "203.0.113.50", t, "guess10").await);
    assert_eq!(get_post(&s, t).await["body"], "op");
}

#[tokio::test]
async fn a_closed_window_answers_the_same_whatever_the_password() {
    let config = board("delete_window_secs = 1")
        + "[[boards]]\nslug = \"off\"\ntitle = \"Off\"\ndelete_window_secs = 0\n";
    let s = Server::with_config(&config).await;
    let t = open(
        &s,
        "198.51.100.1",
        json!({ "body": "op", "password": "right" }),
    )
    .await;
    let r = post_as(
        &s,
        "198.51.100.1",
        "/api/boards/off/threads",
        json!({ "body": "op", "password": "right" }),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let off = r.json["no"].as_u64().unwrap();

    tokio::time::sleep(std::time::Duration::from_millis(2200)).await;
    let right = delete_as(&s, "203.0.113.1", t, "right").await;
    let wrong = delete_as(&s, "203.0.113.1", t, "wrong").await;
    refused(&right, 403, "delete_window_closed", None);
    assert_eq!(
        right.json, wrong.json,
        "the answer tells nothing about the password"
    );
    let path = format!("/api/boards/off/posts/{off}/delete");
    let right = post_as(&s, "203.0.113.1", &path, json!({ "password": "right" })).await;
    let wrong = post_as(&s, "203.0.113.1", &path, json!({ "password": "wrong" })).await;
    refused(&right, 403, "delete_window_closed", None);
    assert_eq!(right.json, wrong.json);
    // Asking about a closed post is not guessing: the address is not limited for it.
    for _ in 0..12 {
        let r = delete_as(&s, "203.0.113.1", t, "wrong").await;
        refused(&r, 403, "delete_window_closed", None);
    }
    assert_eq!(get_post(&s, t).await["body"], "op");
}

/// Every character removed from stored text: bidi controls and invisible characters.
const REMOVED: &[char] = &[
    '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}', '\u{202e}', '\u{2066}', '\u{2067}', '\u{2068}',
    '\u{2069}', '\u{200e}', '\u{200f}', '\u{61c}', '\u{200b}', '\u{200c}', '\u{200d}', '\u{2060}',
    '\u{feff}', '\u{3164}', '\u{115f}', '\u{1160}', '\u{ffa0}', '\u{ad}', '\u{2028}', '\u{2029}',
];

#[track_caller]
fn assert_clean(what: &str, text: &Value) {
    let text = text.as_str().unwrap_or_else(|| panic!("{what}: {text}"));
    assert!(
        !text.chars().any(|c| REMOVED.contains(&c)),
        "{what} keeps an invisible or bidi character: {text:?}"
    );
}

#[tokio::test]
async fn names_that_look_like_tripcodes_are_refused() {
    let s = Server::with_config(&board("")).await;
    let t = open(&s, "198.51.100.1", json!({ "body": "op" })).await;
    let path = format!("/api/boards/t/threads/{t}/posts");
    let lookalikes = [
        "Admin !!AbCdEfGh12",
        "Admin !AbCdEfGh",
        "!!x",
        "Admin \u{ff01}\u{ff01}AbCdEfGh12",
        "Admin \u{203c}AbCdEfGh12",
        "Admin \u{1c3}\u{1c3}AbCdEfGh12",
        "Admin !\u{ff21}bc",
        "Admin !\u{200b}!abc",
        "Admin \u{202e}!!cba",
    ];
    for name in lookalikes {
        let r = post_as(
            &s,
            "198.51.100.2",
            &path,
            json!({ "body": "hi", "name": name }),
        )
        .await;
        refused(&r, 400, "tripcode_lookalike", Some("name"));
        let message = r.json["error"]["message"].as_str().unwrap();
        assert!(
            message.contains('#'),
            "the message says how to get a trip: {message}"
        );
    }
    let r = post_as(
        &s,
        "198.51.100.2",
        "/api/boards/t/threads",
        json!({ "body": "hi", "name": "Admin !!AbCdEfGh12" }),
    )
    .await;
    refused(&r, 400, "tripcode_lookalike", Some("name"));

    // Exclamation marks that read as punctuation are fine; a real trip still comes from `#`.
    for (name, shown) in [
        ("Wow!!", "Wow!!"),
        ("hi! there", "hi! there"),
        ("Admin \u{202e}21hGfEdCbA!!", "Admin 21hGfEdCbA!!"),
    ] {
        let no = reply(&s, "198.51.100.2", t, json!({ "body": "hi", "name": name })).await;
        let p = get_post(&s, no).await;
        assert_eq!(p["name"], shown);
        assert_eq!(p["trip"], Value::Null);
    }
    let no = reply(
        &s,
        "198.51.100.2",
        t,
        json!({ "body": "hi", "name": "Admin#pw" }),
    )
    .await;
    let p = get_post(&s, no).await;
    assert_eq!(p["name"], "Admin");
    assert!(p["trip"].as_str().unwrap().starts_with("!!"), "{p}");
}

#[tokio::test]
async fn invisible_names_and_bodies_are_empty() {
    let s = Server::with_config(&board("")).await;
    let t = open(&s, "198.51.100.1", json!({ "body": "op" })).await;
    let path = format!("/api/boards/t/threads/{t}/posts");
    for name in [
        "\u{200b}",
        "\u{3164}",
        "\u{115f}\u{1160}",
        "\u{ffa0}",
        "\u{200b}\u{200d}\u{feff} \u{2060}",
        "\u{202e}",
        "\u{2800}",
    ] {
        let r = post_as(
            &s,
            "198.51.100.2",
            &path,
            json!({ "body": "hi", "name": name }),
        )
        .await;
        refused(&r, 400, "empty", Some("name"));
    }
    for body in [
        "\u{202e}",
        "\u{200b}\u{200c}",
        "\u{3164}",
        "\u{2060}\u{feff}\n\u{200e}",
        "\u{2028}\u{2029}",
    ] {
        let r = post_as(&s, "198.51.100.2", &path, json!({ "body": body })).await;
        refused(&r, 400, "empty", Some("body"));
        let r = post_as(
            &s,
            "198.51.100.2",
            "/api/boards/t/threads",
            json!({ "body": body }),
        )
        .await;
        refused(&r, 400, "empty", Some("body"));
    }
    // The same through a multipart form.
    let form = Form::new()
        .text("body", "hi")
        .text("name", "\u{3164}\u{200b}");
    let r = s.post_form(&path, form).await;
    refused(&r, 400, "empty", Some("name"));
    let form = Form::new().text("body", "\u{200b}\u{202e}");
    let r = s.post_form(&path, form).await;
    refused(&r, 400, "empty", Some("body"));

    // Spaces alone are still no name at all: Anonymous.
    let no = reply(
        &s,
        "198.51.100.2",
        t,
        json!({ "body": "hi", "name": "   " }),
    )
    .await;
    assert_eq!(get_post(&s, no).await["name"], "Anonymous");
    let thread = s.get(&format!("/api/boards/t/threads/{t}")).await;
    assert_eq!(thread.json["thread"]["posts"].as_array().unwrap().len(), 2);
}

#[tokio::test]
async fn bidi_and_invisible_characters_never_reach_stored_text() {
    let s = Server::with_config(&board("")).await;
    let r = post_as(
        &s,
        "198.51.100.1",
        "/api/boards/t/threads",
        json!({
            "subject": "sub\u{200f}ject\u{2028}",
            "name": "ev\u{202e}il\u{2066}x\u{2069}\u{61c}",
            "body": "a\u{202e}b\u{200e}c\u{200b}d\u{2028}e\u{feff} >>1 \u{2067}f\u{2069}",
        }),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let op = get_post(&s, r.json["no"].as_u64().unwrap()).await;
    assert_eq!(op["name"], "evilx");
    assert_eq!(op["subject"], "subject");
    assert_eq!(op["body"], "abcd\ne >>1 f");
    for field in ["name", "subject", "body", "html"] {
        assert_clean(field, &op[field]);
    }

    let t = op["no"].as_u64().unwrap();
    let name = "c\u{200e}a\u{200f}t\u{61c}\u{202e}gnp\u{2028}\u{2066}.png";
    let png = png(8, 8, [200, 10, 10]);
    let body = raw_multipart(&[
        ("body", None, "x\u{202e}y".as_bytes()),
        ("name", None, "b\u{200b}ob".as_bytes()),
        ("file", Some(name), &png),
    ]);
    let r = s
        .post_raw(
            &format!("/api/boards/t/threads/{t}/posts"),
            Some(&multipart_type()),
            body,
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let p = get_post(&s, r.json["no"].as_u64().unwrap()).await;
    assert_eq!(p["name"], "bob");
    assert_eq!(p["body"], "xy");
    assert_eq!(p["files"][0]["name"], "catgnp.png");
    for field in ["name", "body"] {
        assert_clean(field, &p[field]);
    }
    // The cleaned body has no markup, so its html is left out: the body itself is shown.
    assert_eq!(p.get("html"), None, "{p}");
    assert_clean("file name", &p["files"][0]["name"]);
}

#[tokio::test]
async fn duplicate_json_keys_are_refused_naming_the_field() {
    let s = Server::with_config(&board("")).await;
    let t = open(
        &s,
        "198.51.100.1",
        json!({ "body": "op", "password": "pw" }),
    )
    .await;
    let cases = [
        (
            "/api/boards/t/threads".to_owned(),
            r#"{"body":"a","body":"b"}"#,
            "body",
        ),
        (
            "/api/boards/t/threads".to_owned(),
            r#"{"body":"a","name":"x","name":"Admin"}"#,
            "name",
        ),
        (
            format!("/api/boards/t/threads/{t}/posts"),
            r#"{"body":"a","\u0062ody":"b"}"#,
            "body",
        ),
        (
            format!("/api/boards/t/threads/{t}/posts"),
            r#"{"sage":false,"body":"a","sage":true}"#,
            "sage",
        ),
        (
            format!("/api/boards/t/posts/{t}/delete"),
            r#"{"password":"nope","password":"pw"}"#,
            "password",
        ),
    ];
    for (path, body, field) in cases {
        let r = s.post_raw(&path, Some("application/json"), body).await;
        refused(&r, 400, "duplicate_field", Some(field));
        let message = r.json["error"]["message"].as_str().unwrap();
        assert!(message.contains(field), "{message}");
    }
    // Nothing was posted or deleted.
    let thread = s.get(&format!("/api/boards/t/threads/{t}")).await;
    assert_eq!(thread.status, 200);
    assert_eq!(thread.json["thread"]["posts"].as_array().unwrap().len(), 1);
    let next = s.get(&format!("/api/boards/t/posts/{}", t + 1)).await;
    assert_eq!(next.status, 404, "{}", next.json);
}

#[tokio::test]
async fn poster_ids_are_one_per_ipv6_64() {
    let s = Server::with_config(&board("poster_ids = true")).await;
    let t = open(&s, "2001:db8:aa:1::1", json!({ "body": "op" })).await;
    let mut ids = Vec::new();
    for client in [
        "2001:db8:aa:1::1",
        "2001:db8:aa:1::2",
        "2001:db8:aa:1:ffff:ffff:ffff:ffff",
        "2001:db8:aa:2::1",
        "2001:db8:ab:1::1",
        "203.0.113.5",
        "203.0.113.6",
        "::ffff:203.0.113.5",
    ] {
        let no = reply(&s, client, t, json!({ "body": client })).await;
        let id = get_post(&s, no).await["id"].as_str().unwrap().to_owned();
        ids.push(id);
    }
    assert_eq!(ids[0], ids[1], "one /64");
    assert_eq!(ids[0], ids[2], "one /64");
    assert_ne!(ids[0], ids[3], "another /64");
    assert_ne!(ids[0], ids[4], "another /48");
    assert_ne!(ids[3], ids[4]);
    assert_ne!(ids[5], ids[6], "IPv4 addresses are each their own");
    assert_eq!(ids[5], ids[7], "an IPv4 address however it is written");
    assert_ne!(ids[0], ids[5]);
}

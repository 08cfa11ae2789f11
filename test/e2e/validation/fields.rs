//! Request fields and text: missing, unknown, mistyped and null fields, lengths in characters,
//! control characters, encodings, JSON syntax and media types.

use super::*;
// Fields: missing, blank, unknown, mistyped, null.

#[tokio::test]
async fn a_post_without_a_body_is_refused_naming_the_field() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    assert_eq!(t, 1);
    let missing = [
        json!({}),
        json!({ "name": "anon" }),
        json!({ "body": null }),
        json!({ "sage": true, "name": null, "body": null }),
    ];
    for payload in &missing {
        refused(
            &s.post(THREADS, payload.clone()).await,
            400,
            "missing_field",
            Some("body"),
        );
        refused(
            &s.post(&replies("b", t), payload.clone()).await,
            400,
            "missing_field",
            Some("body"),
        );
    }
    refused(
        &s.post(THREADS, json!({ "subject": "only a subject" }))
            .await,
        400,
        "missing_field",
        Some("body"),
    );
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;
}

#[tokio::test]
async fn a_blank_body_is_refused_as_empty() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    for blank in [
        "",
        " ",
        "   ",
        "\n",
        "\r\n\t \r\n",
        "\t\t",
        "\u{a0}\u{3000}\u{2003}",
    ] {
        let r = s
            .post(THREADS, json!({ "body": blank, "subject": "s" }))
            .await;
        refused(&r, 400, "empty", Some("body"));
        let r = s
            .post(&replies("b", t), json!({ "body": blank, "name": "n" }))
            .await;
        refused(&r, 400, "empty", Some("body"));
    }
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;
}

#[tokio::test]
async fn unknown_fields_are_refused_naming_them() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let cases = [
        (json!({ "body": "hi", "options": "noko" }), "options"),
        (json!({ "body": "hi", "Body": "hi" }), "Body"),
        (json!({ "body": "hi", "no": 5 }), "no"),
        (json!({ "body": "hi", "thread": 1 }), "thread"),
        (json!({ "body": "hi", "html": "<b>x</b>" }), "html"),
        (json!({ "body": "hi", "created_at": 0 }), "created_at"),
        (json!({ "body": "hi", "sticky": true }), "sticky"),
        (json!({ "body": "hi", "": "" }), ""),
        (json!({ "options": "sage" }), "options"),
    ];
    for (payload, field) in &cases {
        refused(
            &s.post(THREADS, payload.clone()).await,
            400,
            "unknown_field",
            Some(field),
        );
        refused(
            &s.post(&replies("b", t), payload.clone()).await,
            400,
            "unknown_field",
            Some(field),
        );
    }
    // A reply has no subject: only an OP does.
    let r = s
        .post(&replies("b", t), json!({ "body": "hi", "subject": "nope" }))
        .await;
    refused(&r, 400, "unknown_field", Some("subject"));
    let r = s
        .post(&replies("b", t), json!({ "body": "hi", "subject": null }))
        .await;
    refused(&r, 400, "unknown_field", Some("subject"));
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;
}

#[tokio::test]
async fn mistyped_fields_are_refused_naming_them() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let both = [
        (json!({ "body": 5 }), "body"),
        (json!({ "body": 1.5 }), "body"),
        (json!({ "body": ["hi"] }), "body"),
        (json!({ "body": { "text": "hi" } }), "body"),
        (json!({ "body": true }), "body"),
        (json!({ "body": "hi", "sage": "yes" }), "sage"),
        (json!({ "body": "hi", "sage": "true" }), "sage"),
        (json!({ "body": "hi", "sage": 1 }), "sage"),
        (json!({ "body": "hi", "sage": 0 }), "sage"),
        (json!({ "body": "hi", "sage": [] }), "sage"),
        (json!({ "body": "hi", "name": 5 }), "name"),
        (json!({ "body": "hi", "name": false }), "name"),
        (json!({ "body": "hi", "name": ["a"] }), "name"),
        (json!({ "body": "hi", "name": {} }), "name"),
    ];
    for (payload, field) in &both {
        refused(
            &s.post(THREADS, payload.clone()).await,
            400,
            "invalid_type",
            Some(field),
        );
        refused(
            &s.post(&replies("b", t), payload.clone()).await,
            400,
            "invalid_type",
            Some(field),
        );
    }
    for subject in [json!(5), json!(true), json!(["s"]), json!({ "s": 1 })] {
        let r = s
            .post(THREADS, json!({ "body": "hi", "subject": subject }))
            .await;
        refused(&r, 400, "invalid_type", Some("subject"));
    }
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;
}

#[tokio::test]
async fn null_optional_fields_count_as_absent() {
    let s = Server::start().await;
    let r = s
        .post(
            THREADS,
            json!({ "body": "op", "subject": null, "name": null, "sage": null }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["no"], 1);
    let r = s
        .post(
            &replies("b", 1),
            json!({ "body": "re", "name": null, "sage": null }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["no"], 2);
    let thread = s.get("/api/boards/b/threads/1").await;
    let posts = thread.json["thread"]["posts"].as_array().unwrap();
    assert_eq!(posts.len(), 2);
    for post in posts {
        assert_eq!(post["name"], "Anonymous", "{post}");
        assert_eq!(post.get("subject"), None, "{post}");
        assert_eq!(post.get("sage"), None, "{post}");
    }
    assert_eq!(posts[0]["body"], "op");
    assert_eq!(posts[1]["body"], "re");
}

#[tokio::test]
async fn length_limits_count_characters_not_bytes() {
    let s = Server::small().await;
    let t = s.thread("t", "first").await;
    let path = replies("t", t);
    let mut expected = vec![t];

    // Exactly at each limit is accepted; one more character is refused.
    for body in [
        "a".repeat(50),
        "é".repeat(50),
        "😀".repeat(50),
        "字".repeat(50),
    ] {
        let r = s.post(&path, json!({ "body": body })).await;
        assert_eq!(
            r.status,
            201,
            "{} chars of {:?}: {}",
            body.chars().count(),
            &body[..4],
            r.json
        );
        expected.push(r.json["no"].as_u64().unwrap());
        let stored = s
            .get(&format!("/api/boards/t/posts/{}", expected.last().unwrap()))
            .await;
        assert_eq!(
            stored.json["post"]["body"],
            body.as_str(),
            "the body is stored as written"
        );
    }
    for body in [
        "a".repeat(51),
        "é".repeat(51),
        "😀".repeat(51),
        format!("{}\n", "a".repeat(50)),
    ] {
        refused(
            &s.post(&path, json!({ "body": body })).await,
            400,
            "too_long",
            Some("body"),
        );
        let r = s
            .post("/api/boards/t/threads", json!({ "body": body }))
            .await;
        refused(&r, 400, "too_long", Some("body"));
    }
    // A long run of spaces is too long before it is empty.
    refused(
        &s.post(&path, json!({ "body": " ".repeat(51) })).await,
        400,
        "too_long",
        Some("body"),
    );

    let r = s
        .post(&path, json!({ "body": "x", "name": "n".repeat(8) }))
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    expected.push(r.json["no"].as_u64().unwrap());
    let r = s
        .post(&path, json!({ "body": "x", "name": "ñ".repeat(8) }))
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    expected.push(r.json["no"].as_u64().unwrap());
    for name in ["n".repeat(9), "ñ".repeat(9), format!(" {}", "n".repeat(8))] {
        refused(
            &s.post(&path, json!({ "body": "x", "name": name })).await,
            400,
            "too_long",
            Some("name"),
        );
        let r = s
            .post(
                "/api/boards/t/threads",
                json!({ "body": "x", "name": name }),
            )
            .await;
        refused(&r, 400, "too_long", Some("name"));
    }

    let r = s
        .post(
            "/api/boards/t/threads",
            json!({ "body": "x", "subject": "s".repeat(10) }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let second = r.json["no"].as_u64().unwrap();
    for subject in ["s".repeat(11), "ü".repeat(11)] {
        let r = s
            .post(
                "/api/boards/t/threads",
                json!({ "body": "x", "subject": subject }),
            )
            .await;
        refused(&r, 400, "too_long", Some("subject"));
    }

    assert_eq!(post_numbers(&s, "t", t).await, expected);
    assert_eq!(second, expected.last().unwrap() + 1);
    let mut threads = thread_numbers(&s, "t").await;
    threads.sort_unstable();
    assert_eq!(threads, [t, second]);
    let no = s.reply("t", t, json!({ "body": "next" })).await;
    assert_eq!(no, second + 1, "a refused write used up a post number");
}

#[tokio::test]
async fn the_default_board_limit_is_4000_characters_even_when_escaped() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    // 4000 characters, each written as a `\u00e9` escape: 24 KB of JSON for 4000 characters.
    let escaped = format!("{{\"body\":\"{}\"}}", "\\u00e9".repeat(4000));
    let r = s
        .post_raw(&replies("b", t), Some("application/json"), escaped)
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["no"], 2);
    let post = s.get("/api/boards/b/posts/2").await;
    assert_eq!(post.json["post"]["body"], "é".repeat(4000));

    let escaped = format!("{{\"body\":\"{}\"}}", "\\u00e9".repeat(4001));
    let r = s
        .post_raw(&replies("b", t), Some("application/json"), escaped)
        .await;
    refused(&r, 400, "too_long", Some("body"));
    refused(
        &s.post(THREADS, json!({ "body": "a".repeat(4001) })).await,
        400,
        "too_long",
        Some("body"),
    );
    refused(
        &s.post(THREADS, json!({ "body": "x", "subject": "a".repeat(101) }))
            .await,
        400,
        "too_long",
        Some("subject"),
    );
    refused(
        &s.post(THREADS, json!({ "body": "x", "name": "a".repeat(51) }))
            .await,
        400,
        "too_long",
        Some("name"),
    );
    assert_unchanged(&s, "b", &[1], 1, &[1, 2]).await;
}

#[tokio::test]
async fn control_characters_are_refused_naming_the_field() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let dirty = [
        "a\u{0}b",
        "\u{1b}[31mred",
        "a\u{7f}b",
        "a\u{85}b",
        "a\u{9f}b",
        "a\u{8}b",
        "a\u{7}b",
        "a\u{b}b",
        "a\u{c}b",
        "\u{1}",
    ];
    for body in dirty {
        let r = s.post(THREADS, json!({ "body": body })).await;
        refused(&r, 400, "control_characters", Some("body"));
        let r = s.post(&replies("b", t), json!({ "body": body })).await;
        refused(&r, 400, "control_characters", Some("body"));
    }
    for one_line in ["a\nb", "a\r\nb", "a\rb", "a\tb", "\n", "a\u{0}", "a\u{85}"] {
        let r = s
            .post(THREADS, json!({ "body": "x", "name": one_line }))
            .await;
        refused(&r, 400, "control_characters", Some("name"));
        let r = s
            .post(&replies("b", t), json!({ "body": "x", "name": one_line }))
            .await;
        refused(&r, 400, "control_characters", Some("name"));
        let r = s
            .post(THREADS, json!({ "body": "x", "subject": one_line }))
            .await;
        refused(&r, 400, "control_characters", Some("subject"));
    }
    // The same control character written as a JSON escape is the same character.
    let r = s
        .post_raw(THREADS, Some("application/json"), r#"{"body":"a\u0000b"}"#)
        .await;
    refused(&r, 400, "control_characters", Some("body"));
    let r = s
        .post_raw(THREADS, Some("application/json"), r#"{"body":"a\u001Bb"}"#)
        .await;
    refused(&r, 400, "control_characters", Some("body"));
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;

    // Line breaks and tabs belong in a body, and are kept exactly.
    let body = "line one\nline two\r\n\tindented\rend";
    let no = s.reply("b", t, json!({ "body": body })).await;
    assert_eq!(no, 3);
    let post = s.get("/api/boards/b/posts/3").await;
    assert_eq!(post.json["post"]["body"], body);
}

#[tokio::test]
async fn invalid_utf8_is_refused() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let bodies: [&[u8]; 6] = [
        b"{\"body\":\"\xff\"}",
        b"{\"body\":\"a\xfe\xfeb\"}",
        b"{\"body\":\"\xc0\xaf\"}",             // overlong encoding of '/'
        b"{\"body\":\"\xed\xa0\x80\"}",         // a surrogate, encoded
        b"{\"body\":\"\xe2\x82\"}",             // a truncated sequence
        b"{\"body\":\"ok\",\"name\":\"\x80\"}", // a lone continuation byte
    ];
    for bytes in bodies {
        let r = s
            .post_raw(THREADS, Some("application/json"), bytes.to_vec())
            .await;
        refused(&r, 400, "invalid_utf8", None);
        let r = s
            .post_raw(&replies("b", t), Some("application/json"), bytes.to_vec())
            .await;
        refused(&r, 400, "invalid_utf8", None);
    }
    // Latin-1 declared as such is still not UTF-8.
    let r = s
        .post_raw(
            THREADS,
            Some("application/json; charset=iso-8859-1"),
            b"{\"body\":\"caf\xe9\"}".to_vec(),
        )
        .await;
    refused(&r, 400, "invalid_utf8", None);
    // A lone surrogate written as a JSON escape cannot become a string either.
    let r = s
        .post_raw(THREADS, Some("application/json"), r#"{"body":"\ud800"}"#)
        .await;
    assert_eq!(r.status, 400, "{}", r.json);
    assert_error_shape(&r);
    assert!(
        ["invalid_json", "invalid_utf8"].contains(&r.code()),
        "{}",
        r.json
    );
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;
}

#[tokio::test]
async fn malformed_json_is_refused() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let broken = [
        "",
        " ",
        "{",
        r#"{"body":"x""#,
        r#"{"body":"x"#,
        r#"{"body":"x",}"#,
        r#"{"body":"x",,"name":"n"}"#,
        r#"{'body':'x'}"#,
        r#"{body:"x"}"#,
        r#"{"body":"x"} {}"#,
        r#"{"body":"x"}x"#,
        r#"{"body":"x" /* comment */}"#,
        r#"{"body":"x","sage":NaN}"#,
        r#"{"body":"x","sage":1e400}"#,
        r#"{"body":"x","sage":tru}"#,
        r#"{"body":"a\qb"}"#,
        "{\"body\":\"raw\nnewline\"}",
        "\u{feff}{\"body\":\"x\"}",
        "body=x",
    ];
    for text in broken {
        let r = s.post_raw(THREADS, Some("application/json"), text).await;
        refused(&r, 400, "invalid_json", None);
        let r = s
            .post_raw(&replies("b", t), Some("application/json"), text)
            .await;
        refused(&r, 400, "invalid_json", None);
    }
    // Valid JSON that is not an object.
    for text in ["[]", r#"[{"body":"x"}]"#, r#""body""#, "null", "42", "true"] {
        let r = s.post_raw(THREADS, Some("application/json"), text).await;
        refused(&r, 400, "invalid_type", None);
        let r = s
            .post_raw(&replies("b", t), Some("application/json"), text)
            .await;
        refused(&r, 400, "invalid_type", None);
    }
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;
}

#[tokio::test]
async fn deeply_nested_json_is_a_400_not_a_crash() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let depth = 10_000;
    let arrays = format!("{}{}", "[".repeat(depth), "]".repeat(depth));
    let objects = format!("{}1{}", r#"{"a":"#.repeat(depth), "}".repeat(depth));
    let in_a_field = format!(r#"{{"body":"x","sage":{}}}"#, arrays);
    let unclosed = "[".repeat(100_000);
    for text in [&arrays, &objects, &in_a_field, &unclosed] {
        let r = s
            .post_raw(THREADS, Some("application/json"), text.clone())
            .await;
        refused(&r, 400, "invalid_json", None);
        let r = s
            .post_raw(&replies("b", t), Some("application/json"), text.clone())
            .await;
        refused(&r, 400, "invalid_json", None);
        assert_alive(&s).await;
    }
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;
}

#[tokio::test]
async fn only_json_is_accepted() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let json_text = r#"{"body":"hello"}"#;
    // multipart/form-data is the other accepted form (test/e2e/uploads).
    let wrong: [(Option<&str>, &str); 9] = [
        (None, json_text),
        (Some(""), json_text),
        (Some("text/plain"), json_text),
        (Some("text/json"), json_text),
        (Some("application/x-www-form-urlencoded"), "body=hello"),
        (Some("application/jsonp"), json_text),
        (Some("application/json-patch+json"), json_text),
        (Some("application/xml"), "<body>hello</body>"),
        (Some("json"), json_text),
    ];
    for (content_type, body) in wrong {
        let r = s.post_raw(THREADS, content_type, body).await;
        refused(&r, 415, "unsupported_media_type", None);
        let r = s.post_raw(&replies("b", t), content_type, body).await;
        refused(&r, 415, "unsupported_media_type", None);
    }
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;

    // Parameters, case and surrounding space do not matter.
    let mut next = 3;
    for content_type in [
        "application/json; charset=utf-8",
        "Application/JSON",
        "APPLICATION/JSON;charset=UTF-8",
        " application/json ",
    ] {
        let r = s
            .post_raw(&replies("b", t), Some(content_type), json_text)
            .await;
        assert_eq!(r.status, 201, "{content_type}: {}", r.json);
        assert_eq!(r.json["no"], next, "{content_type}");
        next += 1;
    }
    let r = s
        .post_raw(THREADS, Some("application/json; charset=utf-8"), json_text)
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["no"], next);
}

//! Multipart posts: text parts follow the JSON rules, part names are checked, spoilers, file
//! names, and broken multipart bodies.

use super::*;

#[tokio::test]
async fn multipart_text_follows_the_json_rules() {
    let s = Server::start().await;
    let (t, op) = upload(
        &s,
        &threads("b"),
        Form::new()
            .text("subject", "Hello")
            .text("name", "  alice  ")
            .text("body", "first <b>line</b>\r\nsecond"),
    )
    .await;
    assert_eq!(op["subject"], "Hello");
    assert_eq!(op["name"], "alice");
    assert_eq!(op["body"], "first <b>line</b>\r\nsecond");
    assert_eq!(op["html"], "first &lt;b&gt;line&lt;/b&gt;<br>second");
    assert_eq!(op.get("files"), None, "a text post has no files array");
    let mut expected = vec![t];
    for (value, sage) in [
        ("true", true),
        ("on", true),
        ("1", true),
        ("false", false),
        ("0", false),
        ("", false),
    ] {
        let (no, reply) = upload(
            &s,
            &replies("b", t),
            Form::new().text("body", "reply").text("sage", value),
        )
        .await;
        // Left out unless true.
        assert_eq!(
            reply.get("sage"),
            sage.then_some(&json!(true)),
            "sage={value:?}"
        );
        expected.push(no);
    }
    // A browser sends a form's empty file input as an empty part with an empty file name:
    // that is no file, not a refused one.
    let body = raw_multipart(&[("body", None, b"from a form"), ("file", Some(""), b"")]);
    let r = s
        .post_raw(&replies("b", t), Some(&multipart_type()), body)
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let no = r.json["no"].as_u64().unwrap();
    assert_eq!(post(&s, "b", no).await.get("files"), None);
    expected.push(no);
    let json_no = s.reply("b", t, json!({ "body": "json" })).await;
    assert_eq!(post(&s, "b", json_no).await.get("files"), None);
    expected.push(json_no);

    let cases: Vec<(String, Form, &str, &str)> = vec![
        (
            replies("b", t),
            Form::new().text("name", "n"),
            "missing_field",
            "body",
        ),
        (
            threads("b"),
            Form::new().text("subject", "only"),
            "missing_field",
            "body",
        ),
        (
            replies("b", t),
            Form::new().text("body", " \r\n\t "),
            "empty",
            "body",
        ),
        (
            replies("b", t),
            Form::new().text("body", "x").text("name", "n".repeat(51)),
            "too_long",
            "name",
        ),
        (
            threads("b"),
            Form::new().text("body", "a".repeat(4001)),
            "too_long",
            "body",
        ),
        (
            threads("b"),
            Form::new()
                .text("body", "x")
                .text("subject", "s".repeat(101)),
            "too_long",
            "subject",
        ),
        (
            replies("b", t),
            Form::new().text("body", "a\u{0}b"),
            "control_characters",
            "body",
        ),
        (
            threads("b"),
            Form::new().text("body", "x").text("subject", "a\nb"),
            "control_characters",
            "subject",
        ),
        (
            replies("b", t),
            Form::new()
                .text("body", "x")
                .text("subject", "a reply has none"),
            "unknown_field",
            "subject",
        ),
        (
            replies("b", t),
            Form::new().text("body", "x").text("options", "sage"),
            "unknown_field",
            "options",
        ),
        (
            threads("b"),
            Form::new().text("body", "x").text("Body", "x"),
            "unknown_field",
            "Body",
        ),
        (
            replies("b", t),
            Form::new()
                .text("body", "x")
                .part("image", file_part(png(8, 8, [1, 1, 1]), "a.png")),
            "unknown_field",
            "image",
        ),
        (
            replies("b", t),
            Form::new().text("body", "x").text("sage", "yes"),
            "invalid_type",
            "sage",
        ),
        (
            replies("b", t),
            Form::new().text("body", "x").text("sage", "TRUE "),
            "invalid_type",
            "sage",
        ),
        (
            replies("b", t),
            Form::new().text("body", "x").text("spoiler", "0"),
            "invalid_type",
            "spoiler",
        ),
    ];
    let mut failures = Vec::new();
    for (i, (path, form, code, field)) in cases.into_iter().enumerate() {
        let r = s.post_form(&path, form).await;
        if let Some(m) = mismatch(&r, 400, code, Some(field)) {
            failures.push(format!("case {i} ({code} {field}) to {path}: {m}"));
        }
    }
    let one = || form(Some("x"), vec![(png(8, 8, [1, 2, 3]), "a.png")]);
    for bad in ["1", "-1", "x", "", "0.0", "99999999999999999999"] {
        let r = s
            .post_form(&replies("b", t), one().text("spoiler", bad))
            .await;
        if let Some(m) = mismatch(&r, 400, "invalid_type", Some("spoiler")) {
            failures.push(format!("spoiler={bad:?}: {m}"));
        }
    }
    // A text part given twice is ambiguous.
    for (name, value) in [("body", "again"), ("name", "n"), ("sage", "1")] {
        let form = Form::new()
            .text("body", "x")
            .text("name", "n")
            .text("sage", "0")
            .text(name, value);
        let r = s.post_form(&replies("b", t), form).await;
        if let Some(m) = mismatch(&r, 400, "invalid_multipart", None) {
            failures.push(format!("{name} twice: {m}"));
        }
    }
    let twice = Form::new()
        .text("body", "x")
        .text("subject", "a")
        .text("subject", "b");
    let r = s.post_form(&threads("b"), twice).await;
    if let Some(m) = mismatch(&r, 400, "invalid_multipart", None) {
        failures.push(format!("subject twice: {m}"));
    }
    // An empty body part with no file: as with JSON, either missing or empty.
    for path in [threads("b"), replies("b", t)] {
        let r = s.post_form(&path, Form::new().text("body", "")).await;
        assert!(["missing_field", "empty"].contains(&r.code()), "{}", r.json);
        refused(&r, 400, r.code(), Some("body"));
    }
    assert_files_settle(&s, &[], "refused multipart posts");
    assert_unchanged(&s, "b", &[t], t, &expected).await;
    assert_no_mismatches(&failures);
}

#[tokio::test]
async fn broken_multipart_bodies_are_refused() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let good = raw_multipart(&[("body", None, b"hello")]);
    let png_bytes = png(8, 8, [1, 2, 3]);
    let with_file = raw_multipart(&[
        ("body", None, b"hello"),
        ("file", Some("a.png"), &png_bytes),
    ]);
    let unterminated = &with_file[..with_file.len() - format!("--{BOUNDARY}--\r\n").len() - 20];
    let other_boundary = String::from_utf8(good.clone())
        .unwrap()
        .replace(BOUNDARY, "some-other-boundary")
        .into_bytes();
    let cases: Vec<(Option<String>, Vec<u8>)> = vec![
        (Some("multipart/form-data".into()), good.clone()),
        (Some("multipart/form-data; boundary=".into()), good.clone()),
        (Some(multipart_type()), b"garbage, not multipart at all".to_vec()),
        (Some(multipart_type()), Vec::new()),
        (Some(multipart_type()), unterminated.to_vec()),
        (Some(multipart_type()), other_boundary),
        (
            Some(multipart_type()),
            format!("--{BOUNDARY}\r\nContent-Disposition: form-data\r\n\r\nno name\r\n--{BOUNDARY}--\r\n")
                .into_bytes(),
        ),
        (
            Some(multipart_type()),
            format!("--{BOUNDARY}\r\nno headers at all\r\n--{BOUNDARY}--\r\n").into_bytes(),
        ),
    ];
    let mut failures = Vec::new();
    for (i, (content_type, body)) in cases.into_iter().enumerate() {
        for path in [threads("b"), replies("b", t)] {
            let r = s
                .post_raw(&path, content_type.as_deref(), body.clone())
                .await;
            if let Some(m) = mismatch(&r, 400, "invalid_multipart", None) {
                failures.push(format!("case {i} to {path}: {m}"));
            }
        }
    }
    // The hand-made body itself is fine.
    let r = s
        .post_raw(&replies("b", t), Some(&multipart_type()), with_file)
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["no"], t + 1);
    assert_eq!(only_file(&post(&s, "b", t + 1).await)["name"], "a.png");
    assert_tmp_empty(&s);
    assert_no_mismatches(&failures);
}

#[tokio::test]
async fn spoilers_mark_only_the_files_they_name() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let files = || {
        vec![
            (png(20, 20, [200, 0, 0]), "zero.png"),
            (png(20, 20, [0, 200, 0]), "one.png"),
            (png(20, 20, [0, 0, 200]), "two.png"),
        ]
    };
    let (_, reply) = upload(
        &s,
        &replies("b", t),
        form(Some("x"), files()).text("spoiler", "1"),
    )
    .await;
    let flags: Vec<Option<&Value>> = reply["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.get("spoiler"))
        .collect();
    assert_eq!(flags, [None, Some(&json!(true)), None]);
    let names: Vec<&Value> = reply["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| &f["name"])
        .collect();
    assert_eq!(
        names,
        [&json!("zero.png"), &json!("one.png"), &json!("two.png")],
        "files keep their order"
    );

    let (_, reply) = upload(
        &s,
        &replies("b", t),
        form(Some("x"), files())
            .text("spoiler", "0")
            .text("spoiler", "2"),
    )
    .await;
    let flags: Vec<Option<&Value>> = reply["files"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| f.get("spoiler"))
        .collect();
    assert_eq!(flags, [Some(&json!(true)), None, Some(&json!(true))]);
    // A file-only thread may be spoiled too.
    let (_, op) = upload(
        &s,
        &threads("b"),
        Form::new()
            .part("file", file_part(png(20, 20, [9, 9, 9]), "s.png"))
            .text("spoiler", "0"),
    )
    .await;
    assert_eq!(only_file(&op)["spoiler"], true);
    // Spoiled or not, the same bytes are the same stored file.
    assert_eq!(s.stored_files().len(), 2 * 4);
}

#[tokio::test]
async fn file_names_are_sanitized() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let long = format!("{}.png", "x".repeat(296));
    let cases: Vec<(&str, Option<&str>)> = vec![
        ("../../etc/passwd.png", Some("passwd.png")),
        ("/home/alice/Pictures/cat.png", Some("cat.png")),
        ("dir/sub/../cat.png", Some("cat.png")),
        ("a\tb\u{85}c.png", Some("abc.png")),
        ("日本語 photo.png", Some("日本語 photo.png")),
        ("plain.png", Some("plain.png")),
        (&long, None),
    ];
    for (i, (sent, shown)) in cases.into_iter().enumerate() {
        let bytes = png(10, 10, [i as u8, 50, 50]);
        let body = raw_multipart(&[("body", None, b"named"), ("file", Some(sent), &bytes)]);
        let r = s
            .post_raw(&replies("b", t), Some(&multipart_type()), body)
            .await;
        assert_eq!(r.status, 201, "{sent:?}: {}", r.json);
        let name = only_file(&post(&s, "b", r.json["no"].as_u64().unwrap()).await)["name"].clone();
        match shown {
            Some(shown) => assert_eq!(name, shown, "{sent:?}"),
            None => {
                let name = name.as_str().unwrap();
                assert!(
                    name.chars().count() <= 128 && name.starts_with("xxxx"),
                    "{sent:?} became {name:?}"
                );
            }
        }
    }
    let s = Server::with_config(
        "[[boards]]\nslug = \"n\"\ntitle = \"Nameless\"\nkeep_file_names = false\n",
    )
    .await;
    let (_, op) = upload(
        &s,
        &threads("n"),
        form(
            Some("x"),
            vec![(png(10, 10, [1, 2, 3]), "my-real-name.png")],
        ),
    )
    .await;
    assert_eq!(only_file(&op)["name"], Value::Null);
    assert!(!s
        .get(&format!("/api/boards/n/posts/{}", op["no"]))
        .await
        .json
        .to_string()
        .contains("my-real-name"));
}

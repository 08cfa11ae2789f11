//! Files the server refuses: not images, unsafe or unsupported types, video, damaged images,
//! bombs, and the board's limits. A refused post leaves no file behind and uses no number.

use super::*;

/// Posts `bytes` as the one file of a new thread and of a reply to `thread`; both must be
/// refused with `status` and `code` on the `file` field, leaving nothing on disk.
async fn refuse_both_ways(
    s: &Server,
    board: &str,
    thread: u64,
    (bytes, name): (&[u8], &str),
    status: u16,
    code: &str,
) -> Vec<Reply> {
    let before = s.stored_files();
    let mut out = Vec::new();
    for path in [threads(board), replies(board, thread)] {
        let r = s
            .post_form(&path, form(Some("look"), vec![(bytes.to_vec(), name)]))
            .await;
        assert_eq!(r.status, status, "{name} to {path}: {}", r.json);
        refused(&r, status, code, Some("file"));
        assert_files_settle(s, &before, &format!("{name} to {path}"));
        out.push(r);
    }
    out
}

#[tokio::test]
async fn files_that_are_not_images_are_refused_by_their_bytes() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let text = b"just some text, not a picture\n".as_slice();
    refuse_both_ways(&s, "b", t, (text, "x.jpg"), 415, "not_an_image").await;
    refuse_both_ways(&s, "b", t, (&noise(4096, 7), "x.png"), 415, "not_an_image").await;

    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(document.cookie)</script></svg>"#;
    let xml_svg = br#"<?xml version="1.0" encoding="UTF-8"?>
<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><rect width="10" height="10"/></svg>"#;
    let pdf = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n";
    let doctype = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>";
    let html = b"<html><head><title>x</title></head><body onload=alert(1)></body></html>";
    for (bytes, name) in [
        (&svg[..], "x.svg"),
        (&svg[..], "innocent.png"),
        (&xml_svg[..], "x.svg"),
        (&pdf[..], "x.pdf"),
        (&pdf[..], "x.jpg"),
        (&doctype[..], "x.html"),
        (&html[..], "x.gif"),
    ] {
        refuse_both_ways(&s, "b", t, (bytes, name), 415, "unsupported_image_type").await;
    }

    let mut webm = vec![0x1A, 0x45, 0xDF, 0xA3, 0x9F, 0x42, 0x86, 0x81, 0x01];
    webm.extend_from_slice(b"\x42\xF7\x81\x01\x42\x82\x84webm");
    webm.extend(noise(2048, 3));
    let mut mp4 = b"\0\0\0\x18ftypisom\0\0\x02\0isomiso2".to_vec();
    mp4.extend_from_slice(b"\0\0\0\x08free");
    mp4.extend(noise(2048, 5));
    for (bytes, name) in [(&webm, "clip.webm"), (&mp4, "clip.mp4"), (&mp4, "clip.jpg")] {
        for r in refuse_both_ways(&s, "b", t, (bytes, name), 415, "video_not_supported").await {
            let message = r.json["error"]["message"].as_str().unwrap().to_lowercase();
            assert!(message.contains("video"), "{message}");
        }
    }
    assert!(s.stored_files().is_empty());
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;
}

#[tokio::test]
async fn damaged_images_are_refused() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let cups = fixture("cups-2560x1600.jpg");
    let whole_png = png(200, 150, [200, 100, 50]);
    let whole_jpeg = jpeg(200, 150, [50, 100, 200]);
    let whole_gif = gif_animated(40, 30, &[[1, 2, 3], [200, 100, 0]]);
    for (bytes, name) in [
        (&cups[..cups.len() / 2], "cups-half.jpg"),
        (&whole_jpeg[..whole_jpeg.len() / 2], "half.jpg"),
        (&whole_png[..whole_png.len() / 2], "half.png"),
        (&whole_gif[..whole_gif.len() / 2], "half.gif"),
    ] {
        refuse_both_ways(&s, "b", t, (bytes, name), 400, "image_truncated").await;
    }
    for (bytes, name) in [
        (png_garbage_pixels(), "garbage.png"),
        (png_bad_header(), "bit-depth-7.png"),
    ] {
        refuse_both_ways(&s, "b", t, (&bytes, name), 400, "image_corrupt").await;
    }
    assert!(s.stored_files().is_empty());
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;
}

/// A GIF whose screen and only frame declare `width` x `height` over a few bytes of LZW data.
fn gif_bomb(width: u16, height: u16) -> Vec<u8> {
    let mut out = b"GIF89a".to_vec();
    out.extend_from_slice(&width.to_le_bytes());
    out.extend_from_slice(&height.to_le_bytes());
    out.extend_from_slice(&[0x80, 0, 0]); // a global table of 2 colours
    out.extend_from_slice(&[0, 0, 0, 255, 255, 255]);
    out.push(0x2C);
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&width.to_le_bytes());
    out.extend_from_slice(&height.to_le_bytes());
    out.push(0);
    out.extend_from_slice(&[2, 2, 0x4C, 0x01, 0]); // LZW: clear, one pixel, end
    out.push(0x3B);
    out
}

#[tokio::test]
async fn decompression_bombs_are_refused_by_their_declared_size() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let started = std::time::Instant::now();
    let bombs = [
        (png_bomb(100_000, 100_000), "bomb.png"),
        (png_bomb(10_001, 16), "wide.png"),
        (png_bomb(16, 10_001), "tall.png"),
        (gif_bomb(60_000, 60_000), "bomb.gif"),
    ];
    for (bytes, name) in &bombs {
        assert!(bytes.len() < 200, "{name} is {} bytes", bytes.len());
        refuse_both_ways(&s, "b", t, (bytes, name), 400, "image_too_large").await;
    }
    assert!(
        started.elapsed() < std::time::Duration::from_secs(10),
        "refusing {} bombs took {:?}: were they decoded?",
        bombs.len(),
        started.elapsed()
    );
    crate::validation::assert_alive(&s).await;
    assert!(s.stored_files().is_empty());
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;
}

const LIMITS: &str = r#"
[[boards]]
slug = "l"
title = "Limits"
max_files = 2
allowed_types = ["png", "gif"]
max_file_bytes = 16384
max_post_bytes = 30000
max_image_width = 100
max_image_height = 80
keep_file_names = false
"#;

#[tokio::test]
async fn the_board_json_reports_its_upload_settings() {
    let s = Server::start().await;
    let board = s.get("/api/boards/b").await.json["board"].clone();
    for (field, value) in [
        ("max_files", json!(4)),
        ("require_file", json!(false)),
        ("allowed_types", json!(["jpeg", "png", "gif", "webp"])),
        ("max_file_bytes", json!(8_388_608)),
        ("max_post_bytes", json!(20_971_520)),
        ("max_image_width", json!(10_000)),
        ("max_image_height", json!(10_000)),
        ("keep_file_names", json!(true)),
    ] {
        assert_eq!(board[field], value, "{field} in {board}");
    }
    let s = Server::with_config(LIMITS).await;
    let board = s.get("/api/boards/l").await.json["board"].clone();
    for (field, value) in [
        ("max_files", json!(2)),
        ("allowed_types", json!(["png", "gif"])),
        ("max_file_bytes", json!(16384)),
        ("max_post_bytes", json!(30000)),
        ("max_image_width", json!(100)),
        ("max_image_height", json!(80)),
        ("keep_file_names", json!(false)),
    ] {
        assert_eq!(board[field], value, "{field} in {board}");
    }
}

#[tokio::test]
async fn the_boards_limits_refuse_files() {
    let s = Server::with_config(LIMITS).await;
    // Exactly at the size limit is fine.
    let (t, op) = upload(
        &s,
        &threads("l"),
        form(
            Some("at the limit"),
            vec![(png(100, 80, [1, 2, 3]), "edge.png")],
        ),
    )
    .await;
    check_file(&s, only_file(&op), "image/png", (100, 80), 250).await;
    assert_eq!(
        only_file(&op)["name"],
        Value::Null,
        "keep_file_names = false"
    );
    let before = s.stored_files();
    assert_eq!(before.len(), 2);

    for (bytes, name) in [
        (png(101, 80, [1, 2, 3]), "wide.png"),
        (png(100, 81, [1, 2, 3]), "tall.png"),
        (png(2000, 10, [1, 2, 3]), "banner.png"),
    ] {
        refuse_both_ways(&s, "l", t, (&bytes, name), 400, "image_too_large").await;
    }
    for (bytes, name) in [
        (jpeg(10, 10, [1, 2, 3]), "small.jpg"),
        (webp(10, 10, [1, 2, 3]), "small.webp"),
        (jpeg(10, 10, [1, 2, 3]), "lying.png"),
    ] {
        refuse_both_ways(&s, "l", t, (&bytes, name), 415, "file_type_not_allowed").await;
    }

    let big = png_noise(75, 75, 11);
    assert!(big.len() > 16384 && big.len() < 30000, "{}", big.len());
    refuse_both_ways(&s, "l", t, (&big, "big.png"), 413, "file_too_large").await;
    // One byte over the file limit is too much; exactly at it is taken (below).
    let seed = png_noise(60, 60, 12);
    let over = png_padded(&seed, 16385);
    refuse_both_ways(&s, "l", t, (&over, "over.png"), 413, "file_too_large").await;

    // Two files each under the file limit, together over the post limit.
    let (a, b) = (png_noise(71, 72, 21), png_noise(71, 72, 22));
    assert!(a.len() < 16384 && a.len() + b.len() > 30000, "{}", a.len());
    for path in [threads("l"), replies("l", t)] {
        let r = s
            .post_form(
                &path,
                form(
                    Some("two"),
                    vec![(a.clone(), "a.png"), (b.clone(), "b.png")],
                ),
            )
            .await;
        r.assert_error(413, "payload_too_large");
        assert_error_shape(&r);
        assert_files_settle(&s, &before, "payload_too_large");
    }

    let three = || {
        (0..3u8)
            .map(|i| (png(10, 10, [i, 2, 3]), "small.png"))
            .collect::<Vec<_>>()
    };
    for path in [threads("l"), replies("l", t)] {
        let r = s.post_form(&path, form(Some("three"), three())).await;
        refused(&r, 400, "too_many_files", Some("file"));
        assert_files_settle(&s, &before, "too_many_files");
    }

    // A whole post one byte over its limit, then exactly at it, each file under the file limit.
    let small_b = png_noise(50, 50, 23);
    let post_of =
        |b: &[u8]| raw_multipart(&[("file", Some("a.png"), &a), ("file", Some("b.png"), b)]);
    let at_limit = png_padded(&small_b, small_b.len() + 30000 - post_of(&small_b).len());
    assert!(at_limit.len() <= 16384, "{}", at_limit.len());
    let over = png_padded(&small_b, at_limit.len() + 1);
    assert_eq!(post_of(&over).len(), 30001);
    let r = s
        .post_raw(&replies("l", t), Some(&multipart_type()), post_of(&over))
        .await;
    r.assert_error(413, "payload_too_large");
    assert_files_settle(&s, &before, "payload_too_large by one byte");

    // What remains allowed still works, and no refusal used a number.
    let small = |c: u8| (png(10, 10, [c, 9, 9]), "small.png");
    let r = s
        .post_form(&replies("l", t), form(None, vec![small(1), small(2)]))
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["no"], t + 1);
    let exact = png_padded(&seed, 16384);
    let (no, _) = upload(&s, &replies("l", t), form(None, vec![(exact, "exact.png")])).await;
    assert_eq!(no, t + 2, "a file of exactly max_file_bytes is taken");
    let r = s
        .post_raw(
            &replies("l", t),
            Some(&multipart_type()),
            post_of(&at_limit),
        )
        .await;
    assert_eq!(
        r.status, 201,
        "a post of exactly max_post_bytes is taken: {}",
        r.json
    );
    assert_eq!(r.json["no"], t + 3);
    let gif = gif_animated(100, 80, &[[9, 9, 9], [90, 90, 90]]);
    let r = s
        .post_form(&threads("l"), form(None, vec![(gif, "anim.gif")]))
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["no"], t + 4);
    assert_eq!(thread(&s, "l", t).await["replies"], 3);
    assert_eq!(s.stored_files().len(), 2 + 4 + 2 + 4 + 2);
    assert_tmp_empty(&s);
}

#[tokio::test]
async fn a_board_that_requires_a_file_refuses_threads_without_one() {
    let s =
        Server::with_config("[[boards]]\nslug = \"p\"\ntitle = \"Photos\"\nrequire_file = true\n")
            .await;
    let r = s.post(&threads("p"), json!({ "body": "no file" })).await;
    refused(&r, 400, "file_required", Some("file"));
    let r = s
        .post_form(&threads("p"), form(Some("no file"), vec![]))
        .await;
    refused(&r, 400, "file_required", Some("file"));
    let r = s
        .post_form(
            &threads("p"),
            Form::new().text("subject", "s").text("body", "text only"),
        )
        .await;
    refused(&r, 400, "file_required", Some("file"));

    let (t, _) = upload(
        &s,
        &threads("p"),
        form(None, vec![(png(30, 20, [5, 50, 150]), "one.png")]),
    )
    .await;
    assert_eq!(t, 1, "refusals used no number");
    // Replies need no file.
    assert_eq!(s.reply("p", t, json!({ "body": "text reply" })).await, 2);
    let (no, reply) = upload(&s, &replies("p", t), form(Some("multipart text"), vec![])).await;
    assert_eq!(no, 3);
    assert_eq!(reply.get("files"), None);
}

#[tokio::test]
async fn a_refused_post_leaves_none_of_its_files_behind() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let good = || (png(64, 64, [10, 200, 10]), "good.png");
    let good2 = || (webp(64, 64, [200, 10, 10]), "good.webp");

    // The good files come first, so they are processed before the post is refused.
    let cases: Vec<(Form, u16, &str, &str)> = vec![
        (
            form(
                Some("x"),
                vec![good(), (b"not an image".to_vec(), "bad.png")],
            ),
            415,
            "not_an_image",
            "file",
        ),
        (
            form(
                Some("x"),
                vec![good(), good2(), (png_bomb(50_000, 50_000), "bomb.png")],
            ),
            400,
            "image_too_large",
            "file",
        ),
        (
            form(None, vec![good(), good2()]).text("body", "long ".repeat(1000)),
            400,
            "too_long",
            "body",
        ),
        (
            form(None, vec![good()])
                .text("name", "bad\u{1b}name")
                .text("body", "x"),
            400,
            "control_characters",
            "name",
        ),
        (
            form(Some("x"), vec![good()]).text("sage", "maybe"),
            400,
            "invalid_type",
            "sage",
        ),
        (
            form(Some("x"), vec![good(), good2()]).text("spoiler", "2"),
            400,
            "invalid_type",
            "spoiler",
        ),
        (
            form(Some("x"), vec![good()]).text("options", "noko"),
            400,
            "unknown_field",
            "options",
        ),
    ];
    for (form, status, code, field) in cases {
        let r = s.post_form(&replies("b", t), form).await;
        refused(&r, status, code, Some(field));
        assert_files_settle(&s, &[], code);
    }
    let r = s
        .post_form(&replies("b", 999), form(Some("x"), vec![good()]))
        .await;
    r.assert_error(404, "thread_not_found");
    assert_files_settle(&s, &[], "thread_not_found");
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;

    // A reply to an archived thread is refused after its file was read.
    let s =
        Server::with_config("[[boards]]\nslug = \"a\"\ntitle = \"Archive\"\nthread_limit = 1\n")
            .await;
    let first = s.thread("a", "first").await;
    let second = s.thread("a", "pushes the first out").await;
    assert_eq!(thread(&s, "a", first).await["archived"], true);
    let r = s
        .post_form(&replies("a", first), form(Some("late"), vec![good()]))
        .await;
    r.assert_error(409, "thread_archived");
    assert_error_shape(&r);
    assert_files_settle(&s, &[], "thread_archived");
    assert_eq!(thread(&s, "a", first).await["replies"], 0);
    let (no, _) = upload(&s, &replies("a", second), form(None, vec![good()])).await;
    assert_eq!(no, second + 1, "the refused reply used a number");
    assert_eq!(s.stored_files().len(), 2);
    assert_tmp_empty(&s);
}

#[tokio::test]
async fn a_refused_post_never_takes_away_a_file_an_accepted_post_uses() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let path = replies("b", t);
    let mut accepted = Vec::new();
    // Each round, a post that will be refused and one that will be accepted carry the same
    // picture at nearly the same time; the refused one must not remove what the other uses.
    for round in 0..12u32 {
        let bytes = png(64 + round, 48, [200, 60, 10]);
        let mut bad = b"not an image: ".to_vec();
        bad.extend(noise(65536, round + 1));
        let refused_post = s.post_form(
            &path,
            form(
                Some("refused"),
                vec![(bytes.clone(), "same.png"), (bad, "bad.png")],
            ),
        );
        let accepted_post = async {
            let delay = std::time::Duration::from_micros(u64::from(round % 6) * 800);
            tokio::time::sleep(delay).await;
            s.post_form(
                &path,
                form(Some("accepted"), vec![(bytes.clone(), "same.png")]),
            )
            .await
        };
        let (r, a) = tokio::join!(refused_post, accepted_post);
        refused(&r, 415, "not_an_image", Some("file"));
        assert_eq!(a.status, 201, "round {round}: {}", a.json);
        accepted.push(a.json["no"].as_u64().unwrap());
    }
    let mut sorted = accepted.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, (t + 1..=t + 12).collect::<Vec<u64>>());
    let mut expected = Vec::new();
    let mut urls = Vec::new();
    for no in accepted {
        let file = only_file(&post(&s, "b", no).await).clone();
        for key in ["url", "thumb_url"] {
            let url = file[key].as_str().unwrap().to_owned();
            expected.push(s.data_dir().join(&url[1..]));
            urls.push(url);
        }
    }
    expected.sort();
    assert_files_settle(&s, &expected, "after the races");
    for url in urls {
        let (status, _, _) = s.get_bytes(&url, &[]).await;
        assert_eq!(status, 200, "{url} of an accepted post is gone");
    }
}

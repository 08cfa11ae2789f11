//! File bans: refusals first, then a banned photo refused as it is and as a resized,
//! recompressed or converted copy, an unrelated photo accepted, scopes, lifting, and a ban that
//! deletes every post carrying the file.

use std::io::Cursor;

use image::codecs::jpeg::JpegEncoder;
use image::imageops::FilterType;

use super::*;

const SHA: &str = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

/// Every file ban route, with a body the right caller could send.
fn routes() -> Vec<(Method, String, Value)> {
    let ban = json!({ "sha256": SHA });
    vec![
        (Method::GET, "/api/boards/t/file-bans".into(), Value::Null),
        (Method::POST, "/api/boards/t/file-bans".into(), ban.clone()),
        (
            Method::DELETE,
            format!("/api/boards/t/file-bans/{SHA}"),
            Value::Null,
        ),
        (Method::GET, "/api/file-bans".into(), Value::Null),
        (Method::POST, "/api/file-bans".into(), ban),
        (Method::DELETE, format!("/api/file-bans/{SHA}"), Value::Null),
    ]
}

#[tokio::test]
async fn file_ban_routes_refuse_wrong_callers_and_bad_input() {
    let s = Server::with_config(&config()).await;
    let root = admin(&s).await;
    let user = Session::signup(&s, "plain", crate::session::PASSWORD).await;
    let other_mod = staff(&s, &root, "umod", "board_mod", &["u"]).await;
    let t_mod = staff(&s, &root, "tmod", "board_mod", &["t"]).await;
    for (method, path, body) in routes() {
        let r = send(&s, None, &method, &path, &body).await;
        r.assert_error(403, "not_logged_in");
        for who in [&user, &other_mod] {
            let r = send(&s, Some(who), &method, &path, &body).await;
            r.assert_error(403, "forbidden");
        }
        // A board moderator manages their board's bans, never the global ones.
        if !path.starts_with("/api/boards/") {
            send(&s, Some(&t_mod), &method, &path, &body)
                .await
                .assert_error(403, "forbidden");
        }
    }
    let bad: &[(Value, u16, &str, &str)] = &[
        (json!({}), 400, "missing_field", "sha256"),
        (json!({ "sha256": "abc" }), 400, "invalid_value", "sha256"),
        (
            json!({ "sha256": SHA.to_uppercase() }),
            400,
            "invalid_value",
            "sha256",
        ),
        (json!({ "sha256": 5 }), 400, "invalid_type", "sha256"),
        (
            json!({ "sha256": SHA, "global": true }),
            400,
            "unknown_field",
            "global",
        ),
        (
            json!({ "sha256": SHA, "reason": "x".repeat(501) }),
            400,
            "too_long",
            "reason",
        ),
        (
            json!({ "sha256": SHA, "delete_posts": "yes" }),
            400,
            "invalid_type",
            "delete_posts",
        ),
        (
            json!({ "sha256": SHA, "exact": 1 }),
            400,
            "invalid_type",
            "exact",
        ),
    ];
    for (body, status, code, field) in bad {
        let r = t_mod
            .post(&s, "/api/boards/t/file-bans", body.clone())
            .await;
        r.assert_error(*status, code);
        assert_eq!(r.field(), *field, "{body}");
    }
    root.post(&s, "/api/boards/nope/file-bans", json!({ "sha256": SHA }))
        .await
        .assert_error(404, "board_not_found");
    t_mod
        .delete(&s, &format!("/api/boards/t/file-bans/{SHA}"))
        .await
        .assert_error(404, "file_ban_not_found");
    t_mod
        .delete(&s, "/api/boards/t/file-bans/xyz")
        .await
        .assert_error(400, "invalid_value");
    t_mod
        .get(&s, "/api/boards/t/file-bans?after=zz")
        .await
        .assert_error(400, "invalid_value");
    // Nothing refused was written.
    let r = root.get(&s, "/api/file-bans").await;
    assert_eq!(r.json, json!({ "file_bans": [], "next": null }));
    let r = t_mod.get(&s, "/api/boards/t/file-bans").await;
    assert_eq!(r.json["file_bans"], json!([]));
}

/// `bytes` decoded, resized to `scale` of its size and saved as JPEG at `quality`.
fn resized_jpeg(bytes: &[u8], scale: f32, quality: u8) -> Vec<u8> {
    let img = image::load_from_memory(bytes).unwrap();
    let (w, h) = (img.width() as f32 * scale, img.height() as f32 * scale);
    let small = img.resize_exact(w as u32, h as u32, FilterType::Triangle);
    let mut out = Vec::new();
    JpegEncoder::new_with_quality(&mut out, quality)
        .encode_image(&small.to_rgb8())
        .unwrap();
    out
}

fn png_of(bytes: &[u8], scale: f32) -> Vec<u8> {
    let img = image::load_from_memory(bytes).unwrap();
    let (w, h) = (img.width() as f32 * scale, img.height() as f32 * scale);
    let small = img.resize_exact(w as u32, h as u32, FilterType::Triangle);
    let mut out = Cursor::new(Vec::new());
    small
        .to_rgb8()
        .write_to(&mut out, image::ImageFormat::Png)
        .unwrap();
    out.into_inner()
}

async fn post_file(s: &Server, board: &str, bytes: Vec<u8>, name: &str) -> Reply {
    s.post_form(&threads(board), form(Some("pic"), vec![(bytes, name)]))
        .await
}

#[tokio::test]
async fn a_banned_photo_is_refused_as_it_is_and_resized_or_recompressed() {
    let s = Server::with_config(&config()).await;
    let root = admin(&s).await;
    let t_mod = staff(&s, &root, "tmod", "board_mod", &["t"]).await;
    let cups = fixture("cups-2560x1600.jpg");
    let r = post_file(&s, "t", cups.clone(), "cups.jpg").await;
    assert_eq!(r.status, 201, "{}", r.json);
    let op = r.json["no"].as_u64().unwrap();
    let sha = only_file(&post(&s, "t", op).await)["sha256"]
        .as_str()
        .unwrap()
        .to_owned();

    let r = t_mod
        .post(
            &s,
            "/api/boards/t/file-bans",
            json!({ "sha256": sha, "reason": "Reposted spam", "note": "seen on /u/ too" }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(
        r.header("location"),
        format!("/api/boards/t/file-bans/{sha}")
    );
    let ban = &r.json["file_ban"];
    assert_eq!(ban["board"], "t");
    assert_eq!(ban["reason"], "Reposted spam");
    assert_eq!(ban["actor"], "tmod");
    assert!(
        ban["dhash"].as_str().is_some_and(|h| h.len() == 16),
        "{ban}"
    );
    assert_eq!(
        (r.json["deleted"].as_u64(), r.json["more"].as_bool()),
        (Some(0), Some(false))
    );
    // Without `delete_posts` the post stays.
    assert_eq!(
        s.get(&format!("/api/boards/t/posts/{op}")).await.status,
        200
    );

    let files_before = s.stored_files();
    let last_no = root.get(&s, "/api/admin/boards/t").await.json["board"]["last_no"].clone();
    let variants: Vec<(&str, Vec<u8>, &str)> = vec![
        ("the same file", cups.clone(), "cups.jpg"),
        (
            "resized to half, JPEG 80",
            resized_jpeg(&cups, 0.5, 80),
            "half.jpg",
        ),
        (
            "resized to a fifth, JPEG 40",
            resized_jpeg(&cups, 0.2, 40),
            "small.jpg",
        ),
        ("converted to PNG", png_of(&cups, 0.25), "cups.png"),
    ];
    for (what, bytes, name) in variants {
        let r = post_file(&s, "t", bytes, name).await;
        r.assert_error(403, "file_banned");
        assert_eq!(r.field(), "file", "{what}");
        assert!(
            r.json["error"]["message"]
                .as_str()
                .unwrap()
                .contains("Reposted spam"),
            "{what}: {}",
            r.json
        );
    }
    // A refused upload leaves nothing on disk and takes no post number.
    assert_eq!(s.stored_files(), files_before);
    let now = root.get(&s, "/api/admin/boards/t").await.json["board"]["last_no"].clone();
    assert_eq!(now, last_no);

    // An unrelated photo is accepted, and the ban is /t/'s only.
    let r = post_file(&s, "t", fixture("autumn-2560x1600.jpg"), "autumn.jpg").await;
    assert_eq!(r.status, 201, "{}", r.json);
    let r = post_file(&s, "u", resized_jpeg(&cups, 0.5, 80), "half.jpg").await;
    assert_eq!(r.status, 201, "{}", r.json);

    // Listed, logged with its public reason and private note, and lifted.
    let r = t_mod.get(&s, "/api/boards/t/file-bans").await;
    assert_eq!(r.json["file_bans"][0]["sha256"], sha.as_str());
    assert_eq!(r.json["next"], Value::Null);
    let log = board_log(&s, &root, "t").await;
    assert_eq!(log[0]["action"], "file_ban");
    assert_eq!(log[0]["actor"], "tmod");
    assert_eq!(log[0]["reason"], "Reposted spam");
    assert_eq!(log[0]["note"], "seen on /u/ too");
    let r = t_mod
        .delete(&s, &format!("/api/boards/t/file-bans/{sha}"))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json, json!({ "lifted": sha }));
    assert_eq!(board_log(&s, &root, "t").await[0]["action"], "file_unban");
    let r = post_file(&s, "t", resized_jpeg(&cups, 0.5, 80), "half.jpg").await;
    assert_eq!(r.status, 201, "lifted: {}", r.json);
}

#[tokio::test]
async fn an_exact_ban_refuses_the_file_but_not_its_resized_copies_until_banned_again() {
    let s = Server::with_config(&config()).await;
    let root = admin(&s).await;
    let t_mod = staff(&s, &root, "tmod", "board_mod", &["t"]).await;
    let cups = fixture("cups-2560x1600.jpg");
    let r = post_file(&s, "t", cups.clone(), "cups.jpg").await;
    assert_eq!(r.status, 201, "{}", r.json);
    let op = r.json["no"].as_u64().unwrap();
    let sha = only_file(&post(&s, "t", op).await)["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    let ban = |exact: bool| json!({ "sha256": sha, "exact": exact, "reason": "spam" });
    let r = t_mod.post(&s, "/api/boards/t/file-bans", ban(true)).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["file_ban"]["dhash"], Value::Null);
    post_file(&s, "t", cups.clone(), "cups.jpg")
        .await
        .assert_error(403, "file_banned");
    let r = post_file(&s, "t", resized_jpeg(&cups, 0.5, 80), "half.jpg").await;
    assert_eq!(
        r.status, 201,
        "an exact ban lets a copy through: {}",
        r.json
    );

    // Banned again without `exact`, near-duplicates are refused too; `exact` drops them again.
    let r = t_mod.post(&s, "/api/boards/t/file-bans", ban(false)).await;
    assert!(r.json["file_ban"]["dhash"].is_string(), "{}", r.json);
    post_file(&s, "t", resized_jpeg(&cups, 0.4, 70), "small.jpg")
        .await
        .assert_error(403, "file_banned");
    let r = t_mod.post(&s, "/api/boards/t/file-bans", ban(true)).await;
    assert_eq!(r.json["file_ban"]["dhash"], Value::Null);
    let r = post_file(&s, "t", resized_jpeg(&cups, 0.4, 70), "small.jpg").await;
    assert_eq!(r.status, 201, "{}", r.json);
}

#[tokio::test]
async fn a_global_ban_with_its_posts_deletes_every_post_carrying_the_file() {
    let s = Server::with_config(&config()).await;
    let root = admin(&s).await;
    let global = staff(&s, &root, "gmod", "global_mod", &[]).await;
    let cups = fixture("cups-2560x1600.jpg");
    let r = post_file(&s, "t", cups.clone(), "cups.jpg").await;
    let op = r.json["no"].as_u64().unwrap();
    let sha = only_file(&post(&s, "t", op).await)["sha256"]
        .as_str()
        .unwrap()
        .to_owned();
    let keep = s.thread("t", "no file here").await;
    let reply_path = format!("/api/boards/t/threads/{keep}/posts");
    let r = s
        .post_form(
            &reply_path,
            form(Some("again"), vec![(cups.clone(), "c.jpg")]),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let reply = r.json["no"].as_u64().unwrap();
    let r = post_file(&s, "u", cups.clone(), "cups.jpg").await;
    let on_u = r.json["no"].as_u64().unwrap();
    assert!(!s.stored_files().is_empty());

    let r = global
        .post(
            &s,
            "/api/file-bans",
            json!({ "sha256": sha, "delete_posts": true, "reason": "illegal" }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["file_ban"]["board"], Value::Null);
    assert_eq!(
        (r.json["deleted"].as_u64(), r.json["more"].as_bool()),
        (Some(3), Some(false))
    );
    // The OP took its thread along; the reply went alone; the thread without the file stays.
    s.get(&format!("/api/boards/t/threads/{op}"))
        .await
        .assert_error(410, "thread_deleted");
    s.get(&format!("/api/boards/t/posts/{reply}"))
        .await
        .assert_error(410, "post_deleted");
    s.get(&format!("/api/boards/u/posts/{on_u}"))
        .await
        .assert_error(410, "post_deleted");
    assert_eq!(
        s.get(&format!("/api/boards/t/threads/{keep}")).await.status,
        200
    );
    // No post carries the file any more: it is gone from disk.
    assert_eq!(s.stored_files(), Vec::<std::path::PathBuf>::new());
    // Refused everywhere now.
    post_file(&s, "u", cups, "cups.jpg")
        .await
        .assert_error(403, "file_banned");
    let r = global.get(&s, "/api/file-bans").await;
    assert_eq!(r.json["file_bans"].as_array().unwrap().len(), 1);
    // A board moderator's list of /t/ does not hold the global ban.
    let r = root.get(&s, "/api/boards/t/file-bans").await;
    assert_eq!(r.json["file_bans"], json!([]));
}

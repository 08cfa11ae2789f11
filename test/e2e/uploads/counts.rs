//! Posts with files in threads: file-only posts, image counts on every listing, the same bytes
//! stored once, and many uploads at once.

use super::*;

#[tokio::test]
async fn file_only_posts_and_image_counts() {
    let s = Server::start().await;
    // A thread whose OP is only a picture.
    let (t, op) = upload(
        &s,
        &threads("b"),
        form(None, vec![(png(50, 40, [250, 250, 0]), "op.png")]),
    )
    .await;
    assert_eq!(op["files"].as_array().unwrap().len(), 1);
    assert!(op["body"].is_null() || op["body"] == "", "{op}");
    // An empty body with a file is a file-only post too.
    let (_, p) = upload(
        &s,
        &replies("b", t),
        form(Some(""), vec![(png(50, 40, [0, 0, 250]), "r0.png")]),
    )
    .await;
    assert_eq!(p["files"].as_array().unwrap().len(), 1);
    let mut reply_numbers = vec![p["no"].as_u64().unwrap()];
    // Six more, with text and two pictures in one.
    for i in 1..7u8 {
        let mut files = vec![(png(50, 40, [i * 30, 100, 100]), "r.png")];
        if i == 1 {
            files.push((png(50, 40, [i * 30, 200, 200]), "second.png"));
        }
        let (no, p) = upload(
            &s,
            &replies("b", t),
            form(Some(&format!("reply {i}")), files),
        )
        .await;
        assert_eq!(p["body"], format!("reply {i}"));
        reply_numbers.push(no);
    }
    let text = s.reply("b", t, json!({ "body": "text only" })).await;
    reply_numbers.push(text);
    // 8 replies: 7 with one file, one of them with a second, and one text reply.
    let th = thread(&s, "b", t).await;
    assert_eq!(th["replies"], 8);
    assert_eq!(th["images"], 8, "the OP's file is not counted");
    let files_per_post: Vec<usize> = th["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p.get("files").map_or(0, |f| f.as_array().unwrap().len()))
        .collect();
    assert_eq!(files_per_post, [1, 1, 2, 1, 1, 1, 1, 1, 0]);

    let catalog = s.get("/api/boards/b/catalog").await.json;
    let entry = &catalog["threads"][0];
    assert_eq!(entry["no"], t);
    assert_eq!(entry["images"], 8);
    assert_eq!(entry["replies"], 8);
    assert_eq!(
        entry["files"], op["files"],
        "catalog entries carry the OP's files"
    );

    let index = s.get("/api/boards/b/index").await.json;
    let entry = &index["threads"][0];
    assert_eq!(entry["no"], t);
    assert_eq!(entry["images"], 8);
    assert_eq!(entry["files"], op["files"]);
    let shown: Vec<u64> = entry["posts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["no"].as_u64().unwrap())
        .collect();
    assert_eq!(shown[0], t);
    assert_eq!(&shown[1..], &reply_numbers[3..]);
    assert_eq!(entry["posts"][0]["files"], op["files"]);
    assert_eq!(entry["omitted_posts"], 3);
    // Not shown: the first three replies, holding 1 + 2 + 1 files.
    assert_eq!(entry["omitted_images"], 4);
    // Every listed file is served.
    for p in th["posts"].as_array().unwrap() {
        for f in p.get("files").map_or(&[][..], |f| f.as_array().unwrap()) {
            let (status, _, _) = s.get_bytes(f["thumb_url"].as_str().unwrap(), &[]).await;
            assert_eq!(status, 200, "{f}");
        }
    }
}

#[tokio::test]
async fn the_same_bytes_are_stored_once() {
    let s = Server::start().await;
    let bytes = jpeg(320, 200, [180, 120, 60]);
    let (t, op) = upload(
        &s,
        &threads("b"),
        form(Some("first"), vec![(bytes.clone(), "first.jpg")]),
    )
    .await;
    let (_, reply) = upload(
        &s,
        &replies("b", t),
        form(Some("again"), vec![(bytes.clone(), "renamed.jpg")]),
    )
    .await;
    let (a, b) = (only_file(&op), only_file(&reply));
    for field in [
        "sha256",
        "md5",
        "url",
        "thumb_url",
        "size",
        "width",
        "height",
    ] {
        assert_eq!(a[field], b[field], "{field}");
    }
    assert_eq!(a["name"], "first.jpg");
    assert_eq!(b["name"], "renamed.jpg", "each post keeps its own name");
    assert_eq!(s.stored_files().len(), 2, "{:?}", s.stored_files());

    // Twice in one post: two entries, still one stored file.
    let (_, both) = upload(
        &s,
        &replies("b", t),
        form(
            None,
            vec![(bytes.clone(), "x.jpg"), (bytes.clone(), "y.jpg")],
        ),
    )
    .await;
    let files = both["files"].as_array().unwrap();
    assert_eq!(files.len(), 2);
    assert_eq!(files[0]["sha256"], a["sha256"]);
    assert_eq!(files[1]["sha256"], a["sha256"]);
    assert_eq!(s.stored_files().len(), 2);
    check_file(&s, &files[1], "image/jpeg", (320, 200), 250).await;
    assert_eq!(thread(&s, "b", t).await["images"], 3);
    assert_tmp_empty(&s);
}

#[tokio::test]
async fn concurrent_uploads_all_land() {
    let s = Server::start().await;
    let t = s.thread("b", "busy thread").await;
    let mut tasks = Vec::new();
    for i in 0..16u32 {
        let (client, url) = (s.client.clone(), s.url(&replies("b", t)));
        let bytes = png(
            40 + i * 7,
            30 + i * 5,
            [(i * 15) as u8, 255 - (i * 15) as u8, 90],
        );
        tasks.push(tokio::spawn(async move {
            let form = form(Some(&format!("upload {i}")), vec![(bytes, "p.png")]);
            let r = client.post(url).multipart(form).send().await.unwrap();
            assert_eq!(r.status(), 201);
            let json: Value = r.json().await.unwrap();
            (i, json["no"].as_u64().unwrap())
        }));
    }
    let mut numbers = Vec::new();
    for task in tasks {
        numbers.push(task.await.unwrap());
    }
    let mut sorted: Vec<u64> = numbers.iter().map(|(_, no)| *no).collect();
    sorted.sort_unstable();
    assert_eq!(sorted, (t + 1..=t + 16).collect::<Vec<u64>>());
    for (i, no) in numbers {
        let p = post(&s, "b", no).await;
        assert_eq!(p["body"], format!("upload {i}"));
        check_file(
            &s,
            only_file(&p),
            "image/png",
            (40 + i * 7, 30 + i * 5),
            250,
        )
        .await;
    }
    let th = thread(&s, "b", t).await;
    assert_eq!((&th["replies"], &th["images"]), (&json!(16), &json!(16)));
    assert_eq!(s.stored_files().len(), 32, "16 originals and 16 thumbnails");
    assert_tmp_empty(&s);
}

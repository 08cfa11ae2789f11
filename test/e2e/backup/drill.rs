//! The restore drill: a server with threads, replies and files is snapshotted, its data
//! directory wiped, and `wani restore` brings every board, thread, post, number and file back.

use super::*;

/// Everything a reader can see: boards, and for every thread its full JSON, and every file's
/// bytes by URL.
async fn everything(s: &Server) -> (Value, Vec<Value>, Vec<(String, Vec<u8>)>) {
    let boards = s.get("/api/boards").await.json;
    let catalog = s.get("/api/boards/t/catalog").await.json;
    let mut threads = Vec::new();
    let mut files = Vec::new();
    for thread in catalog["threads"].as_array().unwrap() {
        let no = thread["no"].as_u64().unwrap();
        let r = s.get(&format!("/api/boards/t/threads/{no}")).await;
        assert_eq!(r.status, 200);
        for post in r.json["thread"]["posts"].as_array().unwrap() {
            // A post without files leaves `files` out.
            for file in post["files"].as_array().into_iter().flatten() {
                for url in [&file["url"], &file["thumb_url"]] {
                    let url = url.as_str().unwrap().to_owned();
                    let (status, _, bytes) = s.get_bytes(&url, &[]).await;
                    assert_eq!(status, 200, "{url}");
                    files.push((url, bytes));
                }
            }
        }
        threads.push(r.json);
    }
    files.sort();
    (boards, threads, files)
}

#[tokio::test]
async fn restore_rebuilds_a_wiped_server_from_the_bucket() {
    let garage = Garage::start().await;
    let mut s = Server::with_config(&config(&garage, "d1/")).await;
    let posts = post_some(&s, 100..104).await;
    let (thread, _) = posts[0];
    s.reply(
        "t",
        thread,
        json!({ "name": "tripper#secret", "body": ">>1 quoted", "password": "pw123456" }),
    )
    .await;
    drained(&s).await;
    let before = everything(&s).await;
    assert_eq!(before.1.len(), 4);
    assert_eq!(before.2.len(), 10, "five files, each with a thumbnail");

    // `wani backup` asks the running server and waits for the upload.
    let (code, out, err) = wani(&s, &["backup"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("snapshot uploaded"), "{out}");
    let state = backup_state(&s).await;
    assert!(state["last_snapshot"].is_string(), "{state}");
    let keys = garage.keys("d1/snapshots/").await;
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert!(garage
        .keys("d1/")
        .await
        .contains(&"d1/secret.key".to_owned()));

    let (code, out, err) = wani(&s, &["backup", "--verify"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("restores to the counts"), "{out}");

    // The disk dies.
    s.stop();
    let data = s.data_dir();
    std::fs::remove_dir_all(&data).unwrap();

    let (code, out, err) = wani(&s, &["restore"]);
    assert_eq!(code, Some(0), "{out}{err}");
    assert!(out.contains("checksum verified"), "{out}");
    assert!(out.contains("10 files fetched"), "{out}");
    // A second restore into what is now a full directory is refused without --force.
    let (code, _, err) = wani(&s, &["restore"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("--force"), "{err}");

    s.restart();
    let after = everything(&s).await;
    assert_eq!(after.0, before.0, "boards");
    assert_eq!(after.1, before.1, "threads and posts");
    assert_eq!(after.2, before.2, "files, byte for byte");
    // Numbers continue where they stopped.
    let last = before
        .1
        .iter()
        .flat_map(|t| t["thread"]["posts"].as_array().unwrap().clone())
        .map(|p| p["no"].as_u64().unwrap())
        .max()
        .unwrap();
    let next = s.thread("t", "after the restore").await;
    assert_eq!(next, last + 1);
    // The secret came back: the same tripcode, and the deletion password still works.
    let no = s
        .reply(
            "t",
            thread,
            json!({ "name": "tripper#secret", "body": "again" }),
        )
        .await;
    let r = s.get(&format!("/api/boards/t/posts/{no}")).await;
    let old_trip = before.1[0..]
        .iter()
        .flat_map(|t| t["thread"]["posts"].as_array().unwrap().clone())
        .find(|p| p["name"] == "tripper")
        .map(|p| p["trip"].clone())
        .unwrap();
    assert_eq!(r.json["post"]["trip"], old_trip);
}

#[tokio::test]
async fn verify_reports_what_the_bucket_lacks() {
    let garage = Garage::start().await;
    let mut s = Server::with_config(&config(&garage, "d2/")).await;
    let (_, post) = thread_with_file(&s, 200).await;
    drained(&s).await;
    // No snapshot yet.
    let (code, out, err) = wani(&s, &["backup", "--verify"]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains("no snapshot"), "{out}");

    let (code, out, err) = wani(&s, &["backup"]);
    assert_eq!(code, Some(0), "{out}{err}");
    let first = garage.keys("d2/snapshots/").await;
    // Someone deletes an object from the bucket.
    let [original, _] = keys_of(&post, "d2/");
    garage
        .client()
        .delete_object()
        .bucket(garage.bucket())
        .key(&original)
        .send()
        .await
        .unwrap();
    let (code, out, err) = wani(&s, &["backup", "--verify"]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(
        out.contains(&format!("missing: {}", original.trim_start_matches("d2/"))),
        "{out}"
    );

    // With the server stopped, the commands work on the database directly.
    s.stop();
    let (code, out, err) = wani(&s, &["backup", "--verify"]);
    assert_eq!(code, Some(1), "{out}{err}");
    assert!(out.contains("missing: "), "{out}");
    let (code, out, err) = wani(&s, &["backup"]);
    assert_eq!(code, Some(0), "{out}{err}");
    // Retention keeps the newest snapshot of each hour: the new one replaced the first.
    let second = garage.keys("d2/snapshots/").await;
    assert_eq!(second.len(), 2, "{second:?}");
    assert_ne!(first, second);

    // Restoring over a stopped server's directory needs --force, and a named snapshot that
    // does not exist is refused.
    let (code, _, err) = wani(
        &s,
        &["restore", "--force", "--snapshot", "20000101T000000.000Z"],
    );
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("no snapshot"), "{err}");
}

#[tokio::test]
async fn snapshots_are_taken_on_the_configured_interval() {
    let garage = Garage::start().await;
    let config = format!(
        "{}\n[[boards]]\nslug = \"t\"\ntitle = \"Test\"\n",
        garage.s3_toml("d3/", "snapshot_interval = \"10s\"")
    );
    let s = Server::with_config(&config).await;
    s.thread("t", "before the first snapshot").await;
    // None at start; the first one interval after.
    assert!(garage.keys("d3/snapshots/").await.is_empty());
    let deadline = Instant::now() + Duration::from_secs(40);
    let state = loop {
        let state = backup_state(&s).await;
        if state["last_snapshot"].is_string() {
            break state;
        }
        assert!(Instant::now() < deadline, "no timed snapshot: {state}");
        tokio::time::sleep(Duration::from_millis(250)).await;
    };
    let name = state["last_snapshot"].as_str().unwrap();
    let manifest: Value =
        serde_json::from_slice(&garage.get(&format!("d3/snapshots/{name}.json")).await).unwrap();
    assert_eq!(manifest["counts"]["posts"], 1, "{manifest}");
    let health = s.get("/healthz").await.json;
    assert_eq!(
        manifest["schema_version"], health["schema_version"],
        "{manifest}"
    );
    assert_eq!(manifest["sha256"].as_str().unwrap().len(), 64);
    assert!(
        garage
            .keys("d3/snapshots/")
            .await
            .contains(&format!("d3/snapshots/{name}.redb.zst")),
        "the data goes with its manifest"
    );
}

//! Files reach the bucket after their post commits, survive an outage, go to `trash/` with
//! their last reference, and come back from the bucket when the disk lost them.

use super::*;

#[tokio::test]
async fn posted_files_appear_in_the_bucket_byte_for_byte() {
    let garage = Garage::start().await;
    let s = Server::with_config(&config(&garage, "m1/")).await;
    let (_, post) = thread_with_file(&s, 1).await;
    let state = drained(&s).await;
    assert_eq!(state["enabled"], true, "{state}");
    assert_eq!(state["last_error"], Value::Null, "{state}");
    assert!(state["objects_done"].as_u64().unwrap() >= 2, "{state}");

    let keys = garage.keys("m1/").await;
    for (key, url) in keys_of(&post, "m1/").iter().zip(["url", "thumb_url"]) {
        assert!(keys.contains(key), "{key} not in {keys:?}");
        let (status, _, served) = s
            .get_bytes(post["files"][0][url].as_str().unwrap(), &[])
            .await;
        assert_eq!(status, 200);
        assert_eq!(garage.get(key).await, served, "{key}");
    }
    // The same bytes again are stored, and uploaded, once.
    let again = form(None, vec![(png_noise(64, 48, 1), "again.png")]);
    upload(&s, &threads("t"), again).await;
    drained(&s).await;
    let files: Vec<String> = garage.keys("m1/files/").await.into_iter().collect();
    assert_eq!(files.len(), 1, "{files:?}");
}

#[tokio::test]
async fn posting_goes_on_while_s3_is_down_and_the_backlog_drains_after() {
    let mut garage = Garage::start().await;
    let s = Server::with_config(&config(&garage, "m2/")).await;
    drained(&s).await;
    garage.stop();

    let posts = post_some(&s, 10..13).await;
    // Three threads with one file each and a reply with one: four jobs wait.
    let deadline = Instant::now() + Duration::from_secs(30);
    let state = loop {
        let state = backup_state(&s).await;
        if state["backlog"] == 4 && state["last_error"].is_string() {
            break state;
        }
        assert!(Instant::now() < deadline, "{state}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(state["last_error_at"].is_u64(), "{state}");
    // The log is read by another thread: the line may follow the state by a moment.
    assert!(
        s.log_count("backup_upload_failed", 1).await >= 1,
        "the failure goes through notify"
    );
    // The config's secret never reaches the log.
    assert!(
        s.logs()
            .iter()
            .all(|l| !l.contains(garage.secret_access_key())),
        "a log line holds the secret"
    );

    // A restart while S3 is down keeps the queue: it is in the database.
    let mut s = s;
    s.stop();
    s.restart();
    assert_eq!(backup_state(&s).await["backlog"], 4);

    garage.restart().await;
    let state = drained(&s).await;
    assert_eq!(state["last_error"], Value::Null, "{state}");
    let keys = garage.keys("m2/").await;
    for (_, post) in &posts {
        for key in keys_of(post, "m2/") {
            assert!(keys.contains(&key), "{key} not in {keys:?}");
        }
    }
}

#[tokio::test]
async fn the_last_reference_going_moves_the_objects_to_trash() {
    let garage = Garage::start().await;
    let s = Server::with_config(&config(&garage, "m3/")).await;
    let (no, post) = thread_with_file(&s, 20).await;
    drained(&s).await;
    let r = s
        .post(
            &format!("/api/boards/t/posts/{no}/delete"),
            json!({ "password": "hunter22" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    drained(&s).await;
    let keys = garage.keys("m3/").await;
    for key in keys_of(&post, "m3/") {
        assert!(!keys.contains(&key), "{key} is still live: {keys:?}");
        let trashed = key.replacen("m3/", "m3/trash/", 1);
        assert!(keys.contains(&trashed), "{trashed} not in {keys:?}");
    }
}

#[tokio::test]
async fn a_file_lost_on_disk_is_read_back_from_the_bucket() {
    let garage = Garage::start().await;
    let s = Server::with_config(&config(&garage, "m4/")).await;
    let (_, post) = thread_with_file(&s, 30).await;
    drained(&s).await;
    let url = post["files"][0]["url"].as_str().unwrap().to_owned();
    let (_, _, before) = s.get_bytes(&url, &[]).await;
    // The disk loses the file.
    std::fs::remove_file(s.data_dir().join(url.trim_start_matches('/'))).unwrap();
    let (status, headers, after) = s.get_bytes(&url, &[]).await;
    assert_eq!(status, 200);
    assert_eq!(after, before);
    assert_eq!(headers["content-type"], "image/png");
    assert!(s.data_dir().join(url.trim_start_matches('/')).exists());
    // A file no post references is not fetched, even when its name looks right.
    let (status, _, _) = s
        .get_bytes(&format!("/files/00/00/{}.png", "0".repeat(64)), &[])
        .await;
    assert_eq!(status, 404);
}

#[tokio::test]
async fn files_stored_before_s3_was_configured_are_uploaded_when_it_is() {
    let garage = Garage::start().await;
    let mut s = Server::with_config("[[boards]]\nslug = \"t\"\ntitle = \"Test\"\n").await;
    let (_, post) = thread_with_file(&s, 40).await;
    s.stop();
    s.set_config(&config(&garage, "m5/"));
    s.restart();
    drained(&s).await;
    let keys = garage.keys("m5/").await;
    for key in keys_of(&post, "m5/") {
        assert!(keys.contains(&key), "{key} not in {keys:?}");
    }
}

#[tokio::test]
async fn the_bucket_expires_trash_after_30_days() {
    let garage = Garage::start().await;
    let s = Server::with_config(&config(&garage, "m6/")).await;
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let rules = garage
            .client()
            .get_bucket_lifecycle_configuration()
            .bucket(garage.bucket())
            .send()
            .await;
        if let Ok(rules) = rules {
            let rule = &rules.rules()[0];
            assert_eq!(rule.expiration().unwrap().days(), Some(30));
            break;
        }
        assert!(
            Instant::now() < deadline,
            "no lifecycle rule: {:?}",
            s.logs()
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

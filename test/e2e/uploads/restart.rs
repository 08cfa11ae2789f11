//! Stored files across restarts, and what an upload cut off by a crash leaves behind.

use std::time::{Duration, Instant};

use tokio::net::TcpStream;

use super::*;

#[tokio::test]
async fn files_survive_a_crash_and_a_cut_off_upload_leaves_no_temp_file() {
    let mut s = Server::start().await;
    let (t, op) = upload(
        &s,
        &threads("b"),
        form(
            Some("kept"),
            vec![(png(120, 90, [70, 20, 160]), "kept.png")],
        ),
    )
    .await;
    let kept = only_file(&op).clone();
    let (_, _, original) = s.get_bytes(kept["url"].as_str().unwrap(), &[]).await;

    // An upload that stops half way through its file, and stays open.
    let big = png_noise(400, 400, 5);
    let body = raw_multipart(&[("body", None, b"cut off"), ("file", Some("big.png"), &big)]);
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: localhost\r\nContent-Type: {}\r\nContent-Length: {}\r\n\r\n",
        replies("b", t),
        multipart_type(),
        body.len()
    );
    let stream = TcpStream::connect(s.addr).await.unwrap();
    assert!(crate::validation::write_all(&stream, head.as_bytes()).await);
    assert!(crate::validation::write_all(&stream, &body[..body.len() / 2]).await);
    let deadline = Instant::now() + EVENT_WAIT;
    while s.tmp_files().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the upload in flight is not streamed into tmp/"
        );
        tokio::time::sleep(Duration::from_millis(10)).await;
    }

    s.kill();
    drop(stream);
    assert!(!s.tmp_files().is_empty(), "the crash left a temp file");
    s.restart();
    assert_tmp_empty(&s);

    let (status, _, after) = s.get_bytes(kept["url"].as_str().unwrap(), &[]).await;
    assert_eq!(status, 200);
    assert_eq!(after, original);
    let (status, _, _) = s.get_bytes(kept["thumb_url"].as_str().unwrap(), &[]).await;
    assert_eq!(status, 200);
    assert_eq!(only_file(&post(&s, "b", t).await), &kept);
    // The cut-off reply never happened.
    let th = thread(&s, "b", t).await;
    assert_eq!((&th["replies"], &th["images"]), (&json!(0), &json!(0)));
    let (no, _) = upload(
        &s,
        &replies("b", t),
        form(None, vec![(png(10, 10, [1, 1, 1]), "after.png")]),
    )
    .await;
    assert_eq!(no, t + 1);
}

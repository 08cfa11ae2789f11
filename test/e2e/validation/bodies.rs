//! Oversize, chunked, stalled and lying request bodies.

use super::*;
// Oversize and lying bodies.

#[tokio::test]
async fn a_body_over_the_limit_is_refused_with_content_length() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    // Exactly at the limit is read (and the trailing spaces are valid JSON).
    let r = s
        .post_raw(
            &replies("b", t),
            Some("application/json"),
            padded_post("at the limit", LIMIT),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["no"], 2);
    // One byte more is refused, whatever it holds.
    let r = s
        .post_raw(
            &replies("b", t),
            Some("application/json"),
            padded_post("over", LIMIT + 1),
        )
        .await;
    refused(&r, 413, "payload_too_large", None);
    let r = s
        .post_raw(
            THREADS,
            Some("application/json"),
            padded_post("over", LIMIT + 1),
        )
        .await;
    refused(&r, 413, "payload_too_large", None);
    let r = s.post(THREADS, json!({ "body": "a".repeat(LIMIT) })).await;
    refused(&r, 413, "payload_too_large", None);
    assert_alive(&s).await;
    assert_unchanged(&s, "b", &[1], 1, &[1, 2]).await;
}

#[tokio::test]
async fn a_declared_huge_body_is_refused_before_it_is_sent() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    // The client announces 1 GB and waits for 100 Continue: the server answers 413 at once.
    let request = format!(
        "POST /api/boards/b/threads/{t}/posts HTTP/1.1\r\nHost: localhost\r\n\
         Content-Type: application/json\r\nContent-Length: 1000000000\r\n\
         Expect: 100-continue\r\nConnection: close\r\n\r\n"
    );
    let r = exchange(s.addr, request.as_bytes()).await;
    assert_eq!(r.status, Some(413), "{}", r.head);
    assert_eq!(r.code(), "payload_too_large");
    // A Content-Length that is not a number is refused by the HTTP layer, not trusted.
    let request = format!(
        "POST /api/boards/b/threads/{t}/posts HTTP/1.1\r\nHost: localhost\r\n\
         Content-Type: application/json\r\nContent-Length: 99999999999999999999999\r\n\
         Connection: close\r\n\r\n{{\"body\":\"x\"}}"
    );
    let r = exchange(s.addr, request.as_bytes()).await;
    assert!(
        r.status.is_none_or(|st| (400..500).contains(&st)),
        "{}",
        r.head
    );
    assert_alive(&s).await;
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;
}

#[tokio::test]
async fn a_chunked_body_over_the_limit_is_refused() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let path = replies("b", t);

    // Chunked bodies work: exactly at the limit is accepted.
    let r = exchange(
        s.addr,
        &chunked_post(&path, &padded_post("chunked", LIMIT), 16 * 1024),
    )
    .await;
    assert_eq!(r.status, Some(201), "{}", r.head);
    assert_eq!(r.json()["no"], 2);

    // One byte over, and far over, with big and with tiny chunks.
    for (len, chunk) in [
        (LIMIT + 1, 16 * 1024),
        (LIMIT * 4, 16 * 1024),
        (LIMIT + 1, 1000),
        (LIMIT * 2, LIMIT * 2),
    ] {
        let r = exchange(
            s.addr,
            &chunked_post(&path, &padded_post("over", len), chunk),
        )
        .await;
        assert_eq!(
            r.status,
            Some(413),
            "{len} bytes in chunks of {chunk}: {}",
            r.head
        );
        assert_eq!(r.code(), "payload_too_large");
        assert!(
            r.head
                .to_ascii_lowercase()
                .contains("content-type: application/json"),
            "{}",
            r.head
        );
        let r = exchange(
            s.addr,
            &chunked_post(THREADS, &padded_post("over", len), chunk),
        )
        .await;
        assert_eq!(
            r.status,
            Some(413),
            "{len} bytes in chunks of {chunk}: {}",
            r.head
        );
    }
    assert_alive(&s).await;
    assert_unchanged(&s, "b", &[1], 1, &[1, 2]).await;
}

#[tokio::test]
async fn a_content_length_that_lies_neither_hangs_nor_posts() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let head = format!(
        "POST /api/boards/b/threads/{t}/posts HTTP/1.1\r\nHost: localhost\r\n\
         Content-Type: application/json\r\nContent-Length: 10\r\n\r\n"
    );

    // Declares 10 bytes, sends 5, then shuts its side: a prompt 400, not a wait for the rest.
    let stream = TcpStream::connect(s.addr).await.unwrap();
    assert!(write_all(&stream, head.as_bytes()).await);
    assert!(write_all(&stream, br#"{"bod"#).await);
    // SAFETY: shutting down the write side of a socket this test owns.
    assert_eq!(
        unsafe { libc::shutdown(stream.as_raw_fd(), libc::SHUT_WR) },
        0
    );
    let r = tokio::time::timeout(Duration::from_secs(10), read_response(&stream))
        .await
        .expect("the server hung on a body shorter than its Content-Length");
    assert_eq!(r.status, Some(400), "{}", r.head);
    assert_eq!(r.code(), "invalid_json");
    drop(stream);

    // Declares 30 bytes, sends 18 that already make a whole post, and stalls.
    // Other clients are served meanwhile, and the stalled request posts nothing.
    let stalled = TcpStream::connect(s.addr).await.unwrap();
    let head = head.replace("Content-Length: 10", "Content-Length: 30");
    assert!(write_all(&stalled, head.as_bytes()).await);
    assert!(write_all(&stalled, br#"{"body":"stalled"}"#).await);
    assert_alive(&s).await;
    let no = s.reply("b", t, json!({ "body": "meanwhile" })).await;
    assert_eq!(no, 2);
    drop(stalled);

    // Declares 30 bytes, sends 4 and vanishes.
    let vanished = TcpStream::connect(s.addr).await.unwrap();
    assert!(write_all(&vanished, head.as_bytes()).await);
    assert!(write_all(&vanished, br#"{"bo"#).await);
    drop(vanished);

    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_alive(&s).await;
    assert_unchanged(&s, "b", &[1], 1, &[1, 2]).await;
}

//! Oversize request heads and garbage on the wire.

use super::*;

#[tokio::test]
async fn a_huge_header_is_refused_and_the_server_stays_up() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let head_of = |r: &RawResponse| r.head[..r.head.len().min(200)].to_owned();

    // Far over the bound, and more headers than the server keeps: 431 or a closed connection.
    let huge = "x".repeat(200 * 1024);
    let request = format!(
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: {huge}\r\nConnection: close\r\n\r\n"
    );
    let r = exchange(s.addr, request.as_bytes()).await;
    assert!(
        r.status.is_none_or(|st| st == 431),
        "200 KB header: {}",
        head_of(&r)
    );
    let mut many = String::from("GET /healthz HTTP/1.1\r\nHost: localhost\r\n");
    for i in 0..2000 {
        many.push_str(&format!("X-H{i}: {i}\r\n"));
    }
    many.push_str("Connection: close\r\n\r\n");
    let r = exchange(s.addr, many.as_bytes()).await;
    assert!(
        r.status.is_none_or(|st| st == 431),
        "2000 headers: {}",
        head_of(&r)
    );
    // Through a client library too: an error status or a dropped connection, never a success.
    let sent = s
        .client
        .get(s.url("/healthz"))
        .header("x-big", huge.as_str())
        .send()
        .await;
    if let Ok(resp) = sent {
        assert_eq!(resp.status().as_u16(), 431);
    }
    assert_alive(&s).await;

    // 100 KB: over the server's 64 KiB bound on request heads, so refused as well; and a
    // refused head must not let its request through.
    let big = "x".repeat(100 * 1024);
    let request = format!(
        "GET /healthz HTTP/1.1\r\nHost: localhost\r\nX-Big: {big}\r\nConnection: close\r\n\r\n"
    );
    let r = exchange(s.addr, request.as_bytes()).await;
    assert!(
        r.status.is_none_or(|st| st == 431),
        "a 100 KB header value was accepted past the 64 KiB head bound: {}",
        head_of(&r)
    );
    let request = format!(
        "POST /api/boards/b/threads/{t}/posts HTTP/1.1\r\nHost: localhost\r\nX-Big: {big}\r\n\
         Content-Type: application/json\r\nContent-Length: 12\r\nConnection: close\r\n\r\n{{\"body\":\"x\"}}"
    );
    let r = exchange(s.addr, request.as_bytes()).await;
    assert!(
        r.status.is_none_or(|st| st == 431),
        "a post with a 100 KB header value was accepted past the 64 KiB head bound: {}",
        head_of(&r)
    );

    assert_alive(&s).await;
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;
}

#[tokio::test]
async fn a_huge_url_is_refused_and_the_server_stays_up() {
    let s = Server::start().await;
    s.thread("b", "first").await;
    for path in [
        format!("/api/boards/b/threads/{}", "9".repeat(100 * 1024)),
        format!("/{}", "a/".repeat(50 * 1024)),
        format!("/api/boards/b/index?{}", "page=1&".repeat(15 * 1024)),
    ] {
        let request =
            format!("GET {path} HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
        let r = exchange(s.addr, request.as_bytes()).await;
        assert!(
            r.status.is_none_or(|st| st == 414 || st == 431),
            "{}",
            &r.head[..r.head.len().min(200)]
        );
        assert_alive(&s).await;
    }
    // Long but within what the server reads: ordinary JSON errors.
    let r = s
        .get(&format!("/api/boards/b/threads/{}", "9".repeat(10_000)))
        .await;
    refused(&r, 400, "invalid_path", Some("thread"));
    let r = s
        .get(&format!("/api/boards/{}/catalog", "b".repeat(10_000)))
        .await;
    refused(&r, 404, "board_not_found", None);
    let r = s
        .get(&format!("/api/boards/b/index?{}=1", "q".repeat(10_000)))
        .await;
    refused(&r, 400, "invalid_query", Some("q".repeat(10_000).as_str()));
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;
}

#[tokio::test]
async fn garbage_on_the_wire_does_not_bring_the_server_down() {
    let s = Server::start().await;
    let t = s.thread("b", "first").await;
    let body = r#"{"body":"smuggled"}"#;
    let requests = [
        "GARBAGE\r\n\r\n".to_owned(),
        "\0\0\0\0\r\n\r\n".to_owned(),
        "GET\r\n\r\n".to_owned(),
        "GET /healthz HTTP/9.9\r\nHost: x\r\n\r\n".to_owned(),
        "GET /healthz HTTP/1.1\r\nBad Header Name: x\r\n\r\n".to_owned(),
        format!(
            "POST /api/boards/b/threads/{t}/posts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Content-Length: {}\r\nContent-Length: 3\r\nConnection: close\r\n\r\n{body}",
            body.len()
        ),
        format!(
            "POST /api/boards/b/threads/{t}/posts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\nConnection: close\r\n\r\n{:x}\r\n{body}\r\n0\r\n\r\n",
            body.len()
        ),
        format!(
            "POST /api/boards/b/threads/{t}/posts HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n\
             Transfer-Encoding: chunked\r\nConnection: close\r\n\r\nzz\r\n{body}\r\n0\r\n\r\n"
        ),
    ];
    for request in &requests {
        let r = exchange(s.addr, request.as_bytes()).await;
        assert!(
            r.status
                .is_none_or(|st| (400..500).contains(&st) || st == 505),
            "{request:?} → {}",
            r.head
        );
        assert_alive(&s).await;
    }
    assert_unchanged(&s, "b", &[1], 1, &[1]).await;
}

//! Many subscribers and posters at once, a subscriber that stops reading, and shutdown with
//! streams open.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_subscribers_each_get_a_burst_from_eight_posters() {
    const SUBSCRIBERS: usize = 200;
    const POSTS: usize = 50;
    let s = Arc::new(Server::start().await);
    let t = s.thread("b", "op").await;
    // Every stream is open before any starts waiting: each event's wait is bounded, and opening
    // 200 streams on a busy machine can take longer than that bound.
    let mut streams = Vec::new();
    for i in 0..SUBSCRIBERS {
        let query = if i % 2 == 0 {
            "board=b".to_owned()
        } else {
            format!("board=b&thread={t}")
        };
        streams.push(Live::open(&s, &query).await);
    }
    let mut readers: Vec<_> = streams
        .into_iter()
        .map(|mut live| tokio::spawn(async move { live.take(POSTS).await }))
        .collect();
    // One more reads each post the moment its event arrives.
    let checker = {
        let (s, mut live) = (s.clone(), Live::open(&s, "board=b").await);
        tokio::spawn(async move {
            for _ in 0..POSTS {
                let e = live.next().await;
                let r = s.get(&format!("/api/boards/b/posts/{}", e.no())).await;
                assert_eq!(
                    r.status,
                    200,
                    "post {} right after its event: {}",
                    e.no(),
                    r.json
                );
                assert_eq!(r.json["post"], *e.post());
            }
        })
    };
    let bodies = (0..POSTS).map(|i| format!("post {i}")).collect();
    let numbers = burst(&s, "b", t, bodies, 8).await;
    let first = readers.remove(0).await.unwrap();
    assert_burst(&first, "b", t, &numbers);
    for reader in readers {
        assert_eq!(
            reader.await.unwrap(),
            first,
            "every subscriber saw the same"
        );
    }
    checker.await.unwrap();
}

/// Bytes the socket buffers between the server and a client that does not read can hold:
/// the server's send buffer at its largest, the client's receive buffer as it starts (it grows
/// only as the client reads), and 2 MiB for both ends' HTTP buffers.
fn socket_buffers() -> usize {
    let field = |path: &str, i: usize| -> usize {
        std::fs::read_to_string(path)
            .ok()
            .and_then(|v| v.split_whitespace().nth(i)?.parse().ok())
            .unwrap_or(8 << 20)
    };
    field("/proc/sys/net/ipv4/tcp_wmem", 2) + field("/proc/sys/net/ipv4/tcp_rmem", 1) + (2 << 20)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_stops_reading_still_gets_every_event() {
    /// A subscriber's mailbox holds 1024 events; this many more than it, and large, cannot all
    /// wait in socket buffers either, so the stream must fall behind and replay from the
    /// database.
    const POSTS: usize = 5000;
    const MAILBOX: usize = 1024;
    // One thread takes them all: the board's reply cap is raised to fit. The burst can outlast
    // the default write timeout, which would (rightly) drop a reader that stalls that long; this
    // test is about falling behind the channel, so it waits longer.
    let config = "write_timeout_secs = 600
[[boards]]
slug = \"b\"
title = \"Random\"
max_replies = 10000
";
    let s = Arc::new(Server::with_config(config).await);
    let t = s.thread("b", "a flood").await;
    let mut slow = Live::open(&s, "board=b").await;
    let mut fast = Live::open(&s, "board=b").await;
    let reading = tokio::spawn(async move { fast.take(POSTS).await });

    let started = Instant::now();
    // `"` is 2 bytes in JSON and `&quot;` in the html: about 8 KB per event. The leading `>`
    // makes it greentext, so the event carries the html (a body without markup has none).
    let bodies = (0..POSTS)
        .map(|i| format!(">{i} {}", "\"".repeat(1000)))
        .collect();
    let numbers = burst(&s, "b", t, bodies, 32).await;
    let posted = started.elapsed();

    let events = slow.take(POSTS).await;
    assert_burst(&events, "b", t, &numbers);
    let held: usize = events[..POSTS - MAILBOX].iter().map(|e| e.size).sum();
    assert!(
        held > socket_buffers(),
        "the events beyond the mailbox ({held} bytes) fit in socket buffers: not a lag"
    );
    assert_eq!(reading.await.unwrap(), events);
    let live = s.reply("b", t, json!({ "body": "caught up" })).await;
    let e = slow.next().await;
    assert_eq!(
        (e.key(), e.id),
        (("post".into(), live), events[POSTS - 1].id + 1)
    );
    eprintln!(
        "{POSTS} posts in {posted:?}; the slow subscriber caught up after {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_open_streams() {
    let s = Server::start().await;
    let t = s.thread("b", "op").await;
    let mut board = Live::open(&s, "board=b").await;
    let mut thread = Live::open(&s, &format!("board=b&thread={t}")).await;
    let mut idle = Live::open(&s, "board=b").await;
    let reply = s.reply("b", t, json!({ "body": "flowing" })).await;
    assert_eq!(board.next().await.no(), reply);
    assert_eq!(thread.next().await.no(), reply);

    let started = Instant::now();
    let (s, status) = tokio::task::spawn_blocking(move || {
        let mut s = s;
        let status = s.stop();
        (s, status)
    })
    .await
    .unwrap();
    let took = started.elapsed();
    assert!(status.success(), "{status}");
    assert!(
        took < Duration::from_secs(3),
        "SIGTERM took {took:?} with streams open"
    );
    for live in [&mut board, &mut thread] {
        match live.read(WAIT).await {
            Read::End => {}
            Read::Broken(e) => panic!("the stream broke instead of ending: {e}"),
            Read::Quiet => panic!("the stream is still open"),
            Read::Block(b) => panic!("unexpected {b:?}"),
        }
    }
    // The one that never read gets the event, then the end.
    assert_eq!(idle.next().await.no(), reply);
    assert!(matches!(idle.read(WAIT).await, Read::End));
    let logs = s.logs().join("\n");
    assert!(!logs.contains("shutdown_timeout"), "{logs}");
}

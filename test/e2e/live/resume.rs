//! Resuming with `Last-Event-ID`: replay then live, during a burst, across a restart.

use super::*;

#[tokio::test]
async fn last_event_id_replays_what_followed_then_goes_live() {
    let s = Server::start().await;
    let t = s.thread("b", "op").await;
    let mut watcher = Live::open(&s, "board=b").await;
    for i in 0..10 {
        s.reply("b", t, json!({ "body": format!("reply {i}") }))
            .await;
    }
    let seen = watcher.take(10).await;
    assert_consecutive(&seen);

    // From the middle: exactly the later events, in order, then the next live one, once.
    let mut board = Live::resume(&s, "board=b", seen[3].id).await;
    let mut thread = Live::resume(&s, &format!("board=b&thread={t}"), seen[3].id).await;
    assert_eq!(board.take(6).await, seen[4..]);
    assert_eq!(thread.take(6).await, seen[4..]);
    let live = s.reply("b", t, json!({ "body": "live" })).await;
    let next = watcher.next().await;
    assert_eq!(
        (next.key(), next.id),
        (("post".into(), live), seen[9].id + 1)
    );
    assert_eq!(board.next().await, next);
    assert_eq!(thread.next().await, next);

    // From 0: everything kept, the thread's own event first.
    let mut all = Live::resume(&s, "board=b", 0).await;
    let replayed = all.take(12).await;
    assert_post(&replayed[0], "thread", "b", t, t);
    assert_eq!(replayed[1..11], seen);
    assert_eq!(replayed[11], next);
    // From the newest id, or one never given out: nothing to replay, live from here.
    let mut newest = Live::resume(&s, "board=b", next.id).await;
    let mut ahead = Live::resume(&s, "board=b", 1_000_000_000).await;
    let again = s.reply("b", t, json!({ "body": "again" })).await;
    for live in [&mut watcher, &mut board, &mut all, &mut newest, &mut ahead] {
        let e = live.next().await;
        assert_eq!((e.key(), e.id), (("post".into(), again), next.id + 1));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_during_a_burst_misses_and_repeats_nothing() {
    let s = Arc::new(Server::start().await);
    let t = s.thread("b", "op").await;
    let mut watcher = Live::open(&s, "board=b").await;
    let posting = {
        let s = s.clone();
        let bodies = (0..400).map(|i| format!("post {i}")).collect();
        tokio::spawn(async move { burst(&s, "b", t, bodies, 8).await })
    };
    // Resume mid-burst from a little behind what the watcher has seen, so each replay meets
    // events still being published.
    let mut seen: Vec<Event> = Vec::new();
    let mut resumed = Vec::new();
    while seen.len() < 400 {
        seen.push(watcher.next().await);
        if seen.len().is_multiple_of(40) {
            let from = seen[seen.len() - 20].id;
            let query = if seen.len().is_multiple_of(80) {
                format!("board=b&thread={t}")
            } else {
                "board=b".to_owned()
            };
            resumed.push((from, Live::resume(&s, &query, from).await));
        }
    }
    let numbers = posting.await.unwrap();
    assert_burst(&seen, "b", t, &numbers);
    let last = seen.last().unwrap().id;
    for (from, mut live) in resumed {
        let events = live.take((last - from) as usize).await;
        let expected: Vec<&Event> = seen.iter().filter(|e| e.id > from).collect();
        assert_eq!(
            events.iter().collect::<Vec<_>>(),
            expected,
            "resumed from {from}"
        );
        live.assert_quiet(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn replay_resumes_across_a_restart() {
    let mut s = Server::start().await;
    let t = s.thread("b", "op").await;
    let mut watcher = Live::open(&s, "board=b").await;
    for i in 0..6 {
        s.reply("b", t, json!({ "body": format!("before the restart {i}") }))
            .await;
    }
    let seen = watcher.take(6).await;
    let status = s.stop();
    assert!(status.success(), "{status}");
    assert!(
        matches!(watcher.read(WAIT).await, Read::End),
        "the stream ends with the server"
    );
    s.restart();

    let mut board = Live::resume(&s, "board=b", seen[2].id).await;
    let mut thread = Live::resume(&s, &format!("board=b&thread={t}"), seen[2].id).await;
    assert_eq!(board.take(3).await, seen[3..]);
    assert_eq!(thread.take(3).await, seen[3..]);
    let after = s
        .reply("b", t, json!({ "body": "after the restart" }))
        .await;
    for live in [&mut board, &mut thread] {
        let e = live.next().await;
        assert_eq!(e.key(), ("post".into(), after));
        assert_eq!(e.id, seen[5].id + 1, "the sequence continues");
    }
}

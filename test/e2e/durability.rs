//! A restart loses nothing that was acknowledged: after SIGTERM, and after SIGKILL mid-burst.

use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{json, Value};

use crate::harness::*;

#[tokio::test]
async fn everything_survives_a_graceful_restart() {
    let mut server = Server::small().await;
    let a = server.thread("t", "alpha").await;
    let b = server.thread("t", "beta").await;
    server
        .reply("t", a, json!({"body": "reply", "name": "kept"}))
        .await;
    let paths = [
        "/api/boards",
        "/api/boards/t/catalog",
        "/api/boards/t/index",
        &format!("/api/boards/t/threads/{a}"),
        &format!("/api/boards/t/threads/{b}"),
    ]
    .map(str::to_owned);
    let mut before = Vec::new();
    for path in &paths {
        before.push(server.get(path).await.json);
    }

    let status = server.stop();
    assert!(
        status.success(),
        "SIGTERM must end wani cleanly, got {status}"
    );
    assert_eq!(
        server.log_count("server_stopped", 1).await,
        1,
        "the stop is reported"
    );
    server.restart();

    for (path, before) in paths.iter().zip(before) {
        assert_eq!(server.get(path).await.json, before, "{path} after restart");
    }
    let next = server.thread("t", "numbers continue").await;
    assert_eq!(next, 4);
}

/// Posts from `posters` concurrent clients until the server stops answering; returns the
/// numbers acknowledged with 201, and the thread they went to.
async fn burst(
    server: &Server,
    thread: u64,
    posters: usize,
) -> (Arc<Mutex<Vec<u64>>>, Vec<tokio::task::JoinHandle<()>>) {
    let acked = Arc::new(Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for p in 0..posters {
        let (client, url, acked) = (
            server.client.clone(),
            server.url(&format!("/api/boards/b/threads/{thread}/posts")),
            acked.clone(),
        );
        tasks.push(tokio::spawn(async move {
            for i in 0.. {
                let Ok(r) = client
                    .post(&url)
                    .json(&json!({"body": format!("poster {p} post {i}")}))
                    .send()
                    .await
                else {
                    return;
                };
                if r.status() != 201 {
                    return;
                }
                let Ok(body) = r.json::<Value>().await else {
                    return;
                };
                acked.lock().unwrap().push(body["no"].as_u64().unwrap());
            }
        }));
    }
    (acked, tasks)
}

/// Lets the burst run until `n` posts are acknowledged, so the stop lands mid-burst.
async fn wait_for_acks(acked: &Mutex<Vec<u64>>, n: usize) {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while acked.lock().unwrap().len() < n {
        assert!(
            std::time::Instant::now() < deadline,
            "fewer than {n} posts acknowledged in 30 s"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

async fn check_acknowledged(server: &Server, thread: u64, acked: &[u64]) {
    let r = server.get(&format!("/api/boards/b/threads/{thread}")).await;
    let posts = r.json["thread"]["posts"].as_array().unwrap().clone();
    let present: Vec<u64> = posts.iter().map(|p| p["no"].as_u64().unwrap()).collect();
    let unique: BTreeSet<u64> = present.iter().copied().collect();
    assert_eq!(unique.len(), present.len(), "no post number appears twice");
    assert!(
        present.windows(2).all(|w| w[0] < w[1]),
        "numbers strictly increase"
    );
    for no in acked {
        assert!(
            unique.contains(no),
            "post {no} got a 201 but is gone after the restart"
        );
    }
    assert_eq!(
        r.json["thread"]["replies"].as_u64().unwrap() as usize,
        present.len() - 1
    );
    let next = server
        .reply("b", thread, json!({"body": "after the crash"}))
        .await;
    assert!(
        next > *present.last().unwrap(),
        "numbers continue after the highest stored one"
    );
}

#[tokio::test]
async fn sigkill_during_a_burst_loses_no_acknowledged_post() {
    let mut server = Server::start().await;
    let thread = server.thread("b", "crash test").await;
    let (acked, tasks) = burst(&server, thread, 32).await;
    wait_for_acks(&acked, 200).await;
    server.kill();
    for task in tasks {
        task.await.unwrap();
    }
    server.restart();
    let acked = acked.lock().unwrap().clone();
    check_acknowledged(&server, thread, &acked).await;
}

#[tokio::test]
async fn sigterm_during_a_burst_loses_no_acknowledged_post() {
    let mut server = Server::start().await;
    let thread = server.thread("b", "shutdown test").await;
    let (acked, tasks) = burst(&server, thread, 32).await;
    wait_for_acks(&acked, 200).await;
    let status = server.stop();
    assert!(status.success(), "{status}");
    for task in tasks {
        task.await.unwrap();
    }
    server.restart();
    let acked = acked.lock().unwrap().clone();
    check_acknowledged(&server, thread, &acked).await;
}

//! The S3 backup against a real S3 server (Garage, started per test on loopback): files
//! mirrored through the outbox, outages survived, deletions moved to `trash/`, files read back
//! through from the bucket, and the restore drill from an empty data directory.

use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::garage::Garage;
use crate::harness::*;
use crate::uploads::{form, png, png_noise, replies, threads, upload};

mod drill;
mod mirror;

/// A config with board /t/ taking files, and the `[s3]` section for `garage` under `prefix`.
pub fn config(garage: &Garage, prefix: &str) -> String {
    format!(
        "{}\n[[boards]]\nslug = \"t\"\ntitle = \"Test\"\ndelete_window_secs = 3600\n",
        garage.s3_toml(prefix, "")
    )
}

/// The server's backup state from `/healthz`.
pub async fn backup_state(s: &Server) -> Value {
    let r = s.get("/healthz").await;
    assert_eq!(r.status, 200, "{}", r.json);
    r.json["backup"].clone()
}

/// Waits until the outbox is empty, then returns the backup state.
pub async fn drained(s: &Server) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let state = backup_state(s).await;
        if state["backlog"] == 0 {
            return state;
        }
        assert!(
            Instant::now() < deadline,
            "the outbox did not drain in 60 s: {state}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Opens a thread with one distinct image; returns its number and the post's JSON.
pub async fn thread_with_file(s: &Server, seed: u32) -> (u64, Value) {
    let f = form(
        Some("with a file"),
        vec![(png_noise(64, 48, seed), "a.png")],
    )
    .text("password", "hunter22");
    upload(s, &threads("t"), f).await
}

/// The bucket keys (under `prefix`) of a post's first file: original and thumbnail.
pub fn keys_of(post: &Value, prefix: &str) -> [String; 2] {
    let file = &post["files"][0];
    let strip = |url: &Value| format!("{prefix}{}", url.as_str().unwrap().trim_start_matches('/'));
    [strip(&file["url"]), strip(&file["thumb_url"])]
}

/// `wani` with these arguments and the server's config file; exit code, stdout and stderr.
pub fn wani(s: &Server, args: &[&str]) -> (Option<i32>, String, String) {
    let config = s.data_dir().parent().unwrap().join("config.toml");
    let data = s.data_dir();
    let mut all: Vec<&str> = args.to_vec();
    all.extend([
        "--config",
        config.to_str().unwrap(),
        "--data",
        data.to_str().unwrap(),
    ]);
    let out = std::process::Command::new(BIN)
        .args(&all)
        .env_remove("WANI_CONFIG")
        .output()
        .unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn health_says_when_there_is_no_backup() {
    let s = Server::small().await;
    let state = backup_state(&s).await;
    assert_eq!(state, json!({ "enabled": false }));
    assert!(
        s.logs().iter().any(|l| l.contains("local disk alone")),
        "{:?}",
        s.logs()
    );
}

#[tokio::test]
async fn backup_commands_without_s3_fail_clearly() {
    let mut s = Server::small().await;
    // The running server answers on its admin socket (here: that it has nowhere to back up to).
    assert!(s.data_dir().join("admin.sock").exists());
    let (code, _, err) = wani(&s, &["backup"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("[s3]"), "{err}");
    let (code, _, err) = wani(&s, &["restore", "--force"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("[s3]"), "{err}");
    let (code, _, err) = wani(&s, &["backup", "--snapshot", "x"]);
    assert_eq!(code, Some(2), "{err}");
    // A clean stop takes the socket away.
    s.stop();
    assert!(!s.data_dir().join("admin.sock").exists());
}

/// Files posted while S3 is unreachable, and a reply, so that a text post never depends on it.
pub async fn post_some(s: &Server, seeds: std::ops::Range<u32>) -> Vec<(u64, Value)> {
    let mut out = Vec::new();
    for seed in seeds {
        out.push(thread_with_file(s, seed).await);
    }
    let (thread, _) = out[0];
    let r = s
        .post(&replies("t", thread), json!({ "body": "text only" }))
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let f = form(None, vec![(png(20, 20, [9, 9, 9]), "b.png")]);
    let (_, reply) = upload(s, &replies("t", thread), f).await;
    out.push((reply["no"].as_u64().unwrap(), reply));
    out
}

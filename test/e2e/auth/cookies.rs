//! The session cookie: forged, tampered, ended and expired ones, and renewal on use.

use std::time::Duration;

use serde_json::json;

use crate::harness::Reply;
use crate::session::{self, Session, PASSWORD};

/// A `Set-Cookie` that deletes the session cookie.
#[track_caller]
fn assert_deletes_cookie(r: &Reply) {
    let set_cookie = r.header("set-cookie");
    assert!(
        set_cookie.starts_with("wani_session=;") && set_cookie.contains("Max-Age=0"),
        "{set_cookie:?}"
    );
}

/// Forgery reports in the log, once there are `expected` (or 10 s have passed). Expecting
/// none, it first waits for the log line of a request made now, so every earlier line is in.
async fn forgeries(server: &crate::harness::Server, expected: usize) -> usize {
    if expected == 0 {
        assert_eq!(server.get("/healthz").await.status, 200);
        assert_eq!(server.log_count("/healthz", 1).await, 1);
    }
    server.log_count("session_cookie_forged", expected).await
}

#[tokio::test]
async fn forged_and_tampered_cookies_are_refused_and_reported() {
    let server = session::server("").await;
    let ann = Session::signup(&server, "ann", PASSWORD).await;
    let other = session::server("").await;
    let foreign = Session::signup(&other, "ann", PASSWORD).await;

    let (name, value) = ann.cookie.split_once('=').unwrap();
    let flip = |i: usize| {
        let mut bytes = value.as_bytes().to_vec();
        bytes[i] = if bytes[i] == b'A' { b'B' } else { b'A' };
        format!("{name}={}", String::from_utf8(bytes).unwrap())
    };
    let cases = [
        "wani_session=garbage".to_owned(),
        "wani_session=".to_owned(),
        flip(0),
        flip(value.len() - 1),
        foreign.cookie.clone(),
    ];
    for (i, cookie) in cases.iter().enumerate() {
        let forged = Session {
            cookie: cookie.clone(),
            ..ann.clone()
        };
        let r = forged.get(&server, "/auth/csrf").await;
        r.assert_error(403, "not_logged_in");
        assert_deletes_cookie(&r);
        assert_eq!(
            forgeries(&server, 3 * i + 1).await,
            3 * i + 1,
            "each forgery is reported: {cookie}"
        );
        let r = forged.get(&server, "/api/admin/users").await;
        r.assert_error(403, "not_logged_in");
        // A public route still answers, anonymously, and deletes the cookie.
        let r = forged.get(&server, "/api/boards").await;
        assert_eq!(r.status, 200);
        assert_deletes_cookie(&r);
    }
    // The real cookie still works.
    assert_eq!(ann.get(&server, "/auth/csrf").await.status, 200);
}

#[tokio::test]
async fn an_ended_session_is_refused_without_a_forgery_report() {
    let server = session::server("").await;
    let ann = Session::signup(&server, "ann", PASSWORD).await;
    let r = ann.post(&server, "/auth/logout?now=1", json!({})).await;
    r.assert_error(400, "invalid_query");
    let bare = ann.request(&server, reqwest::Method::POST, "/auth/logout?now=1");
    server.send(bare).await.assert_error(400, "invalid_query");
    let r = ann.post(&server, "/auth/logout", json!({})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json, json!({ "logged_out": true }));
    assert_deletes_cookie(&r);
    let r = ann.get(&server, "/auth/csrf").await;
    r.assert_error(403, "not_logged_in");
    assert_deletes_cookie(&r);
    let r = ann.post(&server, "/auth/logout", json!({})).await;
    r.assert_error(403, "not_logged_in");
    assert_eq!(
        forgeries(&server, 0).await,
        0,
        "an ended session is not a forgery"
    );
}

#[tokio::test]
async fn idle_sessions_expire_and_use_renews_them() {
    // 0.00004 days is 3.456 seconds.
    let server = session::server("session_idle_days = 0.00004").await;
    let idle = Session::signup(&server, "ann", PASSWORD).await;
    let busy = Session::login(&server, "ann", PASSWORD).await;
    for _ in 0..3 {
        tokio::time::sleep(Duration::from_millis(1500)).await;
        let r = busy.get(&server, "/auth/csrf").await;
        assert_eq!(
            r.status, 200,
            "used every 1.5 s, the session lives on: {}",
            r.json
        );
    }
    // 4.5 s after login, longer than the idle time: only the unused session has expired.
    let r = idle.get(&server, "/auth/csrf").await;
    r.assert_error(403, "not_logged_in");
    assert_deletes_cookie(&r);
    tokio::time::sleep(Duration::from_millis(4000)).await;
    let r = busy.get(&server, "/auth/csrf").await;
    r.assert_error(403, "not_logged_in");
    assert_eq!(forgeries(&server, 0).await, 0);
    // A new login works as before.
    Session::login(&server, "ann", PASSWORD).await;
}

#[tokio::test]
async fn sessions_survive_a_restart() {
    let mut server = session::server("").await;
    let ann = Session::signup(&server, "ann", PASSWORD).await;
    server.stop();
    server.restart();
    let r = ann.get(&server, "/auth/csrf").await;
    assert_eq!(
        r.status, 200,
        "the key file and the session are kept: {}",
        r.json
    );
    assert_eq!(r.json["csrf"], ann.csrf.as_str());
}

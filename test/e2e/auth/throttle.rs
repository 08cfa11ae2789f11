//! Password guessing: failed logins are limited per client network and per account.

use std::time::Duration;

use serde_json::json;

use crate::harness::{Reply, Server};
use crate::session::{self, Session, PASSWORD};

async fn login_from(server: &Server, address: &str, username: &str, password: &str) -> Reply {
    let req = server
        .client
        .post(server.url("/auth/login"))
        .header("x-forwarded-for", address)
        .json(&json!({ "username": username, "password": password }));
    server.send(req).await
}

fn retry_after(r: &Reply) -> u64 {
    r.header("retry-after")
        .parse()
        .unwrap_or_else(|_| panic!("{:?}", r.headers))
}

#[tokio::test]
async fn guessing_one_account_is_slowed_from_anywhere() {
    let server = session::server("login_free_attempts = 2\nlogin_max_delay_secs = 60").await;
    Session::signup(&server, "ann", PASSWORD).await;
    for i in 0..3 {
        let r = login_from(&server, &format!("10.0.0.{i}"), "ann", "wrong guess here").await;
        r.assert_error(403, "login_failed");
    }
    // The third failure set a delay for the account: even the right password from a new
    // address waits.
    let r = login_from(&server, "10.0.1.1", "ann", PASSWORD).await;
    r.assert_error(429, "too_many_attempts");
    let wait = retry_after(&r);
    assert!((1..=60).contains(&wait), "{wait}");
    assert!(r.header("set-cookie").is_empty());
    // Another account from a fresh address is not affected.
    let r = login_from(&server, "10.0.1.2", "bob", "wrong guess here").await;
    r.assert_error(403, "login_failed");
    // Once the delay has run, the right password gets in, and clears the account's count.
    tokio::time::sleep(Duration::from_secs(wait)).await;
    let r = login_from(&server, "10.0.1.3", "ann", PASSWORD).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let r = login_from(&server, "10.0.1.4", "ann", "wrong guess here").await;
    r.assert_error(403, "login_failed");
}

#[tokio::test]
async fn one_address_guessing_many_accounts_is_slowed() {
    let server = session::server("login_free_attempts = 2\nlogin_max_delay_secs = 60").await;
    Session::signup(&server, "ann", PASSWORD).await;
    let mut delays = Vec::new();
    for name in ["u1", "u2", "u3", "u4"] {
        let r = login_from(&server, "10.9.9.9", name, "wrong guess here").await;
        match r.status.as_u16() {
            403 => r.assert_error(403, "login_failed"),
            _ => {
                r.assert_error(429, "too_many_attempts");
                delays.push(retry_after(&r));
            }
        }
    }
    assert_eq!(delays.len(), 1, "the fourth attempt waits: {delays:?}");
    // The same network (an IPv6 /64 counts as one) is delayed for any account, even with the
    // right password; another address is not.
    let r = login_from(&server, "10.9.9.9", "ann", PASSWORD).await;
    r.assert_error(429, "too_many_attempts");
    let r = login_from(&server, "10.9.9.8", "ann", PASSWORD).await;
    assert_eq!(r.status, 200, "{}", r.json);
    // Every failure and every delayed attempt is in the log, without the password.
    assert!(server.log_count("login_failed", 3).await >= 3);
    assert!(server.log_count("login_throttled", 2).await >= 2);
}

#[tokio::test]
async fn delays_double_with_each_failure() {
    let server = session::server("login_free_attempts = 1\nlogin_max_delay_secs = 2").await;
    let fail = || login_from(&server, "10.2.2.2", "ann", "wrong guess here");
    fail().await.assert_error(403, "login_failed");
    let mut waits = Vec::new();
    for _ in 0..3 {
        fail().await.assert_error(403, "login_failed");
        let r = fail().await;
        r.assert_error(429, "too_many_attempts");
        let wait = retry_after(&r);
        waits.push(wait);
        tokio::time::sleep(Duration::from_secs(wait)).await;
    }
    assert_eq!(waits, [1, 2, 2], "doubling up to login_max_delay_secs");
}

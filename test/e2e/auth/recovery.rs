//! Password recovery without email: an admin issues a reset token, the user spends it once.

use serde_json::{json, Value};

use crate::session::{self, Session, PASSWORD};

const NEW_PASSWORD: &str = "quartz meadow 19 ferry";

#[tokio::test]
async fn only_admins_issue_tokens_and_bad_tokens_change_nothing() {
    let server = session::server("").await;
    let root = Session::signup(&server, "root", PASSWORD).await;
    let ann = Session::signup(&server, "ann", PASSWORD).await;
    server
        .post("/api/admin/users/ann/reset", json!({}))
        .await
        .assert_error(403, "not_logged_in");
    ann.post(&server, "/api/admin/users/ann/reset", json!({}))
        .await
        .assert_error(403, "forbidden");
    root.post_csrf(&server, "/api/admin/users/ann/reset", None, json!({}))
        .await
        .assert_error(403, "csrf_failed");
    root.post(&server, "/api/admin/users/nobody/reset", json!({}))
        .await
        .assert_error(404, "user_not_found");
    root.post(&server, "/api/admin/users/ann/reset", json!({ "x": 1 }))
        .await
        .assert_error(400, "unknown_field");
    let cases: [(Value, u16, &str); 7] = [
        (json!({}), 400, "missing_field"),
        (json!({ "token": "x" }), 400, "missing_field"),
        (
            json!({ "token": 1, "password": NEW_PASSWORD }),
            400,
            "invalid_type",
        ),
        (
            json!({ "token": "x", "password": NEW_PASSWORD, "y": 1 }),
            400,
            "unknown_field",
        ),
        (
            json!({ "token": "x", "password": NEW_PASSWORD }),
            403,
            "reset_token_invalid",
        ),
        (
            json!({ "token": "a".repeat(64), "password": NEW_PASSWORD }),
            403,
            "reset_token_invalid",
        ),
        (
            json!({ "token": "a".repeat(64), "password": "password" }),
            400,
            "weak_password",
        ),
    ];
    for (body, status, error) in cases {
        let r = server.post("/auth/reset", body.clone()).await;
        assert_eq!((r.status.as_u16(), r.code()), (status, error), "{body}");
    }
    // Nothing changed: the old password still logs in.
    Session::login(&server, "ann", PASSWORD).await;
}

#[tokio::test]
async fn a_token_sets_the_password_once_and_ends_every_session() {
    let server = session::server("").await;
    let root = Session::signup(&server, "root", PASSWORD).await;
    let ann = Session::signup(&server, "ann", PASSWORD).await;
    let r = root
        .post(&server, "/api/admin/users/ANN/reset", json!({}))
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let token = r.json["token"].as_str().unwrap().to_owned();
    assert_eq!(token.len(), 64);
    let expires = r.json["expires_at"].as_u64().unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    assert!((now + 3500..=now + 3700).contains(&expires), "{expires}");
    // A weak password spends nothing.
    server
        .post(
            "/auth/reset",
            json!({ "token": token, "password": "password" }),
        )
        .await
        .assert_error(400, "weak_password");
    let r = server
        .post(
            "/auth/reset",
            json!({ "token": token, "password": NEW_PASSWORD }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["reset"], "ann");
    ann.get(&server, "/auth/csrf")
        .await
        .assert_error(403, "not_logged_in");
    server
        .post(
            "/auth/login",
            json!({ "username": "ann", "password": PASSWORD }),
        )
        .await
        .assert_error(403, "login_failed");
    Session::login(&server, "ann", NEW_PASSWORD).await;
    // Used once: gone.
    server
        .post(
            "/auth/reset",
            json!({ "token": token, "password": "another 55 long phrase" }),
        )
        .await
        .assert_error(403, "reset_token_invalid");
    Session::login(&server, "ann", NEW_PASSWORD).await;
}

#[tokio::test]
async fn an_expired_token_is_refused() {
    let server = session::server("reset_token_secs = 1").await;
    let root = Session::signup(&server, "root", PASSWORD).await;
    Session::signup(&server, "ann", PASSWORD).await;
    let r = root
        .post(&server, "/api/admin/users/ann/reset", json!({}))
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let token = r.json["token"].as_str().unwrap().to_owned();
    tokio::time::sleep(std::time::Duration::from_millis(1500)).await;
    server
        .post(
            "/auth/reset",
            json!({ "token": token, "password": NEW_PASSWORD }),
        )
        .await
        .assert_error(403, "reset_token_invalid");
    Session::login(&server, "ann", PASSWORD).await;
}

//! `POST /auth/signup`: who may sign up, what usernames and passwords it takes.

use serde_json::json;

use crate::harness::{Server, SMALL_BOARD};
use crate::session::{self, Session, PASSWORD};

#[tokio::test]
async fn malformed_bodies_are_refused() {
    let server = session::server("").await;
    let cases = [
        (
            json!({ "password": PASSWORD }),
            400,
            "missing_field",
            "username",
        ),
        (
            json!({ "username": "ann" }),
            400,
            "missing_field",
            "password",
        ),
        (
            json!({ "username": 7, "password": PASSWORD }),
            400,
            "invalid_type",
            "username",
        ),
        (
            json!({ "username": "ann", "password": PASSWORD, "role": "admin" }),
            400,
            "unknown_field",
            "role",
        ),
        (
            json!({ "username": "", "password": PASSWORD }),
            400,
            "invalid_username",
            "username",
        ),
        (
            json!({ "username": "a b", "password": PASSWORD }),
            400,
            "invalid_username",
            "username",
        ),
        (
            json!({ "username": "x".repeat(33), "password": PASSWORD }),
            400,
            "invalid_username",
            "username",
        ),
        (
            json!({ "username": "ann", "password": "short" }),
            400,
            "weak_password",
            "password",
        ),
        (
            json!({ "username": "ann", "password": "baseball1" }),
            400,
            "weak_password",
            "password",
        ),
        (
            json!({ "username": "ann", "password": "Password123" }),
            400,
            "weak_password",
            "password",
        ),
        (
            json!({ "username": "ann", "password": "y".repeat(1025) }),
            400,
            "too_long",
            "password",
        ),
    ];
    for (body, status, code, field) in cases {
        let r = server.post("/auth/signup", body.clone()).await;
        r.assert_error(status, code);
        assert_eq!(r.field(), field, "{body}");
        assert!(r.header("set-cookie").is_empty(), "{body}");
    }
    let dup = server
        .post_raw(
            "/auth/signup",
            Some("application/json"),
            r#"{"username":"ann","username":"root","password":"violet staple 42 orbit"}"#,
        )
        .await;
    dup.assert_error(400, "duplicate_field");
    let form = server
        .post_raw("/auth/signup", Some("text/plain"), "username=ann")
        .await;
    form.assert_error(415, "unsupported_media_type");
    server
        .get("/auth/signup")
        .await
        .assert_error(405, "method_not_allowed");
    // Nothing above made an account.
    let r = server
        .post(
            "/auth/login",
            json!({ "username": "ann", "password": PASSWORD }),
        )
        .await;
    r.assert_error(403, "login_failed");
}

#[tokio::test]
async fn closed_signup_admits_only_config_admins() {
    let server = Server::with_config(&format!(
        "{SMALL_BOARD}\n[accounts]\nadmins = [\"Root\"]\nargon2_memory_kib = 1024\n"
    ))
    .await;
    let r = server
        .post(
            "/auth/signup",
            json!({ "username": "ann", "password": PASSWORD }),
        )
        .await;
    r.assert_error(403, "signup_closed");
    assert!(r.header("set-cookie").is_empty());
    // The config lists "Root"; the name is the same account in any case and width.
    let root = Session::signup(&server, "ＲＯＯＴ", PASSWORD).await;
    assert_eq!(
        root.user,
        json!({ "username": "root", "role": "admin", "boards": [] })
    );
}

#[tokio::test]
async fn whitelist_admits_the_listed_names() {
    let server = Server::with_config(&format!(
        "{SMALL_BOARD}\n[accounts]\nsignup = \"whitelist\"\nwhitelist = [\"ann\"]\n\
         argon2_memory_kib = 1024\n"
    ))
    .await;
    let ann = Session::signup(&server, "Ann", PASSWORD).await;
    assert_eq!(ann.user["role"], "user");
    let r = server
        .post(
            "/auth/signup",
            json!({ "username": "bob", "password": PASSWORD }),
        )
        .await;
    r.assert_error(403, "signup_closed");
}

#[tokio::test]
async fn open_signup_answers_a_session_and_names_are_unique() {
    let server = session::server("").await;
    let r = server
        .post(
            "/auth/signup",
            json!({ "username": "Ann", "password": PASSWORD }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let set_cookie = r.header("set-cookie");
    for attribute in [
        "wani_session=",
        "HttpOnly",
        "SameSite=Lax",
        "Path=/",
        "Expires=",
    ] {
        assert!(set_cookie.contains(attribute), "{set_cookie}");
    }
    assert!(!set_cookie.contains("Secure"), "{set_cookie}");
    assert_eq!(r.header("cache-control"), "no-store");
    let ann = Session::from_reply(&r);
    assert_eq!(
        ann.user,
        json!({ "username": "ann", "role": "user", "boards": [] })
    );
    assert!(ann.csrf.len() >= 32, "{}", ann.csrf);

    for taken in ["ann", "ANN", "ａｎｎ"] {
        let r = server
            .post(
                "/auth/signup",
                json!({ "username": taken, "password": PASSWORD }),
            )
            .await;
        r.assert_error(409, "username_taken");
        assert_eq!(r.field(), "username");
    }
    let who = ann.get(&server, "/auth/csrf").await;
    assert_eq!(who.status, 200, "{}", who.json);
    assert_eq!(who.json["csrf"], ann.csrf.as_str());
    assert_eq!(who.json["user"]["username"], "ann");
}

#[tokio::test]
async fn secure_cookies_follow_the_config() {
    let server = session::server("secure_cookies = true\ncookie_name = \"sid\"").await;
    let r = server
        .post(
            "/auth/signup",
            json!({ "username": "ann", "password": PASSWORD }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let set_cookie = r.header("set-cookie");
    assert!(set_cookie.starts_with("sid="), "{set_cookie}");
    assert!(set_cookie.contains("Secure"), "{set_cookie}");
}

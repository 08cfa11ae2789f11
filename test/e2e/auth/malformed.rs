//! Malformed bodies on every account route: each refused with its code, nothing changed.

use serde_json::json;

use crate::session::{self, Session, PASSWORD};

#[tokio::test]
async fn every_account_route_refuses_malformed_bodies() {
    let server = session::server("").await;
    let root = Session::signup(&server, "root", PASSWORD).await;
    Session::signup(&server, "ann", PASSWORD).await;
    let routes = [
        "/auth/login",
        "/auth/signup",
        "/auth/logout",
        "/auth/destroy",
        "/auth/changePassword",
        "/api/admin/users/ann/role",
        "/api/admin/users/ann/disabled",
    ];
    let bodies = [
        (
            Some("application/json"),
            r#"{"password":"a","password":"b"}"#,
            400,
            "duplicate_field",
        ),
        (
            Some("application/json"),
            r#"{"password": "#,
            400,
            "invalid_json",
        ),
        (
            Some("application/json"),
            r#"["password"]"#,
            400,
            "invalid_type",
        ),
        (
            Some("application/json"),
            // A raw control character inside a JSON string.
            "{\"password\":\"\u{1}\"}",
            400,
            "invalid_json",
        ),
        (
            Some("application/json"),
            r#"{"zz":1}"#,
            400,
            "unknown_field",
        ),
        (Some("text/plain"), r#"{}"#, 415, "unsupported_media_type"),
        (None, r#"{}"#, 415, "unsupported_media_type"),
    ];
    for path in routes {
        for (content_type, body, status, code) in &bodies {
            let mut req = root
                .request(&server, reqwest::Method::POST, path)
                .body(body.to_string());
            if let Some(ct) = content_type {
                req = req.header("content-type", *ct);
            }
            let r = server.send(req).await;
            r.assert_error(*status, code);
        }
    }
    let oversize = json!({ "password": "x".repeat(140 * 1024) });
    for path in routes {
        let r = root.post(&server, path, oversize.clone()).await;
        r.assert_error(413, "payload_too_large");
    }
    // Nothing above changed anything: both accounts and the session are as they were.
    let r = root.get(&server, "/api/admin/users").await;
    assert_eq!(r.status, 200, "{}", r.json);
    let users = r.json["users"].as_array().unwrap();
    assert_eq!(users.len(), 2);
    assert!(users.iter().all(|u| u["disabled"] == false));
    assert_eq!(users[0]["role"], "user");
    Session::login(&server, "ann", PASSWORD).await;
}

//! API tokens: creating, listing and revoking them with a session, then scripts using them with
//! `Authorization: Bearer` and no cookie; first broken, then used.

use std::time::Duration;

use reqwest::Method;
use serde_json::{json, Value};

use crate::harness::{Reply, Server};
use crate::session::{self, Session, PASSWORD};

/// A second board, for tokens scoped to one board used on another.
const BOARD_B: &str = r#"
[[boards]]
slug = "b"
title = "Random"
description = "Another board"
"#;

const TOKENS: &str = "/api/me/tokens";

/// A request as a script sends it: a client of its own (no cookie jar), the token only.
async fn script(
    server: &Server,
    token: &str,
    method: Method,
    path: &str,
    body: Option<Value>,
) -> Reply {
    let mut req = reqwest::Client::new()
        .request(method, server.url(path))
        .header("authorization", format!("Bearer {token}"));
    if let Some(body) = body {
        req = req.json(&body);
    }
    server.send(req).await
}

/// Creates a token (201) and returns its secret and its listing.
async fn create(server: &Server, owner: &Session, body: Value) -> (String, Value) {
    let r = owner.post(server, TOKENS, body).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let secret = r.json["secret"].as_str().expect("a secret").to_owned();
    (secret, r.json["token"].clone())
}

/// Makes `name` a user with this role and boards, as the admin `root`.
async fn set_role(server: &Server, root: &Session, name: &str, role: Value) {
    let path = format!("/api/admin/users/{name}/role");
    let r = root.post(server, &path, role).await;
    assert_eq!(r.status, 200, "{}", r.json);
}

#[track_caller]
fn assert_not_logged(server: &Server, secrets: &[String]) {
    let logs = server.logs().join("\n");
    assert!(logs.contains("token_"), "the token events are logged");
    for secret in secrets {
        let tail = secret.trim_start_matches("wani_");
        assert!(!logs.contains(tail), "a token secret is in the log");
    }
}

#[tokio::test]
async fn creating_tokens_is_validated() {
    let server = session::server(BOARD_B).await;
    let root = Session::signup(&server, "root", PASSWORD).await;
    let ann = Session::signup(&server, "ann", PASSWORD).await;

    // No session.
    server.get(TOKENS).await.assert_error(403, "not_logged_in");
    let body = json!({ "name": "x", "expires_days": 1, "scope": "read" });
    server
        .post(TOKENS, body.clone())
        .await
        .assert_error(403, "not_logged_in");
    let r = server
        .request("DELETE", "/api/me/tokens/0123456789abcdef")
        .await;
    r.assert_error(403, "not_logged_in");
    // A cookie without its CSRF token, or with another session's.
    let r = ann.post_csrf(&server, TOKENS, None, body.clone()).await;
    r.assert_error(403, "csrf_failed");
    let r = ann
        .post_csrf(&server, TOKENS, Some(&root.csrf), body.clone())
        .await;
    r.assert_error(403, "csrf_failed");

    // Scopes wider than the role.
    let wide = |scope: &str, boards: Value| json!({ "name": "x", "expires_days": 1, "scope": scope, "boards": boards });
    let r = ann.post(&server, TOKENS, wide("admin", Value::Null)).await;
    r.assert_error(403, "scope_too_wide");
    let r = ann
        .post(&server, TOKENS, wide("moderate", json!(["t"])))
        .await;
    r.assert_error(403, "scope_too_wide");
    set_role(
        &server,
        &root,
        "ann",
        json!({ "role": "board_mod", "boards": ["t"] }),
    )
    .await;
    let r = ann
        .post(&server, TOKENS, wide("moderate", json!(["t", "b"])))
        .await;
    r.assert_error(403, "scope_too_wide");
    let r = ann.post(&server, TOKENS, wide("admin", Value::Null)).await;
    r.assert_error(403, "scope_too_wide");

    // Malformed bodies, each naming its field.
    let long = "n".repeat(65);
    let cases = [
        (
            json!({ "expires_days": 1, "scope": "read" }),
            400,
            "missing_field",
            "name",
        ),
        (
            json!({ "name": " ", "expires_days": 1, "scope": "read" }),
            400,
            "empty",
            "name",
        ),
        (
            json!({ "name": long, "expires_days": 1, "scope": "read" }),
            400,
            "too_long",
            "name",
        ),
        (
            json!({ "name": "a\u{7}", "expires_days": 1, "scope": "read" }),
            400,
            "control_characters",
            "name",
        ),
        (
            json!({ "name": "x", "scope": "read" }),
            400,
            "missing_field",
            "expires_days",
        ),
        (
            json!({ "name": "x", "expires_days": 0, "scope": "read" }),
            400,
            "invalid_type",
            "expires_days",
        ),
        (
            json!({ "name": "x", "expires_days": -1, "scope": "read" }),
            400,
            "invalid_type",
            "expires_days",
        ),
        (
            json!({ "name": "x", "expires_days": 366, "scope": "read" }),
            400,
            "invalid_type",
            "expires_days",
        ),
        (
            json!({ "name": "x", "expires_days": "30", "scope": "read" }),
            400,
            "invalid_type",
            "expires_days",
        ),
        (
            json!({ "name": "x", "expires_days": 1 }),
            400,
            "missing_field",
            "scope",
        ),
        (
            json!({ "name": "x", "expires_days": 1, "scope": "root" }),
            400,
            "invalid_type",
            "scope",
        ),
        (
            json!({ "name": "x", "expires_days": 1, "scope": "read", "boards": ["t"] }),
            400,
            "invalid_type",
            "boards",
        ),
        (
            json!({ "name": "x", "expires_days": 1, "scope": "moderate" }),
            400,
            "missing_field",
            "boards",
        ),
        (
            json!({ "name": "x", "expires_days": 1, "scope": "moderate", "boards": ["zz"] }),
            404,
            "board_not_found",
            "boards",
        ),
        (
            json!({ "name": "x", "expires_days": 1, "scope": "read", "secret": "x" }),
            400,
            "unknown_field",
            "secret",
        ),
    ];
    for (body, status, code, field) in cases {
        let r = root.post(&server, TOKENS, body.clone()).await;
        r.assert_error(status, code);
        assert_eq!(r.field(), field, "{body}");
    }
    // Revoking: a malformed id, and one that is not the caller's.
    let r = root.delete(&server, "/api/me/tokens/XYZ").await;
    r.assert_error(400, "invalid_path");
    let r = root
        .delete(&server, "/api/me/tokens/0123456789abcdef")
        .await;
    r.assert_error(403, "token_invalid");
    let (_, ann_token) = create(
        &server,
        &ann,
        json!({ "name": "a", "expires_days": 1, "scope": "read" }),
    )
    .await;
    let path = format!("/api/me/tokens/{}", ann_token["id"].as_str().unwrap());
    root.delete(&server, &path)
        .await
        .assert_error(403, "token_invalid");

    // Nothing was created but ann's token, which root's refusal left alone.
    let r = root.get(&server, TOKENS).await;
    assert_eq!(r.json, json!({ "tokens": [] }));
    let r = ann.get(&server, TOKENS).await;
    assert_eq!(r.json["tokens"].as_array().unwrap().len(), 1, "{}", r.json);
}

#[tokio::test]
async fn bearer_tokens_are_checked_on_every_request() {
    let server = session::server(BOARD_B).await;
    let root = Session::signup(&server, "root", PASSWORD).await;
    let ann = Session::signup(&server, "ann", PASSWORD).await;
    let read = |name: &str| json!({ "name": name, "expires_days": 1, "scope": "read" });
    let (reader, _) = create(&server, &root, read("reader")).await;
    let mut secrets = vec![reader.clone()];

    // Malformed Authorization headers are refused, even on public routes.
    let valid = format!("Bearer {reader}");
    let malformed = [
        "Basic YWxhZGRpbjpvcGVuc2VzYW1l".to_owned(),
        "Bearer".to_owned(),
        "Bearer wani_tooshort".to_owned(),
        format!("Bearer {}", reader.trim_start_matches("wani_")),
        valid[..valid.len() - 2].to_owned(),
    ];
    for header in &malformed {
        let r = server
            .get_with("/api/boards", &[("authorization", header)])
            .await;
        r.assert_error(403, "bad_authorization");
    }
    // A cookie and a token at once.
    let r = server
        .get_with(
            "/api/boards",
            &[("authorization", &valid), ("cookie", &root.cookie)],
        )
        .await;
    r.assert_error(403, "bad_authorization");
    // Another site's cookie is no session: the token alone counts.
    let r = server
        .get_with(
            "/api/admin/users",
            &[("authorization", &valid), ("cookie", "theme=dark")],
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    // A well-formed token the server never issued.
    let unknown = format!("wani_{}", "A".repeat(43));
    let r = script(&server, &unknown, Method::GET, "/api/boards", None).await;
    r.assert_error(403, "token_invalid");

    // A read-only token reads, including admin routes, and changes nothing.
    let r = script(&server, &reader, Method::GET, "/api/admin/users", None).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let role = json!({ "role": "global_mod" });
    let r = script(
        &server,
        &reader,
        Method::POST,
        "/api/admin/users/ann/role",
        Some(role.clone()),
    )
    .await;
    r.assert_error(403, "forbidden");
    let post = json!({ "body": "hello" });
    let r = script(
        &server,
        &reader,
        Method::POST,
        "/api/boards/t/threads",
        Some(post.clone()),
    )
    .await;
    r.assert_error(403, "forbidden");
    // No token may open sessions or mint tokens, whatever its scope.
    let (admin, _) = create(
        &server,
        &root,
        json!({ "name": "a", "expires_days": 1, "scope": "admin" }),
    )
    .await;
    secrets.push(admin.clone());
    let r = script(&server, &admin, Method::POST, TOKENS, Some(read("more"))).await;
    r.assert_error(403, "forbidden");
    let r = script(&server, &admin, Method::GET, TOKENS, None).await;
    r.assert_error(403, "forbidden");
    let r = script(&server, &admin, Method::GET, "/auth/csrf", None).await;
    r.assert_error(403, "forbidden");
    let r = script(
        &server,
        &admin,
        Method::POST,
        "/auth/logout",
        Some(json!({})),
    )
    .await;
    r.assert_error(403, "forbidden");

    // Revoked: refused on the next request.
    let list = root.get(&server, TOKENS).await.json;
    let tokens = list["tokens"].as_array().unwrap();
    let listed = tokens.iter().find(|t| t["name"] == "reader").unwrap();
    let id = listed["id"].as_str().unwrap().to_owned();
    let r = root.delete(&server, &format!("{TOKENS}/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let r = script(&server, &reader, Method::GET, "/api/admin/users", None).await;
    r.assert_error(403, "token_invalid");

    // Expired: a token living 1.7 s, used, then used again after its end.
    let short = json!({ "name": "short", "expires_days": 0.00002, "scope": "read" });
    let (short, _) = create(&server, &root, short).await;
    secrets.push(short.clone());
    let r = script(&server, &short, Method::GET, "/api/admin/users", None).await;
    assert_eq!(r.status, 200, "{}", r.json);
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let r = script(&server, &short, Method::GET, "/api/admin/users", None).await;
    r.assert_error(403, "token_invalid");

    // A moderator's token for /t/ posts as a moderator on /t/ only; lowering the owner's role
    // lowers the token at once.
    set_role(&server, &root, "ann", json!({ "role": "global_mod" })).await;
    let scoped = json!({ "name": "t", "expires_days": 1, "scope": "moderate", "boards": ["t"] });
    let (moderator, _) = create(&server, &ann, scoped).await;
    secrets.push(moderator.clone());
    let capcode = json!({ "body": "rules", "capcode": "mod" });
    let r = script(
        &server,
        &moderator,
        Method::POST,
        "/api/boards/t/threads",
        Some(capcode.clone()),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let r = script(
        &server,
        &moderator,
        Method::POST,
        "/api/boards/b/threads",
        Some(capcode.clone()),
    )
    .await;
    r.assert_error(403, "capcode_not_allowed");
    let admin_capcode = json!({ "body": "rules", "capcode": "admin" });
    let r = script(
        &server,
        &moderator,
        Method::POST,
        "/api/boards/t/threads",
        Some(admin_capcode),
    )
    .await;
    r.assert_error(403, "capcode_not_allowed");
    set_role(&server, &root, "ann", json!({ "role": "user" })).await;
    let r = script(
        &server,
        &moderator,
        Method::POST,
        "/api/boards/t/threads",
        Some(capcode.clone()),
    )
    .await;
    r.assert_error(403, "capcode_not_allowed");

    // Disabled: the account's tokens end with its sessions.
    let r = script(&server, &moderator, Method::GET, "/api/boards", None).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let r = root
        .post(
            &server,
            "/api/admin/users/ann/disabled",
            json!({ "disabled": true }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let r = script(&server, &moderator, Method::GET, "/api/boards", None).await;
    r.assert_error(403, "token_invalid");
    let r = root
        .post(
            &server,
            "/api/admin/users/ann/disabled",
            json!({ "disabled": false }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let r = script(&server, &moderator, Method::GET, "/api/boards", None).await;
    r.assert_error(403, "token_invalid");

    assert_not_logged(&server, &secrets);
    let r = root.get(&server, "/api/admin/users").await;
    assert_eq!(r.json["users"][0]["username"], ann.username());
}

#[tokio::test]
async fn a_script_administers_with_a_token() {
    let mut server = session::server(BOARD_B).await;
    let root = Session::signup(&server, "root", PASSWORD).await;
    Session::signup(&server, "ann", PASSWORD).await;
    let body = json!({ "name": "staff script", "expires_days": 30, "scope": "admin" });
    let r = root.post(&server, TOKENS, body).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let secret = r.json["secret"].as_str().unwrap().to_owned();
    assert!(
        secret.starts_with("wani_") && secret.len() == 48,
        "{secret}"
    );
    let token = &r.json["token"];
    let id = token["id"].as_str().unwrap().to_owned();
    assert_eq!(r.header("location"), format!("{TOKENS}/{id}"));
    assert_eq!(token["name"], "staff script");
    assert_eq!(token["scope"], "admin");
    assert_eq!(token["last_used_at"], Value::Null);
    let created = token["created_at"].as_u64().unwrap();
    assert_eq!(token["expires_at"].as_u64().unwrap(), created + 30 * 86_400);

    // The list shows the token, never its secret.
    let r = root.get(&server, TOKENS).await;
    assert_eq!(r.json["tokens"], json!([token.clone()]));
    assert!(!r
        .json
        .to_string()
        .contains(secret.trim_start_matches("wani_")));

    // The script lists users and appoints a moderator, with no cookie and no CSRF token.
    let r = script(&server, &secret, Method::GET, "/api/admin/users", None).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let names: Vec<_> = r.json["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].clone())
        .collect();
    assert_eq!(names, [json!("ann"), json!("root")]);
    let role = json!({ "role": "board_mod", "boards": ["t"] });
    let r = script(
        &server,
        &secret,
        Method::POST,
        "/api/admin/users/ann/role",
        Some(role),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["user"]["boards"], json!(["t"]));
    let r = script(
        &server,
        &secret,
        Method::POST,
        "/api/boards/t/threads",
        Some(json!({ "body": "notice", "capcode": "admin" })),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.json);

    // The new moderator's own script moderates /t/ with a token of that scope.
    let ann = Session::login(&server, "ann", PASSWORD).await;
    let scoped =
        json!({ "name": "t bot", "expires_days": 1, "scope": "moderate", "boards": ["t"] });
    let (ann_secret, _) = create(&server, &ann, scoped).await;
    let r = script(
        &server,
        &ann_secret,
        Method::POST,
        "/api/boards/t/threads",
        Some(json!({ "body": "mod note", "capcode": "mod" })),
    )
    .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let no = r.json["no"].as_u64().unwrap();
    let r = server.get(&format!("/api/boards/t/posts/{no}")).await;
    assert_eq!(r.json["post"]["capcode"], "mod", "{}", r.json);
    // A board moderator's token reaches no admin route.
    let r = script(&server, &ann_secret, Method::GET, "/api/admin/users", None).await;
    r.assert_error(403, "forbidden");

    // The use is recorded, and the token survives a restart.
    let r = root.get(&server, TOKENS).await;
    let used = r.json["tokens"][0]["last_used_at"]
        .as_u64()
        .expect("a last use");
    assert!(used >= created, "{}", r.json);
    server.stop();
    server.restart();
    let r = script(&server, &secret, Method::GET, "/api/admin/users", None).await;
    assert_eq!(r.status, 200, "{}", r.json);

    // Revoked, it stops at once.
    let r = root.delete(&server, &format!("{TOKENS}/{id}")).await;
    assert_eq!(r.json, json!({ "revoked": id }));
    let r = script(&server, &secret, Method::GET, "/api/admin/users", None).await;
    r.assert_error(403, "token_invalid");
    assert_eq!(
        root.get(&server, TOKENS).await.json,
        json!({ "tokens": [] })
    );

    assert_not_logged(&server, &[secret, ann_secret]);
}

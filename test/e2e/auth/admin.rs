//! The admin routes: listing users, setting roles and boards, disabling accounts.

use serde_json::json;

use crate::session::{self, Session, PASSWORD};

#[tokio::test]
async fn admin_routes_refuse_everyone_else() {
    let server = session::server("").await;
    let root = Session::signup(&server, "root", PASSWORD).await;
    let ann = Session::signup(&server, "ann", PASSWORD).await;
    let routes = [
        ("GET", "/api/admin/users", json!(null)),
        (
            "POST",
            "/api/admin/users/ann/role",
            json!({ "role": "admin" }),
        ),
        (
            "POST",
            "/api/admin/users/root/disabled",
            json!({ "disabled": true }),
        ),
    ];
    for (method, path, body) in &routes {
        let anonymous = match *method {
            "GET" => server.get(path).await,
            _ => server.post(path, body.clone()).await,
        };
        anonymous.assert_error(403, "not_logged_in");
        let user = match *method {
            "GET" => ann.get(&server, path).await,
            _ => ann.post(&server, path, body.clone()).await,
        };
        user.assert_error(403, "forbidden");
    }
    // Only the methods of the route table are taken.
    let r = root.delete(&server, "/api/admin/users").await;
    r.assert_error(405, "method_not_allowed");
    assert_eq!(r.header("allow"), "GET, HEAD");
    // A global moderator is staff, but not an admin.

    let r = root
        .post(
            &server,
            "/api/admin/users/ann/role",
            json!({ "role": "global_mod" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let r = ann.get(&server, "/api/admin/users").await;
    r.assert_error(403, "forbidden");
    // Nothing the others tried took effect.
    let r = root.get(&server, "/api/admin/users").await;
    assert_eq!(r.json["users"][1]["role"], "admin");
    assert_eq!(r.json["users"][1]["disabled"], false);
}

#[tokio::test]
async fn role_changes_are_validated() {
    let server = session::server("").await;
    let root = Session::signup(&server, "root", PASSWORD).await;
    Session::signup(&server, "ann", PASSWORD).await;
    let cases = [
        ("ann", json!({}), 400, "missing_field", "role"),
        (
            "ann",
            json!({ "role": "king" }),
            400,
            "invalid_type",
            "role",
        ),
        ("ann", json!({ "role": 1 }), 400, "invalid_type", "role"),
        (
            "ann",
            json!({ "role": "board_mod", "boards": "t" }),
            400,
            "invalid_type",
            "boards",
        ),
        (
            "ann",
            json!({ "role": "board_mod", "boards": [1] }),
            400,
            "invalid_type",
            "boards",
        ),
        (
            "ann",
            json!({ "role": "board_mod", "boards": ["zz"] }),
            404,
            "board_not_found",
            "boards",
        ),
        (
            "ann",
            json!({ "role": "global_mod", "boards": ["t"] }),
            400,
            "invalid_type",
            "boards",
        ),
        (
            "ann",
            json!({ "role": "user", "x": 1 }),
            400,
            "unknown_field",
            "x",
        ),
        (
            "nobody",
            json!({ "role": "user" }),
            404,
            "user_not_found",
            "",
        ),
        (
            "a%20b",
            json!({ "role": "user" }),
            400,
            "invalid_username",
            "username",
        ),
        (
            "%zz",
            json!({ "role": "user" }),
            400,
            "invalid_path",
            "username",
        ),
    ];
    for (name, body, status, code, field) in cases {
        let r = root
            .post(
                &server,
                &format!("/api/admin/users/{name}/role"),
                body.clone(),
            )
            .await;
        r.assert_error(status, code);
        assert_eq!(r.field(), field, "{name} {body}");
    }
    let r = root.get(&server, "/api/admin/users").await;
    assert_eq!(
        r.json["users"][0]["role"], "user",
        "nothing changed: {}",
        r.json
    );
    for query in ["?limit=0", "?limit=1001", "?limit=x", "?page=2"] {
        let r = root.get(&server, &format!("/api/admin/users{query}")).await;
        r.assert_error(400, "invalid_query");
    }
}

#[tokio::test]
async fn users_are_listed_in_pages_without_their_hashes() {
    let server = session::server("").await;
    let root = Session::signup(&server, "root", PASSWORD).await;
    for name in ["cat", "ann", "bob"] {
        Session::signup(&server, name, PASSWORD).await;
    }
    let r = root.get(&server, "/api/admin/users?limit=2").await;
    assert_eq!(r.status, 200, "{}", r.json);
    let names = |r: &crate::harness::Reply| -> Vec<String> {
        r.json["users"]
            .as_array()
            .unwrap()
            .iter()
            .map(|u| u["username"].as_str().unwrap().to_owned())
            .collect()
    };
    assert_eq!(names(&r), ["ann", "bob"]);
    let r = root
        .get(&server, "/api/admin/users?limit=2&after=bob")
        .await;
    assert_eq!(names(&r), ["cat", "root"]);
    let text = r.json.to_string();
    assert!(!text.contains("argon2") && !text.contains("hash"), "{text}");
    assert_eq!(
        r.json["users"][1],
        json!({
            "username": "root",
            "role": "admin",
            "boards": [],
            "disabled": false,
            "created_at": r.json["users"][1]["created_at"],
            "email": null,
        })
    );
}

#[tokio::test]
async fn disabling_a_user_ends_their_sessions() {
    let server = session::server("").await;
    let root = Session::signup(&server, "root", PASSWORD).await;
    let ann = Session::signup(&server, "ann", PASSWORD).await;
    let ann2 = Session::login(&server, "ann", PASSWORD).await;
    let r = root
        .post(
            &server,
            "/api/admin/users/root/disabled",
            json!({ "disabled": true }),
        )
        .await;
    r.assert_error(403, "forbidden");
    for body in [json!({}), json!({ "disabled": "yes" })] {
        let r = root
            .post(&server, "/api/admin/users/ann/disabled", body)
            .await;
        assert_eq!(r.status, 400, "{}", r.json);
    }
    let r = root
        .post(
            &server,
            "/api/admin/users/ann/disabled",
            json!({ "disabled": true }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["user"]["disabled"], true);
    for s in [&ann, &ann2] {
        s.get(&server, "/auth/csrf")
            .await
            .assert_error(403, "not_logged_in");
    }
    let r = server
        .post(
            "/auth/login",
            json!({ "username": "ann", "password": PASSWORD }),
        )
        .await;
    r.assert_error(403, "account_disabled");
    let r = server
        .post(
            "/auth/login",
            json!({ "username": "ann", "password": "wrong password here" }),
        )
        .await;
    r.assert_error(403, "login_failed");
    let r = root
        .post(
            &server,
            "/api/admin/users/ann/disabled",
            json!({ "disabled": false }),
        )
        .await;
    assert_eq!(r.json["user"]["disabled"], false);
    Session::login(&server, "ann", PASSWORD).await;
}

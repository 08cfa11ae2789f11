//! Whole flows: a config admin appoints a board moderator; passwords change; accounts go.

use serde_json::json;

use crate::session::{self, Session, PASSWORD};

const NEW_PASSWORD: &str = "amber lantern 77 quay";

#[tokio::test]
async fn a_config_admin_appoints_a_board_moderator() {
    let server = session::server("[[boards]]\nslug = \"u\"\ntitle = \"Other\"\n").await;
    let root = Session::signup(&server, "Root", PASSWORD).await;
    assert_eq!(root.user["role"], "admin");
    let mo = Session::signup(&server, "mo", PASSWORD).await;
    assert_eq!(mo.user["role"], "user");

    let r = root.get(&server, "/api/admin/users").await;
    assert_eq!(r.status, 200, "{}", r.json);
    let names: Vec<_> = r.json["users"]
        .as_array()
        .unwrap()
        .iter()
        .map(|u| u["username"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["mo", "root"]);

    let r = root
        .post(
            &server,
            "/api/admin/users/MO/role",
            json!({ "role": "board_mod", "boards": ["t", "t"] }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["user"]["role"], "board_mod");
    assert_eq!(r.json["user"]["boards"], json!(["t"]));
    // The moderator's open session sees the new role at once.
    let r = mo.get(&server, "/auth/csrf").await;
    assert_eq!(
        r.json["user"],
        json!({ "username": "mo", "role": "board_mod", "boards": ["t"] })
    );
    let again = Session::login(&server, "mo", PASSWORD).await;
    assert_eq!(again.user["boards"], json!(["t"]));
    // A moderator is not an admin.
    again
        .get(&server, "/api/admin/users")
        .await
        .assert_error(403, "forbidden");
    // Back to a plain user: the boards go with the role.
    let r = root
        .post(
            &server,
            "/api/admin/users/mo/role",
            json!({ "role": "user" }),
        )
        .await;
    assert_eq!(r.json["user"]["boards"], json!([]));
    let r = again.get(&server, "/auth/csrf").await;
    assert_eq!(r.json["user"]["role"], "user");
}

#[tokio::test]
async fn changing_the_password_ends_the_other_sessions() {
    let server = session::server("").await;
    let here = Session::signup(&server, "ann", PASSWORD).await;
    let there = Session::login(&server, "ann", PASSWORD).await;
    let path = "/auth/changePassword";
    let refused = [
        (json!({ "password": PASSWORD }), 400, "missing_field"),
        (
            json!({ "password": PASSWORD, "new_password": "password1" }),
            400,
            "weak_password",
        ),
        (
            json!({ "password": PASSWORD, "new_password": "short" }),
            400,
            "weak_password",
        ),
        (
            json!({ "password": "not the password", "new_password": NEW_PASSWORD }),
            403,
            "wrong_password",
        ),
        (
            json!({ "password": PASSWORD, "new_password": NEW_PASSWORD, "x": 1 }),
            400,
            "unknown_field",
        ),
    ];
    for (body, status, code) in refused {
        here.post(&server, path, body)
            .await
            .assert_error(status, code);
    }
    server
        .post(
            path,
            json!({ "password": PASSWORD, "new_password": NEW_PASSWORD }),
        )
        .await
        .assert_error(403, "not_logged_in");
    assert_eq!(
        there.get(&server, "/auth/csrf").await.status,
        200,
        "nothing changed yet"
    );

    let r = here
        .post(
            &server,
            path,
            json!({ "password": PASSWORD, "new_password": NEW_PASSWORD }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["csrf"], here.csrf.as_str(), "this session goes on");
    assert_eq!(here.get(&server, "/auth/csrf").await.status, 200);
    there
        .get(&server, "/auth/csrf")
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
}

#[tokio::test]
async fn destroying_an_account_needs_its_password() {
    let server = session::server("").await;
    let ann = Session::signup(&server, "ann", PASSWORD).await;
    let other = Session::login(&server, "ann", PASSWORD).await;
    let refused = [
        (json!({}), 400, "missing_field"),
        (json!({ "password": 5 }), 400, "invalid_type"),
        (
            json!({ "password": "not it at all" }),
            403,
            "wrong_password",
        ),
    ];
    for (body, status, code) in refused {
        ann.post(&server, "/auth/destroy", body)
            .await
            .assert_error(status, code);
    }
    let r = ann
        .post(&server, "/auth/destroy", json!({ "password": PASSWORD }))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json, json!({ "destroyed": "ann" }));
    assert!(r.header("set-cookie").contains("Max-Age=0"));
    for s in [&ann, &other] {
        s.get(&server, "/auth/csrf")
            .await
            .assert_error(403, "not_logged_in");
    }
    server
        .post(
            "/auth/login",
            json!({ "username": "ann", "password": PASSWORD }),
        )
        .await
        .assert_error(403, "login_failed");
    // The name is free again.
    Session::signup(&server, "ann", NEW_PASSWORD).await;
}

#[tokio::test]
async fn new_hashing_parameters_still_let_old_passwords_in() {
    let mut server = session::server("").await;
    Session::signup(&server, "ann", PASSWORD).await;
    server.stop();
    server.set_config(&format!(
        "{}\n[accounts]\nsignup = \"open\"\nargon2_memory_kib = 2048\nargon2_iterations = 2\n",
        crate::harness::SMALL_BOARD
    ));
    server.restart();
    // The first login verifies the old hash and stores a new one; the second uses that.
    Session::login(&server, "ann", PASSWORD).await;
    Session::login(&server, "ann", PASSWORD).await;
    server
        .post(
            "/auth/login",
            json!({ "username": "ann", "password": NEW_PASSWORD }),
        )
        .await
        .assert_error(403, "login_failed");
}

//! `POST /auth/login` and `GET /auth/csrf`.

use serde_json::json;

use crate::session::{self, Session, PASSWORD};

#[tokio::test]
async fn wrong_credentials_get_one_answer() {
    let server = session::server("").await;
    Session::signup(&server, "ann", PASSWORD).await;
    let cases = [
        json!({ "username": "ann", "password": "violet staple 42 orbiT" }),
        json!({ "username": "nobody", "password": PASSWORD }),
    ];
    let mut messages = Vec::new();
    for body in cases {
        let r = server.post("/auth/login", body.clone()).await;
        r.assert_error(403, "login_failed");
        assert!(r.header("set-cookie").is_empty(), "{body}");
        messages.push(r.json["error"]["message"].clone());
    }
    assert_eq!(
        messages[0], messages[1],
        "a missing account answers as a wrong password"
    );
    let malformed = [
        (json!({ "username": "ann" }), "missing_field"),
        (
            json!({ "username": "ann", "password": ["x"] }),
            "invalid_type",
        ),
        (
            json!({ "username": "ann", "password": PASSWORD, "x": 1 }),
            "unknown_field",
        ),
    ];
    for (body, code) in malformed {
        server
            .post("/auth/login", body)
            .await
            .assert_error(400, code);
    }
}

#[tokio::test]
async fn login_opens_a_second_session_and_csrf_tells_who_is_there() {
    let server = session::server("").await;
    let first = Session::signup(&server, "ann", PASSWORD).await;
    let second = Session::login(&server, "ANN", PASSWORD).await;
    assert_ne!(first.cookie, second.cookie);
    assert_ne!(first.csrf, second.csrf, "a token per session");
    assert_eq!(
        second.user,
        json!({ "username": "ann", "role": "user", "boards": [] })
    );
    for s in [&first, &second] {
        let r = s.get(&server, "/auth/csrf").await;
        assert_eq!(r.status, 200, "{}", r.json);
        assert_eq!(r.json["csrf"], s.csrf.as_str());
    }
    let anonymous = server.get("/auth/csrf").await;
    anonymous.assert_error(403, "not_logged_in");
    assert!(
        anonymous.header("set-cookie").is_empty(),
        "no cookie to delete"
    );
}

#[tokio::test]
async fn config_admins_are_admin_at_login() {
    // `boss` signs up while not yet an admin, then the config names it.
    let mut server = crate::harness::Server::with_config(&format!(
        "{}\n[accounts]\nsignup = \"open\"\nargon2_memory_kib = 1024\n",
        crate::harness::SMALL_BOARD
    ))
    .await;
    let user = Session::signup(&server, "boss", PASSWORD).await;
    assert_eq!(user.user["role"], "user");
    server.stop();
    server.set_config(&format!(
        "{}\n[accounts]\nsignup = \"open\"\nadmins = [\"boss\"]\nargon2_memory_kib = 1024\n",
        crate::harness::SMALL_BOARD
    ));
    server.restart();
    let r = user.get(&server, "/auth/csrf").await;
    assert_eq!(
        r.json["user"]["role"], "admin",
        "the config decides at once"
    );
    let again = Session::login(&server, "boss", PASSWORD).await;
    assert_eq!(again.user["role"], "admin");
    let users = again.get(&server, "/api/admin/users").await;
    assert_eq!(users.status, 200, "{}", users.json);
}

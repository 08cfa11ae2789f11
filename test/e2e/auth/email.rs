//! Recovery by email through a real SMTP server on loopback: an account's address, the
//! request that never tells whether an account exists, the mailed token, its budgets, and a
//! delivery failure that only the server's log sees.

use serde_json::{json, Value};

use crate::harness::Server;
use crate::mail::MailSink;
use crate::session::{self, Session, PASSWORD};

const NEW_PASSWORD: &str = "quartz meadow 19 ferry";

async fn signup_with_email(server: &Server, name: &str, email: &str) -> Session {
    let body = json!({ "username": name, "password": PASSWORD, "email": email });
    let r = server.post("/auth/signup", body).await;
    assert_eq!(r.status, 201, "{}", r.json);
    Session::from_reply(&r)
}

/// A recovery request from its own address, so the per-address budget is the test's to spend.
async fn recover(server: &Server, from: &str, body: Value) -> crate::harness::Reply {
    let req = server
        .client
        .post(server.url("/auth/recover"))
        .header("x-forwarded-for", from)
        .json(&body);
    server.send(req).await
}

#[tokio::test]
async fn the_address_is_checked_unique_and_guarded_by_the_password() {
    let server = session::server("").await;
    let cases: [(Value, u16, &str); 4] = [
        (json!("ann"), 400, "invalid_email"),
        (json!("ann@exa mple.org"), 400, "invalid_email"),
        (json!(7), 400, "invalid_type"),
        (
            json!(format!("{}@example.org", "a".repeat(250))),
            400,
            "invalid_email",
        ),
    ];
    for (email, status, code) in &cases {
        let body = json!({ "username": "ann", "password": PASSWORD, "email": email });
        let r = server.post("/auth/signup", body).await;
        assert_eq!((r.status.as_u16(), r.code()), (*status, *code), "{email}");
    }
    // Nothing was created by the refused signups.
    server
        .post(
            "/auth/login",
            json!({ "username": "ann", "password": PASSWORD }),
        )
        .await
        .assert_error(403, "login_failed");
    let ann = signup_with_email(&server, "ann", " Ann@Example.ORG ").await;
    let r = ann.get(&server, "/api/me/email").await;
    assert_eq!(r.json, json!({ "email": "ann@example.org" }));
    // One address, one account, whatever its case.
    let body = json!({ "username": "bob", "password": PASSWORD, "email": "ANN@example.org" });
    server
        .post("/auth/signup", body)
        .await
        .assert_error(409, "email_taken");
    let bob = Session::signup(&server, "bob", PASSWORD).await;
    assert_eq!(
        bob.get(&server, "/api/me/email").await.json["email"],
        Value::Null
    );
    server
        .get("/api/me/email")
        .await
        .assert_error(403, "not_logged_in");
    server
        .post(
            "/api/me/email",
            json!({ "email": "x@example.org", "password": PASSWORD }),
        )
        .await
        .assert_error(403, "not_logged_in");
    bob.post_csrf(
        &server,
        "/api/me/email",
        None,
        json!({ "email": "b@example.org", "password": PASSWORD }),
    )
    .await
    .assert_error(403, "csrf_failed");
    let cases: [(Value, u16, &str); 6] = [
        (json!({ "password": PASSWORD }), 400, "missing_field"),
        (json!({ "email": "b@example.org" }), 400, "missing_field"),
        (
            json!({ "email": "b@example.org", "password": "wrong guess here" }),
            403,
            "wrong_password",
        ),
        (
            json!({ "email": "b@", "password": PASSWORD }),
            400,
            "invalid_email",
        ),
        (
            json!({ "email": "ann@example.org", "password": PASSWORD }),
            409,
            "email_taken",
        ),
        (
            json!({ "email": "b@example.org", "password": PASSWORD, "x": 1 }),
            400,
            "unknown_field",
        ),
    ];
    for (body, status, code) in cases {
        let r = bob.post(&server, "/api/me/email", body.clone()).await;
        assert_eq!((r.status.as_u16(), r.code()), (status, code), "{body}");
    }
    assert_eq!(
        bob.get(&server, "/api/me/email").await.json["email"],
        Value::Null
    );
    let r = bob
        .post(
            &server,
            "/api/me/email",
            json!({ "email": "Bob@Example.org", "password": PASSWORD }),
        )
        .await;
    assert_eq!(r.json, json!({ "email": "bob@example.org" }));
    // Ann gives hers up; bob may then take it, and his old one is free again.
    let r = ann
        .post(
            &server,
            "/api/me/email",
            json!({ "email": null, "password": PASSWORD }),
        )
        .await;
    assert_eq!(r.json, json!({ "email": null }));
    let r = bob
        .post(
            &server,
            "/api/me/email",
            json!({ "email": "ann@example.org", "password": PASSWORD }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    signup_with_email(&server, "cid", "bob@example.org").await;
    // Admins see the addresses in the user list.
    let root = Session::signup(&server, "root", PASSWORD).await;
    let users = root.get(&server, "/api/admin/users").await.json["users"].clone();
    let email_of = |name: &str| {
        users
            .as_array()
            .unwrap()
            .iter()
            .find(|u| u["username"] == name)
            .unwrap()["email"]
            .clone()
    };
    assert_eq!(email_of("bob"), "ann@example.org");
    assert_eq!(email_of("ann"), Value::Null);
}

#[tokio::test]
async fn a_mailed_token_resets_the_password_once_and_ends_every_session() {
    let sink = MailSink::start();
    let server = session::server(&sink.config("reset_url = \"http://wani.test/reset#\"")).await;
    let ann = signup_with_email(&server, "ann", "ann@example.org").await;
    let ann2 = Session::login(&server, "ann", PASSWORD).await;
    let r = recover(&server, "10.1.0.1", json!({ "email": "ANN@example.org" })).await;
    assert_eq!(
        (r.status.as_u16(), &r.json),
        (202, &json!({ "accepted": true }))
    );
    let mail = sink.wait_for(1).await.remove(0);
    assert_eq!(mail.to, "ann@example.org");
    assert_eq!(mail.subject, "Password reset");
    assert!(mail.body.contains("`ann`"), "{}", mail.body);
    let token = mail.token();
    assert!(
        mail.body
            .contains(&format!("http://wani.test/reset#{token}")),
        "{}",
        mail.body
    );
    // By username too: a second, different token.
    let r = recover(&server, "10.1.0.1", json!({ "username": "ANN" })).await;
    assert_eq!(r.status, 202);
    let second = sink.wait_for(2).await.remove(1).token();
    assert_ne!(second, token);
    let r = server
        .post(
            "/auth/reset",
            json!({ "token": token, "password": NEW_PASSWORD }),
        )
        .await;
    assert_eq!(
        (r.status.as_u16(), &r.json),
        (200, &json!({ "reset": "ann" }))
    );
    for s in [&ann, &ann2] {
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
    Session::login(&server, "ann", NEW_PASSWORD).await;
    server
        .post(
            "/auth/reset",
            json!({ "token": token, "password": "other 88 long phrase" }),
        )
        .await
        .assert_error(403, "reset_token_invalid");
    Session::login(&server, "ann", NEW_PASSWORD).await;
}

#[tokio::test]
async fn the_answer_never_tells_whether_an_account_exists() {
    let sink = MailSink::start();
    let server = session::server(&sink.config("")).await;
    signup_with_email(&server, "ann", "ann@example.org").await;
    let bob = Session::signup(&server, "bob", PASSWORD).await;
    let root = Session::signup(&server, "root", PASSWORD).await;
    signup_with_email(&server, "dee", "dee@example.org").await;
    let r = root
        .post(
            &server,
            "/api/admin/users/dee/disabled",
            json!({ "disabled": true }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    drop(bob);
    let bodies = [
        json!({ "username": "nobody" }),
        json!({ "email": "nobody@example.org" }),
        json!({ "username": "bob" }),
        json!({ "username": "dee" }),
        json!({ "email": "ann@example.org" }),
    ];
    for (i, body) in bodies.iter().enumerate() {
        let r = recover(&server, &format!("10.2.0.{i}"), body.clone()).await;
        assert_eq!(
            (r.status.as_u16(), &r.json),
            (202, &json!({ "accepted": true })),
            "{body}"
        );
    }
    // Only ann's address got a message, once every request has been handled.
    assert_eq!(server.log_count("recover_no_account", 2).await, 2);
    assert_eq!(server.log_count("recover_no_address", 2).await, 2);
    let mails = sink.wait_for(1).await;
    assert_eq!(server.log_count("recover_mail_sent", 1).await, 1);
    assert_eq!(mails.len(), 1);
    assert_eq!(mails[0].to, "ann@example.org");
}

#[tokio::test]
async fn malformed_requests_are_refused_and_budgets_hold() {
    let sink = MailSink::start();
    let config = sink.config("recover_per_address_per_hour = 3\nrecover_per_account_per_hour = 2");
    let server = session::server(&config).await;
    signup_with_email(&server, "ann", "ann@example.org").await;
    let cases: [(Value, u16, &str); 7] = [
        (json!({}), 400, "missing_field"),
        (json!({ "username": null }), 400, "invalid_type"),
        (
            json!({ "username": "ann", "email": "ann@example.org" }),
            400,
            "invalid_value",
        ),
        (json!({ "email": "ann" }), 400, "invalid_email"),
        (json!({ "username": "a/b" }), 400, "invalid_username"),
        (json!({ "username": 1 }), 400, "invalid_type"),
        (json!({ "username": "ann", "x": 1 }), 400, "unknown_field"),
    ];
    for (body, status, code) in cases {
        let r = recover(&server, "10.3.0.1", body.clone()).await;
        assert_eq!((r.status.as_u16(), r.code()), (status, code), "{body}");
    }
    let r = server
        .post_raw("/auth/recover", Some("application/json"), "{")
        .await;
    r.assert_error(400, "invalid_json");
    // Three requests per network and hour, whoever they name; then 429 with Retry-After.
    for name in ["nobody", "noone", "none"] {
        assert_eq!(
            recover(&server, "10.3.0.2", json!({ "username": name }))
                .await
                .status,
            202
        );
    }
    let r = recover(&server, "10.3.0.2", json!({ "username": "ann" })).await;
    r.assert_error(429, "too_many_attempts");
    assert!(r.header("retry-after").parse::<u64>().unwrap() > 0);
    // Two messages per account and hour: the third request is answered alike, sends nothing.
    for from in ["10.3.1.1", "10.3.1.2", "10.3.1.3"] {
        let r = recover(&server, from, json!({ "username": "ann" })).await;
        assert_eq!(r.status, 202);
    }
    assert_eq!(server.log_count("recover_account_throttled", 1).await, 1);
    assert_eq!(server.log_count("recover_mail_sent", 2).await, 2);
    assert_eq!(sink.wait_for(2).await.len(), 2);
}

#[tokio::test]
async fn a_failed_delivery_goes_to_the_log_not_to_the_client() {
    // A port nothing listens on: the connection is refused.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = closed.local_addr().unwrap().port();
    drop(closed);
    let config = format!(
        "[smtp]\nhost = \"127.0.0.1\"\nport = {port}\nfrom = \"noreply@wani.test\"\ntimeout_secs = 5"
    );
    let server = session::server(&config).await;
    signup_with_email(&server, "ann", "ann@example.org").await;
    let r = recover(&server, "10.4.0.1", json!({ "username": "ann" })).await;
    assert_eq!(
        (r.status.as_u16(), &r.json),
        (202, &json!({ "accepted": true }))
    );
    assert_eq!(server.log_count("recover_mail_failed", 1).await, 1);
}

#[tokio::test]
async fn without_smtp_nothing_is_sent_and_admins_issue_links() {
    let server = session::server("").await;
    signup_with_email(&server, "ann", "ann@example.org").await;
    let r = recover(&server, "10.5.0.1", json!({ "username": "ann" })).await;
    assert_eq!(
        (r.status.as_u16(), &r.json),
        (202, &json!({ "accepted": true }))
    );
    // Nothing is spawned without [smtp]: once this line is in, the request is fully handled.
    assert_eq!(server.log_count("recover_without_smtp", 1).await, 1);
    assert!(!server.logs().iter().any(|l| l.contains("recover_mail")));
}

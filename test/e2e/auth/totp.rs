//! The TOTP second factor: enrolment and its confirmation, login with a code or a recovery
//! code, replays refused, turning it off, and staff that must enrol first. Codes are computed
//! here from the secret the server hands out (RFC 6238), independently of the server's code.

use hmac::{Hmac, KeyInit, Mac};
use serde_json::{json, Value};
use sha1::Sha1;

use crate::harness::{Reply, Server};
use crate::session::{self, Session, PASSWORD};

fn unbase32(text: &str) -> Vec<u8> {
    let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    let (mut out, mut buffer, mut bits) = (Vec::new(), 0u64, 0);
    for c in text.bytes() {
        let v = alphabet.iter().position(|&a| a == c).expect("base32") as u64;
        buffer = (buffer << 5) | v;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    out
}

/// A TOTP secret with the time step it was first used at. Codes are computed from that step,
/// not from the clock at each call: a test that crosses a 30-second boundary halfway would
/// otherwise ask for "the next step's code" of a step the server has already seen spent.
pub struct Totp {
    pub secret: String,
    step: i64,
}

impl Totp {
    pub fn new(secret: &str) -> Totp {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_secs() as i64;
        Totp {
            secret: secret.to_owned(),
            step: now / 30,
        }
    }

    /// The code of the step `offset` steps from the first one.
    pub fn code(&self, offset: i64) -> String {
        code_at(&self.secret, (self.step + offset) as u64)
    }
}

fn code_at(secret: &str, step: u64) -> String {
    let mut mac = <Hmac<Sha1> as KeyInit>::new_from_slice(&unbase32(secret)).unwrap();
    mac.update(&step.to_be_bytes());
    let hash = mac.finalize().into_bytes();
    let at = (hash[19] & 0x0f) as usize;
    let value = u32::from_be_bytes([hash[at] & 0x7f, hash[at + 1], hash[at + 2], hash[at + 3]]);
    format!("{:06}", value % 1_000_000)
}

async fn login(server: &Server, name: &str, totp: Option<&str>) -> Reply {
    let mut body = json!({ "username": name, "password": PASSWORD });
    if let Some(totp) = totp {
        body["totp"] = json!(totp);
    }
    server.post("/auth/login", body).await
}

/// Enrols and confirms; returns the secret and the recovery codes.
async fn turn_on(server: &Server, s: &Session) -> (Totp, Vec<String>) {
    let r = s.post(server, "/api/me/totp", json!({})).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let totp = Totp::new(r.json["secret"].as_str().unwrap());
    let r = s
        .post(
            server,
            "/api/me/totp/confirm",
            json!({ "code": totp.code(0) }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let codes = r.json["recovery_codes"].as_array().unwrap();
    let codes = codes
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    (totp, codes)
}

#[tokio::test]
async fn enrolment_is_refused_without_a_session_or_csrf_and_checks_its_body() {
    let server = session::server("").await;
    let ann = Session::signup(&server, "ann", PASSWORD).await;
    for path in [
        "/api/me/totp",
        "/api/me/totp/confirm",
        "/api/me/totp/disable",
    ] {
        let r = server.post(path, json!({})).await;
        r.assert_error(403, "not_logged_in");
        let r = ann.post_csrf(&server, path, None, json!({})).await;
        r.assert_error(403, "csrf_failed");
        let r = ann
            .post_csrf(&server, path, Some("forged"), json!({}))
            .await;
        r.assert_error(403, "csrf_failed");
    }
    let cases: [(&str, Value, u16, &str); 9] = [
        ("/api/me/totp", json!({ "x": 1 }), 400, "unknown_field"),
        ("/api/me/totp/confirm", json!({}), 400, "missing_field"),
        (
            "/api/me/totp/confirm",
            json!({ "code": 123456 }),
            400,
            "invalid_type",
        ),
        (
            "/api/me/totp/confirm",
            json!({ "code": "1".repeat(65) }),
            400,
            "too_long",
        ),
        (
            "/api/me/totp/confirm",
            json!({ "code": "123456", "x": 1 }),
            400,
            "unknown_field",
        ),
        // Nothing waits for confirmation, nothing is on.
        (
            "/api/me/totp/confirm",
            json!({ "code": "123456" }),
            409,
            "totp_conflict",
        ),
        (
            "/api/me/totp/disable",
            json!({ "password": PASSWORD }),
            409,
            "totp_conflict",
        ),
        (
            "/api/me/totp/disable",
            json!({ "code": [] }),
            400,
            "invalid_type",
        ),
        (
            "/api/me/totp/disable",
            json!({ "pass": PASSWORD }),
            400,
            "unknown_field",
        ),
    ];
    for (path, body, status, error) in cases {
        let r = ann.post(&server, path, body.clone()).await;
        assert_eq!(
            (r.status.as_u16(), r.code()),
            (status, error),
            "{path} {body}"
        );
    }
    // A login code on an account without TOTP is not asked for, and a malformed one refused.
    let r = login(&server, "ann", Some("123456")).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let r = server
        .post(
            "/auth/login",
            json!({ "username": "ann", "password": PASSWORD, "totp": 1 }),
        )
        .await;
    r.assert_error(400, "invalid_type");
    let r = server
        .post(
            "/auth/signup",
            json!({ "username": "bo", "password": PASSWORD, "totp": "1" }),
        )
        .await;
    r.assert_error(400, "unknown_field");
}

#[tokio::test]
async fn enrol_confirm_and_log_in_with_codes_never_replayed() {
    // Many wrong codes on purpose: no delay may interfere.
    let server = session::server("login_free_attempts = 100").await;
    let ann = Session::signup(&server, "ann", PASSWORD).await;
    let r = ann.post(&server, "/api/me/totp", json!({})).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["active"], false);
    let first = r.json["secret"].as_str().unwrap().to_owned();
    // Enrolling again before confirming replaces the secret.
    let r = ann.post(&server, "/api/me/totp", json!({})).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let secret = r.json["secret"].as_str().unwrap().to_owned();
    assert_ne!(secret, first);
    let totp = Totp::new(&secret);
    assert_eq!(unbase32(&secret).len(), 20);
    let uri = r.json["uri"].as_str().unwrap();
    assert!(
        uri.starts_with("otpauth://totp/wani:ann?") && uri.contains(&format!("secret={secret}")),
        "{uri}"
    );
    // Not on yet: the password alone logs in.
    assert_eq!(login(&server, "ann", None).await.status, 200);

    // A code of the replaced secret, or of a step outside the window, does not confirm.
    for wrong in [Totp::new(&first).code(0), totp.code(3), totp.code(-3)] {
        let r = ann
            .post(&server, "/api/me/totp/confirm", json!({ "code": wrong }))
            .await;
        r.assert_error(403, "totp_failed");
    }
    let r = ann
        .post(
            &server,
            "/api/me/totp/confirm",
            json!({ "code": totp.code(0) }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["active"], true);
    let recovery: Vec<String> = r.json["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    assert_eq!(recovery.len(), 10);
    let distinct: std::collections::HashSet<_> = recovery.iter().collect();
    assert_eq!(distinct.len(), 10);
    ann.post(
        &server,
        "/api/me/totp/confirm",
        json!({ "code": totp.code(1) }),
    )
    .await
    .assert_error(409, "totp_conflict");
    ann.post(&server, "/api/me/totp", json!({}))
        .await
        .assert_error(409, "totp_conflict");

    // The password alone no longer logs in, and makes no session.
    let r = login(&server, "ann", None).await;
    r.assert_error(403, "totp_required");
    assert!(r.header("set-cookie").is_empty());
    // A wrong password with a right code is still a wrong password.
    let r = server
        .post(
            "/auth/login",
            json!({ "username": "ann", "password": "wrong guess here", "totp": totp.code(1) }),
        )
        .await;
    r.assert_error(403, "login_failed");
    // The confirming code's step is spent; the next step's code works once; earlier ones never.
    let r = login(&server, "ann", Some(&totp.code(0))).await;
    r.assert_error(403, "totp_failed");
    assert!(r.header("set-cookie").is_empty());
    let r = login(&server, "ann", Some(&totp.code(1))).await;
    assert_eq!(r.status, 200, "{}", r.json);
    Session::from_reply(&r);
    for replay in [totp.code(1), totp.code(0), totp.code(-1)] {
        login(&server, "ann", Some(&replay))
            .await
            .assert_error(403, "totp_failed");
    }
    for wrong in ["12345", "abcdef", "1234567", "zzzzz-zzzzz"] {
        login(&server, "ann", Some(wrong))
            .await
            .assert_error(403, "totp_failed");
    }

    // A recovery code logs in once; case, spaces and dashes do not matter.
    let r = login(&server, "ann", Some(&recovery[0])).await;
    assert_eq!(r.status, 200, "{}", r.json);
    login(&server, "ann", Some(&recovery[0]))
        .await
        .assert_error(403, "totp_failed");
    let typed = recovery[1].to_uppercase().replace('-', " ");
    assert_eq!(login(&server, "ann", Some(&typed)).await.status, 200);
    login(&server, "ann", Some(&recovery[1]))
        .await
        .assert_error(403, "totp_failed");
    // The others still work, and TOTP survives a restart of the server.
    let mut server = server;
    server.stop();
    server.restart();
    login(&server, "ann", None)
        .await
        .assert_error(403, "totp_required");
    assert_eq!(login(&server, "ann", Some(&recovery[2])).await.status, 200);
    login(&server, "ann", Some(&totp.code(1)))
        .await
        .assert_error(403, "totp_failed");
}

#[tokio::test]
async fn wrong_codes_count_as_failed_logins() {
    let server = session::server("login_free_attempts = 2\nlogin_max_delay_secs = 60").await;
    let ann = Session::signup(&server, "ann", PASSWORD).await;
    let (totp, _) = turn_on(&server, &ann).await;
    for _ in 0..3 {
        login(&server, "ann", Some("zzzzz-zzzzz"))
            .await
            .assert_error(403, "totp_failed");
    }
    // Delayed now, even with the right code.
    let r = login(&server, "ann", Some(&totp.code(1))).await;
    r.assert_error(429, "too_many_attempts");
    assert!(!r.header("retry-after").is_empty());
}

#[tokio::test]
async fn turning_totp_off_needs_the_password_or_a_code() {
    let server = session::server("").await;
    let ann = Session::signup(&server, "ann", PASSWORD).await;
    let (totp, recovery) = turn_on(&server, &ann).await;
    let cases: [(Value, u16, &str); 5] = [
        (json!({}), 400, "missing_field"),
        (
            json!({ "password": PASSWORD, "code": totp.code(1) }),
            400,
            "missing_field",
        ),
        (
            json!({ "password": "wrong guess here" }),
            403,
            "wrong_password",
        ),
        (json!({ "code": "zzzzz-zzzzz" }), 403, "totp_failed"),
        // The confirming step is spent.
        (json!({ "code": totp.code(0) }), 403, "totp_failed"),
    ];
    for (body, status, error) in cases {
        let r = ann
            .post(&server, "/api/me/totp/disable", body.clone())
            .await;
        assert_eq!((r.status.as_u16(), r.code()), (status, error), "{body}");
    }
    login(&server, "ann", None)
        .await
        .assert_error(403, "totp_required");
    // A recovery code turns it off.
    let r = ann
        .post(
            &server,
            "/api/me/totp/disable",
            json!({ "code": recovery[0] }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.json["active"], false);
    assert_eq!(login(&server, "ann", None).await.status, 200);
    ann.post(
        &server,
        "/api/me/totp/disable",
        json!({ "password": PASSWORD }),
    )
    .await
    .assert_error(409, "totp_conflict");
    // On again with a new secret (the old recovery codes are gone), off with the password.
    let (_, again) = turn_on(&server, &ann).await;
    assert!(again.iter().all(|c| !recovery.contains(c)));
    login(&server, "ann", Some(&recovery[1]))
        .await
        .assert_error(403, "totp_failed");
    let r = ann
        .post(
            &server,
            "/api/me/totp/disable",
            json!({ "password": PASSWORD }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(login(&server, "ann", None).await.status, 200);
    // Deleting an account deletes its TOTP: a new account of the same name starts without.
    turn_on(&server, &ann).await;
    let r = ann
        .post(&server, "/auth/destroy", json!({ "password": PASSWORD }))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let ann = Session::signup(&server, "ann", PASSWORD).await;
    assert_eq!(login(&server, "ann", None).await.status, 200);
    turn_on(&server, &ann).await;
}

#[tokio::test]
async fn staff_act_as_users_until_they_enrol_when_config_requires_it() {
    let server = session::server("require_totp_for_staff = true").await;
    let root = Session::signup(&server, "root", PASSWORD).await;
    let ann = Session::signup(&server, "ann", PASSWORD).await;
    let r = root
        .post(
            &server,
            "/api/admin/users/ann/role",
            json!({ "role": "global_mod" }),
        )
        .await;
    r.assert_error(403, "totp_enrolment_required");
    root.get(&server, "/api/admin/users")
        .await
        .assert_error(403, "totp_enrolment_required");
    // A plain user gets the usual answer.
    ann.get(&server, "/api/admin/users")
        .await
        .assert_error(403, "forbidden");
    let r = root.get(&server, "/auth/csrf").await;
    assert_eq!(r.json["user"]["role"], "user", "{}", r.json);
    let thread = server.thread("t", "hello").await;
    let path = format!("/api/boards/t/threads/{thread}/posts");
    root.post(&server, &path, json!({ "body": "x", "capcode": "admin" }))
        .await
        .assert_error(403, "capcode_not_allowed");
    // Meanwhile it may post without a capcode, and enrol.
    let r = root.post(&server, &path, json!({ "body": "x" })).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let (totp, _) = turn_on(&server, &root).await;
    // The same session has its rights from the next request on.
    let r = root.get(&server, "/api/admin/users").await;
    assert_eq!(r.status, 200, "{}", r.json);
    let r = root
        .post(
            &server,
            "/api/admin/users/ann/role",
            json!({ "role": "global_mod" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    // The new global moderator acts as a user until it enrols too.
    let r = ann.get(&server, "/auth/csrf").await;
    assert_eq!(r.json["user"]["role"], "user", "{}", r.json);
    ann.post(&server, &path, json!({ "body": "x", "capcode": "mod" }))
        .await
        .assert_error(403, "capcode_not_allowed");
    turn_on(&server, &ann).await;
    let r = ann
        .post(&server, &path, json!({ "body": "x", "capcode": "mod" }))
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    // An API token stands for its owner as the session does, second factor included; and it
    // cannot manage the second factor itself.
    let new = json!({ "name": "script", "expires_days": 1, "scope": "admin" });
    let r = root.post(&server, "/api/me/tokens", new).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let token = r.json["secret"].as_str().unwrap().to_owned();
    let script = reqwest::Client::new();
    let users = server.url("/api/admin/users");
    let r = server.send(script.get(&users).bearer_auth(&token)).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let disable = server.url("/api/me/totp/disable");
    let body = json!({ "password": PASSWORD });
    let r = server
        .send(script.post(&disable).bearer_auth(&token).json(&body))
        .await;
    r.assert_error(403, "forbidden");
    // Turning it off takes the rights away again, from the session and the token alike.
    let r = root
        .post(
            &server,
            "/api/me/totp/disable",
            json!({ "code": totp.code(1) }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    root.get(&server, "/api/admin/users")
        .await
        .assert_error(403, "totp_enrolment_required");
    let r = server.send(script.get(&users).bearer_auth(&token)).await;
    r.assert_error(403, "totp_enrolment_required");
}

#[tokio::test]
async fn an_admin_clears_a_lost_second_factor() {
    let server = session::server("").await;
    let root = Session::signup(&server, "root", PASSWORD).await;
    let ann = Session::signup(&server, "ann", PASSWORD).await;
    Session::signup(&server, "bob", PASSWORD).await;
    turn_on(&server, &ann).await;
    login(&server, "ann", None)
        .await
        .assert_error(403, "totp_required");
    let path = "/api/admin/users/ann/totp/clear";
    server
        .post(path, json!({}))
        .await
        .assert_error(403, "not_logged_in");
    ann.post(&server, path, json!({}))
        .await
        .assert_error(403, "forbidden");
    root.post_csrf(&server, path, None, json!({}))
        .await
        .assert_error(403, "csrf_failed");
    let cases: [(&str, Value, u16, &str); 5] = [
        (path, json!({ "x": 1 }), 400, "unknown_field"),
        (path, json!({ "reason": 5 }), 400, "invalid_type"),
        (path, json!({ "reason": "a".repeat(501) }), 400, "too_long"),
        (
            path,
            json!({ "reason": "a\u{7}b" }),
            400,
            "control_characters",
        ),
        (
            "/api/admin/users/nobody/totp/clear",
            json!({}),
            404,
            "user_not_found",
        ),
    ];
    for (path, body, status, code) in cases {
        let r = root.post(&server, path, body.clone()).await;
        assert_eq!((r.status.as_u16(), r.code()), (status, code), "{body}");
    }
    // Nothing changed: ann still needs a code.
    login(&server, "ann", None)
        .await
        .assert_error(403, "totp_required");
    let body = json!({ "reason": "lost phone, identity checked in person" });
    let r = root.post(&server, path, body).await;
    assert_eq!(
        (r.status.as_u16(), &r.json),
        (200, &json!({ "cleared": "ann" }))
    );
    assert_eq!(login(&server, "ann", None).await.status, 200);
    // Nothing left to clear, on ann or on bob, who never had one.
    for name in ["ann", "bob"] {
        let path = format!("/api/admin/users/{name}/totp/clear");
        let r = root.post(&server, &path, json!({})).await;
        r.assert_error(409, "totp_conflict");
    }
    // Ann may enrol again.
    let ann = Session::login(&server, "ann", PASSWORD).await;
    turn_on(&server, &ann).await;
}

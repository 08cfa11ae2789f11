//! Nothing secret reaches the log: a server goes through every account route, right and
//! wrong, then its whole log output is searched for each password, cookie, CSRF token, API
//! token and reset token used, a mailed one included.

use std::process::Command;

use serde_json::json;

use crate::harness::BIN;
use crate::mail::MailSink;
use crate::session::{self, Session, PASSWORD};

#[tokio::test]
async fn no_secret_appears_in_the_log() {
    let sink = MailSink::start();
    let server = session::server(&sink.config("")).await;
    let new_password = "quartz meadow 19 ferry";
    let wrong = ["wrong horse battery", "another wrong guess"];
    let mut secrets: Vec<String> = vec![PASSWORD.into(), new_password.into()];
    secrets.extend(wrong.iter().map(|s| s.to_string()));

    let root = Session::signup(&server, "root", PASSWORD).await;
    let ann = Session::signup(&server, "ann", PASSWORD).await;
    let ann2 = Session::login(&server, "ann", PASSWORD).await;
    for w in wrong {
        for name in ["ann", "nobody"] {
            let r = server
                .post("/auth/login", json!({ "username": name, "password": w }))
                .await;
            assert!(matches!(r.status.as_u16(), 403 | 429), "{}", r.json);
        }
    }
    let r = ann
        .post_csrf(&server, "/auth/logout", Some(&root.csrf), json!({}))
        .await;
    r.assert_error(403, "csrf_failed");
    let r = ann
        .post(&server, "/auth/destroy", json!({ "password": wrong[0] }))
        .await;
    r.assert_error(403, "wrong_password");
    let r = ann
        .post(
            &server,
            "/auth/changePassword",
            json!({ "password": PASSWORD, "new_password": new_password }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    ann2.get(&server, "/auth/csrf")
        .await
        .assert_error(403, "not_logged_in");
    let r = root
        .post(
            &server,
            "/api/admin/users/ann/role",
            json!({ "role": "global_mod" }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let thread = server.thread("t", "hello").await;
    let r = root
        .post(
            &server,
            &format!("/api/boards/t/threads/{thread}/posts"),
            json!({ "body": "staff", "capcode": "admin" }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let forged = Session {
        cookie: format!("{}x", root.cookie),
        ..root.clone()
    };
    forged
        .get(&server, "/auth/csrf")
        .await
        .assert_error(403, "not_logged_in");
    let out = Command::new(BIN)
        .args([
            "user", "add", "cli", "--role", "janitor", "--boards", "t", "--data",
        ])
        .arg(server.data_dir())
        .output()
        .unwrap();
    assert!(out.status.success());
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let cli_password = stdout.trim_end().rsplit(' ').next().unwrap().to_owned();
    let cli = Session::login(&server, "cli", &cli_password).await;
    secrets.push(cli_password);
    let r = ann.post(&server, "/auth/logout", json!({})).await;
    assert_eq!(r.status, 200);
    let r = cli
        .post(
            &server,
            "/auth/destroy",
            json!({ "password": secrets.last().unwrap() }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);

    // The second factor: its secret and recovery codes (shorter than the other secrets, but
    // random base32 that no other log text holds).
    let r = root.post(&server, "/api/me/totp", json!({})).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let totp_secret = super::totp::Totp::new(r.json["secret"].as_str().unwrap());
    let first = totp_secret.code(0);
    let r = root
        .post(&server, "/api/me/totp/confirm", json!({ "code": first }))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    let recovery: Vec<String> = r.json["recovery_codes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c.as_str().unwrap().to_owned())
        .collect();
    let next = totp_secret.code(1);
    for totp in [next, recovery[9].to_uppercase(), recovery[0].clone()] {
        // From an address of its own: the wrong guesses above delay this one.
        let body = json!({ "username": "root", "password": PASSWORD, "totp": totp });
        let login = || {
            server
                .client
                .post(server.url("/auth/login"))
                .header("x-forwarded-for", "10.7.7.7")
                .json(&body)
        };
        assert_eq!(server.send(login()).await.status, 200);
        server.send(login()).await.assert_error(403, "totp_failed");
    }
    let r = root
        .post(
            &server,
            "/api/me/totp/disable",
            json!({ "code": recovery[1] }),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    secrets.push(totp_secret.secret);
    // A password reset token, spent on a new password, then presented again.
    let r = root
        .post(&server, "/api/admin/users/ann/reset", json!({}))
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
    let token = r.json["token"].as_str().unwrap().to_owned();
    let reset_password = "cobalt lantern 77 ridge";
    for status in [200, 403] {
        let body = json!({ "token": token, "password": reset_password });
        assert_eq!(server.post("/auth/reset", body).await.status, status);
    }
    secrets.push(token);
    secrets.push(reset_password.into());
    // A reset token mailed through SMTP, spent, then presented again.
    let ann3 = Session::login(&server, "ann", reset_password).await;
    let body = json!({ "email": "ann@example.org", "password": reset_password });
    assert_eq!(ann3.post(&server, "/api/me/email", body).await.status, 200);
    let r = server
        .post("/auth/recover", json!({ "email": "ann@example.org" }))
        .await;
    assert_eq!(r.status, 202, "{}", r.json);
    let mailed = sink.wait_for(1).await[0].token();
    let mailed_password = "amber harbor 63 thistle";
    for status in [200, 403] {
        let body = json!({ "token": mailed, "password": mailed_password });
        assert_eq!(server.post("/auth/reset", body).await.status, status);
    }
    secrets.push(mailed);
    secrets.push(mailed_password.into());
    // An API token: created, used by a script with no cookie, refused once revoked.
    let new = json!({ "name": "script", "expires_days": 1, "scope": "admin" });
    let r = root.post(&server, "/api/me/tokens", new).await;
    assert_eq!(r.status, 201, "{}", r.json);
    let token = r.json["secret"].as_str().unwrap().to_owned();
    let id = r.json["token"]["id"].as_str().unwrap().to_owned();
    let script = reqwest::Client::new();
    let users = server.url("/api/admin/users");
    let r = server.send(script.get(&users).bearer_auth(&token)).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let r = root.delete(&server, &format!("/api/me/tokens/{id}")).await;
    assert_eq!(r.status, 200, "{}", r.json);
    let r = server.send(script.get(&users).bearer_auth(&token)).await;
    r.assert_error(403, "token_invalid");
    secrets.push(token.trim_start_matches("wani_").to_owned());

    for s in [&root, &ann, &ann2, &cli, &ann3] {
        secrets.push(s.cookie.split_once('=').unwrap().1.to_owned());
        secrets.push(s.csrf.clone());
    }
    // The log is complete once the last request's own line is in.
    assert_eq!(server.get("/healthz").await.status, 200);
    assert_eq!(server.log_count("/healthz", 1).await, 1);
    let logs = server.logs();
    assert!(logs.len() > 30, "the log was captured: {}", logs.len());
    assert!(logs.iter().any(|l| l.contains("login_failed")));
    for code in &recovery {
        for line in &logs {
            assert!(
                !line.contains(code.as_str()),
                "a recovery code is in the log: {line}"
            );
        }
    }
    for secret in &secrets {
        assert!(secret.len() >= 16, "{secret}");
        for line in &logs {
            assert!(
                !line.contains(secret.as_str()),
                "a secret is in the log: {line}"
            );
        }
    }
}

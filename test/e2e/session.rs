//! A logged-in client for the tests: the session cookie and CSRF token, sent with each request.

use reqwest::Method;
use serde_json::{json, Value};

use crate::harness::{Reply, Server};

/// The `[accounts]` section most tests use: `root` is a config admin, signup is open, and
/// hashing is cheap so tests stay quick (the parameters are the config's, not the defaults).
pub const ACCOUNTS: &str = r#"
[accounts]
signup = "open"
admins = ["root"]
argon2_memory_kib = 1024
argon2_iterations = 1
"#;

/// A password no list of common passwords holds.
pub const PASSWORD: &str = "violet staple 42 orbit";

/// A logged-in client.
#[derive(Debug, Clone)]
pub struct Session {
    /// `name=value`, as sent in the `Cookie` header.
    pub cookie: String,
    pub csrf: String,
    /// The `user` of the login answer: `username`, `role`, `boards`.
    pub user: Value,
}

impl Session {
    /// Signs up (201) and returns the session the answer opened.
    pub async fn signup(server: &Server, name: &str, password: &str) -> Session {
        let r = server
            .post(
                "/auth/signup",
                json!({ "username": name, "password": password }),
            )
            .await;
        assert_eq!(r.status, 201, "signup as {name}: {}", r.json);
        Session::from_reply(&r)
    }

    /// Logs in (200) and returns the new session.
    pub async fn login(server: &Server, name: &str, password: &str) -> Session {
        let r = server
            .post(
                "/auth/login",
                json!({ "username": name, "password": password }),
            )
            .await;
        assert_eq!(r.status, 200, "login as {name}: {}", r.json);
        Session::from_reply(&r)
    }

    /// The session a signup or login answer opened.
    #[track_caller]
    pub fn from_reply(r: &Reply) -> Session {
        let set_cookie = r.header("set-cookie");
        let cookie = set_cookie.split(';').next().unwrap_or("").to_owned();
        assert!(
            cookie.contains('=') && !cookie.ends_with('='),
            "no session cookie: {set_cookie:?}"
        );
        Session {
            cookie,
            csrf: r.json["csrf"].as_str().expect("a csrf token").to_owned(),
            user: r.json["user"].clone(),
        }
    }

    pub fn username(&self) -> &str {
        self.user["username"].as_str().unwrap_or("")
    }

    /// A request with the cookie and the CSRF token.
    pub fn request(&self, server: &Server, method: Method, path: &str) -> reqwest::RequestBuilder {
        server
            .client
            .request(method, server.url(path))
            .header("cookie", &self.cookie)
            .header("x-csrf-token", &self.csrf)
    }

    pub async fn get(&self, server: &Server, path: &str) -> Reply {
        server.send(self.request(server, Method::GET, path)).await
    }

    pub async fn post(&self, server: &Server, path: &str, body: Value) -> Reply {
        server
            .send(self.request(server, Method::POST, path).json(&body))
            .await
    }

    pub async fn delete(&self, server: &Server, path: &str) -> Reply {
        server
            .send(self.request(server, Method::DELETE, path))
            .await
    }

    /// A POST with the cookie but with the CSRF token only as given in `csrf_header` (none when
    /// `None`): for the tests that break the CSRF check.
    pub async fn post_csrf(
        &self,
        server: &Server,
        path: &str,
        csrf_header: Option<&str>,
        body: Value,
    ) -> Reply {
        let mut req = server
            .client
            .post(server.url(path))
            .header("cookie", &self.cookie)
            .json(&body);
        if let Some(token) = csrf_header {
            req = req.header("x-csrf-token", token);
        }
        server.send(req).await
    }
}

/// A server with the small board /t/ and [`ACCOUNTS`], plus `extra` config lines.
pub async fn server(extra: &str) -> Server {
    Server::with_config(&format!(
        "{}\n{ACCOUNTS}\n{extra}",
        crate::harness::SMALL_BOARD
    ))
    .await
}

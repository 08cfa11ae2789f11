//! The CSRF check: every state-changing request made with a session cookie needs its token.

use serde_json::json;

use crate::session::{self, Session, PASSWORD};

#[tokio::test]
async fn requests_with_a_cookie_need_the_token() {
    let server = session::server("").await;
    let ann = Session::signup(&server, "ann", PASSWORD).await;
    let bob = Session::signup(&server, "bob", PASSWORD).await;
    let path = "/auth/logout";
    let cases = [
        (None, json!({})),
        (Some(""), json!({})),
        (Some("wrong"), json!({})),
        (Some(bob.csrf.as_str()), json!({})),
        (None, json!({ "csrf": "wrong" })),
        (None, json!({ "csrf": bob.csrf })),
        (None, json!({ "csrf": 7 })),
        (Some("wrong"), json!({ "csrf": ann.csrf })),
    ];
    for (header, body) in cases {
        let r = ann.post_csrf(&server, path, header, body.clone()).await;
        r.assert_error(403, "csrf_failed");
        assert!(r.header("set-cookie").is_empty(), "{header:?} {body}");
    }
    // Posting anonymously is public, but not on behalf of a session without its token.
    let r = ann
        .post_csrf(
            &server,
            "/api/boards/t/threads",
            None,
            json!({ "body": "hi" }),
        )
        .await;
    r.assert_error(403, "csrf_failed");
    // Nothing above ended the session; the token in the body does.
    assert_eq!(ann.get(&server, "/auth/csrf").await.status, 200);
    let r = ann
        .post_csrf(&server, path, None, json!({ "csrf": ann.csrf }))
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(ann.get(&server, "/auth/csrf").await.status, 403);
}

#[tokio::test]
async fn a_multipart_request_needs_the_header() {
    let server = session::server("").await;
    let ann = Session::signup(&server, "ann", PASSWORD).await;
    let form = || reqwest::multipart::Form::new().text("body", "hello");
    let bare = server
        .client
        .post(server.url("/api/boards/t/threads"))
        .header("cookie", &ann.cookie)
        .multipart(form());
    server.send(bare).await.assert_error(403, "csrf_failed");
    let with_token = ann
        .request(&server, reqwest::Method::POST, "/api/boards/t/threads")
        .multipart(form());
    let r = server.send(with_token).await;
    assert_eq!(r.status, 201, "{}", r.json);
}

#[tokio::test]
async fn reads_and_anonymous_requests_need_no_token() {
    let server = session::server("").await;
    let ann = Session::signup(&server, "ann", PASSWORD).await;
    let r = server
        .send(
            server
                .client
                .get(server.url("/auth/csrf"))
                .header("cookie", &ann.cookie),
        )
        .await;
    assert_eq!(r.status, 200, "a GET needs no token");
    let no = server.thread("t", "anonymous").await;
    assert!(no > 0);
    // The token in the header and again in the body is fine; the field is not a post field.
    let r = ann
        .post(
            &server,
            "/api/boards/t/threads",
            json!({ "body": "hi", "csrf": ann.csrf }),
        )
        .await;
    assert_eq!(r.status, 201, "{}", r.json);
}

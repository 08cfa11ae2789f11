//! The web client as HTTP sees it: which paths answer with the entry page, its security
//! headers, hashed assets that are immutable, ETags, and paths that stay JSON 404s.

use crate::harness::Server;

/// Every hashed `/app/` URL the entry page names (the import map's keys are plain names).
fn asset_urls(html: &str) -> Vec<String> {
    let mut urls: Vec<String> = html
        .split("\"/app/")
        .skip(1)
        .map(|rest| format!("/app/{}", rest.split('"').next().unwrap()))
        .filter(|url| {
            let parts: Vec<&str> = url.split('.').collect();
            parts.len() == 3
                && parts[1].len() == 12
                && parts[1].bytes().all(|b| b.is_ascii_hexdigit())
        })
        .collect();
    urls.sort();
    urls.dedup();
    urls
}

fn text(bytes: &[u8]) -> String {
    String::from_utf8(bytes.to_vec()).unwrap()
}

#[tokio::test]
async fn client_paths_answer_with_the_entry_page_and_its_security_headers() {
    let s = Server::start().await;
    let t = s
        .post("/api/boards/b/threads", serde_json::json!({"body": "op"}))
        .await;
    let no = t.json["no"].as_u64().unwrap();
    let cases = [
        ("/".to_owned(), None),
        ("/b/".to_owned(), Some("/api/boards/b/index".to_owned())),
        (
            "/b/catalog".to_owned(),
            Some("/api/boards/b/catalog".to_owned()),
        ),
        (
            "/b/archive".to_owned(),
            Some("/api/boards/b/archive".to_owned()),
        ),
        (
            format!("/b/thread/{no}"),
            Some(format!("/api/boards/b/threads/{no}")),
        ),
        // Unknown boards and threads are the client's to show as not found.
        ("/zz/".to_owned(), Some("/api/boards/zz/index".to_owned())),
        (
            "/b/thread/99999".to_owned(),
            Some("/api/boards/b/threads/99999".to_owned()),
        ),
        // The console's pages: whoever asks, the client decides what to show.
        ("/login".to_owned(), None),
        ("/signup".to_owned(), None),
        ("/reset".to_owned(), None),
        ("/account".to_owned(), None),
        ("/admin".to_owned(), None),
        ("/admin/boards".to_owned(), None),
        ("/admin/users".to_owned(), None),
        ("/admin/bans".to_owned(), None),
    ];
    for (path, preload) in cases {
        let (status, headers, body) = s.get_bytes(&path, &[]).await;
        assert_eq!(status, 200, "{path}");
        let h = |name: &str| headers.get(name).unwrap().to_str().unwrap().to_owned();
        assert_eq!(h("content-type"), "text/html; charset=utf-8", "{path}");
        assert_eq!(h("cache-control"), "no-cache", "{path}");
        assert_eq!(h("referrer-policy"), "same-origin");
        assert_eq!(h("x-content-type-options"), "nosniff");
        let csp = h("content-security-policy");
        for directive in [
            "default-src 'self'",
            "object-src 'none'",
            "base-uri 'none'",
            "frame-ancestors 'none'",
            "require-trusted-types-for 'script'",
            "trusted-types wani",
            "style-src 'self';",
        ] {
            assert!(csp.contains(directive), "{path}: {csp} lacks {directive}");
        }
        assert!(!csp.contains("unsafe"), "{csp}");
        let html = text(&body);
        assert!(html.contains("<noscript>"));
        assert!(
            html.contains("href=\"/api/boards\""),
            "the no-script message links the API"
        );
        assert!(html.contains("rel=\"modulepreload\""));
        // The console's modules load on its pages only, with import(): never preloaded.
        for module in ["/app/console", "/app/qrcode"] {
            assert!(!html.contains(&format!("href=\"{module}")), "{path}");
        }
        match preload {
            Some(json) => {
                // The page's JSON and its board's settings, which the page waits for together.
                let board = json.split('/').take(4).collect::<Vec<_>>().join("/");
                for json in [json.as_str(), board.as_str()] {
                    assert!(
                        html.contains(&format!(
                            "rel=\"preload\" as=\"fetch\" crossorigin href=\"{json}\""
                        )),
                        "{path}: {json}"
                    );
                }
            }
            None => assert!(!html.contains("as=\"fetch\""), "{path}"),
        }
        // The strong ETag revalidates.
        let etag = h("etag");
        assert!(etag.starts_with('"'), "{etag}");
        let (status, _, body) = s
            .get_bytes(&path, &[("if-none-match", etag.as_str())])
            .await;
        assert_eq!(status, 304);
        assert!(body.is_empty());
    }
}

#[tokio::test]
async fn assets_are_hashed_immutable_and_revalidate() {
    let s = Server::start().await;
    let (_, _, body) = s.get_bytes("/", &[]).await;
    let urls = asset_urls(&text(&body));
    assert!(urls.iter().any(|u| u.ends_with(".css")), "{urls:?}");
    assert!(urls.len() >= 5, "{urls:?}");
    for url in &urls {
        let (status, headers, body) = s.get_bytes(url, &[]).await;
        assert_eq!(status, 200, "{url}");
        let h = |name: &str| headers.get(name).unwrap().to_str().unwrap().to_owned();
        assert_eq!(h("cache-control"), "public, max-age=31536000, immutable");
        let expected = match url.rsplit('.').next().unwrap() {
            "js" => "text/javascript; charset=utf-8",
            "css" => "text/css; charset=utf-8",
            _ => "image/svg+xml",
        };
        assert_eq!(h("content-type"), expected, "{url}");
        assert!(!body.is_empty());
        let (status, _, _) = s
            .get_bytes(url, &[("if-none-match", h("etag").as_str())])
            .await;
        assert_eq!(status, 304, "{url}");
    }
    // A name without its hash, or with a wrong one, is not an asset.
    for path in [
        "/app/main.js",
        "/app/main.000000000000.js",
        "/app/",
        "/app/x/y.js",
    ] {
        s.get(path).await.assert_error(404, "route_not_found");
    }
}

#[tokio::test]
async fn other_paths_keep_their_json_404() {
    let s = Server::start().await;
    for path in [
        "/nope/nothing",
        "/b/thread",
        "/b/thread/x",
        "/b/catalog/",
        "/b/thread/1/",
        "/api/",
        "/index.html",
        "/admin/",
        "/admin/nope",
        "/admin/boards/",
        "/account/x",
    ] {
        s.get(path).await.assert_error(404, "route_not_found");
    }
    // The client's paths take GET and HEAD only.
    let r = s.post_raw("/b/", Some("application/json"), "{}").await;
    r.assert_error(405, "method_not_allowed");
}

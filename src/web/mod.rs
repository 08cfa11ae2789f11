//! The web client: its files embedded at compile time, served under content-hashed URLs, and the
//! entry page that the client's own paths answer with.
//!
//! Modules import each other by plain names (`./api.js`); the entry page's import map points
//! each name at its hashed URL, so a module's URL changes exactly when its bytes do and every
//! asset can be cached for a year. The import map is the page's only inline script: its hash
//! is in the Content-Security-Policy, so no `'unsafe-inline'` is needed. Each file is also
//! compressed once at start (gzip 9, zstd 15) and sent in the coding the request accepts; the
//! entry page is made per path and sent as it is.

use base64::Engine;
use bytes::Bytes;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_ENCODING, CONTENT_TYPE, ETAG};
use hyper::{HeaderMap, StatusCode};
use sha2::{Digest, Sha256};

use crate::cache::Cached;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::http::encoding::Effort;
use crate::http::{response, Response};

/// Every file of the client, by the name modules import it under. The first is the entry
/// module; modules listed in [`EAGER`] are preloaded by the entry page.
const FILES: &[(&str, &[u8])] = &[
    ("main.js", include_bytes!("client/main.js")),
    ("preact-htm.js", include_bytes!("client/preact-htm.js")),
    ("api.js", include_bytes!("client/api.js")),
    ("store.js", include_bytes!("client/store.js")),
    ("trusted.js", include_bytes!("client/trusted.js")),
    ("util.js", include_bytes!("client/util.js")),
    ("post.js", include_bytes!("client/post.js")),
    ("form.js", include_bytes!("client/form.js")),
    ("preview.js", include_bytes!("client/preview.js")),
    ("pages.js", include_bytes!("client/pages.js")),
    ("thread.js", include_bytes!("client/thread.js")),
    ("watcher.js", include_bytes!("client/watcher.js")),
    ("settings.js", include_bytes!("client/settings.js")),
    ("gallery.js", include_bytes!("client/gallery.js")),
    ("console.js", include_bytes!("client/console.js")),
    (
        "console-account.js",
        include_bytes!("client/console-account.js"),
    ),
    (
        "console-boards.js",
        include_bytes!("client/console-boards.js"),
    ),
    (
        "console-filters.js",
        include_bytes!("client/console-filters.js"),
    ),
    (
        "console-users.js",
        include_bytes!("client/console-users.js"),
    ),
    ("console-bans.js", include_bytes!("client/console-bans.js")),
    ("ban-notice.js", include_bytes!("client/ban-notice.js")),
    (
        "console-reports.js",
        include_bytes!("client/console-reports.js"),
    ),
    (
        "console-badge.js",
        include_bytes!("client/console-badge.js"),
    ),
    ("report.js", include_bytes!("client/report.js")),
    (
        "console-dashboard.js",
        include_bytes!("client/console-dashboard.js"),
    ),
    (
        "console-chart.js",
        include_bytes!("client/console-chart.js"),
    ),
    ("qrcode.js", include_bytes!("client/qrcode.js")),
    ("staff.js", include_bytes!("client/staff.js")),
    ("console-log.js", include_bytes!("client/console-log.js")),
    ("modlog.js", include_bytes!("client/modlog.js")),
    ("captcha.js", include_bytes!("client/captcha.js")),
    // A module worker: workers get no import map, so it imports nothing.
    (
        "captcha-worker.js",
        include_bytes!("client/captcha-worker.js"),
    ),
    ("console.css", include_bytes!("client/console.css")),
    ("staff.css", include_bytes!("client/staff.css")),
    ("app.css", include_bytes!("client/app.css")),
    ("favicon.svg", include_bytes!("client/favicon.svg")),
];

/// What a thread page needs before its first paint; anything else loads on demand.
const EAGER: &[&str] = &[
    "main.js",
    "preact-htm.js",
    "api.js",
    "store.js",
    "trusted.js",
    "util.js",
    "post.js",
    "pages.js",
    "thread.js",
];

/// Stylesheets a module adds itself when it loads (`import.meta.resolve` finds their hashed URL
/// in the import map), so that pages without that module do not load them.
const LAZY_STYLES: &[&str] = &["console.css", "staff.css"];

const INDEX: &str = include_str!("client/index.html");

/// The Trusted Types policies the client creates: `wani` (in `trusted.js`) for the server's
/// safe HTML, `wani-worker` (in `captcha.js`) for the proof of work's worker URL.
const POLICIES: &str = "wani wani-worker";

/// A path of the client: the server answers it with the entry page, and the page preloads the
/// JSON it will ask for first: the board's settings and the page's threads, which the page
/// waits for together before it paints.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Page {
    Home,
    Board {
        board: String,
    },
    Catalog {
        board: String,
    },
    Archive {
        board: String,
    },
    /// `/{board}/modlog`: the board's public log. Board slugs cannot be `admin` (reserved), so
    /// neither this nor a board path meets the console's `/admin/log`.
    ModLog {
        board: String,
    },
    Thread {
        board: String,
        thread: u64,
    },
    /// `/login`, `/signup`, `/reset`, `/account`, `/admin` and its pages: the console, whose
    /// modules load only once the client knows someone is logged in.
    Console,
}

impl Page {
    fn preload(&self) -> Vec<String> {
        let (board, json) = match self {
            Page::Home | Page::Console => return Vec::new(),
            Page::Board { board } => (board, format!("/api/boards/{board}/index")),
            Page::Catalog { board } => (board, format!("/api/boards/{board}/catalog")),
            Page::Archive { board } => (board, format!("/api/boards/{board}/archive")),
            Page::ModLog { board } => (board, format!("/api/boards/{board}/modlog")),
            Page::Thread { board, thread } => {
                (board, format!("/api/boards/{board}/threads/{thread}"))
            }
        };
        vec![json, format!("/api/boards/{board}")]
    }
}

struct Asset {
    /// `/app/<stem>.<hash>.<ext>`
    url: String,
    /// The bytes, their ETag and their compressed copies, made once at start.
    content: Cached,
    mime: &'static str,
}

/// The client's files with their hashed URLs, and the parts of the entry page that never change.
pub struct Client {
    assets: Vec<Asset>,
    /// The entry page up to the per-path preload.
    head: String,
    tail: String,
    csp: String,
}

impl Default for Client {
    fn default() -> Self {
        Client::new()
    }
}

impl Client {
    pub fn new() -> Client {
        let assets: Vec<Asset> = FILES
            .iter()
            .map(|(name, bytes)| {
                let digest = hex(&Sha256::digest(bytes));
                let (stem, ext) = name.rsplit_once('.').expect("client files have extensions");
                Asset {
                    url: format!("/app/{stem}.{}.{ext}", &digest[..12]),
                    content: Cached::compressed(bytes.to_vec(), Effort::Static),
                    mime: mime(ext),
                }
            })
            .collect();
        let url = |name: &str| {
            let i = FILES.iter().position(|(n, _)| *n == name).expect("listed");
            assets[i].url.as_str()
        };
        let imports: Vec<String> = FILES
            .iter()
            .filter(|(name, _)| name.ends_with(".js") || LAZY_STYLES.contains(name))
            .map(|(name, _)| format!("\"/app/{name}\":\"{}\"", url(name)))
            .collect();
        let import_map = format!("{{\"imports\":{{{}}}}}", imports.join(","));
        let map_hash =
            base64::engine::general_purpose::STANDARD.encode(Sha256::digest(&import_map));
        let mut preloads = String::new();
        for name in EAGER {
            preloads.push_str(&format!(
                "<link rel=\"modulepreload\" href=\"{}\">\n",
                url(name)
            ));
        }
        // The stylesheet and entry script first: the import map names them too.
        let page = INDEX
            .replace("/app/app.css", url("app.css"))
            .replace("/app/main.js", url("main.js"))
            .replace("/app/favicon.svg", url("favicon.svg"))
            .replace("<!--importmap-->", &import_map)
            .replace("<!--modules-->", &preloads);
        let (head, tail) = page
            .split_once("<!--preload-->")
            .expect("index.html has a preload marker");
        let csp = format!(
            "default-src 'self'; script-src 'self' 'sha256-{map_hash}'; style-src 'self'; \
             img-src 'self' blob:; media-src 'self' blob:; connect-src 'self'; worker-src 'self'; \
             object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'; \
             require-trusted-types-for 'script'; trusted-types {POLICIES}"
        );
        Client {
            assets,
            head: head.to_owned(),
            tail: tail.to_owned(),
            csp,
        }
    }

    /// `GET /app/{name}`: a client file by its hashed name.
    pub fn asset(&self, request_headers: &HeaderMap, name: &str) -> ApiResult<Response> {
        let path = format!("/app/{name}");
        let Some(asset) = self.assets.iter().find(|a| a.url == path) else {
            return Err(ApiError::new(
                ErrorKind::RouteNotFound,
                format!("There is no route {path}."),
            ));
        };
        let content = &asset.content;
        let variant = content.pick(request_headers);
        let (etag, body) = match variant {
            Some(variant) => (&variant.etag, variant.body.clone()),
            None => (&content.etag, content.body.clone()),
        };
        let mut r = self.answer(
            request_headers,
            etag,
            body,
            asset.mime,
            "public, max-age=31536000, immutable",
        );
        if let Some(variant) = variant.filter(|_| r.status() == StatusCode::OK) {
            let token = HeaderValue::from_static(variant.coding.token());
            r.headers_mut().insert(CONTENT_ENCODING, token);
        }
        if content.varies() {
            response::vary_by_encoding(r.headers_mut());
        }
        Ok(r)
    }

    /// `GET /`, `/{board}/`, `/{board}/catalog`, `/{board}/archive`, `/{board}/thread/{no}`:
    /// the entry page. Whether the board or thread exists is the client's to show, so these
    /// paths are 200 even when it does not.
    pub fn page(&self, request_headers: &HeaderMap, page: &Page) -> Response {
        let mut html = String::with_capacity(self.head.len() + self.tail.len() + 128);
        html.push_str(&self.head);
        for json in page.preload() {
            // Slugs are [a-z0-9] and threads are numbers, so the URL needs no escaping.
            html.push_str(&format!(
                "<link rel=\"preload\" as=\"fetch\" crossorigin href=\"{json}\">"
            ));
        }
        html.push_str(&self.tail);
        let etag = format!("\"{}\"", hex(&Sha256::digest(html.as_bytes())));
        self.answer(
            request_headers,
            &etag,
            Bytes::from(html),
            "text/html; charset=utf-8",
            "no-cache",
        )
    }

    fn answer(
        &self,
        request_headers: &HeaderMap,
        etag: &str,
        body: Bytes,
        mime: &'static str,
        cache: &'static str,
    ) -> Response {
        let fresh = response::etag_matches(request_headers, etag);
        let mut r = Response::new(response::body(if fresh { Bytes::new() } else { body }));
        if fresh {
            *r.status_mut() = StatusCode::NOT_MODIFIED;
        }
        let h = r.headers_mut();
        if !fresh {
            h.insert(CONTENT_TYPE, HeaderValue::from_static(mime));
        }
        h.insert(ETAG, HeaderValue::from_str(etag).expect("hex in quotes"));
        h.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
        h.insert(
            "content-security-policy",
            HeaderValue::from_str(&self.csp).expect("the policy is ASCII"),
        );
        h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
        h.insert(
            "x-content-type-options",
            HeaderValue::from_static("nosniff"),
        );
        r
    }
}

fn mime(ext: &str) -> &'static str {
    match ext {
        "js" => "text/javascript; charset=utf-8",
        "css" => "text/css; charset=utf-8",
        "svg" => "image/svg+xml",
        _ => "application/octet-stream",
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn text(r: Response) -> String {
        use http_body_util::BodyExt;
        let body = r.into_body().collect().await.unwrap().to_bytes();
        String::from_utf8(body.to_vec()).unwrap()
    }

    #[tokio::test]
    async fn every_import_resolves_through_the_map() {
        let client = Client::new();
        let page = text(client.page(&HeaderMap::new(), &Page::Home)).await;
        for (name, bytes) in FILES.iter().filter(|(n, _)| n.ends_with(".js")) {
            let source = std::str::from_utf8(bytes).unwrap();
            for spec in source
                .split("from \"./")
                .skip(1)
                .chain(source.split("import(\"./").skip(1))
                .chain(source.split("import.meta.resolve(\"./").skip(1))
            {
                let target = spec.split('"').next().unwrap();
                assert!(
                    page.contains(&format!("\"/app/{target}\":")),
                    "{name} imports {target}, which the import map lacks"
                );
            }
        }
    }

    #[test]
    fn hashed_urls_serve_and_others_do_not() {
        let client = Client::new();
        for asset in &client.assets {
            let name = asset.url.strip_prefix("/app/").unwrap();
            let r = client.asset(&HeaderMap::new(), name).unwrap();
            assert_eq!(r.status(), StatusCode::OK);
            assert_eq!(
                r.headers()[CACHE_CONTROL],
                "public, max-age=31536000, immutable"
            );
        }
        for name in ["main.js", "app.css", "main.000000000000.js", "../mod.rs"] {
            assert!(client.asset(&HeaderMap::new(), name).is_err(), "{name}");
        }
    }

    #[tokio::test]
    async fn pages_preload_their_json() {
        let client = Client::new();
        let cases: [(Page, &[&str]); 5] = [
            (Page::Home, &[]),
            (Page::Console, &[]),
            (
                Page::Board { board: "b".into() },
                &["/api/boards/b/index", "/api/boards/b"],
            ),
            (
                Page::Catalog { board: "b".into() },
                &["/api/boards/b/catalog", "/api/boards/b"],
            ),
            (
                Page::Thread {
                    board: "b".into(),
                    thread: 7,
                },
                &["/api/boards/b/threads/7", "/api/boards/b"],
            ),
        ];
        for (page, jsons) in cases {
            let html = text(client.page(&HeaderMap::new(), &page)).await;
            assert_eq!(
                html.matches("rel=\"preload\"").count(),
                jsons.len(),
                "{page:?}"
            );
            for json in jsons {
                let link =
                    format!("<link rel=\"preload\" as=\"fetch\" crossorigin href=\"{json}\">");
                assert!(html.contains(&link), "{page:?}: {json}");
            }
            assert!(html.contains("rel=\"modulepreload\""));
        }
    }
}

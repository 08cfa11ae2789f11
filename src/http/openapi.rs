//! The OpenAPI 3.1 description of the native API: `openapi.json` beside this file, compiled
//! in and served as written at `GET /api/openapi.json`.

use std::sync::{Arc, LazyLock};

use hyper::HeaderMap;

use crate::cache::Cached;
use crate::error::ApiResult;
use crate::http::encoding::Effort;
use crate::http::request::query;
use crate::http::{response, Response};

/// The document, compiled into the binary so that it always describes the binary serving it.
pub const DOCUMENT: &str = include_str!("openapi.json");

/// The body and its ETag, hashed and compressed once, by the first reader. A static rather than
/// state in `App`: it is derived from a constant and never changes, so two servers in one
/// process share it without harm.
static CACHED: LazyLock<Arc<Cached>> = LazyLock::new(|| {
    let body = DOCUMENT.as_bytes().to_vec();
    Arc::new(Cached::compressed(body, Effort::Cached))
});

/// `GET /api/openapi.json` → this API's OpenAPI document, with a strong ETag.
pub fn get(headers: &HeaderMap, raw_query: Option<&str>) -> ApiResult<Response> {
    query(raw_query, &[])?;
    Ok(response::cached(headers, &CACHED))
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use hyper::header::{HeaderValue, CONTENT_TYPE, ETAG, IF_NONE_MATCH};
    use hyper::{Method, StatusCode};
    use serde_json::Value;

    use super::*;
    use crate::error::ErrorKind;
    use crate::files::Tree;
    use crate::http::route::{resolve, Resolved, Route, ThreadAct};

    /// An operation: lowercase method as the document spells it, and its path template.
    type Op = (&'static str, &'static str);

    fn document() -> Value {
        serde_json::from_str(DOCUMENT).expect("openapi.json is JSON")
    }

    /// The documented operation of each route, or `None` for a route outside the native API.
    /// Exhaustive on purpose: a new variant does not compile until it is given its operation
    /// here, and once it names one, `every_route_is_documented` fails until `SAMPLES` reaches
    /// it and `openapi.json` describes it.
    fn documented(route: &Route) -> Option<Op> {
        Some(match route {
            Route::Healthz => ("get", "/healthz"),
            Route::ListBoards => ("get", "/api/boards"),
            Route::GetBoard { .. } => ("get", "/api/boards/{board}"),
            Route::CreateThread { .. } => ("post", "/api/boards/{board}/threads"),
            Route::GetThread { .. } => ("get", "/api/boards/{board}/threads/{thread}"),
            Route::CreateReply { .. } => ("post", "/api/boards/{board}/threads/{thread}/posts"),
            Route::GetPost { .. } => ("get", "/api/boards/{board}/posts/{no}"),
            Route::Catalog { .. } => ("get", "/api/boards/{board}/catalog"),
            Route::Index { .. } => ("get", "/api/boards/{board}/index"),
            Route::Archive { .. } => ("get", "/api/boards/{board}/archive"),
            Route::DeletePost { .. } => ("post", "/api/boards/{board}/posts/{no}/delete"),
            Route::Recent => ("get", "/api/recent"),
            Route::Live => ("get", "/api/live"),
            Route::OpenApi => ("get", "/api/openapi.json"),
            Route::GetFile {
                tree: Tree::Originals,
                ..
            } => ("get", "/files/{shard1}/{shard2}/{name}"),
            Route::GetFile {
                tree: Tree::Thumbs, ..
            } => ("get", "/thumbs/{shard1}/{shard2}/{name}"),
            // The 4chan-compatible read API is described by 4chan's own documentation.
            Route::Signup => ("post", "/auth/signup"),
            Route::Login => ("post", "/auth/login"),
            Route::Csrf => ("get", "/auth/csrf"),
            Route::Logout => ("post", "/auth/logout"),
            Route::Destroy => ("post", "/auth/destroy"),
            Route::ChangePassword => ("post", "/auth/changePassword"),
            Route::ListUsers => ("get", "/api/admin/users"),
            Route::SetUserRole { .. } => ("post", "/api/admin/users/{username}/role"),
            Route::SetUserDisabled { .. } => ("post", "/api/admin/users/{username}/disabled"),
            Route::TotpEnrol => ("post", "/api/me/totp"),
            Route::TotpConfirm => ("post", "/api/me/totp/confirm"),
            Route::TotpDisable => ("post", "/api/me/totp/disable"),
            Route::IssueReset { .. } => ("post", "/api/admin/users/{username}/reset"),
            Route::ResetPassword => ("post", "/auth/reset"),
            Route::Recover => ("post", "/auth/recover"),
            Route::GetEmail => ("get", "/api/me/email"),
            Route::SetEmail => ("post", "/api/me/email"),
            Route::ClearTotp { .. } => ("post", "/api/admin/users/{username}/totp/clear"),
            Route::Captcha { .. } => ("get", "/api/boards/{board}/captcha"),
            Route::AdminListBoards => ("get", "/api/admin/boards"),
            Route::AdminStats => ("get", "/api/admin/stats"),
            Route::AdminCreateBoard => ("post", "/api/admin/boards"),
            Route::AdminGetBoard { .. } => ("get", "/api/admin/boards/{board}"),
            Route::AdminUpdateBoard { .. } => ("post", "/api/admin/boards/{board}"),
            Route::AdminDeleteBoard { .. } => ("delete", "/api/admin/boards/{board}"),
            Route::ListTokens => ("get", "/api/me/tokens"),
            Route::CreateToken => ("post", "/api/me/tokens"),
            Route::RevokeToken { .. } => ("delete", "/api/me/tokens/{id}"),
            Route::ReportPost { .. } => ("post", "/api/boards/{board}/posts/{no}/report"),
            Route::StaffDelete { .. } => ("post", "/api/boards/{board}/posts/{no}/staff-delete"),
            Route::BoardReports { .. } => ("get", "/api/boards/{board}/reports"),
            Route::HandleReports { .. } => ("post", "/api/boards/{board}/reports/{no}"),
            Route::ListReports => ("get", "/api/reports"),
            Route::ReportCounts => ("get", "/api/reports/counts"),
            Route::ReportsLive => ("get", "/api/reports/live"),
            Route::ThreadPosters { .. } => ("get", "/api/boards/{board}/threads/{thread}/posters"),
            Route::ModLog => ("get", "/api/modlog"),
            Route::PublicModLog { .. } => ("get", "/api/boards/{board}/modlog"),
            Route::ThreadAction { act, .. } => (
                "post",
                match act {
                    ThreadAct::Sticky => "/api/boards/{board}/threads/{thread}/sticky",
                    ThreadAct::Lock => "/api/boards/{board}/threads/{thread}/lock",
                    ThreadAct::Cyclic => "/api/boards/{board}/threads/{thread}/cyclic",
                    ThreadAct::Move => "/api/boards/{board}/threads/{thread}/move",
                },
            ),
            Route::ListFileBans { board: Some(_) } => ("get", "/api/boards/{board}/file-bans"),
            Route::CreateFileBan { board: Some(_) } => ("post", "/api/boards/{board}/file-bans"),
            Route::LiftFileBan { board: Some(_), .. } => {
                ("delete", "/api/boards/{board}/file-bans/{sha256}")
            }
            Route::ListFileBans { board: None } => ("get", "/api/file-bans"),
            Route::CreateFileBan { board: None } => ("post", "/api/file-bans"),
            Route::LiftFileBan { board: None, .. } => ("delete", "/api/file-bans/{sha256}"),
            Route::ListFilters { board: Some(_) } => ("get", "/api/boards/{board}/filters"),
            Route::CreateFilter { board: Some(_) } => ("post", "/api/boards/{board}/filters"),
            Route::UpdateFilter { board: Some(_), .. } => {
                ("post", "/api/boards/{board}/filters/{id}")
            }
            Route::DeleteFilter { board: Some(_), .. } => {
                ("delete", "/api/boards/{board}/filters/{id}")
            }
            Route::ListFilters { board: None } => ("get", "/api/filters"),
            Route::CreateFilter { board: None } => ("post", "/api/filters"),
            Route::UpdateFilter { board: None, .. } => ("post", "/api/filters/{id}"),
            Route::DeleteFilter { board: None, .. } => ("delete", "/api/filters/{id}"),
            Route::ListBans => ("get", "/api/bans"),
            Route::CreateBan => ("post", "/api/bans"),
            Route::LiftBan { .. } => ("post", "/api/bans/{id}/lift"),
            Route::MyBans => ("get", "/api/bans/mine"),
            Route::AppealBan { .. } => ("post", "/api/bans/{id}/appeal"),
            Route::ListAppeals => ("get", "/api/bans/appeals"),
            Route::AnswerAppeal { accept: true, .. } => ("post", "/api/bans/{id}/appeal/accept"),
            Route::AnswerAppeal { accept: false, .. } => ("post", "/api/bans/{id}/appeal/deny"),
            Route::BanPoster { .. } => ("post", "/api/boards/{board}/posts/{no}/ban"),
            Route::FourBoards
            | Route::FourThreadList { .. }
            | Route::FourCatalog { .. }
            | Route::FourArchive { .. }
            | Route::FourIndex { .. }
            | Route::FourThread { .. }
            | Route::FourFile { .. }
            | Route::WebPage { .. }
            | Route::WebAsset { .. } => return None,
        })
    }

    const SHA: &str = "abcd000000000000000000000000000000000000000000000000000000000000";

    /// One request line for every route of the table (every variant; both file trees).
    fn samples() -> Vec<(Method, String)> {
        let get = |p: &str| (Method::GET, p.to_owned());
        let post = |p: &str| (Method::POST, p.to_owned());
        vec![
            get("/healthz"),
            get("/api/boards"),
            get("/api/boards/b"),
            post("/api/boards/b/threads"),
            get("/api/boards/b/threads/7"),
            post("/api/boards/b/threads/7/posts"),
            get("/api/boards/b/posts/9"),
            get("/api/boards/b/catalog"),
            get("/api/boards/b/index"),
            get("/api/boards/b/archive"),
            post("/api/boards/b/posts/9/delete"),
            get("/api/recent"),
            get("/api/live"),
            get("/api/openapi.json"),
            get(&format!("/files/ab/cd/{SHA}.png")),
            get(&format!("/thumbs/ab/cd/{SHA}.webp")),
            get("/boards.json"),
            get("/b/threads.json"),
            get("/b/catalog.json"),
            get("/b/archive.json"),
            get("/b/1.json"),
            get("/b/thread/7.json"),
            get("/b/700.jpg"),
            get("/b/thread/7"),
            get("/app/main.0123.js"),
            post("/auth/signup"),
            post("/auth/login"),
            get("/auth/csrf"),
            post("/auth/logout"),
            post("/auth/destroy"),
            post("/auth/changePassword"),
            get("/api/admin/users"),
            post("/api/admin/users/ann/role"),
            post("/api/admin/users/ann/disabled"),
            post("/api/me/totp"),
            post("/api/me/totp/confirm"),
            post("/api/me/totp/disable"),
            post("/api/admin/users/ann/reset"),
            post("/auth/reset"),
            post("/auth/recover"),
            get("/api/me/email"),
            post("/api/me/email"),
            post("/api/admin/users/ann/totp/clear"),
            get("/api/boards/b/captcha"),
            get("/api/admin/boards"),
            get("/api/admin/stats"),
            post("/api/admin/boards"),
            get("/api/admin/boards/b"),
            post("/api/admin/boards/b"),
            (Method::DELETE, "/api/admin/boards/b".to_owned()),
            get("/api/me/tokens"),
            post("/api/me/tokens"),
            (Method::DELETE, "/api/me/tokens/0123456789abcdef".to_owned()),
            post("/api/boards/b/posts/9/report"),
            post("/api/boards/b/posts/9/staff-delete"),
            get("/api/boards/b/reports"),
            post("/api/boards/b/reports/9"),
            get("/api/reports"),
            get("/api/reports/counts"),
            get("/api/reports/live"),
            get("/api/boards/b/threads/7/posters"),
            get("/api/modlog"),
            get("/api/boards/b/modlog"),
            post("/api/boards/b/threads/7/sticky"),
            post("/api/boards/b/threads/7/lock"),
            post("/api/boards/b/threads/7/cyclic"),
            post("/api/boards/b/threads/7/move"),
            get("/api/boards/b/file-bans"),
            post("/api/boards/b/file-bans"),
            (Method::DELETE, format!("/api/boards/b/file-bans/{SHA}")),
            get("/api/file-bans"),
            post("/api/file-bans"),
            (Method::DELETE, format!("/api/file-bans/{SHA}")),
            get("/api/boards/b/filters"),
            post("/api/boards/b/filters"),
            post("/api/boards/b/filters/3"),
            (Method::DELETE, "/api/boards/b/filters/3".to_owned()),
            get("/api/filters"),
            post("/api/filters"),
            post("/api/filters/3"),
            (Method::DELETE, "/api/filters/3".to_owned()),
            get("/api/bans"),
            post("/api/bans"),
            post("/api/bans/3/lift"),
            get("/api/bans/mine"),
            post("/api/bans/3/appeal"),
            get("/api/bans/appeals"),
            post("/api/bans/3/appeal/accept"),
            post("/api/bans/3/appeal/deny"),
            post("/api/boards/b/posts/9/ban"),
        ]
    }

    const METHODS: [&str; 8] = [
        "get", "put", "post", "delete", "options", "head", "patch", "trace",
    ];

    /// Every (method, path template) the document describes.
    fn operations(doc: &Value) -> BTreeSet<(String, String)> {
        let mut ops = BTreeSet::new();
        for (path, item) in doc["paths"].as_object().unwrap() {
            for method in item.as_object().unwrap().keys() {
                if METHODS.contains(&method.as_str()) {
                    ops.insert((method.clone(), path.clone()));
                }
            }
        }
        ops
    }

    /// A `$ref` to `#/components/...` resolved; anything else as it is.
    fn deref<'a>(doc: &'a Value, value: &'a Value) -> &'a Value {
        match value["$ref"].as_str() {
            Some(r) => {
                let pointer = r.strip_prefix('#').expect("only local refs");
                doc.pointer(pointer)
                    .unwrap_or_else(|| panic!("dangling $ref {r}"))
            }
            None => value,
        }
    }

    /// The parameters of an operation: the path item's, then the operation's.
    fn parameters<'a>(doc: &'a Value, path: &str, method: &str) -> Vec<&'a Value> {
        let item = &doc["paths"][path];
        let listed = |v: &'a Value| v.as_array().into_iter().flatten();
        listed(&item["parameters"])
            .chain(listed(&item[method]["parameters"]))
            .map(|p| deref(doc, p))
            .collect()
    }

    /// The path template with each `{param}` replaced by the parameter's `example`.
    fn example_path(doc: &Value, path: &str, method: &str) -> String {
        let mut out = path.to_owned();
        for p in parameters(doc, path, method) {
            if p["in"] != "path" {
                continue;
            }
            let name = p["name"].as_str().unwrap();
            let example = match &p["example"] {
                Value::String(s) => s.clone(),
                Value::Number(n) => n.to_string(),
                other => panic!("path parameter {name} of {path} has example {other}"),
            };
            out = out.replace(&format!("{{{name}}}"), &example);
        }
        assert!(
            !out.contains('{'),
            "{path}: a path parameter is not declared"
        );
        out
    }

    #[test]
    fn the_document_is_openapi_3_1_for_this_version() {
        let doc = document();
        assert_eq!(doc["openapi"], "3.1.0");
        assert_eq!(doc["info"]["version"], env!("CARGO_PKG_VERSION"));
    }

    #[test]
    fn every_documented_operation_resolves_to_its_route() {
        let doc = document();
        for (method, path) in operations(&doc) {
            let line = example_path(&doc, &path, &method);
            let http_method = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
            let resolved = resolve(&http_method, &line)
                .unwrap_or_else(|e| panic!("{method} {line}: {}", e.message));
            let Resolved::Route(route) = resolved else {
                panic!("{method} {line} is not a route: {resolved:?}");
            };
            assert_eq!(
                documented(&route),
                Some((method.as_str(), path.as_str())),
                "{method} {line} resolves to {route:?}"
            );
        }
    }

    #[test]
    fn every_route_is_documented() {
        let doc = document();
        let mut reached = BTreeSet::new();
        for (method, line) in samples() {
            let Ok(Resolved::Route(route)) = resolve(&method, &line) else {
                panic!("sample {method} {line} does not resolve to a route");
            };
            if let Some((m, template)) = documented(&route) {
                reached.insert((m.to_owned(), template.to_owned()));
            }
        }
        assert_eq!(reached, operations(&doc));
    }

    /// Every `(status, codes)` pair the document lists for an error response.
    fn error_responses(doc: &Value) -> Vec<(String, String, Vec<String>)> {
        let mut out = Vec::new();
        let mut visit = |place: String, status: &str, response: &Value| {
            let schema = &response["content"]["application/json"]["schema"];
            let Some(all_of) = schema["allOf"].as_array() else {
                return;
            };
            assert_eq!(all_of[0]["$ref"], "#/components/schemas/Error", "{place}");
            let codes = all_of[1]["properties"]["error"]["properties"]["code"]["enum"]
                .as_array()
                .unwrap_or_else(|| panic!("{place}: no code list"))
                .iter()
                .map(|c| c.as_str().unwrap().to_owned())
                .collect();
            out.push((place, status.to_owned(), codes));
        };
        for (path, item) in doc["paths"].as_object().unwrap() {
            for (method, op) in item.as_object().unwrap() {
                let Some(responses) = op["responses"].as_object() else {
                    continue;
                };
                for (status, response) in responses {
                    let place = format!("{method} {path} {status}");
                    visit(place, status, deref(doc, response));
                }
            }
        }
        for (name, response) in doc["components"]["responses"].as_object().unwrap() {
            let status = response_status(doc, name);
            visit(format!("components/responses/{name}"), &status, response);
        }
        out
    }

    /// The status a shared response is used with (it must be the same everywhere).
    fn response_status(doc: &Value, name: &str) -> String {
        let target = format!("#/components/responses/{name}");
        let mut statuses = BTreeSet::new();
        for item in doc["paths"].as_object().unwrap().values() {
            for op in item.as_object().unwrap().values() {
                for (status, r) in op["responses"].as_object().into_iter().flatten() {
                    if r["$ref"] == target.as_str() {
                        statuses.insert(status.clone());
                    }
                }
            }
        }
        assert!(statuses.len() <= 1, "{name} is used as {statuses:?}");
        statuses.pop_first().unwrap_or_default()
    }

    #[test]
    fn error_codes_match_the_error_type() {
        let doc = document();
        let schema = &doc["components"]["schemas"]["Error"]["properties"]["error"];
        let listed: Vec<&str> = schema["properties"]["code"]["enum"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c.as_str().unwrap())
            .collect();
        let codes: Vec<&str> = ErrorKind::ALL.iter().map(|k| k.code()).collect();
        assert_eq!(listed, codes, "the Error schema lists every code, in order");

        let responses = error_responses(&doc);
        assert!(responses.len() > 30, "{}", responses.len());
        for (place, status, codes) in responses {
            for code in codes {
                let kind = ErrorKind::ALL.iter().find(|k| k.code() == code);
                let kind = kind.unwrap_or_else(|| panic!("{place}: unknown code {code}"));
                assert_eq!(kind.status().as_str(), status, "{place}: {code}");
            }
        }
    }

    /// Every `$ref` in the document, with where it is.
    fn refs(value: &Value, at: &str, out: &mut Vec<(String, String)>) {
        match value {
            Value::Object(map) => {
                for (k, v) in map {
                    if k == "$ref" {
                        out.push((at.to_owned(), v.as_str().unwrap().to_owned()));
                    } else {
                        refs(v, &format!("{at}/{k}"), out);
                    }
                }
            }
            Value::Array(items) => {
                for (i, v) in items.iter().enumerate() {
                    refs(v, &format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }

    #[test]
    fn refs_resolve_and_schemas_are_draft_2020_12() {
        let doc = document();
        let mut found = Vec::new();
        refs(&doc, "", &mut found);
        for (at, r) in &found {
            let pointer = r.strip_prefix('#').unwrap_or_else(|| panic!("{at}: {r}"));
            assert!(doc.pointer(pointer).is_some(), "{at}: dangling {r}");
        }
        for (name, schema) in doc["components"]["schemas"].as_object().unwrap() {
            if let Err(e) = jsonschema::draft202012::meta::validate(schema) {
                panic!("schema {name}: {e}");
            }
        }
        for (name, body) in doc["components"]["schemas"].as_object().unwrap() {
            let is_request = ["NewThread", "NewReply", "DeleteRequest"]
                .iter()
                .any(|r| name.starts_with(r));
            if is_request {
                assert_eq!(body["additionalProperties"], false, "{name}");
            }
        }
    }

    #[test]
    fn served_with_a_strong_etag() {
        let r = get(&HeaderMap::new(), None).unwrap();
        assert_eq!(r.status(), StatusCode::OK);
        let etag = r.headers()[ETAG].clone();
        assert!(etag.to_str().unwrap().starts_with('"'));
        assert!(r.headers()[CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/json"));

        let mut h = HeaderMap::new();
        h.insert(IF_NONE_MATCH, etag);
        assert_eq!(get(&h, None).unwrap().status(), StatusCode::NOT_MODIFIED);
        h.insert(IF_NONE_MATCH, HeaderValue::from_static("\"other\""));
        assert_eq!(get(&h, None).unwrap().status(), StatusCode::OK);

        let err = get(&HeaderMap::new(), Some("x=1")).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidQuery);
    }
}

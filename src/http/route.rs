//! The route table: method + path parsed into a typed [`Route`], and who may call each route.

use hyper::Method;

use crate::error::{ApiError, ApiResult, ErrorKind};

/// Every route of the server. Path parameters are parsed here, once.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Healthz,
    ListBoards,
    GetBoard { board: String },
    CreateThread { board: String },
    GetThread { board: String, thread: u64 },
    CreateReply { board: String, thread: u64 },
    GetPost { board: String, no: u64 },
    Catalog { board: String },
    Index { board: String },
}

/// Who may call a route. Checked in one place, in the pipeline, before dispatch.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    Public,
}

impl Route {
    pub fn access(&self) -> Access {
        match self {
            Route::Healthz
            | Route::ListBoards
            | Route::GetBoard { .. }
            | Route::CreateThread { .. }
            | Route::GetThread { .. }
            | Route::CreateReply { .. }
            | Route::GetPost { .. }
            | Route::Catalog { .. }
            | Route::Index { .. } => Access::Public,
        }
    }
}

/// The outcome of matching a request line against the table.
#[derive(Debug, PartialEq, Eq)]
pub enum Resolved {
    Route(Route),
    /// The path exists but not for this method; `allow` lists the methods it takes.
    MethodNotAllowed {
        allow: &'static str,
    },
}

/// Matches method and path. Unknown paths are 404; a malformed number in a path is 400.
pub fn resolve(method: &Method, path: &str) -> ApiResult<Resolved> {
    let segments: Vec<&str> = path.strip_prefix('/').unwrap_or(path).split('/').collect();
    let not_found = || {
        ApiError::new(
            ErrorKind::RouteNotFound,
            format!("There is no route {path}."),
        )
    };
    if segments.iter().any(|s| s.is_empty()) {
        return Err(not_found());
    }
    // Each path has at most one GET route and one POST route.
    let (get, post) = match segments.as_slice() {
        ["healthz"] => (Some(Route::Healthz), None),
        ["api", "boards"] => (Some(Route::ListBoards), None),
        ["api", "boards", board] => (Some(Route::GetBoard { board: slug(board) }), None),
        ["api", "boards", board, "threads"] => {
            (None, Some(Route::CreateThread { board: slug(board) }))
        }
        ["api", "boards", board, "threads", thread] => {
            let thread = number(thread, "thread")?;
            (
                Some(Route::GetThread {
                    board: slug(board),
                    thread,
                }),
                None,
            )
        }
        ["api", "boards", board, "threads", thread, "posts"] => {
            let thread = number(thread, "thread")?;
            (
                None,
                Some(Route::CreateReply {
                    board: slug(board),
                    thread,
                }),
            )
        }
        ["api", "boards", board, "posts", no] => {
            let no = number(no, "no")?;
            (
                Some(Route::GetPost {
                    board: slug(board),
                    no,
                }),
                None,
            )
        }
        ["api", "boards", board, "catalog"] => (Some(Route::Catalog { board: slug(board) }), None),
        ["api", "boards", board, "index"] => (Some(Route::Index { board: slug(board) }), None),
        _ => return Err(not_found()),
    };
    let chosen = match *method {
        Method::GET | Method::HEAD => get.as_ref(),
        Method::POST => post.as_ref(),
        _ => None,
    };
    Ok(match chosen {
        Some(route) => Resolved::Route(route.clone()),
        None => Resolved::MethodNotAllowed {
            allow: match (get.is_some(), post.is_some()) {
                (true, true) => "GET, HEAD, POST",
                (true, false) => "GET, HEAD",
                _ => "POST",
            },
        },
    })
}

/// Board slugs are not validated here: a slug that cannot exist is simply a board not found.
fn slug(segment: &str) -> String {
    segment.to_owned()
}

/// A post or thread number: decimal digits only, within u64.
fn number(segment: &str, field: &str) -> ApiResult<u64> {
    let valid = !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit());
    valid
        .then(|| segment.parse::<u64>().ok())
        .flatten()
        .ok_or_else(|| {
            let message = format!(
                "`{segment}` is not a post number: use decimal digits, as in /threads/123."
            );
            ApiError::new(ErrorKind::InvalidPath, message).with_field(field)
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn b(s: &str) -> String {
        s.to_owned()
    }

    #[test]
    fn table() {
        use Resolved::Route as R;
        let cases: Vec<(Method, &str, Resolved, Access)> = vec![
            (Method::GET, "/healthz", R(Route::Healthz), Access::Public),
            (
                Method::GET,
                "/api/boards",
                R(Route::ListBoards),
                Access::Public,
            ),
            (
                Method::HEAD,
                "/api/boards",
                R(Route::ListBoards),
                Access::Public,
            ),
            (
                Method::GET,
                "/api/boards/b",
                R(Route::GetBoard { board: b("b") }),
                Access::Public,
            ),
            (
                Method::POST,
                "/api/boards/b/threads",
                R(Route::CreateThread { board: b("b") }),
                Access::Public,
            ),
            (
                Method::GET,
                "/api/boards/b/threads/7",
                R(Route::GetThread {
                    board: b("b"),
                    thread: 7,
                }),
                Access::Public,
            ),
            (
                Method::POST,
                "/api/boards/b/threads/7/posts",
                R(Route::CreateReply {
                    board: b("b"),
                    thread: 7,
                }),
                Access::Public,
            ),
            (
                Method::GET,
                "/api/boards/b/posts/9",
                R(Route::GetPost {
                    board: b("b"),
                    no: 9,
                }),
                Access::Public,
            ),
            (
                Method::GET,
                "/api/boards/b/catalog",
                R(Route::Catalog { board: b("b") }),
                Access::Public,
            ),
            (
                Method::GET,
                "/api/boards/b/index",
                R(Route::Index { board: b("b") }),
                Access::Public,
            ),
        ];
        for (method, path, expected, access) in cases {
            let got = resolve(&method, path).unwrap();
            if let Resolved::Route(route) = &got {
                assert_eq!(route.access(), access, "{method} {path}");
            }
            assert_eq!(got, expected, "{method} {path}");
        }
    }

    #[test]
    fn wrong_methods_name_the_right_ones() {
        let cases = [
            (Method::POST, "/api/boards", "GET, HEAD"),
            (Method::GET, "/api/boards/b/threads", "POST"),
            (Method::DELETE, "/api/boards/b/threads/1", "GET, HEAD"),
            (Method::PUT, "/api/boards/b/threads/1/posts", "POST"),
        ];
        for (method, path, allow) in cases {
            assert_eq!(
                resolve(&method, path).unwrap(),
                Resolved::MethodNotAllowed { allow },
                "{method} {path}"
            );
        }
    }

    #[test]
    fn bad_paths() {
        for path in [
            "/",
            "/api",
            "/api/boards/",
            "/api/boards/b/threads/1/",
            "/api/boards/b/nope",
            "//healthz",
        ] {
            let err = resolve(&Method::GET, path).unwrap_err();
            assert_eq!(err.kind, ErrorKind::RouteNotFound, "{path}");
        }
        for path in [
            "/api/boards/b/threads/x",
            "/api/boards/b/threads/-1",
            "/api/boards/b/threads/+1",
            "/api/boards/b/threads/99999999999999999999999",
            "/api/boards/b/posts/1e3",
        ] {
            let err = resolve(&Method::GET, path).unwrap_err();
            assert_eq!(err.kind, ErrorKind::InvalidPath, "{path}");
        }
    }
}

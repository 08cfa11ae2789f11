//! Matching a request's method and path against the route table: the typed [`Route`] it names,
//! or why it names none.

use hyper::Method;

use super::{Route, ThreadAct};
use crate::config;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::files::{self, Tree};
use crate::web::Page;

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
    // The client's paths `/` and `/{board}/` end in an empty segment; no other path may.
    let web = match segments.as_slice() {
        [""] => Some(Page::Home),
        [board, ""] if fourchan_board(board) => Some(Page::Board { board: slug(board) }),
        ["login" | "signup" | "reset" | "account" | "admin"]
        | ["admin", "bans" | "boards" | "users" | "log" | "reports"] => Some(Page::Console),
        _ => None,
    };
    if web.is_none() && segments.iter().any(|s| s.is_empty()) {
        return Err(not_found());
    }
    // Each path has at most one GET route, one POST route and one DELETE route; only an admin board
    // path, a token path, a file ban and a filter take DELETE.
    let delete = match segments.as_slice() {
        ["api", "admin", "boards", board] => Some(Route::AdminDeleteBoard { board: slug(board) }),
        ["api", "me", "tokens", id] => Some(Route::RevokeToken {
            id: (*id).to_owned(),
        }),
        ["api", "boards", board, "file-bans", sha256] => Some(Route::LiftFileBan {
            board: Some(slug(board)),
            sha256: (*sha256).to_owned(),
        }),
        ["api", "file-bans", sha256] => Some(Route::LiftFileBan {
            board: None,
            sha256: (*sha256).to_owned(),
        }),
        ["api", "boards", board, "filters", id] => Some(Route::DeleteFilter {
            board: Some(slug(board)),
            id: number(id, "id")?,
        }),
        ["api", "filters", id] => Some(Route::DeleteFilter {
            board: None,
            id: number(id, "id")?,
        }),
        _ => None,
    };
    let (get, post) = match segments.as_slice() {
        _ if web.is_some() => (web.map(|page| Route::WebPage { page }), None),
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
        ["api", "boards", board, "threads", thread, act] if ThreadAct::parse(act).is_some() => {
            let thread = number(thread, "thread")?;
            (
                None,
                ThreadAct::parse(act).map(|act| Route::ThreadAction {
                    board: slug(board),
                    thread,
                    act,
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
        ["api", "boards", board, "archive"] => (Some(Route::Archive { board: slug(board) }), None),
        ["api", "boards", board, "captcha"] => (Some(Route::Captcha { board: slug(board) }), None),
        ["api", "boards", board, "posts", no, "delete"] => {
            let no = number(no, "no")?;
            (
                None,
                Some(Route::DeletePost {
                    board: slug(board),
                    no,
                }),
            )
        }
        ["api", "boards", board, "posts", no, "report"] => {
            let no = number(no, "no")?;
            let board = slug(board);
            (None, Some(Route::ReportPost { board, no }))
        }
        ["api", "boards", board, "posts", no, "ban"] => {
            let no = number(no, "no")?;
            let board = slug(board);
            (None, Some(Route::BanPoster { board, no }))
        }
        ["api", "boards", board, "posts", no, "staff-delete"] => {
            let no = number(no, "no")?;
            let board = slug(board);
            (None, Some(Route::StaffDelete { board, no }))
        }
        ["api", "boards", board, "reports"] => {
            (Some(Route::BoardReports { board: slug(board) }), None)
        }
        ["api", "boards", board, "reports", no] => {
            let no = number(no, "no")?;
            let board = slug(board);
            (None, Some(Route::HandleReports { board, no }))
        }
        ["api", "boards", board, "threads", thread, "posters"] => {
            let thread = number(thread, "thread")?;
            let board = slug(board);
            (Some(Route::ThreadPosters { board, thread }), None)
        }
        ["api", "boards", board, "modlog"] => {
            (Some(Route::PublicModLog { board: slug(board) }), None)
        }
        ["api", "reports"] => (Some(Route::ListReports), None),
        ["api", "reports", "counts"] => (Some(Route::ReportCounts), None),
        ["api", "reports", "live"] => (Some(Route::ReportsLive), None),
        ["api", "modlog"] => (Some(Route::ModLog), None),
        ["api", "boards", board, "file-bans"] => {
            let board = Some(slug(board));
            (
                Some(Route::ListFileBans {
                    board: board.clone(),
                }),
                Some(Route::CreateFileBan { board }),
            )
        }
        ["api", "file-bans"] => (
            Some(Route::ListFileBans { board: None }),
            Some(Route::CreateFileBan { board: None }),
        ),
        ["api", "boards", board, "filters"] => {
            let board = Some(slug(board));
            (
                Some(Route::ListFilters {
                    board: board.clone(),
                }),
                Some(Route::CreateFilter { board }),
            )
        }
        ["api", "filters"] => (
            Some(Route::ListFilters { board: None }),
            Some(Route::CreateFilter { board: None }),
        ),
        ["api", "boards", board, "filters", id] => (
            None,
            Some(Route::UpdateFilter {
                board: Some(slug(board)),
                id: number(id, "id")?,
            }),
        ),
        ["api", "filters", id] => (
            None,
            Some(Route::UpdateFilter {
                board: None,
                id: number(id, "id")?,
            }),
        ),
        ["api", "recent"] => (Some(Route::Recent), None),
        ["api", "live"] => (Some(Route::Live), None),
        ["api", "openapi.json"] => (Some(Route::OpenApi), None),
        ["auth", "signup"] => (None, Some(Route::Signup)),
        ["auth", "login"] => (None, Some(Route::Login)),
        ["auth", "csrf"] => (Some(Route::Csrf), None),
        ["auth", "logout"] => (None, Some(Route::Logout)),
        ["auth", "destroy"] => (None, Some(Route::Destroy)),
        ["auth", "changePassword"] => (None, Some(Route::ChangePassword)),
        ["api", "admin", "users"] => (Some(Route::ListUsers), None),
        ["api", "admin", "users", name, "reset"] => (
            None,
            Some(Route::IssueReset {
                username: username(name)?,
            }),
        ),
        ["auth", "reset"] => (None, Some(Route::ResetPassword)),
        ["auth", "recover"] => (None, Some(Route::Recover)),
        ["api", "me", "email"] => (Some(Route::GetEmail), Some(Route::SetEmail)),
        ["api", "admin", "users", name, "totp", "clear"] => (
            None,
            Some(Route::ClearTotp {
                username: username(name)?,
            }),
        ),
        ["api", "me", "totp"] => (None, Some(Route::TotpEnrol)),
        ["api", "me", "totp", "confirm"] => (None, Some(Route::TotpConfirm)),
        ["api", "me", "totp", "disable"] => (None, Some(Route::TotpDisable)),
        ["api", "me", "tokens"] => (Some(Route::ListTokens), Some(Route::CreateToken)),
        ["api", "admin", "users", name, "role"] => (
            None,
            Some(Route::SetUserRole {
                username: username(name)?,
            }),
        ),
        ["api", "admin", "users", name, "disabled"] => (
            None,
            Some(Route::SetUserDisabled {
                username: username(name)?,
            }),
        ),
        ["api", "admin", "boards"] => (Some(Route::AdminListBoards), Some(Route::AdminCreateBoard)),
        ["api", "admin", "stats"] => (Some(Route::AdminStats), None),
        ["api", "bans"] => (Some(Route::ListBans), Some(Route::CreateBan)),
        ["api", "bans", "mine"] => (Some(Route::MyBans), None),
        ["api", "bans", "appeals"] => (Some(Route::ListAppeals), None),
        ["api", "bans", id, "lift"] => (
            None,
            Some(Route::LiftBan {
                id: number(id, "id")?,
            }),
        ),
        ["api", "bans", id, "appeal"] => (
            None,
            Some(Route::AppealBan {
                id: number(id, "id")?,
            }),
        ),
        ["api", "bans", id, "appeal", answer @ ("accept" | "deny")] => (
            None,
            Some(Route::AnswerAppeal {
                id: number(id, "id")?,
                accept: *answer == "accept",
            }),
        ),
        ["api", "admin", "boards", board] => (
            Some(Route::AdminGetBoard { board: slug(board) }),
            Some(Route::AdminUpdateBoard { board: slug(board) }),
        ),
        [tree @ ("files" | "thumbs"), shard1, shard2, name] => {
            let tree = if *tree == "files" {
                Tree::Originals
            } else {
                Tree::Thumbs
            };
            (Some(file(tree, shard1, shard2, name, path)?), None)
        }
        ["boards.json"] => (Some(Route::FourBoards), None),
        ["app", name] => (
            Some(Route::WebAsset {
                name: (*name).to_owned(),
            }),
            None,
        ),
        [board, rest @ ..] if fourchan_board(board) && web_page(board, rest).is_some() => (
            web_page(board, rest).map(|page| Route::WebPage { page }),
            None,
        ),
        [board, rest @ ..] if !rest.is_empty() && fourchan_board(board) => {
            (Some(fourchan(board, rest).ok_or_else(not_found)?), None)
        }
        _ if delete.is_some() => (None, None),
        _ => return Err(not_found()),
    };
    let chosen = match *method {
        Method::GET | Method::HEAD => get.as_ref(),
        Method::POST => post.as_ref(),
        Method::DELETE => delete.as_ref(),
        _ => None,
    };
    Ok(match chosen {
        Some(route) => Resolved::Route(route.clone()),
        None => Resolved::MethodNotAllowed {
            allow: match (get.is_some(), post.is_some(), delete.is_some()) {
                (true, true, true) => "GET, HEAD, POST, DELETE",
                (true, true, false) => "GET, HEAD, POST",
                (true, false, _) => "GET, HEAD",
                (false, false, true) => "DELETE",
                (false, true, true) => "POST, DELETE",
                _ => "POST",
            },
        },
    })
}

/// Board slugs are not validated here: a slug that cannot exist is simply a board not found.
fn slug(segment: &str) -> String {
    segment.to_owned()
}

/// A stored file's path: `ab/cd/<sha256>.<ext>` where `abcd` starts the hash and the extension
/// is one the tree holds. Anything else cannot name a stored file, so it is not found.
fn file(tree: Tree, shard1: &str, shard2: &str, name: &str, path: &str) -> ApiResult<Route> {
    let valid = name.split_once('.').filter(|(sha256, ext)| {
        files::is_sha256(sha256)
            && sha256[..2] == *shard1
            && sha256[2..4] == *shard2
            && tree.extensions().contains(ext)
    });
    let Some((sha256, ext)) = valid else {
        return Err(ApiError::new(
            ErrorKind::FileNotFound,
            format!("There is no file {path}."),
        ));
    };
    Ok(Route::GetFile {
        tree,
        sha256: sha256.to_owned(),
        ext: ext.to_owned(),
    })
}

/// Whether a first path segment can be a board of the 4chan-compatible paths: a valid slug
/// that is not one of the server's own first segments (config refuses those as slugs).
fn fourchan_board(segment: &str) -> bool {
    config::valid_slug(segment) && !config::RESERVED_SLUGS.contains(&segment)
}

/// The client's paths under `/{board}/` other than the board index itself.
fn web_page(board: &str, rest: &[&str]) -> Option<Page> {
    let board = slug(board);
    Some(match rest {
        ["catalog"] => Page::Catalog { board },
        ["archive"] => Page::Archive { board },
        ["modlog"] => Page::ModLog { board },
        ["thread", no] => Page::Thread {
            board,
            thread: digits(no)?,
        },
        _ => return None,
    })
}

/// The 4chan and vichan paths under `/{board}/`. `None` for anything else, malformed numbers
/// included: on 4chan those are simply files that do not exist, so they are 404s here too.
fn fourchan(board: &str, rest: &[&str]) -> Option<Route> {
    let board = slug(board);
    let json_number = |name: &str| digits(name.strip_suffix(".json")?);
    Some(match rest {
        ["threads.json"] => Route::FourThreadList { board },
        ["catalog.json"] => Route::FourCatalog { board },
        ["archive.json"] => Route::FourArchive { board },
        [name] if name.ends_with(".json") => Route::FourIndex {
            board,
            page: json_number(name)?,
        },
        [name] => match name.split_once("s.") {
            Some((tim, "jpg")) => Route::FourFile {
                board,
                tim: digits(tim)?,
                ext: "jpg".into(),
                thumb: true,
            },
            _ => media(board, name, false)?,
        },
        ["thread" | "res", name] => Route::FourThread {
            board,
            thread: json_number(name)?,
        },
        ["src", name] => media(board, name, false)?,
        ["thumb", name] => media(board, name, true)?,
        _ => return None,
    })
}

/// `{tim}.{ext}`: digits, a dot, then lowercase letters and digits.
fn media(board: String, name: &str, thumb: bool) -> Option<Route> {
    let (tim, ext) = name.split_once('.')?;
    let ext_ok = !ext.is_empty()
        && ext
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit());
    ext_ok.then_some(())?;
    Some(Route::FourFile {
        board,
        tim: digits(tim)?,
        ext: ext.to_owned(),
        thumb,
    })
}

/// Decimal digits only, within u64.
fn digits(segment: &str) -> Option<u64> {
    let valid = !segment.is_empty() && segment.bytes().all(|b| b.is_ascii_digit());
    valid.then(|| segment.parse().ok()).flatten()
}

/// A username in a path, percent-decoded (`%C3%A4` is `ä`).
fn username(segment: &str) -> ApiResult<String> {
    let bad = || {
        ApiError::new(
            ErrorKind::InvalidPath,
            "The username in the path is not properly percent-encoded UTF-8.",
        )
        .with_field("username")
    };
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' {
            let hex = bytes.get(i + 1..i + 3).ok_or_else(bad)?;
            let hex = std::str::from_utf8(hex).map_err(|_| bad())?;
            if !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(bad());
            }
            out.push(u8::from_str_radix(hex, 16).map_err(|_| bad())?);
            i += 3;
        } else {
            out.push(bytes[i]);
            i += 1;
        }
    }
    String::from_utf8(out).map_err(|_| bad())
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

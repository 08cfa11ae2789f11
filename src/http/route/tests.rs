use hyper::Method;

use super::*;
use crate::error::ErrorKind;

fn b(s: &str) -> String {
    s.to_owned()
}

const SHA: &str = "abcd000000000000000000000000000000000000000000000000000000000000";

#[test]
fn table() {
    use Resolved::Route as R;
    let original = format!("/files/ab/cd/{SHA}.jpg");
    let thumb = format!("/thumbs/ab/cd/{SHA}.webp");
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
        (
            Method::GET,
            "/api/boards/b/archive",
            R(Route::Archive { board: b("b") }),
            Access::Public,
        ),
        (
            Method::POST,
            "/api/boards/b/posts/9/delete",
            R(Route::DeletePost {
                board: b("b"),
                no: 9,
            }),
            Access::Public,
        ),
        (Method::GET, "/api/recent", R(Route::Recent), Access::Public),
        (Method::GET, "/api/live", R(Route::Live), Access::Public),
        (
            Method::GET,
            "/api/openapi.json",
            R(Route::OpenApi),
            Access::Public,
        ),
        (
            Method::GET,
            &original,
            R(Route::GetFile {
                tree: Tree::Originals,
                sha256: b(SHA),
                ext: b("jpg"),
            }),
            Access::Public,
        ),
        (
            Method::HEAD,
            &thumb,
            R(Route::GetFile {
                tree: Tree::Thumbs,
                sha256: b(SHA),
                ext: b("webp"),
            }),
            Access::Public,
        ),
    ];
    let four = |path: &'static str, route: Route| (Method::GET, path, R(route), Access::Public);
    let media = |board: &str, tim: u64, ext: &str, thumb: bool| Route::FourFile {
        board: b(board),
        tim,
        ext: b(ext),
        thumb,
    };
    let cases = cases
        .into_iter()
        .chain([
            four("/boards.json", Route::FourBoards),
            four("/b/threads.json", Route::FourThreadList { board: b("b") }),
            four("/b/catalog.json", Route::FourCatalog { board: b("b") }),
            four("/b/archive.json", Route::FourArchive { board: b("b") }),
            four(
                "/b/1.json",
                Route::FourIndex {
                    board: b("b"),
                    page: 1,
                },
            ),
            four(
                "/b/0.json",
                Route::FourIndex {
                    board: b("b"),
                    page: 0,
                },
            ),
            four(
                "/g2/15.json",
                Route::FourIndex {
                    board: b("g2"),
                    page: 15,
                },
            ),
            four(
                "/b/thread/7.json",
                Route::FourThread {
                    board: b("b"),
                    thread: 7,
                },
            ),
            four(
                "/b/res/7.json",
                Route::FourThread {
                    board: b("b"),
                    thread: 7,
                },
            ),
            four("/b/700.jpg", media("b", 700, "jpg", false)),
            four("/b/701s.jpg", media("b", 701, "jpg", true)),
            four("/b/src/702.webm", media("b", 702, "webm", false)),
            four("/b/thumb/702.png", media("b", 702, "png", true)),
            // A board may be named like a route word elsewhere: only the first segment counts.
            four(
                "/threads/thread/1.json",
                Route::FourThread {
                    board: b("threads"),
                    thread: 1,
                },
            ),
            (
                Method::HEAD,
                "/b/catalog.json",
                R(Route::FourCatalog { board: b("b") }),
                Access::Public,
            ),
            (Method::POST, "/auth/signup", R(Route::Signup), Access::Auth),
            (Method::POST, "/auth/login", R(Route::Login), Access::Auth),
            (Method::GET, "/auth/csrf", R(Route::Csrf), Access::Auth),
            (Method::POST, "/auth/logout", R(Route::Logout), Access::User),
            (
                Method::POST,
                "/auth/destroy",
                R(Route::Destroy),
                Access::User,
            ),
            (
                Method::POST,
                "/auth/changePassword",
                R(Route::ChangePassword),
                Access::User,
            ),
            (
                Method::GET,
                "/api/admin/users",
                R(Route::ListUsers),
                Access::Admin,
            ),
            (
                Method::POST,
                "/api/admin/users/%C3%A4rger/role",
                R(Route::SetUserRole {
                    username: b("ärger"),
                }),
                Access::Admin,
            ),
            (
                Method::POST,
                "/api/admin/users/bob/disabled",
                R(Route::SetUserDisabled { username: b("bob") }),
                Access::Admin,
            ),
            (
                Method::POST,
                "/api/me/totp",
                R(Route::TotpEnrol),
                Access::User,
            ),
            (
                Method::POST,
                "/api/me/totp/confirm",
                R(Route::TotpConfirm),
                Access::User,
            ),
            (
                Method::POST,
                "/api/me/totp/disable",
                R(Route::TotpDisable),
                Access::User,
            ),
            (
                Method::POST,
                "/api/admin/users/bob/reset",
                R(Route::IssueReset { username: b("bob") }),
                Access::Admin,
            ),
            (
                Method::POST,
                "/auth/reset",
                R(Route::ResetPassword),
                Access::Auth,
            ),
            (
                Method::POST,
                "/auth/recover",
                R(Route::Recover),
                Access::Auth,
            ),
            (
                Method::GET,
                "/api/boards/b/captcha",
                R(Route::Captcha { board: b("b") }),
                Access::Public,
            ),
            (Method::GET, "/api/bans", R(Route::ListBans), Access::User),
            (Method::POST, "/api/bans", R(Route::CreateBan), Access::User),
            (
                Method::GET,
                "/api/bans/mine",
                R(Route::MyBans),
                Access::Public,
            ),
            (
                Method::POST,
                "/api/bans/mine",
                Resolved::MethodNotAllowed { allow: "GET, HEAD" },
                Access::Public,
            ),
            (
                Method::GET,
                "/api/bans/appeals",
                R(Route::ListAppeals),
                Access::User,
            ),
            (
                Method::POST,
                "/api/bans/4/lift",
                R(Route::LiftBan { id: 4 }),
                Access::User,
            ),
            (
                Method::POST,
                "/api/bans/4/appeal",
                R(Route::AppealBan { id: 4 }),
                Access::Public,
            ),
            (
                Method::POST,
                "/api/bans/4/appeal/accept",
                R(Route::AnswerAppeal {
                    id: 4,
                    accept: true,
                }),
                Access::User,
            ),
            (
                Method::POST,
                "/api/bans/4/appeal/deny",
                R(Route::AnswerAppeal {
                    id: 4,
                    accept: false,
                }),
                Access::User,
            ),
            (
                Method::POST,
                "/api/boards/b/posts/9/ban",
                R(Route::BanPoster {
                    board: b("b"),
                    no: 9,
                }),
                Access::BoardMod,
            ),
            (
                Method::GET,
                "/auth/recover",
                Resolved::MethodNotAllowed { allow: "POST" },
                Access::Auth,
            ),
            (
                Method::GET,
                "/api/me/email",
                R(Route::GetEmail),
                Access::User,
            ),
            (
                Method::POST,
                "/api/me/email",
                R(Route::SetEmail),
                Access::User,
            ),
            (
                Method::POST,
                "/api/admin/users/b%C3%B6b/totp/clear",
                R(Route::ClearTotp {
                    username: "böb".into(),
                }),
                Access::Admin,
            ),
            (
                Method::GET,
                "/api/admin/boards",
                R(Route::AdminListBoards),
                Access::Admin,
            ),
            (
                Method::POST,
                "/api/admin/boards",
                R(Route::AdminCreateBoard),
                Access::Admin,
            ),
            (
                Method::GET,
                "/api/admin/boards/g",
                R(Route::AdminGetBoard { board: b("g") }),
                Access::BoardMod,
            ),
            (
                Method::POST,
                "/api/admin/boards/g",
                R(Route::AdminUpdateBoard { board: b("g") }),
                Access::BoardMod,
            ),
            (
                Method::DELETE,
                "/api/admin/boards/g",
                R(Route::AdminDeleteBoard { board: b("g") }),
                Access::Admin,
            ),
            (
                Method::GET,
                "/api/me/tokens",
                R(Route::ListTokens),
                Access::User,
            ),
            (
                Method::POST,
                "/api/me/tokens",
                R(Route::CreateToken),
                Access::User,
            ),
            (
                Method::DELETE,
                "/api/me/tokens/0a1b",
                R(Route::RevokeToken { id: b("0a1b") }),
                Access::User,
            ),
            (
                Method::POST,
                "/api/boards/b/posts/9/report",
                R(Route::ReportPost {
                    board: b("b"),
                    no: 9,
                }),
                Access::Public,
            ),
            (
                Method::GET,
                "/api/boards/b/posts/9/report",
                Resolved::MethodNotAllowed { allow: "POST" },
                Access::Public,
            ),
            (
                Method::POST,
                "/api/boards/b/posts/9/staff-delete",
                R(Route::StaffDelete {
                    board: b("b"),
                    no: 9,
                }),
                Access::Janitor,
            ),
            (
                Method::GET,
                "/api/boards/b/reports",
                R(Route::BoardReports { board: b("b") }),
                Access::Janitor,
            ),
            (
                Method::POST,
                "/api/boards/b/reports/9",
                R(Route::HandleReports {
                    board: b("b"),
                    no: 9,
                }),
                Access::Janitor,
            ),
            (
                Method::GET,
                "/api/boards/b/threads/7/posters",
                R(Route::ThreadPosters {
                    board: b("b"),
                    thread: 7,
                }),
                Access::Janitor,
            ),
            (
                Method::GET,
                "/api/boards/b/modlog",
                R(Route::PublicModLog { board: b("b") }),
                Access::Public,
            ),
            (
                Method::GET,
                "/api/reports",
                R(Route::ListReports),
                Access::Staff,
            ),
            (
                Method::GET,
                "/api/reports/counts",
                R(Route::ReportCounts),
                Access::Staff,
            ),
            (
                Method::GET,
                "/api/reports/live",
                R(Route::ReportsLive),
                Access::Staff,
            ),
            (
                Method::GET,
                "/api/admin/stats",
                R(Route::AdminStats),
                Access::Admin,
            ),
            (Method::GET, "/api/modlog", R(Route::ModLog), Access::Staff),
        ])
        .chain(
            [
                ("sticky", ThreadAct::Sticky),
                ("lock", ThreadAct::Lock),
                ("cyclic", ThreadAct::Cyclic),
                ("move", ThreadAct::Move),
            ]
            .map(|(name, act)| {
                let path: &'static str = format!("/api/boards/g/threads/7/{name}").leak();
                (
                    Method::POST,
                    path,
                    R(Route::ThreadAction {
                        board: b("g"),
                        thread: 7,
                        act,
                    }),
                    Access::BoardMod,
                )
            }),
        );
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
        (Method::POST, "/boards.json", "GET, HEAD"),
        (Method::POST, "/b/thread/1.json", "GET, HEAD"),
        (Method::DELETE, "/b/1.json", "GET, HEAD"),
        (Method::GET, "/auth/login", "POST"),
        (Method::POST, "/auth/csrf", "GET, HEAD"),
        (Method::POST, "/api/admin/users", "GET, HEAD"),
        (Method::DELETE, "/api/admin/boards", "GET, HEAD, POST"),
        (
            Method::PUT,
            "/api/admin/boards/g",
            "GET, HEAD, POST, DELETE",
        ),
        (Method::DELETE, "/api/boards/b", "GET, HEAD"),
        (Method::DELETE, "/api/me/tokens", "GET, HEAD, POST"),
        (Method::GET, "/api/me/tokens/0a1b", "DELETE"),
        (Method::POST, "/api/me/tokens/0a1b", "DELETE"),
        (Method::GET, "/api/boards/b/threads/1/sticky", "POST"),
        (Method::DELETE, "/api/boards/b/threads/1/move", "POST"),
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
fn web_client_paths() {
    let b = || "b".to_owned();
    let cases = [
        ("/", Page::Home),
        ("/b/", Page::Board { board: b() }),
        ("/b/catalog", Page::Catalog { board: b() }),
        ("/b/archive", Page::Archive { board: b() }),
        ("/b/modlog", Page::ModLog { board: b() }),
        (
            "/b/thread/7",
            Page::Thread {
                board: b(),
                thread: 7,
            },
        ),
        ("/login", Page::Console),
        ("/signup", Page::Console),
        ("/reset", Page::Console),
        ("/account", Page::Console),
        ("/admin", Page::Console),
        ("/admin/boards", Page::Console),
        ("/admin/users", Page::Console),
        ("/admin/bans", Page::Console),
        ("/admin/log", Page::Console),
        ("/admin/reports", Page::Console),
    ];
    for (path, page) in cases {
        assert_eq!(
            resolve(&Method::GET, path).unwrap(),
            Resolved::Route(Route::WebPage { page }),
            "{path}"
        );
        assert!(matches!(
            resolve(&Method::POST, path).unwrap(),
            Resolved::MethodNotAllowed { allow: "GET, HEAD" }
        ));
    }
    assert_eq!(
        resolve(&Method::GET, "/app/main.0123.js").unwrap(),
        Resolved::Route(Route::WebAsset {
            name: "main.0123.js".to_owned()
        })
    );
}

#[test]
fn bad_paths() {
    for path in [
        "/api",
        "/api/boards/",
        "/api/boards/b/threads/1/",
        "/api/boards/b/nope",
        "//healthz",
        "/healthz/",
        "/healthz/thread/1.json",
        // The 4chan-compatible paths: a malformed name is a file that does not exist.
        "/boards",
        "/b",
        "/b/threads",
        "/b/thread",
        "/b//",
        "/api/",
        "/app/",
        "/b/catalog/",
        "/b/thread/1/",
        "/b/thread/x",
        // The console's paths are exact: `admin` is no board, and its other pages come later.
        "/admin/",
        "/admin/nope",
        "/admin/boards/",
        "/login/x",
        "/b/thread/1.json/",
        "/b/thread/x.json",
        "/b/thread/-1.json",
        "/b/thread/+1.json",
        "/b/thread/1e3.json",
        "/b/thread/.json",
        "/b/thread/99999999999999999999999.json",
        "/b/res/1.JSON",
        "/b/-1.json",
        "/b/one.json",
        "/b/99999999999999999999999.json",
        "/b/thread/1/2.json",
        "/b/700",
        "/b/700.",
        "/b/700.JPG",
        "/b/.jpg",
        "/b/x700.jpg",
        "/b/700s.png",
        "/b/700ss.jpg",
        "/b/src/700s.jpg",
        "/b/thumb/700",
        "/B/catalog.json",
        "/b!/catalog.json",
        "/abcdefghijklmnopq/catalog.json",
        "/api/catalog.json",
        "/files/catalog.json",
        "/thumbs/1.json",
        "/thumbs/thread/1.json",
        "/auth",
        "/auth/",
        "/auth/recover/x",
        "/api/admin/users/bob/totp",
        "/api/admin/users/",
        "/api/admin/users/bob",
        "/api/me",
        "/api/me/totp/",
        "/api/me/totp/x",
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
        "/api/admin/users/%zz/role",
        "/api/admin/users/%ff/role",
        "/api/admin/users/%4/role",
    ] {
        let err = resolve(&Method::GET, path).unwrap_err();
        assert_eq!(err.kind, ErrorKind::InvalidPath, "{path}");
    }
    let not_stored = [
        format!("/files/00/00/{SHA}.jpg"),
        format!("/files/ab/cd/{SHA}.svg"),
        format!("/files/ab/cd/{SHA}.jpg.html"),
        format!("/thumbs/ab/cd/{SHA}.jpg"),
        format!("/files/ab/cd/{}.jpg", SHA.to_uppercase()),
        "/files/ab/cd/abcd.jpg".to_owned(),
        "/files/../../wani.redb".to_owned(),
    ];
    for path in not_stored {
        let err = resolve(&Method::GET, &path).unwrap_err();
        assert_eq!(err.kind, ErrorKind::FileNotFound, "{path}");
    }
}

#[test]
fn expensive_routes_spend_the_request_budget() {
    let cases = [
        (Method::POST, "/api/boards/b/threads", true),
        (Method::POST, "/api/boards/b/threads/1/posts", true),
        (Method::POST, "/api/boards/b/posts/1/delete", true),
        (Method::POST, "/auth/login", true),
        (Method::POST, "/auth/signup", true),
        (Method::POST, "/auth/reset", true),
        (Method::GET, "/api/boards/b/threads/1", false),
        (Method::GET, "/api/boards/b/catalog", false),
        (Method::POST, "/auth/logout", false),
        (Method::GET, "/healthz", false),
    ];
    for (method, path, expensive) in cases {
        let Resolved::Route(route) = resolve(&method, path).unwrap() else {
            panic!("{method} {path} is no route");
        };
        assert_eq!(route.is_expensive(), expensive, "{method} {path}");
    }
}

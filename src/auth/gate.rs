//! The gatekeeper: who is calling (from the session cookie or an API token), whether the CSRF token holds, and
//! whether the caller may use the route. The pipeline calls it once per request.

use std::net::IpAddr;

use hyper::{HeaderMap, Method};

use super::password::Hasher;
use super::session::{same_token, storage_key, Cookies, Presented};
use super::throttle::Throttle;
use super::{AccountsConfig, Caller, Role};
use crate::app::App;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::http::route::{Access, Route};
use crate::notify::{notify, Severity};
use crate::storage::{AccountWrite, Write};

/// The header carrying the CSRF token on state-changing requests made with a session cookie.
pub const CSRF_HEADER: &str = "x-csrf-token";
/// The body field that may carry it instead, in a JSON body.
pub const CSRF_FIELD: &str = "csrf";

/// The account machinery every request may need.
pub struct Accounts {
    pub cookies: Cookies,
    pub hasher: Hasher,
    pub throttle: Throttle,
    pub idle_ms: u64,
}

impl Accounts {
    pub fn new(config: &AccountsConfig, data_dir: &std::path::Path) -> Result<Accounts, String> {
        let (path, create) = match &config.cookie_key_file {
            Some(path) => (path.clone(), false),
            None => (data_dir.join(super::session::KEY_FILE), true),
        };
        let cookies =
            Cookies::load_or_create(&path, create, &config.cookie_name, config.secure_cookies)
                .map_err(|e| {
                    format!(
                        "cannot read or create the cookie key {}: {e}",
                        path.display()
                    )
                })?;
        Ok(Accounts {
            cookies,
            hasher: Hasher::new(config)?,
            throttle: Throttle::new(config.login_free_attempts, config.login_max_delay_secs),
            idle_ms: config.session_idle_ms(),
        })
    }

    /// When a session used now should expire.
    pub fn expiry_from(&self, now_ms: u64) -> u64 {
        now_ms.saturating_add(self.idle_ms)
    }
}

/// Who is calling, as far as the cookie tells.
#[derive(Debug, Default)]
pub struct Resolution {
    pub caller: Option<Caller>,
    /// The request carried a cookie naming no live session: the answer deletes it.
    pub clear_cookie: bool,
    /// The caller came with an API token of this scope, not a session.
    pub bearer: Option<super::token::Rights>,
}

/// What the CSRF check left for the body reader: the token expected in a JSON body's `csrf`
/// field, or that the header already proved it (the field, if sent, is then ignored).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Csrf {
    Verified,
    InBody(String),
}

pub fn now_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis() as u64)
        .unwrap_or(0)
}

/// Reads the session cookie and its session. A forged cookie is reported; an expired or unknown
/// session, a deleted or disabled account, make the caller anonymous and delete the cookie. A
/// session used after a tenth of its idle time (at most an hour) is renewed, so a busy session
/// costs one write per renewal step, not one per request.
pub async fn resolve(app: &App, headers: &HeaderMap, client: IpAddr) -> ApiResult<Resolution> {
    if let Some(key) = super::token::presented(headers)? {
        // One request, one identity: which of the two would count is not for us to guess.
        if app.accounts.cookies.presented(headers) != Presented::None {
            return Err(ApiError::new(
                ErrorKind::BadAuthorization,
                "Send either a session cookie or an API token, not both.",
            ));
        }
        let (caller, scope) = super::token::resolve(app, key, client).await?;
        return Ok(Resolution {
            caller: Some(caller),
            clear_cookie: false,
            bearer: Some(scope),
        });
    }
    let accounts = &app.accounts;
    let id = match accounts.cookies.presented(headers) {
        Presented::None => return Ok(Resolution::default()),
        Presented::Forged => {
            notify(
                Severity::Warning,
                "session_cookie_forged",
                format_args!("a session cookie with a bad signature from {client}"),
            );
            return Ok(Resolution {
                caller: None,
                clear_cookie: true,
                bearer: None,
            });
        }
        Presented::Signed(id) => id,
    };
    let key = storage_key(&id);
    let now = now_ms();
    let require_totp = app.config.accounts.require_totp_for_staff;
    let found = app
        .read(move |r| {
            let Some(session) = r.session(&key)? else {
                return Ok(None);
            };
            if session.expires_ms <= now {
                return Ok(None);
            }
            let Some(account) = r.account(&session.username)? else {
                return Ok(None);
            };
            let totp_on = require_totp && r.totp(&account.username)?.is_some_and(|t| t.active);
            Ok(Some((account, session, totp_on)))
        })
        .await?;
    let Some((account, session, totp_on)) = found.filter(|(a, _, _)| !a.disabled) else {
        return Ok(Resolution {
            caller: None,
            clear_cookie: true,
            bearer: None,
        });
    };
    let step = (accounts.idle_ms / 10).min(3_600_000);
    let renewed_at = session.expires_ms.saturating_sub(accounts.idle_ms);
    if now.saturating_sub(renewed_at) >= step {
        let write = Write::Account(AccountWrite::Renew {
            key,
            expires_ms: accounts.expiry_from(now),
        });
        app.writer.submit(write).await?;
    }
    let role = if app.config.accounts.is_admin(&account.username) {
        Role::Admin
    } else {
        account.role
    };
    let needs_totp = require_totp && role != Role::User && !totp_on;
    let role = if needs_totp { Role::User } else { role };
    let boards = if role.has_boards() {
        account.boards
    } else {
        Vec::new()
    };
    Ok(Resolution {
        caller: Some(Caller {
            username: account.username,
            role,
            boards,
            session: key,
            csrf: accounts.cookies.csrf(&id),
            needs_totp,
        }),
        clear_cookie: false,
        bearer: None,
    })
}

/// Whether a method changes state (and so needs the CSRF token when a session is used).
pub fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Enforces the route's access for this caller, then the CSRF token of a state-changing
/// request made with a session. Returns what the body reader must still check.
pub fn check(
    route: &Route,
    caller: Option<&Caller>,
    method: &Method,
    headers: &HeaderMap,
) -> ApiResult<Option<Csrf>> {
    let access = route.access();
    if !matches!(access, Access::Public | Access::Auth) {
        let Some(caller) = caller else {
            return Err(ApiError::new(
                ErrorKind::NotLoggedIn,
                "This route needs a logged-in account; log in first.",
            ));
        };
        let allowed = permits(access, route.board(), caller);
        let staff_only = matches!(
            access,
            Access::BoardMod | Access::Admin | Access::Janitor | Access::Staff | Access::GlobalMod
        );
        if !allowed && caller.needs_totp && staff_only {
            return Err(ApiError::new(
                ErrorKind::TotpEnrolmentRequired,
                "Staff accounts need TOTP on this server: turn it on through /api/me/totp first.",
            ));
        }
        if !allowed {
            return Err(ApiError::new(
                ErrorKind::Forbidden,
                "Your account's role does not allow this.",
            ));
        }
    }
    // Signup and login open a session; they are not made on behalf of one. A request with an
    // API token carries no cookie (the resolver refuses both at once), so no CSRF token either.
    let bearer = headers.contains_key(hyper::header::AUTHORIZATION);
    let Some(caller) =
        caller.filter(|_| access != Access::Auth && changes_state(method) && !bearer)
    else {
        return Ok(None);
    };
    let failed = |message: &str| Err(ApiError::new(ErrorKind::CsrfFailed, message.to_owned()));
    match headers.get(CSRF_HEADER).map(|v| v.to_str()) {
        Some(Ok(sent)) if same_token(sent, &caller.csrf) => Ok(Some(Csrf::Verified)),
        Some(_) => failed("The X-CSRF-Token header does not match this session's token."),
        None => {
            let json = headers
                .get(hyper::header::CONTENT_TYPE)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.split(';').next())
                .is_some_and(|m| m.trim().eq_ignore_ascii_case("application/json"));
            if !json {
                return failed(
                    "A request made with a session cookie needs its CSRF token: send the \
                     X-CSRF-Token header (or a `csrf` field in a JSON body).",
                );
            }
            Ok(Some(Csrf::InBody(caller.csrf.clone())))
        }
    }
}

/// Whether a logged-in caller may use a route of this access on `board` (the route's board).
fn permits(access: Access, board: Option<&str>, caller: &Caller) -> bool {
    match access {
        Access::Public | Access::Auth | Access::User => true,
        Access::BoardMod => board.is_some_and(|b| caller.may_manage_board(b)),
        Access::Janitor => board.is_some_and(|b| caller.may_clean_board(b)),
        Access::Staff => caller.role != Role::User,
        Access::Admin => caller.role == Role::Admin,
        Access::GlobalMod => matches!(caller.role, Role::Admin | Role::GlobalMod),
    }
}

/// Takes the `csrf` field out of a JSON body, checking it when the header did not.
pub fn check_body(
    csrf: Option<&Csrf>,
    map: &mut serde_json::Map<String, serde_json::Value>,
) -> ApiResult<()> {
    let Some(csrf) = csrf else {
        return Ok(());
    };
    let sent = map.remove(CSRF_FIELD);
    match csrf {
        Csrf::Verified => Ok(()),
        Csrf::InBody(expected) => match sent {
            Some(serde_json::Value::String(s)) if same_token(&s, expected) => Ok(()),
            _ => Err(ApiError::new(
                ErrorKind::CsrfFailed,
                "A request made with a session cookie needs its CSRF token in the \
                 X-CSRF-Token header or the body's `csrf` field.",
            )),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn caller(role: Role, boards: &[&str]) -> Caller {
        Caller {
            username: "x".into(),
            role,
            boards: boards.iter().map(|b| (*b).to_owned()).collect(),
            session: [0; 32],
            csrf: "token".into(),
            needs_totp: false,
        }
    }

    #[test]
    fn access_by_role() {
        use Access::*;
        let cases = [
            (User, None, Role::User, &[][..], true),
            (Admin, None, Role::User, &[], false),
            (Admin, None, Role::GlobalMod, &[], false),
            (Admin, None, Role::Admin, &[], true),
            (BoardMod, Some("b"), Role::Admin, &[], true),
            (BoardMod, Some("b"), Role::GlobalMod, &[], true),
            (BoardMod, Some("b"), Role::BoardMod, &["b"], true),
            (BoardMod, Some("b"), Role::BoardMod, &["t"], false),
            (BoardMod, None, Role::BoardMod, &["b"], false),
            (BoardMod, Some("b"), Role::Janitor, &["b"], false),
            (BoardMod, Some("b"), Role::User, &[], false),
            (Janitor, Some("b"), Role::Admin, &[], true),
            (Janitor, Some("b"), Role::GlobalMod, &[], true),
            (Janitor, Some("b"), Role::BoardMod, &["b"], true),
            (Janitor, Some("b"), Role::BoardMod, &["t"], false),
            (Janitor, Some("b"), Role::Janitor, &["b"], true),
            (Janitor, Some("b"), Role::Janitor, &["t", "b"], true),
            (Janitor, Some("b"), Role::Janitor, &["t"], false),
            (Janitor, None, Role::Janitor, &["b"], false),
            (Janitor, Some("b"), Role::User, &[], false),
            (Staff, None, Role::Admin, &[], true),
            (Staff, None, Role::GlobalMod, &[], true),
            (Staff, None, Role::BoardMod, &["b"], true),
            (Staff, None, Role::Janitor, &["b"], true),
            (Staff, None, Role::Janitor, &[], true),
            (Staff, None, Role::User, &[], false),
        ];
        for (access, board, role, boards, expected) in cases {
            let got = permits(access, board, &caller(role, boards));
            assert_eq!(got, expected, "{access:?} {board:?} {role:?} {boards:?}");
        }
    }

    #[test]
    fn the_gate_in_order() {
        let headers = |csrf: Option<&str>, json: bool| {
            let mut h = HeaderMap::new();
            if let Some(token) = csrf {
                h.insert(CSRF_HEADER, token.parse().unwrap());
            }
            if json {
                h.insert(
                    hyper::header::CONTENT_TYPE,
                    "application/json".parse().unwrap(),
                );
            }
            h
        };
        let admin = caller(Role::Admin, &[]);
        let user = caller(Role::User, &[]);
        let list = Route::ListUsers;
        let logout = Route::Logout;
        let post = Route::CreateThread { board: "b".into() };
        let code = |r: ApiResult<Option<Csrf>>| r.map_err(|e| e.kind);
        let (get, postm) = (Method::GET, Method::POST);
        let cases = [
            (
                &list,
                None,
                &get,
                headers(None, false),
                Err(ErrorKind::NotLoggedIn),
            ),
            (
                &list,
                Some(&user),
                &get,
                headers(None, false),
                Err(ErrorKind::Forbidden),
            ),
            (&list, Some(&admin), &get, headers(None, false), Ok(None)),
            (
                &logout,
                None,
                &postm,
                headers(Some("token"), true),
                Err(ErrorKind::NotLoggedIn),
            ),
            (
                &logout,
                Some(&user),
                &postm,
                headers(Some("token"), false),
                Ok(Some(Csrf::Verified)),
            ),
            (
                &logout,
                Some(&user),
                &postm,
                headers(Some("nope"), true),
                Err(ErrorKind::CsrfFailed),
            ),
            (
                &logout,
                Some(&user),
                &postm,
                headers(None, false),
                Err(ErrorKind::CsrfFailed),
            ),
            (
                &logout,
                Some(&user),
                &postm,
                headers(None, true),
                Ok(Some(Csrf::InBody("token".into()))),
            ),
            (&post, None, &postm, headers(None, true), Ok(None)),
            (
                &post,
                Some(&user),
                &postm,
                headers(None, false),
                Err(ErrorKind::CsrfFailed),
            ),
            (
                &Route::Login,
                Some(&user),
                &postm,
                headers(None, true),
                Ok(None),
            ),
        ];
        for (route, who, method, h, expected) in cases {
            assert_eq!(
                code(check(route, who, method, &h)),
                expected,
                "{route:?} {who:?}"
            );
        }
    }

    #[test]
    fn body_tokens() {
        let mut map = serde_json::Map::new();
        map.insert("csrf".into(), "token".into());
        map.insert("body".into(), "x".into());
        check_body(Some(&Csrf::InBody("token".into())), &mut map).unwrap();
        assert!(!map.contains_key("csrf"), "the field is taken out");
        map.insert("csrf".into(), "wrong".into());
        let err = check_body(Some(&Csrf::InBody("token".into())), &mut map).unwrap_err();
        assert_eq!(err.kind, ErrorKind::CsrfFailed);
        map.insert("csrf".into(), "anything".into());
        check_body(Some(&Csrf::Verified), &mut map).unwrap();
        assert!(!map.contains_key("csrf"));
        map.insert("csrf".into(), "kept".into());
        check_body(None, &mut map).unwrap();
        assert!(
            map.contains_key("csrf"),
            "anonymous bodies are left to their route"
        );
    }
}

//! Personal API tokens for scripts: their secret, their scope, and the caller a bearer token
//! stands for.

use std::net::IpAddr;

use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use base64::Engine as _;
use hyper::header::AUTHORIZATION;
use hyper::{HeaderMap, Method};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::{Caller, Role};
use crate::app::App;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::http::route::{Access, Route};
use crate::notify::{notify, Severity};
use crate::storage::{TokenWrite, Write};

/// What every token starts with, so a leaked one is recognisable (secret scanners, logs).
pub const PREFIX: &str = "wani_";
/// Last use is recorded at most this often per token: one write a minute, not one a request.
pub const TOUCH_EVERY_MS: u64 = 60_000;

/// How far a token reaches, within what its owner may do at the time of each request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Rights {
    /// The owner's rights, for reading only (GET and HEAD).
    Read,
    /// The owner's staff rights on the named boards only; no admin routes.
    Moderate,
    /// Everything the owner may do (an admin's token).
    Admin,
}

impl Rights {
    pub const ALL: [Rights; 3] = [Rights::Read, Rights::Moderate, Rights::Admin];

    pub fn name(self) -> &'static str {
        match self {
            Rights::Read => "read",
            Rights::Moderate => "moderate",
            Rights::Admin => "admin",
        }
    }

    pub fn parse(name: &str) -> Option<Rights> {
        Rights::ALL.into_iter().find(|r| r.name() == name)
    }
}

/// A token as stored (table `tokens`, keyed by the SHA-256 of its secret).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StoredToken {
    /// Public handle, for listing and revoking; not the secret.
    pub id: String,
    pub username: String,
    pub name: String,
    pub scope: Rights,
    /// The boards of a `moderate` token.
    #[serde(default)]
    pub boards: Vec<String>,
    pub created_ms: u64,
    pub expires_ms: u64,
    #[serde(default)]
    pub last_used_ms: Option<u64>,
}

impl StoredToken {
    /// What the owner sees of a token: everything but the secret (which is not stored).
    pub fn public_json(&self) -> serde_json::Value {
        serde_json::json!({
            "id": self.id,
            "name": self.name,
            "scope": self.scope,
            "boards": self.boards,
            "created_at": self.created_ms / 1000,
            "expires_at": self.expires_ms / 1000,
            "last_used_at": self.last_used_ms.map(|ms| ms / 1000),
        })
    }

    /// The caller this token stands for, given its owner's current role and boards: the
    /// intersection of the two, so lowering the owner's role lowers every token at once.
    pub fn caller(&self, role: Role, boards: Vec<String>, key: [u8; 32]) -> Caller {
        let (role, boards) = match (self.scope, role) {
            (Rights::Read | Rights::Admin, _) => (role, boards),
            (Rights::Moderate, Role::Admin | Role::GlobalMod) => {
                (Role::BoardMod, self.boards.clone())
            }
            (Rights::Moderate, Role::BoardMod | Role::Janitor) => {
                let kept = boards
                    .into_iter()
                    .filter(|b| self.boards.contains(b))
                    .collect();
                (role, kept)
            }
            (Rights::Moderate, Role::User) => (Role::User, Vec::new()),
        };
        Caller {
            username: self.username.clone(),
            role,
            boards,
            session: key,
            // No cookie, so no CSRF token: a page on another site cannot make the browser send
            // a bearer token.
            csrf: String::new(),
            needs_totp: false,
        }
    }
}

/// A new token: the secret goes to its owner once, only its hash to storage.
pub struct NewToken {
    pub secret: String,
    pub key: [u8; 32],
    pub id: String,
}

impl NewToken {
    /// 256 bits from the OS's random source, and a random 64-bit public id.
    pub fn generate() -> NewToken {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).expect("the OS random source works");
        let mut id = [0u8; 8];
        getrandom::fill(&mut id).expect("the OS random source works");
        NewToken {
            secret: format!("{PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes)),
            key: storage_key(&bytes),
            id: id.iter().map(|b| format!("{b:02x}")).collect(),
        }
    }
}

/// The token's key in storage. A plain SHA-256 is enough here, unlike for passwords: the
/// secret is 256 random bits, so no dictionary or brute force can invert the hash, and a slow
/// hash would only make every scripted request slower. A leaked database then opens nothing.
pub fn storage_key(secret: &[u8; 32]) -> [u8; 32] {
    Sha256::digest(secret).into()
}

/// The bearer token a request carries: `None` without an `Authorization` header; an error for
/// a header that is not `Bearer wani_…` with 256 bits.
pub fn presented(headers: &HeaderMap) -> ApiResult<Option<[u8; 32]>> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    let malformed = |message: &str| ApiError::new(ErrorKind::BadAuthorization, message.to_owned());
    if values.next().is_some() {
        return Err(malformed("Send one Authorization header, not several."));
    }
    let secret = value
        .to_str()
        .ok()
        .and_then(|v| v.strip_prefix("Bearer "))
        .and_then(|v| v.trim().strip_prefix(PREFIX))
        .and_then(|v| URL_SAFE_NO_PAD.decode(v).ok())
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok());
    let Some(secret) = secret else {
        return Err(malformed(
            "The Authorization header must be `Bearer wani_…` with an API token.",
        ));
    };
    Ok(Some(storage_key(&secret)))
}

/// The caller of a bearer token, with its scope. Unknown, revoked or expired tokens, and
/// tokens of a disabled or deleted account, are refused; every refusal goes to `notify`.
pub async fn resolve(app: &App, key: [u8; 32], client: IpAddr) -> ApiResult<(Caller, Rights)> {
    let now = super::gate::now_ms();
    let found = app
        .read(move |r| {
            let Some(token) = r.token(&key)? else {
                return Ok(None);
            };
            // Whether the owner has a second factor on, as the session gate asks.
            let totp_on = r.totp(&token.username)?.is_some_and(|t| t.active);
            Ok(Some((r.account(&token.username)?, token, totp_on)))
        })
        .await?;
    let refuse = |why: &str| {
        notify(
            Severity::Info,
            "token_refused",
            format_args!("an API token from {client}: {why}"),
        );
        Err(ApiError::new(
            ErrorKind::TokenInvalid,
            "This API token is unknown, revoked or expired.",
        ))
    };
    let (account, token, totp_on) = match found {
        None => return refuse("unknown or revoked"),
        Some((_, token, _)) if token.expires_ms <= now => return refuse("expired"),
        Some((Some(account), token, totp_on)) if !account.disabled => (account, token, totp_on),
        Some(_) => return refuse("its account is disabled or gone"),
    };
    if token
        .last_used_ms
        .is_none_or(|at| now.saturating_sub(at) >= TOUCH_EVERY_MS)
    {
        let write = Write::Token(TokenWrite::Touch { key, at_ms: now });
        app.writer.submit(write).await?;
    }
    let role = if app.config.accounts.is_admin(&account.username) {
        Role::Admin
    } else {
        account.role
    };
    // The same rule as a session's: staff who have not turned TOTP on, where the config
    // requires it, act as plain users, with a token as with a cookie.
    let needs_totp = app.config.accounts.require_totp_for_staff && role != Role::User && !totp_on;
    let role = if needs_totp { Role::User } else { role };
    let boards = if role.has_boards() {
        account.boards
    } else {
        Vec::new()
    };
    let mut caller = token.caller(role, boards, key);
    caller.needs_totp = needs_totp;
    Ok((caller, token.scope))
}

/// What a token may not do whatever its scope: open or end sessions, read the CSRF token,
/// manage tokens (a leaked token must not mint others), the second factor or the recovery
/// address (a leaked token must not redirect password resets). A read token changes nothing.
pub fn admit(route: &Route, method: &Method, scope: Rights) -> ApiResult<()> {
    let session_only = route.access() == Access::Auth
        || matches!(
            route,
            Route::Logout
                | Route::Destroy
                | Route::ChangePassword
                | Route::ListTokens
                | Route::CreateToken
                | Route::RevokeToken { .. }
                | Route::TotpEnrol
                | Route::TotpConfirm
                | Route::TotpDisable
                | Route::GetEmail
                | Route::SetEmail
        );
    if session_only {
        return Err(ApiError::new(
            ErrorKind::Forbidden,
            "This route needs a logged-in session; an API token cannot use it.",
        ));
    }
    if scope == Rights::Read && super::gate::changes_state(method) {
        return Err(ApiError::new(
            ErrorKind::Forbidden,
            "This API token is read-only.",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hyper::header::HeaderValue;

    #[test]
    fn headers_are_parsed() {
        let token = NewToken::generate();
        assert!(token.secret.starts_with(PREFIX));
        assert_eq!(token.secret.len(), PREFIX.len() + 43);
        assert_eq!(token.id.len(), 16);
        let bearer = format!("Bearer {}", token.secret);
        type Case<'a> = (&'a [(&'static str, &'a str)], Result<Option<[u8; 32]>, ()>);
        let cases: [Case; 8] = [
            (&[], Ok(None)),
            (&[("authorization", &bearer)], Ok(Some(token.key))),
            (&[("authorization", "Bearer ")], Err(())),
            (&[("authorization", "Basic YTpi")], Err(())),
            (&[("authorization", "Bearer wani_abc")], Err(())),
            (&[("authorization", &bearer[..bearer.len() - 1])], Err(())),
            (
                &[("authorization", &bearer), ("cookie", "wani_session=x")],
                Ok(Some(token.key)),
            ),
            (
                &[("authorization", &bearer), ("authorization", &bearer)],
                Err(()),
            ),
        ];
        for (pairs, expected) in cases {
            let mut headers = HeaderMap::new();
            for (name, value) in pairs {
                headers.append(*name, HeaderValue::from_str(value).unwrap());
            }
            let got =
                presented(&headers).map_err(|e| assert_eq!(e.kind, ErrorKind::BadAuthorization));
            assert_eq!(got, expected, "{pairs:?}");
        }
    }

    #[test]
    fn a_token_never_exceeds_its_owner() {
        let token = |scope, boards: &[&str]| StoredToken {
            id: "1".into(),
            username: "x".into(),
            name: "n".into(),
            scope,
            boards: boards.iter().map(|b| (*b).to_owned()).collect(),
            created_ms: 0,
            expires_ms: 1,
            last_used_ms: None,
        };
        let owned = |boards: &[&str]| boards.iter().map(|b| (*b).to_owned()).collect::<Vec<_>>();
        let cases = [
            (
                Rights::Admin,
                &[][..],
                Role::Admin,
                &[][..],
                Role::Admin,
                &[][..],
            ),
            (Rights::Admin, &[], Role::User, &[], Role::User, &[]),
            (
                Rights::Read,
                &[],
                Role::GlobalMod,
                &[],
                Role::GlobalMod,
                &[],
            ),
            (
                Rights::Moderate,
                &["b"],
                Role::Admin,
                &[],
                Role::BoardMod,
                &["b"],
            ),
            (
                Rights::Moderate,
                &["b"],
                Role::GlobalMod,
                &[],
                Role::BoardMod,
                &["b"],
            ),
            (
                Rights::Moderate,
                &["b"],
                Role::BoardMod,
                &["b", "t"],
                Role::BoardMod,
                &["b"],
            ),
            (
                Rights::Moderate,
                &["b"],
                Role::BoardMod,
                &["t"],
                Role::BoardMod,
                &[],
            ),
            (
                Rights::Moderate,
                &["b"],
                Role::Janitor,
                &["b"],
                Role::Janitor,
                &["b"],
            ),
            (Rights::Moderate, &["b"], Role::User, &[], Role::User, &[]),
        ];
        for (scope, scoped, role, boards, want_role, want_boards) in cases {
            let caller = token(scope, scoped).caller(role, owned(boards), [0; 32]);
            assert_eq!(
                (caller.role, caller.boards),
                (want_role, owned(want_boards)),
                "{scope:?} {scoped:?} for {role:?} {boards:?}"
            );
            assert!(caller.csrf.is_empty());
        }
    }

    #[test]
    fn tokens_stay_out_of_session_routes_and_read_tokens_change_nothing() {
        let cases = [
            (Route::Login, Method::POST, Rights::Admin, false),
            (Route::Csrf, Method::GET, Rights::Admin, false),
            (Route::Logout, Method::POST, Rights::Admin, false),
            (Route::CreateToken, Method::POST, Rights::Admin, false),
            (Route::ListTokens, Method::GET, Rights::Read, false),
            (Route::ListUsers, Method::GET, Rights::Read, true),
            (
                Route::SetUserDisabled {
                    username: "b".into(),
                },
                Method::POST,
                Rights::Read,
                false,
            ),
            (
                Route::SetUserDisabled {
                    username: "b".into(),
                },
                Method::POST,
                Rights::Admin,
                true,
            ),
        ];
        for (route, method, scope, allowed) in cases {
            let got = admit(&route, &method, scope);
            assert_eq!(got.is_ok(), allowed, "{route:?} {method} {scope:?}");
        }
        for rights in Rights::ALL {
            assert_eq!(Rights::parse(rights.name()), Some(rights));
            assert_eq!(serde_json::to_value(rights).unwrap(), rights.name());
        }
    }
}

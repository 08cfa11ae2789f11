//! A user's own API tokens: creating one (shown once), listing them, revoking one.

use hyper::body::Incoming;
use hyper::Request;
use serde_json::{json, Value};

use crate::app::App;
use crate::auth::token::{NewToken, Rights, StoredToken};
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::http::request::json_object;
use crate::http::{response, Response};
use crate::input::{blank, check_text, Fields, Lines};
use crate::notify::{notify, Severity};
use crate::storage::{TokenWrite, Write, Written};

/// Longest token name, in characters.
const MAX_NAME_CHARS: u32 = 64;
/// Longest life of a token, in days; the shortest is one second, as for sessions.
const MAX_DAYS: f64 = 365.0;
const MIN_DAYS: f64 = 1.0 / 86_400.0;
/// Boards one `moderate` token may name.
const MAX_BOARDS: usize = 256;

/// `GET /api/me/tokens` → `{"tokens":[Token]}`: the caller's tokens in id order, with their
/// last use; never a secret.
pub async fn list(app: &App, caller: &Caller) -> ApiResult<Response> {
    let username = caller.username.clone();
    let tokens = app.read(move |r| r.tokens_of(&username)).await?;
    let tokens: Vec<Value> = tokens.iter().map(StoredToken::public_json).collect();
    Ok(response::ok_json(&json!({ "tokens": tokens })))
}

/// `POST /api/me/tokens` with `{"name","expires_days","scope","boards"?}` → 201
/// `{"secret","token":Token}`. The secret is in this answer only. `scope` is `read` (the
/// caller's rights, reading only), `moderate` (staff rights on the `boards` named, which the
/// caller must moderate) or `admin` (admins only); a scope wider than the caller's role is
/// refused with `scope_too_wide`.
pub async fn create(app: &App, caller: &Caller, req: Request<Incoming>) -> ApiResult<Response> {
    let mut map = json_object(req).await?;
    let expires = map.remove("expires_days");
    let mut fields = Fields::new(map, &["name", "expires_days", "scope", "boards"])?;
    let name = fields.required_text("name")?;
    check_text("name", &name, MAX_NAME_CHARS, Lines::One)?;
    if blank(&name) {
        let message = "`name` is empty; name the token after what uses it.";
        return Err(ApiError::new(ErrorKind::Empty, message).with_field("name"));
    }
    let days = expiry_days(expires)?;
    let scope_name = fields.required_text("scope")?;
    let scope = Rights::parse(&scope_name).ok_or_else(|| {
        let names: Vec<_> = Rights::ALL.iter().map(|r| r.name()).collect();
        let message = format!("`scope` is one of {}.", names.join(", "));
        ApiError::new(ErrorKind::InvalidType, message).with_field("scope")
    })?;
    let mut boards = fields.strings("boards", MAX_BOARDS)?.unwrap_or_default();
    boards.sort();
    boards.dedup();
    check_scope(caller, scope, &boards)?;
    let wanted = boards.clone();
    app.read(move |r| {
        for board in &wanted {
            r.require_board(board).map_err(|e| e.with_field("boards"))?;
        }
        Ok(())
    })
    .await?;

    let new = NewToken::generate();
    let now = crate::auth::gate::now_ms();
    let token = StoredToken {
        id: new.id,
        username: caller.username.clone(),
        name,
        scope,
        boards,
        created_ms: now,
        expires_ms: now.saturating_add((days * 86_400_000.0) as u64),
        last_used_ms: None,
    };
    let write = Write::Token(TokenWrite::Create {
        key: new.key,
        token,
    });
    let Written::Token(Some(token)) = app.writer.submit(write).await? else {
        return Err(ApiError::internal("token_unwritten", "no token came back"));
    };
    notify(
        Severity::Info,
        "token_created",
        format_args!(
            "`{}` created API token {} ({})",
            token.username,
            token.id,
            token.scope.name()
        ),
    );
    let location = format!("/api/me/tokens/{}", token.id);
    Ok(response::created(
        &location,
        &json!({ "secret": new.secret, "token": token.public_json() }),
    ))
}

/// `DELETE /api/me/tokens/{id}` → 200 `{"revoked": id}`. The token stops working at once.
pub async fn revoke(app: &App, caller: &Caller, id: String) -> ApiResult<Response> {
    if id.len() != 16 || !id.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')) {
        let message = "A token id is 16 lower-case hexadecimal digits.";
        return Err(ApiError::new(ErrorKind::InvalidPath, message).with_field("id"));
    }
    let write = Write::Token(TokenWrite::Revoke {
        username: caller.username.clone(),
        id: id.clone(),
    });
    app.writer.submit(write).await?;
    notify(
        Severity::Info,
        "token_revoked",
        format_args!("`{}` revoked API token {id}", caller.username),
    );
    Ok(response::ok_json(&json!({ "revoked": id })))
}

/// `expires_days`: a number of days from one second to a year.
fn expiry_days(value: Option<Value>) -> ApiResult<f64> {
    let bad = |message: &str| {
        ApiError::new(ErrorKind::InvalidType, message.to_owned()).with_field("expires_days")
    };
    match value {
        None | Some(Value::Null) => Err(ApiError::new(
            ErrorKind::MissingField,
            "The field `expires_days` is needed: every token expires.",
        )
        .with_field("expires_days")),
        Some(Value::Number(n)) => match n.as_f64() {
            Some(days) if (MIN_DAYS..=MAX_DAYS).contains(&days) => Ok(days),
            _ => Err(bad(
                "`expires_days` is from one second (0.0000116) to 365 days.",
            )),
        },
        Some(_) => Err(bad("`expires_days` must be a number of days.")),
    }
}

/// Refuses a scope wider than the caller's own rights.
fn check_scope(caller: &Caller, scope: Rights, boards: &[String]) -> ApiResult<()> {
    let wide = |message: String| Err(ApiError::new(ErrorKind::ScopeTooWide, message));
    let role = caller.role.name();
    match scope {
        Rights::Read if boards.is_empty() => Ok(()),
        Rights::Admin if boards.is_empty() => match caller.role {
            Role::Admin => Ok(()),
            _ => wide(format!(
                "A `{role}` cannot create an `admin` token; its scope must stay within your role."
            )),
        },
        Rights::Read | Rights::Admin => {
            let message = "Only a `moderate` token names boards.";
            Err(ApiError::new(ErrorKind::InvalidType, message).with_field("boards"))
        }
        Rights::Moderate => {
            if boards.is_empty() {
                let message = "A `moderate` token names the boards it moderates in `boards`.";
                return Err(ApiError::new(ErrorKind::MissingField, message).with_field("boards"));
            }
            match caller.role {
                Role::Admin | Role::GlobalMod => Ok(()),
                Role::BoardMod | Role::Janitor => {
                    match boards.iter().find(|b| !caller.boards.contains(b)) {
                        Some(b) => wide(format!("You do not moderate /{b}/.")),
                        None => Ok(()),
                    }
                }
                Role::User => wide(format!(
                    "A `{role}` moderates no board, so cannot create a `moderate` token."
                )),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_stay_within_the_role() {
        let caller = |role, boards: &[&str]| Caller {
            username: "x".into(),
            role,
            boards: boards.iter().map(|b| (*b).to_owned()).collect(),
            session: [0; 32],
            csrf: String::new(),
            needs_totp: false,
        };
        let cases = [
            (Role::User, &[][..], Rights::Read, &[][..], None),
            (
                Role::User,
                &[],
                Rights::Admin,
                &[],
                Some(ErrorKind::ScopeTooWide),
            ),
            (
                Role::User,
                &[],
                Rights::Moderate,
                &["b"],
                Some(ErrorKind::ScopeTooWide),
            ),
            (
                Role::GlobalMod,
                &[],
                Rights::Admin,
                &[],
                Some(ErrorKind::ScopeTooWide),
            ),
            (Role::GlobalMod, &[], Rights::Moderate, &["b"], None),
            (Role::BoardMod, &["b"], Rights::Moderate, &["b"], None),
            (
                Role::BoardMod,
                &["b"],
                Rights::Moderate,
                &["b", "t"],
                Some(ErrorKind::ScopeTooWide),
            ),
            (Role::Janitor, &["t"], Rights::Moderate, &["t"], None),
            (Role::Admin, &[], Rights::Admin, &[], None),
            (
                Role::Admin,
                &[],
                Rights::Moderate,
                &[],
                Some(ErrorKind::MissingField),
            ),
            (
                Role::Admin,
                &[],
                Rights::Read,
                &["b"],
                Some(ErrorKind::InvalidType),
            ),
        ];
        for (role, owned, scope, boards, expected) in cases {
            let boards: Vec<String> = boards.iter().map(|b| (*b).to_owned()).collect();
            let got = check_scope(&caller(role, owned), scope, &boards)
                .err()
                .map(|e| e.kind);
            assert_eq!(got, expected, "{role:?} {owned:?} {scope:?} {boards:?}");
        }
    }

    #[test]
    fn expiry_is_bounded() {
        let cases = [
            (json!(30), Ok(30.0)),
            (json!(0.5), Ok(0.5)),
            (json!(0.00002), Ok(0.00002)),
            (json!(0), Err(ErrorKind::InvalidType)),
            (json!(-1), Err(ErrorKind::InvalidType)),
            (json!(366), Err(ErrorKind::InvalidType)),
            (json!("30"), Err(ErrorKind::InvalidType)),
            (Value::Null, Err(ErrorKind::MissingField)),
        ];
        for (value, expected) in cases {
            assert_eq!(
                expiry_days(Some(value.clone())).map_err(|e| e.kind),
                expected,
                "{value}"
            );
        }
    }
}

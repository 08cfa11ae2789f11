//! Password recovery without email: an admin issues a single-use, expiring reset token for a
//! user, who sets a new password with it.

use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::api::auth::no_fields;
use crate::app::App;
use crate::auth::{check_new_password, normalize_username, Caller, MAX_PASSWORD_CHARS};
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::http::request::json_object;
use crate::http::{response, Response};
use crate::input::Fields;
use crate::notify::{notify, Severity};
use crate::storage::{ResetWrite, Write, Written};

/// A token is 256 random bits in hex.
const TOKEN_HEX: usize = 64;

/// `POST /api/admin/users/{username}/reset` (admins; an empty body or `{}`) → 201 `{"token",
/// "expires_at"}`: a single-use token, valid `reset_token_secs` (an hour), that the user spends at
/// `POST /auth/reset`. Only its hash is stored; it is shown this once.
pub async fn issue(
    app: &App,
    caller: &Caller,
    username: String,
    req: Request<Incoming>,
) -> ApiResult<Response> {
    no_fields(req).await?;
    let username = normalize_username(&username)?;
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let ttl_ms = app.config.accounts.reset_token_secs.saturating_mul(1000);
    let expires_ms = crate::auth::gate::now_ms().saturating_add(ttl_ms);
    let write = Write::Reset(ResetWrite::Issue {
        key: key(&token),
        username: username.clone(),
        expires_ms,
    });
    app.writer.submit(write).await?;
    notify(
        Severity::Info,
        "reset_token_issued",
        format_args!(
            "`{}` issued a password reset token for `{username}`",
            caller.username
        ),
    );
    let mut response = response::ok_json(&json!({
        "token": token,
        "expires_at": expires_ms / 1000,
    }));
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

/// `POST /auth/reset` with `{"token","password"}` → 200 `{"reset":"<username>"}`: the new
/// password holds and every session of the user ends. An unknown, used or expired token is 403
/// `reset_token_invalid`, checked before any hashing work.
pub async fn reset(app: &App, req: Request<Incoming>) -> ApiResult<Response> {
    let mut fields = Fields::new(json_object(req).await?, &["token", "password"])?;
    let token = fields.required_text("token")?;
    let password = fields.required_text("password")?;
    if token.len() != TOKEN_HEX {
        return Err(crate::storage::writer::reset_invalid());
    }
    if password.chars().count() > MAX_PASSWORD_CHARS {
        let message = format!("The password is over {MAX_PASSWORD_CHARS} characters.");
        return Err(ApiError::new(ErrorKind::TooLong, message).with_field("password"));
    }
    check_new_password(&password, app.config.accounts.min_password_chars)?;
    let key = key(&token);
    let now_ms = crate::auth::gate::now_ms();
    let found = app.read(move |r| r.reset_token(&key)).await?;
    if found.is_none_or(|(_, expires_ms)| expires_ms <= now_ms) {
        notify(
            Severity::Warning,
            "reset_token_refused",
            format_args!("an unknown, used or expired password reset token was presented"),
        );
        return Err(crate::storage::writer::reset_invalid());
    }
    let hash = app.accounts.hasher.hash(&password).await?;
    let write = Write::Reset(ResetWrite::Use { key, now_ms, hash });
    let Written::Reset(Some(username)) = app.writer.submit(write).await? else {
        return Err(ApiError::internal("reset_unwritten", "no user came back"));
    };
    notify(
        Severity::Info,
        "password_reset",
        format_args!("`{username}` reset their password with a token; their sessions ended"),
    );
    Ok(response::ok_json(&json!({ "reset": username })))
}

/// The stored form of a token.
fn key(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

//! Password recovery: a single-use, expiring reset token, mailed to the account's address on
//! request when the config has `[smtp]`, or issued by an admin; the user sets a new password
//! with it.

use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

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
use crate::limit::{Buckets, MAX_TRACKED_KEYS};
use crate::mail::{normalize_email, Mailer};
use crate::notify::{notify, Severity};
use crate::poster::network;
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
    let (token, expires_ms) = new_token(app, &username).await?;
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

/// Stores a new token for `username`; returns it and its expiry (Unix milliseconds).
async fn new_token(app: &App, username: &str) -> ApiResult<(String, u64)> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the OS random source works");
    let token: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
    let ttl_ms = app.config.accounts.reset_token_secs.saturating_mul(1000);
    let expires_ms = crate::auth::gate::now_ms().saturating_add(ttl_ms);
    let write = Write::Reset(ResetWrite::Issue {
        key: key(&token),
        username: username.to_owned(),
        expires_ms,
    });
    app.writer.submit(write).await?;
    Ok((token, expires_ms))
}

/// Recovery by email: the mailer and the two hourly budgets.
pub struct Recovery {
    mailer: Option<Mailer>,
    addresses: Mutex<Buckets<IpAddr>>,
    accounts: Mutex<Buckets<String>>,
}

impl Recovery {
    pub fn new(config: &crate::config::Config) -> Result<Recovery, String> {
        let hour = Duration::from_secs(3600);
        let (mailer, per_address, per_account) = match &config.smtp {
            Some(smtp) => (
                Some(Mailer::new(smtp)?),
                smtp.recover_per_address_per_hour,
                smtp.recover_per_account_per_hour,
            ),
            None => (None, 10, 3),
        };
        Ok(Recovery {
            mailer,
            addresses: Mutex::new(Buckets::new(per_address, hour, MAX_TRACKED_KEYS)),
            accounts: Mutex::new(Buckets::new(per_account, hour, MAX_TRACKED_KEYS)),
        })
    }

    /// Spends one of the client network's requests, or says how long to wait.
    fn take_address(&self, client: IpAddr) -> ApiResult<()> {
        let mut buckets = self.addresses.lock().unwrap_or_else(|e| e.into_inner());
        let (key, now) = (network(client), Instant::now());
        match buckets.wait_secs(&key, now) {
            0 => {
                buckets.take(&key, now);
                Ok(())
            }
            wait => Err(ApiError::new(
                ErrorKind::TooManyAttempts,
                "Too many recovery requests from this network; try again later.",
            )
            .with_retry_after(wait)),
        }
    }

    /// Spends one of the account's messages; false when it has had its share this hour.
    fn take_account(&self, username: &str) -> bool {
        let mut buckets = self.accounts.lock().unwrap_or_else(|e| e.into_inner());
        let (key, now) = (username.to_owned(), Instant::now());
        let free = buckets.wait_secs(&key, now) == 0;
        if free {
            buckets.take(&key, now);
        }
        free
    }
}

/// Whom a recovery request names.
#[derive(Debug, Clone)]
enum Target {
    Username(String),
    Email(String),
}

/// `POST /auth/recover` with `{"username"}` or `{"email"}` → 202 `{"accepted":true}`, the same
/// answer whether or not an account matches, has an address, or a message goes out: nothing
/// here tells who has an account. With `[smtp]`, an enabled account with an address gets a
/// reset token by mail, sent after the answer (a failure goes to `notify`); without it nothing
/// is sent and recovery is an admin's `POST /api/admin/users/{username}/reset`. 429
/// `too_many_attempts` past `recover_per_address_per_hour` from one network; past
/// `recover_per_account_per_hour` an account's messages stop, with the same answer.
pub async fn recover(
    app: &Arc<App>,
    req: Request<Incoming>,
    client: IpAddr,
) -> ApiResult<Response> {
    let mut fields = Fields::new(json_object(req).await?, &["username", "email"])?;
    for name in ["username", "email"] {
        if fields.present(name) && !fields.has(name) {
            let message = format!("`{name}` must be a string.");
            return Err(ApiError::new(ErrorKind::InvalidType, message).with_field(name));
        }
    }
    let target = match (fields.has("username"), fields.has("email")) {
        (true, false) => Target::Username(normalize_username(&fields.required_text("username")?)?),
        (false, true) => Target::Email(normalize_email(&fields.required_text("email")?)?),
        (has_username, _) => {
            let message = match has_username {
                true => "Send `username` or `email`, not both.",
                false => "The field `username` or `email` is needed.",
            };
            let kind = match has_username {
                true => ErrorKind::InvalidValue,
                false => ErrorKind::MissingField,
            };
            return Err(ApiError::new(kind, message).with_field("username"));
        }
    };
    app.recovery.take_address(client).inspect_err(|_| {
        notify(
            Severity::Warning,
            "recover_throttled",
            format_args!("password recovery requests from {client} past the hourly budget"),
        );
    })?;
    if app.recovery.mailer.is_some() {
        tokio::spawn(deliver(app.clone(), target));
    } else {
        notify(
            Severity::Info,
            "recover_without_smtp",
            format_args!("password recovery asked from {client}; no [smtp], nothing sent"),
        );
    }
    let mut response = response::ok_json(&json!({ "accepted": true }));
    *response.status_mut() = StatusCode::ACCEPTED;
    Ok(response)
}

/// Finds the account, issues a token and mails it; every outcome goes to `notify` only.
async fn deliver(app: Arc<App>, target: Target) {
    let Some(mailer) = app.recovery.mailer.as_ref() else {
        return;
    };
    let wanted = target.clone();
    let found = app
        .read(move |r| match &wanted {
            Target::Username(name) => r.account(name),
            Target::Email(email) => r.account_by_email(email),
        })
        .await;
    let account = match found {
        Ok(Some(account)) => account,
        Ok(None) => {
            let what = match target {
                Target::Username(_) => "username",
                Target::Email(_) => "email address",
            };
            notify(
                Severity::Info,
                "recover_no_account",
                format_args!("password recovery for an {what} no account has"),
            );
            return;
        }
        Err(e) => return notify(Severity::Error, "recover_failed", e.message),
    };
    let username = &account.username;
    let Some(email) = account.email.as_deref().filter(|_| !account.disabled) else {
        notify(
            Severity::Info,
            "recover_no_address",
            format_args!("password recovery for `{username}`, disabled or without an address"),
        );
        return;
    };
    if !app.recovery.take_account(username) {
        notify(
            Severity::Warning,
            "recover_account_throttled",
            format_args!("password recovery for `{username}` past the hourly budget; not sent"),
        );
        return;
    }
    let token = match new_token(&app, username).await {
        Ok((token, _)) => token,
        Err(e) => return notify(Severity::Error, "recover_failed", e.message),
    };
    let minutes = app.config.accounts.reset_token_secs.div_ceil(60);
    match mailer.send_reset(email, username, &token, minutes).await {
        Ok(()) => notify(
            Severity::Info,
            "recover_mail_sent",
            format_args!("a password reset message went to `{username}`'s address"),
        ),
        Err(e) => notify(
            Severity::Error,
            "recover_mail_failed",
            format_args!("the password reset message for `{username}` was not sent: {e}"),
        ),
    }
}

/// The stored form of a token.
fn key(token: &str) -> [u8; 32] {
    Sha256::digest(token.as_bytes()).into()
}

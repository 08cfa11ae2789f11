//! Accounts: signup, login, the "who am I" check, logout, deleting one's account, and changing
//! one's password.

use std::net::IpAddr;
use std::time::Instant;

use hyper::body::Incoming;
use hyper::header::{HeaderValue, CONTENT_LENGTH, SET_COOKIE, TRANSFER_ENCODING};
use hyper::{Request, StatusCode};
use serde_json::json;

use crate::app::App;
use crate::auth::gate::Csrf;
use crate::auth::password::Verified;
use crate::auth::session::NewSession;
use crate::auth::{
    check_new_password, normalize_username, Account, Caller, Role, MAX_PASSWORD_CHARS,
};
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::http::request::{json_object, query};
use crate::http::{response, Response};
use crate::input::Fields;
use crate::notify::{notify, Severity};
use crate::storage::{AccountWrite, Opening, Write, Written};

/// `POST /auth/signup` with `{"username","password","email"?}` → 201 `{"csrf","user":{"username",
/// "role","boards"}}` and the session cookie. Who may sign up is the config's `signup` mode;
/// usernames in `admins` always may, and become admins. The optional `email` is where password
/// reset links go (`POST /auth/recover`); an address another account gave is 409 `email_taken`.
pub async fn signup(app: &App, req: Request<Incoming>, client: IpAddr) -> ApiResult<Response> {
    let Credentials {
        username,
        password,
        email,
        ..
    } = credentials(req, false).await?;
    let accounts = &app.config.accounts;
    if !accounts.may_sign_up(&username) {
        notify(
            Severity::Info,
            "signup_refused",
            format_args!("signup as `{username}` from {client}: signup is closed to it"),
        );
        return Err(ApiError::new(
            ErrorKind::SignupClosed,
            "Signing up is closed on this server for this username.",
        ));
    }
    check_new_password(&password, accounts.min_password_chars)?;
    let hash = app.accounts.hasher.hash(&password).await?;
    let account = Account {
        role: if accounts.is_admin(&username) {
            Role::Admin
        } else {
            Role::User
        },
        username,
        boards: Vec::new(),
        hash,
        disabled: false,
        created_at: crate::storage::writer::unix_now(),
        email,
    };
    let session = NewSession::generate();
    let write = Write::Account(AccountWrite::Create {
        account,
        session: Some(opening(app, &session)),
    });
    let Written::Account(Some(account)) = app.writer.submit(write).await? else {
        return Err(ApiError::internal(
            "signup_unwritten",
            "no account came back",
        ));
    };
    notify(
        Severity::Info,
        "account_created",
        format_args!(
            "`{}` signed up as {}",
            account.username,
            account.role.name()
        ),
    );
    Ok(logged_in(app, &session, &account, StatusCode::CREATED))
}

/// `POST /auth/login` with `{"username","password","totp"?}` → 200 `{"csrf","user"}` and the
/// session cookie; 403 `login_failed` for a wrong username or password (the same answer, after
/// the same work, whether or not the account exists); 429 `too_many_attempts` with
/// `Retry-After` after repeated failures from the client's network or against the account. An
/// account with TOTP on also needs `totp`: a code or a recovery code (`crate::api::totp`).
pub async fn login(app: &App, req: Request<Incoming>, client: IpAddr) -> ApiResult<Response> {
    let Credentials {
        username,
        password,
        totp: code,
        ..
    } = credentials(req, true).await?;
    let throttle = &app.accounts.throttle;
    if let Err(e) = throttle.check(client, &username, Instant::now()) {
        notify(
            Severity::Warning,
            "login_throttled",
            format_args!("login as `{username}` from {client} while delayed"),
        );
        return Err(e);
    }
    let name = username.clone();
    let (account, second) = app
        .read(move |r| Ok((r.account(&name)?, r.totp(&name)?)))
        .await?;
    let verified = app
        .accounts
        .hasher
        .verify(&password, account.as_ref().map(|a| a.hash.as_str()))
        .await?;
    let rehash = match verified {
        Verified::Wrong => {
            throttle.failed(client, &username, Instant::now());
            notify(
                Severity::Warning,
                "login_failed",
                format_args!("wrong username or password for `{username}` from {client}"),
            );
            return Err(ApiError::new(
                ErrorKind::LoginFailed,
                "Wrong username or password.",
            ));
        }
        Verified::Right => None,
        Verified::RightRehashed(hash) => Some(hash),
    };
    if account.as_ref().is_some_and(|a| a.disabled) {
        notify(
            Severity::Warning,
            "login_disabled",
            format_args!("login to disabled account `{username}` from {client}"),
        );
        return Err(ApiError::new(
            ErrorKind::AccountDisabled,
            "This account is disabled.",
        ));
    }
    if let Some(state) = second.filter(|s| s.active) {
        crate::api::totp::second_factor(app, &username, &state, code, client).await?;
    }
    throttle.succeeded(&username);
    let session = NewSession::generate();
    let write = Write::Account(AccountWrite::Login {
        make_admin: app.config.accounts.is_admin(&username),
        username,
        session: opening(app, &session),
        rehash,
    });
    let Written::Account(Some(account)) = app.writer.submit(write).await? else {
        return Err(ApiError::internal(
            "login_unwritten",
            "no account came back",
        ));
    };
    Ok(logged_in(app, &session, &account, StatusCode::OK))
}

/// `GET /auth/csrf` → 200 `{"csrf","user"}` for a logged-in caller, 403 `not_logged_in`
/// otherwise: how a client asks who it is.
pub fn csrf(caller: Option<&Caller>, raw_query: Option<&str>) -> ApiResult<Response> {
    query(raw_query, &[])?;
    let caller = caller
        .ok_or_else(|| ApiError::new(ErrorKind::NotLoggedIn, "No session: nobody is logged in."))?;
    Ok(response::ok_json(
        &json!({ "csrf": caller.csrf, "user": caller.user_json() }),
    ))
}

/// `POST /auth/logout` (an empty body, or `{}`) → 200 `{"logged_out":true}`; the session ends
/// and the cookie is deleted.
pub async fn logout(app: &App, caller: &Caller, req: Request<Incoming>) -> ApiResult<Response> {
    no_fields(req).await?;
    let write = Write::Account(AccountWrite::EndSession {
        key: caller.session,
    });
    app.writer.submit(write).await?;
    Ok(cleared(app, json!({ "logged_out": true })))
}

/// `POST /auth/destroy` with `{"password"}` → 200 `{"destroyed":"<username>"}`: the account
/// and all its sessions are deleted. A wrong password is 403 `wrong_password`, throttled as a
/// failed login.
pub async fn destroy(
    app: &App,
    caller: &Caller,
    req: Request<Incoming>,
    client: IpAddr,
) -> ApiResult<Response> {
    let mut fields = Fields::new(json_object(req).await?, &["password"])?;
    let password = fields.required_text("password")?;
    confirm_password(app, caller, &password, client).await?;
    let write = Write::Account(AccountWrite::Delete {
        username: caller.username.clone(),
    });
    app.writer.submit(write).await?;
    notify(
        Severity::Info,
        "account_deleted",
        format_args!("`{}` deleted their account", caller.username),
    );
    Ok(cleared(app, json!({ "destroyed": caller.username })))
}

/// `POST /auth/changePassword` with `{"password","new_password"}` → 200 `{"csrf","user"}`: the
/// new password holds from now on, and every other session of the account ends.
pub async fn change_password(
    app: &App,
    caller: &Caller,
    req: Request<Incoming>,
    client: IpAddr,
) -> ApiResult<Response> {
    let mut fields = Fields::new(json_object(req).await?, &["password", "new_password"])?;
    let password = fields.required_text("password")?;
    let new_password = fields.required_text("new_password")?;
    check_new_password(&new_password, app.config.accounts.min_password_chars)
        .map_err(|e| e.with_field("new_password"))?;
    confirm_password(app, caller, &password, client).await?;
    let hash = app.accounts.hasher.hash(&new_password).await?;
    let write = Write::Account(AccountWrite::SetPassword {
        username: caller.username.clone(),
        hash,
        keep: Some(caller.session),
    });
    app.writer.submit(write).await?;
    notify(
        Severity::Info,
        "password_changed",
        format_args!(
            "`{}` changed their password; other sessions ended",
            caller.username
        ),
    );
    Ok(response::ok_json(
        &json!({ "csrf": caller.csrf, "user": caller.user_json() }),
    ))
}

/// Checks the caller's own password, throttled like a login.
pub(crate) async fn confirm_password(
    app: &App,
    caller: &Caller,
    password: &str,
    client: IpAddr,
) -> ApiResult<()> {
    if password.chars().count() > MAX_PASSWORD_CHARS {
        return Err(wrong_password());
    }
    let throttle = &app.accounts.throttle;
    throttle.check(client, &caller.username, Instant::now())?;
    let name = caller.username.clone();
    let account = app.read(move |r| r.account(&name)).await?;
    let verified = app
        .accounts
        .hasher
        .verify(password, account.as_ref().map(|a| a.hash.as_str()))
        .await?;
    if verified == Verified::Wrong {
        throttle.failed(client, &caller.username, Instant::now());
        notify(
            Severity::Warning,
            "password_check_failed",
            format_args!("wrong password for `{}` from {client}", caller.username),
        );
        return Err(wrong_password());
    }
    Ok(())
}

fn wrong_password() -> ApiError {
    ApiError::new(ErrorKind::WrongPassword, "The password is wrong.").with_field("password")
}

/// What signup and login send: the username (normalized), the password, login's optional
/// `totp` code and signup's optional `email` (normalized).
struct Credentials {
    username: String,
    password: String,
    totp: Option<String>,
    email: Option<String>,
}

/// Reads the `{"username","password"}` of login (with `totp`) or signup (with `email`).
async fn credentials(req: Request<Incoming>, login: bool) -> ApiResult<Credentials> {
    let allowed: &[&str] = match login {
        true => &["username", "password", "totp"],
        false => &["username", "password", "email"],
    };
    let mut fields = Fields::new(json_object(req).await?, allowed)?;
    let username = normalize_username(&fields.required_text("username")?)?;
    let password = fields.required_text("password")?;
    let totp = match fields.has("totp") {
        true => Some(crate::api::totp::code_field(&mut fields, "totp")?),
        false => None,
    };
    let email = fields
        .text("email")?
        .map(|e| crate::mail::normalize_email(&e))
        .transpose()?;
    if password.chars().count() > MAX_PASSWORD_CHARS {
        let message = format!("The password is over {MAX_PASSWORD_CHARS} characters.");
        return Err(ApiError::new(ErrorKind::TooLong, message).with_field("password"));
    }
    Ok(Credentials {
        username,
        password,
        totp,
        email,
    })
}

/// A route that takes no fields: its body is empty, or `{}` (with `csrf`, when the token
/// travels there).
pub(crate) async fn no_fields(req: Request<Incoming>) -> ApiResult<()> {
    query(req.uri().query(), &[])?;
    let has_body = req.headers().contains_key(TRANSFER_ENCODING)
        || req
            .headers()
            .get(CONTENT_LENGTH)
            .is_some_and(|v| v.as_bytes() != b"0");
    let in_body = matches!(req.extensions().get::<Csrf>(), Some(Csrf::InBody(_)));
    if has_body || in_body {
        Fields::new(json_object(req).await?, &[])?;
    }
    Ok(())
}

fn opening(app: &App, session: &NewSession) -> Opening {
    Opening {
        key: session.key(),
        expires_ms: app.accounts.expiry_from(crate::auth::gate::now_ms()),
    }
}

/// The answer that opens a session: its cookie, its CSRF token, and the account.
fn logged_in(app: &App, session: &NewSession, account: &Account, status: StatusCode) -> Response {
    let cookies = &app.accounts.cookies;
    let body = json!({
        "csrf": cookies.csrf(&session.id),
        "user": {
            "username": account.username,
            "role": account.role,
            "boards": if account.role.has_boards() { account.boards.clone() } else { Vec::new() },
        },
    });
    let mut response = response::ok_json(&body);
    *response.status_mut() = status;
    if let Ok(value) = HeaderValue::from_str(&cookies.set(session)) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    response
}

/// An answer that deletes the session cookie.
fn cleared(app: &App, body: serde_json::Value) -> Response {
    let mut response = response::ok_json(&body);
    if let Ok(value) = HeaderValue::from_str(&app.accounts.cookies.clear()) {
        response.headers_mut().insert(SET_COOKIE, value);
    }
    response
}

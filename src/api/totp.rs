//! The TOTP second factor of one's own account: enrolment, confirmation, turning it off, and
//! the code check of a login.

use std::net::IpAddr;
use std::time::Instant;

use hyper::body::Incoming;
use hyper::{Request, StatusCode};
use serde_json::json;

use crate::api::auth::{confirm_password, no_fields};
use crate::app::App;
use crate::auth::totp::{self, Proof, TotpState};
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::http::request::json_object;
use crate::http::{response, Response};
use crate::input::Fields;
use crate::notify::{notify, Severity};
use crate::storage::{TotpWrite, Write};

/// The issuer an authenticator app shows beside the account.
const ISSUER: &str = "wani";

/// `POST /api/me/totp` (an empty body, or `{}`) → 201 `{"secret","uri","active":false}`: a new
/// secret waits for its first code; TOTP is not on until then. A waiting secret is replaced;
/// an active one is 409 `totp_conflict`.
pub async fn enrol(app: &App, caller: &Caller, req: Request<Incoming>) -> ApiResult<Response> {
    no_fields(req).await?;
    let secret = totp::new_secret();
    let write = Write::Totp(TotpWrite::Enrol {
        username: caller.username.clone(),
        secret: secret.clone(),
    });
    app.writer.submit(write).await?;
    notify(
        Severity::Info,
        "totp_enrolled",
        format_args!("`{}` began TOTP enrolment", caller.username),
    );
    let body = json!({
        "secret": secret,
        "uri": totp::uri(ISSUER, &caller.username, &secret),
        "active": false,
    });
    let mut response = response::ok_json(&body);
    *response.status_mut() = StatusCode::CREATED;
    Ok(response)
}

/// `POST /api/me/totp/confirm` with `{"code"}` → 200 `{"active":true,"recovery_codes":[..]}`:
/// the first code turns TOTP on; the ten recovery codes are shown this once. A wrong code is
/// 403 `totp_failed`, throttled as a failed login; nothing waiting is 409 `totp_conflict`.
pub async fn confirm(
    app: &App,
    caller: &Caller,
    req: Request<Incoming>,
    client: IpAddr,
) -> ApiResult<Response> {
    let mut fields = Fields::new(json_object(req).await?, &["code"])?;
    let code = code_field(&mut fields, "code")?;
    let throttle = &app.accounts.throttle;
    throttle.check(client, &caller.username, Instant::now())?;
    let name = caller.username.clone();
    let state = app.read(move |r| r.totp(&name)).await?;
    let Some(state) = state.filter(|s| !s.active) else {
        return Err(ApiError::new(
            ErrorKind::TotpConflict,
            "No TOTP enrolment is waiting for confirmation; enrol first.",
        ));
    };
    let now = totp::step_at(crate::storage::writer::unix_now());
    let Some(step) = totp::matching_step(&state.secret, &code, now, 0) else {
        return Err(wrong_code(app, caller, client, "confirm"));
    };
    let (codes, hashes) = totp::new_recovery_codes();
    let write = Write::Totp(TotpWrite::Confirm {
        username: caller.username.clone(),
        secret: state.secret,
        step,
        recovery: hashes,
    });
    app.writer.submit(write).await?;
    notify(
        Severity::Info,
        "totp_on",
        format_args!("`{}` turned TOTP on", caller.username),
    );
    Ok(response::ok_json(
        &json!({ "active": true, "recovery_codes": codes }),
    ))
}

/// `POST /api/me/totp/disable` with `{"password"}` or `{"code"}` (a TOTP or recovery code) →
/// 200 `{"active":false}`. Wrong proof is 403 `wrong_password` or `totp_failed`, throttled as a
/// failed login; no TOTP at all is 409 `totp_conflict`. A waiting enrolment is dropped too.
pub async fn disable(
    app: &App,
    caller: &Caller,
    req: Request<Incoming>,
    client: IpAddr,
) -> ApiResult<Response> {
    let mut fields = Fields::new(json_object(req).await?, &["password", "code"])?;
    let password = fields.text("password")?;
    let code = match fields.has("code") {
        true => Some(code_field(&mut fields, "code")?),
        false => None,
    };
    let name = caller.username.clone();
    let state = app.read(move |r| r.totp(&name)).await?;
    let Some(state) = state else {
        return Err(ApiError::new(
            ErrorKind::TotpConflict,
            "TOTP is not on for this account.",
        ));
    };
    match (password, code) {
        (Some(password), None) => confirm_password(app, caller, &password, client).await?,
        (None, Some(code)) if state.active => {
            let throttle = &app.accounts.throttle;
            throttle.check(client, &caller.username, Instant::now())?;
            second_factor(app, &caller.username, &state, Some(code), client)
                .await
                .map_err(|e| e.with_field("code"))?
        }
        (None, Some(_)) => {
            return Err(ApiError::new(
                ErrorKind::TotpConflict,
                "TOTP is not on yet, so no code can prove it; send the password.",
            )
            .with_field("code"))
        }
        (Some(_), Some(_)) | (None, None) => {
            return Err(ApiError::new(
                ErrorKind::MissingField,
                "Send either `password` or `code`, one of them.",
            )
            .with_field("password"))
        }
    }
    let write = Write::Totp(TotpWrite::Remove {
        username: caller.username.clone(),
    });
    app.writer.submit(write).await?;
    notify(
        Severity::Info,
        "totp_off",
        format_args!("`{}` turned TOTP off", caller.username),
    );
    Ok(response::ok_json(&json!({ "active": false })))
}

/// The second factor of an account whose TOTP is on: a code of the ±1 step window later than
/// the last one used, or an unused recovery code, consumed in the writer so two requests cannot
/// both spend it. None is 403 `totp_required` (not a failure); a wrong one is 403 `totp_failed`
/// and counts as a failed login.
pub async fn second_factor(
    app: &App,
    username: &str,
    state: &TotpState,
    code: Option<String>,
    client: IpAddr,
) -> ApiResult<()> {
    let Some(code) = code else {
        return Err(ApiError::new(
            ErrorKind::TotpRequired,
            "This account has TOTP on: send a `totp` code (or a recovery code) with the password.",
        )
        .with_field("totp"));
    };
    let proof = if totp::is_numeric(&code) {
        let now = totp::step_at(crate::storage::writer::unix_now());
        totp::matching_step(&state.secret, &code, now, state.last_step).map(Proof::Step)
    } else {
        let hash = totp::recovery_hash(&code);
        state
            .recovery
            .contains(&hash)
            .then_some(Proof::Recovery(hash))
    };
    let Some(proof) = proof else {
        return Err(failed(app, username, client));
    };
    let recovery = matches!(proof, Proof::Recovery(_));
    let write = Write::Totp(TotpWrite::Use {
        username: username.to_owned(),
        proof,
    });
    match app.writer.submit(write).await {
        Ok(_) => {
            if recovery {
                notify(
                    Severity::Info,
                    "totp_recovery_used",
                    format_args!("`{username}` used a recovery code"),
                );
            }
            Ok(())
        }
        Err(e) if e.kind == ErrorKind::TotpFailed => Err(failed(app, username, client)),
        Err(e) => Err(e),
    }
}

fn failed(app: &App, username: &str, client: IpAddr) -> ApiError {
    app.accounts
        .throttle
        .failed(client, username, Instant::now());
    notify(
        Severity::Warning,
        "totp_failed",
        format_args!("a wrong or used TOTP code for `{username}` from {client}"),
    );
    ApiError::new(ErrorKind::TotpFailed, "The code is wrong or already used.").with_field("totp")
}

fn wrong_code(app: &App, caller: &Caller, client: IpAddr, what: &str) -> ApiError {
    app.accounts
        .throttle
        .failed(client, &caller.username, Instant::now());
    notify(
        Severity::Warning,
        "totp_failed",
        format_args!(
            "a wrong TOTP code to {what} for `{}` from {client}",
            caller.username
        ),
    );
    ApiError::new(ErrorKind::TotpFailed, "The code is wrong.").with_field("code")
}

/// A code field: a string of at most [`totp::MAX_CODE_CHARS`] characters.
pub fn code_field(fields: &mut Fields, name: &str) -> ApiResult<String> {
    let code = fields.required_text(name)?;
    if code.chars().count() > totp::MAX_CODE_CHARS {
        let message = format!("A code is at most {} characters.", totp::MAX_CODE_CHARS);
        return Err(ApiError::new(ErrorKind::TooLong, message).with_field(name));
    }
    Ok(code)
}

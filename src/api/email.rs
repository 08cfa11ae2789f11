//! One's own email address, where password reset links go.

use std::net::IpAddr;

use hyper::body::Incoming;
use hyper::Request;
use serde_json::json;

use crate::api::auth::confirm_password;
use crate::app::App;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::http::request::{json_object, query};
use crate::http::{response, Response};
use crate::input::Fields;
use crate::mail::normalize_email;
use crate::notify::{notify, Severity};
use crate::storage::{AccountWrite, Write, Written};

/// `GET /api/me/email` → 200 `{"email"}`: the caller's address, or `null`.
pub async fn get(app: &App, caller: &Caller, raw_query: Option<&str>) -> ApiResult<Response> {
    query(raw_query, &[])?;
    let name = caller.username.clone();
    let account = app.read(move |r| r.account(&name)).await?;
    let email = account.and_then(|a| a.email);
    Ok(response::ok_json(&json!({ "email": email })))
}

/// `POST /api/me/email` with `{"email","password"}` → 200 `{"email"}`: sets the address
/// (`null` removes it). The password is asked because the address can reset it: a stolen
/// session alone must not be able to take the account over. 409 `email_taken` when another
/// account gave the address; a wrong password is 403 `wrong_password`, throttled as a login.
pub async fn set(
    app: &App,
    caller: &Caller,
    req: Request<Incoming>,
    client: IpAddr,
) -> ApiResult<Response> {
    let mut fields = Fields::new(json_object(req).await?, &["email", "password"])?;
    if !fields.present("email") {
        let message = "The field `email` is needed (`null` removes the address).";
        return Err(ApiError::new(ErrorKind::MissingField, message).with_field("email"));
    }
    let email = fields
        .text("email")?
        .map(|e| normalize_email(&e))
        .transpose()?;
    let password = fields.required_text("password")?;
    confirm_password(app, caller, &password, client).await?;
    let write = Write::Account(AccountWrite::SetEmail {
        username: caller.username.clone(),
        email,
    });
    let Written::Account(Some(account)) = app.writer.submit(write).await? else {
        return Err(ApiError::internal(
            "email_unwritten",
            "no account came back",
        ));
    };
    notify(
        Severity::Info,
        "email_changed",
        format_args!(
            "`{}` {} their email address",
            caller.username,
            if account.email.is_some() {
                "set"
            } else {
                "removed"
            }
        ),
    );
    Ok(response::ok_json(&json!({ "email": account.email })))
}

//! Staff administration: listing accounts, setting a user's role and boards, disabling a user,
//! clearing a lost second factor.

use hyper::body::Incoming;
use hyper::Request;
use serde_json::json;

use crate::app::App;
use crate::auth::{normalize_username, Caller, Role};
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::http::request::{json_object, query, query_number};
use crate::http::{response, Response};
use crate::input::Fields;
use crate::notify::{notify, Severity};
use crate::storage::{AccountWrite, TotpWrite, Write, Written};

/// Accounts listed per page, by default and at most.
const PAGE_DEFAULT: u64 = 100;
const PAGE_MAX: u64 = 1000;
/// Boards one moderator or janitor may be assigned.
const MAX_BOARDS: usize = 256;

/// `GET /api/admin/users[?after=NAME&limit=N]` → `{"users":[User]}` in username order, at most
/// `limit` (default 100, at most 1000), after `after` (the last name of the previous page).
pub async fn list(app: &App, raw_query: Option<&str>) -> ApiResult<Response> {
    let params = query(raw_query, &["after", "limit"])?;
    let limit = query_number(&params, "limit", 1)?.unwrap_or(PAGE_DEFAULT);
    if limit > PAGE_MAX {
        let message = format!("`limit` is at most {PAGE_MAX}.");
        return Err(ApiError::new(ErrorKind::InvalidQuery, message).with_field("limit"));
    }
    let after = params.get("after").cloned();
    let accounts = app
        .read(move |r| r.accounts(after.as_deref(), limit as usize))
        .await?;
    let users: Vec<_> = accounts
        .iter()
        .map(|a| {
            let mut user = a.public_json();
            if app.config.accounts.is_admin(&a.username) {
                user["role"] = json!(Role::Admin);
            }
            user
        })
        .collect();
    Ok(response::ok_json(&json!({ "users": users })))
}

/// `POST /api/admin/users/{username}/role` with `{"role","boards"?}` → 200 `{"user":User}`.
/// `boards` (existing board slugs) is for `board_mod` and `janitor` only. A username listed in
/// the config's `admins` stays admin whatever is stored.
pub async fn set_role(
    app: &App,
    caller: &Caller,
    username: String,
    req: Request<Incoming>,
) -> ApiResult<Response> {
    let mut fields = Fields::new(json_object(req).await?, &["role", "boards"])?;
    let username = normalize_username(&username)?;
    let role_name = fields.required_text("role")?;
    let role = Role::parse(&role_name).ok_or_else(|| {
        let names: Vec<_> = Role::ALL.iter().map(|r| r.name()).collect();
        let message = format!("`role` is one of {}.", names.join(", "));
        ApiError::new(ErrorKind::InvalidType, message).with_field("role")
    })?;
    let mut boards = fields.strings("boards", MAX_BOARDS)?.unwrap_or_default();
    if !role.has_boards() && !boards.is_empty() {
        let message = "Only a board_mod or a janitor is assigned boards.";
        return Err(ApiError::new(ErrorKind::InvalidType, message).with_field("boards"));
    }
    boards.sort();
    boards.dedup();
    let wanted = boards.clone();
    app.read(move |r| {
        for board in &wanted {
            r.require_board(board).map_err(|e| e.with_field("boards"))?;
        }
        Ok(())
    })
    .await?;
    let write = Write::Account(AccountWrite::SetRole {
        username,
        role,
        boards,
    });
    let Written::Account(Some(account)) = app.writer.submit(write).await? else {
        return Err(ApiError::internal("role_unwritten", "no account came back"));
    };
    notify(
        Severity::Info,
        "role_set",
        format_args!(
            "`{}` made `{}` {} of [{}]",
            caller.username,
            account.username,
            account.role.name(),
            account.boards.join(", ")
        ),
    );
    Ok(response::ok_json(&json!({ "user": account.public_json() })))
}

/// `POST /api/admin/users/{username}/disabled` with `{"disabled": bool}` → 200 `{"user":User}`.
/// Disabling ends every session and API token of the user at once; an admin cannot disable
/// themselves.
pub async fn set_disabled(
    app: &App,
    caller: &Caller,
    username: String,
    req: Request<Incoming>,
) -> ApiResult<Response> {
    let mut fields = Fields::new(json_object(req).await?, &["disabled"])?;
    let username = normalize_username(&username)?;
    if !fields.has("disabled") {
        let message = "The field `disabled` (true or false) is needed.";
        return Err(ApiError::new(ErrorKind::MissingField, message).with_field("disabled"));
    }
    let disabled = fields.flag("disabled")?;
    if disabled && username == caller.username {
        return Err(ApiError::new(
            ErrorKind::Forbidden,
            "You cannot disable your own account.",
        ));
    }
    let write = Write::Account(AccountWrite::SetDisabled { username, disabled });
    let Written::Account(Some(account)) = app.writer.submit(write).await? else {
        return Err(ApiError::internal(
            "disable_unwritten",
            "no account came back",
        ));
    };
    notify(
        Severity::Info,
        "account_disabled_set",
        format_args!(
            "`{}` set `{}` disabled={}",
            caller.username, account.username, account.disabled
        ),
    );
    Ok(response::ok_json(&json!({ "user": account.public_json() })))
}

/// Longest reason given for clearing a second factor, in characters.
const MAX_REASON_CHARS: u32 = 500;

/// `POST /api/admin/users/{username}/totp/clear` with `{"reason"?}` → 200
/// `{"cleared":"<username>"}`: removes the user's second factor (pending or active, with its
/// recovery codes), for a user who lost both; they log in with the password alone and may enrol
/// again. Logged in the staff log with the reason. 409 `totp_conflict` when TOTP is not on.
pub async fn clear_totp(
    app: &App,
    caller: &Caller,
    username: String,
    req: Request<Incoming>,
) -> ApiResult<Response> {
    let mut fields = Fields::new(json_object(req).await?, &["reason"])?;
    let username = normalize_username(&username)?;
    let reason = fields.text("reason")?;
    if let Some(reason) = &reason {
        crate::input::check_text("reason", reason, MAX_REASON_CHARS, crate::input::Lines::One)?;
    }
    let write = Write::Totp(TotpWrite::Clear {
        actor: caller.username.clone(),
        username: username.clone(),
        reason,
        now: crate::storage::writer::unix_now(),
    });
    app.writer.submit(write).await?;
    notify(
        Severity::Info,
        "totp_cleared",
        format_args!(
            "`{}` cleared the second factor of `{username}`",
            caller.username
        ),
    );
    Ok(response::ok_json(&json!({ "cleared": username })))
}

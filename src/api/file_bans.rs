//! File bans: staff ban a file by its SHA-256 on one board (board moderators and up) or on
//! every board (global moderators and admins), optionally deleting the posts that carry it;
//! list and lift them. Uploads are checked against the bans in `uploads` (exact hash and
//! perceptual hash).

use hyper::body::Incoming;
use hyper::Request;
use serde_json::json;

use crate::app::App;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::files;
use crate::http::request::{json_object, query};
use crate::http::{response, Response};
use crate::input::{check_text, normalize, Fields, Lines};
use crate::storage::{FileBanWrite, Write, Written, FILE_BANS_PAGE};

/// Longest public reason, in characters.
pub const MAX_REASON_CHARS: u32 = 500;
/// Longest private note, in characters.
pub const MAX_NOTE_CHARS: u32 = 2000;

fn sha256_of(text: &str, field: &str) -> ApiResult<String> {
    if files::is_sha256(text) {
        return Ok(text.to_owned());
    }
    let message = format!("`{field}` must be a SHA-256 in 64 lower-case hex digits.");
    Err(ApiError::new(ErrorKind::InvalidValue, message).with_field(field))
}

/// An optional one-line text, cleaned and bounded; empty counts as absent.
pub fn short_text(fields: &mut Fields, name: &str, max: u32) -> ApiResult<Option<String>> {
    let Some(text) = fields.text(name)? else {
        return Ok(None);
    };
    let text = normalize(&text, Lines::One);
    check_text(name, &text, max, Lines::One)?;
    Ok(Some(text.trim().to_owned()).filter(|t| !t.is_empty()))
}

fn path(board: &Option<String>) -> String {
    match board {
        Some(b) => format!("/api/boards/{b}/file-bans"),
        None => "/api/file-bans".to_owned(),
    }
}

/// `GET /api/boards/{board}/file-bans` or `GET /api/file-bans` (`?after=<sha256>`) →
/// `{"file_bans":[FileBan], "next":sha256|null}`: the bans of that scope by hash, 500 a page.
pub async fn list(
    app: &App,
    raw_query: Option<&str>,
    board: Option<String>,
) -> ApiResult<Response> {
    let params = query(raw_query, &["after"])?;
    let after = match params.get("after") {
        Some(after) => sha256_of(after, "after")?,
        None => String::new(),
    };
    let body = app
        .read(move |r| {
            if let Some(slug) = &board {
                r.require_board(slug)?;
            }
            let bans = r.file_bans(board.as_deref().unwrap_or(""), &after)?;
            let next = (bans.len() == FILE_BANS_PAGE)
                .then(|| bans.last().map(|b| b.sha256.clone()))
                .flatten();
            Ok(json!({ "file_bans": bans, "next": next }))
        })
        .await?;
    Ok(response::ok_json(&body))
}

/// `POST /api/boards/{board}/file-bans` or `POST /api/file-bans` with `{"sha256", "reason"?,
/// "note"?, "delete_posts"?, "exact"?}` → 201 `{"file_ban":FileBan, "deleted":n, "more":bool}`.
/// Banning a banned file again changes its reason and, with `delete_posts`, deletes the next
/// posts; `exact` bans the hash alone, without near-duplicates.
pub async fn create(
    app: &App,
    req: Request<Incoming>,
    board: Option<String>,
    caller: &Caller,
) -> ApiResult<Response> {
    let mut fields = Fields::new(
        json_object(req).await?,
        &["sha256", "reason", "note", "delete_posts", "exact"],
    )?;
    let sha256 = sha256_of(&fields.required_text("sha256")?, "sha256")?;
    let reason = short_text(&mut fields, "reason", MAX_REASON_CHARS)?;
    let note = short_text(&mut fields, "note", MAX_NOTE_CHARS)?;
    let delete_posts = fields.flag("delete_posts")?;
    let exact = fields.flag("exact")?;
    let write = Write::FileBan(FileBanWrite::Ban {
        sha256,
        board: board.clone(),
        reason,
        note,
        delete_posts,
        exact,
        actor: caller.username.clone(),
    });
    let written = app.writer.submit(write).await?;
    app.reload_file_bans().await?;
    let Written::FileBan {
        ban: Some(ban),
        deleted,
        more,
    } = written
    else {
        return Err(mismatch(written));
    };
    let location = format!("{}/{}", path(&board), ban.sha256);
    let body = json!({ "file_ban": ban, "deleted": deleted, "more": more });
    Ok(response::created(&location, &body))
}

/// `DELETE /api/boards/{board}/file-bans/{sha256}` or `DELETE /api/file-bans/{sha256}` → 200
/// `{"lifted":sha256}`.
pub async fn lift(
    app: &App,
    board: Option<String>,
    sha256: String,
    caller: &Caller,
) -> ApiResult<Response> {
    let sha256 = sha256_of(&sha256, "sha256")?;
    let write = Write::FileBan(FileBanWrite::Lift {
        sha256: sha256.clone(),
        board,
        actor: caller.username.clone(),
    });
    app.writer.submit(write).await?;
    app.reload_file_bans().await?;
    Ok(response::ok_json(&json!({ "lifted": sha256 })))
}

fn mismatch(written: Written) -> ApiError {
    ApiError::internal(
        "writer_mismatch",
        format!("a staff write returned {written:?}"),
    )
}

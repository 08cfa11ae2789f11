//! Word filters: board moderators manage their board's, admins the global ones. Each change is
//! validated (the pattern compiled) before it is written, logged, and the compiled set rebuilt.

use hyper::body::Incoming;
use hyper::Request;
use serde_json::{json, Value};

use crate::app::App;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::filters::{self, Action, Field, Filter, MAX_TEXT_CHARS};
use crate::http::request::{json_object, query};
use crate::http::{response, Response};
use crate::input::{check_text, normalize, Fields, Lines};
use crate::storage::{FilterWrite, Write, Written};

const FIELDS: &[&str] = &[
    "pattern",
    "regex",
    "action",
    "replacement",
    "message",
    "ban_secs",
    "fields",
];

/// `GET /api/boards/{board}/filters` or `GET /api/filters` → `{"filters":[Filter]}`: the
/// filters of that scope in id order (at most 200).
pub async fn list(
    app: &App,
    raw_query: Option<&str>,
    board: Option<String>,
) -> ApiResult<Response> {
    query(raw_query, &[])?;
    let body = app
        .read(move |r| {
            if let Some(slug) = &board {
                r.require_board(slug)?;
            }
            let filters: Vec<Filter> = r
                .filters()?
                .into_iter()
                .filter(|f| f.board == board)
                .collect();
            Ok(json!({ "filters": filters }))
        })
        .await?;
    Ok(response::ok_json(&body))
}

/// Reads and checks a filter body: `{"pattern", "regex"?, "action", "replacement"|"message",
/// "fields"?}`; `fields` defaults to every field.
fn parse(
    value: serde_json::Map<String, Value>,
    board: Option<String>,
    caller: &Caller,
) -> ApiResult<Filter> {
    let mut fields = Fields::new(value, FIELDS)?;
    let pattern = fields.required_text("pattern")?;
    let regex = fields.flag("regex")?;
    filters::compile(&pattern, regex)?;
    let action = fields.required_text("action")?;
    let text = |fields: &mut Fields, name: &str| -> ApiResult<String> {
        let text = normalize(&fields.required_text(name)?, Lines::One);
        check_text(name, &text, MAX_TEXT_CHARS as u32, Lines::One)?;
        Ok(text)
    };
    let action = match action.as_str() {
        "replace" => Action::Replace {
            replacement: text(&mut fields, "replacement")?,
        },
        "reject" | "reject_and_ban" => {
            let message = text(&mut fields, "message")?;
            if message.trim().is_empty() {
                let message = "A rejecting filter needs a `message` to show the poster.";
                return Err(ApiError::new(ErrorKind::Empty, message).with_field("message"));
            }
            if action == "reject" {
                Action::Reject { message }
            } else {
                let Some(ban_secs) = fields.number("ban_secs")? else {
                    let message = "`reject_and_ban` needs `ban_secs`, the ban's length in seconds.";
                    return Err(
                        ApiError::new(ErrorKind::MissingField, message).with_field("ban_secs")
                    );
                };
                if !filters::BAN_SECS.contains(&ban_secs) {
                    let message = format!(
                        "`ban_secs` is from {} to {} seconds.",
                        filters::BAN_SECS.start(),
                        filters::BAN_SECS.end()
                    );
                    return Err(
                        ApiError::new(ErrorKind::OutOfRange, message).with_field("ban_secs")
                    );
                }
                Action::RejectAndBan { message, ban_secs }
            }
        }
        other => {
            let message = format!(
                "`action` is `replace`, `reject` or `reject_and_ban`; `{}` is not one.",
                other.chars().take(40).collect::<String>()
            );
            return Err(ApiError::new(ErrorKind::InvalidValue, message).with_field("action"));
        }
    };
    // What the other action would take is refused rather than ignored.
    for stray in ["replacement", "message", "ban_secs"] {
        if fields.has(stray) {
            let message = format!("`{stray}` does not go with this action.");
            return Err(ApiError::new(ErrorKind::UnknownField, message).with_field(stray));
        }
    }
    let wanted = fields.strings("fields", Field::ALL.len())?;
    let chosen = match wanted {
        None => Field::ALL.to_vec(),
        Some(names) => {
            let mut chosen = Vec::new();
            for name in names {
                let Some(field) = Field::ALL.into_iter().find(|f| f.name() == name) else {
                    let message = format!(
                        "`fields` holds name, subject, body or file_name; `{}` is not one.",
                        name.chars().take(40).collect::<String>()
                    );
                    return Err(
                        ApiError::new(ErrorKind::InvalidValue, message).with_field("fields")
                    );
                };
                if !chosen.contains(&field) {
                    chosen.push(field);
                }
            }
            if chosen.is_empty() {
                let message = "`fields` is empty; leave it out to filter every field.";
                return Err(ApiError::new(ErrorKind::Empty, message).with_field("fields"));
            }
            chosen
        }
    };
    Ok(Filter {
        id: 0,
        board,
        pattern,
        regex,
        action,
        fields: chosen,
        actor: caller.username.clone(),
        updated_at: 0,
    })
}

fn path(board: &Option<String>) -> String {
    match board {
        Some(b) => format!("/api/boards/{b}/filters"),
        None => "/api/filters".to_owned(),
    }
}

fn saved(written: Written) -> ApiResult<Filter> {
    match written {
        Written::Filter(Some(filter)) => Ok(*filter),
        other => Err(ApiError::internal(
            "writer_mismatch",
            format!("a filter write returned {other:?}"),
        )),
    }
}

/// `POST /api/boards/{board}/filters` or `POST /api/filters` with a filter → 201
/// `{"filter":Filter}`.
pub async fn create(
    app: &App,
    req: Request<Incoming>,
    board: Option<String>,
    caller: &Caller,
) -> ApiResult<Response> {
    let filter = parse(json_object(req).await?, board.clone(), caller)?;
    let filter = saved(
        app.writer
            .submit(Write::Filter(FilterWrite::Create(filter)))
            .await?,
    )?;
    app.reload_filters().await?;
    let location = format!("{}/{}", path(&board), filter.id);
    Ok(response::created(&location, &json!({ "filter": filter })))
}

/// `POST /api/boards/{board}/filters/{id}` or `POST /api/filters/{id}` with a whole filter →
/// 200 `{"filter":Filter}`: replaces it.
pub async fn update(
    app: &App,
    req: Request<Incoming>,
    board: Option<String>,
    id: u64,
    caller: &Caller,
) -> ApiResult<Response> {
    let filter = Filter {
        id,
        ..parse(json_object(req).await?, board, caller)?
    };
    let filter = saved(
        app.writer
            .submit(Write::Filter(FilterWrite::Update(filter)))
            .await?,
    )?;
    app.reload_filters().await?;
    Ok(response::ok_json(&json!({ "filter": filter })))
}

/// `DELETE /api/boards/{board}/filters/{id}` or `DELETE /api/filters/{id}` → 200
/// `{"deleted":id}`.
pub async fn delete(
    app: &App,
    board: Option<String>,
    id: u64,
    caller: &Caller,
) -> ApiResult<Response> {
    let write = Write::Filter(FilterWrite::Delete {
        id,
        board,
        actor: caller.username.clone(),
    });
    app.writer.submit(write).await?;
    app.reload_filters().await?;
    Ok(response::ok_json(&json!({ "deleted": id })))
}

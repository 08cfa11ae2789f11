//! Staff deletions and what staff see of posters: the routes janitors and moderators use on a
//! board's posts. The writer applies and logs each deletion.

use std::collections::BTreeMap;

use hyper::body::Incoming;
use hyper::Request;
use serde_json::{json, Value};

use crate::app::App;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::http::request::{json_object, query};
use crate::http::{response, Response};
use crate::input::{blank, check_text, normalize, Fields, Lines};
use crate::model::PosterRecord;
use crate::storage::writer::Scope;
use crate::storage::{Write, Written};

/// Longest public reason, in characters: one line, shown in the board's public log.
pub const MAX_REASON_CHARS: u32 = 200;
/// Longest staff note, in characters.
pub const MAX_NOTE_CHARS: u32 = 1000;

/// An optional text field: cleaned of invisible characters, checked, and `None` when blank.
pub fn optional_text(
    fields: &mut Fields,
    name: &str,
    max: u32,
    lines: Lines,
) -> ApiResult<Option<String>> {
    let Some(raw) = fields.text(name)? else {
        return Ok(None);
    };
    let text = normalize(&raw, lines);
    check_text(name, &text, max, lines)?;
    Ok(Some(text.trim().to_owned()).filter(|t| !blank(t)))
}

/// The `reason` (public) and `note` (staff only) every staff action may carry.
pub fn reason_and_note(fields: &mut Fields) -> ApiResult<(Option<String>, Option<String>)> {
    let reason = optional_text(fields, "reason", MAX_REASON_CHARS, Lines::One)?;
    let note = optional_text(fields, "note", MAX_NOTE_CHARS, Lines::Many)?;
    Ok((reason, note))
}

/// A required field naming one of `names`.
pub fn choice<T: Copy>(
    fields: &mut Fields,
    name: &str,
    options: &[T],
    name_of: impl Fn(T) -> &'static str,
) -> ApiResult<T> {
    let given = fields.required_text(name)?;
    options
        .iter()
        .copied()
        .find(|o| name_of(*o) == given)
        .ok_or_else(|| {
            let names: Vec<&str> = options.iter().map(|o| name_of(*o)).collect();
            let message = format!(
                "`{name}` is one of {}, not `{}`.",
                names.join(", "),
                given.chars().take(40).collect::<String>().escape_debug()
            );
            ApiError::new(ErrorKind::InvalidValue, message).with_field(name)
        })
}

/// `POST /api/boards/{board}/posts/{no}/staff-delete` with `{"scope", "reason"?, "note"?}` →
/// 200 `{"deleted":{"board","no","scope","nos","more"}}`. `scope` is `post` (an OP takes its
/// thread), `files`, `poster_thread` or `poster_board` (every post of the same poster, by cloak,
/// at most 100 per call: `more` says to call again with the same `no`).
pub async fn staff_delete(
    app: &App,
    board: String,
    no: u64,
    req: Request<Incoming>,
    caller: &Caller,
) -> ApiResult<Response> {
    let mut fields = Fields::new(json_object(req).await?, &["scope", "reason", "note"])?;
    let scope = choice(&mut fields, "scope", &Scope::ALL, Scope::name)?;
    let (reason, note) = reason_and_note(&mut fields)?;
    let write = Write::StaffDelete {
        board: board.clone(),
        no,
        scope,
        actor: caller.username.clone(),
        reason,
        note,
    };
    let Written::StaffDeleted { nos, more } = app.writer.submit(write).await? else {
        return Err(ApiError::internal(
            "unexpected_write_result",
            "a staff deletion answered something else",
        ));
    };
    let body = json!({ "deleted": {
        "board": board, "no": no, "scope": scope.name(), "nos": nos, "more": more,
    }});
    Ok(response::ok_json(&body))
}

/// Posts one posters listing reads at most: a thread is bounded by its board's `max_replies`
/// (at most 100 000), and so is this.
const POSTERS_SHOWN: usize = 100_001;

/// What staff see of a poster: the cloak, and the address for admins while it is kept.
pub fn poster_json(record: &PosterRecord, caller: &Caller) -> Value {
    let mut out = json!({ "cloak": record.cloak });
    if let Some(board) = &record.cloak_board {
        out["cloak_board"] = json!(board);
    }
    if caller.role == Role::Admin {
        if let Some(address) = record.address {
            out["address"] = json!(address.to_string());
        }
    }
    out
}

/// `GET /api/boards/{board}/threads/{thread}/posters` → `{"posters":{"<no>":{"cloak",
/// "address"?}}}`: who wrote each post of a thread, as staff see it (the address for admins
/// only, and only until it is erased). Posts written before posters were recorded are absent.
pub async fn thread_posters(
    app: &App,
    raw_query: Option<&str>,
    board: String,
    thread: u64,
    caller: &Caller,
) -> ApiResult<Response> {
    query(raw_query, &[])?;
    let records = app
        .read(move |r| {
            r.require_thread(&board, thread)?;
            r.posters_in_thread(&board, thread, POSTERS_SHOWN)
        })
        .await?;
    let posters: BTreeMap<String, Value> = records
        .iter()
        .map(|(no, record)| (no.to_string(), poster_json(record, caller)))
        .collect();
    Ok(response::ok_json(&json!({ "posters": posters })))
}

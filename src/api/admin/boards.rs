//! Board administration: listing boards with what staff see, creating, changing and deleting
//! boards. Every change goes through the writer, which logs it with the caller's name.

use hyper::body::Incoming;
use hyper::Request;
use serde::Serialize;
use serde_json::{json, Map, Value};

use crate::app::App;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::http::request::{json_object, query};
use crate::http::{response, Response};
use crate::model::{Board, LogEntry};
use crate::settings;
use crate::storage::{Reader, Write, Written};

/// Log entries shown with one board.
const LOG_SHOWN: usize = 50;

/// A board as staff see it: its settings and its counters.
#[derive(Serialize)]
struct StaffBoard {
    #[serde(flatten)]
    board: Board,
    /// The last post number given out on the board.
    last_no: u64,
    live_threads: u64,
}

fn staff_board(r: &Reader, board: Board) -> ApiResult<StaffBoard> {
    let (last_no, live_threads) = r.board_counters(&board.slug)?;
    Ok(StaffBoard {
        board,
        last_no,
        live_threads,
    })
}

fn to_json(value: &impl Serialize) -> Value {
    serde_json::to_value(value).expect("staff views serialize")
}

/// `GET /api/admin/boards` → `{"boards":[StaffBoard], "deleting":[slug]}`: every board with
/// its counters, and the boards whose deletion is still under way.
pub async fn list(app: &App, raw_query: Option<&str>) -> ApiResult<Response> {
    query(raw_query, &[])?;
    let body = app
        .read(|r| {
            let boards = r
                .boards()?
                .into_iter()
                .map(|b| staff_board(r, b))
                .collect::<ApiResult<Vec<_>>>()?;
            Ok(json!({ "boards": to_json(&boards), "deleting": r.deleting_boards()? }))
        })
        .await?;
    Ok(response::ok_json(&body))
}

/// `GET /api/admin/boards/{board}` → `{"board":StaffBoard, "log":[LogEntry]}`: the board and
/// its latest logged changes, newest first.
pub async fn get(app: &App, raw_query: Option<&str>, board: String) -> ApiResult<Response> {
    query(raw_query, &[])?;
    let body = app
        .read(move |r| {
            let found = r.require_board(&board)?;
            let log: Vec<LogEntry> = r.board_log(&board, LOG_SHOWN)?;
            Ok(json!({ "board": to_json(&staff_board(r, found)?), "log": to_json(&log) }))
        })
        .await?;
    Ok(response::ok_json(&body))
}

/// `POST /api/admin/boards` with `{"slug","title",...settings}` → 201 `{"board":Board}`. The
/// settings not given take the defaults of a `[[boards]]` table.
pub async fn create(app: &App, req: Request<Incoming>, caller: &Caller) -> ApiResult<Response> {
    let fields = json_object(req).await?;
    let board = settings::new_board(&fields, app.takes_video())?;
    let write = Write::CreateBoard {
        board,
        actor: caller.username.clone(),
    };
    let saved = saved(app.writer.submit(write).await?)?;
    let location = format!("/api/admin/boards/{}", saved.slug);
    Ok(response::created(
        &location,
        &json!({ "board": to_json(&saved) }),
    ))
}

/// `POST /api/admin/boards/{board}` with any settings (`{"title":..., "nsfw":true}`) → 200
/// `{"board":Board}`. Settings not given keep their value; a refused change changes nothing.
pub async fn update(
    app: &App,
    req: Request<Incoming>,
    board: String,
    caller: &Caller,
) -> ApiResult<Response> {
    let current = app.board(&board).await?;
    let patch = json_object(req).await?;
    let video = app.takes_video();
    // Checked here to answer before queueing; the writer checks again against the board as
    // stored when it applies the change.
    settings::apply(&current, &patch, video)?;
    let write = Write::UpdateBoard {
        board,
        patch,
        video,
        actor: caller.username.clone(),
    };
    let saved = saved(app.writer.submit(write).await?)?;
    Ok(response::ok_json(&json!({ "board": to_json(&saved) })))
}

/// `DELETE /api/admin/boards/{board}` with `{"confirm":"<board>"}` → 200 `{"deleted":slug}`.
/// The board, its threads and posts are gone for readers at once; its files leave the disk
/// (and go to the S3 trash) as the purge reaches them, shortly after.
pub async fn delete(
    app: &App,
    req: Request<Incoming>,
    board: String,
    caller: &Caller,
) -> ApiResult<Response> {
    app.board(&board).await?;
    let fields = json_object(req).await?;
    confirmation(fields, &board)?;
    let write = Write::DeleteBoard {
        board: board.clone(),
        actor: caller.username.clone(),
    };
    app.writer.submit(write).await?;
    Ok(response::ok_json(&json!({ "deleted": board })))
}

/// The `confirm` field, which must repeat the board's slug exactly.
fn confirmation(mut fields: Map<String, Value>, board: &str) -> ApiResult<()> {
    if let Some(unknown) = fields.keys().find(|k| *k != "confirm") {
        let message = format!(
            "Unknown field `{}`; deleting a board takes only `confirm`.",
            unknown.escape_debug()
        );
        return Err(ApiError::new(ErrorKind::UnknownField, message).with_field(unknown.clone()));
    }
    match fields.remove("confirm") {
        None | Some(Value::Null) => {
            let message = format!(
                "Deleting a board needs `confirm` repeating its slug: {{\"confirm\":\"{board}\"}}."
            );
            Err(ApiError::new(ErrorKind::MissingField, message).with_field("confirm"))
        }
        Some(Value::String(given)) if given == board => Ok(()),
        Some(Value::String(_)) => {
            let message = format!("`confirm` must repeat the slug of the board, `{board}`.");
            Err(ApiError::new(ErrorKind::InvalidValue, message).with_field("confirm"))
        }
        Some(_) => {
            let message = "`confirm` must be a string.";
            Err(ApiError::new(ErrorKind::InvalidType, message).with_field("confirm"))
        }
    }
}

fn saved(written: Written) -> ApiResult<Board> {
    match written {
        Written::BoardSaved(board) => Ok(*board),
        other => Err(ApiError::internal(
            "unexpected_write_result",
            format!("a board write answered {other:?}"),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_confirmation_repeats_the_slug() {
        let cases: [(Value, Option<(ErrorKind, &str)>); 7] = [
            (json!({"confirm": "t"}), None),
            (json!({}), Some((ErrorKind::MissingField, "confirm"))),
            (
                json!({"confirm": null}),
                Some((ErrorKind::MissingField, "confirm")),
            ),
            (
                json!({"confirm": "T"}),
                Some((ErrorKind::InvalidValue, "confirm")),
            ),
            (
                json!({"confirm": "t "}),
                Some((ErrorKind::InvalidValue, "confirm")),
            ),
            (
                json!({"confirm": ["t"]}),
                Some((ErrorKind::InvalidType, "confirm")),
            ),
            (
                json!({"confirm": "t", "force": true}),
                Some((ErrorKind::UnknownField, "force")),
            ),
        ];
        for (body, expected) in cases {
            let map = body.as_object().unwrap().clone();
            let got = confirmation(map, "t")
                .err()
                .map(|e| (e.kind, e.field.unwrap_or_default()));
            assert_eq!(got, expected.map(|(k, f)| (k, f.to_owned())), "{body}");
        }
    }
}

//! Staff actions on threads: sticky, lock, cyclic, and moving a thread to another board.

use hyper::body::Incoming;
use hyper::Request;
use serde_json::{json, Map, Value};

use crate::app::App;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::http::request::json_object;
use crate::http::route::ThreadAct;
use crate::http::{response, Response};
use crate::input::{check_text, Fields, Lines};
use crate::storage::{Acting, ThreadAction, ThreadState, Write, Written};

/// Longest public reason and private note, in characters.
pub const MAX_REASON_CHARS: u32 = 1000;
/// Highest place among stickies.
pub const MAX_STICKY_ORDER: u64 = 1000;

/// `POST /api/boards/{board}/threads/{thread}/{act}`, for board moderators of the board, global
/// moderators and admins → 200 `{"thread": ThreadState}` (with `moved_from` after a move).
/// Bodies, each with an optional public `reason` and a private `note`:
/// - `sticky`: `{"sticky": bool, "order"?: 0..=1000}` (lower first among stickies);
/// - `lock`: `{"locked": bool}`;
/// - `cyclic`: `{"cyclical": bool}`;
/// - `move`: `{"board": slug}`, a board the caller also moderates.
///
/// Setting what is already set changes nothing and logs nothing.
pub async fn act(
    app: &App,
    caller: &Caller,
    board: String,
    thread: u64,
    act: ThreadAct,
    req: Request<Incoming>,
) -> ApiResult<Response> {
    let mut map = json_object(req).await?;
    let (main, extra): (&str, &[&str]) = match act {
        ThreadAct::Sticky => ("sticky", &["order"]),
        ThreadAct::Lock => ("locked", &[]),
        ThreadAct::Cyclic => ("cyclical", &[]),
        ThreadAct::Move => ("board", &[]),
    };
    let order = if act == ThreadAct::Sticky {
        sticky_order(&mut map)?
    } else {
        0
    };
    let mut allowed = vec![main, "reason", "note"];
    allowed.extend_from_slice(extra);
    let mut fields = Fields::new(map, &allowed)?;
    let acting = Acting {
        actor: caller.username.clone(),
        reason: bounded(&mut fields, "reason")?,
        note: bounded(&mut fields, "note")?,
    };
    let action = match act {
        ThreadAct::Move => {
            let to = fields.required_text("board")?;
            if !caller.may_manage_board(&to) {
                let message = format!("Moving a thread to /{to}/ takes a moderator of /{to}/.");
                return Err(ApiError::new(ErrorKind::Forbidden, message).with_field("board"));
            }
            ThreadAction::Move {
                to,
                keys: Box::new(app.keys.clone()),
            }
        }
        _ => {
            if !fields.has(main) {
                let message = format!("The field `{main}` (true or false) is needed.");
                return Err(ApiError::new(ErrorKind::MissingField, message).with_field(main));
            }
            let on = fields.flag(main)?;
            match act {
                ThreadAct::Sticky => ThreadAction::Sticky { on, order },
                ThreadAct::Lock => ThreadAction::Lock(on),
                _ => ThreadAction::Cyclic(on),
            }
        }
    };
    let write = Write::ThreadAction {
        board,
        thread,
        action,
        acting,
    };
    let Written::Thread(state) = app.writer.submit(write).await? else {
        return Err(ApiError::internal(
            "thread_action_unwritten",
            "no thread came back",
        ));
    };
    Ok(response::ok_json(&state_json(&state)))
}

/// `order`, taken out of the body before the other fields: an integer within bounds, 0 when
/// absent.
fn sticky_order(map: &mut Map<String, Value>) -> ApiResult<u32> {
    let invalid = |message: String, kind| ApiError::new(kind, message).with_field("order");
    match map.remove("order") {
        None | Some(Value::Null) => Ok(0),
        Some(Value::Number(n)) => match n.as_u64() {
            Some(n) if n <= MAX_STICKY_ORDER => Ok(n as u32),
            _ => Err(invalid(
                format!("`order` is a whole number from 0 to {MAX_STICKY_ORDER}."),
                ErrorKind::OutOfRange,
            )),
        },
        Some(_) => Err(invalid(
            "`order` must be a number.".into(),
            ErrorKind::InvalidType,
        )),
    }
}

/// An optional one-paragraph text of at most [`MAX_REASON_CHARS`].
fn bounded(fields: &mut Fields, name: &str) -> ApiResult<Option<String>> {
    let text = fields.text(name)?;
    if let Some(text) = &text {
        check_text(name, text, MAX_REASON_CHARS, Lines::Many)?;
    }
    Ok(text)
}

/// The route's answer: the thread's state, and where it came from after a move.
fn state_json(state: &ThreadState) -> Value {
    let meta = &state.meta;
    let mut thread = json!({
        "board": state.board,
        "no": meta.no,
        "sticky": meta.sticky,
        "sticky_order": meta.sticky_order,
        "locked": meta.locked,
        "cyclical": meta.cyclical,
        "archived": meta.archived,
        "replies": meta.replies,
        "images": meta.images,
        "bumped_at": meta.bumped_at,
    });
    if let Some((board, no)) = &state.moved_from {
        thread["moved_from"] = json!({ "board": board, "thread": no });
    }
    json!({ "thread": thread })
}

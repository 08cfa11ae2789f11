//! Posts: what a post may contain, replying to a thread, and reading one post.

use hyper::body::Incoming;
use hyper::{HeaderMap, Request};
use serde_json::{json, Map, Value};

use crate::app::App;
use crate::cache::{Group, Key};
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::http::request::{json_object, query};
use crate::http::{response, Response};
use crate::input::{check_text, Fields, Lines};
use crate::model::{Board, PostDraft};
use crate::render::body_html;
use crate::storage::{Write, Written};

/// The name shown when a poster gives none.
pub const DEFAULT_NAME: &str = "Anonymous";

/// Whether the post opens a thread (and so may have a subject).
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Thread,
    Reply,
}

/// Validates a post body against the board's limits and turns it into a draft for the writer.
pub fn draft(map: Map<String, Value>, board: &Board, kind: Kind) -> ApiResult<PostDraft> {
    let allowed: &[&str] = match kind {
        Kind::Thread => &["subject", "name", "body", "sage"],
        Kind::Reply => &["name", "body", "sage"],
    };
    let mut fields = Fields::new(map, allowed)?;
    let subject = if kind == Kind::Thread {
        fields.text("subject")?
    } else {
        None
    };
    let name = fields.text("name")?;
    let body = fields.text("body")?;
    let sage = fields.flag("sage")?;

    let Some(body) = body else {
        return Err(
            ApiError::new(ErrorKind::MissingField, "A post needs a `body`.").with_field("body"),
        );
    };
    check_text("body", &body, board.max_body_chars, Lines::Many)?;
    if body.trim().is_empty() {
        return Err(ApiError::new(ErrorKind::Empty, "The post body is empty.").with_field("body"));
    }
    let name = name.unwrap_or_default();
    check_text("name", &name, board.max_name_chars, Lines::One)?;
    let subject = subject.unwrap_or_default();
    check_text("subject", &subject, board.max_subject_chars, Lines::One)?;

    let name = match name.trim() {
        "" => DEFAULT_NAME.to_owned(),
        trimmed => trimmed.to_owned(),
    };
    let subject = Some(subject.trim().to_owned()).filter(|s| !s.is_empty());
    Ok(PostDraft {
        name,
        subject,
        html: body_html(&body),
        body,
        sage,
    })
}

/// Submits a post to the writer and answers 201 once it is durably committed.
pub async fn submit(app: &App, write: Write) -> ApiResult<Response> {
    match app.writer.submit(write).await? {
        Written::Post { board, thread, no } => Ok(response::created(
            &format!("/api/boards/{board}/posts/{no}"),
            &json!({ "board": board, "thread": thread, "no": no }),
        )),
        other => Err(ApiError::internal(
            "writer_mismatch",
            format!("a post write returned {other:?}"),
        )),
    }
}

/// `POST /api/boards/{board}/threads/{thread}/posts` with `{"name"?, "body", "sage"?}`
/// → 201 `{"board","thread","no"}`.
pub async fn create_reply(
    app: &App,
    board: String,
    thread: u64,
    req: Request<Incoming>,
) -> ApiResult<Response> {
    let settings = app.board(&board).await?;
    let draft = draft(json_object(req).await?, &settings, Kind::Reply)?;
    submit(
        app,
        Write::CreateReply {
            board,
            thread,
            draft,
        },
    )
    .await
}

/// `GET /api/boards/{board}/posts/{no}` → `{"post":Post}`.
pub async fn get(
    app: &App,
    headers: &HeaderMap,
    raw_query: Option<&str>,
    board: String,
    no: u64,
) -> ApiResult<Response> {
    query(raw_query, &[])?;
    let key = Key::Post(board.clone(), no);
    app.cached_get(headers, key, move |r| {
        if r.board(&board)?.is_none() {
            return Err(ApiError::board_not_found(&board));
        }
        let post = r
            .post(&board, no)?
            .ok_or_else(|| ApiError::post_not_found(&board, no))?;
        let body = response::envelope("post", &post);
        Ok((Group::Thread(board, post.thread), body))
    })
    .await
}

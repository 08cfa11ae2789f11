//! Reports: anyone reports a post; staff read the review queue of their boards and handle a
//! post's reports (dismiss, or delete the post or its files) in one call.

use std::collections::BTreeMap;
use std::net::IpAddr;

use hyper::body::Incoming;
use hyper::Request;
use serde_json::{json, Value};

use super::moderation::{choice, optional_text, poster_json, reason_and_note};
use crate::app::App;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::http::request::{json_object, query, query_number};
use crate::http::{response, Response};
use crate::input::{Fields, Lines};
use crate::model::{PosterRecord, Report, ReportCategory};
use crate::storage::writer::{unix_now, ReportAction};
use crate::storage::{QueuedPost, Reader, Write, Written};

/// Longest note a reporter may add, in characters.
pub const MAX_REPORT_NOTE_CHARS: u32 = 500;
/// Posts a queue shows by default, and at most.
const QUEUE_DEFAULT: u64 = 50;
const QUEUE_MAX: u64 = 100;

/// `POST /api/boards/{board}/posts/{no}/report` with `{"category", "note"?}` → 201
/// `{"reported":{"board","no"}}`. Anonymous; one report per post per client (by its cloak),
/// at most 10 per client network per 10 minutes (429 `rate_limited`).
pub async fn report(
    app: &App,
    board: String,
    no: u64,
    req: Request<Incoming>,
    client: IpAddr,
) -> ApiResult<Response> {
    let mut fields = Fields::new(json_object(req).await?, &["category", "note"])?;
    let category = choice(
        &mut fields,
        "category",
        &ReportCategory::ALL,
        ReportCategory::name,
    )?;
    let note = optional_text(&mut fields, "note", MAX_REPORT_NOTE_CHARS, Lines::Many)?;
    app.report_guard.try_take(client)?;
    let report = Report {
        category,
        note,
        cloak: app.keys.cloak(&board, client),
        cloak_board: None,
        address: Some(client.to_canonical()),
        at: unix_now(),
    };
    let write = Write::Report {
        board: board.clone(),
        no,
        report,
    };
    app.writer.submit(write).await?;
    Ok(response::created(
        &format!("/api/boards/{board}/posts/{no}"),
        &json!({ "reported": { "board": board, "no": no } }),
    ))
}

/// The `limit` and `before` of a queue listing.
fn paging(raw_query: Option<&str>, extra: &[&str]) -> ApiResult<(usize, u64)> {
    let mut allowed = vec!["limit", "before"];
    allowed.extend_from_slice(extra);
    let params = query(raw_query, &allowed)?;
    let limit = query_number(&params, "limit", 1)?.unwrap_or(QUEUE_DEFAULT);
    if limit > QUEUE_MAX {
        let message = format!("`limit` is at most {QUEUE_MAX}.");
        return Err(ApiError::new(ErrorKind::InvalidQuery, message).with_field("limit"));
    }
    let before = query_number(&params, "before", 1)?.unwrap_or(u64::MAX);
    Ok((limit as usize, before))
}

/// A queued post as staff see it; reporters' addresses for admins only.
fn queued_json(queued: &QueuedPost, caller: &Caller) -> Value {
    let reports: Vec<Value> = queued
        .reports
        .iter()
        .map(|r| {
            let mut out = poster_json(
                &PosterRecord {
                    address: r.address,
                    cloak: r.cloak.clone(),
                    cloak_board: r.cloak_board.clone(),
                    at: r.at,
                },
                caller,
            );
            out["category"] = json!(r.category);
            out["at"] = json!(r.at);
            if let Some(note) = &r.note {
                out["note"] = json!(note);
            }
            out
        })
        .collect();
    json!({
        "board": queued.board,
        "no": queued.post.no,
        "thread": queued.post.thread,
        "count": queued.count,
        "latest_at": queued.latest_at,
        "post": queued.post,
        "reports": reports,
    })
}

/// The boards whose reports `caller` sees: every board for admins and global moderators, else
/// the caller's boards that exist.
fn visible_boards(r: &Reader, caller: &Caller) -> ApiResult<Vec<String>> {
    let all = r.boards()?.into_iter().map(|b| b.slug);
    Ok(if caller.sees_all_boards() {
        all.collect()
    } else {
        all.filter(|slug| caller.boards.contains(slug)).collect()
    })
}

/// The counts of the boards `caller` sees, for the badge and its live stream.
pub(crate) fn caller_counts(r: &Reader, caller: &Caller) -> ApiResult<BTreeMap<String, u64>> {
    counts(r, &visible_boards(r, caller)?)
}

fn counts(r: &Reader, boards: &[String]) -> ApiResult<BTreeMap<String, u64>> {
    boards
        .iter()
        .map(|b| Ok((b.clone(), r.report_count(b)?)))
        .collect()
}

/// `GET /api/boards/{board}/reports?limit=N&before=T` → `{"reports":[QueuedPost], "count"}`:
/// the board's posts with open reports, the most recently reported first (`before`: the
/// `latest_at` of the last one seen, for the next page), and how many there are.
pub async fn board_queue(
    app: &App,
    raw_query: Option<&str>,
    board: String,
    caller: &Caller,
) -> ApiResult<Response> {
    let (limit, before) = paging(raw_query, &[])?;
    let (queue, count) = app
        .read(move |r| {
            r.require_board(&board)?;
            Ok((
                r.report_queue(&board, before, limit)?,
                r.report_count(&board)?,
            ))
        })
        .await?;
    let reports: Vec<Value> = queue.iter().map(|q| queued_json(q, caller)).collect();
    Ok(response::ok_json(
        &json!({ "reports": reports, "count": count }),
    ))
}

/// `GET /api/reports?limit=N&before=T` → `{"reports":[QueuedPost], "counts":{board: n}}`: the
/// queue of every board the caller looks after (admins and global moderators: all), merged,
/// the most recently reported first.
pub async fn queue(app: &App, raw_query: Option<&str>, caller: &Caller) -> ApiResult<Response> {
    let (limit, before) = paging(raw_query, &[])?;
    let who = caller.clone();
    let (mut merged, counts) = app
        .read(move |r| {
            let boards = visible_boards(r, &who)?;
            let mut merged = Vec::new();
            for board in &boards {
                merged.extend(r.report_queue(board, before, limit)?);
            }
            Ok((merged, counts(r, &boards)?))
        })
        .await?;
    merged.sort_by(|a, b| {
        (b.latest_at, &b.board, b.post.no).cmp(&(a.latest_at, &a.board, a.post.no))
    });
    merged.truncate(limit);
    let reports: Vec<Value> = merged.iter().map(|q| queued_json(q, caller)).collect();
    Ok(response::ok_json(
        &json!({ "reports": reports, "counts": counts }),
    ))
}

/// `GET /api/reports/counts` → `{"counts":{board: n}, "total": n}`: posts with open reports on
/// each board the caller looks after, for a badge.
pub async fn counts_route(
    app: &App,
    raw_query: Option<&str>,
    caller: &Caller,
) -> ApiResult<Response> {
    query(raw_query, &[])?;
    let who = caller.clone();
    let counts = app.read(move |r| caller_counts(r, &who)).await?;
    let total: u64 = counts.values().sum();
    Ok(response::ok_json(
        &json!({ "counts": counts, "total": total }),
    ))
}

/// `POST /api/boards/{board}/reports/{no}` with `{"action", "reason"?, "note"?}` → 200
/// `{"handled":{"board","no","action","reports","deleted"}}`: `dismiss` closes the post's
/// reports; `delete` deletes the post (an OP: its thread) and `delete_files` its files, closing
/// them too. Logged either way. `ban` and `dismiss_and_ban_reporters` also take `duration`
/// and (`ban`) `mark`, need a `reason`, and are for those who may ban on the board (see
/// [`super::bans::for_reports`]).
pub async fn handle(
    app: &App,
    board: String,
    no: u64,
    req: Request<Incoming>,
    caller: &Caller,
) -> ApiResult<Response> {
    let mut map = json_object(req).await?;
    let duration = map.remove("duration");
    let mark = map.remove("mark");
    let mut fields = Fields::new(map, &["action", "reason", "note", "duration", "mark"])?;
    let action = choice(
        &mut fields,
        "action",
        &ReportAction::ALL,
        ReportAction::name,
    )?;
    if action.bans() {
        return super::bans::for_reports(app, caller, board, no, action, fields, duration, mark)
            .await;
    }
    if let Some(field) = [("duration", &duration), ("mark", &mark)]
        .iter()
        .find_map(|(name, value)| value.as_ref().map(|_| *name))
    {
        let message = format!("`{field}` goes with the actions that ban.");
        return Err(ApiError::new(ErrorKind::UnknownField, message).with_field(field));
    }
    let (reason, note) = reason_and_note(&mut fields)?;
    let write = Write::HandleReports {
        board: board.clone(),
        no,
        action,
        actor: caller.username.clone(),
        reason,
        note,
    };
    let Written::Handled { reports, deleted } = app.writer.submit(write).await? else {
        return Err(ApiError::internal(
            "unexpected_write_result",
            "handling reports answered something else",
        ));
    };
    let body = json!({ "handled": {
        "board": board, "no": no, "action": action.name(), "reports": reports, "deleted": deleted,
    }});
    Ok(response::ok_json(&body))
}

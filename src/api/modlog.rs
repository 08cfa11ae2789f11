//! The staff log's views: staff read the whole log of their boards; the public reads a board's
//! log without addresses, cloaks, private notes, what changed, or (unless the board says so)
//! staff names.

use hyper::HeaderMap;
use serde_json::{json, Value};

use crate::app::App;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::http::request::{query, query_number};
use crate::http::{response, Response};
use crate::model::LogEntry;

/// Entries a page shows by default, and at most.
const PAGE_DEFAULT: u64 = 50;
const PAGE_MAX: u64 = 200;

/// `limit` and `before` (an entry id: the page holds older entries).
fn paging(raw_query: Option<&str>) -> ApiResult<(usize, u64)> {
    let params = query(raw_query, &["limit", "before"])?;
    let limit = query_number(&params, "limit", 1)?.unwrap_or(PAGE_DEFAULT);
    if limit > PAGE_MAX {
        let message = format!("`limit` is at most {PAGE_MAX}.");
        return Err(ApiError::new(ErrorKind::InvalidQuery, message).with_field("limit"));
    }
    let before = query_number(&params, "before", 1)?.unwrap_or(u64::MAX);
    Ok((limit as usize, before))
}

/// The `before` that continues after `entries`, or `null` on the last page.
fn next(entries: &[LogEntry], limit: usize) -> Value {
    match entries.last() {
        Some(last) if entries.len() == limit => json!(last.id),
        _ => Value::Null,
    }
}

/// `GET /api/modlog?limit=N&before=ID` → `{"entries":[LogEntry], "next"}`: the staff log,
/// newest first, whole for admins and global moderators, else the entries about the caller's
/// boards. `next` is the `before` of the following page (`null` on the last).
pub async fn staff(app: &App, raw_query: Option<&str>, caller: &Caller) -> ApiResult<Response> {
    let (limit, before) = paging(raw_query)?;
    let who = caller.clone();
    let entries = app
        .read(move |r| {
            if who.sees_all_boards() {
                return r.log_page(before, limit);
            }
            let mut merged = Vec::new();
            for board in &who.boards {
                merged.extend(r.board_log_page(board, before, limit)?);
            }
            merged.sort_by_key(|e| std::cmp::Reverse(e.id));
            merged.dedup_by_key(|e| e.id);
            merged.truncate(limit);
            Ok(merged)
        })
        .await?;
    let next = next(&entries, limit);
    Ok(response::ok_json(
        &json!({ "entries": entries, "next": next }),
    ))
}

/// An entry as the public sees it: what was done, when, on which board, the public reason and
/// the post it was done to; the staff name only where the board shows names.
fn public_entry(entry: &LogEntry, names: bool) -> Value {
    let mut out = json!({
        "id": entry.id,
        "at": entry.at,
        "action": entry.action,
        "board": entry.board,
    });
    if let Some(reason) = &entry.reason {
        out["reason"] = json!(reason);
    }
    if let Some(no) = entry.change.get("no").and_then(Value::as_u64) {
        out["post"] = json!(no);
    }
    if names {
        out["actor"] = json!(entry.actor);
    }
    out
}

/// `GET /api/boards/{board}/modlog?limit=N&before=ID` → `{"entries":[PublicLogEntry],
/// "next"}`: the board's log as anyone may read it.
pub async fn public(
    app: &App,
    _headers: &HeaderMap,
    raw_query: Option<&str>,
    board: String,
) -> ApiResult<Response> {
    let (limit, before) = paging(raw_query)?;
    let (entries, names) = app
        .read(move |r| {
            let settings = r.require_board(&board)?;
            Ok((
                r.board_log_page(&board, before, limit)?,
                settings.public_log_names,
            ))
        })
        .await?;
    let shown: Vec<Value> = entries.iter().map(|e| public_entry(e, names)).collect();
    let next = next(&entries, limit);
    Ok(response::ok_json(
        &json!({ "entries": shown, "next": next }),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::LogAction;

    #[test]
    fn the_public_view_leaves_out_what_is_private() {
        let entry = LogEntry {
            id: 7,
            at: 100,
            actor: Some("alice".into()),
            action: LogAction::PosterDelete,
            board: Some("b".into()),
            change: json!({"no": 3, "cloak": "c1oak", "address": "203.0.113.7", "nos": [3, 4]}),
            reason: Some("spam".into()),
            note: Some("same as yesterday".into()),
        };
        let hidden = public_entry(&entry, false);
        assert_eq!(
            hidden,
            json!({"id": 7, "at": 100, "action": "poster_delete", "board": "b",
                   "reason": "spam", "post": 3})
        );
        let named = public_entry(&entry, true);
        assert_eq!(named["actor"], "alice");
        for view in [hidden, named] {
            let text = view.to_string();
            for private in ["c1oak", "203.0.113.7", "same as yesterday", "nos"] {
                assert!(!text.contains(private), "{text}");
            }
        }
    }
}

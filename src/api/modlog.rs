//! The staff log's views: staff read the whole log of their boards; the public reads a board's
//! log without addresses, cloaks, private notes, what changed, or (unless the board says so)
//! staff names.

use std::collections::HashMap;

use hyper::HeaderMap;
use serde_json::{json, Value};

use crate::app::App;
use crate::auth::Caller;
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::http::request::{query, query_number};
use crate::http::{response, Response};
use crate::model::{LogAction, LogEntry};
use crate::storage::LogScan;

/// Entries a page shows by default, and at most.
const PAGE_DEFAULT: u64 = 50;
const PAGE_MAX: u64 = 200;

/// `limit` and `before` (an entry id: the page holds older entries).
fn paging(params: &HashMap<String, String>) -> ApiResult<(usize, u64)> {
    let limit = query_number(params, "limit", 1)?.unwrap_or(PAGE_DEFAULT);
    if limit > PAGE_MAX {
        let message = format!("`limit` is at most {PAGE_MAX}.");
        return Err(ApiError::new(ErrorKind::InvalidQuery, message).with_field("limit"));
    }
    let before = query_number(params, "before", 1)?.unwrap_or(u64::MAX);
    Ok((limit as usize, before))
}

/// The `before` that continues after `entries`, or `null` on the last page.
fn next(entries: &[LogEntry], limit: usize) -> Value {
    match entries.last() {
        Some(last) if entries.len() == limit => json!(last.id),
        _ => Value::Null,
    }
}

/// Rows a staff page reads at most when it filters by action; the page then ends early and
/// `next` continues below the last row read.
const SCAN_BUDGET: usize = 2000;

/// `GET /api/modlog?limit=N&before=ID&board=B&action=A` → `{"entries":[LogEntry], "next"}`: the
/// staff log, newest first, whole for admins and global moderators, else the entries about the
/// caller's boards; `board` narrows it to one board (403 `forbidden` for a board the caller
/// does not look after), `action` to one action. `next` is the `before` of the following page
/// (`null` on the last).
pub async fn staff(app: &App, raw_query: Option<&str>, caller: &Caller) -> ApiResult<Response> {
    let params = query(raw_query, &["limit", "before", "board", "action"])?;
    let (limit, before) = paging(&params)?;
    let action = match params.get("action") {
        None => None,
        Some(name) => Some(
            serde_json::from_value::<LogAction>(Value::String(name.clone())).map_err(|_| {
                let shown: String = name.chars().take(40).collect();
                ApiError::new(
                    ErrorKind::InvalidQuery,
                    format!("`action` {shown:?} is not an action of the log."),
                )
                .with_field("action")
            })?,
        ),
    };
    let boards: Option<Vec<String>> = match params.get("board") {
        Some(board) if caller.sees_all_boards() || caller.boards.contains(board) => {
            Some(vec![board.clone()])
        }
        Some(_) => {
            return Err(ApiError::new(
                ErrorKind::Forbidden,
                "You do not look after this board.",
            ))
        }
        None if caller.sees_all_boards() => None,
        None => Some(caller.boards.clone()),
    };
    let (entries, next) = app
        .read(move |r| {
            let scans = match &boards {
                None => vec![r.log_scan(None, action, before, limit, SCAN_BUDGET)?],
                Some(boards) => boards
                    .iter()
                    .map(|b| r.log_scan(Some(b), action, before, limit, SCAN_BUDGET))
                    .collect::<ApiResult<_>>()?,
            };
            Ok(merge(scans, limit))
        })
        .await?;
    Ok(response::ok_json(
        &json!({ "entries": entries, "next": next }),
    ))
}

/// One page out of several boards' scans, and its `next`. A scan that ran out of budget read
/// nothing below its `stopped_at`, so the page keeps only entries at or above the highest such
/// point, and continues there.
fn merge(scans: Vec<LogScan>, limit: usize) -> (Vec<LogEntry>, Value) {
    let cutoff = scans.iter().filter_map(|s| s.stopped_at).max();
    let mut merged: Vec<LogEntry> = scans.into_iter().flat_map(|s| s.entries).collect();
    merged.sort_by_key(|e| std::cmp::Reverse(e.id));
    merged.dedup_by_key(|e| e.id);
    if let Some(cutoff) = cutoff {
        merged.retain(|e| e.id >= cutoff);
    }
    merged.truncate(limit);
    let next = match (merged.last(), cutoff) {
        (Some(last), _) if merged.len() == limit => json!(last.id),
        (_, Some(cutoff)) => json!(cutoff),
        _ => Value::Null,
    };
    (merged, next)
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
    let (limit, before) = paging(&query(raw_query, &["limit", "before"])?)?;
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

    fn entry(id: u64) -> LogEntry {
        LogEntry {
            id,
            at: id,
            actor: None,
            action: LogAction::PostDelete,
            board: Some("b".into()),
            change: json!({}),
            reason: None,
            note: None,
        }
    }

    fn scan(ids: &[u64], stopped_at: Option<u64>) -> LogScan {
        LogScan {
            entries: ids.iter().map(|&id| entry(id)).collect(),
            stopped_at,
        }
    }

    #[test]
    fn merged_pages_never_skip_what_a_scan_left_unread() {
        // (scans, limit) → (ids on the page, next)
        let cases = [
            (
                vec![scan(&[9, 7], None), scan(&[8], None)],
                5,
                vec![9, 8, 7],
                Value::Null,
            ),
            (
                vec![scan(&[9, 7], None), scan(&[8], None)],
                2,
                vec![9, 8],
                json!(8),
            ),
            // The first board's scan read down to 6 only: 3 from the other board waits.
            (
                vec![scan(&[9], Some(6)), scan(&[8, 3], None)],
                5,
                vec![9, 8],
                json!(6),
            ),
            (vec![scan(&[], Some(40))], 5, vec![], json!(40)),
            // The same entry about two boards shows once.
            (
                vec![scan(&[5], None), scan(&[5, 4], None)],
                5,
                vec![5, 4],
                Value::Null,
            ),
        ];
        for (i, (scans, limit, ids, next)) in cases.into_iter().enumerate() {
            let (page, got) = merge(scans, limit);
            let got_ids: Vec<u64> = page.iter().map(|e| e.id).collect();
            assert_eq!((got_ids, got), (ids, next), "case {i}");
        }
    }
}

//! Staff actions on a thread: sticky, lock, cyclic, and the checks every action shares; moving
//! a thread to another board is in [`super::moving`].

use redb::{ReadableTable, WriteTransaction};
use serde_json::json;

use super::modlog::{self, Note};
use super::posts::{load_post, load_thread, put_thread, tombstone};
use super::{load_board, Applied, Change, Written};
use crate::error::{ApiError, ErrorKind};
use crate::live::Event;
use crate::model::{Board, LogAction, ThreadMeta};
use crate::storage::MOVED;

/// What staff do to a thread.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ThreadAction {
    /// Pins the thread above the others (lower `order` first among stickies), or unpins it.
    Sticky { on: bool, order: u32 },
    /// A locked thread takes no replies, from anyone.
    Lock(bool),
    /// A cyclical thread drops its oldest replies past the bump limit.
    Cyclic(bool),
    /// Moves the thread, under new numbers, to board `to`; `keys` make its posters' and
    /// reporters' cloaks on `to`.
    Move {
        to: String,
        keys: Box<crate::poster::Keys>,
    },
}

/// Who acts, and why: what the staff log records.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Acting {
    pub actor: String,
    /// Shown in the board's public log.
    pub reason: Option<String>,
    /// For staff only.
    pub note: Option<String>,
}

/// A thread's state after an action: what the route answers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ThreadState {
    pub board: String,
    pub meta: ThreadMeta,
    /// For a move: where the thread was, `(board, thread)`.
    pub moved_from: Option<(String, u64)>,
}

pub(super) fn apply(
    txn: &WriteTransaction,
    slug: &str,
    thread: u64,
    action: &ThreadAction,
    acting: &Acting,
    now: u64,
    changes: &mut Vec<Change>,
) -> Applied {
    let (board, mut meta) = match live_thread(txn, slug, thread)? {
        Ok(found) => found,
        Err(e) => return Ok(Err(e)),
    };
    let (action_name, change) = match action {
        ThreadAction::Move { to, keys } => {
            let dest = (to.as_str(), &**keys);
            return super::moving::move_thread(txn, &board, meta, dest, acting, now, changes);
        }
        ThreadAction::Sticky { on, order } => {
            let order = if *on { *order } else { 0 };
            if meta.sticky == *on && meta.sticky_order == order {
                return Ok(Ok(unchanged(slug, meta)));
            }
            let change = json!({
                "thread": thread,
                "sticky": { "old": meta.sticky, "new": on },
                "order": { "old": meta.sticky_order, "new": order },
            });
            meta.sticky = *on;
            meta.sticky_order = order;
            (LogAction::ThreadSticky, change)
        }
        ThreadAction::Lock(on) => {
            if meta.locked == *on {
                return Ok(Ok(unchanged(slug, meta)));
            }
            let change = json!({ "thread": thread, "locked": { "old": meta.locked, "new": on } });
            meta.locked = *on;
            (LogAction::ThreadLock, change)
        }
        ThreadAction::Cyclic(on) => {
            if meta.cyclical == *on {
                return Ok(Ok(unchanged(slug, meta)));
            }
            let change =
                json!({ "thread": thread, "cyclical": { "old": meta.cyclical, "new": on } });
            meta.cyclical = *on;
            (LogAction::ThreadCyclic, change)
        }
    };
    put_thread(txn, slug, &meta)?;
    // A thread's state shows in the board's listings as well as in the thread itself.
    changes.push(Change::PostEdited {
        board: slug.to_owned(),
        thread,
    });
    super::emit(txn, update_event(slug, &meta), changes)?;
    let note = Note {
        reason: acting.reason.as_deref(),
        note: acting.note.as_deref(),
        ..Note::new(Some(&acting.actor), action_name, Some(slug), change)
    };
    modlog::append(txn, note, now)?;
    Ok(Ok(Written::Thread(Box::new(ThreadState {
        board: slug.to_owned(),
        meta,
        moved_from: None,
    }))))
}

fn unchanged(slug: &str, meta: ThreadMeta) -> Written {
    Written::Thread(Box::new(ThreadState {
        board: slug.to_owned(),
        meta,
        moved_from: None,
    }))
}

/// The `update` event telling subscribers a thread's state.
pub(super) fn update_event(slug: &str, meta: &ThreadMeta) -> Event {
    Event::Update {
        board: slug.to_owned(),
        thread: meta.no,
        sticky: meta.sticky,
        locked: meta.locked,
        archived: meta.archived,
        cyclical: meta.cyclical,
        moved_to: None,
    }
}

/// The board and the live thread staff act on, or why not: the board or thread does not exist,
/// the number is a reply's, the thread was deleted, moved or archived.
fn live_thread(
    txn: &WriteTransaction,
    slug: &str,
    thread: u64,
) -> Result<Result<(Board, ThreadMeta), ApiError>, redb::Error> {
    let Some(board) = load_board(txn, slug)? else {
        return Ok(Err(ApiError::board_not_found(slug)));
    };
    let Some(meta) = load_thread(txn, slug, thread)? else {
        return Ok(Err(missing_thread(txn, slug, thread)?));
    };
    if meta.archived {
        let message =
            format!("Thread {thread} on /{slug}/ is archived; staff act on live threads.");
        return Ok(Err(ApiError::new(ErrorKind::ThreadArchived, message)));
    }
    Ok(Ok((board, meta)))
}

/// Why `thread` names no thread on `slug`.
pub(super) fn missing_thread(
    txn: &WriteTransaction,
    slug: &str,
    thread: u64,
) -> Result<ApiError, redb::Error> {
    if tombstone(txn, slug, thread)? == Some(thread) {
        return Ok(ApiError::thread_deleted(slug, thread));
    }
    let moved = {
        let table = txn.open_table(MOVED)?;
        let row = table.get((slug, thread))?;
        row.map(|v| {
            let (to, no, of) = v.value();
            (to.to_owned(), no, of)
        })
    };
    if let Some((to, no, _)) = moved.filter(|(_, no, of)| no == of) {
        let message = format!("Thread {thread} on /{slug}/ moved to /{to}/ as thread {no}.");
        return Ok(ApiError::new(ErrorKind::ThreadNotFound, message));
    }
    if let Some(post) = load_post(txn, slug, thread)? {
        if post.thread != thread {
            let message = format!(
                "{thread} on /{slug}/ is a reply in thread {}, not a thread.",
                post.thread
            );
            return Ok(ApiError::new(ErrorKind::ThreadNotFound, message));
        }
    }
    Ok(ApiError::thread_not_found(slug, thread))
}

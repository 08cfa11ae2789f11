//! Staff writes against abuse: banning and lifting file bans (deleting the posts that carry a
//! banned file, a bounded number per call) and creating, changing and deleting word filters.
//! Each is logged in the same transaction.

use redb::{ReadableTable, WriteTransaction};
use serde_json::json;

use super::delete::PURGE_CHUNK;
use super::moderate::delete_one;
use super::modlog::{self, Note};
use super::posts::load_live_post;
use super::{load_board, stored, Applied, Change, Written};
use crate::error::{ApiError, ErrorKind};
use crate::filebans::{self, FileBan};
use crate::filters::{Filter, MAX_FILTERS};
use crate::media::phash;
use crate::model::{LogAction, StoredFile};
use crate::storage::{encode, FILES, FILE_BANS, FILE_POSTS, FILTERS, META};

/// Posts one ban may delete in one call; the answer says when more are left, and banning again
/// goes on.
pub const BAN_DELETE_LIMIT: usize = 100;
/// Most file bans in one scope (one board, or every board).
pub const MAX_FILE_BANS: u64 = 10_000;

/// A file ban or its lifting.
#[derive(Debug, Clone)]
pub enum FileBanWrite {
    /// Bans `sha256` on `board` (or every board), or changes the reason of an existing ban;
    /// with `delete_posts`, deletes up to [`BAN_DELETE_LIMIT`] live posts carrying it there.
    /// `exact` keeps no perceptual hash, so near-duplicates are not refused.
    Ban {
        sha256: String,
        board: Option<String>,
        reason: Option<String>,
        note: Option<String>,
        delete_posts: bool,
        exact: bool,
        actor: String,
    },
    Lift {
        sha256: String,
        board: Option<String>,
        actor: String,
    },
}

/// A word filter's creation, change or deletion. The filter was validated by the caller.
#[derive(Debug, Clone)]
pub enum FilterWrite {
    Create(Filter),
    /// Replaces filter `filter.id`, which must belong to `filter.board`'s scope.
    Update(Filter),
    Delete {
        id: u64,
        board: Option<String>,
        actor: String,
    },
}

fn scope(board: &Option<String>) -> &str {
    board.as_deref().unwrap_or("")
}

pub(super) fn file_ban(
    txn: &WriteTransaction,
    write: &FileBanWrite,
    now: u64,
    changes: &mut Vec<Change>,
) -> Applied {
    let board = match write {
        FileBanWrite::Ban { board, .. } | FileBanWrite::Lift { board, .. } => board,
    };
    if let Some(slug) = board {
        if load_board(txn, slug)?.is_none() {
            return Ok(Err(ApiError::board_not_found(slug)));
        }
    }
    match write {
        FileBanWrite::Ban {
            sha256,
            board,
            reason,
            note,
            delete_posts,
            exact,
            actor,
        } => {
            let key = (scope(board), sha256.as_str());
            let existing = {
                let table = txn.open_table(FILE_BANS)?;
                let row = table.get(key)?;
                row.map(|v| stored::<FileBan>(v.value())).transpose()?
            };
            if existing.is_none() && count(txn, scope(board))? >= MAX_FILE_BANS {
                let message =
                    format!("This scope already holds {MAX_FILE_BANS} file bans; lift some first.");
                return Ok(Err(ApiError::new(ErrorKind::OutOfRange, message)));
            }
            let dhash = if *exact {
                None
            } else {
                let files = txn.open_table(FILES)?;
                let row = files.get(sha256.as_str())?;
                let file = row.map(|v| stored::<StoredFile>(v.value())).transpose()?;
                file.and_then(|f| f.dhash)
                    .filter(|h| phash::distinctive(*h))
                    .map(filebans::hex)
            };
            let ban = FileBan {
                sha256: sha256.clone(),
                board: board.clone(),
                // A ban made before the file's hash was known keeps none; banning again adds it.
                // An exact ban drops the one a former ban had.
                dhash: dhash.or_else(|| {
                    let former = existing.as_ref().and_then(|b| b.dhash.clone());
                    former.filter(|_| !*exact)
                }),
                reason: reason.clone(),
                actor: actor.clone(),
                created_at: existing.as_ref().map_or(now, |b| b.created_at),
            };
            txn.open_table(FILE_BANS)?
                .insert(key, encode(&ban).as_slice())?;
            let (deleted, more) = if *delete_posts {
                delete_carriers(txn, sha256, board.as_deref(), changes)?
            } else {
                (Vec::new(), false)
            };
            let change = json!({
                "sha256": sha256,
                "perceptual": ban.dhash.is_some(),
                "deleted": deleted,
                "more": more,
            });
            let entry = Note {
                reason: reason.as_deref(),
                note: note.as_deref(),
                ..Note::new(Some(actor), LogAction::FileBan, board.as_deref(), change)
            };
            modlog::append(txn, entry, now)?;
            Ok(Ok(Written::FileBan {
                ban: Some(Box::new(ban)),
                deleted: deleted.len(),
                more,
            }))
        }
        FileBanWrite::Lift {
            sha256,
            board,
            actor,
        } => {
            let removed = txn
                .open_table(FILE_BANS)?
                .remove((scope(board), sha256.as_str()))?
                .is_some();
            if !removed {
                let place = board
                    .as_deref()
                    .map_or("on every board".to_owned(), |b| format!("on /{b}/"));
                let message = format!("There is no ban of file {sha256} {place}.");
                return Ok(Err(ApiError::new(ErrorKind::FileBanNotFound, message)));
            }
            let change = json!({ "sha256": sha256 });
            let entry = Note::new(Some(actor), LogAction::FileUnban, board.as_deref(), change);
            modlog::append(txn, entry, now)?;
            Ok(Ok(Written::FileBan {
                ban: None,
                deleted: 0,
                more: false,
            }))
        }
    }
}

fn count(txn: &WriteTransaction, scope: &str) -> Result<u64, redb::Error> {
    let table = txn.open_table(FILE_BANS)?;
    let mut n = 0;
    for row in table.range((scope, "")..)? {
        let (key, _) = row?;
        if key.value().0 != scope {
            break;
        }
        n += 1;
        if n >= MAX_FILE_BANS {
            break;
        }
    }
    Ok(n)
}

/// Deletes up to [`BAN_DELETE_LIMIT`] live posts carrying `sha256` on `board` (or anywhere),
/// through `file_posts`. Returns the `/board/no` deleted and whether more are left.
fn delete_carriers(
    txn: &WriteTransaction,
    sha256: &str,
    board: Option<&str>,
    changes: &mut Vec<Change>,
) -> Result<(Vec<String>, bool), redb::Error> {
    // Rows of posts already going with a deleted thread are skipped, not counted; they leave
    // the index as the purge removes them. A few times the limit bounds the walk.
    let candidates: Vec<(String, u64)> = {
        let index = txn.open_table(FILE_POSTS)?;
        let start = (sha256, board.unwrap_or(""), 0);
        let mut out = Vec::new();
        for row in index.range(start..)?.take(BAN_DELETE_LIMIT * 4 + 1) {
            let (key, _) = row?;
            let (sha, slug, no) = key.value();
            if sha != sha256 || board.is_some_and(|b| b != slug) {
                break;
            }
            out.push((slug.to_owned(), no));
        }
        out
    };
    let mut deleted = Vec::new();
    let mut more = false;
    let mut inline = PURGE_CHUNK;
    for (slug, no) in candidates {
        let Some(post) = load_live_post(txn, &slug, no)? else {
            continue;
        };
        if deleted.len() == BAN_DELETE_LIMIT {
            more = true;
            break;
        }
        delete_one(txn, &post, &mut inline, changes)?;
        deleted.push(format!("/{slug}/{no}"));
    }
    Ok((deleted, more))
}

pub(super) fn filter(txn: &WriteTransaction, write: &FilterWrite, now: u64) -> Applied {
    let board = match write {
        FilterWrite::Create(f) | FilterWrite::Update(f) => &f.board,
        FilterWrite::Delete { board, .. } => board,
    };
    if let Some(slug) = board {
        if load_board(txn, slug)?.is_none() {
            return Ok(Err(ApiError::board_not_found(slug)));
        }
    }
    let not_found = |id: u64| {
        let place = board
            .as_deref()
            .map_or("among the global filters".to_owned(), |b| {
                format!("on /{b}/")
            });
        Ok(Err(ApiError::new(
            ErrorKind::FilterNotFound,
            format!("There is no filter {id} {place}."),
        )))
    };
    let load = |id: u64| -> Result<Option<Filter>, redb::Error> {
        let table = txn.open_table(FILTERS)?;
        let row = table.get(id)?;
        let found = row.map(|v| stored::<Filter>(v.value())).transpose()?;
        Ok(found.filter(|f| f.board == *board))
    };
    match write {
        FilterWrite::Create(new) => {
            let in_scope = {
                let table = txn.open_table(FILTERS)?;
                let mut n = 0;
                for row in table.iter()? {
                    let found: Filter = stored(row?.1.value())?;
                    n += usize::from(found.board == new.board);
                }
                n
            };
            if in_scope >= MAX_FILTERS {
                let message = format!("This scope already holds {MAX_FILTERS} filters.");
                return Ok(Err(ApiError::new(ErrorKind::OutOfRange, message)));
            }
            let id = {
                let mut meta = txn.open_table(META)?;
                let id = meta.get("filter_seq")?.map_or(0, |v| v.value()) + 1;
                meta.insert("filter_seq", id)?;
                id
            };
            let filter = Filter {
                id,
                updated_at: now,
                ..new.clone()
            };
            txn.open_table(FILTERS)?
                .insert(id, encode(&filter).as_slice())?;
            log_filter(txn, LogAction::FilterCreate, &filter, now)?;
            Ok(Ok(Written::Filter(Some(Box::new(filter)))))
        }
        FilterWrite::Update(new) => {
            if load(new.id)?.is_none() {
                return not_found(new.id);
            }
            let filter = Filter {
                updated_at: now,
                ..new.clone()
            };
            txn.open_table(FILTERS)?
                .insert(filter.id, encode(&filter).as_slice())?;
            log_filter(txn, LogAction::FilterUpdate, &filter, now)?;
            Ok(Ok(Written::Filter(Some(Box::new(filter)))))
        }
        FilterWrite::Delete { id, actor, .. } => {
            let Some(filter) = load(*id)? else {
                return not_found(*id);
            };
            txn.open_table(FILTERS)?.remove(*id)?;
            let entry = Note::new(
                Some(actor),
                LogAction::FilterDelete,
                board.as_deref(),
                serde_json::to_value(&filter).expect("filters serialize"),
            );
            modlog::append(txn, entry, now)?;
            Ok(Ok(Written::Filter(None)))
        }
    }
}

fn log_filter(
    txn: &WriteTransaction,
    action: LogAction,
    filter: &Filter,
    now: u64,
) -> Result<(), redb::Error> {
    let change = serde_json::to_value(filter).expect("filters serialize");
    let entry = Note::new(Some(&filter.actor), action, filter.board.as_deref(), change);
    modlog::append(txn, entry, now)?;
    Ok(())
}

//! Boards as staff manage them: seeding from the config, creating, changing and deleting, each
//! logged in `mod_log`; and the chunked purge of a deleted board's contents.

use redb::{ReadableTable, ReadableTableMetadata, WriteTransaction};
use serde_json::{Map, Value};

use super::modlog::{self, Note};
use super::posts::TxnResolver;
use super::{delete, emit, load_board, store_board, stored, Applied, Change, Written};
use crate::error::{ApiError, ErrorKind};
use crate::live::Event;
use crate::markup::{self, Resolve};
use crate::model::{Board, LogAction, ThreadMeta};
use crate::settings;
use crate::storage::{
    ARCHIVE, BOARDS, BOARD_COUNTERS, BOARD_PURGE, BUMP_ORDER, PURGE, SEEDED, THREADS, TOMBSTONES,
};

/// Threads of a deleted board unlisted per transaction: each is a few row removals.
const UNLIST_CHUNK: usize = 256;
/// Old tombstones of a deleted board removed per transaction.
const TOMBSTONE_CHUNK: usize = 4096;
/// Distinct posts and boards a board's rules may link.
const RULES_LINKS: usize = 64;

/// Links in rules resolve like a post's, against the transaction, with their own bound.
struct RulesResolver<'a>(TxnResolver<'a>);

impl Resolve for RulesResolver<'_> {
    fn post_thread(&self, board: &str, no: u64) -> Option<u64> {
        self.0.post_thread(board, no)
    }

    fn board_exists(&self, board: &str) -> bool {
        self.0.board_exists(board)
    }

    fn max_links(&self, _board: &str) -> usize {
        RULES_LINKS
    }
}

fn render_rules(txn: &WriteTransaction, board: &mut Board) {
    let resolver = RulesResolver(TxnResolver::new(txn));
    board.rules_html = markup::render(&board.rules, &board.slug, &resolver).html;
}

fn being_deleted(txn: &WriteTransaction, slug: &str) -> Result<bool, redb::Error> {
    Ok(txn.open_table(BOARD_PURGE)?.get(slug)?.is_some())
}

/// Stores a new board, rules rendered. No live event: nobody can follow a board before it
/// exists.
fn insert(
    txn: &WriteTransaction,
    board: &Board,
    changes: &mut Vec<Change>,
) -> Result<Board, redb::Error> {
    let mut board = board.clone();
    render_rules(txn, &mut board);
    store_board(txn, &board, changes)?;
    txn.open_table(SEEDED)?.insert(board.slug.as_str(), ())?;
    Ok(board)
}

fn announce(
    txn: &WriteTransaction,
    slug: &str,
    deleted: bool,
    changes: &mut Vec<Change>,
) -> Result<(), redb::Error> {
    let event = Event::Board {
        board: slug.to_owned(),
        deleted,
    };
    emit(txn, event, changes)
}

/// Creates each board of `wanted` whose slug the database has never held. A board already
/// stored is left as it is, whatever the config now says.
pub(super) fn seed(
    txn: &WriteTransaction,
    wanted: &[Board],
    now: u64,
    changes: &mut Vec<Change>,
) -> Applied {
    let mut created = Vec::new();
    for board in wanted {
        let slug = board.slug.as_str();
        let held = txn.open_table(SEEDED)?.get(slug)?.is_some()
            || load_board(txn, slug)?.is_some()
            || being_deleted(txn, slug)?;
        if held {
            txn.open_table(SEEDED)?.insert(slug, ())?;
            continue;
        }
        let board = insert(txn, board, changes)?;
        let change = Value::Object(settings::snapshot(&board));
        let note = Note::new(None, LogAction::BoardCreate, Some(slug), change);
        modlog::append(txn, note, now)?;
        created.push(board.slug);
    }
    Ok(Ok(Written::Seeded(created)))
}

pub(super) fn create(
    txn: &WriteTransaction,
    board: &Board,
    actor: &str,
    now: u64,
    changes: &mut Vec<Change>,
) -> Applied {
    let slug = board.slug.as_str();
    if load_board(txn, slug)?.is_some() {
        let message = format!("There is already a board /{slug}/.");
        return Ok(Err(
            ApiError::new(ErrorKind::BoardExists, message).with_field("slug")
        ));
    }
    if being_deleted(txn, slug)? {
        let message =
            format!("Board /{slug}/ is still being deleted; create it again once that is done.");
        return Ok(Err(
            ApiError::new(ErrorKind::BoardExists, message).with_field("slug")
        ));
    }
    let board = insert(txn, board, changes)?;
    let change = Value::Object(settings::snapshot(&board));
    let note = Note::new(Some(actor), LogAction::BoardCreate, Some(slug), change);
    modlog::append(txn, note, now)?;
    Ok(Ok(Written::BoardSaved(Box::new(board))))
}

pub(super) fn update(
    txn: &WriteTransaction,
    slug: &str,
    patch: &Map<String, Value>,
    video: bool,
    actor: &str,
    now: u64,
    changes: &mut Vec<Change>,
) -> Applied {
    let Some(current) = load_board(txn, slug)? else {
        return Ok(Err(ApiError::board_not_found(slug)));
    };
    let (mut board, diff) = match settings::apply(&current, patch, video) {
        Ok(applied) => applied,
        Err(e) => return Ok(Err(e)),
    };
    if diff.is_empty() {
        return Ok(Ok(Written::BoardSaved(Box::new(current))));
    }
    if diff.contains_key("rules") {
        render_rules(txn, &mut board);
    }
    store_board(txn, &board, changes)?;
    announce(txn, slug, false, changes)?;
    let note = Note::new(
        Some(actor),
        LogAction::BoardUpdate,
        Some(slug),
        Value::Object(diff),
    );
    modlog::append(txn, note, now)?;
    Ok(Ok(Written::BoardSaved(Box::new(board))))
}

/// Takes the board away from readers and queues its contents for [`purge_step`].
pub(super) fn delete(
    txn: &WriteTransaction,
    slug: &str,
    actor: &str,
    now: u64,
    changes: &mut Vec<Change>,
) -> Applied {
    let Some(board) = load_board(txn, slug)? else {
        return Ok(Err(ApiError::board_not_found(slug)));
    };
    let (last_no, live) = {
        let counters = txn.open_table(BOARD_COUNTERS)?;
        let row = counters.get(slug)?;
        row.map_or((0, 0), |v| v.value())
    };
    txn.open_table(BOARDS)?.remove(slug)?;
    txn.open_table(BOARD_PURGE)?.insert(slug, ())?;
    crate::storage::stats::forget_board(txn, slug)?;
    changes.push(Change::BoardDeleted {
        board: slug.to_owned(),
    });
    announce(txn, slug, true, changes)?;
    let change = serde_json::json!({
        "title": board.title,
        "last_no": last_no,
        "live_threads": live,
    });
    let note = Note::new(Some(actor), LogAction::BoardDelete, Some(slug), change);
    modlog::append(txn, note, now)?;
    Ok(Ok(Written::Deleted))
}

/// One step of deleting the first board listed in `board_purge`: unlisting a chunk of its
/// threads, else removing a chunk of their posts (through the thread purge, which lets go of
/// files as self-deletion does), else a chunk of its old tombstones, else unlisting the board.
/// `None` when no board is being deleted; otherwise whether any purge work is left.
pub(super) fn purge_step(
    txn: &WriteTransaction,
    changes: &mut Vec<Change>,
) -> Result<Option<bool>, redb::Error> {
    let first = {
        let table = txn.open_table(BOARD_PURGE)?;
        let first = table.first()?;
        first.map(|(slug, _)| slug.value().to_owned())
    };
    let Some(slug) = first else {
        return Ok(None);
    };
    let slug = slug.as_str();

    let threads: Vec<ThreadMeta> = {
        let table = txn.open_table(THREADS)?;
        let range = table.range((slug, 0)..=(slug, u64::MAX))?;
        let mut threads = Vec::new();
        for row in range.take(UNLIST_CHUNK) {
            threads.push(stored(row?.1.value())?);
        }
        threads
    };
    if !threads.is_empty() {
        for meta in &threads {
            txn.open_table(THREADS)?.remove((slug, meta.no))?;
            match meta.archived_at {
                Some(at) if meta.archived => {
                    txn.open_table(ARCHIVE)?.remove((slug, at, meta.no))?;
                }
                _ => {
                    txn.open_table(BUMP_ORDER)?.remove((slug, meta.bump_key))?;
                }
            }
            txn.open_table(PURGE)?.insert((slug, meta.no), ())?;
        }
        return Ok(Some(true));
    }

    let queued = {
        let table = txn.open_table(PURGE)?;
        let mut range = table.range((slug, 0)..=(slug, u64::MAX))?;
        let first = range.next().transpose()?.map(|(key, _)| key.value().1);
        first
    };
    if let Some(thread) = queued {
        delete::purge_thread(txn, slug, thread, delete::PURGE_CHUNK, changes)?;
        return Ok(Some(true));
    }

    let tombstones: Vec<u64> = {
        let table = txn.open_table(TOMBSTONES)?;
        let range = table.range((slug, 0)..=(slug, u64::MAX))?;
        range
            .take(TOMBSTONE_CHUNK)
            .map(|row| row.map(|(key, _)| key.value().1))
            .collect::<Result<_, _>>()?
    };
    if !tombstones.is_empty() {
        let mut table = txn.open_table(TOMBSTONES)?;
        for no in tombstones {
            table.remove((slug, no))?;
        }
        return Ok(Some(true));
    }

    // The counter stays (with no live thread): numbers are never given out twice.
    let last_no = {
        let counters = txn.open_table(BOARD_COUNTERS)?;
        let row = counters.get(slug)?;
        row.map_or(0, |v| v.value().0)
    };
    txn.open_table(BOARD_COUNTERS)?.insert(slug, (last_no, 0))?;
    txn.open_table(BOARD_PURGE)?.remove(slug)?;
    changes.push(Change::BoardDeleted {
        board: slug.to_owned(),
    });
    let more = !txn.open_table(BOARD_PURGE)?.is_empty()? || !txn.open_table(PURGE)?.is_empty()?;
    Ok(Some(more))
}

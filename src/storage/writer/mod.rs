//! The single writer: one thread owns every write transaction and commits in groups.
//!
//! Requests queue on a channel. The writer takes every request waiting at that moment, applies
//! them in order inside one durable transaction, commits once (one fsync for the whole group),
//! runs the commit listener (cache invalidation, files), and only then answers each request. A
//! request is therefore never acknowledged before its data is on disk, and a burst of
//! concurrent posts costs one commit instead of one each. The live events go to the listener
//! after the answers: they are in the `events` table already, and whatever publishing them
//! costs is no part of any answer.
//!
//! Each write checks its preconditions (board exists, thread open) before it changes anything,
//! so a refused write is a value in the batch and leaves the transaction untouched for the
//! others.

use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use std::thread::JoinHandle;
use std::time::{SystemTime, UNIX_EPOCH};

use redb::{ReadableTable, WriteTransaction};
use tokio::sync::{mpsc, oneshot};

use super::{decode, encode, Store, BOARDS, BOARD_COUNTERS};
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::model::{Board, PostDraft};
use crate::notify::{notify, Severity};

pub use accounts::{AccountWrite, Opening, SWEEP_CHUNK};
pub use bans::{BanWrite, EXPIRE_CHUNK};
pub use moderate::{Scope, POSTER_BATCH};
pub use moderation::{FileBanWrite, FilterWrite, BAN_DELETE_LIMIT};
pub use posters::ERASE_CHUNK;
pub(super) use posts::thread_of;
pub use recovery::{invalid as reset_invalid, ResetWrite};
pub use reports::ReportAction;
pub use threads::{Acting, ThreadAction, ThreadState};
pub use tokens::{TokenWrite, MAX_TOKENS};
pub use totp::TotpWrite;

/// The most writes committed in one transaction; bounds the latency of the first in a group.
const MAX_GROUP: usize = 512;
/// Requests that may wait for the writer before submitters wait for room.
const QUEUE: usize = 4096;

/// A change to the data.
#[derive(Debug, Clone)]
pub enum Write {
    /// Creates the board or replaces its settings, unlogged (for tests and measurements).
    PutBoard(Board),
    /// Creates the config's boards that the database never held (see the `seeded` table).
    SeedBoards(Vec<Board>),
    /// A board made through the admin API; refused when the slug is taken or still being
    /// deleted.
    CreateBoard {
        board: Board,
        actor: String,
    },
    /// Applies a partial change of settings (checked again here against the stored board, so
    /// two concurrent changes cannot together break a rule between settings).
    UpdateBoard {
        board: String,
        patch: serde_json::Map<String, serde_json::Value>,
        /// Whether the server takes video.
        video: bool,
        actor: String,
    },
    /// Deletes a board at once for readers; its threads, posts and files follow in chunks.
    DeleteBoard {
        board: String,
        actor: String,
    },
    CreateThread {
        board: String,
        draft: PostDraft,
    },
    CreateReply {
        board: String,
        thread: u64,
        draft: PostDraft,
    },
    /// Self-deletion: the post (a thread, for an OP) or only its files, when `password` (its
    /// keyed hash) matches and the board's window is open.
    DeletePost {
        board: String,
        no: u64,
        password: [u8; 32],
        file_only: bool,
    },
    /// Deletes archived threads older than their board's `archive_days`.
    PruneArchive,
    /// A staff deletion: a post, its files, or its poster's posts in its thread or on its board.
    StaffDelete {
        board: String,
        no: u64,
        scope: Scope,
        actor: String,
        reason: Option<String>,
        note: Option<String>,
    },
    /// A report of a post.
    Report {
        board: String,
        no: u64,
        report: crate::model::Report,
    },
    /// Staff handle the open reports of a post.
    HandleReports {
        board: String,
        no: u64,
        action: ReportAction,
        actor: String,
        reason: Option<String>,
        note: Option<String>,
    },
    /// Erases the client addresses of up to [`ERASE_CHUNK`] posts and reports older than this
    /// many seconds, keeping their cloaks.
    EraseAddresses {
        retention_secs: u64,
    },
    /// Turns the S3 mirror on (queueing every stored file) or off (dropping the queue).
    SetMirror(bool),
    /// Backup jobs the S3 worker finished.
    OutboxDone(Vec<u64>),
    /// Accounts and sessions.
    Account(AccountWrite),
    /// Second factors.
    Totp(TotpWrite),
    /// Password reset tokens.
    Reset(ResetWrite),
    /// API tokens.
    Token(TokenWrite),
    /// A staff action on a live thread (see [`ThreadAction`]), logged.
    ThreadAction {
        board: String,
        thread: u64,
        action: ThreadAction,
        acting: Acting,
    },
    /// File bans.
    FileBan(FileBanWrite),
    /// Word filters.
    Filter(FilterWrite),
    /// Bans and appeals.
    Ban(BanWrite),
}

/// What a successful write produced.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Written {
    Board,
    /// A board created or changed, as now stored.
    BoardSaved(Box<Board>),
    /// The slugs of the boards seeded.
    Seeded(Vec<String>),
    Post {
        board: String,
        thread: u64,
        no: u64,
    },
    Deleted,
    Pruned {
        threads: usize,
    },
    /// A staff deletion: the posts deleted, and whether the poster has more left.
    StaffDeleted {
        nos: Vec<u64>,
        more: bool,
    },
    Reported,
    /// Reports handled: how many the post had, and the posts deleted.
    Handled {
        reports: u64,
        deleted: Vec<u64>,
    },
    /// Addresses erased; [`ERASE_CHUNK`] means more may be due.
    Erased {
        count: usize,
    },
    Mirror {
        queued: usize,
    },
    OutboxDone,
    /// An account write; the account as it now is, when one was written.
    Account(Option<crate::auth::Account>),
    /// A token write; the token as created, for a creation.
    Token(Option<crate::auth::token::StoredToken>),
    /// Expired sessions, API tokens and password reset tokens removed.
    Swept {
        sessions: usize,
    },
    /// A second-factor write.
    Totp,
    /// A reset token issued (None), or spent on the password of this user.
    Reset(Option<String>),
    /// A thread's state after a staff action (on its new board, after a move).
    Thread(Box<ThreadState>),
    /// A file ban as now stored (None when lifted), the posts it deleted and whether more
    /// posts carrying the file are left.
    FileBan {
        ban: Option<Box<crate::filebans::FileBan>>,
        deleted: usize,
        more: bool,
    },
    /// A filter as now stored (None when deleted).
    Filter(Option<Box<crate::filters::Filter>>),
    /// A ban as written (for a lift or an accepted appeal, as it was before it ended).
    Ban(Box<crate::bans::Ban>),
    /// Expired bans removed.
    BansExpired(usize),
}

/// What a committed transaction changed, for whoever keeps derived state (caches, live feeds).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    Board {
        board: String,
    },
    /// The board is gone for readers; its contents are being purged.
    BoardDeleted {
        board: String,
    },
    ThreadCreated {
        board: String,
        thread: u64,
    },
    /// A reply; `bumped` when it moved the thread up the bump order.
    Reply {
        board: String,
        thread: u64,
        no: u64,
        bumped: bool,
    },
    ThreadArchived {
        board: String,
        thread: u64,
    },
    /// A post's html, backlinks or files changed.
    PostEdited {
        board: String,
        thread: u64,
    },
    PostDeleted {
        board: String,
        thread: u64,
    },
    ThreadDeleted {
        board: String,
        thread: u64,
    },
    /// No post carries this file any more: its files on disk may go.
    FileUnreferenced {
        sha256: String,
        ext: String,
        thumb_ext: String,
    },
    /// A live event, already in the `events` table, to publish.
    Live(crate::live::Published),
    /// Backup jobs were queued in the outbox: wake the S3 worker.
    OutboxQueued,
    /// A ban given or changed (its appeal), as now stored.
    BanSaved(Box<crate::bans::Ban>),
    /// A ban ended (lifted, expired, pardoned).
    BanRemoved(u64),
    /// The number of posts with open reports on the board changed.
    ReportCounts {
        board: String,
    },
}

/// Runs after every successful commit, on the writer thread: with every change but the live
/// events before any request is answered, then with the live events (when there are any) after.
pub type CommitListener = Box<dyn Fn(&[Change]) + Send>;

/// Calls the listener with `changes` but their live events, then returns those.
fn before_answers(listener: &CommitListener, changes: Vec<Change>) -> Vec<Change> {
    let (live, rest): (Vec<Change>, Vec<Change>) = changes
        .into_iter()
        .partition(|c| matches!(c, Change::Live(_)));
    if !rest.is_empty() {
        listener(&rest);
    }
    live
}

/// Calls the listener with the live events [`before_answers`] held back.
fn after_answers(listener: &CommitListener, live: &[Change]) {
    if !live.is_empty() {
        listener(live);
    }
}

enum Msg {
    Write(Box<Write>, oneshot::Sender<ApiResult<Written>>),
    Stop,
}

/// The handle the rest of the server writes through.
pub struct Writer {
    tx: mpsc::Sender<Msg>,
    thread: Mutex<Option<JoinHandle<()>>>,
}

impl Writer {
    pub fn start(store: &Store, listener: CommitListener) -> Writer {
        let (tx, rx) = mpsc::channel(QUEUE);
        let db = store.db.clone();
        let thread = std::thread::Builder::new()
            .name("wani-writer".into())
            .spawn(move || {
                let run =
                    std::panic::catch_unwind(AssertUnwindSafe(|| writer_loop(&db, rx, listener)));
                if run.is_err() {
                    notify(
                        Severity::Error,
                        "writer_panicked",
                        "the writer thread panicked; writes are refused until restart",
                    );
                }
            })
            .expect("spawning the writer thread");
        Writer {
            tx,
            thread: Mutex::new(Some(thread)),
        }
    }

    /// Queues a write and waits until it is durably committed (or refused).
    pub async fn submit(&self, write: Write) -> ApiResult<Written> {
        let (reply, answer) = oneshot::channel();
        self.tx
            .send(Msg::Write(Box::new(write), reply))
            .await
            .map_err(|_| stopped())?;
        answer.await.map_err(|_| stopped())?
    }

    /// Commits what is queued, then stops the writer thread. Later writes get `unavailable`.
    pub async fn stop(&self) {
        let _ = self.tx.send(Msg::Stop).await;
        let thread = self.thread.lock().unwrap().take();
        if let Some(thread) = thread {
            let _ = tokio::task::spawn_blocking(move || thread.join()).await;
        }
    }
}

fn stopped() -> ApiError {
    ApiError::new(
        ErrorKind::Unavailable,
        "The server is shutting down; try again in a moment.",
    )
}

type Reply = oneshot::Sender<ApiResult<Written>>;

fn writer_loop(db: &redb::Database, mut rx: mpsc::Receiver<Msg>, listener: CommitListener) {
    // A purge left unfinished by the last run goes on.
    let mut purging = purge_pending(db);
    let mut stopping = false;
    while !stopping {
        // Purge chunks and groups of queued writes take turns, so neither waits for the other
        // longer than one transaction.
        let first = if purging {
            purging = purge_chunk(db, &listener);
            match rx.try_recv() {
                Ok(msg) => msg,
                Err(mpsc::error::TryRecvError::Empty) => continue,
                Err(mpsc::error::TryRecvError::Disconnected) => return,
            }
        } else {
            let Some(first) = rx.blocking_recv() else {
                return;
            };
            first
        };
        let mut group: Vec<(Write, Reply)> = Vec::new();
        let mut next = Some(first);
        while let Some(msg) = next.take() {
            match msg {
                Msg::Write(write, reply) => group.push((*write, reply)),
                Msg::Stop => stopping = true,
            }
            if group.len() < MAX_GROUP && !stopping {
                next = rx.try_recv().ok();
            }
        }
        if !group.is_empty() {
            purging |= commit_group(db, group, &listener);
        }
    }
}

/// Whether `purge` lists a thread or `board_purge` a board; on a storage error, false (the next deletion or start
/// tries again).
fn purge_pending(db: &redb::Database) -> bool {
    use redb::{ReadableDatabase, ReadableTableMetadata};
    (|| -> Result<bool, redb::Error> {
        let txn = db.begin_read()?;
        let purge = txn.open_table(super::PURGE)?;
        let boards = txn.open_table(super::BOARD_PURGE)?;
        Ok(!purge.is_empty()? || !boards.is_empty()?)
    })()
    .unwrap_or(false)
}

/// One purge transaction; returns whether more is left. A failure is reported and stops the
/// purge until the next deletion or start, rather than retrying in a tight loop.
fn purge_chunk(db: &redb::Database, listener: &CommitListener) -> bool {
    let mut changes = Vec::new();
    let result = (|| -> Result<bool, redb::Error> {
        let txn = db.begin_write()?;
        // A deleted board's threads are all unlisted before any of its posts go, so removing a
        // post never rewrites another post of that board.
        let more = match boards::purge_step(&txn, &mut changes)? {
            Some(more) => more,
            None => delete::purge_step(&txn, delete::PURGE_CHUNK, &mut changes)?,
        };
        txn.commit()?;
        Ok(more)
    })();
    match result {
        Ok(more) => {
            let live = before_answers(listener, changes);
            after_answers(listener, &live);
            more
        }
        Err(e) => {
            notify(
                Severity::Error,
                "purge_failed",
                format!("removing the posts of a deleted thread failed: {e}"),
            );
            false
        }
    }
}

/// Commits one group; returns whether it deleted a thread (the purge then has work).
fn commit_group(
    db: &redb::Database,
    group: Vec<(Write, Reply)>,
    listener: &CommitListener,
) -> bool {
    let now = unix_now();
    let mut changes = Vec::new();
    let result = (|| -> Result<Vec<ApiResult<Written>>, redb::Error> {
        let txn = db.begin_write()?;
        let mut outcomes = Vec::with_capacity(group.len());
        for (write, _) in &group {
            outcomes.push(apply(&txn, write, now, &mut changes)?);
        }
        txn.commit()?;
        Ok(outcomes)
    })();
    match result {
        Ok(outcomes) => {
            let deleted = changes.iter().any(|c| {
                matches!(
                    c,
                    Change::ThreadDeleted { .. } | Change::BoardDeleted { .. }
                )
            });
            let live = before_answers(listener, changes);
            for ((_, reply), outcome) in group.into_iter().zip(outcomes) {
                let _ = reply.send(outcome);
            }
            after_answers(listener, &live);
            deleted
        }
        Err(e) => {
            let error =
                ApiError::internal("storage_error", format!("write transaction failed: {e}"));
            for (_, reply) in group {
                let _ = reply.send(Err(error.clone()));
            }
            false
        }
    }
}

pub(crate) fn unix_now() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs())
        .unwrap_or(0)
}

/// Outer error: storage failed and the whole group is abandoned. Inner error: this write was
/// refused and changed nothing.
type Applied = Result<ApiResult<Written>, redb::Error>;

fn apply(txn: &WriteTransaction, write: &Write, now: u64, changes: &mut Vec<Change>) -> Applied {
    match write {
        Write::PutBoard(board) => put_board(txn, board, changes),
        Write::SeedBoards(wanted) => boards::seed(txn, wanted, now, changes),
        Write::CreateBoard { board, actor } => boards::create(txn, board, actor, now, changes),
        Write::UpdateBoard {
            board,
            patch,
            video,
            actor,
        } => boards::update(txn, board, patch, *video, actor, now, changes),
        Write::DeleteBoard { board, actor } => boards::delete(txn, board, actor, now, changes),
        Write::CreateThread { board, draft } => {
            posts::create_thread(txn, board, draft, now, changes)
        }
        Write::CreateReply {
            board,
            thread,
            draft,
        } => posts::create_reply(txn, board, *thread, draft, now, changes),
        Write::DeletePost {
            board,
            no,
            password,
            file_only,
        } => delete::delete_post(txn, board, *no, password, *file_only, now, changes),
        Write::PruneArchive => delete::prune_archive(txn, now, changes),
        Write::StaffDelete {
            board,
            no,
            scope,
            actor,
            reason,
            note,
        } => {
            let request = moderate::Request {
                board,
                no: *no,
                scope: *scope,
                actor,
                reason: reason.as_deref(),
                note: note.as_deref(),
            };
            moderate::delete(txn, &request, None, now, changes)
        }
        Write::Report { board, no, report } => reports::file(txn, board, *no, report, changes),
        Write::HandleReports {
            board,
            no,
            action,
            actor,
            reason,
            note,
        } => reports::handle(
            txn,
            board,
            *no,
            *action,
            actor,
            reason.as_deref(),
            note.as_deref(),
            now,
            changes,
        ),
        Write::EraseAddresses { retention_secs } => posters::erase(txn, *retention_secs, now),
        Write::SetMirror(on) => outbox::set_mirror(txn, *on, changes),
        Write::OutboxDone(ids) => outbox::done(txn, ids),
        Write::Account(write) => accounts::apply(txn, write),
        Write::Totp(write) => totp::apply(txn, write),
        Write::Reset(write) => recovery::apply(txn, write),
        Write::Token(write) => tokens::apply(txn, write),
        Write::ThreadAction {
            board,
            thread,
            action,
            acting,
        } => threads::apply(txn, board, *thread, action, acting, now, changes),
        Write::FileBan(write) => moderation::file_ban(txn, write, now, changes),
        Write::Filter(write) => moderation::filter(txn, write, now),
        Write::Ban(write) => bans::apply(txn, write, now, changes),
    }
}

/// [`apply`] for the storage measurement, which builds a large database without the writer.
#[cfg(test)]
pub(crate) fn apply_for_measure(txn: &WriteTransaction, write: &Write, changes: &mut Vec<Change>) {
    apply(txn, write, unix_now(), changes).unwrap().unwrap();
}

/// [`apply`] at a chosen time, for tests of what depends on the clock.
#[cfg(test)]
pub(crate) fn apply_at(txn: &WriteTransaction, write: &Write, now: u64) -> ApiResult<Written> {
    apply(txn, write, now, &mut Vec::new()).expect("storage works in tests")
}

/// Decoding a stored value can only fail on a corrupt database; treat it as a storage failure.
pub(super) fn stored<T: serde::de::DeserializeOwned>(bytes: &[u8]) -> Result<T, redb::Error> {
    decode(bytes).map_err(|e| redb::Error::Corrupted(e.message))
}

/// Appends a live event to the `events` table (dropping the oldest beyond what is kept) and
/// queues it for publishing after the commit.
pub(super) fn emit(
    txn: &WriteTransaction,
    event: crate::live::Event,
    changes: &mut Vec<Change>,
) -> Result<(), redb::Error> {
    let id = {
        let mut meta = txn.open_table(super::META)?;
        let id = meta.get("event_seq")?.map_or(0, |v| v.value()) + 1;
        meta.insert("event_seq", id)?;
        id
    };
    let mut events = txn.open_table(super::EVENTS)?;
    events.insert(id, encode(&super::StoredEvent::of(&event)).as_slice())?;
    if id > super::EVENTS_KEPT {
        events.remove(id - super::EVENTS_KEPT)?;
    }
    changes.push(Change::Live(crate::live::Published::new(id, &event)));
    Ok(())
}

/// A post's html, backlinks or files changed: invalidate and tell live subscribers (the post
/// as served, with its backlinks and its dead links).
fn post_changed(
    txn: &WriteTransaction,
    post: &crate::model::Post,
    changes: &mut Vec<Change>,
) -> Result<(), redb::Error> {
    changes.push(Change::PostEdited {
        board: post.board.clone(),
        thread: post.thread,
    });
    let served = served(txn, post)?;
    let event = crate::live::Event::Post {
        board: post.board.clone(),
        thread: post.thread,
        post: serde_json::to_value(&served).expect("posts serialize"),
    };
    emit(txn, event, changes)
}

/// `post` as readers are served it: with its backlinks, its links to posts deleted since drawn
/// dead.
pub(super) fn served(
    txn: &WriteTransaction,
    post: &crate::model::Post,
) -> Result<crate::model::Post, redb::Error> {
    let mut served = post.clone();
    super::links::WriteLinks::open(txn)?.serve(&mut served)?;
    Ok(served)
}

fn put_board(txn: &WriteTransaction, board: &Board, changes: &mut Vec<Change>) -> Applied {
    store_board(txn, board, changes)?;
    Ok(Ok(Written::Board))
}

/// Writes a board's row, and its counters when it has none yet (a board created again after a
/// deletion goes on numbering where it stopped).
pub(super) fn store_board(
    txn: &WriteTransaction,
    board: &Board,
    changes: &mut Vec<Change>,
) -> Result<(), redb::Error> {
    txn.open_table(BOARDS)?
        .insert(board.slug.as_str(), encode(board).as_slice())?;
    let mut counters = txn.open_table(BOARD_COUNTERS)?;
    if counters.get(board.slug.as_str())?.is_none() {
        counters.insert(board.slug.as_str(), (0, 0))?;
    }
    changes.push(Change::Board {
        board: board.slug.clone(),
    });
    Ok(())
}

fn load_board(txn: &WriteTransaction, slug: &str) -> Result<Option<Board>, redb::Error> {
    let boards = txn.open_table(BOARDS)?;
    let row = boards.get(slug)?;
    row.map(|v| stored(v.value())).transpose()
}

mod accounts;
mod bans;
#[cfg(test)]
mod bans_tests;
mod boards;
#[cfg(test)]
mod boards_tests;
mod delete;
mod moderate;
#[cfg(test)]
mod moderate_tests;
mod moderation;
mod modlog;
mod moving;
#[cfg(test)]
mod moving_tests;
mod outbox;
mod posters;
#[cfg(test)]
mod posters_tests;
mod posts;
#[cfg(test)]
mod purge_tests;
mod recovery;
mod reports;
#[cfg(test)]
mod tests;
mod threads;
#[cfg(test)]
mod threads_tests;
mod tokens;
mod totp;

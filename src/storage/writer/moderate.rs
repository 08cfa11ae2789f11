//! Staff deletions: a post (an OP: its thread), only its files, or every post of its poster in
//! its thread or on its board (by the stored cloak, so it works after the address is erased).
//! Each is logged in the staff log in its own transaction.

use redb::{ReadableTable, WriteTransaction};
use serde_json::json;

use super::delete::{delete_thread, remove_reply, strip_files, PURGE_CHUNK};
use super::modlog::{self, Note};
use super::posts::{load_live_post, load_post, tombstone};
use super::{load_board, stored, Applied, Change, Written};
use crate::error::{ApiError, ErrorKind};
use crate::model::{LogAction, Post, PosterRecord};
use crate::storage::{POSTERS, POSTER_CLOAKS, THREAD_POSTS};

/// Posts one "every post of this poster" call deletes at most; more are left for the next
/// call, which the answer announces with `more`.
pub const POSTER_BATCH: usize = 100;
/// Index rows a board-wide call reads at most while looking for them.
const POSTER_SCAN: usize = 4096;

/// What a staff deletion takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Scope {
    /// The post; an OP takes its thread.
    Post,
    /// The post's files; the post stays, marked `files_deleted`.
    Files,
    /// Every post of the post's poster in the post's thread.
    PosterThread,
    /// Every post of the post's poster on the board.
    PosterBoard,
}

impl Scope {
    pub const ALL: [Scope; 4] = [
        Scope::Post,
        Scope::Files,
        Scope::PosterThread,
        Scope::PosterBoard,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Scope::Post => "post",
            Scope::Files => "files",
            Scope::PosterThread => "poster_thread",
            Scope::PosterBoard => "poster_board",
        }
    }
}

/// A staff deletion as the writer applies it.
#[derive(Debug, Clone, Copy)]
pub struct Request<'a> {
    pub board: &'a str,
    pub no: u64,
    pub scope: Scope,
    pub actor: &'a str,
    /// Shown in the board's public log.
    pub reason: Option<&'a str>,
    /// For staff only.
    pub note: Option<&'a str>,
}

pub(super) fn no_files(slug: &str, no: u64) -> ApiError {
    let message = format!("Post {no} on /{slug}/ has no files to delete.");
    ApiError::new(ErrorKind::NoFiles, message)
}

/// Applies a staff deletion; `reports` is how many open reports it handles, when it comes
/// from the review queue (logged with it).
pub(super) fn delete(
    txn: &WriteTransaction,
    request: &Request,
    reports: Option<u64>,
    now: u64,
    changes: &mut Vec<Change>,
) -> Applied {
    let slug = request.board;
    let no = request.no;
    if load_board(txn, slug)?.is_none() {
        return Ok(Err(ApiError::board_not_found(slug)));
    }
    let Some(mut post) = load_live_post(txn, slug, no)? else {
        let deleted = tombstone(txn, slug, no)?.is_some() || load_post(txn, slug, no)?.is_some();
        return Ok(Err(if deleted {
            ApiError::post_deleted(slug, no)
        } else {
            ApiError::post_not_found(slug, no)
        }));
    };
    let (action, mut change, nos) = match request.scope {
        Scope::Post => {
            delete_one(txn, &post, &mut PURGE_CHUNK.clone(), changes)?;
            let change = json!({ "no": no, "thread": post.thread });
            (LogAction::PostDelete, change, vec![no])
        }
        Scope::Files => {
            if post.files.is_empty() {
                return Ok(Err(no_files(slug, no)));
            }
            let files = post.files.len();
            strip_files(txn, &mut post, changes)?;
            let change = json!({ "no": no, "thread": post.thread, "files": files });
            (LogAction::FilesDelete, change, vec![no])
        }
        Scope::PosterThread | Scope::PosterBoard => {
            let Some(record) = poster_of(txn, slug, no)? else {
                let message = format!(
                    "Nothing is stored about the poster of post {no} on /{slug}/ (it was \
                     written before posters were recorded)."
                );
                return Ok(Err(ApiError::new(ErrorKind::PosterUnknown, message)));
            };
            let thread = (request.scope == Scope::PosterThread).then_some(post.thread);
            let (nos, more) = delete_poster(txn, &post, &record.cloak, thread, changes)?;
            let change = json!({
                "no": no,
                "thread": post.thread,
                "cloak": record.cloak,
                "scope": request.scope.name(),
                "nos": nos,
                "more": more,
            });
            (LogAction::PosterDelete, change, nos)
        }
    };
    if let Some(reports) = reports {
        change["reports"] = json!(reports);
    }
    let entry = Note {
        reason: request.reason,
        note: request.note,
        ..Note::new(Some(request.actor), action, Some(slug), change.clone())
    };
    modlog::append(txn, entry, now)?;
    let more = change["more"].as_bool().unwrap_or(false);
    Ok(Ok(Written::StaffDeleted { nos, more }))
}

fn poster_of(
    txn: &WriteTransaction,
    slug: &str,
    no: u64,
) -> Result<Option<PosterRecord>, redb::Error> {
    let posters = txn.open_table(POSTERS)?;
    let row = posters.get((slug, no))?;
    row.map(|v| stored(v.value())).transpose()
}

/// Deletes one live post: a reply alone, an OP with its thread (up to `inline` of its posts
/// at once, the rest by the purge; `inline` is lowered by what it removed). Every staff
/// deletion of several posts shares one `inline` budget, so a transaction stays bounded.
pub(super) fn delete_one(
    txn: &WriteTransaction,
    post: &Post,
    inline: &mut usize,
    changes: &mut Vec<Change>,
) -> Result<(), redb::Error> {
    if post.no == post.thread {
        *inline -= delete_thread(txn, &post.board, post.no, *inline, changes)?;
    } else {
        remove_reply(txn, post, changes)?;
    }
    Ok(())
}

/// Deletes up to [`POSTER_BATCH`] live posts of the poster with `cloak` on the anchor's board
/// (in `thread` only, when given: found by walking the thread, whose length the board bounds),
/// in number order, and the anchor last: while posts are left
/// the anchor stays, so the next call can name it again. Returns the numbers deleted and
/// whether more are left.
fn delete_poster(
    txn: &WriteTransaction,
    anchor: &Post,
    cloak: &str,
    thread: Option<u64>,
    changes: &mut Vec<Change>,
) -> Result<(Vec<u64>, bool), redb::Error> {
    let slug = anchor.board.as_str();
    let (candidates, mut done) = match thread {
        Some(thread) => (in_thread(txn, slug, thread, cloak, anchor.no)?, true),
        None => on_board(txn, slug, cloak, anchor.no)?,
    };
    let mut deleted = Vec::new();
    let mut inline = PURGE_CHUNK;
    for no in candidates {
        if deleted.len() == POSTER_BATCH {
            done = false;
            break;
        }
        // A reply of a thread deleted a moment ago in this loop is gone with it.
        let Some(post) = load_live_post(txn, slug, no)? else {
            continue;
        };
        delete_one(txn, &post, &mut inline, changes)?;
        deleted.push(no);
    }
    if done && load_live_post(txn, slug, anchor.no)?.is_some() {
        delete_one(txn, anchor, &mut inline, changes)?;
        deleted.push(anchor.no);
        deleted.sort_unstable();
    }
    Ok((deleted, !done))
}

/// The posts of `thread` whose poster has `cloak`, but `anchor`: a walk of the thread, bounded
/// by the board's `max_replies`.
fn in_thread(
    txn: &WriteTransaction,
    slug: &str,
    thread: u64,
    cloak: &str,
    anchor: u64,
) -> Result<Vec<u64>, redb::Error> {
    let index = txn.open_table(THREAD_POSTS)?;
    let posters = txn.open_table(POSTERS)?;
    let mut out = Vec::new();
    for row in index.range((slug, thread, 0)..=(slug, thread, u64::MAX))? {
        let no = row?.0.value().2;
        if no == anchor {
            continue;
        }
        if let Some(record) = posters.get((slug, no))? {
            if stored::<PosterRecord>(record.value())?.cloak == cloak {
                out.push(no);
            }
        }
    }
    Ok(out)
}

/// Up to [`POSTER_SCAN`] posts on the board whose poster has `cloak`, but `anchor`, in number
/// order, and whether that was all of them.
fn on_board(
    txn: &WriteTransaction,
    slug: &str,
    cloak: &str,
    anchor: u64,
) -> Result<(Vec<u64>, bool), redb::Error> {
    let index = txn.open_table(POSTER_CLOAKS)?;
    let mut out = Vec::new();
    for row in index.range((slug, cloak, 0)..=(slug, cloak, u64::MAX))? {
        if out.len() == POSTER_SCAN {
            return Ok((out, false));
        }
        let no = row?.0.value().2;
        if no != anchor {
            out.push(no);
        }
    }
    Ok((out, true))
}

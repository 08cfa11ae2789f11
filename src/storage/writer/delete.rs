//! Deleting: a poster's own post or its files, whole threads (an OP's deletion, a board that
//! keeps no archive, archive retention), leaving tombstones so numbers stay taken and links
//! turn dead.
//!
//! A thread is deleted in two steps. One transaction takes it out of every list, leaves the
//! OP's tombstone and queues it in `purge`; from that commit on it reads as deleted. The writer
//! then removes its posts [`PURGE_CHUNK`] at a time, newest first and the OP last, each chunk
//! its own transaction taken between other writes, so a thread of any size never holds the
//! writer for long, and a restart picks up where the purge stopped.

use std::collections::BTreeSet;

use redb::{ReadableTable, ReadableTableMetadata, WriteTransaction};

use super::posts::{
    load_live_post, load_post, load_thread, put_post, put_thread, thread_exists, thread_of,
    tombstone,
};
use super::{load_board, outbox, stored, Applied, Change, Written};
use crate::error::{ApiError, ErrorKind};
use crate::live::Event;
use crate::model::{BoardPost, OutboxOp, Post, PostFile, StoredFile};
use crate::storage::{
    encode, ARCHIVE, BACKLINKS, BOARDS, BOARD_COUNTERS, BUMP_ORDER, FILES, FILE_POSTS, PASSWORDS,
    POSTS, PURGE, QUOTES, THREADS, THREAD_POSTS, TOMBSTONES,
};

/// Posts removed per purge transaction: a few milliseconds of work, so writes queued behind a
/// purge wait little.
pub(super) const PURGE_CHUNK: usize = 32;

/// Compares two keyed hashes in time independent of where they differ.
fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

pub(super) fn delete_post(
    txn: &WriteTransaction,
    slug: &str,
    no: u64,
    password: &[u8; 32],
    file_only: bool,
    now: u64,
    changes: &mut Vec<Change>,
) -> Applied {
    let Some(board) = load_board(txn, slug)? else {
        return Ok(Err(ApiError::board_not_found(slug)));
    };
    let Some(mut post) = load_post(txn, slug, no)? else {
        if tombstone(txn, slug, no)?.is_some() {
            return Ok(Err(ApiError::post_deleted(slug, no)));
        }
        return Ok(Err(ApiError::post_not_found(slug, no)));
    };
    if !thread_exists(txn, slug, post.thread)? {
        // Its thread is deleted and being purged.
        return Ok(Err(ApiError::post_deleted(slug, no)));
    }
    // The window first: once it is closed the answer is the same whatever the password, so
    // guessing at old posts learns nothing.
    let window = board.delete_window_secs;
    if window == 0 || now > post.created_at.saturating_add(window) {
        let message = if window == 0 {
            format!("Posters cannot delete their posts on /{slug}/.")
        } else {
            format!("Posts on /{slug}/ can be deleted only within {window} seconds of posting.")
        };
        return Ok(Err(ApiError::new(ErrorKind::DeleteWindowClosed, message)));
    }
    let matches = {
        let passwords = txn.open_table(PASSWORDS)?;
        let row = passwords.get((slug, no))?;
        row.is_some_and(|stored| same(stored.value(), password))
    };
    if !matches {
        let message = format!("The password does not match post {no} on /{slug}/.");
        return Ok(Err(ApiError::new(ErrorKind::WrongPassword, message)));
    }

    if file_only {
        if post.files.is_empty() {
            let message = format!("Post {no} on /{slug}/ has no files to delete.");
            return Ok(Err(ApiError::new(ErrorKind::NoFiles, message)));
        }
        strip_files(txn, &mut post, changes)?;
    } else if post.no == post.thread {
        delete_thread(txn, slug, no, PURGE_CHUNK, changes)?;
    } else {
        remove_reply(txn, &post, changes)?;
    }
    Ok(Ok(Written::Deleted))
}

/// Deletes a live post's files and keeps the post, marked `files_deleted`; the caller checked
/// that it has files.
pub(super) fn strip_files(
    txn: &WriteTransaction,
    post: &mut Post,
    changes: &mut Vec<Change>,
) -> Result<(), redb::Error> {
    let files = std::mem::take(&mut post.files);
    release_files(txn, &post.board, post.no, &files, changes)?;
    post.files_deleted = true;
    put_post(txn, post)?;
    if post.no != post.thread {
        if let Some(mut meta) = load_thread(txn, &post.board, post.thread)? {
            meta.images = meta.images.saturating_sub(files.len() as u32);
            put_thread(txn, &post.board, &meta)?;
        }
    }
    super::post_changed(txn, post, changes)
}

/// Deletes a live reply and counts it out of its thread.
pub(super) fn remove_reply(
    txn: &WriteTransaction,
    post: &Post,
    changes: &mut Vec<Change>,
) -> Result<(), redb::Error> {
    remove_post(txn, post, changes)?;
    if let Some(mut meta) = load_thread(txn, &post.board, post.thread)? {
        meta.replies = meta.replies.saturating_sub(1);
        meta.images = meta.images.saturating_sub(post.files.len() as u32);
        put_thread(txn, &post.board, &meta)?;
    }
    Ok(())
}

/// Deletes a thread, wherever it is (live or archived): takes it out of every list, queues its
/// posts for the purge and removes up to `inline` of them at once, so a thread that small is
/// gone (files, links and all) when the transaction commits. Its cost is bounded by `inline`,
/// whatever the thread's size. Returns how many posts it removed.
pub(super) fn delete_thread(
    txn: &WriteTransaction,
    slug: &str,
    thread: u64,
    inline: usize,
    changes: &mut Vec<Change>,
) -> Result<usize, redb::Error> {
    let Some(meta) = load_thread(txn, slug, thread)? else {
        return Ok(0);
    };
    txn.open_table(THREADS)?.remove((slug, thread))?;
    match meta.archived_at {
        Some(archived_at) if meta.archived => {
            txn.open_table(ARCHIVE)?
                .remove((slug, archived_at, thread))?;
        }
        _ => {
            txn.open_table(BUMP_ORDER)?.remove((slug, meta.bump_key))?;
            let (last_no, live) = {
                let counters = txn.open_table(BOARD_COUNTERS)?;
                let row = counters.get(slug)?;
                row.map(|v| v.value()).unwrap_or((0, 0))
            };
            txn.open_table(BOARD_COUNTERS)?
                .insert(slug, (last_no, live.saturating_sub(1)))?;
        }
    }
    // The OP's tombstone now, so the thread answers `thread_deleted` before the purge is done;
    // its reports leave the queue now too (its replies' go as the purge reaches them).
    txn.open_table(TOMBSTONES)?.insert((slug, thread), thread)?;
    super::reports::clear(txn, slug, thread, changes)?;
    txn.open_table(PURGE)?.insert((slug, thread), ())?;
    changes.push(Change::ThreadDeleted {
        board: slug.to_owned(),
        thread,
    });
    if inline == 0 {
        return Ok(0);
    }
    purge_thread(txn, slug, thread, inline, changes)
}

/// Removes up to `budget` posts of the first thread queued in `purge`, newest first, and
/// unqueues the thread once its last post (the OP) is gone. Returns whether work is left.
pub(super) fn purge_step(
    txn: &WriteTransaction,
    budget: usize,
    changes: &mut Vec<Change>,
) -> Result<bool, redb::Error> {
    let first = {
        let purge = txn.open_table(PURGE)?;
        let first = purge.first()?;
        first.map(|(key, _)| {
            let (slug, thread) = key.value();
            (slug.to_owned(), thread)
        })
    };
    let Some((slug, thread)) = first else {
        return Ok(false);
    };
    purge_thread(txn, &slug, thread, budget, changes)?;
    Ok(!txn.open_table(PURGE)?.is_empty()?)
}

/// Removes up to `budget` posts of a thread queued in `purge`, newest first; unqueues it once
/// the last (the OP) is gone. Returns how many it removed.
pub(super) fn purge_thread(
    txn: &WriteTransaction,
    slug: &str,
    thread: u64,
    budget: usize,
    changes: &mut Vec<Change>,
) -> Result<usize, redb::Error> {
    let numbers: Vec<u64> = {
        let index = txn.open_table(THREAD_POSTS)?;
        let range = index.range((slug, thread, 0)..=(slug, thread, u64::MAX))?;
        range
            .rev()
            .take(budget)
            .map(|row| row.map(|(key, _)| key.value().2))
            .collect::<Result<_, _>>()?
    };
    for &no in &numbers {
        if let Some(post) = load_post(txn, slug, no)? {
            remove_post(txn, &post, changes)?;
        }
    }
    if numbers.len() < budget {
        txn.open_table(PURGE)?.remove((slug, thread))?;
    }
    Ok(numbers.len())
}

/// Removes one post, leaves its tombstone, lets go of its files and of its own links, and sends
/// again what it linked to (one backlink fewer). The posts quoting it are neither rewritten nor
/// sent: served, their links to it are drawn dead ([`crate::storage::links`]); only the cached
/// documents of their threads are dropped, and each of their threads other than its own (whose
/// subscribers get its `delete` event) gets one `unlinked` event. Its cost is its own quotes
/// (at most its board's `max_quotes`) and one range read of the posts quoting it, with a point
/// lookup each: nothing is written for them.
pub(super) fn remove_post(
    txn: &WriteTransaction,
    post: &Post,
    changes: &mut Vec<Change>,
) -> Result<(), redb::Error> {
    let slug = post.board.as_str();
    // A deleted board's posts leave nothing behind, and its one `board` event told the clients.
    let board_gone = load_board(txn, slug)?.is_none();
    txn.open_table(POSTS)?.remove((slug, post.no))?;
    txn.open_table(THREAD_POSTS)?
        .remove((slug, post.thread, post.no))?;
    txn.open_table(PASSWORDS)?.remove((slug, post.no))?;
    super::posters::forget(txn, slug, post.no)?;
    super::reports::clear(txn, slug, post.no, changes)?;
    if !board_gone {
        txn.open_table(TOMBSTONES)?
            .insert((slug, post.no), post.thread)?;
    }
    release_files(txn, slug, post.no, &post.files, changes)?;
    changes.push(Change::PostDeleted {
        board: slug.to_owned(),
        thread: post.thread,
    });
    if !board_gone {
        let deleted = Event::Delete {
            board: slug.to_owned(),
            thread: post.thread,
            no: post.no,
        };
        super::emit(txn, deleted, changes)?;
    }

    // Its own quotes go with their mirror rows. The rows of the posts quoting it stay: they
    // are what draws those posts' links to it dead, and they go when those posts go.
    let quoted = links(txn, QUOTES, slug, post.no)?;
    {
        let mut quotes = txn.open_table(QUOTES)?;
        let mut backlinks = txn.open_table(BACKLINKS)?;
        for (board, no) in &quoted {
            quotes.remove((slug, post.no, board.as_str(), *no))?;
            backlinks.remove((board.as_str(), *no, slug, post.no))?;
        }
    }
    let target = BoardPost {
        board: slug.to_owned(),
        no: post.no,
    };
    for (board, thread) in quoting_threads(txn, post)? {
        changes.push(Change::PostEdited {
            board: board.clone(),
            thread,
        });
        let unlinked = Event::Unlinked {
            board,
            thread,
            target: target.clone(),
        };
        super::emit(txn, unlinked, changes)?;
    }
    for (board, no) in quoted {
        if let Some(other) = load_live_post(txn, &board, no)? {
            super::post_changed(txn, &other, changes)?;
        }
    }
    Ok(())
}

/// The live threads, other than its own, holding posts that quote `post`, each once: whose
/// cached documents and subscribers must learn that their links to it died. One range read of
/// its `backlinks` rows; a quoting post of its own thread costs one key lookup, any other one
/// the first bytes of its row and its thread's.
fn quoting_threads(
    txn: &WriteTransaction,
    post: &Post,
) -> Result<BTreeSet<(String, u64)>, redb::Error> {
    let slug = post.board.as_str();
    let backlinks = txn.open_table(BACKLINKS)?;
    let thread_posts = txn.open_table(THREAD_POSTS)?;
    let posts = txn.open_table(POSTS)?;
    let threads = txn.open_table(THREADS)?;
    let mut out = BTreeSet::new();
    for row in backlinks.range((slug, post.no, "", 0)..)? {
        let (key, _) = row?;
        let (target_board, target, board, no) = key.value();
        if target_board != slug || target != post.no {
            break;
        }
        if board == slug && thread_posts.get((slug, post.thread, no))?.is_some() {
            continue;
        }
        let Some(row) = posts.get((board, no))? else {
            continue;
        };
        let thread = thread_of(row.value())?;
        if !out.contains(&(board.to_owned(), thread)) && threads.get((board, thread))?.is_some() {
            out.insert((board.to_owned(), thread));
        }
    }
    Ok(out)
}

/// The `(board, no)` a `quotes` or `backlinks` row set lists for `(slug, no)`.
pub(super) fn links(
    txn: &WriteTransaction,
    table: redb::TableDefinition<'static, (&'static str, u64, &'static str, u64), ()>,
    slug: &str,
    no: u64,
) -> Result<Vec<(String, u64)>, redb::Error> {
    let table = txn.open_table(table)?;
    let mut out = Vec::new();
    for row in table.range((slug, no, "", 0)..)? {
        let (key, _) = row?;
        let (board, n, other_board, other) = key.value();
        if board != slug || n != no {
            break;
        }
        out.push((other_board.to_owned(), other));
    }
    Ok(out)
}

/// Counts one reference fewer to each file; a file no post carries leaves the table, and the
/// commit listener removes it from disk after the commit.
fn release_files(
    txn: &WriteTransaction,
    slug: &str,
    no: u64,
    files: &[PostFile],
    changes: &mut Vec<Change>,
) -> Result<(), redb::Error> {
    for file in files {
        txn.open_table(FILE_POSTS)?
            .remove((file.sha256.as_str(), slug, no))?;
        let mut table = txn.open_table(FILES)?;
        let row = table.get(file.sha256.as_str())?;
        let Some(mut entry) = row.map(|v| stored::<StoredFile>(v.value())).transpose()? else {
            continue;
        };
        entry.refs = entry.refs.saturating_sub(1);
        if entry.refs > 0 {
            table.insert(file.sha256.as_str(), encode(&entry).as_slice())?;
            continue;
        }
        table.remove(file.sha256.as_str())?;
        drop(table);
        crate::storage::stats::count_file(txn, entry.size, false)?;
        outbox::queue(txn, OutboxOp::Trash, &entry, changes)?;
        changes.push(Change::FileUnreferenced {
            sha256: entry.sha256,
            ext: entry.ext,
            thumb_ext: entry.thumb_ext,
        });
    }
    Ok(())
}

/// Deletes the archived threads of every board that have been archived longer than the
/// board's `archive_days`.
pub(super) fn prune_archive(
    txn: &WriteTransaction,
    now: u64,
    changes: &mut Vec<Change>,
) -> Applied {
    let boards: Vec<crate::model::Board> = {
        let table = txn.open_table(BOARDS)?;
        let mut boards = Vec::new();
        for row in table.iter()? {
            boards.push(stored(row?.1.value())?);
        }
        boards
    };
    crate::storage::stats::prune(txn, now)?;
    let mut pruned = 0;
    let mut inline = PURGE_CHUNK;
    for board in boards {
        let slug = board.slug.as_str();
        let cutoff = now.saturating_sub(u64::from(board.archive_days) * 86_400);
        let expired: Vec<u64> = {
            let archive = txn.open_table(ARCHIVE)?;
            let range = archive.range((slug, 0, 0)..=(slug, cutoff, u64::MAX))?;
            range
                .map(|row| row.map(|(key, _)| key.value().2))
                .collect::<Result<_, _>>()?
        };
        for thread in expired {
            // Up to one chunk's worth of posts goes at once; the rest waits for the purge.
            inline -= delete_thread(txn, slug, thread, inline, changes)?;
            pruned += 1;
        }
    }
    Ok(Ok(Written::Pruned { threads: pruned }))
}

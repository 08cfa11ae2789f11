//! Deleting: a poster's own post or its files, whole threads (an OP's deletion, a board that
//! keeps no archive, archive retention), leaving tombstones so numbers stay taken and links
//! turn dead.

use redb::{ReadableTable, WriteTransaction};

use super::posts::{load_post, load_thread, put_post, put_thread, tombstone, TxnResolver};
use super::{load_board, outbox, stored, Applied, Change, Written};
use crate::error::{ApiError, ErrorKind};
use crate::live::Event;
use crate::markup;
use crate::model::{OutboxOp, Post, PostFile, StoredFile};
use crate::storage::{
    encode, ARCHIVE, BOARDS, BOARD_COUNTERS, BUMP_ORDER, FILES, PASSWORDS, POSTS, THREADS,
    THREAD_POSTS, TOMBSTONES,
};

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
        let files = std::mem::take(&mut post.files);
        release_files(txn, &files, changes)?;
        post.files_deleted = true;
        put_post(txn, &post)?;
        if post.no != post.thread {
            if let Some(mut meta) = load_thread(txn, slug, post.thread)? {
                meta.images = meta.images.saturating_sub(files.len() as u32);
                put_thread(txn, slug, &meta)?;
            }
        }
        super::post_changed(txn, &post, changes)?;
    } else if post.no == post.thread {
        delete_thread(txn, slug, no, changes)?;
    } else {
        remove_post(txn, &post, changes)?;
        if let Some(mut meta) = load_thread(txn, slug, post.thread)? {
            meta.replies = meta.replies.saturating_sub(1);
            meta.images = meta.images.saturating_sub(post.files.len() as u32);
            put_thread(txn, slug, &meta)?;
        }
    }
    Ok(Ok(Written::Deleted))
}

/// Deletes a thread and every post in it, wherever it is (live or archived).
pub(super) fn delete_thread(
    txn: &WriteTransaction,
    slug: &str,
    thread: u64,
    changes: &mut Vec<Change>,
) -> Result<(), redb::Error> {
    let Some(meta) = load_thread(txn, slug, thread)? else {
        return Ok(());
    };
    let numbers: Vec<u64> = {
        let index = txn.open_table(THREAD_POSTS)?;
        let range = index.range((slug, thread, 0)..=(slug, thread, u64::MAX))?;
        range
            .map(|row| row.map(|(key, _)| key.value().2))
            .collect::<Result<_, _>>()?
    };
    // Replies first, so re-rendering links to the OP sees it still there only while needed.
    for no in numbers.into_iter().rev() {
        if let Some(post) = load_post(txn, slug, no)? {
            remove_post(txn, &post, changes)?;
        }
    }
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
    changes.push(Change::ThreadDeleted {
        board: slug.to_owned(),
        thread,
    });
    Ok(())
}

/// Removes one post, leaves its tombstone, lets go of its files, and re-renders what linked to
/// it (those links are dead now) and what it linked to (one backlink fewer).
fn remove_post(
    txn: &WriteTransaction,
    post: &Post,
    changes: &mut Vec<Change>,
) -> Result<(), redb::Error> {
    let slug = post.board.as_str();
    txn.open_table(POSTS)?.remove((slug, post.no))?;
    txn.open_table(THREAD_POSTS)?
        .remove((slug, post.thread, post.no))?;
    txn.open_table(PASSWORDS)?.remove((slug, post.no))?;
    txn.open_table(TOMBSTONES)?
        .insert((slug, post.no), post.thread)?;
    release_files(txn, &post.files, changes)?;
    changes.push(Change::PostDeleted {
        board: slug.to_owned(),
        thread: post.thread,
    });
    let deleted = Event::Delete {
        board: slug.to_owned(),
        thread: post.thread,
        no: post.no,
    };
    super::emit(txn, deleted, changes)?;

    for &linking in &post.backlinks {
        if let Some(mut other) = load_post(txn, slug, linking)? {
            other.html = markup::render(&other.body, slug, &TxnResolver { txn }).html;
            put_post(txn, &other)?;
            super::post_changed(txn, &other, changes)?;
        }
    }
    let quoted = markup::render(&post.body, slug, &TxnResolver { txn }).quotes;
    for (board, no) in quoted {
        if board != slug {
            continue;
        }
        if let Some(mut other) = load_post(txn, slug, no)? {
            if other.backlinks.contains(&post.no) {
                other.backlinks.retain(|&n| n != post.no);
                put_post(txn, &other)?;
                super::post_changed(txn, &other, changes)?;
            }
        }
    }
    Ok(())
}

/// Counts one reference fewer to each file; a file no post carries leaves the table, and the
/// commit listener removes it from disk after the commit.
fn release_files(
    txn: &WriteTransaction,
    files: &[PostFile],
    changes: &mut Vec<Change>,
) -> Result<(), redb::Error> {
    for file in files {
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
    let mut pruned = 0;
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
            delete_thread(txn, slug, thread, changes)?;
            pruned += 1;
        }
    }
    Ok(Ok(Written::Pruned { threads: pruned }))
}

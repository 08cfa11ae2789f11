//! Moving a thread to another board: new numbers there, its links rewritten, the links into it
//! from elsewhere pointed at the new place, and a `moved` row for every old number.
//!
//! Staff tools follow: each post's poster record (its cloak made again for the new board while
//! the address is kept) and its open reports move under the new number.
//!
//! One transaction does it all, so readers see the thread on one board or the other, never
//! both or neither. Its cost is the thread's posts (at most the board's `max_replies` and the
//! OP), each with its own links (at most `max_quotes`), the posts quoting it, and its stored
//! reports (at most [`crate::storage::REPORTS_KEPT`]).

use std::collections::HashMap;

use redb::{ReadableTable, WriteTransaction};
use serde_json::json;

use super::delete::links;
use super::modlog::{self, Note};
use super::posts::{
    counters, load_live_post, load_post, push_out_overflow, put_post, put_thread, TxnResolver,
};
use super::threads::{Acting, ThreadState};
use super::{load_board, Applied, Change, Written};
use crate::error::{ApiError, ErrorKind};
use crate::live::{Event, MovedTo};
use crate::markup::{self, Resolve};
use crate::model::{Board, LogAction, Post, ThreadMeta};
use crate::poster::Keys;
use crate::storage::links::mirrored;
use crate::storage::{
    BACKLINKS, BOARD_COUNTERS, BUMP_ORDER, MOD_LOG_BOARDS, MOVED, PASSWORDS, POSTS, QUOTES,
    THREADS, THREAD_POSTS,
};

/// The text a link in a moved post becomes: `>>new` for a post of the thread, `>>>/old/N` for
/// another post of the board it left (a bare `>>N` would now mean the new board); `None`
/// (kept as typed) for links to other boards.
pub(super) fn relink(from: &str, map: &HashMap<u64, u64>, board: &str, no: u64) -> Option<String> {
    if board != from {
        return None;
    }
    Some(match map.get(&no) {
        Some(new) => format!(">>{new}"),
        None => format!(">>>/{from}/{no}"),
    })
}

pub(super) fn move_thread(
    txn: &WriteTransaction,
    from: &Board,
    meta: ThreadMeta,
    (to, keys): (&str, &Keys),
    acting: &Acting,
    now: u64,
    changes: &mut Vec<Change>,
) -> Applied {
    let slug = from.slug.as_str();
    let thread = meta.no;
    if to == slug {
        let message = format!("Thread {thread} is already on /{slug}/; name another board.");
        return Ok(Err(
            ApiError::new(ErrorKind::InvalidValue, message).with_field("board")
        ));
    }
    let Some(dest) = load_board(txn, to)? else {
        return Ok(Err(ApiError::board_not_found(to).with_field("board")));
    };
    let numbers: Vec<u64> = {
        let index = txn.open_table(THREAD_POSTS)?;
        let range = index.range((slug, thread, 0)..=(slug, thread, u64::MAX))?;
        range
            .map(|row| row.map(|(key, _)| key.value().2))
            .collect::<Result<_, _>>()?
    };
    let (last_no, dest_live) = counters(txn, to)?;
    let map: HashMap<u64, u64> = numbers
        .iter()
        .enumerate()
        .map(|(i, &old)| (old, last_no + 1 + i as u64))
        .collect();
    let new_thread = map[&thread];
    let new_last = last_no + numbers.len() as u64;

    // The posts under their new numbers, their old rows and links gone.
    let mut moved = Vec::with_capacity(numbers.len());
    let mut quoting_from_outside: Vec<(String, u64)> = Vec::new();
    let mut quoted_outside: Vec<(String, u64)> = Vec::new();
    for &old in &numbers {
        let Some(post) = load_post(txn, slug, old)? else {
            continue;
        };
        let new = map[&old];
        let quoted = links(txn, QUOTES, slug, old)?;
        let quoting = links(txn, BACKLINKS, slug, old)?;
        {
            let mut quotes = txn.open_table(QUOTES)?;
            let mut backlinks = txn.open_table(BACKLINKS)?;
            for (board, no) in &quoted {
                quotes.remove((slug, old, board.as_str(), *no))?;
                backlinks.remove((board.as_str(), *no, slug, old))?;
            }
            for (board, no) in &quoting {
                backlinks.remove((slug, old, board.as_str(), *no))?;
                quotes.remove((board.as_str(), *no, slug, old))?;
            }
        }
        let inside = |board: &str, no: u64| board == slug && map.contains_key(&no);
        for link in quoting {
            if !inside(&link.0, link.1) && !quoting_from_outside.contains(&link) {
                quoting_from_outside.push(link);
            }
        }
        for link in quoted {
            if !inside(&link.0, link.1) && !quoted_outside.contains(&link) {
                quoted_outside.push(link);
            }
        }
        let body =
            markup::rewrite_quotes(&post.body, slug, |board, no| relink(slug, &map, board, no));
        let post = Post {
            no: new,
            thread: new_thread,
            board: to.to_owned(),
            body,
            ..post
        };
        txn.open_table(POSTS)?.remove((slug, old))?;
        txn.open_table(THREAD_POSTS)?.remove((slug, thread, old))?;
        // Rendered below, once every post of the thread is there to be linked.
        put_post(txn, &post)?;
        txn.open_table(THREAD_POSTS)?
            .insert((to, new_thread, new), ())?;
        let password = txn
            .open_table(PASSWORDS)?
            .remove((slug, old))?
            .map(|v| v.value().to_vec());
        if let Some(password) = password {
            txn.open_table(PASSWORDS)?
                .insert((to, new), password.as_slice())?;
        }
        txn.open_table(MOVED)?
            .insert((slug, old), (to, new, new_thread))?;
        super::posters::relocate(txn, keys, (slug, old), (to, new))?;
        super::reports::relocate(txn, keys, (slug, old), (to, new))?;
        moved.push(post);
    }
    // Open reports moved with their posts: both boards' report counts may have changed.
    for board in [slug, to] {
        changes.push(Change::ReportCounts {
            board: board.to_owned(),
        });
    }

    // The thread leaves one board's lists and tops the other's.
    txn.open_table(THREADS)?.remove((slug, thread))?;
    txn.open_table(BUMP_ORDER)?.remove((slug, meta.bump_key))?;
    let (src_last, src_live) = counters(txn, slug)?;
    txn.open_table(BOARD_COUNTERS)?
        .insert(slug, (src_last, src_live.saturating_sub(1)))?;
    let new_meta = ThreadMeta {
        no: new_thread,
        bump_key: new_last,
        ..meta.clone()
    };
    put_thread(txn, to, &new_meta)?;
    txn.open_table(BUMP_ORDER)?
        .insert((to, new_last), new_thread)?;
    txn.open_table(BOARD_COUNTERS)?
        .insert(to, (new_last, dest_live + 1))?;

    for post in &mut moved {
        let resolver = TxnResolver::new(txn);
        let rendered = resolver.render(&post.body, to);
        post.html = rendered.html;
        put_post(txn, post)?;
        for (board, no) in rendered.quotes {
            if board == to && no >= post.no {
                continue;
            }
            let Some(quoted_thread) = resolver.post_thread(&board, no) else {
                continue;
            };
            txn.open_table(QUOTES)?
                .insert((to, post.no, board.as_str(), no), ())?;
            if mirrored(to, new_thread, &board, quoted_thread, no) {
                txn.open_table(BACKLINKS)?
                    .insert((board.as_str(), no, to, post.no), ())?;
            }
        }
    }
    // Posts elsewhere that quoted the thread: their links now lead to the new numbers.
    let is_moved = |board: &str, no: u64| board == to && no > last_no && no <= new_last;
    for (board, no) in quoting_from_outside {
        let Some(mut other) = load_live_post(txn, &board, no)? else {
            continue;
        };
        let rendered = markup::render(&other.body, &board, &TxnResolver::new(txn));
        other.html = rendered.html;
        put_post(txn, &other)?;
        for (target_board, target) in rendered.quotes {
            if is_moved(&target_board, target) {
                txn.open_table(QUOTES)?
                    .insert((board.as_str(), no, target_board.as_str(), target), ())?;
                txn.open_table(BACKLINKS)?
                    .insert((target_board.as_str(), target, board.as_str(), no), ())?;
            }
        }
        super::post_changed(txn, &other, changes)?;
    }
    // Posts the thread quoted elsewhere: their backlinks name the new numbers.
    for (board, no) in quoted_outside {
        if let Some(other) = load_live_post(txn, &board, no)? {
            super::post_changed(txn, &other, changes)?;
        }
    }

    changes.push(Change::PostDeleted {
        board: slug.to_owned(),
        thread,
    });
    changes.push(Change::ThreadCreated {
        board: to.to_owned(),
        thread: new_thread,
    });
    let left = Event::Update {
        board: slug.to_owned(),
        thread,
        sticky: meta.sticky,
        locked: meta.locked,
        archived: meta.archived,
        cyclical: meta.cyclical,
        moved_to: Some(MovedTo {
            board: to.to_owned(),
            thread: new_thread,
        }),
    };
    super::emit(txn, left, changes)?;
    if let Some(op) = moved.iter().find(|p| p.no == new_thread) {
        let served = super::served(txn, op)?;
        let arrived = Event::Thread {
            board: to.to_owned(),
            thread: new_thread,
            post: serde_json::to_value(&served).expect("posts serialize"),
        };
        super::emit(txn, arrived, changes)?;
    }
    let change = json!({
        "thread": thread,
        "to": { "board": to, "thread": new_thread },
        "posts": moved.len(),
    });
    let note = Note {
        reason: acting.reason.as_deref(),
        note: acting.note.as_deref(),
        ..Note::new(
            Some(&acting.actor),
            LogAction::ThreadMove,
            Some(slug),
            change,
        )
    };
    let id = modlog::append(txn, note, now)?;
    // The board it arrived on lists the entry too: both boards' staff see where it came from.
    txn.open_table(MOD_LOG_BOARDS)?.insert((to, id), ())?;
    push_out_overflow(txn, &dest, new_thread, now, changes)?;
    Ok(Ok(Written::Thread(Box::new(ThreadState {
        board: to.to_owned(),
        meta: new_meta,
        moved_from: Some((slug.to_owned(), thread)),
    }))))
}

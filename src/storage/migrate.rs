//! The rungs of the schema ladder: each takes a database one version up, in the open transaction.

use redb::{ReadableTable, WriteTransaction};

use super::writer::thread_of;
use super::{encode, StoredEvent, BACKLINKS, BOARDS, EVENTS, POSTS, QUOTES, SEEDED};
use crate::model::Post;

/// Rows read per pass, so a large table is rewritten without holding it in memory.
const BATCH: usize = 1024;

/// Version 2: backlinks leave the post rows for the `quotes` and `backlinks` tables, and the
/// event log keeps references to posts instead of copies.
pub(super) fn v1_to_v2(txn: &WriteTransaction) -> Result<(), redb::Error> {
    let mut after: Option<(String, u64)> = None;
    loop {
        let batch: Vec<Post> = {
            let posts = txn.open_table(POSTS)?;
            let range = match &after {
                Some((board, no)) => posts.range((board.as_str(), *no)..)?,
                None => posts.iter()?,
            };
            let mut batch = Vec::new();
            for row in range {
                let (key, value) = row?;
                let (board, no) = key.value();
                if after.as_ref().is_some_and(|(b, n)| b == board && *n == no) {
                    continue;
                }
                batch.push(super::writer::stored::<Post>(value.value())?);
                if batch.len() == BATCH {
                    break;
                }
            }
            batch
        };
        let Some(last) = batch.last() else { break };
        after = Some((last.board.clone(), last.no));
        let mut posts = txn.open_table(POSTS)?;
        let mut quotes = txn.open_table(QUOTES)?;
        let mut backlinks = txn.open_table(BACKLINKS)?;
        for mut post in batch {
            if post.backlinks.is_empty() {
                continue;
            }
            let board = post.board.as_str();
            for &from in &post.backlinks {
                backlinks.insert((board, post.no, board, from), ())?;
                quotes.insert((board, from, board, post.no), ())?;
            }
            post.backlinks.clear();
            posts.insert((board, post.no), encode(&post).as_slice())?;
        }
    }

    let mut after = 0;
    loop {
        let batch: Vec<(u64, StoredEvent)> = {
            let events = txn.open_table(EVENTS)?;
            let mut batch = Vec::new();
            for row in events.range(after + 1..)?.take(BATCH) {
                let (id, value) = row?;
                let stored = StoredEvent::parse(value.value())
                    .map_err(|e| redb::Error::Corrupted(format!("event {}: {e}", id.value())))?;
                batch.push((id.value(), stored));
            }
            batch
        };
        let Some(&(last, _)) = batch.last() else {
            break;
        };
        after = last;
        let mut events = txn.open_table(EVENTS)?;
        for (id, stored) in batch {
            events.insert(id, encode(&stored).as_slice())?;
        }
    }
    Ok(())
}

/// Version 3: accounts, sessions and API tokens. Their tables start empty and are created with every other
/// table after the ladder, so this rung has nothing to rewrite; it exists so that a version 2
/// database is recognised as one and a downgrade to a build without accounts is refused.
pub(super) fn v2_to_v3(_txn: &WriteTransaction) -> Result<(), redb::Error> {
    Ok(())
}

/// Version 4: boards live in the database, the config only seeds them. Every board already
/// stored came from the config, so each counts as seeded: deleting it later keeps it deleted.
pub(super) fn v3_to_v4(txn: &WriteTransaction) -> Result<(), redb::Error> {
    let slugs: Vec<String> = {
        let boards = txn.open_table(BOARDS)?;
        let mut slugs = Vec::new();
        for row in boards.iter()? {
            slugs.push(row?.0.value().to_owned());
        }
        slugs
    };
    let mut seeded = txn.open_table(SEEDED)?;
    for slug in &slugs {
        seeded.insert(slug.as_str(), ())?;
    }
    Ok(())
}

/// Version 5: what is stored about posters (`posters`, `poster_cloaks`, `address_age`) and
/// reports (`reports`, `open_reports`, `report_order`, `report_counts`, `report_address_age`).
/// Posts written before have no record, so the new tables start empty.
pub(super) fn v4_to_v5(_txn: &WriteTransaction) -> Result<(), redb::Error> {
    Ok(())
}

/// Version 6: the dashboard's counters (`post_stats`, `meta.files_stored`, `meta.file_bytes`),
/// filled once from the posts and files stored.
pub(super) fn v5_to_v6(txn: &WriteTransaction) -> Result<(), redb::Error> {
    super::stats::fill(txn, super::writer::unix_now())
}

/// Version 7: a quote within a thread, of a reply, keeps only its `quotes` row; its mirror row
/// in `backlinks` goes (readers assemble those backlinks from the quoting posts' `quotes` rows; see
/// `links`). A row whose posts are not both found stays, as a reader skips it.
pub(super) fn v6_to_v7(txn: &WriteTransaction) -> Result<(), redb::Error> {
    let mut after: Option<(String, u64, String, u64)> = None;
    loop {
        let (batch, last) = {
            let backlinks = txn.open_table(BACKLINKS)?;
            let posts = txn.open_table(POSTS)?;
            let thread = |board: &str, no: u64| -> Result<Option<u64>, redb::Error> {
                match posts.get((board, no))? {
                    Some(row) => Ok(Some(thread_of(row.value())?)),
                    None => Ok(None),
                }
            };
            let range = match &after {
                Some((b, n, fb, f)) => backlinks.range((b.as_str(), *n, fb.as_str(), *f)..)?,
                None => backlinks.iter()?,
            };
            let mut batch = Vec::new();
            let mut last = None;
            for row in range.take(BATCH) {
                let (key, _) = row?;
                let (board, no, from_board, from) = key.value();
                last = Some((board.to_owned(), no, from_board.to_owned(), from));
                if board != from_board {
                    continue;
                }
                if let (Some(a), Some(b)) = (thread(board, no)?, thread(from_board, from)?) {
                    if !super::links::mirrored(from_board, b, board, a, no) {
                        batch.push((board.to_owned(), no, from));
                    }
                }
            }
            (batch, last)
        };
        let Some(last) = last else { break };
        if after.as_ref() == Some(&last) {
            break;
        }
        after = Some(last);
        let mut backlinks = txn.open_table(BACKLINKS)?;
        for (board, no, from) in batch {
            backlinks.remove((board.as_str(), no, board.as_str(), from))?;
        }
    }
    Ok(())
}

//! Writing new posts: numbering, rendering with live links, backlinks, files, bumping and
//! pushing old threads out of the live list.

use std::cell::RefCell;
use std::collections::HashMap;

use redb::{ReadableTable, Table, WriteTransaction};

use super::{load_board, outbox, stored, Applied, Change, Written};
use crate::error::{ApiError, ErrorKind};
use crate::live::{Event, QuotedFrom};
use crate::markup::{self, Resolve};
use crate::model::{Board, OutboxOp, Post, PostDraft, StoredFile, ThreadMeta};
use crate::poster::poster_id;
use crate::storage::links::mirrored;
use crate::storage::{
    encode, ARCHIVE, BACKLINKS, BOARDS, BOARD_COUNTERS, BUMP_ORDER, FILES, FILE_POSTS, META, MOVED,
    PASSWORDS, POSTS, QUOTES, RECENT, RECENT_KEPT, THREADS, THREAD_POSTS, TOMBSTONES,
};

/// Resolves `>>N` links against the transaction being written, so a post can link to one
/// committed a moment earlier in the same group. Remembers what it looked up: rendering and
/// then recording a post's quotes ask for the same posts, and the posts a reply links mostly
/// share one thread, whose row is then read once.
pub(super) struct TxnResolver<'a> {
    txn: &'a WriteTransaction,
    threads: RefCell<HashMap<(String, u64), Option<u64>>>,
    /// Whether each thread asked about exists, by board and number.
    thread_rows: RefCell<HashMap<(String, u64), bool>>,
    /// The tables a lookup reads, held open while [`TxnResolver::render`] runs: a reply linking
    /// 45 posts would otherwise open and close them once per link. `None` outside a render,
    /// when the caller may be writing to them.
    open: RefCell<Option<ReadTables<'a>>>,
}

struct ReadTables<'a> {
    posts: Table<'a, (&'static str, u64), &'static [u8]>,
    threads: Table<'a, (&'static str, u64), &'static [u8]>,
    moved: Table<'a, (&'static str, u64), (&'static str, u64, u64)>,
}

impl<'a> TxnResolver<'a> {
    pub(super) fn new(txn: &'a WriteTransaction) -> Self {
        TxnResolver {
            txn,
            threads: RefCell::default(),
            thread_rows: RefCell::default(),
            open: RefCell::default(),
        }
    }

    /// Renders `body` posted on `board`, holding the tables its links read open for the whole
    /// pass and closing them before returning, so the caller can write to them next.
    pub(super) fn render(&self, body: &str, board: &str) -> markup::Rendered {
        let opened = (|| -> Result<ReadTables<'a>, redb::Error> {
            Ok(ReadTables {
                posts: self.txn.open_table(POSTS)?,
                threads: self.txn.open_table(THREADS)?,
                moved: self.txn.open_table(MOVED)?,
            })
        })();
        // A table that cannot be opened here fails the same way in each lookup below, which
        // then opens its own.
        *self.open.borrow_mut() = opened.ok();
        let rendered = markup::render(body, board, self);
        self.open.borrow_mut().take();
        rendered
    }

    /// The thread of post `no` on `board` if the post and its thread exist.
    fn lookup(&self, board: &str, no: u64) -> Result<Option<u64>, redb::Error> {
        let open = self.open.borrow();
        let thread = match open.as_ref() {
            Some(tables) => match tables.posts.get((board, no))? {
                Some(row) => thread_of(row.value())?,
                None => return Ok(None),
            },
            None => match self.txn.open_table(POSTS)?.get((board, no))? {
                Some(row) => thread_of(row.value())?,
                None => return Ok(None),
            },
        };
        let key = (board.to_owned(), thread);
        if let Some(&exists) = self.thread_rows.borrow().get(&key) {
            return Ok(exists.then_some(thread));
        }
        let exists = match open.as_ref() {
            Some(tables) => tables.threads.get((board, thread))?.is_some(),
            None => thread_exists(self.txn, board, thread)?,
        };
        self.thread_rows.borrow_mut().insert(key, exists);
        Ok(exists.then_some(thread))
    }
}

/// The one field of a stored post a link needs: reading it skips the rest without building it.
#[derive(serde::Deserialize)]
struct ThreadOf {
    thread: u64,
}

/// The thread of a stored post. A post is written with `no` and `thread` first, so they are
/// read from the row's first bytes: a reply linking 45 posts of 10 KB each would otherwise
/// scan half a megabyte of JSON to learn 45 numbers. Any other layout is parsed whole.
pub(in crate::storage) fn thread_of(row: &[u8]) -> Result<u64, redb::Error> {
    let number = |rest: &[u8]| -> Option<(u64, usize)> {
        let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
        let text = std::str::from_utf8(&rest[..digits]).ok()?;
        Some((text.parse().ok()?, digits))
    };
    let fast = (|| {
        let rest = row.strip_prefix(b"{\"no\":")?;
        let (_, len) = number(rest)?;
        let rest = rest[len..].strip_prefix(b",\"thread\":")?;
        let (thread, len) = number(rest)?;
        matches!(rest.get(len), Some(b',' | b'}')).then_some(thread)
    })();
    match fast {
        Some(thread) => Ok(thread),
        None => Ok(stored::<ThreadOf>(row)?.thread),
    }
}

impl Resolve for TxnResolver<'_> {
    fn post_thread(&self, board: &str, no: u64) -> Option<u64> {
        let key = (board.to_owned(), no);
        if let Some(known) = self.threads.borrow().get(&key) {
            return *known;
        }
        let found = self.lookup(board, no).ok().flatten();
        self.threads.borrow_mut().insert(key, found);
        found
    }

    fn board_exists(&self, board: &str) -> bool {
        let Ok(boards) = self.txn.open_table(BOARDS) else {
            return false;
        };
        boards.get(board).is_ok_and(|row| row.is_some())
    }

    fn max_links(&self, board: &str) -> usize {
        load_board(self.txn, board)
            .ok()
            .flatten()
            .map_or(0, |b| b.max_quotes as usize)
    }

    fn moved(&self, board: &str, no: u64) -> Option<(String, u64)> {
        let open = self.open.borrow();
        let to = |row: redb::AccessGuard<(&str, u64, u64)>| {
            let (to, new, _) = row.value();
            (to.to_owned(), new)
        };
        match open.as_ref() {
            Some(tables) => tables.moved.get((board, no)).ok()?.map(to),
            None => self
                .txn
                .open_table(MOVED)
                .ok()?
                .get((board, no))
                .ok()?
                .map(to),
        }
    }
}

/// Whether thread `thread` exists (live or archived). Posts of a thread whose row is gone are
/// deleted, even while the purge has not reached them.
pub(super) fn thread_exists(
    txn: &WriteTransaction,
    board: &str,
    thread: u64,
) -> Result<bool, redb::Error> {
    Ok(txn.open_table(THREADS)?.get((board, thread))?.is_some())
}

/// A post that is not deleted: its row exists and so does its thread's.
pub(super) fn load_live_post(
    txn: &WriteTransaction,
    board: &str,
    no: u64,
) -> Result<Option<Post>, redb::Error> {
    match load_post(txn, board, no)? {
        Some(post) if thread_exists(txn, board, post.thread)? => Ok(Some(post)),
        _ => Ok(None),
    }
}

pub(super) fn load_post(
    txn: &WriteTransaction,
    board: &str,
    no: u64,
) -> Result<Option<Post>, redb::Error> {
    let posts = txn.open_table(POSTS)?;
    let row = posts.get((board, no))?;
    row.map(|v| stored(v.value())).transpose()
}

pub(super) fn put_post(txn: &WriteTransaction, post: &Post) -> Result<(), redb::Error> {
    txn.open_table(POSTS)?
        .insert((post.board.as_str(), post.no), encode(post).as_slice())?;
    Ok(())
}

pub(super) fn load_thread(
    txn: &WriteTransaction,
    board: &str,
    no: u64,
) -> Result<Option<ThreadMeta>, redb::Error> {
    let threads = txn.open_table(THREADS)?;
    let row = threads.get((board, no))?;
    row.map(|v| stored(v.value())).transpose()
}

pub(super) fn put_thread(
    txn: &WriteTransaction,
    board: &str,
    meta: &ThreadMeta,
) -> Result<(), redb::Error> {
    txn.open_table(THREADS)?
        .insert((board, meta.no), encode(meta).as_slice())?;
    Ok(())
}

/// The thread a deleted post belonged to, if `no` was deleted.
pub(super) fn tombstone(
    txn: &WriteTransaction,
    board: &str,
    no: u64,
) -> Result<Option<u64>, redb::Error> {
    let tombstones = txn.open_table(TOMBSTONES)?;
    let row = tombstones.get((board, no))?;
    Ok(row.map(|v| v.value()))
}

pub(super) fn counters(txn: &WriteTransaction, slug: &str) -> Result<(u64, u64), redb::Error> {
    let table = txn.open_table(BOARD_COUNTERS)?;
    let row = table.get(slug)?;
    Ok(row.map(|v| v.value()).unwrap_or((0, 0)))
}

/// Writes a new post numbered `no` in `thread`: renders it (links resolved now), stores it with
/// its password and files, adds it to the recent list, and gives each post it quotes a
/// backlink.
fn write_post(
    txn: &WriteTransaction,
    board: &Board,
    no: u64,
    thread: u64,
    now: u64,
    draft: &PostDraft,
    changes: &mut Vec<Change>,
) -> Result<(), redb::Error> {
    let slug = board.slug.as_str();
    let resolver = TxnResolver::new(txn);
    let rendered = resolver.render(&draft.body, slug);
    let post = Post {
        no,
        thread,
        board: slug.to_owned(),
        created_at: now,
        name: draft.name.clone(),
        subject: draft.subject.clone(),
        body: draft.body.clone(),
        html: rendered.html,
        sage: draft.sage,
        files: draft.files.iter().map(|(file, _)| file.clone()).collect(),
        trip: draft.trip.clone(),
        id: draft
            .id_key
            .filter(|_| board.poster_ids)
            .map(|key| poster_id(&key, thread)),
        backlinks: Vec::new(),
        cross_backlinks: Vec::new(),
        files_deleted: false,
        capcode: draft.capcode.clone(),
        banned_message: None,
    };
    reference_files(txn, draft, changes)?;
    {
        let mut index = txn.open_table(FILE_POSTS)?;
        for file in &post.files {
            index.insert((file.sha256.as_str(), slug, no), ())?;
        }
    }
    put_post(txn, &post)?;
    crate::storage::stats::count_post(txn, slug, now, thread == no)?;
    if let Some(origin) = &draft.origin {
        super::posters::record(txn, slug, no, origin, now)?;
    }
    let body = serde_json::to_value(&post).expect("posts serialize");
    let event = if thread == no {
        Event::Thread {
            board: slug.to_owned(),
            thread,
            post: body,
        }
    } else {
        Event::Post {
            board: slug.to_owned(),
            thread,
            post: body,
        }
    };
    super::emit(txn, event, changes)?;
    txn.open_table(THREAD_POSTS)?
        .insert((slug, thread, no), ())?;
    if let Some(password) = &draft.password {
        txn.open_table(PASSWORDS)?
            .insert((slug, no), password.as_slice())?;
    }
    let seq = {
        let mut meta = txn.open_table(META)?;
        let seq = meta.get("recent_seq")?.map_or(0, |v| v.value()) + 1;
        meta.insert("recent_seq", seq)?;
        seq
    };
    {
        let mut recent = txn.open_table(RECENT)?;
        recent.insert(seq, (slug, no))?;
        if seq > RECENT_KEPT {
            recent.remove(seq - RECENT_KEPT)?;
        }
    }

    // A row per quote, its mirror row for a quote from another thread or of an opening post
    // (see `links`), and one
    // small `backlinks` event per quoted thread: the cost is the post's own quotes (at most
    // `max_quotes`), whatever the quoted posts hold. The quoted posts are not rewritten or
    // re-sent; readers assemble backlinks from the tables.
    let mut quoted_threads: Vec<(String, u64, Vec<u64>)> = Vec::new();
    let mut quotes = txn.open_table(QUOTES)?;
    let mut backlinks = txn.open_table(BACKLINKS)?;
    for (quoted_board, quoted) in rendered.quotes {
        if quoted_board == slug && quoted >= no {
            continue;
        }
        let Some(quoted_thread) = resolver.post_thread(&quoted_board, quoted) else {
            continue;
        };
        quotes.insert((slug, no, quoted_board.as_str(), quoted), ())?;
        if mirrored(slug, thread, &quoted_board, quoted_thread, quoted) {
            backlinks.insert((quoted_board.as_str(), quoted, slug, no), ())?;
        }
        match quoted_threads
            .iter_mut()
            .find(|(b, t, _)| *b == quoted_board && *t == quoted_thread)
        {
            Some((_, _, nos)) => nos.push(quoted),
            None => quoted_threads.push((quoted_board, quoted_thread, vec![quoted])),
        }
    }
    drop((quotes, backlinks));
    for (board, quoted_thread, nos) in quoted_threads {
        changes.push(Change::PostEdited {
            board: board.clone(),
            thread: quoted_thread,
        });
        let event = Event::Backlinks {
            board,
            thread: quoted_thread,
            nos,
            from: QuotedFrom {
                board: slug.to_owned(),
                thread,
                no,
            },
        };
        super::emit(txn, event, changes)?;
    }
    Ok(())
}

/// Counts a reference to each of the draft's files (already on disk; this row is what makes
/// them owned).
fn reference_files(
    txn: &WriteTransaction,
    draft: &PostDraft,
    changes: &mut Vec<Change>,
) -> Result<(), redb::Error> {
    for (_, new) in &draft.files {
        let mut files = txn.open_table(FILES)?;
        let existing = files
            .get(new.sha256.as_str())?
            .map(|row| stored::<StoredFile>(row.value()))
            .transpose()?;
        let entry = match existing {
            Some(mut entry) => {
                entry.refs += 1;
                // A file stored before perceptual hashes were kept gains one with its next post.
                entry.dhash = entry.dhash.or(new.dhash);
                entry
            }
            None => StoredFile {
                refs: 1,
                ..new.clone()
            },
        };
        files.insert(new.sha256.as_str(), encode(&entry).as_slice())?;
        drop(files);
        if entry.refs == 1 {
            crate::storage::stats::count_file(txn, entry.size, true)?;
            outbox::queue(txn, OutboxOp::Upload, &entry, changes)?;
        }
    }
    Ok(())
}

pub(super) fn create_thread(
    txn: &WriteTransaction,
    slug: &str,
    draft: &PostDraft,
    now: u64,
    changes: &mut Vec<Change>,
) -> Applied {
    let Some(board) = load_board(txn, slug)? else {
        return Ok(Err(ApiError::board_not_found(slug)));
    };
    let (last_no, live) = counters(txn, slug)?;
    let no = last_no + 1;
    write_post(txn, &board, no, no, now, draft, changes)?;
    let meta = ThreadMeta {
        no,
        sticky: false,
        locked: false,
        archived: false,
        archived_at: None,
        replies: 0,
        images: 0,
        bumped_at: now,
        bump_key: no,
        sticky_order: 0,
        cyclical: false,
    };
    put_thread(txn, slug, &meta)?;
    txn.open_table(BUMP_ORDER)?.insert((slug, no), no)?;
    txn.open_table(BOARD_COUNTERS)?
        .insert(slug, (no, live + 1))?;
    changes.push(Change::ThreadCreated {
        board: slug.to_owned(),
        thread: no,
    });
    push_out_overflow(txn, &board, no, now, changes)?;
    Ok(Ok(Written::Post {
        board: slug.to_owned(),
        thread: no,
        no,
    }))
}

/// Pushes the least recently bumped non-sticky threads out of the live list until at most
/// `thread_limit` are live: into the archive, or deleted when the board keeps no archive. The
/// thread just created (`keep`) is never the one pushed out.
pub(super) fn push_out_overflow(
    txn: &WriteTransaction,
    board: &Board,
    keep: u64,
    now: u64,
    changes: &mut Vec<Change>,
) -> Result<(), redb::Error> {
    let slug = board.slug.as_str();
    // Staff may lower `thread_limit` at any time, so many threads can leave at once: only one
    // chunk of their posts goes in this transaction, the rest waits for the purge.
    let mut inline = super::delete::PURGE_CHUNK;
    while counters(txn, slug)?.1 > u64::from(board.thread_limit) {
        let Some(mut meta) = oldest_pushable(txn, slug, keep)? else {
            break;
        };
        if board.archive_days == 0 {
            inline -= super::delete::delete_thread(txn, slug, meta.no, inline, changes)?;
            continue;
        }
        txn.open_table(BUMP_ORDER)?.remove((slug, meta.bump_key))?;
        meta.archived = true;
        meta.archived_at = Some(now);
        put_thread(txn, slug, &meta)?;
        txn.open_table(ARCHIVE)?.insert((slug, now, meta.no), ())?;
        let (last_no, live) = counters(txn, slug)?;
        txn.open_table(BOARD_COUNTERS)?
            .insert(slug, (last_no, live - 1))?;
        changes.push(Change::ThreadArchived {
            board: slug.to_owned(),
            thread: meta.no,
        });
        let update = Event::Update {
            board: slug.to_owned(),
            thread: meta.no,
            sticky: meta.sticky,
            locked: meta.locked,
            archived: true,
            cyclical: meta.cyclical,
            moved_to: None,
        };
        super::emit(txn, update, changes)?;
    }
    Ok(())
}

/// The least recently bumped live thread that is neither sticky nor `keep`.
fn oldest_pushable(
    txn: &WriteTransaction,
    slug: &str,
    keep: u64,
) -> Result<Option<ThreadMeta>, redb::Error> {
    let order = txn.open_table(BUMP_ORDER)?;
    for row in order.range((slug, 0)..=(slug, u64::MAX))? {
        let thread = row?.1.value();
        if thread == keep {
            continue;
        }
        let meta = load_thread(txn, slug, thread)?.ok_or_else(|| {
            redb::Error::Corrupted(format!("bump_order lists missing thread /{slug}/{thread}"))
        })?;
        if !meta.sticky {
            return Ok(Some(meta));
        }
    }
    Ok(None)
}

pub(super) fn create_reply(
    txn: &WriteTransaction,
    slug: &str,
    thread: u64,
    draft: &PostDraft,
    now: u64,
    changes: &mut Vec<Change>,
) -> Applied {
    let Some(board) = load_board(txn, slug)? else {
        return Ok(Err(ApiError::board_not_found(slug)));
    };
    let Some(mut meta) = load_thread(txn, slug, thread)? else {
        return Ok(Err(super::threads::missing_thread(txn, slug, thread)?));
    };
    if meta.archived {
        let message = format!("Thread {thread} on /{slug}/ is archived; it takes no more replies.");
        return Ok(Err(ApiError::new(ErrorKind::ThreadArchived, message)));
    }
    if meta.locked || meta.replies >= board.max_replies {
        let message = if meta.replies >= board.max_replies {
            format!(
                "Thread {thread} on /{slug}/ has reached {} replies and is locked.",
                board.max_replies
            )
        } else {
            format!("Thread {thread} on /{slug}/ is locked; it takes no more replies.")
        };
        return Ok(Err(ApiError::new(ErrorKind::ThreadLocked, message)));
    }
    let (last_no, live) = counters(txn, slug)?;
    let no = last_no + 1;
    let reply = PostDraft {
        subject: None,
        ..draft.clone()
    };
    write_post(txn, &board, no, thread, now, &reply, changes)?;
    // A cyclical thread lives on past the bump limit, so it keeps bumping.
    let bumped = board.reply_bumps(meta.replies, draft.sage) || (meta.cyclical && !draft.sage);
    meta.replies += 1;
    meta.images += draft.files.len() as u32;
    if meta.cyclical {
        drop_oldest(txn, &board, &mut meta, changes)?;
    }
    if bumped {
        let mut order = txn.open_table(BUMP_ORDER)?;
        order.remove((slug, meta.bump_key))?;
        order.insert((slug, no), thread)?;
        meta.bump_key = no;
        meta.bumped_at = now;
    }
    // The reply that reaches the cap locks the thread, as other imageboards do.
    let locks = meta.replies >= board.max_replies && !meta.locked;
    meta.locked |= locks;
    put_thread(txn, slug, &meta)?;
    txn.open_table(BOARD_COUNTERS)?.insert(slug, (no, live))?;
    changes.push(Change::Reply {
        board: slug.to_owned(),
        thread,
        no,
        bumped,
    });
    if locks {
        let update = Event::Update {
            board: slug.to_owned(),
            thread,
            sticky: meta.sticky,
            locked: true,
            archived: false,
            cyclical: meta.cyclical,
            moved_to: None,
        };
        super::emit(txn, update, changes)?;
    }
    Ok(Ok(Written::Post {
        board: slug.to_owned(),
        thread,
        no,
    }))
}

/// Replies a cyclical thread drops per new reply at most: a thread made cyclical far past its
/// limit shrinks over its next replies, each costing no more than a purge chunk.
pub(super) const CYCLE_CHUNK: usize = super::delete::PURGE_CHUNK;

/// Drops a cyclical thread's oldest replies (never the OP, never the newest reply) until it
/// holds `bump_limit` replies, at most [`CYCLE_CHUNK`] at once. They go as a deletion does:
/// tombstones, files released, `delete` events.
fn drop_oldest(
    txn: &WriteTransaction,
    board: &Board,
    meta: &mut ThreadMeta,
    changes: &mut Vec<Change>,
) -> Result<(), redb::Error> {
    let slug = board.slug.as_str();
    let keep = board.bump_limit.max(1);
    let excess = (meta.replies.saturating_sub(keep) as usize).min(CYCLE_CHUNK);
    if excess == 0 {
        return Ok(());
    }
    let oldest: Vec<u64> = {
        let index = txn.open_table(THREAD_POSTS)?;
        let range = index.range((slug, meta.no, meta.no + 1)..=(slug, meta.no, u64::MAX))?;
        range
            .take(excess)
            .map(|row| row.map(|(key, _)| key.value().2))
            .collect::<Result<_, _>>()?
    };
    for no in oldest {
        if let Some(post) = load_post(txn, slug, no)? {
            super::delete::remove_post(txn, &post, changes)?;
            meta.replies = meta.replies.saturating_sub(1);
            meta.images = meta.images.saturating_sub(post.files.len() as u32);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_thread_of_a_stored_post_is_read_from_its_first_bytes_or_parsed_whole() {
        let post = Post {
            no: 42,
            thread: 7,
            board: "b".into(),
            created_at: 1,
            name: "Anonymous".into(),
            subject: None,
            body: ">>7 \"quoted\" {\"thread\":1}".into(),
            html: "<a class=\"quotelink\">x</a>".into(),
            sage: false,
            files: Vec::new(),
            trip: None,
            id: None,
            backlinks: vec![50],
            cross_backlinks: Vec::new(),
            files_deleted: false,
            capcode: None,
            banned_message: None,
        };
        let written = String::from_utf8(encode(&post)).unwrap();
        let cases: [(&str, Option<u64>); 8] = [
            (&written, Some(7)),
            (r#"{"no":3,"thread":12}"#, Some(12)),
            (r#"{"no":3,"thread":1,"board":"b"}"#, Some(1)),
            // Other layouts are parsed whole, and give the same answer.
            (r#"{"thread":2,"no":3}"#, Some(2)),
            (r#"{"no": 3, "thread": 5}"#, Some(5)),
            (r#"{"no":3,"thread":18446744073709551615}"#, Some(u64::MAX)),
            (r#"{"no":3,"thread":18446744073709551616}"#, None),
            (r#"{"no":3,"thread":1x}"#, None),
        ];
        for (row, want) in cases {
            assert_eq!(thread_of(row.as_bytes()).ok(), want, "{row}");
        }
    }
}

//! A post as served: its backlinks, and its links to posts deleted since it was written drawn
//! dead.
//!
//! A post's stored `html` keeps the links it was rendered with. Deleting a post rewrites none
//! of the posts quoting it (that cost would grow with its quoters, not with its own quotes);
//! instead, whoever serves a post looks up the posts it quoted when it was written (its
//! `quotes` rows, at most its board's `max_quotes`) and draws the link to each one that is gone
//! as the `deadlink` span a new render would draw ([`markup::kill_links`]). Served documents
//! are cached, so this is paid when an entry is built, not per request.
//!
//! Backlinks come from two places. A quote from another thread, or of an opening post, has its
//! mirror row in `backlinks`, keyed by the quoted post. Another quote within the thread has
//! none: it is read from
//! the quoting post's own `quotes` rows, which a reader of the thread goes through anyway (for
//! the dead links above). A reply quoting 45 earlier posts of its thread thus writes its rows
//! in one place, next to each other, instead of one row beside each of the 45 quoted posts,
//! where every commit would rewrite a page of the table per quoted post.

use std::collections::HashMap;

use redb::{ReadOnlyTable, ReadTransaction, ReadableTable, Table, TableError, WriteTransaction};

use super::{BACKLINKS, BACKLINKS_SHOWN, POSTS, QUOTES, THREAD_POSTS};
use crate::markup;
use crate::model::{BoardPost, Post};

pub(super) type LinkTable = (&'static str, u64, &'static str, u64);
type PostTable = (&'static str, u64);
type ThreadPostTable = (&'static str, u64, u64);

/// Whether a quote from a post of `from_thread` to post `to` of `to_board`, in thread
/// `to_thread`, gets a `backlinks` row: a quote across threads does, and so does a quote of an
/// opening post (its rows are appended at one end of its range, one page; the catalog, index
/// and archive serve opening posts alone, which then read their backlinks in one range read).
/// Other quotes within a thread do not (see the module's documentation).
pub(super) fn mirrored(
    from_board: &str,
    from_thread: u64,
    to_board: &str,
    to_thread: u64,
    to: u64,
) -> bool {
    from_board != to_board || from_thread != to_thread || to == to_thread
}

/// The tables a served post is completed from, opened once for any number of posts.
pub(super) struct Links<Q, B, P, T> {
    quotes: Q,
    backlinks: B,
    posts: P,
    thread_posts: T,
}

/// [`Links`] in a read transaction.
pub(super) type ReadLinks = Links<
    ReadOnlyTable<LinkTable, ()>,
    ReadOnlyTable<LinkTable, ()>,
    ReadOnlyTable<PostTable, &'static [u8]>,
    ReadOnlyTable<ThreadPostTable, ()>,
>;

/// [`Links`] in the writer's transaction, to send a post as readers will see it. Its tables
/// stay open while it lives: drop it before writing to them.
pub(super) type WriteLinks<'t> = Links<
    Table<'t, LinkTable, ()>,
    Table<'t, LinkTable, ()>,
    Table<'t, PostTable, &'static [u8]>,
    Table<'t, ThreadPostTable, ()>,
>;

impl ReadLinks {
    pub(super) fn open(txn: &ReadTransaction) -> Result<ReadLinks, TableError> {
        Ok(Links {
            quotes: txn.open_table(QUOTES)?,
            backlinks: txn.open_table(BACKLINKS)?,
            posts: txn.open_table(POSTS)?,
            thread_posts: txn.open_table(THREAD_POSTS)?,
        })
    }
}

impl<'t> WriteLinks<'t> {
    pub(super) fn open(txn: &'t WriteTransaction) -> Result<WriteLinks<'t>, TableError> {
        Ok(Links {
            quotes: txn.open_table(QUOTES)?,
            backlinks: txn.open_table(BACKLINKS)?,
            posts: txn.open_table(POSTS)?,
            thread_posts: txn.open_table(THREAD_POSTS)?,
        })
    }
}

impl<Q, B, P, T> Links<Q, B, P, T>
where
    Q: ReadableTable<LinkTable, ()>,
    B: ReadableTable<LinkTable, ()>,
    P: ReadableTable<PostTable, &'static [u8]>,
    T: ReadableTable<ThreadPostTable, ()>,
{
    /// One post, as stored, made what readers are served. An opening post's backlinks are all
    /// in `backlinks`; a reply's from its own thread are found by asking each later post of
    /// the thread whether it quotes it: one key lookup per later post, at most the board's
    /// `max_replies`.
    pub(super) fn serve(&self, post: &mut Post) -> Result<(), redb::StorageError> {
        fill_backlinks(&self.backlinks, post)?;
        if post.no == post.thread {
            return self.draw_dead_links(post);
        }
        let range = self.thread_posts.range(
            (post.board.as_str(), post.thread, post.no.saturating_add(1))
                ..=(post.board.as_str(), post.thread, u64::MAX),
        )?;
        let mut from_thread = Vec::new();
        for row in range {
            let (key, _) = row?;
            let (board, _, from) = key.value();
            if self.quotes.get((board, from, board, post.no))?.is_some() {
                from_thread.push(from);
            }
        }
        merge_backlinks(post, from_thread);
        self.draw_dead_links(post)?;
        Ok(())
    }

    /// The posts of one thread from some number to its last, oldest first, made what readers
    /// are served. A post is quoted within its thread only by later posts, all of them here, so
    /// its backlinks from the thread are assembled from their `quotes` rows, read once each.
    pub(super) fn serve_thread_tail(&self, posts: &mut [Post]) -> Result<(), redb::StorageError> {
        let index: HashMap<u64, usize> = posts.iter().enumerate().map(|(i, p)| (p.no, i)).collect();
        let mut from_thread: Vec<Vec<u64>> = vec![Vec::new(); posts.len()];
        for post in posts.iter_mut() {
            for (board, target) in self.quoted(post)? {
                if board == post.board {
                    if let Some(&j) = index.get(&target) {
                        from_thread[j].push(post.no);
                        continue;
                    }
                }
                self.kill_if_gone(post, &board, target)?;
            }
        }
        for (post, from) in posts.iter_mut().zip(from_thread) {
            fill_backlinks(&self.backlinks, post)?;
            merge_backlinks(post, from);
        }
        Ok(())
    }

    /// The posts `post` linked when it was written: its `quotes` rows (none without a link in
    /// its html).
    fn quoted(&self, post: &Post) -> Result<Vec<(String, u64)>, redb::StorageError> {
        let mut out = Vec::new();
        if !markup::has_post_links(&post.html) {
            return Ok(out);
        }
        let range = self.quotes.range((post.board.as_str(), post.no, "", 0)..)?;
        for row in range {
            let (key, _) = row?;
            let (board, no, target_board, target) = key.value();
            if board != post.board || no != post.no {
                break;
            }
            out.push((target_board.to_owned(), target));
        }
        Ok(out)
    }

    /// Turns each link of `post` to a post that no longer exists into a dead link. A linked
    /// post exists while its `posts` row does: a deletion removes it in the transaction that
    /// leaves the tombstone, a thread's purge as it reaches each post, a board's purge without
    /// a tombstone; a moved post's quoting posts are rendered anew with the new number. The
    /// cost is one range read of the post's `quotes` rows and one point lookup per row (at most
    /// its board's `max_quotes`), and nothing for a post without live links when written.
    fn draw_dead_links(&self, post: &mut Post) -> Result<(), redb::StorageError> {
        for (board, target) in self.quoted(post)? {
            self.kill_if_gone(post, &board, target)?;
        }
        Ok(())
    }

    fn kill_if_gone(
        &self,
        post: &mut Post,
        board: &str,
        target: u64,
    ) -> Result<(), redb::StorageError> {
        if self.posts.get((board, target))?.is_none() {
            if let Some(html) = markup::kill_links(&post.html, board, target) {
                post.html = html;
            }
        }
        Ok(())
    }
}

/// Adds the numbers of the posts of its own thread quoting `post` (ascending) to the backlinks
/// read from the `backlinks` table, keeping them ascending, each once (a database written
/// before quotes within a thread lost their mirror rows may hold both), and at most
/// [`BACKLINKS_SHOWN`].
fn merge_backlinks(post: &mut Post, from_thread: Vec<u64>) {
    if from_thread.is_empty() {
        return;
    }
    post.backlinks.extend(from_thread);
    post.backlinks.sort_unstable();
    post.backlinks.dedup();
    post.backlinks.truncate(BACKLINKS_SHOWN);
}

/// Sets `post.backlinks` and `post.cross_backlinks` from the `backlinks` table (the quotes
/// from other threads): one range read of at most [`BACKLINKS_SHOWN`] rows.
pub(super) fn fill_backlinks(
    table: &impl ReadableTable<LinkTable, ()>,
    post: &mut Post,
) -> Result<(), redb::StorageError> {
    post.backlinks.clear();
    post.cross_backlinks.clear();
    let range = table.range((post.board.as_str(), post.no, "", 0)..)?;
    for row in range.take(BACKLINKS_SHOWN) {
        let (key, _) = row?;
        let (board, no, from_board, from) = key.value();
        if board != post.board || no != post.no {
            break;
        }
        if from_board == post.board {
            post.backlinks.push(from);
        } else {
            post.cross_backlinks.push(BoardPost {
                board: from_board.to_owned(),
                no: from,
            });
        }
    }
    Ok(())
}

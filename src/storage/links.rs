//! A post as served: its backlinks read from their table, and its links to posts deleted since
//! it was written drawn dead.
//!
//! A post's stored `html` keeps the links it was rendered with. Deleting a post rewrites none
//! of the posts quoting it (that cost would grow with its quoters, not with its own quotes);
//! instead, whoever serves a post looks up the posts it quoted when it was written (its
//! `quotes` rows, at most its board's `max_quotes`) and draws the link to each one that is gone
//! as the `deadlink` span a new render would draw ([`markup::kill_links`]). Served documents
//! are cached, so this is paid when an entry is built, not per request.

use redb::{ReadOnlyTable, ReadTransaction, ReadableTable, Table, TableError, WriteTransaction};

use super::{BACKLINKS, BACKLINKS_SHOWN, POSTS, QUOTES};
use crate::markup;
use crate::model::{BoardPost, Post};

pub(super) type LinkTable = (&'static str, u64, &'static str, u64);
type PostTable = (&'static str, u64);

/// The tables a served post is completed from, opened once for any number of posts.
pub(super) struct Links<Q, B, P> {
    quotes: Q,
    backlinks: B,
    posts: P,
}

/// [`Links`] in a read transaction.
pub(super) type ReadLinks = Links<
    ReadOnlyTable<LinkTable, ()>,
    ReadOnlyTable<LinkTable, ()>,
    ReadOnlyTable<PostTable, &'static [u8]>,
>;

/// [`Links`] in the writer's transaction, to send a post as readers will see it. Its tables
/// stay open while it lives: drop it before writing to them.
pub(super) type WriteLinks<'t> =
    Links<Table<'t, LinkTable, ()>, Table<'t, LinkTable, ()>, Table<'t, PostTable, &'static [u8]>>;

impl ReadLinks {
    pub(super) fn open(txn: &ReadTransaction) -> Result<ReadLinks, TableError> {
        Ok(Links {
            quotes: txn.open_table(QUOTES)?,
            backlinks: txn.open_table(BACKLINKS)?,
            posts: txn.open_table(POSTS)?,
        })
    }
}

impl<'t> WriteLinks<'t> {
    pub(super) fn open(txn: &'t WriteTransaction) -> Result<WriteLinks<'t>, TableError> {
        Ok(Links {
            quotes: txn.open_table(QUOTES)?,
            backlinks: txn.open_table(BACKLINKS)?,
            posts: txn.open_table(POSTS)?,
        })
    }
}

impl<Q, B, P> Links<Q, B, P>
where
    Q: ReadableTable<LinkTable, ()>,
    B: ReadableTable<LinkTable, ()>,
    P: ReadableTable<PostTable, &'static [u8]>,
{
    /// `post`, as stored, made what readers are served: its backlinks filled in and its links
    /// to deleted posts drawn dead.
    pub(super) fn serve(&self, post: &mut Post) -> Result<(), redb::StorageError> {
        fill_backlinks(&self.backlinks, post)?;
        self.draw_dead_links(post)
    }

    /// Turns each link of `post` to a post that no longer exists into a dead link. A linked
    /// post exists while its `posts` row does: a deletion removes it in the transaction that
    /// leaves the tombstone, a thread's purge as it reaches each post, a board's purge without
    /// a tombstone; a moved post's quoting posts are rendered anew with the new number. The
    /// cost is one range read of the post's `quotes` rows and one point lookup per row (at most
    /// its board's `max_quotes`), and nothing for a post without live links when written.
    fn draw_dead_links(&self, post: &mut Post) -> Result<(), redb::StorageError> {
        if !markup::has_post_links(&post.html) {
            return Ok(());
        }
        let range = self.quotes.range((post.board.as_str(), post.no, "", 0)..)?;
        for row in range {
            let (key, _) = row?;
            let (board, no, target_board, target) = key.value();
            if board != post.board || no != post.no {
                break;
            }
            if self.posts.get((target_board, target))?.is_some() {
                continue;
            }
            if let Some(html) = markup::kill_links(&post.html, target_board, target) {
                post.html = html;
            }
        }
        Ok(())
    }
}

/// Sets `post.backlinks` and `post.cross_backlinks` from the `backlinks` table: one range read
/// of at most [`BACKLINKS_SHOWN`] rows.
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

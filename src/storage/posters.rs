//! Reads of what is stored about posters: a post's address and cloak, and a poster's posts.
//!
//! These are the calls moderation builds on:
//! - [`Reader::poster`]`(board, no)` → the [`PosterRecord`] of a post (its client address until
//!   `ip_retention_days` erases it, its per-board cloak for as long as the post exists); what
//!   "ban the poster of post N" reads.
//! - [`Reader::posts_by_cloak`]`(board, cloak, after, limit)` → the live posts of one poster on
//!   a board (by cloak, so it works after the address is erased), in number order; filter by
//!   [`CloakPost::thread`] for "every post of this poster in a thread".
//! - [`Reader::posters_in_thread`]`(board, thread, limit)` → the record of each post of a
//!   thread, for the staff view of a thread.
//!
//! Nothing here is public: every caller is a staff route, and only admins see addresses.

use super::{decode, storage_error, Reader, POSTERS, POSTER_CLOAKS, POSTS, THREAD_POSTS};
use crate::error::ApiResult;
use crate::model::PosterRecord;

/// One live post of a poster, found by cloak.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CloakPost {
    pub no: u64,
    pub thread: u64,
}

/// The one field of a stored post a [`CloakPost`] needs.
#[derive(serde::Deserialize)]
struct ThreadOf {
    thread: u64,
}

impl Reader {
    /// What is stored about the poster of post `no`: `None` for a post that does not exist, is
    /// deleted, or was written before posters were recorded.
    pub fn poster(&self, board: &str, no: u64) -> ApiResult<Option<PosterRecord>> {
        let table = self.txn.open_table(POSTERS).map_err(storage_error)?;
        let row = table.get((board, no)).map_err(storage_error)?;
        row.map(|v| decode(v.value())).transpose()
    }

    /// Up to `limit` live posts on `board` whose poster has `cloak`, numbered above `after`, in
    /// number order. Posts of a thread that is deleted but still being purged are skipped
    /// (their rows go with the purge); the scan reads at most `limit` such rows beyond the
    /// ones returned, so a caller passes the last number seen as `after` to go on.
    pub fn posts_by_cloak(
        &self,
        board: &str,
        cloak: &str,
        after: u64,
        limit: usize,
    ) -> ApiResult<Vec<CloakPost>> {
        let index = self.txn.open_table(POSTER_CLOAKS).map_err(storage_error)?;
        let posts = self.txn.open_table(POSTS).map_err(storage_error)?;
        let range = index
            .range((board, cloak, after.saturating_add(1))..=(board, cloak, u64::MAX))
            .map_err(storage_error)?;
        let mut out = Vec::new();
        for row in range.take(limit.saturating_mul(2)) {
            let (key, _) = row.map_err(storage_error)?;
            let no = key.value().2;
            let Some(post) = posts.get((board, no)).map_err(storage_error)? else {
                continue;
            };
            let thread = decode::<ThreadOf>(post.value())?.thread;
            if self.thread_exists(board, thread)? {
                out.push(CloakPost { no, thread });
                if out.len() == limit {
                    break;
                }
            }
        }
        Ok(out)
    }

    /// The poster records of the first `limit` posts of a thread, in number order; posts
    /// without one (written before posters were recorded) are left out.
    pub fn posters_in_thread(
        &self,
        board: &str,
        thread: u64,
        limit: usize,
    ) -> ApiResult<Vec<(u64, PosterRecord)>> {
        let index = self.txn.open_table(THREAD_POSTS).map_err(storage_error)?;
        let posters = self.txn.open_table(POSTERS).map_err(storage_error)?;
        let range = index
            .range((board, thread, 0)..=(board, thread, u64::MAX))
            .map_err(storage_error)?;
        let mut out = Vec::new();
        for row in range.take(limit) {
            let (key, _) = row.map_err(storage_error)?;
            let no = key.value().2;
            if let Some(record) = posters.get((board, no)).map_err(storage_error)? {
                out.push((no, decode(record.value())?));
            }
        }
        Ok(out)
    }
}

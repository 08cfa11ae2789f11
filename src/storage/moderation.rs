//! Reads of file bans, the posts carrying a file, and word filters; and the one-time index of
//! posts by file for a database that predates it.

use redb::{ReadableTable, WriteTransaction};

use super::{decode, storage_error, Reader, FILE_BANS, FILE_POSTS, FILTERS, META, POSTS};
use crate::error::ApiResult;
use crate::filebans::FileBan;
use crate::filters::Filter;
use crate::model::Post;

/// File bans listed per page.
pub const FILE_BANS_PAGE: usize = 500;

impl Reader {
    /// Every file ban, for the set uploads are checked against.
    pub fn all_file_bans(&self) -> ApiResult<Vec<FileBan>> {
        let table = self.txn.open_table(FILE_BANS).map_err(storage_error)?;
        let mut out = Vec::new();
        for row in table.iter().map_err(storage_error)? {
            let (_, value) = row.map_err(storage_error)?;
            out.push(decode(value.value())?);
        }
        Ok(out)
    }

    /// The bans of one scope (a board, or "" for every board) by hash, after `after`, at most
    /// [`FILE_BANS_PAGE`].
    pub fn file_bans(&self, scope: &str, after: &str) -> ApiResult<Vec<FileBan>> {
        let table = self.txn.open_table(FILE_BANS).map_err(storage_error)?;
        let range = table.range((scope, after)..).map_err(storage_error)?;
        let mut out = Vec::new();
        for row in range {
            let (key, value) = row.map_err(storage_error)?;
            let (row_scope, sha256) = key.value();
            if row_scope != scope || out.len() == FILE_BANS_PAGE {
                break;
            }
            if sha256 == after {
                continue;
            }
            out.push(decode(value.value())?);
        }
        Ok(out)
    }

    /// Every filter, in id order.
    pub fn filters(&self) -> ApiResult<Vec<Filter>> {
        let table = self.txn.open_table(FILTERS).map_err(storage_error)?;
        let mut out = Vec::new();
        for row in table.iter().map_err(storage_error)? {
            let (_, value) = row.map_err(storage_error)?;
            out.push(decode(value.value())?);
        }
        Ok(out)
    }
}

/// Fills `file_posts` from every stored post, once: a database written before the index
/// existed has posts carrying files it does not list.
pub(super) fn index_file_posts(txn: &WriteTransaction) -> Result<(), redb::Error> {
    let mut meta = txn.open_table(META)?;
    if meta.get("file_posts_indexed")?.is_some() {
        return Ok(());
    }
    let posts = txn.open_table(POSTS)?;
    let mut index = txn.open_table(FILE_POSTS)?;
    for row in posts.iter()? {
        let (_, value) = row?;
        let post: Post = decode(value.value()).map_err(|e| redb::Error::Corrupted(e.message))?;
        for file in &post.files {
            index.insert((file.sha256.as_str(), post.board.as_str(), post.no), ())?;
        }
    }
    meta.insert("file_posts_indexed", 1)?;
    Ok(())
}

//! Reads of bans and appeals.

use redb::ReadableTable;

use super::{decode, storage_error, Reader, BANS, BAN_APPEALS, BAN_BOARDS};
use crate::bans::Ban;
use crate::error::ApiResult;

/// Open appeals looked at per listing, at most: bounds a listing filtered by board.
const APPEALS_SCANNED: usize = 10_000;

impl Reader {
    pub fn ban(&self, id: u64) -> ApiResult<Option<Ban>> {
        let table = self.txn.open_table(BANS).map_err(storage_error)?;
        let row = table.get(id).map_err(storage_error)?;
        row.map(|v| decode(v.value())).transpose()
    }

    /// Every stored ban, for building the in-memory index at start.
    pub fn all_bans(&self) -> ApiResult<Vec<Ban>> {
        let table = self.txn.open_table(BANS).map_err(storage_error)?;
        let mut out = Vec::new();
        for row in table.iter().map_err(storage_error)? {
            let (_, value) = row.map_err(storage_error)?;
            out.push(decode(value.value())?);
        }
        Ok(out)
    }

    /// Bans with ids below `before`, newest first: of one board (`Some("")` for the global
    /// ones) or of all (`None`).
    pub fn bans_page(&self, board: Option<&str>, before: u64, limit: usize) -> ApiResult<Vec<Ban>> {
        let Some(board) = board else {
            let table = self.txn.open_table(BANS).map_err(storage_error)?;
            let mut out = Vec::new();
            for row in table
                .range(..before)
                .map_err(storage_error)?
                .rev()
                .take(limit)
            {
                let (_, value) = row.map_err(storage_error)?;
                out.push(decode(value.value())?);
            }
            return Ok(out);
        };
        let index = self.txn.open_table(BAN_BOARDS).map_err(storage_error)?;
        let range = index
            .range((board, 0)..(board, before))
            .map_err(storage_error)?;
        let mut out = Vec::new();
        for row in range.rev().take(limit) {
            let (key, _) = row.map_err(storage_error)?;
            if let Some(ban) = self.ban(key.value().1)? {
                out.push(ban);
            }
        }
        Ok(out)
    }

    /// Bans with an open appeal that `include` accepts, oldest appeal first by ban id.
    pub fn open_appeals(
        &self,
        limit: usize,
        include: impl Fn(&Ban) -> bool,
    ) -> ApiResult<Vec<Ban>> {
        let index = self.txn.open_table(BAN_APPEALS).map_err(storage_error)?;
        let mut out = Vec::new();
        for row in index.iter().map_err(storage_error)?.take(APPEALS_SCANNED) {
            if out.len() == limit {
                break;
            }
            let (id, _) = row.map_err(storage_error)?;
            if let Some(ban) = self.ban(id.value())? {
                if include(&ban) {
                    out.push(ban);
                }
            }
        }
        Ok(out)
    }
}

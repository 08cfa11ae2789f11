//! Reads of the staff log: the whole log or a board's, newest first, a page at a time.

use super::{decode, storage_error, Reader, MOD_LOG, MOD_LOG_BOARDS};
use crate::error::{ApiError, ApiResult};
use crate::model::LogEntry;

impl Reader {
    /// Up to `limit` entries of the whole log with ids below `before`, newest first.
    pub fn log_page(&self, before: u64, limit: usize) -> ApiResult<Vec<LogEntry>> {
        let log = self.txn.open_table(MOD_LOG).map_err(storage_error)?;
        let mut out = Vec::new();
        for row in log
            .range(..before)
            .map_err(storage_error)?
            .rev()
            .take(limit)
        {
            let (id, value) = row.map_err(storage_error)?;
            let mut entry: LogEntry = decode(value.value())?;
            entry.id = id.value();
            out.push(entry);
        }
        Ok(out)
    }

    /// Up to `limit` entries about `board` with ids below `before`, newest first.
    pub fn board_log_page(
        &self,
        board: &str,
        before: u64,
        limit: usize,
    ) -> ApiResult<Vec<LogEntry>> {
        let index = self.txn.open_table(MOD_LOG_BOARDS).map_err(storage_error)?;
        let log = self.txn.open_table(MOD_LOG).map_err(storage_error)?;
        let range = index
            .range((board, 0)..(board, before))
            .map_err(storage_error)?;
        let mut out = Vec::new();
        for row in range.rev().take(limit) {
            let (key, _) = row.map_err(storage_error)?;
            let id = key.value().1;
            let entry = log.get(id).map_err(storage_error)?.ok_or_else(|| {
                ApiError::internal(
                    "storage_corrupt",
                    format!("mod_log_boards lists missing entry {id}"),
                )
            })?;
            let mut entry: LogEntry = decode(entry.value())?;
            entry.id = id;
            out.push(entry);
        }
        Ok(out)
    }
}

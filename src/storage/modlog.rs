//! Reads of the staff log: the whole log or a board's, newest first, a page at a time.

use super::{decode, storage_error, Reader, MOD_LOG, MOD_LOG_BOARDS};
use crate::error::{ApiError, ApiResult};
use crate::model::{LogAction, LogEntry};

impl Reader {
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

/// A filtered page of the log: the entries kept, and where the read stopped early.
pub struct LogScan {
    pub entries: Vec<LogEntry>,
    /// The id of the last row read when the row budget ran out before the log's start: rows
    /// below it are unread.
    pub stopped_at: Option<u64>,
}

impl Reader {
    /// Up to `limit` entries with ids below `before`, of the whole log or of `board`'s, whose
    /// action is `action` (any when `None`), newest first, reading at most `budget` rows: a rare
    /// action asked of a long log costs a bounded read, and the caller continues below
    /// `stopped_at`.
    pub fn log_scan(
        &self,
        board: Option<&str>,
        action: Option<LogAction>,
        before: u64,
        limit: usize,
        budget: usize,
    ) -> ApiResult<LogScan> {
        let log = self.txn.open_table(MOD_LOG).map_err(storage_error)?;
        let ids: Vec<u64> = match board {
            None => log
                .range(..before)
                .map_err(storage_error)?
                .rev()
                .take(budget)
                .map(|row| row.map(|(id, _)| id.value()).map_err(storage_error))
                .collect::<ApiResult<_>>()?,
            Some(board) => {
                let index = self.txn.open_table(MOD_LOG_BOARDS).map_err(storage_error)?;
                let rows = index
                    .range((board, 0)..(board, before))
                    .map_err(storage_error)?;
                rows.rev()
                    .take(budget)
                    .map(|row| row.map(|(key, _)| key.value().1).map_err(storage_error))
                    .collect::<ApiResult<_>>()?
            }
        };
        let mut entries = Vec::new();
        for &id in &ids {
            let value = log.get(id).map_err(storage_error)?.ok_or_else(|| {
                ApiError::internal(
                    "storage_corrupt",
                    format!("mod_log_boards lists missing entry {id}"),
                )
            })?;
            let mut entry: LogEntry = decode(value.value())?;
            if action.is_some_and(|a| a != entry.action) {
                continue;
            }
            entry.id = id;
            entries.push(entry);
            if entries.len() == limit {
                // Stopped by the page, not the budget: the next page starts below this entry.
                return Ok(LogScan {
                    entries,
                    stopped_at: None,
                });
            }
        }
        let stopped_at = (ids.len() == budget).then(|| ids.last().copied()).flatten();
        Ok(LogScan {
            entries,
            stopped_at,
        })
    }
}

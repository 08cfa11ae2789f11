//! Reads of the report queue: posts with open reports, newest report first, and the counts per
//! board.

use super::{decode, storage_error, Reader, OPEN_REPORTS, REPORTS, REPORT_COUNTS, REPORT_ORDER};
use crate::error::ApiResult;
use crate::model::{Post, Report};

/// One post in a review queue, with its open reports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QueuedPost {
    pub board: String,
    pub post: Post,
    /// Reports received, including any beyond those stored.
    pub count: u64,
    /// Unix seconds of the latest report.
    pub latest_at: u64,
    /// The reports stored, oldest first.
    pub reports: Vec<Report>,
}

impl Reader {
    /// Posts with open reports on `board`, the most recently reported first, reported before
    /// `before` (Unix seconds; `u64::MAX` for the newest), at most `limit`. Posts deleted since
    /// (a thread being purged) are skipped, within `limit` more rows.
    pub fn report_queue(
        &self,
        board: &str,
        before: u64,
        limit: usize,
    ) -> ApiResult<Vec<QueuedPost>> {
        let order = self.txn.open_table(REPORT_ORDER).map_err(storage_error)?;
        let open = self.txn.open_table(OPEN_REPORTS).map_err(storage_error)?;
        let range = order
            .range((board, 0, 0)..(board, before, 0))
            .map_err(storage_error)?;
        let mut out = Vec::new();
        for row in range.rev().take(limit.saturating_mul(2)) {
            let (key, _) = row.map_err(storage_error)?;
            let (_, _, no) = key.value();
            let Some(post) = self.post(board, no)? else {
                continue;
            };
            let Some((count, latest_at)) = open
                .get((board, no))
                .map_err(storage_error)?
                .map(|v| v.value())
            else {
                continue;
            };
            out.push(QueuedPost {
                board: board.to_owned(),
                post,
                count,
                latest_at,
                reports: self.reports_of(board, no)?,
            });
            if out.len() == limit {
                break;
            }
        }
        Ok(out)
    }

    /// The stored open reports of post `no`, at most [`super::REPORTS_KEPT`].
    pub fn reports_of(&self, board: &str, no: u64) -> ApiResult<Vec<Report>> {
        let table = self.txn.open_table(REPORTS).map_err(storage_error)?;
        let range = table.range((board, no, "")..).map_err(storage_error)?;
        let mut out: Vec<Report> = Vec::new();
        for row in range.take(super::REPORTS_KEPT as usize) {
            let (key, value) = row.map_err(storage_error)?;
            let (b, n, _) = key.value();
            if b != board || n != no {
                break;
            }
            out.push(decode(value.value())?);
        }
        out.sort_by_key(|r| r.at);
        Ok(out)
    }

    /// Posts with open reports on `board`.
    pub fn report_count(&self, board: &str) -> ApiResult<u64> {
        let table = self.txn.open_table(REPORT_COUNTS).map_err(storage_error)?;
        let row = table.get(board).map_err(storage_error)?;
        Ok(row.map_or(0, |v| v.value()))
    }

    /// Whether post `no` has open reports: `(count, latest_at)`.
    pub fn open_reports(&self, board: &str, no: u64) -> ApiResult<Option<(u64, u64)>> {
        let table = self.txn.open_table(OPEN_REPORTS).map_err(storage_error)?;
        let row = table.get((board, no)).map_err(storage_error)?;
        Ok(row.map(|v| v.value()))
    }
}

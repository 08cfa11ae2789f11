//! The dashboard's counters: posts and new threads per board and hour, and the files stored,
//! kept by the writer in the transactions that change them so that reading them scans nothing.

use std::collections::BTreeMap;

use redb::{ReadableTable, WriteTransaction};
use serde::Serialize;

use super::{storage_error, Reader, BOARDS, FILES, META, POSTS, POST_STATS};
use crate::error::ApiResult;

const HOUR: u64 = 3600;
const DAY: u64 = 86_400;
/// Hours shown one by one, the current one last.
pub const HOURS_SHOWN: u64 = 24;
/// Days shown (UTC days, today last); older buckets are pruned.
pub const DAYS_SHOWN: u64 = 30;

/// The first hour (in hours since the epoch) whose bucket is kept at `now`: the start of the
/// oldest day shown. Days are UTC days, 24 hours each.
pub fn oldest_hour_kept(now: u64) -> u64 {
    (now / DAY).saturating_sub(DAYS_SHOWN - 1) * 24
}

/// One bar of a chart: what was posted from `at` (unix seconds) for an hour or a day.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Bucket {
    pub at: u64,
    pub posts: u64,
    pub threads: u64,
}

/// A board's activity: the last [`HOURS_SHOWN`] hours and the last [`DAYS_SHOWN`] days, oldest
/// first, every bucket present (zero when nothing was posted).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Activity {
    pub board: String,
    pub hours: Vec<Bucket>,
    pub days: Vec<Bucket>,
}

/// Files stored (each once, however many posts carry it) and their originals' bytes.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct FileTotals {
    pub stored: u64,
    pub bytes: u64,
}

/// Spreads hourly rows `(hour, (posts, threads))`, in any order, over the hours and days shown
/// at `now`; rows outside them (or after the current hour, should the clock have gone back)
/// are left out.
pub fn fold(
    rows: impl IntoIterator<Item = (u64, (u64, u64))>,
    now: u64,
) -> (Vec<Bucket>, Vec<Bucket>) {
    let this_hour = now / HOUR;
    let first_hour = (this_hour + 1).saturating_sub(HOURS_SHOWN);
    let today = now / DAY;
    let first_day = (today + 1).saturating_sub(DAYS_SHOWN);
    let mut hours: Vec<Bucket> = (first_hour..=this_hour)
        .map(|h| Bucket {
            at: h * HOUR,
            ..Bucket::default()
        })
        .collect();
    let mut days: Vec<Bucket> = (first_day..=today)
        .map(|d| Bucket {
            at: d * DAY,
            ..Bucket::default()
        })
        .collect();
    for (hour, (posts, threads)) in rows {
        if hour > this_hour {
            continue;
        }
        if hour >= first_hour {
            let bucket = &mut hours[(hour - first_hour) as usize];
            bucket.posts += posts;
            bucket.threads += threads;
        }
        let day = hour / 24;
        if (first_day..=today).contains(&day) {
            let bucket = &mut days[(day - first_day) as usize];
            bucket.posts += posts;
            bucket.threads += threads;
        }
    }
    (hours, days)
}

/// Counts a new post (and a new thread when it opens one) in its board's bucket for `now`. The
/// first post of an hour also drops the board's buckets that fell out of the days shown (the
/// oldest day kept only moves when a new day, so a new hour, starts): one bucket a post, at
/// most a day's worth removed, whatever the board holds.
pub(super) fn count_post(
    txn: &WriteTransaction,
    slug: &str,
    now: u64,
    opens_thread: bool,
) -> Result<(), redb::Error> {
    let hour = now / HOUR;
    let mut table = txn.open_table(POST_STATS)?;
    let bucket = table.get((slug, hour))?.map(|v| v.value());
    let (posts, threads) = bucket.unwrap_or((0, 0));
    table.insert((slug, hour), (posts + 1, threads + u64::from(opens_thread)))?;
    if bucket.is_none() {
        table.retain_in((slug, 0)..(slug, oldest_hour_kept(now)), |_, _| false)?;
    }
    Ok(())
}

/// Drops every bucket that fell out of the days shown, on every board, including boards that
/// post nothing any more. Run with the hourly archive pruning; the table holds at most a
/// month of hours per board, so this is bounded by the number of boards.
pub(super) fn prune(txn: &WriteTransaction, now: u64) -> Result<(), redb::Error> {
    let cutoff = oldest_hour_kept(now);
    txn.open_table(POST_STATS)?
        .retain(|(_, hour), _| hour >= cutoff)?;
    Ok(())
}

/// A deleted board's buckets go with it, so a board created later under its slug starts
/// from nothing.
pub(super) fn forget_board(txn: &WriteTransaction, slug: &str) -> Result<(), redb::Error> {
    txn.open_table(POST_STATS)?
        .retain_in((slug, 0)..=(slug, u64::MAX), |_, _| false)?;
    Ok(())
}

/// A file gained its first reference (`added`) or lost its last: the totals follow.
pub(super) fn count_file(
    txn: &WriteTransaction,
    size: u64,
    added: bool,
) -> Result<(), redb::Error> {
    let mut meta = txn.open_table(META)?;
    let stored = meta.get("files_stored")?.map_or(0, |v| v.value());
    let bytes = meta.get("file_bytes")?.map_or(0, |v| v.value());
    let (stored, bytes) = if added {
        (stored + 1, bytes + size)
    } else {
        (stored.saturating_sub(1), bytes.saturating_sub(size))
    };
    meta.insert("files_stored", stored)?;
    meta.insert("file_bytes", bytes)?;
    Ok(())
}

/// Version 6: fills the buckets from the posts stored (those of the days shown) and the file
/// totals from the `files` table, once; from then on the writer keeps them.
pub(super) fn fill(txn: &WriteTransaction, now: u64) -> Result<(), redb::Error> {
    /// The fields of a stored post the buckets need; serde skips the rest.
    #[derive(serde::Deserialize)]
    struct Stamp {
        no: u64,
        thread: u64,
        created_at: u64,
    }
    let cutoff = oldest_hour_kept(now);
    // At most a month of hours per board, whatever the number of posts.
    let mut buckets: BTreeMap<(String, u64), (u64, u64)> = BTreeMap::new();
    {
        let posts = txn.open_table(POSTS)?;
        for row in posts.iter()? {
            let (key, value) = row?;
            let stamp: Stamp = super::writer::stored(value.value())?;
            let hour = stamp.created_at / HOUR;
            if hour < cutoff {
                continue;
            }
            let bucket = buckets.entry((key.value().0.to_owned(), hour)).or_default();
            bucket.0 += 1;
            bucket.1 += u64::from(stamp.no == stamp.thread);
        }
    }
    let mut table = txn.open_table(POST_STATS)?;
    for ((slug, hour), counts) in &buckets {
        table.insert((slug.as_str(), *hour), *counts)?;
    }
    let (mut stored, mut bytes) = (0, 0);
    for row in txn.open_table(FILES)?.iter()? {
        let file: crate::model::StoredFile = super::writer::stored(row?.1.value())?;
        stored += 1;
        bytes += file.size;
    }
    let mut meta = txn.open_table(META)?;
    meta.insert("files_stored", stored)?;
    meta.insert("file_bytes", bytes)?;
    Ok(())
}

impl Reader {
    /// Every board's activity at `now`, by slug: one range read of at most a month of hourly
    /// rows per board.
    pub fn activity(&self, now: u64) -> ApiResult<Vec<Activity>> {
        let boards = self.txn.open_table(BOARDS).map_err(storage_error)?;
        let table = self.txn.open_table(POST_STATS).map_err(storage_error)?;
        let first = oldest_hour_kept(now);
        let last = now / HOUR;
        let mut out = Vec::new();
        for row in boards.iter().map_err(storage_error)? {
            let (slug, _) = row.map_err(storage_error)?;
            let slug = slug.value();
            let mut rows = Vec::new();
            for row in table
                .range((slug, first)..=(slug, last))
                .map_err(storage_error)?
            {
                let (key, value) = row.map_err(storage_error)?;
                rows.push((key.value().1, value.value()));
            }
            let (hours, days) = fold(rows, now);
            out.push(Activity {
                board: slug.to_owned(),
                hours,
                days,
            });
        }
        Ok(out)
    }

    /// The files stored and their bytes, as the writer counts them.
    pub fn file_totals(&self) -> ApiResult<FileTotals> {
        let meta = self.txn.open_table(META).map_err(storage_error)?;
        let get = |key: &str| -> ApiResult<u64> {
            let row = meta.get(key).map_err(storage_error)?;
            Ok(row.map_or(0, |v| v.value()))
        };
        Ok(FileTotals {
            stored: get("files_stored")?,
            bytes: get("file_bytes")?,
        })
    }

    /// Posts with open reports, on every board: one row per board.
    pub fn reports_waiting(&self) -> ApiResult<u64> {
        let table = self
            .txn
            .open_table(super::REPORT_COUNTS)
            .map_err(storage_error)?;
        let mut total = 0;
        for row in table.iter().map_err(storage_error)? {
            total += row.map_err(storage_error)?.1.value();
        }
        Ok(total)
    }
}

#[cfg(test)]
#[path = "stats_tests.rs"]
mod tests;

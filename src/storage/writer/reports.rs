//! Reports: filing one (one per post per reporter cloak), clearing a post's reports when staff
//! handle them or the post goes, moving them with a moved thread, and erasing reporters'
//! addresses past the retention.

use redb::{ReadableTable, WriteTransaction};

use super::moderate::{self, Scope};
use super::modlog::{self, Note};
use super::posts::{load_live_post, load_post, tombstone};
use super::{load_board, stored, Applied, Change, Written};
use crate::error::{ApiError, ErrorKind};
use crate::model::{LogAction, Report};
use crate::poster::Keys;
use crate::storage::{
    encode, OPEN_REPORTS, REPORTS, REPORTS_KEPT, REPORT_ADDRESS_AGE, REPORT_COUNTS, REPORT_ORDER,
};

/// What staff do with a post's open reports. Every arm clears the reports (they leave the
/// queue) and is logged; new actions (a ban of the poster, a ban of the reporters) go in
/// [`handle`]'s one match.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReportAction {
    /// Nothing was wrong with the post.
    Dismiss,
    /// Delete the post (an OP: its thread).
    Delete,
    /// Delete the post's files, keep the post.
    DeleteFiles,
    /// Ban the post's poster (a [`super::BanWrite::Reports`], which carries the ban's terms).
    Ban,
    /// Report abuse: dismiss the reports and ban every reporter (a [`super::BanWrite::Reports`]).
    BanReporters,
}

impl ReportAction {
    pub const ALL: [ReportAction; 5] = [
        ReportAction::Dismiss,
        ReportAction::Delete,
        ReportAction::DeleteFiles,
        ReportAction::Ban,
        ReportAction::BanReporters,
    ];

    /// Whether the action bans someone, and so goes through the ban writer with its terms.
    pub fn bans(self) -> bool {
        matches!(self, ReportAction::Ban | ReportAction::BanReporters)
    }

    pub fn name(self) -> &'static str {
        match self {
            ReportAction::Dismiss => "dismiss",
            ReportAction::Delete => "delete",
            ReportAction::DeleteFiles => "delete_files",
            ReportAction::Ban => "ban",
            ReportAction::BanReporters => "dismiss_and_ban_reporters",
        }
    }
}

/// Files a report of post `no` on `slug`.
pub(super) fn file(
    txn: &WriteTransaction,
    slug: &str,
    no: u64,
    report: &Report,
    changes: &mut Vec<Change>,
) -> Applied {
    if load_board(txn, slug)?.is_none() {
        return Ok(Err(ApiError::board_not_found(slug)));
    }
    if load_live_post(txn, slug, no)?.is_none() {
        let deleted = tombstone(txn, slug, no)?.is_some() || load_post(txn, slug, no)?.is_some();
        return Ok(Err(if deleted {
            ApiError::post_deleted(slug, no)
        } else {
            ApiError::post_not_found(slug, no)
        }));
    }
    let cloak = report.cloak.as_str();
    if txn.open_table(REPORTS)?.get((slug, no, cloak))?.is_some() {
        let message = format!("You have already reported post {no} on /{slug}/.");
        return Ok(Err(ApiError::new(ErrorKind::AlreadyReported, message)));
    }
    let open = txn
        .open_table(OPEN_REPORTS)?
        .get((slug, no))?
        .map(|v| v.value());
    let (count, previous) = match open {
        Some((count, latest)) => (count, Some(latest)),
        None => (0, None),
    };
    if count < REPORTS_KEPT {
        txn.open_table(REPORTS)?
            .insert((slug, no, cloak), encode(report).as_slice())?;
        if report.address.is_some() {
            txn.open_table(REPORT_ADDRESS_AGE)?
                .insert((report.at, slug, no, cloak), ())?;
        }
    }
    let mut order = txn.open_table(REPORT_ORDER)?;
    match previous {
        Some(latest) => {
            order.remove((slug, latest, no))?;
        }
        None => {
            let mut counts = txn.open_table(REPORT_COUNTS)?;
            let n = counts.get(slug)?.map_or(0, |v| v.value());
            counts.insert(slug, n + 1)?;
            changes.push(Change::ReportCounts {
                board: slug.to_owned(),
            });
        }
    }
    let latest = previous.map_or(report.at, |p| p.max(report.at));
    order.insert((slug, latest, no), ())?;
    txn.open_table(OPEN_REPORTS)?
        .insert((slug, no), (count + 1, latest))?;
    Ok(Ok(Written::Reported))
}

/// The open reports of a post, as [`clear`] removed them.
#[derive(Debug, Default)]
pub(super) struct Cleared {
    /// Reports received, including those beyond [`REPORTS_KEPT`].
    pub count: u64,
    /// The reports stored (reporters' cloaks and addresses), for an action on the reporters.
    #[allow(dead_code)]
    pub reports: Vec<Report>,
}

/// Removes every open report of post `no` (at most [`REPORTS_KEPT`] rows) and returns them.
pub(super) fn clear(
    txn: &WriteTransaction,
    slug: &str,
    no: u64,
    changes: &mut Vec<Change>,
) -> Result<Cleared, redb::Error> {
    let Some((count, latest)) = txn
        .open_table(OPEN_REPORTS)?
        .remove((slug, no))?
        .map(|v| v.value())
    else {
        return Ok(Cleared::default());
    };
    txn.open_table(REPORT_ORDER)?.remove((slug, latest, no))?;
    add_to_count(txn, slug, -1)?;
    changes.push(Change::ReportCounts {
        board: slug.to_owned(),
    });
    let rows: Vec<(String, Report)> = {
        let reports = txn.open_table(REPORTS)?;
        let mut rows = Vec::new();
        for row in reports.range((slug, no, "")..)?.take(REPORTS_KEPT as usize) {
            let (key, value) = row?;
            let (b, n, cloak) = key.value();
            if b != slug || n != no {
                break;
            }
            rows.push((cloak.to_owned(), stored::<Report>(value.value())?));
        }
        rows
    };
    let mut reports = txn.open_table(REPORTS)?;
    let mut age = txn.open_table(REPORT_ADDRESS_AGE)?;
    let mut removed = Vec::with_capacity(rows.len());
    for (cloak, report) in rows {
        reports.remove((slug, no, cloak.as_str()))?;
        if report.address.is_some() {
            age.remove((report.at, slug, no, cloak.as_str()))?;
        }
        removed.push(report);
    }
    Ok(Cleared {
        count,
        reports: removed,
    })
}

/// Handles the open reports of post `no`: clears them and does `action`, logged as `actor`'s.
/// Refused with `report_not_found` when the post has none.
#[allow(clippy::too_many_arguments)]
pub(super) fn handle(
    txn: &WriteTransaction,
    slug: &str,
    no: u64,
    action: ReportAction,
    actor: &str,
    reason: Option<&str>,
    note: Option<&str>,
    now: u64,
    changes: &mut Vec<Change>,
) -> Applied {
    if load_board(txn, slug)?.is_none() {
        return Ok(Err(ApiError::board_not_found(slug)));
    }
    let open = txn
        .open_table(OPEN_REPORTS)?
        .get((slug, no))?
        .map(|v| v.value());
    let post = match load_live_post(txn, slug, no)? {
        Some(post) if open.is_some() => post,
        _ => {
            let message = format!("Post {no} on /{slug}/ has no open reports.");
            return Ok(Err(ApiError::new(ErrorKind::ReportNotFound, message)));
        }
    };
    // Every refusal comes before the reports are cleared, so a refused call changes nothing.
    if action == ReportAction::DeleteFiles && post.files.is_empty() {
        return Ok(Err(moderate::no_files(slug, no)));
    }
    // The one place that says what each action does. A ban of the poster reads the post's
    // `posters` row; a ban of the reporters reads `cleared.reports` (their cloaks and addresses).
    let scope = match action {
        ReportAction::Dismiss => None,
        ReportAction::Delete => Some(Scope::Post),
        ReportAction::DeleteFiles => Some(Scope::Files),
        ReportAction::Ban | ReportAction::BanReporters => {
            let message = "a ban of a report goes through BanWrite::Reports, with its terms";
            return Ok(Err(ApiError::internal("report_ban_misrouted", message)));
        }
    };
    let cleared = clear(txn, slug, no, changes)?;
    let reports = cleared.count;
    let Some(scope) = scope else {
        let change = serde_json::json!({ "no": no, "reports": reports });
        let entry = Note {
            reason,
            note,
            ..Note::new(Some(actor), LogAction::ReportDismiss, Some(slug), change)
        };
        modlog::append(txn, entry, now)?;
        return Ok(Ok(Written::Handled {
            reports,
            deleted: Vec::new(),
        }));
    };
    let request = moderate::Request {
        board: slug,
        no,
        scope,
        actor,
        reason,
        note,
    };
    match moderate::delete(txn, &request, Some(reports), now, changes)? {
        Ok(Written::StaffDeleted { nos, .. }) => Ok(Ok(Written::Handled {
            reports,
            deleted: nos,
        })),
        Ok(other) => Ok(Ok(other)),
        Err(refused) => Ok(Err(refused)),
    }
}

/// Erases the addresses of up to `budget` reports filed before `cutoff`, oldest first; returns
/// how many.
pub(super) fn erase(
    txn: &WriteTransaction,
    cutoff: u64,
    budget: usize,
) -> Result<usize, redb::Error> {
    let due: Vec<(u64, String, u64, String)> = {
        let age = txn.open_table(REPORT_ADDRESS_AGE)?;
        let range = age.range(..(cutoff, "", 0, ""))?;
        range
            .take(budget)
            .map(|row| {
                row.map(|(key, _)| {
                    let (at, slug, no, cloak) = key.value();
                    (at, slug.to_owned(), no, cloak.to_owned())
                })
            })
            .collect::<Result<_, _>>()?
    };
    let mut age = txn.open_table(REPORT_ADDRESS_AGE)?;
    let mut reports = txn.open_table(REPORTS)?;
    for (at, slug, no, cloak) in &due {
        age.remove((*at, slug.as_str(), *no, cloak.as_str()))?;
        let key = (slug.as_str(), *no, cloak.as_str());
        let report = reports
            .get(key)?
            .map(|v| stored::<Report>(v.value()))
            .transpose()?;
        if let Some(report) = report {
            let erased = Report {
                address: None,
                ..report
            };
            reports.insert(key, encode(&erased).as_slice())?;
        }
    }
    Ok(due.len())
}

/// Moves the open reports of post `old` on `from` to post `new` on `to`, in the thread move's
/// transaction: the post leaves one board's queue and badge for the other's, under its new
/// number, with its count and latest time. Each reporter's cloak is made again for `to` while
/// the address is kept (so a reporter still cannot report the post twice there), and keeps
/// the old one with the board it was made on once erased. At most [`REPORTS_KEPT`] rows.
pub(super) fn relocate(
    txn: &WriteTransaction,
    keys: &Keys,
    (from, old): (&str, u64),
    (to, new): (&str, u64),
) -> Result<(), redb::Error> {
    let Some((count, latest)) = txn
        .open_table(OPEN_REPORTS)?
        .remove((from, old))?
        .map(|v| v.value())
    else {
        return Ok(());
    };
    txn.open_table(OPEN_REPORTS)?
        .insert((to, new), (count, latest))?;
    {
        let mut order = txn.open_table(REPORT_ORDER)?;
        order.remove((from, latest, old))?;
        order.insert((to, latest, new), ())?;
    }
    add_to_count(txn, from, -1)?;
    add_to_count(txn, to, 1)?;
    let rows: Vec<(String, Report)> = {
        let reports = txn.open_table(REPORTS)?;
        let mut rows = Vec::new();
        for row in reports
            .range((from, old, "")..)?
            .take(REPORTS_KEPT as usize)
        {
            let (key, value) = row?;
            let (b, n, cloak) = key.value();
            if b != from || n != old {
                break;
            }
            rows.push((cloak.to_owned(), stored::<Report>(value.value())?));
        }
        rows
    };
    let mut reports = txn.open_table(REPORTS)?;
    let mut age = txn.open_table(REPORT_ADDRESS_AGE)?;
    for (cloak, report) in rows {
        reports.remove((from, old, cloak.as_str()))?;
        if report.address.is_some() {
            age.remove((report.at, from, old, cloak.as_str()))?;
        }
        let (cloak, cloak_board) = super::posters::recloak(
            keys,
            from,
            to,
            report.address,
            &cloak,
            report.cloak_board.clone(),
        );
        if report.address.is_some() {
            age.insert((report.at, to, new, cloak.as_str()), ())?;
        }
        let moved = Report {
            cloak: cloak.clone(),
            cloak_board,
            ..report
        };
        reports.insert((to, new, cloak.as_str()), encode(&moved).as_slice())?;
    }
    Ok(())
}

/// Adds `delta` to the board's count of posts with open reports, dropping the row at zero.
fn add_to_count(txn: &WriteTransaction, slug: &str, delta: i64) -> Result<(), redb::Error> {
    let mut counts = txn.open_table(REPORT_COUNTS)?;
    let n = counts.get(slug)?.map_or(0, |v| v.value());
    let n = n.saturating_add_signed(delta);
    if n == 0 {
        counts.remove(slug)?;
    } else {
        counts.insert(slug, n)?;
    }
    Ok(())
}

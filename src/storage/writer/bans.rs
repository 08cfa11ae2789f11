//! Writes of bans and their appeals: giving one (with the post's public mark), lifting it,
//! appealing it, answering the appeal, and removing expired bans in chunks.
//!
//! A ban is a row in `bans`, `ban_boards` and, unless permanent, `ban_expiry`, written and
//! removed together; an open appeal also has a row in `ban_appeals`. Each committed change is a
//! [`Change::BanSaved`] or [`Change::BanRemoved`], from which the in-memory index follows.

use redb::{ReadableTable, WriteTransaction};
use serde_json::json;

use super::modlog::{self, Note};
use super::posts::{load_live_post, put_post};
use super::{stored, Applied, Change, Written};
use crate::bans::{Appeal, AppealStatus, Ban, Net, Target};
use crate::error::{ApiError, ErrorKind};
use crate::markup::{self, Dialect};
use crate::model::{BoardPost, LogAction, PosterRecord, Report};
use crate::storage::{
    encode, BANS, BAN_APPEALS, BAN_BOARDS, BAN_EXPIRY, BOARDS, META, OPEN_REPORTS, POSTERS,
    REPORTS, REPORTS_KEPT,
};

/// Expired bans removed per transaction.
pub const EXPIRE_CHUNK: usize = 256;

#[derive(Debug, Clone)]
pub enum BanWrite {
    /// Gives `ban` (its id is assigned here). With `mark`, its post (which must then be live)
    /// shows that public text.
    Create { ban: Box<Ban>, mark: Option<String> },
    /// Ends ban `id` before its time.
    Lift {
        id: u64,
        actor: String,
        note: Option<String>,
    },
    /// The banned poster's one appeal.
    Appeal { id: u64, text: String },
    /// Staff's answer to the open appeal of ban `id`: accepting it ends the ban.
    Answer {
        id: u64,
        accept: bool,
        answer: Option<String>,
        actor: String,
    },
    /// Removes bans that expired by `now`, at most [`EXPIRE_CHUNK`].
    Expire { now: u64 },
    /// Handles the open reports of post `no` with bans, in one transaction: of the post's
    /// poster (with `mark` on the post), or, for report abuse, of every reporter (the reports
    /// are dismissed). `terms` gives the board, reason, note, author and expiry of each ban.
    Reports {
        board: String,
        no: u64,
        reporters: bool,
        terms: Box<Ban>,
        mark: Option<String>,
    },
}

pub(super) fn apply(
    txn: &WriteTransaction,
    write: &BanWrite,
    now: u64,
    changes: &mut Vec<Change>,
) -> Applied {
    match write {
        BanWrite::Create { ban, mark } => create(txn, ban, mark.as_deref(), now, changes),
        BanWrite::Lift { id, actor, note } => {
            let Some(ban) = load(txn, *id)? else {
                return Ok(Err(not_found(*id)));
            };
            remove(txn, &ban, changes)?;
            let change = json!({ "ban": ban.id, "kind": ban.kind() });
            let entry = Note {
                note: note.as_deref(),
                ..Note::new(
                    Some(actor),
                    LogAction::BanLift,
                    ban.board.as_deref(),
                    change,
                )
            };
            modlog::append(txn, entry, now)?;
            Ok(Ok(Written::Ban(Box::new(ban))))
        }
        BanWrite::Appeal { id, text } => {
            let Some(mut ban) = load(txn, *id)? else {
                return Ok(Err(not_found(*id)));
            };
            if ban.appeal.is_some() {
                let message = "This ban was appealed already; a ban takes one appeal.";
                return Ok(Err(ApiError::new(ErrorKind::AppealExists, message)));
            }
            ban.appeal = Some(Appeal {
                text: text.clone(),
                at: now,
                status: AppealStatus::Open,
                answer: None,
                answered_at: None,
                answered_by: None,
            });
            put(txn, &ban, changes)?;
            txn.open_table(BAN_APPEALS)?.insert(ban.id, ())?;
            Ok(Ok(Written::Ban(Box::new(ban))))
        }
        BanWrite::Answer {
            id,
            accept,
            answer,
            actor,
        } => {
            let Some(mut ban) = load(txn, *id)? else {
                return Ok(Err(not_found(*id)));
            };
            let Some(appeal) = ban
                .appeal
                .as_mut()
                .filter(|a| a.status == AppealStatus::Open)
            else {
                let message = format!("Ban {id} has no open appeal to answer.");
                return Ok(Err(ApiError::new(ErrorKind::AppealNotOpen, message)));
            };
            appeal.status = if *accept {
                AppealStatus::Accepted
            } else {
                AppealStatus::Denied
            };
            appeal.answer = answer.clone();
            appeal.answered_at = Some(now);
            appeal.answered_by = Some(actor.clone());
            txn.open_table(BAN_APPEALS)?.remove(ban.id)?;
            let action = if *accept {
                remove(txn, &ban, changes)?;
                LogAction::AppealAccept
            } else {
                put(txn, &ban, changes)?;
                LogAction::AppealDeny
            };
            let change = json!({ "ban": ban.id, "kind": ban.kind() });
            let entry = Note {
                reason: answer.as_deref(),
                ..Note::new(Some(actor), action, ban.board.as_deref(), change)
            };
            modlog::append(txn, entry, now)?;
            Ok(Ok(Written::Ban(Box::new(ban))))
        }
        BanWrite::Expire { now } => {
            let expired: Vec<u64> = {
                let expiry = txn.open_table(BAN_EXPIRY)?;
                let mut ids = Vec::new();
                for row in expiry.range(..=(*now, u64::MAX))?.take(EXPIRE_CHUNK) {
                    ids.push(row?.0.value().1);
                }
                ids
            };
            for id in &expired {
                if let Some(ban) = load(txn, *id)? {
                    remove(txn, &ban, changes)?;
                }
            }
            Ok(Ok(Written::BansExpired(expired.len())))
        }
        BanWrite::Reports {
            board,
            no,
            reporters,
            terms,
            mark,
        } => for_reports(
            txn,
            board,
            *no,
            *reporters,
            terms,
            mark.as_deref(),
            now,
            changes,
        ),
    }
}

/// [`BanWrite::Reports`]. Every refusal comes before anything is written.
#[allow(clippy::too_many_arguments)]
fn for_reports(
    txn: &WriteTransaction,
    slug: &str,
    no: u64,
    reporters: bool,
    terms: &Ban,
    mark: Option<&str>,
    now: u64,
    changes: &mut Vec<Change>,
) -> Applied {
    if txn.open_table(BOARDS)?.get(slug)?.is_none() {
        return Ok(Err(ApiError::board_not_found(slug)));
    }
    let open = txn.open_table(OPEN_REPORTS)?.get((slug, no))?.is_some();
    if !open || load_live_post(txn, slug, no)?.is_none() {
        let message = format!("Post {no} on /{slug}/ has no open reports.");
        return Ok(Err(ApiError::new(ErrorKind::ReportNotFound, message)));
    }
    let post = Some(BoardPost {
        board: slug.to_owned(),
        no,
    });
    // Who is banned: the poster, or each reporter, by network while the address is kept.
    let mut bans = Vec::new();
    if reporters {
        let reports = txn.open_table(REPORTS)?;
        for row in reports.range((slug, no, "")..)?.take(REPORTS_KEPT as usize) {
            let (key, value) = row?;
            let (b, n, _) = key.value();
            if b != slug || n != no {
                break;
            }
            let report: Report = stored(value.value())?;
            bans.push(Ban {
                target: target(slug, report.address, &report.cloak, &report.cloak_board),
                poster_cloak: Some(report.cloak),
                ..terms.clone()
            });
        }
        bans.dedup_by(|a, b| a.target == b.target);
    } else {
        let record: Option<PosterRecord> = {
            let posters = txn.open_table(POSTERS)?;
            let row = posters.get((slug, no))?;
            row.map(|v| stored(v.value())).transpose()?
        };
        let Some(record) = record else {
            let message =
                format!("Post {no} on /{slug}/ was written before posters were recorded.");
            return Ok(Err(ApiError::new(ErrorKind::PosterUnknown, message)));
        };
        bans.push(Ban {
            target: target(slug, record.address, &record.cloak, &record.cloak_board),
            post: post.clone(),
            poster_cloak: Some(record.cloak),
            ..terms.clone()
        });
    }
    for ban in &bans {
        let mark = mark.filter(|_| !reporters);
        if let Err(refused) = create(txn, ban, mark, now, changes)? {
            return Ok(Err(refused));
        }
    }
    let reports = super::reports::clear(txn, slug, no, changes)?.count;
    let action = if reporters {
        "dismiss_and_ban_reporters"
    } else {
        "ban"
    };
    let change = json!({ "no": no, "reports": reports, "action": action, "bans": bans.len() });
    let entry = Note {
        reason: Some(&terms.reason),
        note: terms.note.as_deref(),
        ..Note::new(
            terms.by.as_deref(),
            LogAction::ReportDismiss,
            Some(slug),
            change,
        )
    };
    modlog::append(txn, entry, now)?;
    Ok(Ok(Written::Handled {
        reports,
        deleted: Vec::new(),
    }))
}

/// A poster's or reporter's network while its address is kept, else its cloak on `board` (or
/// on the board it was made on, for a post moved after the erasure).
fn target(
    board: &str,
    address: Option<std::net::IpAddr>,
    cloak: &str,
    cloak_board: &Option<String>,
) -> Target {
    match address {
        Some(address) => Target::Network(Net::of_poster(address)),
        None => Target::Cloak {
            board: cloak_board.as_deref().unwrap_or(board).to_owned(),
            cloak: cloak.to_owned(),
        },
    }
}

/// Gives a ban: the one writer function every way of banning goes through (staff routes,
/// word filters). Refused when its board is gone, or when `mark` is given and its post is not
/// live.
pub(super) fn create(
    txn: &WriteTransaction,
    ban: &Ban,
    mark: Option<&str>,
    now: u64,
    changes: &mut Vec<Change>,
) -> Applied {
    if let Some(board) = &ban.board {
        if txn.open_table(BOARDS)?.get(board.as_str())?.is_none() {
            return Ok(Err(ApiError::board_not_found(board)));
        }
    }
    let marked = match (mark, &ban.post) {
        (Some(message), Some(at)) => match load_live_post(txn, &at.board, at.no)? {
            Some(mut post) => {
                // A second mark replaces the first.
                if let Some(old) = &post.banned_message {
                    let old = markup::banned_mark(old, Dialect::Native);
                    if post.html.ends_with(&old) {
                        post.html.truncate(post.html.len() - old.len());
                    }
                }
                post.html
                    .push_str(&markup::banned_mark(message, Dialect::Native));
                post.banned_message = Some(message.to_owned());
                Some(post)
            }
            None => return Ok(Err(ApiError::post_not_found(&at.board, at.no))),
        },
        _ => None,
    };
    let id = {
        let mut meta = txn.open_table(META)?;
        let id = meta.get("ban_seq")?.map_or(0, |v| v.value()) + 1;
        meta.insert("ban_seq", id)?;
        id
    };
    // The writer's clock dates the ban; its length is the one asked for, from the time the
    // caller gave (a second may have passed since).
    let ban = Ban {
        id,
        created_at: now,
        expires_at: ban
            .expires_at
            .map(|at| now.saturating_add(at.saturating_sub(ban.created_at))),
        ..ban.clone()
    };
    put(txn, &ban, changes)?;
    txn.open_table(BAN_BOARDS)?
        .insert((ban.board.as_deref().unwrap_or(""), id), ())?;
    if let Some(at) = ban.expires_at {
        txn.open_table(BAN_EXPIRY)?.insert((at, id), ())?;
    }
    if let Some(post) = marked {
        put_post(txn, &post)?;
        super::post_changed(txn, &post, changes)?;
    }
    let change = json!({
        "ban": id,
        "kind": ban.kind(),
        "expires_at": ban.expires_at,
        "post": ban.post,
        "cloak": ban.poster_cloak.as_deref().or(match &ban.target {
            Target::Cloak { cloak, .. } => Some(cloak.as_str()),
            Target::Network(_) => None,
        }),
        "marked": ban.post.is_some() && mark.is_some(),
    });
    let entry = Note {
        reason: Some(&ban.reason),
        note: ban.note.as_deref(),
        ..Note::new(
            ban.by.as_deref(),
            LogAction::Ban,
            ban.board.as_deref(),
            change,
        )
    };
    modlog::append(txn, entry, now)?;
    Ok(Ok(Written::Ban(Box::new(ban))))
}

fn not_found(id: u64) -> ApiError {
    ApiError::new(ErrorKind::BanNotFound, format!("There is no ban {id}."))
}

fn load(txn: &WriteTransaction, id: u64) -> Result<Option<Ban>, redb::Error> {
    let table = txn.open_table(BANS)?;
    let row = table.get(id)?;
    row.map(|v| stored(v.value())).transpose()
}

fn put(txn: &WriteTransaction, ban: &Ban, changes: &mut Vec<Change>) -> Result<(), redb::Error> {
    txn.open_table(BANS)?
        .insert(ban.id, encode(ban).as_slice())?;
    changes.push(Change::BanSaved(Box::new(ban.clone())));
    Ok(())
}

/// Removes a ban's rows from every ban table.
fn remove(txn: &WriteTransaction, ban: &Ban, changes: &mut Vec<Change>) -> Result<(), redb::Error> {
    txn.open_table(BANS)?.remove(ban.id)?;
    txn.open_table(BAN_BOARDS)?
        .remove((ban.board.as_deref().unwrap_or(""), ban.id))?;
    if let Some(at) = ban.expires_at {
        txn.open_table(BAN_EXPIRY)?.remove((at, ban.id))?;
    }
    txn.open_table(BAN_APPEALS)?.remove(ban.id)?;
    changes.push(Change::BanRemoved(ban.id));
    Ok(())
}

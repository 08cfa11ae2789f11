//! Staff deletions and reports against the tables: what each scope deletes, what a refusal
//! leaves alone, the batch bound, the review queue's rows, and the log entries.

use serde_json::json;

use super::posters_tests::{apply_at, board, draft, post, rows};
use super::*;
use crate::model::{LogAction, Report, ReportCategory};
use crate::storage::{
    MOD_LOG, OPEN_REPORTS, POSTERS, REPORTS, REPORT_ADDRESS_AGE, REPORT_COUNTS, REPORT_ORDER,
};

fn staff_delete(no: u64, scope: Scope) -> Write {
    Write::StaffDelete {
        board: "t".into(),
        no,
        scope,
        actor: "jan".into(),
        reason: Some("spam".into()),
        note: Some("seen before".into()),
    }
}

fn report(no: u64, cloak: &str, at: u64) -> Write {
    Write::Report {
        board: "t".into(),
        no,
        report: Report {
            category: ReportCategory::Spam,
            note: None,
            cloak: cloak.into(),
            cloak_board: None,
            address: Some("198.51.100.1".parse().unwrap()),
            at,
        },
    }
}

fn handle(no: u64, action: ReportAction) -> Write {
    Write::HandleReports {
        board: "t".into(),
        no,
        action,
        actor: "jan".into(),
        reason: None,
        note: None,
    }
}

fn fresh() -> (tempfile::TempDir, Store) {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    apply_at(&store, Write::PutBoard(board()), 100).unwrap();
    (dir, store)
}

fn live(store: &Store, no: u64) -> bool {
    store.read().unwrap().post("t", no).unwrap().is_some()
}

fn deleted(written: ApiResult<Written>) -> (Vec<u64>, bool) {
    match written.unwrap() {
        Written::StaffDeleted { nos, more } => (nos, more),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_staff_deletion_removes_the_post_and_logs_who_and_why() {
    let (_dir, store) = fresh();
    let op = post(&store, None, "203.0.113.7", "aaaa", 100);
    let reply = post(&store, Some(op), "203.0.113.8", "bbbb", 101);
    apply_at(&store, report(reply, "cccc", 102), 102).unwrap();
    let answer = apply_at(&store, staff_delete(reply, Scope::Post), 103);
    assert_eq!(deleted(answer), (vec![reply], false));
    assert!(!live(&store, reply));
    assert_eq!(
        store
            .read()
            .unwrap()
            .thread_meta("t", op)
            .unwrap()
            .unwrap()
            .replies,
        0
    );
    assert_eq!(rows(&store, POSTERS), 1, "the reply's record went with it");
    assert_eq!(rows(&store, REPORTS), 0, "and its reports");
    assert_eq!(rows(&store, OPEN_REPORTS), 0);
    let log = store.read().unwrap().board_log("t", 10).unwrap();
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].action, LogAction::PostDelete);
    assert_eq!(log[0].actor.as_deref(), Some("jan"));
    assert_eq!(log[0].reason.as_deref(), Some("spam"));
    assert_eq!(log[0].note.as_deref(), Some("seen before"));
    assert_eq!(log[0].change, json!({"no": reply, "thread": op}));

    // Deleting it again, or a number never used, is refused and logs nothing.
    let cases = [
        (reply, ErrorKind::PostDeleted),
        (99, ErrorKind::PostNotFound),
    ];
    for (no, kind) in cases {
        let err = apply_at(&store, staff_delete(no, Scope::Post), 104).unwrap_err();
        assert_eq!(err.kind, kind, "{no}");
    }
    assert_eq!(rows(&store, MOD_LOG), 1);

    // An OP takes its thread.
    deleted(apply_at(&store, staff_delete(op, Scope::Post), 105));
    assert!(store
        .read()
        .unwrap()
        .thread_meta("t", op)
        .unwrap()
        .is_none());
}

#[test]
fn files_only_releases_the_files_and_keeps_the_post() {
    let (_dir, store) = fresh();
    let op = post(&store, None, "203.0.113.7", "aaaa", 100);
    let sha = "cd".repeat(32);
    let with_file = Write::CreateReply {
        board: "t".into(),
        thread: op,
        draft: super::tests::attach(draft("pic", "203.0.113.7", "aaaa"), &sha),
    };
    let Written::Post { no, .. } = apply_at(&store, with_file, 101).unwrap() else {
        panic!()
    };
    let err = apply_at(&store, staff_delete(op, Scope::Files), 102).unwrap_err();
    assert_eq!(err.kind, ErrorKind::NoFiles);
    assert_eq!(rows(&store, MOD_LOG), 0, "a refusal is not logged");

    let txn = store.db.begin_write().unwrap();
    let mut changes = Vec::new();
    apply(&txn, &staff_delete(no, Scope::Files), 103, &mut changes)
        .unwrap()
        .unwrap();
    txn.commit().unwrap();
    assert!(changes
        .iter()
        .any(|c| matches!(c, Change::FileUnreferenced { sha256, .. } if *sha256 == sha)));
    let r = store.read().unwrap();
    let kept = r.post("t", no).unwrap().unwrap();
    assert!(kept.files.is_empty() && kept.files_deleted);
    assert_eq!(r.file(&sha).unwrap(), None);
    let log = r.board_log("t", 1).unwrap();
    assert_eq!(log[0].action, LogAction::FilesDelete);
    assert_eq!(log[0].change["files"], 1);
}

#[test]
fn poster_deletions_follow_the_cloak_in_a_thread_or_on_the_board() {
    let (_dir, store) = fresh();
    let first = post(&store, None, "203.0.113.7", "aaaa", 100);
    let other_op = post(&store, None, "203.0.113.8", "bbbb", 100);
    let a1 = post(&store, Some(first), "203.0.113.7", "aaaa", 101);
    let b1 = post(&store, Some(first), "203.0.113.8", "bbbb", 101);
    let a2 = post(&store, Some(other_op), "203.0.113.7", "aaaa", 102);
    let a_op = post(&store, None, "203.0.113.7", "aaaa", 103);
    let a3 = post(&store, Some(a_op), "203.0.113.7", "aaaa", 103);
    let b2 = post(&store, Some(a_op), "203.0.113.8", "bbbb", 103);

    // In another poster's thread: only that post.
    let (nos, more) = deleted(apply_at(&store, staff_delete(a2, Scope::PosterThread), 104));
    assert_eq!((nos, more), (vec![a2], false));
    assert!(live(&store, other_op));

    // On the board: every post of "aaaa", OPs taking their threads (whose replies, "aaaa"'s
    // too, go with them and are not listed); "bbbb" keeps its thread.
    let (nos, more) = deleted(apply_at(&store, staff_delete(a1, Scope::PosterBoard), 105));
    assert_eq!((nos, more), (vec![first, a_op], false));
    for gone in [first, a1, a_op, a3, b1, b2] {
        assert!(!live(&store, gone), "{gone}");
    }
    assert!(live(&store, other_op));
    let log = store.read().unwrap().board_log("t", 1).unwrap();
    assert_eq!(log[0].action, LogAction::PosterDelete);
    assert_eq!(log[0].change["cloak"], "aaaa");
    assert_eq!(log[0].change["scope"], "poster_board");
    assert_eq!(log[0].change["no"], a1);
}

#[test]
fn a_poster_deletion_goes_a_batch_at_a_time_and_keeps_its_anchor() {
    let (_dir, store) = fresh();
    let op = post(&store, None, "203.0.113.8", "bbbb", 100);
    let anchor = post(&store, Some(op), "203.0.113.7", "aaaa", 100);
    for _ in 0..POSTER_BATCH + 5 {
        post(&store, Some(op), "203.0.113.7", "aaaa", 100);
    }
    let (nos, more) = deleted(apply_at(
        &store,
        staff_delete(anchor, Scope::PosterThread),
        101,
    ));
    assert_eq!(nos.len(), POSTER_BATCH);
    assert!(more);
    assert!(!nos.contains(&anchor) && live(&store, anchor));
    let (nos, more) = deleted(apply_at(
        &store,
        staff_delete(anchor, Scope::PosterThread),
        102,
    ));
    assert_eq!(nos.len(), 6);
    assert!(!more);
    assert!(!live(&store, anchor));
    assert!(live(&store, op));
}

#[test]
fn reports_queue_once_per_cloak_and_leave_when_handled() {
    let (_dir, store) = fresh();
    let op = post(&store, None, "203.0.113.7", "aaaa", 100);
    let reply = post(&store, Some(op), "203.0.113.8", "bbbb", 100);
    apply_at(&store, report(op, "r1", 110), 110).unwrap();
    apply_at(&store, report(reply, "r1", 111), 111).unwrap();
    apply_at(&store, report(op, "r2", 112), 112).unwrap();
    let err = apply_at(&store, report(op, "r1", 113), 113).unwrap_err();
    assert_eq!(err.kind, ErrorKind::AlreadyReported);
    let err = apply_at(&store, report(77, "r1", 113), 113).unwrap_err();
    assert_eq!(err.kind, ErrorKind::PostNotFound);

    let r = store.read().unwrap();
    assert_eq!(r.report_count("t").unwrap(), 2);
    let queue = r.report_queue("t", u64::MAX, 10).unwrap();
    let order: Vec<(u64, u64, u64)> = queue
        .iter()
        .map(|q| (q.post.no, q.count, q.latest_at))
        .collect();
    assert_eq!(
        order,
        vec![(op, 2, 112), (reply, 1, 111)],
        "newest report first"
    );
    assert_eq!(queue[0].reports.len(), 2);
    assert_eq!(r.report_queue("t", 112, 10).unwrap().len(), 1, "paged");
    drop(r);

    // Files-only on a post without files is refused and leaves the reports open.
    let err = apply_at(&store, handle(op, ReportAction::DeleteFiles), 120).unwrap_err();
    assert_eq!(err.kind, ErrorKind::NoFiles);
    assert_eq!(rows(&store, OPEN_REPORTS), 2);

    let answer = apply_at(&store, handle(reply, ReportAction::Dismiss), 121).unwrap();
    assert_eq!(
        answer,
        Written::Handled {
            reports: 1,
            deleted: vec![]
        }
    );
    assert!(live(&store, reply));
    let err = apply_at(&store, handle(reply, ReportAction::Dismiss), 122).unwrap_err();
    assert_eq!(err.kind, ErrorKind::ReportNotFound);
    let answer = apply_at(&store, handle(op, ReportAction::Delete), 123).unwrap();
    assert_eq!(
        answer,
        Written::Handled {
            reports: 2,
            deleted: vec![op]
        }
    );
    assert_eq!(rows(&store, OPEN_REPORTS), 0);
    assert_eq!(rows(&store, REPORT_ORDER), 0);
    assert_eq!(rows(&store, REPORTS), 0);
    assert_eq!(rows(&store, REPORT_COUNTS), 0);
    assert_eq!(rows(&store, REPORT_ADDRESS_AGE), 0);
    let log = store.read().unwrap().board_log("t", 2).unwrap();
    assert_eq!(log[0].action, LogAction::PostDelete);
    assert_eq!(log[0].change["reports"], 2);
    assert_eq!(log[1].action, LogAction::ReportDismiss);
    assert_eq!(log[1].change, json!({"no": reply, "reports": 1}));
}

#[test]
fn reporters_addresses_are_erased_with_the_posters() {
    let (_dir, store) = fresh();
    let op = post(&store, None, "203.0.113.7", "aaaa", 100);
    apply_at(&store, report(op, "r1", 150), 150).unwrap();
    let erase = Write::EraseAddresses { retention_secs: 60 };
    assert_eq!(
        apply_at(&store, erase.clone(), 170),
        Ok(Written::Erased { count: 1 }),
        "the post's address only"
    );
    assert_eq!(
        apply_at(&store, erase, 211),
        Ok(Written::Erased { count: 1 })
    );
    let reports = store.read().unwrap().reports_of("t", op).unwrap();
    assert_eq!(reports[0].address, None);
    assert_eq!(reports[0].cloak, "r1");
    assert_eq!(rows(&store, REPORT_ADDRESS_AGE), 0);
}

/// What handling reports hands to an action on the reporters: every stored report, with its
/// reporter's cloak and address.
#[test]
fn clearing_a_posts_reports_returns_its_reporters() {
    let (_dir, store) = fresh();
    let op = post(&store, None, "203.0.113.7", "aaaa", 100);
    apply_at(&store, report(op, "r1", 110), 110).unwrap();
    apply_at(&store, report(op, "r2", 111), 111).unwrap();
    let txn = store.db.begin_write().unwrap();
    let cleared = reports::clear(&txn, "t", op, &mut Vec::new()).unwrap();
    let again = reports::clear(&txn, "t", op, &mut Vec::new()).unwrap();
    txn.commit().unwrap();
    assert_eq!(cleared.count, 2);
    let cloaks: Vec<&str> = cleared.reports.iter().map(|r| r.cloak.as_str()).collect();
    assert_eq!(cloaks, ["r1", "r2"]);
    assert!(cleared.reports.iter().all(|r| r.address.is_some()));
    assert_eq!((again.count, again.reports.len()), (0, 0));
    assert_eq!(rows(&store, REPORTS), 0);
}

#[test]
fn reports_past_the_kept_ones_are_counted_and_cleared_with_them() {
    let (_dir, store) = fresh();
    let op = post(&store, None, "203.0.113.7", "aaaa", 100);
    let other = post(&store, Some(op), "203.0.113.8", "bbbb", 100);
    let filed = crate::storage::REPORTS_KEPT + 20;
    for i in 0..filed {
        apply_at(&store, report(op, &format!("r{i}"), 110 + i), 110 + i).unwrap();
    }
    apply_at(&store, report(other, "r0", 300), 300).unwrap();

    // Every report counts; the first REPORTS_KEPT are stored; the post is queued once.
    let r = store.read().unwrap();
    assert_eq!(r.report_count("t").unwrap(), 2);
    let queue = r.report_queue("t", u64::MAX, 10).unwrap();
    let listed: Vec<(u64, u64, usize)> = queue
        .iter()
        .map(|q| (q.post.no, q.count, q.reports.len()))
        .collect();
    let kept = crate::storage::REPORTS_KEPT as usize;
    assert_eq!(listed, [(other, 1, 1), (op, filed, kept)]);
    assert_eq!(
        queue[1].latest_at,
        110 + filed - 1,
        "the latest, stored or not"
    );
    assert_eq!(
        r.open_reports("t", op).unwrap(),
        Some((filed, 110 + filed - 1))
    );
    drop(r);
    assert_eq!(rows(&store, REPORTS), kept as u64 + 1);
    assert_eq!(rows(&store, REPORT_ADDRESS_AGE), kept as u64 + 1);

    // Handling reports the whole count and leaves no row of the post behind.
    let answer = apply_at(&store, handle(op, ReportAction::Dismiss), 400).unwrap();
    assert_eq!(
        answer,
        Written::Handled {
            reports: filed,
            deleted: vec![]
        }
    );
    let r = store.read().unwrap();
    assert_eq!(r.report_count("t").unwrap(), 1);
    assert_eq!(r.open_reports("t", op).unwrap(), None);
    let queue = r.report_queue("t", u64::MAX, 10).unwrap();
    assert_eq!(queue.len(), 1);
    assert_eq!(queue[0].post.no, other);
    drop(r);
    assert_eq!(rows(&store, REPORTS), 1);
    assert_eq!(rows(&store, REPORT_ADDRESS_AGE), 1);
    assert_eq!(rows(&store, OPEN_REPORTS), 1);
    assert_eq!(rows(&store, REPORT_ORDER), 1);
    // A reporter seen before reports the post afresh: the count starts again at one.
    apply_at(&store, report(op, "r0", 500), 500).unwrap();
    let r = store.read().unwrap();
    assert_eq!(r.open_reports("t", op).unwrap(), Some((1, 500)));
    assert_eq!(r.report_count("t").unwrap(), 2);
}

//! A moved thread's poster records and open reports: under the new numbers, with cloaks made
//! for the new board while addresses are kept, and nothing left under the old numbers.

use super::posters_tests::{apply_at, board, post, rows};
use super::threads_tests::move_to;
use super::*;
use crate::model::{Report, ReportCategory};
use crate::poster::Keys;
use crate::storage::{
    ADDRESS_AGE, OPEN_REPORTS, POSTERS, POSTER_CLOAKS, REPORTS, REPORT_ADDRESS_AGE, REPORT_ORDER,
};

fn report(board: &str, no: u64, address: &str, at: u64) -> Write {
    let keys = Keys::fixed([7; 32]);
    Write::Report {
        board: board.into(),
        no,
        report: Report {
            category: ReportCategory::Spam,
            note: None,
            cloak: keys.cloak(board, address.parse().unwrap()),
            cloak_board: None,
            address: Some(address.parse().unwrap()),
            at,
        },
    }
}

fn mv(slug: &str, thread: u64, to: &str, now: u64, store: &Store) -> (String, u64) {
    let write = Write::ThreadAction {
        board: slug.into(),
        thread,
        action: move_to(to),
        acting: Acting {
            actor: "mod".into(),
            reason: None,
            note: None,
        },
    };
    match apply_at(store, write, now).unwrap() {
        Written::Thread(state) => (state.board, state.meta.no),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_moved_threads_posters_and_reports_follow_it() {
    let keys = Keys::fixed([7; 32]);
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    apply_at(&store, Write::PutBoard(board()), 100).unwrap();
    let u = Board {
        slug: "u".into(),
        ..board()
    };
    apply_at(&store, Write::PutBoard(u), 100).unwrap();
    let first_on_u = Write::CreateThread {
        board: "u".into(),
        draft: super::posters_tests::draft("first on u", "192.0.2.9", "zzzz"),
    };
    apply_at(&store, first_on_u, 500).unwrap(); // u/1
                                                // t/1 by an address erased before the move, t/2 and t/3 by one kept.
    let op = post(&store, None, "203.0.113.7", "aaaa", 100);
    let kept = "2001:db8::1";
    let r1 = post(
        &store,
        Some(op),
        kept,
        &keys.cloak("t", kept.parse().unwrap()),
        500,
    );
    let r2 = post(
        &store,
        Some(op),
        kept,
        &keys.cloak("t", kept.parse().unwrap()),
        501,
    );
    apply_at(&store, report("t", r1, "198.51.100.1", 100), 100).unwrap();
    apply_at(&store, report("t", r1, "198.51.100.2", 502), 502).unwrap();
    apply_at(&store, report("t", op, "198.51.100.1", 503), 503).unwrap();
    let erase = Write::EraseAddresses {
        retention_secs: 300,
    };
    assert_eq!(
        apply_at(&store, erase, 600),
        Ok(Written::Erased { count: 2 }),
        "the OP's address and the first report's"
    );
    let before = (
        rows(&store, POSTERS),
        rows(&store, POSTER_CLOAKS),
        rows(&store, ADDRESS_AGE),
        rows(&store, REPORTS),
        rows(&store, REPORT_ADDRESS_AGE),
    );

    assert_eq!(mv("t", op, "u", 700, &store), ("u".into(), 2));
    let (op2, r1b, r2b) = (2, 3, 4);
    let r = store.read().unwrap();
    // Nothing is left under the old numbers; no row is lost or doubled.
    for no in [op, r1, r2] {
        assert_eq!(r.poster("t", no).unwrap(), None);
        assert_eq!(r.open_reports("t", no).unwrap(), None);
    }
    assert_eq!(r.report_count("t").unwrap(), 0);
    assert!(r.report_queue("t", u64::MAX, 10).unwrap().is_empty());
    let after = (
        rows(&store, POSTERS),
        rows(&store, POSTER_CLOAKS),
        rows(&store, ADDRESS_AGE),
        rows(&store, REPORTS),
        rows(&store, REPORT_ADDRESS_AGE),
    );
    assert_eq!(after, before);

    // A kept address gets its cloak on u; an erased one keeps t's, and says so.
    let on_u = keys.cloak("u", kept.parse().unwrap());
    let record = r.poster("u", r1b).unwrap().unwrap();
    assert_eq!(
        (record.cloak.as_str(), record.cloak_board),
        (on_u.as_str(), None)
    );
    assert_eq!(record.address, Some(kept.parse().unwrap()));
    let erased = r.poster("u", op2).unwrap().unwrap();
    assert_eq!(erased.address, None);
    assert_eq!(erased.cloak, "aaaa");
    assert_eq!(erased.cloak_board.as_deref(), Some("t"));
    let found: Vec<u64> = r
        .posts_by_cloak("u", &on_u, 0, 10)
        .unwrap()
        .iter()
        .map(|p| p.no)
        .collect();
    assert_eq!(found, [r1b, r2b], "staff deletion by poster finds both");
    assert_eq!(r.posts_by_cloak("u", "aaaa", 0, 10).unwrap().len(), 1);

    // The reports queue of u lists both posts under their new numbers, counts kept.
    assert_eq!(r.report_count("u").unwrap(), 2);
    let queue = r.report_queue("u", u64::MAX, 10).unwrap();
    let listed: Vec<(u64, u64, u64)> = queue
        .iter()
        .map(|q| (q.post.no, q.count, q.latest_at))
        .collect();
    assert_eq!(listed, [(op2, 1, 503), (r1b, 2, 502)]);
    let reporters: Vec<(String, Option<String>)> = queue[1]
        .reports
        .iter()
        .map(|rep| (rep.cloak.clone(), rep.cloak_board.clone()))
        .collect();
    assert_eq!(
        reporters,
        [
            (
                keys.cloak("t", "198.51.100.1".parse().unwrap()),
                Some("t".into())
            ),
            (keys.cloak("u", "198.51.100.2".parse().unwrap()), None),
        ]
    );
    drop(r);
    // A reporter whose address is kept still cannot report the post again on u.
    let again = apply_at(&store, report("u", r1b, "198.51.100.2", 710), 710);
    assert_eq!(
        again.unwrap_err().kind,
        crate::error::ErrorKind::AlreadyReported
    );

    // Back on t, the erased records' cloaks are t's own again.
    let (_, back) = mv("u", op2, "t", 800, &store);
    let r = store.read().unwrap();
    let home = r.poster("t", back).unwrap().unwrap();
    assert_eq!((home.cloak.as_str(), home.cloak_board), ("aaaa", None));
    assert_eq!(r.report_count("u").unwrap(), 0);
    assert_eq!(r.report_count("t").unwrap(), 2);
    assert_eq!(rows(&store, OPEN_REPORTS), 2);
    assert_eq!(rows(&store, REPORT_ORDER), 2);
}

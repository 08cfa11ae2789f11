//! Bucketing by hour and UTC day, pruning past the days shown, and the one-time fill.

use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata};

use super::*;
use crate::model::{Board, PostDraft};
use crate::storage::writer::apply_at;
use crate::storage::{Store, Write, Written};

/// 2026-11-30 00:00:00 UTC: the first second of a day, and of an hour.
const MIDNIGHT: u64 = 1_796_083_200;
const H: u64 = 3600;

/// `(now, row time, hour index, day index, why)`; indexes count from the oldest bucket shown.
type Case = (u64, u64, Option<usize>, Option<usize>, &'static str);

#[test]
fn rows_land_in_their_hour_and_day() {
    let cases: &[Case] = &[
        (
            MIDNIGHT,
            MIDNIGHT,
            Some(23),
            Some(29),
            "the current hour, at its first second",
        ),
        (
            MIDNIGHT + 1799,
            MIDNIGHT,
            Some(23),
            Some(29),
            "the current hour, later in it",
        ),
        (
            MIDNIGHT,
            MIDNIGHT - 1,
            Some(22),
            Some(28),
            "the hour before midnight is yesterday",
        ),
        (
            MIDNIGHT,
            MIDNIGHT - 23 * H,
            Some(0),
            Some(28),
            "the oldest hour shown",
        ),
        (
            MIDNIGHT,
            MIDNIGHT - 24 * H,
            None,
            Some(28),
            "a day ago: in the days only",
        ),
        (
            MIDNIGHT,
            MIDNIGHT - 24 * H - 1,
            None,
            Some(27),
            "past yesterday's start",
        ),
        (
            MIDNIGHT + 23 * H,
            MIDNIGHT,
            Some(0),
            Some(29),
            "today's first hour, at its last",
        ),
        (
            MIDNIGHT,
            MIDNIGHT - 29 * 24 * H,
            None,
            Some(0),
            "the oldest day shown",
        ),
        (
            MIDNIGHT,
            MIDNIGHT - 29 * 24 * H - 1,
            None,
            None,
            "a day older than shown",
        ),
        (
            MIDNIGHT,
            MIDNIGHT + H,
            None,
            None,
            "a bucket from the future",
        ),
    ];
    for &(now, at, hour, day, why) in cases {
        let (hours, days) = fold([(at / H, (3, 1))], now);
        assert_eq!(hours.len(), HOURS_SHOWN as usize, "{why}");
        assert_eq!(days.len(), DAYS_SHOWN as usize, "{why}");
        assert_eq!(hours[23].at, now / H * H, "{why}: the current hour is last");
        assert_eq!(days[29].at, now / 86_400 * 86_400, "{why}: today is last");
        let filled = |b: &[Bucket]| {
            b.iter()
                .position(|b| b.posts != 0)
                .inspect(|&i| assert_eq!((b[i].posts, b[i].threads), (3, 1), "{why}"))
        };
        assert_eq!(filled(&hours), hour, "{why}: hours");
        assert_eq!(filled(&days), day, "{why}: days");
    }
}

#[test]
fn hours_of_one_day_add_up() {
    let rows = (0..24).map(|h| (MIDNIGHT / H + h, (h + 1, 1)));
    let (hours, days) = fold(rows, MIDNIGHT + 23 * H + 59);
    assert_eq!(days[29].posts, (1..=24).sum::<u64>());
    assert_eq!(days[29].threads, 24);
    assert_eq!(hours.iter().map(|b| b.posts).sum::<u64>(), days[29].posts);
    assert!(days[..29].iter().all(|b| *b
        == Bucket {
            at: b.at,
            ..Bucket::default()
        }));
}

#[test]
fn the_oldest_hour_kept_starts_the_oldest_day_shown() {
    assert_eq!(oldest_hour_kept(MIDNIGHT), MIDNIGHT / H - 29 * 24);
    assert_eq!(oldest_hour_kept(MIDNIGHT - 1), MIDNIGHT / H - 30 * 24);
    assert_eq!(oldest_hour_kept(0), 0);
}

fn board(slug: &str) -> Board {
    Board {
        slug: slug.into(),
        title: slug.into(),
        thread_limit: 100,
        ..Board::default()
    }
}

fn draft() -> PostDraft {
    PostDraft {
        name: "Anonymous".into(),
        subject: None,
        body: "hello".into(),
        sage: false,
        files: Vec::new(),
        trip: None,
        id_key: None,
        password: None,
        capcode: None,
        origin: None,
    }
}

/// Applies writes at the given times, each in its own transaction, and returns the thread of
/// the last post.
fn write_at(store: &Store, writes: &[(u64, Write)]) -> u64 {
    let mut thread = 0;
    for (now, write) in writes {
        let txn = store.db.begin_write().unwrap();
        if let Ok(Written::Post { thread: t, .. }) = apply_at(&txn, write, *now) {
            thread = t;
        }
        txn.commit().unwrap();
    }
    thread
}

fn thread(slug: &str) -> Write {
    Write::CreateThread {
        board: slug.into(),
        draft: draft(),
    }
}

fn reply(slug: &str, thread: u64) -> Write {
    Write::CreateReply {
        board: slug.into(),
        thread,
        draft: draft(),
    }
}

fn rows(store: &Store) -> Vec<((String, u64), (u64, u64))> {
    let txn = store.db.begin_read().unwrap();
    let table = txn.open_table(POST_STATS).unwrap();
    table
        .iter()
        .unwrap()
        .map(|row| {
            let (k, v) = row.unwrap();
            let (slug, hour) = k.value();
            ((slug.to_owned(), hour), v.value())
        })
        .collect()
}

#[test]
fn the_writer_counts_posts_and_threads_per_board_and_hour() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let t = MIDNIGHT + 5 * H + 10;
    let op = write_at(
        &store,
        &[
            (t, Write::PutBoard(board("a"))),
            (t, Write::PutBoard(board("b"))),
            (t, thread("a")),
        ],
    );
    write_at(
        &store,
        &[
            (t + 1, reply("a", op)),
            (t + H, reply("a", op)),
            (t + H, thread("b")),
            (t + H, reply("a", 999)),
        ],
    );
    let hour = t / H;
    assert_eq!(
        rows(&store),
        vec![
            (("a".into(), hour), (2, 1)),
            (("a".into(), hour + 1), (1, 0)),
            (("b".into(), hour + 1), (1, 1)),
        ],
        "a refused reply (no such thread) counts nothing"
    );
    let activity = store.read().unwrap().activity(t + H).unwrap();
    assert_eq!(activity.len(), 2);
    assert_eq!(activity[0].board, "a");
    let last = |b: &[Bucket]| (b[b.len() - 1].posts, b[b.len() - 1].threads);
    assert_eq!(last(&activity[0].hours), (1, 0));
    assert_eq!(
        (activity[0].hours[22].posts, activity[0].hours[22].threads),
        (2, 1)
    );
    assert_eq!(last(&activity[0].days), (3, 1));
    assert_eq!(last(&activity[1].days), (1, 1));
}

#[test]
fn buckets_past_the_days_shown_are_pruned() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let old = MIDNIGHT + 12 * H;
    write_at(
        &store,
        &[
            (old, Write::PutBoard(board("a"))),
            (old, Write::PutBoard(board("b"))),
            (old, thread("a")),
            (old, thread("b")),
        ],
    );
    // 29 days later the old day is still the oldest shown; a day after that it is gone, on the
    // board that posts at once, and on the quiet one only when the hourly pruning runs.
    let later = MIDNIGHT + 29 * 86_400 + 23 * H;
    write_at(&store, &[(later, thread("a"))]);
    assert_eq!(rows(&store).len(), 3, "still within the days shown");
    let after = MIDNIGHT + 30 * 86_400;
    write_at(&store, &[(after, thread("a"))]);
    let kept: Vec<_> = rows(&store).into_iter().map(|(k, _)| k).collect();
    assert_eq!(
        kept,
        vec![
            ("a".into(), later / H),
            ("a".into(), after / H),
            ("b".into(), old / H),
        ]
    );
    write_at(&store, &[(after, Write::PruneArchive)]);
    let kept: Vec<_> = rows(&store).into_iter().map(|(k, _)| k).collect();
    assert_eq!(kept, vec![("a".into(), later / H), ("a".into(), after / H)]);
}

#[test]
fn a_deleted_board_takes_its_buckets_along() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    write_at(
        &store,
        &[
            (MIDNIGHT, Write::PutBoard(board("a"))),
            (MIDNIGHT, Write::PutBoard(board("b"))),
            (MIDNIGHT, thread("a")),
            (MIDNIGHT, thread("b")),
            (
                MIDNIGHT,
                Write::DeleteBoard {
                    board: "a".into(),
                    actor: "admin".into(),
                },
            ),
        ],
    );
    assert_eq!(rows(&store), vec![(("b".into(), MIDNIGHT / H), (1, 1))]);
}

#[test]
fn the_fill_counts_the_posts_of_the_days_shown_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let old = MIDNIGHT - 40 * 86_400;
    let op = write_at(
        &store,
        &[(old, Write::PutBoard(board("a"))), (old, thread("a"))],
    );
    write_at(
        &store,
        &[(MIDNIGHT, reply("a", op)), (MIDNIGHT + 1, thread("a"))],
    );
    let txn = store.db.begin_write().unwrap();
    {
        let mut table = txn.open_table(POST_STATS).unwrap();
        table.retain(|_, _| false).unwrap();
        assert!(table.is_empty().unwrap());
    }
    fill(&txn, MIDNIGHT + 2).unwrap();
    txn.commit().unwrap();
    assert_eq!(
        rows(&store),
        vec![(("a".into(), MIDNIGHT / H), (2, 1))],
        "the thread of 40 days ago is older than any bucket kept"
    );
    assert_eq!(
        store.read().unwrap().file_totals().unwrap(),
        FileTotals::default()
    );
}

//! What is stored about posters: written with each post, found by cloak, removed with the post,
//! and the address erased past the retention while the cloak stays.

use redb::{ReadableDatabase, ReadableTableMetadata};

use super::*;
use crate::model::{Origin, PosterRecord};
use crate::storage::{ADDRESS_AGE, POSTERS, POSTER_CLOAKS};

pub(super) fn draft(body: &str, address: &str, cloak: &str) -> PostDraft {
    PostDraft {
        name: "Anonymous".into(),
        subject: None,
        body: body.into(),
        sage: false,
        files: Vec::new(),
        trip: None,
        id_key: None,
        password: Some([1; 32]),
        capcode: None,
        origin: Some(Origin {
            address: address.parse().unwrap(),
            cloak: cloak.into(),
        }),
    }
}

pub(super) fn board() -> Board {
    Board {
        slug: "t".into(),
        title: "Test".into(),
        ..Board::default()
    }
}

/// Applies one write at time `now` in its own transaction and returns its answer.
pub(super) fn apply_at(store: &Store, write: Write, now: u64) -> ApiResult<Written> {
    let txn = store.db.begin_write().unwrap();
    let mut changes = Vec::new();
    let answer = apply(&txn, &write, now, &mut changes).unwrap();
    txn.commit().unwrap();
    answer
}

pub(super) fn rows<K: redb::Key + 'static, V: redb::Value + 'static>(
    store: &Store,
    def: redb::TableDefinition<'static, K, V>,
) -> u64 {
    let txn = store.db.begin_read().unwrap();
    let table = txn.open_table(def).unwrap();
    table.len().unwrap()
}

pub(super) fn post(
    store: &Store,
    thread: Option<u64>,
    address: &str,
    cloak: &str,
    now: u64,
) -> u64 {
    let write = match thread {
        None => Write::CreateThread {
            board: "t".into(),
            draft: draft("op", address, cloak),
        },
        Some(thread) => Write::CreateReply {
            board: "t".into(),
            thread,
            draft: draft("reply", address, cloak),
        },
    };
    match apply_at(store, write, now).unwrap() {
        Written::Post { no, .. } => no,
        other => panic!("{other:?}"),
    }
}

fn numbers(store: &Store, cloak: &str, after: u64, limit: usize) -> Vec<(u64, u64)> {
    let r = store.read().unwrap();
    let found = r.posts_by_cloak("t", cloak, after, limit).unwrap();
    found.iter().map(|p| (p.no, p.thread)).collect()
}

#[test]
fn each_post_records_its_poster_and_is_found_by_cloak() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    apply_at(&store, Write::PutBoard(board()), 100).unwrap();
    let op = post(&store, None, "203.0.113.7", "aaaa", 100);
    let other = post(&store, Some(op), "198.51.100.1", "bbbb", 101);
    let again = post(&store, Some(op), "::ffff:203.0.113.7", "aaaa", 102);
    let second = post(&store, None, "203.0.113.7", "aaaa", 103);

    let r = store.read().unwrap();
    let want = PosterRecord {
        address: Some("203.0.113.7".parse().unwrap()),
        cloak: "aaaa".into(),
        cloak_board: None,
        at: 100,
    };
    assert_eq!(r.poster("t", op).unwrap(), Some(want));
    assert_eq!(
        r.poster("t", again).unwrap().unwrap().address,
        Some("203.0.113.7".parse().unwrap()),
        "an IPv4 client is stored as IPv4 however it came"
    );
    assert_eq!(r.poster("t", 99).unwrap(), None);
    assert_eq!(r.poster("u", op).unwrap(), None);
    // (after, limit) → (no, thread) of the posts found
    type Case = (u64, usize, Vec<(u64, u64)>);
    let cases: [Case; 4] = [
        (0, 10, vec![(op, op), (again, op), (second, second)]),
        (0, 2, vec![(op, op), (again, op)]),
        (again, 10, vec![(second, second)]),
        (second, 10, vec![]),
    ];
    for (after, limit, want) in cases {
        assert_eq!(
            numbers(&store, "aaaa", after, limit),
            want,
            "{after} {limit}"
        );
    }
    assert_eq!(numbers(&store, "bbbb", 0, 10), vec![(other, op)]);
    assert_eq!(numbers(&store, "cccc", 0, 10), vec![]);
    let in_thread = r.posters_in_thread("t", op, 10).unwrap();
    let cloaks: Vec<(u64, &str)> = in_thread
        .iter()
        .map(|(no, p)| (*no, p.cloak.as_str()))
        .collect();
    assert_eq!(cloaks, vec![(op, "aaaa"), (other, "bbbb"), (again, "aaaa")]);
    assert_eq!(r.posters_in_thread("t", op, 1).unwrap().len(), 1);
}

#[test]
fn deleting_a_post_removes_its_record() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    apply_at(&store, Write::PutBoard(board()), 100).unwrap();
    let op = post(&store, None, "203.0.113.7", "aaaa", 100);
    let reply = post(&store, Some(op), "203.0.113.7", "aaaa", 101);
    let delete = |no| Write::DeletePost {
        board: "t".into(),
        no,
        password: [1; 32],
        file_only: false,
    };
    apply_at(&store, delete(reply), 102).unwrap();
    assert_eq!(store.read().unwrap().poster("t", reply).unwrap(), None);
    assert_eq!(numbers(&store, "aaaa", 0, 10), vec![(op, op)]);
    assert_eq!(rows(&store, POSTERS), 1);
    assert_eq!(rows(&store, POSTER_CLOAKS), 1);
    assert_eq!(rows(&store, ADDRESS_AGE), 1);
    // The OP takes its thread with it.
    apply_at(&store, delete(op), 103).unwrap();
    assert_eq!(numbers(&store, "aaaa", 0, 10), vec![]);
    assert_eq!(rows(&store, POSTERS), 0);
    assert_eq!(rows(&store, POSTER_CLOAKS), 0);
    assert_eq!(rows(&store, ADDRESS_AGE), 0);
}

#[test]
fn addresses_past_the_retention_are_erased_and_cloaks_kept() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    apply_at(&store, Write::PutBoard(board()), 100).unwrap();
    let old = post(&store, None, "203.0.113.7", "aaaa", 100);
    let newer = post(&store, Some(old), "2001:db8::1", "bbbb", 150);
    let erase = Write::EraseAddresses { retention_secs: 60 };

    // At 160 the first is 60 seconds old: not yet past the retention.
    assert_eq!(
        apply_at(&store, erase.clone(), 160),
        Ok(Written::Erased { count: 0 })
    );
    assert_eq!(
        apply_at(&store, erase.clone(), 161),
        Ok(Written::Erased { count: 1 })
    );
    let r = store.read().unwrap();
    let erased = r.poster("t", old).unwrap().unwrap();
    assert_eq!(erased.address, None);
    assert_eq!(erased.cloak, "aaaa");
    assert_eq!(
        r.poster("t", newer).unwrap().unwrap().address,
        Some("2001:db8::1".parse().unwrap())
    );
    assert_eq!(numbers(&store, "aaaa", 0, 10), vec![(old, old)]);
    assert_eq!(rows(&store, ADDRESS_AGE), 1);
    assert_eq!(
        apply_at(&store, erase.clone(), 161),
        Ok(Written::Erased { count: 0 }),
        "erased once"
    );
    assert_eq!(
        apply_at(&store, erase, 1000),
        Ok(Written::Erased { count: 1 })
    );
    assert_eq!(rows(&store, ADDRESS_AGE), 0);
    assert_eq!(rows(&store, POSTERS), 2);

    // An erased post's deletion still removes its rows.
    apply_at(
        &store,
        Write::DeletePost {
            board: "t".into(),
            no: newer,
            password: [1; 32],
            file_only: false,
        },
        1001,
    )
    .unwrap();
    assert_eq!(rows(&store, POSTERS), 1);
    assert_eq!(numbers(&store, "bbbb", 0, 10), vec![]);
}

#[test]
fn erasure_goes_a_chunk_at_a_time() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    apply_at(&store, Write::PutBoard(board()), 100).unwrap();
    let op = post(&store, None, "203.0.113.7", "aaaa", 100);
    for _ in 0..ERASE_CHUNK {
        post(&store, Some(op), "203.0.113.7", "aaaa", 100);
    }
    let erase = Write::EraseAddresses { retention_secs: 1 };
    let counts: Vec<Written> = (0..3)
        .map(|_| apply_at(&store, erase.clone(), 200).unwrap())
        .collect();
    assert_eq!(
        counts,
        vec![
            Written::Erased { count: ERASE_CHUNK },
            Written::Erased { count: 1 },
            Written::Erased { count: 0 },
        ]
    );
}

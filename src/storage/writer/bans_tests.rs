//! Ban writes: the rows of each table move together, expiry takes only what has expired, in
//! chunks, and appeals go through their states once.

use redb::{ReadableDatabase, ReadableTableMetadata};

use super::posters_tests::{apply_at, board};
use super::*;
use crate::bans::{AppealStatus, Ban, Net, Target};
use crate::storage::{BANS, BAN_APPEALS, BAN_BOARDS, BAN_EXPIRY, MOD_LOG};

fn ban(address: &str, board: Option<&str>, expires_at: Option<u64>) -> Ban {
    Ban {
        id: 0,
        board: board.map(str::to_owned),
        target: Target::Network(Net::parse(address).unwrap()),
        post: None,
        poster_cloak: None,
        reason: "spam".into(),
        note: Some("private".into()),
        by: Some("mod".into()),
        created_at: 0,
        expires_at,
        appeal: None,
    }
}

/// Gives `ban` at `now`, dated `now` by its caller as the API does.
fn give(store: &Store, ban: Ban, now: u64) -> Box<Ban> {
    let write = Write::Ban(BanWrite::Create {
        ban: Box::new(Ban {
            created_at: now,
            ..ban
        }),
        mark: None,
    });
    match apply_at(store, write, now).unwrap() {
        Written::Ban(ban) => ban,
        other => panic!("{other:?}"),
    }
}

/// Rows of `bans`, `ban_boards`, `ban_expiry`, `ban_appeals`.
fn rows(store: &Store) -> [u64; 4] {
    let txn = store.db.begin_read().unwrap();
    [
        txn.open_table(BANS).unwrap().len().unwrap(),
        txn.open_table(BAN_BOARDS).unwrap().len().unwrap(),
        txn.open_table(BAN_EXPIRY).unwrap().len().unwrap(),
        txn.open_table(BAN_APPEALS).unwrap().len().unwrap(),
    ]
}

#[test]
fn expiry_removes_only_expired_bans_in_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    apply_at(&store, Write::PutBoard(board()), 0).unwrap();
    let total = EXPIRE_CHUNK + 10;
    for i in 0..total {
        give(
            &store,
            ban(
                &format!("10.0.{}.{}", i / 250, i % 250),
                Some("t"),
                Some(100),
            ),
            1,
        );
    }
    give(&store, ban("192.0.2.0/24", None, None), 1);
    give(&store, ban("192.0.2.1", Some("t"), Some(200)), 1);
    assert_eq!(
        rows(&store),
        [total as u64 + 2, total as u64 + 2, total as u64 + 1, 0]
    );

    let expire = |now| match apply_at(&store, Write::Ban(BanWrite::Expire { now }), now) {
        Ok(Written::BansExpired(n)) => n,
        other => panic!("{other:?}"),
    };
    assert_eq!(expire(99), 0, "nothing has expired yet");
    assert_eq!(expire(100), EXPIRE_CHUNK);
    assert_eq!(expire(100), 10);
    assert_eq!(expire(100), 0);
    assert_eq!(
        rows(&store),
        [2, 2, 1, 0],
        "the permanent and the later ban stay"
    );
    assert_eq!(expire(200), 1);
    assert_eq!(rows(&store), [1, 1, 0, 0]);
    let left = store.read().unwrap().all_bans().unwrap();
    assert_eq!(left[0].expires_at, None);
}

#[test]
fn a_ban_written_a_second_after_it_was_asked_for_keeps_its_length() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    apply_at(&store, Write::PutBoard(board()), 0).unwrap();
    let asked = Ban {
        created_at: 100,
        ..ban("10.0.0.1", Some("t"), Some(100 + 12 * 3600))
    };
    let write = Write::Ban(BanWrite::Create {
        ban: Box::new(asked),
        mark: None,
    });
    let Written::Ban(given) = apply_at(&store, write, 101).unwrap() else {
        panic!()
    };
    assert_eq!(given.created_at, 101);
    assert_eq!(given.expires_at, Some(101 + 12 * 3600));
}

#[test]
fn appeals_lifts_and_the_log() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    apply_at(&store, Write::PutBoard(board()), 0).unwrap();
    let first = give(&store, ban("10.0.0.0/8", Some("t"), Some(1000)), 5);
    assert_eq!((first.id, first.created_at), (1, 5));
    let gone = ban("10.0.0.1", Some("gone"), None);
    let write = Write::Ban(BanWrite::Create {
        ban: Box::new(gone),
        mark: None,
    });
    let refused = apply_at(&store, write, 5).unwrap_err();
    assert_eq!(refused.kind, ErrorKind::BoardNotFound);

    let appeal = |text: &str| {
        let write = Write::Ban(BanWrite::Appeal {
            id: 1,
            text: text.into(),
        });
        apply_at(&store, write, 6)
    };
    let answer = |accept: bool| {
        let write = Write::Ban(BanWrite::Answer {
            id: 1,
            accept,
            answer: Some("no".into()),
            actor: "mod".into(),
        });
        apply_at(&store, write, 7)
    };
    assert_eq!(answer(false).unwrap_err().kind, ErrorKind::AppealNotOpen);
    appeal("sorry").unwrap();
    assert_eq!(rows(&store), [1, 1, 1, 1]);
    assert_eq!(appeal("again").unwrap_err().kind, ErrorKind::AppealExists);
    let Written::Ban(denied) = answer(false).unwrap() else {
        panic!()
    };
    assert_eq!(denied.appeal.as_ref().unwrap().status, AppealStatus::Denied);
    assert_eq!(
        rows(&store),
        [1, 1, 1, 0],
        "a denied ban stands, its appeal closed"
    );
    assert_eq!(answer(true).unwrap_err().kind, ErrorKind::AppealNotOpen);

    let lift = Write::Ban(BanWrite::Lift {
        id: 1,
        actor: "mod".into(),
        note: Some("enough".into()),
    });
    apply_at(&store, lift.clone(), 8).unwrap();
    assert_eq!(rows(&store), [0, 0, 0, 0]);
    assert_eq!(
        apply_at(&store, lift, 9).unwrap_err().kind,
        ErrorKind::BanNotFound
    );
    let log = {
        let txn = store.db.begin_read().unwrap();
        txn.open_table(MOD_LOG).unwrap().len().unwrap()
    };
    assert_eq!(log, 3, "ban, denial, lift");
    let entries = store.read().unwrap().board_log("t", 10).unwrap();
    let actions: Vec<_> = entries.iter().map(|e| e.action).collect();
    use crate::model::LogAction;
    assert_eq!(
        actions,
        [LogAction::BanLift, LogAction::AppealDeny, LogAction::Ban]
    );
    assert_eq!(entries[2].reason.as_deref(), Some("spam"));
    assert_eq!(entries[2].note.as_deref(), Some("private"));
    assert!(
        !entries[2].change.to_string().contains("10.0.0.0"),
        "no address in the log"
    );
}

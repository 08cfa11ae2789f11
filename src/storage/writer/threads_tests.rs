//! Unit tests of the staff thread actions: sticky, lock, cyclic and move, checked against the
//! tables and the events they leave.

use redb::ReadableTable;

use super::*;
use crate::storage::{MOD_LOG, MOVED};

fn draft(body: &str) -> PostDraft {
    PostDraft {
        name: "Anonymous".into(),
        subject: None,
        body: body.into(),
        sage: false,
        files: Vec::new(),
        trip: None,
        id_key: None,
        password: None,
        capcode: None,
        origin: None,
    }
}

fn board(slug: &str, bump_limit: u32) -> Board {
    Board {
        slug: slug.into(),
        title: "Test".into(),
        thread_limit: 10,
        bump_limit,
        max_replies: 100,
        max_quotes: 5,
        ..Board::default()
    }
}

pub(super) fn move_to(board: &str) -> ThreadAction {
    ThreadAction::Move {
        to: board.into(),
        keys: Box::new(crate::poster::Keys::fixed([7; 32])),
    }
}

/// Applies one write in its own transaction; the write's answer and its changes.
fn run(store: &Store, write: Write) -> (ApiResult<Written>, Vec<Change>) {
    let txn = store.db.begin_write().unwrap();
    let mut changes = Vec::new();
    let answer = apply(&txn, &write, 1_000, &mut changes).unwrap();
    txn.commit().unwrap();
    (answer, changes)
}

fn ok(store: &Store, write: Write) -> Vec<Change> {
    let (answer, changes) = run(store, write);
    answer.unwrap();
    changes
}

fn thread(slug: &str, body: &str) -> Write {
    Write::CreateThread {
        board: slug.into(),
        draft: draft(body),
    }
}

fn reply(slug: &str, thread: u64, body: &str) -> Write {
    Write::CreateReply {
        board: slug.into(),
        thread,
        draft: draft(body),
    }
}

fn act(slug: &str, thread: u64, action: ThreadAction) -> Write {
    Write::ThreadAction {
        board: slug.into(),
        thread,
        action,
        acting: Acting {
            actor: "mod".into(),
            reason: Some("public".into()),
            note: Some("private".into()),
        },
    }
}

/// The names and data of the live events among `changes`.
fn events(changes: &[Change]) -> Vec<(String, serde_json::Value)> {
    changes
        .iter()
        .filter_map(|c| match c {
            Change::Live(p) => Some(String::from_utf8_lossy(&p.frame).into_owned()),
            _ => None,
        })
        .map(|frame| {
            let line = |prefix: &str| {
                frame
                    .lines()
                    .find_map(|l| l.strip_prefix(prefix))
                    .unwrap()
                    .to_owned()
            };
            (
                line("event: "),
                serde_json::from_str(&line("data: ")).unwrap(),
            )
        })
        .collect()
}

fn log_len(store: &Store) -> u64 {
    use redb::{ReadableDatabase, ReadableTableMetadata};
    let txn = store.db.begin_read().unwrap();
    txn.open_table(MOD_LOG).unwrap().len().unwrap()
}

#[test]
fn flags_are_set_logged_and_announced_once() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    ok(&store, Write::PutBoard(board("t", 10)));
    ok(&store, thread("t", "op"));
    type Check = fn(&crate::model::ThreadMeta) -> bool;
    let cases: [(ThreadAction, &str, Check); 4] = [
        (ThreadAction::Sticky { on: true, order: 3 }, "sticky", |m| {
            m.sticky && m.sticky_order == 3
        }),
        (ThreadAction::Lock(true), "locked", |m| m.locked),
        (ThreadAction::Cyclic(true), "cyclical", |m| m.cyclical),
        (
            ThreadAction::Sticky {
                on: false,
                order: 3,
            },
            "sticky",
            |m| !m.sticky && m.sticky_order == 0,
        ),
    ];
    for (action, field, check) in cases {
        let logged = log_len(&store);
        let changes = ok(&store, act("t", 1, action.clone()));
        let meta = store.read().unwrap().thread_meta("t", 1).unwrap().unwrap();
        assert!(check(&meta), "{action:?}: {meta:?}");
        let sent = events(&changes);
        assert_eq!(sent.len(), 1, "{sent:?}");
        assert_eq!(sent[0].0, "update");
        let want = match field {
            "sticky" => meta.sticky,
            "locked" => meta.locked,
            _ => meta.cyclical,
        };
        assert_eq!(sent[0].1[field], want, "{sent:?}");
        assert_eq!(log_len(&store), logged + 1);
        // The same again changes nothing, announces nothing, logs nothing.
        let again = ok(&store, act("t", 1, action));
        assert!(events(&again).is_empty());
        assert_eq!(log_len(&store), logged + 1);
    }
    let log = store.read().unwrap().board_log("t", 1).unwrap();
    assert_eq!(log[0].action, crate::model::LogAction::ThreadSticky);
    assert_eq!(log[0].reason.as_deref(), Some("public"));
    assert_eq!(log[0].note.as_deref(), Some("private"));
}

#[test]
fn actions_refuse_what_is_not_a_live_thread() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    ok(&store, Write::PutBoard(board("t", 10)));
    ok(&store, Write::PutBoard(board("u", 10)));
    ok(&store, thread("t", "op"));
    ok(&store, reply("t", 1, "reply"));
    let lock = ThreadAction::Lock(true);
    let to = move_to;
    let cases = [
        (act("x", 1, lock.clone()), ErrorKind::BoardNotFound),
        (act("t", 9, lock.clone()), ErrorKind::ThreadNotFound),
        (act("t", 2, lock.clone()), ErrorKind::ThreadNotFound),
        (act("t", 1, to("t")), ErrorKind::InvalidValue),
        (act("t", 1, to("zz")), ErrorKind::BoardNotFound),
    ];
    for (write, kind) in cases {
        let (answer, changes) = run(&store, write.clone());
        assert_eq!(answer.unwrap_err().kind, kind, "{write:?}");
        assert!(changes.is_empty(), "{write:?}");
    }
    ok(&store, act("t", 1, to("u")));
    let (answer, _) = run(&store, act("t", 1, lock));
    let err = answer.unwrap_err();
    assert_eq!(err.kind, ErrorKind::ThreadNotFound);
    assert!(err.message.contains("moved to /u/"), "{}", err.message);
}

#[test]
fn a_cyclical_thread_keeps_its_length_and_its_op() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    ok(&store, Write::PutBoard(board("t", 3)));
    ok(&store, thread("t", "op"));
    ok(&store, act("t", 1, ThreadAction::Cyclic(true)));
    let mut deleted = Vec::new();
    for i in 0..6 {
        let changes = ok(&store, reply("t", 1, &format!("r{i}")));
        deleted.extend(
            events(&changes)
                .into_iter()
                .filter(|(name, _)| name == "delete")
                .map(|(_, data)| data["no"].as_u64().unwrap()),
        );
    }
    let r = store.read().unwrap();
    let nos: Vec<u64> = r
        .thread_posts("t", 1, 0)
        .unwrap()
        .iter()
        .map(|p| p.no)
        .collect();
    assert_eq!(nos, [1, 5, 6, 7]);
    assert_eq!(deleted, [2, 3, 4]);
    let meta = r.thread_meta("t", 1).unwrap().unwrap();
    assert_eq!(meta.replies, 3);
    assert!(!meta.locked);
    // Past the bump limit it still bumps: the newest reply's number orders it.
    assert_eq!(meta.bump_key, 7);
    assert_eq!(r.tombstone("t", 2).unwrap(), Some(1));
}

#[test]
fn a_moved_thread_gets_new_numbers_and_its_links_follow() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    ok(&store, Write::PutBoard(board("t", 10)));
    ok(&store, Write::PutBoard(board("u", 10)));
    ok(&store, thread("u", "first on u")); // u/1
    ok(&store, thread("t", "op")); // t/1
    ok(&store, thread("t", "other")); // t/2
    ok(&store, reply("t", 1, ">>1 and >>2")); // t/3
    ok(&store, reply("t", 2, ">>3 from outside")); // t/4
    let changes = ok(&store, act("t", 1, move_to("u")));
    let r = store.read().unwrap();
    // t/1 → u/2, t/3 → u/3.
    assert!(r.thread_meta("t", 1).unwrap().is_none());
    let meta = r.thread_meta("u", 2).unwrap().unwrap();
    assert_eq!(meta.replies, 1);
    let posts = r.thread_posts("u", 2, 0).unwrap();
    let nos: Vec<u64> = posts.iter().map(|p| p.no).collect();
    assert_eq!(nos, [2, 3]);
    assert_eq!(posts[1].body, ">>2 and >>>/t/2");
    assert!(
        posts[1].html.contains("href=\"/u/thread/2#p2\""),
        "{}",
        posts[1].html
    );
    assert!(
        posts[1].html.contains("href=\"/t/thread/2#p2\""),
        "{}",
        posts[1].html
    );
    assert_eq!(posts[0].backlinks, [3]);
    // The outside post still says >>3 and links to u/3.
    let outside = r.post("t", 4).unwrap().unwrap();
    assert_eq!(outside.body, ">>3 from outside");
    assert!(
        outside.html.contains("href=\"/u/thread/2#p3\""),
        "{}",
        outside.html
    );
    assert_eq!(
        r.post("u", 3).unwrap().unwrap().cross_backlinks,
        [crate::model::BoardPost {
            board: "t".into(),
            no: 4
        }]
    );
    assert_eq!(r.post("t", 2).unwrap().unwrap().cross_backlinks.len(), 1);
    assert_eq!(r.moved("t", 1).unwrap(), Some(("u".into(), 2, 2)));
    assert_eq!(r.moved("t", 3).unwrap(), Some(("u".into(), 3, 2)));
    assert_eq!(r.board_counters("u").unwrap(), (3, 2));
    assert_eq!(r.board_counters("t").unwrap().1, 1);
    let order: Vec<u64> = r.live_threads("u").unwrap().iter().map(|m| m.no).collect();
    assert_eq!(order, [2, 1]);
    let sent = events(&changes);
    let left = sent.iter().find(|(name, _)| name == "update").unwrap();
    assert_eq!(left.1["board"], "t");
    assert_eq!(left.1["moved_to"]["board"], "u");
    assert_eq!(left.1["moved_to"]["thread"], 2);
    assert!(sent
        .iter()
        .any(|(name, data)| name == "thread" && data["board"] == "u" && data["thread"] == 2));
    let txn = {
        use redb::ReadableDatabase;
        store.db.begin_read().unwrap()
    };
    let moved = txn.open_table(MOVED).unwrap();
    assert_eq!(moved.iter().unwrap().count(), 2);
    // One log entry, listed on both boards.
    let (from_log, to_log) = (r.board_log("t", 10).unwrap(), r.board_log("u", 10).unwrap());
    assert_eq!(from_log[0].action, crate::model::LogAction::ThreadMove);
    assert_eq!(to_log.len(), 1);
    assert_eq!(to_log[0], from_log[0]);
    assert_eq!(to_log[0].board.as_deref(), Some("t"));
    assert_eq!(to_log[0].change["to"]["thread"], 2);
}

/// The cost of moving a thread at the reply cap (1000 replies, each quoting the one before):
/// `cargo test --lib measure_move -- --ignored --nocapture`.
#[test]
#[ignore]
fn measure_move() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let capped = Board {
        max_replies: 1000,
        ..board("t", 300)
    };
    ok(&store, Write::PutBoard(capped));
    ok(&store, Write::PutBoard(board("u", 300)));
    ok(&store, thread("t", "op"));
    let txn = store.db.begin_write().unwrap();
    let mut changes = Vec::new();
    for no in 1..=1000u64 {
        let write = reply("t", 1, &format!(">>{no} reply"));
        apply(&txn, &write, 1_000, &mut changes).unwrap().unwrap();
    }
    txn.commit().unwrap();
    let started = std::time::Instant::now();
    let changes = ok(&store, act("t", 1, move_to("u")));
    let took = started.elapsed();
    let posts = store.read().unwrap().thread_posts("u", 1, 0).unwrap();
    assert_eq!(posts.len(), 1001);
    println!(
        "moving a thread of 1001 posts (each reply quoting the post before): {took:?}, \
         {} changes, {} live events",
        changes.len(),
        events(&changes).len()
    );
}

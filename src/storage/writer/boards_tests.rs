//! Boards through the writer: seeding rules, creating, changing, deleting and the chunked purge
//! of a deleted board, checked against the tables.

use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata};
use serde_json::json;

use super::*;
use crate::model::LogAction;
use crate::storage::{
    BACKLINKS, BOARD_PURGE, FILES, MOD_LOG, PASSWORDS, POSTS, PURGE, QUOTES, SEEDED, THREADS,
    THREAD_POSTS, TOMBSTONES,
};

fn draft(body: &str) -> PostDraft {
    PostDraft {
        name: "Anonymous".into(),
        subject: None,
        body: body.into(),
        sage: false,
        files: Vec::new(),
        trip: None,
        id_key: None,
        password: Some([7; 32]),
        capcode: None,
        origin: None,
    }
}

fn with_file(body: &str, sha256: &str) -> PostDraft {
    super::tests::attach(draft(body), sha256)
}

fn board(slug: &str, title: &str) -> Board {
    Board {
        slug: slug.into(),
        title: title.into(),
        thread_limit: 3,
        archive_days: 7,
        ..Board::default()
    }
}

/// Applies writes in one transaction, as the writer would: each write's own outcome, and the
/// changes.
fn apply_all(store: &Store, writes: &[Write]) -> (Vec<ApiResult<Written>>, Vec<Change>) {
    let txn = store.db.begin_write().unwrap();
    let mut changes = Vec::new();
    let mut outcomes = Vec::new();
    for write in writes {
        outcomes.push(apply(&txn, write, 1_000, &mut changes).unwrap());
    }
    txn.commit().unwrap();
    (outcomes, changes)
}

fn ok(store: &Store, write: Write) -> Written {
    apply_all(store, &[write]).0.remove(0).unwrap()
}

fn refused(store: &Store, write: Write) -> ApiError {
    apply_all(store, &[write]).0.remove(0).unwrap_err()
}

fn rows<K: redb::Key + 'static, V: redb::Value + 'static>(
    store: &Store,
    def: redb::TableDefinition<'static, K, V>,
) -> u64 {
    let txn = store.db.begin_read().unwrap();
    let table = txn.open_table(def).unwrap();
    table.len().unwrap()
}

fn log(store: &Store) -> Vec<crate::model::LogEntry> {
    let txn = store.db.begin_read().unwrap();
    let table = txn.open_table(MOD_LOG).unwrap();
    table
        .iter()
        .unwrap()
        .map(|row| decode(row.unwrap().1.value()).unwrap())
        .collect()
}

fn patch(value: serde_json::Value) -> Write {
    Write::UpdateBoard {
        board: "t".into(),
        patch: value.as_object().unwrap().clone(),
        video: false,
        actor: "alice".into(),
    }
}

#[test]
fn seeding_creates_only_what_the_database_never_held() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let first = vec![board("t", "Seeded"), board("u", "Other")];
    assert_eq!(
        ok(&store, Write::SeedBoards(first.clone())),
        Written::Seeded(vec!["t".into(), "u".into()])
    );
    ok(&store, patch(json!({"title": "Edited"})));
    ok(
        &store,
        Write::DeleteBoard {
            board: "u".into(),
            actor: "alice".into(),
        },
    );
    // The same config again, and a new board in it: only the new one is created; the edit
    // stays, and the deleted board stays deleted (even once its purge is over).
    while run_purge_step(&store) {}
    let again = vec![board("t", "Seeded"), board("u", "Other"), board("v", "New")];
    assert_eq!(
        ok(&store, Write::SeedBoards(again)),
        Written::Seeded(vec!["v".into()])
    );
    let reader = store.read().unwrap();
    assert_eq!(reader.board("t").unwrap().unwrap().title, "Edited");
    assert!(reader.board("u").unwrap().is_none());
    assert_eq!(rows(&store, SEEDED), 3);
    let entries = log(&store);
    let seeds: Vec<_> = entries
        .iter()
        .filter(|e| e.actor.is_none())
        .map(|e| (e.action, e.board.clone().unwrap()))
        .collect();
    assert_eq!(
        seeds,
        [
            (LogAction::BoardCreate, "t".to_owned()),
            (LogAction::BoardCreate, "u".to_owned()),
            (LogAction::BoardCreate, "v".to_owned())
        ]
    );
}

#[test]
fn a_board_stored_before_seeding_existed_counts_as_seeded() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    ok(&store, Write::PutBoard(board("t", "Stored")));
    assert_eq!(
        ok(&store, Write::SeedBoards(vec![board("t", "Config")])),
        Written::Seeded(vec![])
    );
    assert_eq!(
        store.read().unwrap().board("t").unwrap().unwrap().title,
        "Stored"
    );
    assert_eq!(rows(&store, SEEDED), 1);
}

#[test]
fn changes_are_checked_against_the_stored_board_and_logged() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    ok(
        &store,
        Write::CreateBoard {
            board: board("t", "Test"),
            actor: "alice".into(),
        },
    );
    let again = refused(
        &store,
        Write::CreateBoard {
            board: board("t", "Twice"),
            actor: "alice".into(),
        },
    );
    assert_eq!(again.kind, ErrorKind::BoardExists);

    let Written::BoardSaved(saved) = ok(
        &store,
        patch(json!({
            "rules": "**no** spam\n>>>/t/",
            "nsfw": true,
            "max_post_bytes": 2000,
            "max_file_bytes": 1500
        })),
    ) else {
        panic!("no board");
    };
    assert!(saved.nsfw);
    assert_eq!(
        saved.rules_html,
        "<strong>no</strong> spam<br><a class=\"boardlink\" href=\"/t/\">&gt;&gt;&gt;/t/</a>"
    );
    // A file limit over the stored post limit: the change is refused, naming the field, and
    // nothing of it is kept.
    let err = refused(
        &store,
        patch(json!({"title": "Kept?", "max_file_bytes": 3000})),
    );
    assert_eq!(
        (err.kind, err.field.as_deref()),
        (ErrorKind::OutOfRange, Some("max_file_bytes"))
    );
    let stored = store.read().unwrap().board("t").unwrap().unwrap();
    assert_eq!(stored.title, "Test");
    assert_eq!(stored.max_post_bytes, 2000);
    assert_eq!(stored.max_file_bytes, 1500, "the stored board was checked");
    // A change that changes nothing is not logged, and tells nobody.
    let (_, quiet) = apply_all(&store, &[patch(json!({"nsfw": true}))]);
    assert!(quiet.is_empty(), "{quiet:?}");
    // A change tells the board's live subscribers, and readers.
    let (_, told) = apply_all(&store, &[patch(json!({"nsfw": false}))]);
    assert!(told.contains(&Change::Board { board: "t".into() }));
    let frames: Vec<String> = told
        .iter()
        .filter_map(|c| match c {
            Change::Live(p) => Some(String::from_utf8_lossy(&p.frame).into_owned()),
            _ => None,
        })
        .collect();
    assert_eq!(frames.len(), 1);
    assert!(
        frames[0].contains(
            "event: board\ndata: {\"event\":\"board\",\"board\":\"t\",\"deleted\":false}"
        ),
        "{}",
        frames[0]
    );

    let entries = log(&store);
    assert_eq!(entries.len(), 3);
    assert_eq!(entries[1].action, LogAction::BoardUpdate);
    assert_eq!(entries[1].actor.as_deref(), Some("alice"));
    assert_eq!(
        entries[1].change["nsfw"],
        json!({"old": false, "new": true})
    );
    assert_eq!(
        entries[1].change["max_post_bytes"],
        json!({"old": 20 << 20, "new": 2000})
    );
    assert!(entries[1].change.get("title").is_none());
    let by_board = store.read().unwrap().board_log("t", 10).unwrap();
    assert_eq!(
        by_board.iter().map(|e| e.id).collect::<Vec<_>>(),
        [3, 2, 1],
        "newest first"
    );
}

/// Runs one purge transaction; whether more is left.
fn run_purge_step(store: &Store) -> bool {
    let txn = store.db.begin_write().unwrap();
    let mut changes = Vec::new();
    let more = match boards::purge_step(&txn, &mut changes).unwrap() {
        Some(more) => more,
        None => delete::purge_step(&txn, delete::PURGE_CHUNK, &mut changes).unwrap(),
    };
    txn.commit().unwrap();
    more
}

fn post_rows(store: &Store, slug: &str) -> usize {
    let txn = store.db.begin_read().unwrap();
    let posts = txn.open_table(POSTS).unwrap();
    let range = posts.range((slug, 0)..=(slug, u64::MAX)).unwrap();
    range.count()
}

#[test]
fn a_deleted_board_is_gone_at_once_and_purged_in_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let shared = "ab".repeat(32);
    let own = "cd".repeat(32);
    let mut writes = vec![
        Write::PutBoard(board("t", "Doomed")),
        Write::PutBoard(board("u", "Stays")),
        Write::CreateThread {
            board: "t".into(),
            draft: with_file("op", &own),
        },
        Write::CreateThread {
            board: "u".into(),
            draft: with_file("u op", &shared),
        },
    ];
    // Five threads on /t/ with a thread limit of 3: two are archived.
    for n in 0..4 {
        writes.push(Write::CreateThread {
            board: "t".into(),
            draft: with_file(&format!("thread {n}"), &shared),
        });
    }
    for _ in 0..40 {
        writes.push(Write::CreateReply {
            board: "t".into(),
            thread: 1,
            draft: draft(">>1 reply"),
        });
    }
    writes.push(Write::CreateReply {
        board: "u".into(),
        thread: 1,
        draft: draft(">>>/t/1 across"),
    });
    apply_all(&store, &writes);
    // Post 3 is deleted already: its tombstone must go too.
    apply_all(
        &store,
        &[Write::DeletePost {
            board: "t".into(),
            no: 3,
            password: [7; 32],
            file_only: false,
        }],
    );
    assert!(rows(&store, TOMBSTONES) > 0);
    let last_no = store.read().unwrap().board_counters("t").unwrap().0;

    let (outcomes, changes) = apply_all(
        &store,
        &[Write::DeleteBoard {
            board: "t".into(),
            actor: "alice".into(),
        }],
    );
    assert_eq!(outcomes[0], Ok(Written::Deleted));
    assert!(changes.contains(&Change::BoardDeleted { board: "t".into() }));
    {
        let reader = store.read().unwrap();
        assert!(reader.board("t").unwrap().is_none());
        assert_eq!(reader.deleting_boards().unwrap(), ["t"]);
    }
    // While it is being deleted, the slug cannot be taken again.
    let early = refused(
        &store,
        Write::CreateBoard {
            board: board("t", "Again"),
            actor: "alice".into(),
        },
    );
    assert_eq!(early.kind, ErrorKind::BoardExists);

    let mut steps = 0;
    while run_purge_step(&store) {
        steps += 1;
        assert!(steps < 100, "the purge does not end");
    }
    // Unlisting, then 44 posts 32 at a time over five threads, then tombstones, then done.
    assert!(steps >= 4, "{steps} steps");
    assert_eq!(post_rows(&store, "t"), 0);
    assert_eq!(post_rows(&store, "u"), 2);
    assert_eq!(rows(&store, BOARD_PURGE), 0);
    assert_eq!(rows(&store, PURGE), 0);
    assert_eq!(rows(&store, TOMBSTONES), 0);
    assert_eq!(rows(&store, THREADS), 1, "only /u/'s thread");
    assert_eq!(rows(&store, THREAD_POSTS), 2);
    assert_eq!(rows(&store, PASSWORDS), 2);
    // Only /u/'s quote into /t/ is left, with its mirror: it goes with the post holding it,
    // and it is what draws that post's link dead.
    assert_eq!(rows(&store, QUOTES), 1);
    assert_eq!(rows(&store, BACKLINKS), 1);
    // The file only /t/ carried is gone; the shared one is still carried by /u/'s OP.
    {
        let reader = store.read().unwrap();
        assert!(reader.file(&own).unwrap().is_none());
        assert_eq!(reader.file(&shared).unwrap().unwrap().refs, 1);
        assert_eq!(rows(&store, FILES), 1);
        let across = reader.post("u", 2).unwrap().unwrap();
        assert!(across.html.contains("deadlink"), "{}", across.html);
        assert_eq!(reader.board_counters("t").unwrap(), (last_no, 0));
    }
    // Created again, the board goes on numbering where it stopped.
    ok(
        &store,
        Write::CreateBoard {
            board: board("t", "Again"),
            actor: "alice".into(),
        },
    );
    let Written::Post { no, .. } = ok(
        &store,
        Write::CreateThread {
            board: "t".into(),
            draft: draft("fresh"),
        },
    ) else {
        panic!("no post");
    };
    assert_eq!(no, last_no + 1);
    let actions: Vec<_> = log(&store).iter().map(|e| e.action).collect();
    assert_eq!(actions, [LogAction::BoardDelete, LogAction::BoardCreate]);
}

#[test]
fn the_file_of_a_deleted_board_is_released_as_self_deletion_does() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let sha = "ef".repeat(32);
    apply_all(
        &store,
        &[
            Write::PutBoard(board("t", "Doomed")),
            Write::SetMirror(true),
            Write::CreateThread {
                board: "t".into(),
                draft: with_file("op", &sha),
            },
            Write::DeleteBoard {
                board: "t".into(),
                actor: "alice".into(),
            },
        ],
    );
    let txn = store.db.begin_write().unwrap();
    let mut all = Vec::new();
    loop {
        let mut changes = Vec::new();
        let more = boards::purge_step(&txn, &mut changes).unwrap();
        all.extend(changes);
        if more != Some(true) {
            break;
        }
    }
    txn.commit().unwrap();
    assert!(all.contains(&Change::FileUnreferenced {
        sha256: sha.clone(),
        ext: "png".into(),
        thumb_ext: "webp".into(),
    }));
    assert!(all.contains(&Change::OutboxQueued), "sent to the S3 trash");
    // No per-post `delete` event: the board's one `board` event told the clients.
    assert!(!all.iter().any(|c| matches!(c, Change::Live(_))));
}

/// A version 3 database had no `seeded` table: its boards all came from the config, so after
/// the migration each counts as seeded, and the config no longer overwrites or recreates it.
#[test]
fn a_version_3_database_counts_its_boards_as_seeded() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        ok(&store, Write::PutBoard(board("t", "Stored")));
        let txn = store.db.begin_write().unwrap();
        for table in ["seeded", "board_purge", "mod_log", "mod_log_boards"] {
            txn.delete_table(redb::TableDefinition::<&str, ()>::new(table))
                .unwrap();
        }
        txn.open_table(crate::storage::META)
            .unwrap()
            .insert("schema_version", 3)
            .unwrap();
        txn.commit().unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    assert_eq!(rows(&store, SEEDED), 1);
    assert_eq!(
        ok(&store, Write::SeedBoards(vec![board("t", "Config")])),
        Written::Seeded(vec![])
    );
    assert_eq!(
        store.read().unwrap().board("t").unwrap().unwrap().title,
        "Stored"
    );
}

/// Staff may lower `thread_limit` far below the live count: the next thread pushes every
/// thread over it out of the live list at once, but removes only one chunk of posts inline.
#[test]
fn a_lowered_thread_limit_pushes_out_in_bounded_work() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let mut writes = vec![Write::PutBoard(Board {
        archive_days: 0,
        ..board("t", "Busy")
    })];
    for n in 1..=3u64 {
        writes.push(Write::CreateThread {
            board: "t".into(),
            draft: draft("op"),
        });
        let thread = (n - 1) * 21 + 1;
        for _ in 0..20 {
            writes.push(Write::CreateReply {
                board: "t".into(),
                thread,
                draft: draft("reply"),
            });
        }
    }
    apply_all(&store, &writes);
    assert_eq!(store.read().unwrap().board_counters("t").unwrap(), (63, 3));
    ok(&store, patch(json!({"thread_limit": 1})));
    ok(
        &store,
        Write::CreateThread {
            board: "t".into(),
            draft: draft("new"),
        },
    );
    assert_eq!(store.read().unwrap().board_counters("t").unwrap(), (64, 1));
    // 63 posts left the live list; 32 of them went at once, the rest wait for the purge.
    assert_eq!(post_rows(&store, "t"), 64 - 32);
    assert_eq!(rows(&store, PURGE), 2);
    while run_purge_step(&store) {}
    assert_eq!(post_rows(&store, "t"), 1);
}

#[tokio::test]
async fn a_restart_finishes_an_interrupted_board_deletion() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        let mut writes = vec![
            Write::PutBoard(board("t", "Doomed")),
            Write::PutBoard(board("u", "Stays")),
            Write::CreateThread {
                board: "t".into(),
                draft: draft("op"),
            },
            Write::CreateThread {
                board: "u".into(),
                draft: draft("op"),
            },
        ];
        for _ in 0..70 {
            writes.push(Write::CreateReply {
                board: "t".into(),
                thread: 1,
                draft: draft("reply"),
            });
        }
        writes.push(Write::DeleteBoard {
            board: "t".into(),
            actor: "alice".into(),
        });
        apply_all(&store, &writes);
        assert!(run_purge_step(&store), "unlisting");
        assert!(run_purge_step(&store), "the first chunk of posts");
        assert_eq!(post_rows(&store, "t"), 71 - 32);
    }
    let store = Store::open(dir.path()).unwrap();
    let writer = Writer::start(&store, Box::new(|_| {}));
    // Writes go on meanwhile, taking turns with the purge.
    for _ in 0..100 {
        let reply = Write::CreateReply {
            board: "u".into(),
            thread: 1,
            draft: draft("meanwhile"),
        };
        writer.submit(reply).await.unwrap();
        if rows(&store, BOARD_PURGE) == 0 {
            break;
        }
    }
    assert_eq!(rows(&store, BOARD_PURGE), 0, "the deletion did not resume");
    assert_eq!(post_rows(&store, "t"), 0);
    writer.stop().await;
}

/// How long the purge of a deleted board holds the writer: prints the slowest transaction and
/// the total for 200 threads of 50 posts, each reply quoting its OP. Run with
/// `-- --ignored --nocapture`.
#[test]
#[ignore]
fn measure_board_purge() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    apply_all(
        &store,
        &[Write::PutBoard(Board {
            thread_limit: 1000,
            ..board("t", "Big")
        })],
    );
    for t in 0..200u64 {
        let mut writes = vec![Write::CreateThread {
            board: "t".into(),
            draft: draft("op"),
        }];
        let op = t * 50 + 1;
        for _ in 0..49 {
            writes.push(Write::CreateReply {
                board: "t".into(),
                thread: op,
                draft: draft(&format!(">>{op} a reply")),
            });
        }
        apply_all(&store, &writes);
    }
    assert_eq!(post_rows(&store, "t"), 10_000);
    let started = std::time::Instant::now();
    apply_all(
        &store,
        &[Write::DeleteBoard {
            board: "t".into(),
            actor: "alice".into(),
        }],
    );
    let delete = started.elapsed();
    let mut times = Vec::new();
    let started = std::time::Instant::now();
    loop {
        let step = std::time::Instant::now();
        let more = run_purge_step(&store);
        times.push(step.elapsed());
        if !more {
            break;
        }
    }
    let total = started.elapsed();
    let mut sorted = times.clone();
    sorted.sort();
    println!(
        "delete: {delete:?}; purge of 10 000 posts: {} transactions, {total:?} in all; median \
         {:?}, 99th percentile {:?}, slowest {:?} (step {})",
        times.len(),
        sorted[sorted.len() / 2],
        sorted[sorted.len() * 99 / 100],
        sorted[sorted.len() - 1],
        times
            .iter()
            .position(|t| *t == sorted[sorted.len() - 1])
            .unwrap()
    );
    assert_eq!(post_rows(&store, "t"), 0);
}

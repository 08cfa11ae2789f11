//! Chunked thread deletion, its resumption after a restart, quote rows, the reply cap, the
//! bounded `recent` list and the version 1 migration, checked against the tables.

use redb::{ReadableDatabase, ReadableTable, ReadableTableMetadata};

use super::*;
use crate::model::{Post, ThreadMeta};
use crate::storage::{
    BACKLINKS, EVENTS, META, POSTS, PURGE, QUOTES, RECENT, RECENT_KEPT, SCHEMA_VERSION, TOMBSTONES,
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
        password: None,
        capcode: None,
        origin: None,
    }
}

fn board(slug: &str) -> Board {
    Board {
        slug: slug.into(),
        title: "Test".into(),
        thread_limit: 10,
        max_replies: 100,
        max_quotes: 5,
        ..Board::default()
    }
}

/// Applies writes in one transaction, as the writer would, and returns their changes.
fn apply_all(store: &Store, writes: &[Write]) -> Vec<Change> {
    let txn = store.db.begin_write().unwrap();
    let mut changes = Vec::new();
    for write in writes {
        apply(&txn, write, 1_000, &mut changes).unwrap().unwrap();
    }
    txn.commit().unwrap();
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

fn rows<K: redb::Key + 'static, V: redb::Value + 'static>(
    store: &Store,
    def: redb::TableDefinition<'static, K, V>,
) -> u64 {
    let txn = store.db.begin_read().unwrap();
    let table = txn.open_table(def).unwrap();
    table.len().unwrap()
}

type LinkRow = (String, u64, String, u64);

/// Every row of a `quotes` or `backlinks` table, in key order.
fn link_rows(
    table: &impl ReadableTable<(&'static str, u64, &'static str, u64), ()>,
) -> Vec<LinkRow> {
    table
        .iter()
        .unwrap()
        .map(|row| {
            let key = row.unwrap().0;
            let (b, n, other_b, other) = key.value();
            (b.to_owned(), n, other_b.to_owned(), other)
        })
        .collect()
}

/// The `backlinks` rows the `quotes` rows call for (the mirror of each quote across threads,
/// a post's thread read from its row or, once deleted, its tombstone), and the rows
/// `backlinks` holds.
fn mirrors(store: &Store) -> (Vec<LinkRow>, Vec<LinkRow>) {
    let txn = store.db.begin_read().unwrap();
    let posts = txn.open_table(POSTS).unwrap();
    let tombstones = txn.open_table(TOMBSTONES).unwrap();
    let thread = |board: &str, no: u64| match posts.get((board, no)).unwrap() {
        Some(row) => posts::thread_of(row.value()).unwrap(),
        None => tombstones.get((board, no)).unwrap().unwrap().value(),
    };
    let mut wanted: Vec<LinkRow> = link_rows(&txn.open_table(QUOTES).unwrap())
        .into_iter()
        .filter(|(b, n, qb, q)| {
            crate::storage::links::mirrored(b, thread(b, *n), qb, thread(qb, *q), *q)
        })
        .map(|(b, n, qb, q)| (qb, q, b, n))
        .collect();
    wanted.sort();
    (wanted, link_rows(&txn.open_table(BACKLINKS).unwrap()))
}

/// The live events among `changes`: name and data.
fn live(changes: &[Change]) -> Vec<(String, serde_json::Value)> {
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

fn stored_bytes(store: &Store, board: &str, no: u64) -> Option<Vec<u8>> {
    let txn = store.db.begin_read().unwrap();
    let posts = txn.open_table(POSTS).unwrap();
    let row = posts.get((board, no)).unwrap();
    row.map(|v| v.value().to_vec())
}

/// Thread 1 on /t/: the OP and replies 2..=11, each quoting the OP and the post before it;
/// thread 12 holds post 13, which quotes 5 from outside; /u/ post 2 quotes >>>/t/6.
fn quoting_threads(store: &Store) {
    let mut writes = vec![
        Write::PutBoard(board("t")),
        Write::PutBoard(board("u")),
        thread("t", "op"),
    ];
    for no in 2..=11 {
        writes.push(reply("t", 1, &format!(">>1 >>{} reply {no}", no - 1)));
    }
    writes.push(thread("t", "elsewhere"));
    writes.push(reply("t", 12, ">>5 from outside"));
    writes.push(thread("u", "u op"));
    writes.push(reply("u", 1, ">>>/t/6 across boards"));
    apply_all(store, &writes);
}

#[test]
fn quotes_are_rows_and_leave_the_quoted_post_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    quoting_threads(&store);
    let op_before = stored_bytes(&store, "t", 1).unwrap();
    apply_all(&store, &[reply("t", 1, ">>1 >>2 >>3 >>4 >>5 >>6 >>7 >>8")]);
    // The quoted OP is not rewritten: its backlinks are rows, read when it is served.
    assert_eq!(stored_bytes(&store, "t", 1).unwrap(), op_before);
    let reader = store.read().unwrap();
    let op = reader.post("t", 1).unwrap().unwrap();
    assert_eq!(op.backlinks, (2..=11).chain([14]).collect::<Vec<u64>>());
    // Five links at most on this board: >>6 and later are text and no backlinks.
    let latest = reader.post("t", 14).unwrap().unwrap();
    assert_eq!(
        latest.html.matches("quotelink").count(),
        5,
        "{}",
        latest.html
    );
    assert_eq!(
        reader.post("t", 5).unwrap().unwrap().backlinks,
        vec![6, 13, 14]
    );
    assert_eq!(reader.post("t", 6).unwrap().unwrap().backlinks, vec![7]);
    // A cross-board quote is a backlink too, named by its board.
    let six = reader.post("t", 6).unwrap().unwrap();
    assert_eq!(
        six.cross_backlinks,
        vec![crate::model::BoardPost {
            board: "u".into(),
            no: 2
        }]
    );
    let (wanted, held) = mirrors(&store);
    assert_eq!(held, wanted);
    assert!(!held.is_empty() && rows(&store, QUOTES) > held.len() as u64);
    // A post is served the same backlinks alone and within any tail of its thread.
    served_alike(&store);
}

/// Every post of every thread of board `t` has the same backlinks and html served alone, in
/// its thread's whole document, in the tail after each number and in its last posts.
fn served_alike(store: &Store) {
    let reader = store.read().unwrap();
    for thread in [1, 12] {
        let whole = reader.thread_posts("t", thread, 0).unwrap();
        for (i, post) in whole.iter().enumerate() {
            let alone = reader.post("t", post.no).unwrap().unwrap();
            assert_eq!(
                (&alone.backlinks, &alone.html),
                (&post.backlinks, &post.html)
            );
            assert_eq!(alone.cross_backlinks, post.cross_backlinks);
            let tail = reader.thread_posts("t", thread, post.no - 1).unwrap();
            assert_eq!(tail[0].backlinks, post.backlinks, "tail from {}", post.no);
            let last = reader.last_posts("t", thread, whole.len() - i).unwrap();
            assert_eq!(last[0].backlinks, post.backlinks, "last from {}", post.no);
        }
    }
}

#[test]
fn migrating_to_version_7_drops_the_mirror_rows_of_quotes_within_a_thread() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        quoting_threads(&store);
        // As a version 6 build wrote them: a mirror row for every quote.
        let txn = store.db.begin_write().unwrap();
        {
            let quotes = link_rows(&txn.open_table(QUOTES).unwrap());
            let mut backlinks = txn.open_table(BACKLINKS).unwrap();
            for (b, n, qb, q) in &quotes {
                backlinks
                    .insert((qb.as_str(), *q, b.as_str(), *n), ())
                    .unwrap();
            }
            txn.open_table(META)
                .unwrap()
                .insert("schema_version", 6)
                .unwrap();
        }
        txn.commit().unwrap();
        assert_eq!(rows(&store, BACKLINKS), rows(&store, QUOTES));
    }
    let store = Store::open(dir.path()).unwrap();
    let (wanted, held) = mirrors(&store);
    assert_eq!(held, wanted);
    assert!(rows(&store, BACKLINKS) < rows(&store, QUOTES));
    let reader = store.read().unwrap();
    assert_eq!(
        reader.post("t", 1).unwrap().unwrap().backlinks,
        (2..=11).collect::<Vec<u64>>()
    );
    assert_eq!(reader.post("t", 5).unwrap().unwrap().backlinks, vec![6, 13]);
    drop(reader);
    served_alike(&store);
}

#[test]
fn deleting_a_reply_rewrites_and_resends_none_of_the_posts_quoting_it() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    quoting_threads(&store);
    // Post 5 of thread 1 quotes 1 and 4; 6 (same thread) and 13 (thread 12) quote it.
    let (six, thirteen) = (
        stored_bytes(&store, "t", 6).unwrap(),
        stored_bytes(&store, "t", 13).unwrap(),
    );
    let txn = store.db.begin_write().unwrap();
    let mut changes = Vec::new();
    let five = posts::load_post(&txn, "t", 5).unwrap().unwrap();
    delete::remove_reply(&txn, &five, &mut changes).unwrap();
    txn.commit().unwrap();

    assert_eq!(stored_bytes(&store, "t", 6).unwrap(), six, "not rewritten");
    assert_eq!(stored_bytes(&store, "t", 13).unwrap(), thirteen);
    // Its delete, one `unlinked` for the other quoting thread, and the two posts it quoted
    // (one backlink fewer): no event for a post quoting it.
    let mut events: Vec<(String, serde_json::Value)> = live(&changes);
    events.sort_by_key(|(name, data)| (name.clone(), data["post"]["no"].as_u64()));
    let names: Vec<(&str, Option<u64>)> = events
        .iter()
        .map(|(name, data)| (name.as_str(), data["post"]["no"].as_u64()))
        .collect();
    assert_eq!(
        names,
        [
            ("delete", None),
            ("post", Some(1)),
            ("post", Some(4)),
            ("unlinked", None)
        ]
    );
    assert_eq!(
        events[3].1,
        serde_json::json!({"event": "unlinked", "board": "t", "thread": 12,
            "target": {"board": "t", "no": 5}})
    );
    // The other quoting thread's documents are built again.
    assert!(changes.contains(&Change::PostEdited {
        board: "t".into(),
        thread: 12
    }));

    // Served, the links to it are dead, exactly as a new render draws them; the others live.
    let reader = store.read().unwrap();
    let dead = "<span class=\"deadlink\">&gt;&gt;5</span>";
    let served = reader.post("t", 6).unwrap().unwrap();
    assert_eq!(
        served.html,
        format!(
            "<a class=\"quotelink\" href=\"/t/thread/1#p1\" data-board=\"t\" data-no=\"1\">\
             &gt;&gt;1</a> {dead} reply 6"
        )
    );
    let in_thread = reader.thread_posts("t", 1, 5).unwrap();
    assert_eq!(in_thread[0].no, 6);
    assert_eq!(in_thread[0].html, served.html);
    assert_eq!(reader.last_posts("t", 1, 6).unwrap()[0].html, served.html);
    let outside = reader.post("t", 13).unwrap().unwrap();
    assert_eq!(outside.html, format!("{dead} from outside"));
    let recent = reader.recent_posts(100, |_| true).unwrap();
    let listed = recent.iter().find(|p| p.no == 13).unwrap();
    assert_eq!(listed.html, outside.html);
    // Its own quote rows went; those of the posts quoting it stay, mirrored across threads.
    assert_eq!(
        reader.post("t", 4).unwrap().unwrap().backlinks,
        Vec::<u64>::new()
    );
    let op = reader.post("t", 1).unwrap().unwrap();
    assert_eq!(op.backlinks, [2, 3, 4, 6, 7, 8, 9, 10, 11]);
    let (wanted, held) = mirrors(&store);
    assert_eq!(held, wanted);
    let txn = store.db.begin_read().unwrap();
    let quotes = txn.open_table(QUOTES).unwrap();
    assert!(quotes.get(("t", 5, "t", 4)).unwrap().is_none());
    assert!(quotes.get(("t", 6, "t", 5)).unwrap().is_some());
    assert!(quotes.get(("t", 13, "t", 5)).unwrap().is_some());
}

#[test]
fn a_deleted_thread_reads_deleted_at_once_and_is_purged_in_chunks() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    quoting_threads(&store);
    let links_before = rows(&store, QUOTES);

    let txn = store.db.begin_write().unwrap();
    let mut changes = Vec::new();
    delete::delete_thread(&txn, "t", 1, 0, &mut changes).unwrap();
    txn.commit().unwrap();
    assert_eq!(
        changes,
        [Change::ThreadDeleted {
            board: "t".into(),
            thread: 1
        }]
    );
    {
        let reader = store.read().unwrap();
        assert!(reader.thread_meta("t", 1).unwrap().is_none());
        for no in 1..=11 {
            assert!(reader.post("t", no).unwrap().is_none(), "post {no}");
            assert_eq!(reader.tombstone("t", no).unwrap(), Some(1), "post {no}");
            assert_eq!(reader.post_thread("t", no).unwrap(), None);
        }
        // The rows are still there, waiting for the purge.
        assert!(stored_bytes(&store, "t", 11).is_some());
        assert_eq!(rows(&store, PURGE), 1);
    }

    let mut steps = 0;
    let mut deleted = Vec::new();
    loop {
        let txn = store.db.begin_write().unwrap();
        let mut changes = Vec::new();
        let more = delete::purge_step(&txn, 3, &mut changes).unwrap();
        txn.commit().unwrap();
        steps += 1;
        deleted.extend(
            live(&changes)
                .into_iter()
                .filter(|(name, _)| name == "delete")
                .map(|(_, data)| data["no"].as_u64().unwrap()),
        );
        if !more {
            break;
        }
        assert!(steps < 10, "the purge does not end");
    }
    // Eleven posts, three at a time: four transactions, newest first, the OP last.
    assert_eq!(steps, 4);
    assert_eq!(deleted, (1..=11).rev().collect::<Vec<u64>>());
    assert_eq!(rows(&store, PURGE), 0);
    for no in 1..=11 {
        assert!(stored_bytes(&store, "t", no).is_none(), "post {no} left");
    }
    // Every quote from the thread is gone; the two into it from other threads stay with
    // their mirror rows (they go when their posts go), and those posts serve dead links.
    let reader = store.read().unwrap();
    let outside = reader.post("t", 13).unwrap().unwrap();
    assert!(outside.html.contains("deadlink"), "{}", outside.html);
    let across = reader.post("u", 2).unwrap().unwrap();
    assert!(across.html.contains("deadlink"), "{}", across.html);
    assert_eq!(rows(&store, QUOTES), 2, "was {links_before}");
    assert_eq!(rows(&store, BACKLINKS), 2);
    assert_eq!(reader.tombstone("t", 7).unwrap(), Some(1));
    assert_eq!(rows(&store, TOMBSTONES), 11);
}

#[tokio::test]
async fn a_restart_finishes_an_interrupted_purge() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        quoting_threads(&store);
        let txn = store.db.begin_write().unwrap();
        let mut changes = Vec::new();
        delete::delete_thread(&txn, "t", 1, 0, &mut changes).unwrap();
        assert!(delete::purge_step(&txn, 2, &mut changes).unwrap());
        txn.commit().unwrap();
        assert!(stored_bytes(&store, "t", 9).is_some());
        assert!(stored_bytes(&store, "t", 10).is_none());
    }
    let store = Store::open(dir.path()).unwrap();
    let writer = Writer::start(&store, Box::new(|_| {}));
    // Each write the writer takes alternates with a purge chunk; with nothing queued it purges
    // until done. Writes go on meanwhile.
    for _ in 0..100 {
        writer.submit(reply("t", 12, "meanwhile")).await.unwrap();
        if rows(&store, PURGE) == 0 {
            break;
        }
    }
    assert_eq!(rows(&store, PURGE), 0, "the purge did not resume");
    for no in 1..=11 {
        assert!(stored_bytes(&store, "t", no).is_none(), "post {no} left");
    }
    writer.stop().await;
}

#[test]
fn the_reply_that_reaches_the_cap_locks_the_thread() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let capped = Board {
        max_replies: 3,
        ..board("t")
    };
    apply_all(
        &store,
        &[
            Write::PutBoard(capped),
            thread("t", "op"),
            reply("t", 1, "one"),
            reply("t", 1, "two"),
        ],
    );
    let meta = |store: &Store| -> ThreadMeta {
        store.read().unwrap().thread_meta("t", 1).unwrap().unwrap()
    };
    assert!(!meta(&store).locked);
    let changes = apply_all(&store, &[reply("t", 1, "three")]);
    assert!(meta(&store).locked);
    assert_eq!(meta(&store).replies, 3);
    let update = live(&changes)
        .into_iter()
        .any(|(name, data)| name == "update" && data["locked"] == true);
    assert!(update, "no update event: {changes:?}");
    let txn = store.db.begin_write().unwrap();
    let err = apply(&txn, &reply("t", 1, "four"), 1_000, &mut Vec::new())
        .unwrap()
        .unwrap_err();
    assert_eq!(err.kind, ErrorKind::ThreadLocked);
    assert!(err.message.contains("3 replies"), "{}", err.message);
}

#[test]
fn recent_keeps_only_the_newest_rows() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let many = Board {
        max_replies: 100_000,
        ..board("t")
    };
    let mut writes = vec![Write::PutBoard(many), thread("t", "op")];
    for _ in 0..RECENT_KEPT + 50 {
        writes.push(reply("t", 1, "x"));
    }
    apply_all(&store, &writes);
    assert_eq!(rows(&store, RECENT), RECENT_KEPT);
    let newest = store.read().unwrap().recent_posts(1, |_| true).unwrap();
    assert_eq!(newest[0].no, RECENT_KEPT + 51);
}

/// A version 1 database kept backlinks in each quoted post's JSON and whole posts in the event
/// log; it opens as version 2 with both moved out.
#[test]
fn a_version_1_database_is_migrated() {
    let dir = tempfile::tempdir().unwrap();
    {
        let store = Store::open(dir.path()).unwrap();
        apply_all(
            &store,
            &[
                Write::PutBoard(board("t")),
                thread("t", "op"),
                reply("t", 1, "reply"),
            ],
        );
        // Rewrite as version 1 wrote it: backlinks in the post, events whole.
        let txn = store.db.begin_write().unwrap();
        {
            let mut posts = txn.open_table(POSTS).unwrap();
            let mut op: Post = decode(posts.get(("t", 1)).unwrap().unwrap().value()).unwrap();
            op.backlinks = vec![2];
            posts.insert(("t", 1), encode(&op).as_slice()).unwrap();
            let reply: Post = decode(posts.get(("t", 2)).unwrap().unwrap().value()).unwrap();
            let mut events = txn.open_table(EVENTS).unwrap();
            let old = crate::live::Event::Post {
                board: "t".into(),
                thread: 1,
                post: serde_json::to_value(&reply).unwrap(),
            };
            events.insert(2, encode(&old).as_slice()).unwrap();
            txn.open_table(QUOTES)
                .unwrap()
                .retain(|_, _| false)
                .unwrap();
            txn.open_table(BACKLINKS)
                .unwrap()
                .retain(|_, _| false)
                .unwrap();
            txn.open_table(META)
                .unwrap()
                .insert("schema_version", 1)
                .unwrap();
        }
        txn.commit().unwrap();
    }
    let store = Store::open(dir.path()).unwrap();
    let txn = store.db.begin_read().unwrap();
    assert_eq!(
        txn.open_table(META)
            .unwrap()
            .get("schema_version")
            .unwrap()
            .unwrap()
            .value(),
        SCHEMA_VERSION
    );
    let stored: Post = decode(&stored_bytes(&store, "t", 1).unwrap()).unwrap();
    assert!(stored.backlinks.is_empty());
    assert_eq!(
        store
            .read()
            .unwrap()
            .post("t", 1)
            .unwrap()
            .unwrap()
            .backlinks,
        vec![2]
    );
    let events = txn.open_table(EVENTS).unwrap();
    let row = events.get(2).unwrap().unwrap();
    let event: crate::storage::StoredEvent = serde_json::from_slice(row.value()).unwrap();
    assert_eq!(event, crate::storage::StoredEvent::Post("t".into(), 1, 2));
    let replayed = store.read().unwrap().events_after(1, 10).unwrap();
    assert!(
        String::from_utf8_lossy(&replayed[0].frame).contains("\"body\":\"reply\""),
        "{replayed:?}"
    );
}

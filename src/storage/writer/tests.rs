//! The writer's rules for sticky and locked threads, file references, and its batching.

use std::sync::{Arc, Mutex};

use super::*;
use crate::model::{StoredFile, ThreadMeta};
use crate::storage::{encode, THREADS};

fn draft(body: &str, sage: bool) -> PostDraft {
    PostDraft {
        name: "Anonymous".into(),
        subject: None,
        body: body.into(),
        sage,
        files: Vec::new(),
        trip: None,
        id_key: None,
        password: None,
        capcode: None,
        origin: None,
    }
}

fn board(thread_limit: u32, bump_limit: u32) -> Board {
    Board {
        slug: "t".into(),
        title: "Test".into(),
        description: String::new(),
        bump_limit,
        thread_limit,
        threads_per_page: 10,
        max_body_chars: 100,
        max_subject_chars: 10,
        max_name_chars: 10,
        ..Board::default()
    }
}

/// Sets a thread's flags in the table directly, to test the writer's rules apart from the staff
/// actions that set them (see `threads_tests`).
fn edit_thread(store: &Store, no: u64, edit: impl FnOnce(&mut ThreadMeta)) {
    let txn = store.db.begin_write().unwrap();
    {
        let mut threads = txn.open_table(THREADS).unwrap();
        let mut meta: ThreadMeta =
            decode(threads.get(("t", no)).unwrap().unwrap().value()).unwrap();
        edit(&mut meta);
        threads.insert(("t", no), encode(&meta).as_slice()).unwrap();
    }
    txn.commit().unwrap();
}

#[tokio::test]
async fn locked_threads_refuse_replies_and_use_no_number() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let writer = Writer::start(&store, Box::new(|_| {}));
    writer.submit(Write::PutBoard(board(10, 10))).await.unwrap();
    writer
        .submit(Write::CreateThread {
            board: "t".into(),
            draft: draft("op", false),
        })
        .await
        .unwrap();
    edit_thread(&store, 1, |m| m.locked = true);
    let reply = || Write::CreateReply {
        board: "t".into(),
        thread: 1,
        draft: draft("late", false),
    };
    let err = writer.submit(reply()).await.unwrap_err();
    assert_eq!(err.kind, ErrorKind::ThreadLocked);
    assert_eq!(err.status(), hyper::StatusCode::CONFLICT);
    assert_eq!(
        store
            .read()
            .unwrap()
            .thread_meta("t", 1)
            .unwrap()
            .unwrap()
            .replies,
        0
    );
    edit_thread(&store, 1, |m| m.locked = false);
    let written = writer.submit(reply()).await.unwrap();
    assert_eq!(
        written,
        Written::Post {
            board: "t".into(),
            thread: 1,
            no: 2
        }
    );
    writer.stop().await;
}

/// Sticky threads are never pushed out; there is no route to set the flag yet, so the rule
/// is checked here against the storage directly.
#[tokio::test]
async fn sticky_threads_are_never_archived() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let writer = Writer::start(&store, Box::new(|_| {}));
    writer.submit(Write::PutBoard(board(2, 10))).await.unwrap();
    let new_thread = || Write::CreateThread {
        board: "t".into(),
        draft: draft("op", false),
    };
    writer.submit(new_thread()).await.unwrap(); // 1, made sticky below
    edit_thread(&store, 1, |m| m.sticky = true);
    writer.submit(new_thread()).await.unwrap(); // 2
    writer.submit(new_thread()).await.unwrap(); // 3 pushes out 2, not the older sticky 1
    let reader = store.read().unwrap();
    let live: Vec<u64> = reader
        .live_threads("t")
        .unwrap()
        .iter()
        .map(|m| m.no)
        .collect();
    assert_eq!(live, vec![3, 1]);
    assert!(reader.thread_meta("t", 2).unwrap().unwrap().archived);
    writer.stop().await;
}

#[tokio::test]
async fn refused_write_in_a_group_leaves_the_others() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let writer = Arc::new(Writer::start(&store, Box::new(|_| {})));
    writer.submit(Write::PutBoard(board(10, 10))).await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..20 {
        let writer = writer.clone();
        let board = if i % 2 == 0 { "t" } else { "nope" };
        tasks.push(tokio::spawn(async move {
            writer
                .submit(Write::CreateThread {
                    board: board.into(),
                    draft: draft("x", false),
                })
                .await
        }));
    }
    let mut ok = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(_) => ok += 1,
            Err(e) => assert_eq!(e.kind, ErrorKind::BoardNotFound),
        }
    }
    assert_eq!(ok, 10);
    assert_eq!(store.read().unwrap().live_threads("t").unwrap().len(), 10);
    writer.stop().await;
}

/// `draft` with one 3-byte PNG whose content hash is `sha256` (shared with the board tests).
pub(super) fn attach(draft: PostDraft, sha256: &str) -> PostDraft {
    let file = crate::model::PostFile {
        url: format!("/files/{sha256}.png"),
        thumb_url: format!("/thumbs/{sha256}.webp"),
        name: None,
        mime: "image/png".into(),
        size: 3,
        width: 1,
        height: 1,
        thumb_width: 1,
        thumb_height: 1,
        sha256: sha256.into(),
        md5: String::new(),
        spoiler: false,
    };
    let stored = StoredFile {
        sha256: sha256.into(),
        ext: "png".into(),
        thumb_ext: "webp".into(),
        size: 3,
        refs: 0,
        dhash: None,
    };
    PostDraft {
        files: vec![(file, stored)],
        ..draft
    }
}

fn with_file(body: &str, sha256: &str) -> PostDraft {
    attach(draft(body, false), sha256)
}

/// A file's reference count moves with the posts that commit, in their transaction; a
/// refused post counts nothing. Reply images are counted on the thread, the OP's are not.
#[tokio::test]
async fn file_references_follow_committed_posts() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let writer = Writer::start(&store, Box::new(|_| {}));
    writer.submit(Write::PutBoard(board(10, 10))).await.unwrap();
    let sha = "ab".repeat(32);
    let thread = Write::CreateThread {
        board: "t".into(),
        draft: with_file("op", &sha),
    };
    writer.submit(thread).await.unwrap();
    let reply = || Write::CreateReply {
        board: "t".into(),
        thread: 1,
        draft: with_file("again", &sha),
    };
    writer.submit(reply()).await.unwrap();
    edit_thread(&store, 1, |m| m.locked = true);
    writer.submit(reply()).await.unwrap_err();
    let reader = store.read().unwrap();
    assert_eq!(reader.file(&sha).unwrap().unwrap().refs, 2);
    assert_eq!(reader.thread_meta("t", 1).unwrap().unwrap().images, 1);
    assert!(reader.file(&"cd".repeat(32)).unwrap().is_none());
    writer.stop().await;
}

/// Archive retention has no clock to wind over HTTP, so the thread's archival is backdated in
/// the tables here.
#[tokio::test]
async fn archived_threads_past_their_days_are_pruned() {
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let writer = Writer::start(&store, Box::new(|_| {}));
    let board = Board {
        archive_days: 2,
        ..board(1, 10)
    };
    writer.submit(Write::PutBoard(board)).await.unwrap();
    let new_thread = || Write::CreateThread {
        board: "t".into(),
        draft: draft("op", false),
    };
    writer.submit(new_thread()).await.unwrap(); // 1
    writer.submit(new_thread()).await.unwrap(); // 2 archives 1
    let pruned = writer.submit(Write::PruneArchive).await.unwrap();
    assert_eq!(pruned, Written::Pruned { threads: 0 }, "archived just now");

    let archived_at = store
        .read()
        .unwrap()
        .thread_meta("t", 1)
        .unwrap()
        .unwrap()
        .archived_at
        .unwrap();
    let three_days_ago = archived_at - 3 * 86_400;
    edit_thread(&store, 1, |m| m.archived_at = Some(three_days_ago));
    {
        let txn = store.db.begin_write().unwrap();
        {
            let mut archive = txn.open_table(crate::storage::ARCHIVE).unwrap();
            archive.remove(("t", archived_at, 1)).unwrap();
            archive.insert(("t", three_days_ago, 1), ()).unwrap();
        }
        txn.commit().unwrap();
    }
    let pruned = writer.submit(Write::PruneArchive).await.unwrap();
    assert_eq!(pruned, Written::Pruned { threads: 1 });
    let reader = store.read().unwrap();
    assert!(reader.thread_meta("t", 1).unwrap().is_none());
    assert_eq!(reader.tombstone("t", 1).unwrap(), Some(1));
    assert!(reader.archived_threads("t").unwrap().is_empty());
    assert_eq!(reader.live_threads("t").unwrap().len(), 1);
    writer.stop().await;
}

/// A post is answered once the caches know of it and before its live event is handed on: the
/// listener, given the live event, holds the writer until the test has the answer in hand. Were
/// the event handed on first, the listener would give up waiting and note it.
#[tokio::test]
async fn live_events_reach_the_listener_after_the_answers() {
    use std::sync::mpsc;
    use std::time::Duration;
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path()).unwrap();
    let (answered, wait_answer) = mpsc::channel::<()>();
    let calls = Arc::new(Mutex::new(Vec::new()));
    let listener = {
        let (calls, wait_answer) = (calls.clone(), Mutex::new(wait_answer));
        move |changes: &[Change]| {
            let live = changes.iter().any(|c| matches!(c, Change::Live(_)));
            let mut call = if live { "live" } else { "other" }.to_owned();
            if changes.iter().any(|c| matches!(c, Change::Reply { .. })) {
                call += " with the reply";
            }
            if live && changes.iter().any(|c| !matches!(c, Change::Live(_))) {
                call += " mixed";
            }
            if live
                && changes
                    .iter()
                    .any(|c| matches!(c, Change::Live(p) if p.thread == 1))
            {
                // Long enough for any machine to deliver the answer; only a broken order
                // waits it out.
                let waited = wait_answer
                    .lock()
                    .unwrap()
                    .recv_timeout(Duration::from_secs(30));
                if waited.is_err() {
                    call += " before the answer";
                }
            }
            calls.lock().unwrap().push(call);
        }
    };
    let writer = Writer::start(&store, Box::new(listener));
    writer.submit(Write::PutBoard(board(10, 10))).await.unwrap();
    let thread = writer
        .submit(Write::CreateThread {
            board: "t".into(),
            draft: draft("op", false),
        })
        .await
        .unwrap();
    answered.send(()).unwrap();
    assert!(matches!(thread, Written::Post { no: 1, .. }));
    let reply = writer
        .submit(Write::CreateReply {
            board: "t".into(),
            thread: 1,
            draft: draft("reply", false),
        })
        .await
        .unwrap();
    answered.send(()).unwrap();
    assert!(matches!(reply, Written::Post { no: 2, .. }));
    writer.stop().await;
    assert_eq!(
        *calls.lock().unwrap(),
        ["other", "other", "live", "other with the reply", "live"]
    );
}

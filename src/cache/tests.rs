use super::*;

fn body(s: &str) -> Arc<Cached> {
    Arc::new(Cached::new(s.as_bytes().to_vec()))
}

#[test]
fn a_write_to_one_thread_keeps_the_others() {
    let cache = Cache::new(1 << 20);
    let e = cache.epoch();
    cache.insert(
        Key::Thread("b".into(), 1),
        Group::Thread("b".into(), 1),
        e,
        body("one"),
    );
    cache.insert(
        Key::Thread("b".into(), 2),
        Group::Thread("b".into(), 2),
        e,
        body("two"),
    );
    cache.insert(
        Key::Catalog("b".into()),
        Group::Listing("b".into()),
        e,
        body("cat"),
    );
    cache.apply(&[Change::Reply {
        board: "b".into(),
        thread: 2,
        no: 3,
        bumped: true,
    }]);
    assert!(cache.get(&Key::Thread("b".into(), 1)).is_some());
    assert!(cache.get(&Key::Thread("b".into(), 2)).is_none());
    assert!(cache.get(&Key::Catalog("b".into())).is_none());
}

/// A board's settings changing, or the board going, drops every response of that board
/// (threads and 4chan documents included) and the board lists, and nothing of other boards.
#[test]
fn a_board_change_drops_everything_of_that_board() {
    let cache = Cache::new(1 << 20);
    let entries = [
        (Key::Thread("b".into(), 1), Group::Thread("b".into(), 1)),
        (Key::FourThread("b".into(), 1), Group::Thread("b".into(), 1)),
        (Key::Post("b".into(), 2), Group::Thread("b".into(), 1)),
        (Key::Catalog("b".into()), Group::Listing("b".into())),
        (Key::Board("b".into()), Group::Board("b".into())),
        (Key::Boards, Group::Boards),
        (Key::FourBoards, Group::Boards),
        (Key::Thread("c".into(), 1), Group::Thread("c".into(), 1)),
    ];
    let mut e = 0;
    for change in [
        Change::Board { board: "b".into() },
        Change::BoardDeleted { board: "b".into() },
    ] {
        e = cache.epoch();
        for (key, group) in &entries {
            assert!(cache.insert(key.clone(), group.clone(), e, body("x")));
        }
        cache.apply(&[change]);
        for (key, _) in &entries[..7] {
            assert!(cache.get(key).is_none(), "{key:?}");
        }
        assert!(cache.get(&Key::Thread("c".into(), 1)).is_some());
    }
    // A response read before the change is not kept either.
    assert!(!cache.insert(
        Key::Thread("b".into(), 1),
        Group::Thread("b".into(), 1),
        e,
        body("stale"),
    ));
}

#[test]
fn a_read_that_raced_a_write_is_not_kept() {
    let cache = Cache::new(1 << 20);
    let before = cache.epoch();
    // A commit lands while the reader is still building its response.
    cache.apply(&[Change::Reply {
        board: "b".into(),
        thread: 1,
        no: 2,
        bumped: true,
    }]);
    cache.insert(
        Key::Thread("b".into(), 1),
        Group::Thread("b".into(), 1),
        before,
        body("old"),
    );
    assert!(cache.get(&Key::Thread("b".into(), 1)).is_none());
    let after = cache.epoch();
    cache.insert(
        Key::Thread("b".into(), 1),
        Group::Thread("b".into(), 1),
        after,
        body("new"),
    );
    assert_eq!(
        cache.get(&Key::Thread("b".into(), 1)).unwrap().body,
        &b"new"[..]
    );
}

#[test]
fn a_commit_notes_when_it_changed_each_group() {
    let cache = Cache::new(1 << 20);
    let (thread, other) = (Group::Thread("b".into(), 1), Group::Thread("b".into(), 2));
    assert_eq!(cache.changed_at(&thread), None);
    let before = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs();
    cache.apply(&[Change::Reply {
        board: "b".into(),
        thread: 1,
        no: 3,
        bumped: true,
    }]);
    let changed = cache.changed_at(&thread).expect("noted");
    assert!(changed >= before && changed <= before + 60, "{changed}");
    assert_eq!(cache.changed_at(&Group::Listing("b".into())), Some(changed));
    if slot(&other) != slot(&thread) {
        assert_eq!(cache.changed_at(&other), None);
    }
}

#[test]
fn the_budget_bounds_memory() {
    let cache = Cache::new(300);
    for i in 0..10 {
        let e = cache.epoch();
        cache.insert(
            Key::Post("b".into(), i),
            Group::Thread("b".into(), i),
            e,
            body(&"x".repeat(100)),
        );
    }
    assert!(cache.inner.lock().unwrap().bytes <= 300);
}

#[test]
fn compressed_copies_are_made_once_and_count_against_the_budget() {
    let json = br#"{"no":1,"body":"the same words again and again"},"#.repeat(64);
    let cache = Cache::new(1 << 20);
    let key = Key::Thread("b".into(), 1);
    let value = Arc::new(Cached::new(json.clone()));
    let e = cache.epoch();
    cache.insert(key.clone(), Group::Thread("b".into(), 1), e, value.clone());
    let identity = cache.inner.lock().unwrap().bytes;
    assert_eq!(identity, json.len() + 64);
    assert!(value.claim());
    assert!(!value.claim(), "claimed once");
    cache.compress(&key, &value);
    let codings: Vec<Coding> = value.variants().iter().map(|v| v.coding).collect();
    assert_eq!(codings, [Coding::Zstd, Coding::Gzip]);
    let copies: usize = value.variants().iter().map(|v| v.body.len()).sum();
    assert_eq!(cache.inner.lock().unwrap().bytes, identity + copies);
    let etags: std::collections::HashSet<&str> = value
        .variants()
        .iter()
        .map(|v| v.etag.as_str())
        .chain([value.etag.as_str()])
        .collect();
    assert_eq!(etags.len(), 3, "one ETag per coding");
    // Replacing the entry gives back everything it counted.
    cache.insert(key.clone(), Group::Thread("b".into(), 1), e, body("x"));
    assert_eq!(cache.inner.lock().unwrap().bytes, 1 + 64);
    // A value no longer in the cache is not compressed; a short one never is.
    let gone = Arc::new(Cached::new(json));
    cache.compress(&key, &gone);
    assert!(gone.variants().is_empty());
    let short = body("short");
    assert!(!short.claim());
    assert_eq!(short.compress(Effort::Cached), 0);
}

#[test]
fn compressed_copies_never_push_past_the_budget() {
    let json = br#"{"no":1,"body":"the same words again and again"},"#.repeat(64);
    let cache = Cache::new(json.len() + 100);
    let key = Key::Thread("b".into(), 1);
    let value = Arc::new(Cached::new(json));
    cache.insert(key.clone(), Group::Thread("b".into(), 1), 0, value.clone());
    cache.compress(&key, &value);
    assert!(cache.inner.lock().unwrap().bytes <= cache.budget);
}

#[test]
fn etag_is_strong_and_follows_the_body() {
    assert_eq!(
        Cached::new(b"a".to_vec()).etag,
        Cached::new(b"a".to_vec()).etag
    );
    assert_ne!(
        Cached::new(b"a".to_vec()).etag,
        Cached::new(b"b".to_vec()).etag
    );
    assert!(Cached::new(b"a".to_vec()).etag.starts_with('"'));
}

use std::sync::atomic::{AtomicUsize, Ordering};

/// Starts `readers` concurrent `get_or_build` calls for one key whose builds wait at a gate
/// until every other reader is waiting; returns what each got and how many builds ran.
async fn crowd(
    cache: &Arc<Cache>,
    readers: usize,
    result: fn(usize) -> ApiResult<(Group, Cached)>,
    before_release: impl FnOnce(),
) -> (Vec<ApiResult<Arc<Cached>>>, usize) {
    let key = Key::Thread("b".into(), 1);
    let builds = Arc::new(AtomicUsize::new(0));
    let gate = Arc::new(tokio::sync::Notify::new());
    let mut tasks = Vec::new();
    for _ in 0..readers {
        let (cache, builds, gate, key) = (cache.clone(), builds.clone(), gate.clone(), key.clone());
        tasks.push(tokio::spawn(async move {
            cache
                .get_or_build(key, || async move {
                    let n = builds.fetch_add(1, Ordering::SeqCst);
                    // Only the first build waits; a retry after it completes at once.
                    if n == 0 {
                        gate.notified().await;
                    }
                    result(n)
                })
                .await
        }));
    }
    while cache.waiting(&key) < readers - 1 {
        tokio::task::yield_now().await;
    }
    before_release();
    gate.notify_one();
    let mut results = Vec::new();
    for task in tasks {
        results.push(task.await.unwrap());
    }
    (results, builds.load(Ordering::SeqCst))
}

fn thread_body(n: usize) -> ApiResult<(Group, Cached)> {
    Ok((
        Group::Thread("b".into(), 1),
        Cached::new(format!("build {n}").into_bytes()),
    ))
}

#[tokio::test]
async fn concurrent_misses_are_built_once() {
    let cache = Arc::new(Cache::new(1 << 20));
    let (results, builds) = crowd(&cache, 16, thread_body, || {}).await;
    assert_eq!(builds, 1);
    for result in results {
        assert_eq!(result.unwrap().body, &b"build 0"[..]);
    }
    // Later readers hit the cache.
    let again = cache
        .get_or_build(Key::Thread("b".into(), 1), || async { thread_body(9) })
        .await
        .unwrap();
    assert_eq!(again.body, &b"build 0"[..]);
}

#[tokio::test]
async fn a_failed_build_is_retried_by_the_waiters_not_shared() {
    let cache = Arc::new(Cache::new(1 << 20));
    let fails_first = |n: usize| {
        if n == 0 {
            Err(crate::error::ApiError::new(
                crate::error::ErrorKind::ThreadNotFound,
                "gone",
            ))
        } else {
            thread_body(n)
        }
    };
    let (results, builds) = crowd(&cache, 4, fails_first, || {}).await;
    let failed = results.iter().filter(|r| r.is_err()).count();
    assert_eq!(failed, 1, "only the builder sees its error");
    // One waiter rebuilt; the others shared that second build.
    assert_eq!(builds, 2);
    for result in results.into_iter().flatten() {
        assert_eq!(result.body, &b"build 1"[..]);
    }
}

#[tokio::test]
async fn waiters_never_take_a_build_that_raced_a_write() {
    let cache = Arc::new(Cache::new(1 << 20));
    let writer = cache.clone();
    let (results, builds) = crowd(&cache, 4, thread_body, move || {
        // A reply commits while the first build is still reading.
        writer.apply(&[Change::Reply {
            board: "b".into(),
            thread: 1,
            no: 2,
            bumped: true,
        }]);
    })
    .await;
    assert_eq!(builds, 2, "the waiters rebuilt once, together");
    let bodies: Vec<_> = results
        .into_iter()
        .map(|r| r.unwrap().body.clone())
        .collect();
    assert_eq!(bodies.iter().filter(|b| **b == b"build 0"[..]).count(), 1);
    assert_eq!(bodies.iter().filter(|b| **b == b"build 1"[..]).count(), 3);
}

#[test]
fn posts_after_are_slices_of_the_whole() {
    let body = br#"{"thread":{"no":1,"posts":[{"no":1},{"no":5},{"no":9}]}}"#.to_vec();
    let text = std::str::from_utf8(&body).unwrap();
    let list_start = text.find('[').unwrap() + 1;
    let starts = [1u64, 5, 9]
        .iter()
        .map(|no| (*no, text.find(&format!("{{\"no\":{no}}}")).unwrap()))
        .collect();
    let list_end = text.rfind(']').unwrap();
    let cached = Cached::with_posts(
        body.clone(),
        PostIndex {
            list_start,
            starts,
            list_end,
        },
    );
    let cases = [
        (
            0,
            r#"{"thread":{"no":1,"posts":[{"no":1},{"no":5},{"no":9}]}}"#,
        ),
        (1, r#"{"thread":{"no":1,"posts":[{"no":5},{"no":9}]}}"#),
        (4, r#"{"thread":{"no":1,"posts":[{"no":5},{"no":9}]}}"#),
        (5, r#"{"thread":{"no":1,"posts":[{"no":9}]}}"#),
        (9, r#"{"thread":{"no":1,"posts":[]}}"#),
        (u64::MAX, r#"{"thread":{"no":1,"posts":[]}}"#),
    ];
    let mut etags = std::collections::HashSet::new();
    for (after, expected) in cases {
        let ([head, tail], etag) = cached.posts_after(after).unwrap();
        let joined = [&head[..], &tail[..]].concat();
        assert_eq!(
            std::str::from_utf8(&joined).unwrap(),
            expected,
            "after={after}"
        );
        serde_json::from_slice::<serde_json::Value>(&joined).unwrap();
        etags.insert((expected, etag));
    }
    // Equal bodies share an ETag, different ones do not.
    let distinct: std::collections::HashSet<_> = etags.iter().map(|(_, e)| e).collect();
    assert_eq!(distinct.len(), 4);
    assert!(Cached::new(body).posts_after(0).is_none());
}

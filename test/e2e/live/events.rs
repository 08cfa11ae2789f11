//! What each change sends: refusals of what cannot be followed, threads and replies once
//! committed, backlinks, deletions, archiving, and thread streams.

use super::*;

#[tokio::test]
async fn the_live_route_refuses_what_it_cannot_follow() {
    let s = Server::with_config(&config()).await;
    let t = open(&s, "a", json!({ "body": "op", "password": "pw" })).await;
    let reply = s.reply("a", t, json!({ "body": "reply" })).await;
    let gone = open(&s, "a", json!({ "body": "doomed", "password": "pw" })).await;
    delete_ok(&s, "a", gone, "pw", false).await;
    let gone_reply = s
        .reply("a", t, json!({ "body": "short-lived", "password": "pw" }))
        .await;
    delete_ok(&s, "a", gone_reply, "pw", false).await;
    let mut failures = Vec::new();
    let mut queries = vec![
        (String::new(), 400, "invalid_query", Some("board")),
        (format!("thread={t}"), 400, "invalid_query", Some("board")),
        ("board=zz".into(), 404, "board_not_found", None),
        ("board=A".into(), 404, "board_not_found", None),
        ("board=".into(), 404, "board_not_found", None),
        ("board=a&thread=99".into(), 404, "thread_not_found", None),
        (
            format!("board=a&thread={reply}"),
            404,
            "thread_not_found",
            None,
        ),
        (
            format!("board=a&thread={gone_reply}"),
            404,
            "thread_not_found",
            None,
        ),
        (format!("board=c&thread={t}"), 404, "thread_not_found", None),
        (
            format!("board=a&thread={gone}"),
            410,
            "thread_deleted",
            None,
        ),
        ("board=a&foo=1".into(), 400, "invalid_query", Some("foo")),
        (
            "board=a&last_event_id=1".into(),
            400,
            "invalid_query",
            Some("last_event_id"),
        ),
        (
            "board=a&board=a".into(),
            400,
            "invalid_query",
            Some("board"),
        ),
        (
            format!("board=a&thread={t}&thread={t}"),
            400,
            "invalid_query",
            Some("thread"),
        ),
    ];
    for bad in [
        "abc",
        "0",
        "-1",
        "1.5",
        "",
        "0x1",
        "99999999999999999999999",
    ] {
        queries.push((
            format!("board=a&thread={bad}"),
            400,
            "invalid_query",
            Some("thread"),
        ));
    }
    for (query, status, code, field) in queries {
        let r = s.get(&format!("/api/live?{query}")).await;
        failures.extend(refusal(&format!("?{query}"), &r, status, code, field));
    }
    for bad in ["abc", "-1", "1.5", "", "0x1", "99999999999999999999999"] {
        let r = s
            .get_with("/api/live?board=a", &[("last-event-id", bad)])
            .await;
        let what = format!("Last-Event-ID {bad:?}");
        failures.extend(refusal(
            &what,
            &r,
            400,
            "invalid_type",
            Some("Last-Event-ID"),
        ));
    }
    for method in ["POST", "PUT", "DELETE"] {
        let r = s.request(method, "/api/live?board=a").await;
        failures.extend(refusal(method, &r, 405, "method_not_allowed", None));
        if r.header("allow") != "GET, HEAD" {
            failures.push(format!("{method}: Allow {:?}", r.header("allow")));
        }
    }
    assert_no_mismatches(&failures);

    // What can be followed still can.
    Live::open(&s, &format!("board=a&thread={t}")).await;
    Live::resume(&s, "board=a", 0).await;
}

#[tokio::test]
async fn a_stream_carries_only_what_commits_after_it_connects() {
    let s = Server::with_config(&config()).await;
    let before = s.thread("a", "before anyone listened").await;
    s.reply("a", before, json!({ "body": "also before" })).await;
    let mut live = Live::open(&s, "board=a").await;
    live.assert_quiet(Duration::from_millis(300)).await;
    let t = s.thread("a", "after").await;
    let e = live.next().await;
    assert_post(&e, "thread", "a", t, t);
    assert_eq!(e.id, 3, "the third event on a fresh server");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn new_threads_and_replies_arrive_once_committed() {
    let s = Arc::new(Server::with_config(&config()).await);
    let mut live = Live::open(&s, "board=a").await;

    // The event may come before the 201 reaches the poster, but the post is already readable.
    let poster = {
        let s = s.clone();
        tokio::spawn(async move {
            let body = json!({ "subject": "Hello", "body": "the first post", "name": "ann" });
            s.post("/api/boards/a/threads", body).await
        })
    };
    let e = live.next().await;
    let t = e.no();
    let op = assert_post(&e, "thread", "a", t, t);
    assert_eq!(
        (&op["subject"], &op["body"], &op["name"]),
        (&json!("Hello"), &json!("the first post"), &json!("ann"))
    );
    assert_served(&s, &e).await;
    let r = poster.await.unwrap();
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(r.json["no"], t);

    let poster = {
        let s = s.clone();
        tokio::spawn(async move {
            s.reply("a", t, json!({ "body": "a reply", "sage": true }))
                .await
        })
    };
    let e2 = live.next().await;
    let reply = e2.no();
    let p = assert_post(&e2, "post", "a", t, reply);
    assert_eq!((&p["body"], &p["sage"]), (&json!("a reply"), &json!(true)));
    assert_served(&s, &e2).await;
    assert_eq!(poster.await.unwrap(), reply);
    assert_eq!(e2.id, e.id + 1);

    // A picture: the event carries the post's files.
    let (pic, served) = upload(
        &s,
        &replies("a", t),
        form(Some("look"), vec![(png(40, 30, [200, 30, 30]), "red.png")]),
    )
    .await;
    let e3 = live.next().await;
    assert_eq!(assert_post(&e3, "post", "a", t, pic), &served);
    assert_eq!(served["files"].as_array().unwrap().len(), 1);
    assert_eq!(e3.id, e2.id + 1);
}

#[tokio::test]
async fn a_quote_sends_a_backlinks_event_not_the_quoted_post() {
    let s = Server::with_config(&config()).await;
    let t = s.thread("a", "op").await;
    let p = s.reply("a", t, json!({ "body": "a claim" })).await;
    let mut live = Live::open(&s, "board=a").await;

    let q = s
        .reply("a", t, json!({ "body": format!(">>{p} agreed") }))
        .await;
    let events = live.take(2).await;
    assert_eq!(events[0].key(), ("post".into(), q));
    assert_served(&s, &events[0]).await;
    assert_eq!(events[1].name, "backlinks");
    assert_eq!(
        events[1].data,
        json!({ "event": "backlinks", "board": "a", "thread": t, "nos": [p],
                "from": { "board": "a", "thread": t, "no": q } })
    );
    // What the event says is what a reader now gets.
    assert_eq!(post(&s, "a", p).await["backlinks"], json!([q]));

    // Two quotes, one of them twice: one event for the thread, each quoted post once.
    let q2 = s
        .reply("a", t, json!({ "body": format!(">>{t} >>{p} >>{p}") }))
        .await;
    let events = live.take(2).await;
    assert_eq!(events[0].key(), ("post".into(), q2));
    assert_eq!(events[1].name, "backlinks");
    assert_eq!(events[1].data["nos"], json!([t, p]));
    assert_eq!(events[1].data["from"]["no"], q2);
    assert_eq!(post(&s, "a", t).await["backlinks"], json!([q2]));
    assert_eq!(post(&s, "a", p).await["backlinks"], json!([q, q2]));

    // Nothing else was sent: the next event is the next post.
    let last = s.reply("a", t, json!({ "body": "no quote" })).await;
    assert_eq!(live.next().await.key(), ("post".into(), last));
}

#[tokio::test]
async fn deletions_send_deletes_and_the_posts_they_change() {
    let s = Server::with_config(&config()).await;
    let t = s.thread("a", "op").await;
    let (pic, _) = upload(
        &s,
        &replies("a", t),
        form(Some("pic"), vec![(png(50, 40, [20, 90, 200]), "blue.png")]).text("password", "pw"),
    )
    .await;
    let claim = s.reply("a", t, json!({ "body": "a claim" })).await;
    let doomed = s
        .reply(
            "a",
            t,
            json!({ "body": format!(">>{claim} wrong"), "password": "pw" }),
        )
        .await;
    let answer = s
        .reply("a", t, json!({ "body": format!(">>{doomed} why?") }))
        .await;
    let mut live = Live::open(&s, "board=a").await;

    delete_ok(&s, "a", pic, "pw", true).await;
    let e = live.next().await;
    let p = assert_post(&e, "post", "a", t, pic);
    assert_eq!((p.get("files"), &p["files_deleted"]), (None, &json!(true)));
    assert_served(&s, &e).await;

    // The deleted post and the post it no longer quotes. The reply quoting it is not sent
    // again (its thread's subscribers draw the link dead on the `delete`), and serves it dead.
    delete_ok(&s, "a", doomed, "pw", false).await;
    let events = live.take(2).await;
    let delete = events
        .iter()
        .find(|e| e.name == "delete")
        .expect("a delete");
    assert_delete(delete, "a", t, doomed);
    let mut changed: Vec<(String, u64)> = events.iter().map(Event::key).collect();
    changed.sort();
    assert_eq!(changed, [("delete".into(), doomed), ("post".into(), claim)]);
    let unquoted = events.iter().find(|e| e.no() == claim).unwrap();
    assert_post(unquoted, "post", "a", t, claim);
    assert_served(&s, unquoted).await;
    assert_eq!(unquoted.post().get("backlinks"), None);
    assert_eq!(
        post(&s, "a", answer).await["html"],
        format!("<span class=\"deadlink\">&gt;&gt;{doomed}</span> why?")
    );

    let last = s.reply("a", t, json!({ "body": "still here" })).await;
    assert_eq!(live.next().await.key(), ("post".into(), last));
}

#[tokio::test]
async fn deleting_a_thread_sends_a_delete_for_each_post_op_last() {
    let s = Server::with_config(&config()).await;
    let t = open(&s, "a", json!({ "body": "doomed", "password": "pw" })).await;
    let r1 = s.reply("a", t, json!({ "body": "one" })).await;
    let r2 = s
        .reply("a", t, json!({ "body": format!(">>{t} two") }))
        .await;
    let other = s.thread("a", &format!(">>{r1} from elsewhere")).await;
    let mut board = Live::open(&s, "board=a").await;
    let mut thread = Live::open(&s, &format!("board=a&thread={t}")).await;

    delete_ok(&s, "a", t, "pw", false).await;
    let mut events = Vec::new();
    while events
        .last()
        .is_none_or(|e: &Event| e.key() != ("delete".into(), t))
    {
        events.push(board.next().await);
        assert!(events.len() <= 10, "no delete of the OP: {events:?}");
    }
    let deletes: Vec<u64> = events
        .iter()
        .filter(|e| e.name == "delete")
        .map(Event::no)
        .collect();
    assert_eq!(
        deletes.iter().copied().collect::<BTreeSet<_>>(),
        BTreeSet::from([t, r1, r2])
    );
    assert_eq!(deletes.last(), Some(&t), "the OP goes last: {events:?}");
    for e in events.iter().filter(|e| e.name == "delete") {
        assert_delete(e, "a", t, e.no());
    }
    // The thread of the post linking in from elsewhere was told its link died, and that post
    // was not sent again; it serves the link dead.
    let unlinked = events
        .iter()
        .find(|e| e.name == "unlinked")
        .unwrap_or_else(|| panic!("no event for the thread linking in: {events:?}"));
    assert_eq!(
        unlinked.data,
        json!({ "event": "unlinked", "board": "a", "thread": other,
            "target": { "board": "a", "no": r1 } })
    );
    assert_eq!(
        post(&s, "a", other).await["html"],
        format!("<span class=\"deadlink\">&gt;&gt;{r1}</span> from elsewhere")
    );
    for e in events.iter().filter(|e| e.name == "post") {
        assert!([t, r1, r2].contains(&e.no()), "unexpected {e:?}");
    }

    // The thread's own stream: the same deletes, OP last, without the other thread's event.
    let own: Vec<Event> = events
        .iter()
        .filter(|e| e.data["thread"] == t)
        .cloned()
        .collect();
    assert_eq!(thread.take(own.len()).await, own);
    let last = s.reply("a", other, json!({ "body": "after" })).await;
    assert_eq!(board.next().await.key(), ("post".into(), last));
    thread.assert_quiet(Duration::from_millis(200)).await;

    let r = s.get(&format!("/api/live?board=a&thread={t}")).await;
    r.assert_error(410, "thread_deleted");
}

#[tokio::test]
async fn a_thread_pushed_out_of_the_live_list_sends_an_update_or_deletes() {
    let s = Server::with_config(&config()).await;
    let first = s.thread("t", "first").await;
    s.thread("t", "second").await;
    let mut board = Live::open(&s, "board=t").await;
    let mut thread = Live::open(&s, &format!("board=t&thread={first}")).await;
    let third = s.thread("t", "third pushes the first out").await;
    let events = board.take(2).await;
    assert_post(&events[0], "thread", "t", third, third);
    let update = json!({
        "event": "update", "board": "t", "thread": first,
        "sticky": false, "locked": false, "archived": true, "cyclical": false,
    });
    assert_eq!(
        (events[1].name.as_str(), &events[1].data),
        ("update", &update)
    );
    assert_eq!(thread.next().await, events[1]);
    // An archived thread can still be followed.
    Live::open(&s, &format!("board=t&thread={first}")).await;

    // Without an archive the thread pushed out is deleted, OP last.
    let doomed = s.thread("gone", "first").await;
    let reply = s.reply("gone", doomed, json!({ "body": "reply" })).await;
    s.thread("gone", "second").await;
    let mut gone = Live::open(&s, "board=gone").await;
    let third = s.thread("gone", "third").await;
    let events = gone.take(3).await;
    assert_post(&events[0], "thread", "gone", third, third);
    assert_delete(&events[1], "gone", doomed, reply);
    assert_delete(&events[2], "gone", doomed, doomed);
}

#[tokio::test]
async fn a_thread_stream_carries_only_its_thread_and_ids_are_shared() {
    let s = Server::with_config(&config()).await;
    let t1 = s.thread("a", "followed").await;
    let t2 = s.thread("a", "not followed").await;
    let tc = s.thread("c", "other board").await;
    let mut thread = Live::open(&s, &format!("board=a&thread={t1}")).await;
    let mut board = Live::open(&s, "board=a").await;
    let mut other = Live::open(&s, "board=c").await;

    let r1 = s.reply("a", t1, json!({ "body": "in the thread" })).await;
    let t3 = s.thread("a", "a new thread").await;
    let r2 = s.reply("a", t2, json!({ "body": "elsewhere" })).await;
    let rc = s.reply("c", tc, json!({ "body": "another board" })).await;
    let quote = s
        .reply(
            "a",
            t2,
            json!({ "body": format!(">>{r1} quoted from elsewhere") }),
        )
        .await;
    let last = s.reply("a", t1, json!({ "body": "the end" })).await;

    let seen: Vec<Event> = thread.take(3).await;
    let names: Vec<&str> = seen.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["post", "backlinks", "post"]);
    assert_eq!(seen[0].no(), r1);
    assert_eq!(
        seen[1].data,
        json!({ "event": "backlinks", "board": "a", "thread": t1, "nos": [r1],
                "from": { "board": "a", "thread": t2, "no": quote } }),
        "the backlink from another thread reaches the quoted thread's stream"
    );
    assert_eq!(seen[2].no(), last);
    for e in &seen {
        assert_eq!(e.data["thread"], t1);
    }

    let all = board.take(6).await;
    let keys: Vec<(String, u64)> = all.iter().map(Event::key).collect();
    let expected = [
        ("post", r1),
        ("thread", t3),
        ("post", r2),
        ("post", quote),
        ("backlinks", quote),
        ("post", last),
    ]
    .map(|(n, no)| (n.to_owned(), no));
    assert_eq!(keys, expected);
    let c = other.next().await;
    assert_post(&c, "post", "c", tc, rc);

    // One sequence for every board: /c/'s event took the id missing from /a/'s stream.
    assert_eq!(seen, [all[0].clone(), all[4].clone(), all[5].clone()]);
    let mut ids: Vec<u64> = all.iter().map(|e| e.id).collect();
    assert!(ids.windows(2).all(|w| w[0] < w[1]), "{ids:?}");
    assert_eq!(all[3].id - all[2].id, 2, "a gap where /c/'s event went");
    assert_eq!(c.id, all[2].id + 1);
    ids.push(c.id);
    ids.sort_unstable();
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "{ids:?}");
    other.assert_quiet(Duration::from_millis(200)).await;
}

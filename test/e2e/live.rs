//! Live updates over Server-Sent Events: what each change sends to a board's and a thread's
//! subscribers, resuming with `Last-Event-ID` (across a restart too), many subscribers and
//! posters at once, a subscriber too slow for the channel, and shutdown with streams open.

use std::collections::{BTreeSet, VecDeque};
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{Stream, StreamExt};
use serde_json::{json, Value};

use crate::board_life::{board, delete_ok, open};
use crate::harness::*;
use crate::uploads::{assert_no_mismatches, form, mismatch, png, post, replies, upload};

/// How long any one event may take to arrive before the test fails instead of hanging.
const WAIT: Duration = Duration::from_secs(5);

/// Boards /a/ and /c/ with the defaults, /t/ archiving past two live threads, and /gone/
/// deleting past two.
fn config() -> String {
    board("a", "")
        + &board("c", "")
        + &board("t", "thread_limit = 2")
        + &board("gone", "thread_limit = 2\narchive_days = 0")
}

/// One SSE event, parsed from exactly `id: <n>\nevent: <name>\ndata: <json>`.
#[derive(Debug, Clone, PartialEq)]
struct Event {
    id: u64,
    name: String,
    data: Value,
    /// Bytes on the wire, blank line included.
    size: usize,
}

impl Event {
    /// The post number it is about: the post's `no`, or a delete's `no`.
    fn no(&self) -> u64 {
        match self.name.as_str() {
            "delete" => self.data["no"].as_u64(),
            _ => self.data["post"]["no"].as_u64(),
        }
        .unwrap_or_else(|| panic!("no post number in {}", self.data))
    }

    fn post(&self) -> &Value {
        &self.data["post"]
    }

    /// `(event name, post number)`, to compare sequences at a glance.
    fn key(&self) -> (String, u64) {
        (self.name.clone(), self.no())
    }
}

fn parse(block: &str) -> Event {
    let lines: Vec<&str> = block.split('\n').collect();
    let [id, name, data] = lines.as_slice() else {
        panic!("not an `id`, `event`, `data` message: {block:?}");
    };
    let id = id
        .strip_prefix("id: ")
        .and_then(|id| id.parse::<u64>().ok())
        .unwrap_or_else(|| panic!("bad id line in {block:?}"));
    let name = name
        .strip_prefix("event: ")
        .unwrap_or_else(|| panic!("bad event line in {block:?}"));
    let data: Value = data
        .strip_prefix("data: ")
        .and_then(|d| serde_json::from_str(d).ok())
        .unwrap_or_else(|| panic!("bad data line in {block:?}"));
    assert_eq!(data["event"], name, "the data names its event: {block}");
    Event {
        id,
        name: name.to_owned(),
        data,
        size: block.len() + 2,
    }
}

enum Read {
    Block(String),
    /// The server ended the body cleanly.
    End,
    Broken(String),
    /// Nothing within the wait.
    Quiet,
}

/// A subscriber: a real HTTP client reading `/api/live` as a byte stream.
struct Live {
    body: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    /// Received bytes not yet making a whole message.
    pending: Vec<u8>,
    blocks: VecDeque<String>,
}

impl Live {
    /// Subscribes without `Last-Event-ID`.
    async fn open(s: &Server, query: &str) -> Live {
        Live::connect(s, query, None).await
    }

    /// Subscribes with `Last-Event-ID: id`.
    async fn resume(s: &Server, query: &str, id: u64) -> Live {
        Live::connect(s, query, Some(id)).await
    }

    /// Checks the answer's status and headers and the opening `retry`.
    async fn connect(s: &Server, query: &str, last_event_id: Option<u64>) -> Live {
        let mut req = s.client.get(s.url(&format!("/api/live?{query}")));
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id.to_string());
        }
        let resp = tokio::time::timeout(WAIT, req.send())
            .await
            .unwrap_or_else(|_| panic!("?{query}: no answer within {WAIT:?}"))
            .expect("request failed");
        let headers = resp.headers().clone();
        assert_eq!(resp.status(), 200, "?{query}: {:?}", resp.text().await);
        for (name, value) in [
            ("content-type", "text/event-stream"),
            ("cache-control", "no-store"),
            ("x-accel-buffering", "no"),
        ] {
            assert_eq!(
                headers.get(name).and_then(|v| v.to_str().ok()),
                Some(value),
                "?{query}: {name}"
            );
        }
        let mut live = Live {
            body: Box::pin(resp.bytes_stream()),
            pending: Vec::new(),
            blocks: VecDeque::new(),
        };
        match live.read(WAIT).await {
            Read::Block(first) => assert_eq!(first, "retry: 3000", "?{query}: the first message"),
            _ => panic!("?{query}: no `retry` within {WAIT:?}"),
        }
        live
    }

    /// The next message (blank-line separated) within `wait`.
    async fn read(&mut self, wait: Duration) -> Read {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(block) = self.blocks.pop_front() {
                return Read::Block(block);
            }
            match tokio::time::timeout_at(deadline, self.body.next()).await {
                Err(_) => return Read::Quiet,
                Ok(None) => return Read::End,
                Ok(Some(Err(e))) => return Read::Broken(format!("{e:?}")),
                Ok(Some(Ok(chunk))) => self.feed(&chunk),
            }
        }
    }

    fn feed(&mut self, chunk: &[u8]) {
        self.pending.extend_from_slice(chunk);
        // A chunk may end inside a character; keep its first bytes for the next one.
        let valid = match std::str::from_utf8(&self.pending) {
            Ok(text) => text.len(),
            Err(e) => e.valid_up_to(),
        };
        let text = std::str::from_utf8(&self.pending[..valid]).unwrap();
        let mut used = 0;
        while let Some(end) = text[used..].find("\n\n") {
            self.blocks.push_back(text[used..used + end].to_owned());
            used += end + 2;
        }
        self.pending.drain(..used);
    }

    /// The next event, skipping heartbeat comments; fails after [`WAIT`] or if the stream ends.
    async fn next(&mut self) -> Event {
        self.try_next().await.unwrap_or_else(|e| panic!("{e}"))
    }

    async fn try_next(&mut self) -> Result<Event, String> {
        loop {
            return match self.read(WAIT).await {
                Read::Block(block) if block.starts_with(':') => continue,
                Read::Block(block) => Ok(parse(&block)),
                Read::End => Err("the stream ended while an event was expected".into()),
                Read::Broken(e) => {
                    Err(format!("the stream broke while an event was expected: {e}"))
                }
                Read::Quiet => Err(format!("no event within {WAIT:?}")),
            };
        }
    }

    /// The next `n` events.
    async fn take(&mut self, n: usize) -> Vec<Event> {
        let mut out: Vec<Event> = Vec::with_capacity(n);
        for i in 0..n {
            match self.try_next().await {
                Ok(e) => out.push(e),
                Err(e) => {
                    let after = out.last().map(|e| e.id);
                    panic!("event {} of {n} (after id {after:?}): {e}", i + 1)
                }
            }
        }
        out
    }

    /// Nothing but heartbeats arrives for `wait`.
    async fn assert_quiet(&mut self, wait: Duration) {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match self.read(left).await {
                Read::Block(block) if block.starts_with(':') => continue,
                Read::Block(block) => panic!("expected nothing, got {block}"),
                Read::End => panic!("the stream ended"),
                Read::Broken(e) => panic!("the stream broke: {e}"),
                Read::Quiet => return,
            }
        }
    }
}

/// Asserts a `thread` or `post` event's exact fields; returns its post.
#[track_caller]
fn assert_post<'a>(e: &'a Event, name: &str, board: &str, thread: u64, no: u64) -> &'a Value {
    let keys: BTreeSet<&str> = e
        .data
        .as_object()
        .unwrap()
        .keys()
        .map(|k| k.as_str())
        .collect();
    assert_eq!(
        keys,
        BTreeSet::from(["event", "board", "thread", "post"]),
        "{}",
        e.data
    );
    assert_eq!(
        (e.name.as_str(), &e.data["board"], &e.data["thread"]),
        (name, &json!(board), &json!(thread)),
        "{}",
        e.data
    );
    assert_eq!(e.post()["no"], no, "{}", e.data);
    assert_eq!(e.post()["board"], board, "{}", e.data);
    assert_eq!(e.post()["thread"], thread, "{}", e.data);
    e.post()
}

#[track_caller]
fn assert_delete(e: &Event, board: &str, thread: u64, no: u64) {
    assert_eq!(
        (e.name.as_str(), &e.data),
        (
            "delete",
            &json!({ "event": "delete", "board": board, "thread": thread, "no": no })
        )
    );
}

/// The post in the event is what `GET /api/boards/{board}/posts/{no}` serves now.
async fn assert_served(s: &Server, e: &Event) {
    let board = e.data["board"].as_str().unwrap();
    assert_eq!(e.post(), &post(s, board, e.no()).await, "event {}", e.id);
}

/// Ids strictly increase, each by exactly one: what one board's stream sees when every event
/// on the server is on that board.
#[track_caller]
fn assert_consecutive(events: &[Event]) {
    for pair in events.windows(2) {
        assert_eq!(
            pair[1].id,
            pair[0].id + 1,
            "ids {} then {}",
            pair[0].id,
            pair[1].id
        );
    }
}

/// Posts one reply per body to `thread` from `posters` concurrent clients; returns the numbers
/// answered 201.
async fn burst(
    s: &Server,
    board: &str,
    thread: u64,
    bodies: Vec<String>,
    posters: usize,
) -> BTreeSet<u64> {
    let url = s.url(&replies(board, thread));
    let mut tasks = Vec::new();
    for p in 0..posters {
        let mine: Vec<String> = bodies.iter().skip(p).step_by(posters).cloned().collect();
        let (client, url) = (s.client.clone(), url.clone());
        tasks.push(tokio::spawn(async move {
            let mut numbers = Vec::new();
            for body in mine {
                let r = client
                    .post(&url)
                    .json(&json!({ "body": body }))
                    .send()
                    .await;
                let r = r.expect("posting failed");
                assert_eq!(r.status(), 201);
                numbers.push(r.json::<Value>().await.unwrap()["no"].as_u64().unwrap());
            }
            numbers
        }));
    }
    let mut all = BTreeSet::new();
    for task in tasks {
        all.extend(task.await.unwrap());
    }
    assert_eq!(all.len(), bodies.len());
    all
}

/// A burst's events as one subscriber saw them: every reply, in commit order (numbers and
/// ids increasing together), nothing missing or repeated.
#[track_caller]
fn assert_burst(events: &[Event], board: &str, thread: u64, numbers: &BTreeSet<u64>) {
    for e in events {
        assert_post(e, "post", board, thread, e.no());
    }
    let seen: Vec<u64> = events.iter().map(Event::no).collect();
    assert_eq!(seen, numbers.iter().copied().collect::<Vec<_>>());
    assert_consecutive(events);
}

/// What differs from this error, served as JSON.
fn refusal(what: &str, r: &Reply, status: u16, code: &str, field: Option<&str>) -> Vec<String> {
    let mut out = Vec::new();
    if !r.header("content-type").starts_with("application/json") {
        out.push(format!("{what}: served as {:?}", r.header("content-type")));
    }
    out.extend(mismatch(r, status, code, field).map(|m| format!("{what}: {m}")));
    out
}

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
async fn a_quoted_post_is_sent_again_with_its_backlink() {
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
    let quoted = assert_post(&events[1], "post", "a", t, p);
    assert_eq!(quoted["backlinks"], json!([q]));
    assert_served(&s, &events[1]).await;

    // Two quotes, one of them twice: each quoted post once, the OP as a `post` too.
    let q2 = s
        .reply("a", t, json!({ "body": format!(">>{t} >>{p} >>{p}") }))
        .await;
    let events = live.take(3).await;
    assert_eq!(events[0].key(), ("post".into(), q2));
    let mut changed: Vec<(String, u64)> = events[1..].iter().map(Event::key).collect();
    changed.sort();
    assert_eq!(changed, [("post".into(), t), ("post".into(), p)]);
    for e in &events {
        assert_served(&s, e).await;
    }
    let op = events.iter().find(|e| e.no() == t).unwrap();
    assert_eq!(op.post()["backlinks"], json!([q2]));
    let claim = events.iter().find(|e| e.no() == p).unwrap();
    assert_eq!(claim.post()["backlinks"], json!([q, q2]));

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
    assert_eq!(
        (&p["files"], &p["files_deleted"]),
        (&json!([]), &json!(true))
    );
    assert_served(&s, &e).await;

    // The deleted post, the reply whose link to it died, the post it no longer quotes.
    delete_ok(&s, "a", doomed, "pw", false).await;
    let events = live.take(3).await;
    let delete = events
        .iter()
        .find(|e| e.name == "delete")
        .expect("a delete");
    assert_delete(delete, "a", t, doomed);
    let mut changed: Vec<(String, u64)> = events.iter().map(Event::key).collect();
    changed.sort();
    assert_eq!(
        changed,
        [
            ("delete".into(), doomed),
            ("post".into(), claim),
            ("post".into(), answer)
        ]
    );
    for e in events.iter().filter(|e| e.name == "post") {
        assert_post(e, "post", "a", t, e.no());
        assert_served(&s, e).await;
    }
    let dead = events.iter().find(|e| e.no() == answer).unwrap();
    assert!(
        dead.post()["html"].as_str().unwrap().contains("deadlink"),
        "{}",
        dead.data
    );
    let unquoted = events.iter().find(|e| e.no() == claim).unwrap();
    assert_eq!(unquoted.post()["backlinks"], json!([]));

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
    // The post in another thread whose link died was sent again.
    let relinked = events
        .iter()
        .find(|e| e.key() == ("post".into(), other))
        .unwrap_or_else(|| panic!("no event for the post linking in: {events:?}"));
    assert_post(relinked, "post", "a", other, other);
    assert!(relinked.post()["html"]
        .as_str()
        .unwrap()
        .contains("deadlink"));
    assert_served(&s, relinked).await;
    for e in events.iter().filter(|e| e.name == "post") {
        assert!(
            e.no() == other || [t, r1, r2].contains(&e.no()),
            "unexpected {e:?}"
        );
    }

    // The thread's own stream: the same deletes, OP last, without the other thread's post.
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
        "sticky": false, "locked": false, "archived": true,
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
    let keys: Vec<(String, u64)> = seen.iter().map(Event::key).collect();
    assert_eq!(
        keys,
        [
            ("post".into(), r1),
            ("post".into(), r1),
            ("post".into(), last)
        ]
    );
    assert_eq!(
        seen[1].post()["backlinks"],
        json!([quote]),
        "the backlink from another thread"
    );
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
        ("post", r1),
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

#[tokio::test]
async fn last_event_id_replays_what_followed_then_goes_live() {
    let s = Server::start().await;
    let t = s.thread("b", "op").await;
    let mut watcher = Live::open(&s, "board=b").await;
    for i in 0..10 {
        s.reply("b", t, json!({ "body": format!("reply {i}") }))
            .await;
    }
    let seen = watcher.take(10).await;
    assert_consecutive(&seen);

    // From the middle: exactly the later events, in order, then the next live one, once.
    let mut board = Live::resume(&s, "board=b", seen[3].id).await;
    let mut thread = Live::resume(&s, &format!("board=b&thread={t}"), seen[3].id).await;
    assert_eq!(board.take(6).await, seen[4..]);
    assert_eq!(thread.take(6).await, seen[4..]);
    let live = s.reply("b", t, json!({ "body": "live" })).await;
    let next = watcher.next().await;
    assert_eq!(
        (next.key(), next.id),
        (("post".into(), live), seen[9].id + 1)
    );
    assert_eq!(board.next().await, next);
    assert_eq!(thread.next().await, next);

    // From 0: everything kept, the thread's own event first.
    let mut all = Live::resume(&s, "board=b", 0).await;
    let replayed = all.take(12).await;
    assert_post(&replayed[0], "thread", "b", t, t);
    assert_eq!(replayed[1..11], seen);
    assert_eq!(replayed[11], next);
    // From the newest id, or one never given out: nothing to replay, live from here.
    let mut newest = Live::resume(&s, "board=b", next.id).await;
    let mut ahead = Live::resume(&s, "board=b", 1_000_000_000).await;
    let again = s.reply("b", t, json!({ "body": "again" })).await;
    for live in [&mut watcher, &mut board, &mut all, &mut newest, &mut ahead] {
        let e = live.next().await;
        assert_eq!((e.key(), e.id), (("post".into(), again), next.id + 1));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn resuming_during_a_burst_misses_and_repeats_nothing() {
    let s = Arc::new(Server::start().await);
    let t = s.thread("b", "op").await;
    let mut watcher = Live::open(&s, "board=b").await;
    let posting = {
        let s = s.clone();
        let bodies = (0..400).map(|i| format!("post {i}")).collect();
        tokio::spawn(async move { burst(&s, "b", t, bodies, 8).await })
    };
    // Resume mid-burst from a little behind what the watcher has seen, so each replay meets
    // events still being published.
    let mut seen: Vec<Event> = Vec::new();
    let mut resumed = Vec::new();
    while seen.len() < 400 {
        seen.push(watcher.next().await);
        if seen.len().is_multiple_of(40) {
            let from = seen[seen.len() - 20].id;
            let query = if seen.len().is_multiple_of(80) {
                format!("board=b&thread={t}")
            } else {
                "board=b".to_owned()
            };
            resumed.push((from, Live::resume(&s, &query, from).await));
        }
    }
    let numbers = posting.await.unwrap();
    assert_burst(&seen, "b", t, &numbers);
    let last = seen.last().unwrap().id;
    for (from, mut live) in resumed {
        let events = live.take((last - from) as usize).await;
        let expected: Vec<&Event> = seen.iter().filter(|e| e.id > from).collect();
        assert_eq!(
            events.iter().collect::<Vec<_>>(),
            expected,
            "resumed from {from}"
        );
        live.assert_quiet(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn replay_resumes_across_a_restart() {
    let mut s = Server::start().await;
    let t = s.thread("b", "op").await;
    let mut watcher = Live::open(&s, "board=b").await;
    for i in 0..6 {
        s.reply("b", t, json!({ "body": format!("before the restart {i}") }))
            .await;
    }
    let seen = watcher.take(6).await;
    let status = s.stop();
    assert!(status.success(), "{status}");
    assert!(
        matches!(watcher.read(WAIT).await, Read::End),
        "the stream ends with the server"
    );
    s.restart();

    let mut board = Live::resume(&s, "board=b", seen[2].id).await;
    let mut thread = Live::resume(&s, &format!("board=b&thread={t}"), seen[2].id).await;
    assert_eq!(board.take(3).await, seen[3..]);
    assert_eq!(thread.take(3).await, seen[3..]);
    let after = s
        .reply("b", t, json!({ "body": "after the restart" }))
        .await;
    for live in [&mut board, &mut thread] {
        let e = live.next().await;
        assert_eq!(e.key(), ("post".into(), after));
        assert_eq!(e.id, seen[5].id + 1, "the sequence continues");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_hundred_subscribers_each_get_a_burst_from_eight_posters() {
    const SUBSCRIBERS: usize = 200;
    const POSTS: usize = 50;
    let s = Arc::new(Server::start().await);
    let t = s.thread("b", "op").await;
    let mut readers = Vec::new();
    for i in 0..SUBSCRIBERS {
        let query = if i % 2 == 0 {
            "board=b".to_owned()
        } else {
            format!("board=b&thread={t}")
        };
        let mut live = Live::open(&s, &query).await;
        readers.push(tokio::spawn(async move { live.take(POSTS).await }));
    }
    // One more reads each post the moment its event arrives.
    let checker = {
        let (s, mut live) = (s.clone(), Live::open(&s, "board=b").await);
        tokio::spawn(async move {
            for _ in 0..POSTS {
                let e = live.next().await;
                let r = s.get(&format!("/api/boards/b/posts/{}", e.no())).await;
                assert_eq!(
                    r.status,
                    200,
                    "post {} right after its event: {}",
                    e.no(),
                    r.json
                );
                assert_eq!(r.json["post"], *e.post());
            }
        })
    };
    let bodies = (0..POSTS).map(|i| format!("post {i}")).collect();
    let numbers = burst(&s, "b", t, bodies, 8).await;
    let first = readers.remove(0).await.unwrap();
    assert_burst(&first, "b", t, &numbers);
    for reader in readers {
        assert_eq!(
            reader.await.unwrap(),
            first,
            "every subscriber saw the same"
        );
    }
    checker.await.unwrap();
}

/// Bytes the socket buffers between the server and a client that does not read can hold:
/// the server's send buffer at its largest, the client's receive buffer as it starts (it grows
/// only as the client reads), and 2 MiB for both ends' HTTP buffers.
fn socket_buffers() -> usize {
    let field = |path: &str, i: usize| -> usize {
        std::fs::read_to_string(path)
            .ok()
            .and_then(|v| v.split_whitespace().nth(i)?.parse().ok())
            .unwrap_or(8 << 20)
    };
    field("/proc/sys/net/ipv4/tcp_wmem", 2) + field("/proc/sys/net/ipv4/tcp_rmem", 1) + (2 << 20)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_that_stops_reading_still_gets_every_event() {
    /// The channel holds 4096 events; this many more than it, and large, cannot all wait in
    /// socket buffers either, so the stream must fall behind and replay from the database.
    const POSTS: usize = 5000;
    const CHANNEL: usize = 4096;
    let s = Arc::new(Server::start().await);
    let t = s.thread("b", "a flood").await;
    let mut slow = Live::open(&s, "board=b").await;
    let mut fast = Live::open(&s, "board=b").await;
    let reading = tokio::spawn(async move { fast.take(POSTS).await });

    let started = Instant::now();
    // `"` is 2 bytes in JSON and `&quot;` in the html: about 8 KB per event.
    let bodies = (0..POSTS)
        .map(|i| format!("{i} {}", "\"".repeat(1000)))
        .collect();
    let numbers = burst(&s, "b", t, bodies, 32).await;
    let posted = started.elapsed();

    let events = slow.take(POSTS).await;
    assert_burst(&events, "b", t, &numbers);
    let held: usize = events[..POSTS - CHANNEL].iter().map(|e| e.size).sum();
    assert!(
        held > socket_buffers(),
        "the events beyond the channel ({held} bytes) fit in socket buffers: not a lag"
    );
    assert_eq!(reading.await.unwrap(), events);
    let live = s.reply("b", t, json!({ "body": "caught up" })).await;
    let e = slow.next().await;
    assert_eq!(
        (e.key(), e.id),
        (("post".into(), live), events[POSTS - 1].id + 1)
    );
    eprintln!(
        "{POSTS} posts in {posted:?}; the slow subscriber caught up after {:?}",
        started.elapsed()
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_ends_open_streams() {
    let s = Server::start().await;
    let t = s.thread("b", "op").await;
    let mut board = Live::open(&s, "board=b").await;
    let mut thread = Live::open(&s, &format!("board=b&thread={t}")).await;
    let mut idle = Live::open(&s, "board=b").await;
    let reply = s.reply("b", t, json!({ "body": "flowing" })).await;
    assert_eq!(board.next().await.no(), reply);
    assert_eq!(thread.next().await.no(), reply);

    let started = Instant::now();
    let (s, status) = tokio::task::spawn_blocking(move || {
        let mut s = s;
        let status = s.stop();
        (s, status)
    })
    .await
    .unwrap();
    let took = started.elapsed();
    assert!(status.success(), "{status}");
    assert!(
        took < Duration::from_secs(3),
        "SIGTERM took {took:?} with streams open"
    );
    for live in [&mut board, &mut thread] {
        match live.read(WAIT).await {
            Read::End => {}
            Read::Broken(e) => panic!("the stream broke instead of ending: {e}"),
            Read::Quiet => panic!("the stream is still open"),
            Read::Block(b) => panic!("unexpected {b:?}"),
        }
    }
    // The one that never read gets the event, then the end.
    assert_eq!(idle.next().await.no(), reply);
    assert!(matches!(idle.read(WAIT).await, Read::End));
    let logs = s.logs().join("\n");
    assert!(!logs.contains("shutdown_timeout"), "{logs}");
}

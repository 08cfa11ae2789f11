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

/// See [`EVENT_WAIT`].
const WAIT: Duration = EVENT_WAIT;

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
    /// The post number it is about: the post's `no`, a delete's `no`, for `backlinks` the
    /// quoting post's, for `unlinked` the deleted post's.
    fn no(&self) -> u64 {
        match self.name.as_str() {
            "delete" => self.data["no"].as_u64(),
            "backlinks" => self.data["from"]["no"].as_u64(),
            "unlinked" => self.data["target"]["no"].as_u64(),
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

/// Numbers the subscribers of this test process, to give each its own client address.
static SUBSCRIBERS: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

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
        // Each subscriber is its own client: one address follows a bounded number of streams.
        let client = SUBSCRIBERS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut req = s.client.get(s.url(&format!("/api/live?{query}"))).header(
            "x-forwarded-for",
            format!("10.77.{}.{}", client / 250 % 250, client % 250),
        );
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
                // Each poster is its own client: one address holds a bounded share of connections.
                let r = client
                    .post(&url)
                    .header("x-forwarded-for", format!("198.51.{}.{}", p / 250, p % 250))
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

mod events;
mod load;
mod resume;
mod unlinking;

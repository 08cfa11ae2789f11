//! The staff stream of report counts (`GET /api/reports/live`): who may not open it, what a
//! board's janitor and another board's janitor see, and the counts rising when a report is
//! filed and falling when staff handle it or the post goes.

use std::collections::VecDeque;
use std::pin::Pin;
use std::time::Duration;

use bytes::Bytes;
use futures_util::{Stream, StreamExt};

use super::*;

/// See [`EVENT_WAIT`].
const WAIT: Duration = EVENT_WAIT;

/// One staff subscriber reading the stream as bytes.
struct Counts {
    body: Pin<Box<dyn Stream<Item = reqwest::Result<Bytes>> + Send>>,
    pending: Vec<u8>,
    blocks: VecDeque<String>,
}

impl Counts {
    /// Opens the stream as `who` from client `ip`; checks the headers and the opening `retry`.
    async fn open(s: &Server, who: &Session, ip: &str) -> Counts {
        let resp = who
            .request(s, reqwest::Method::GET, "/api/reports/live")
            .header("x-forwarded-for", ip)
            .send()
            .await
            .expect("request failed");
        assert_eq!(resp.status(), 200);
        for (name, value) in [
            ("content-type", "text/event-stream"),
            ("cache-control", "no-store"),
            ("x-accel-buffering", "no"),
        ] {
            assert_eq!(
                resp.headers().get(name).and_then(|v| v.to_str().ok()),
                Some(value),
                "{name}"
            );
        }
        let mut counts = Counts {
            body: Box::pin(resp.bytes_stream()),
            pending: Vec::new(),
            blocks: VecDeque::new(),
        };
        assert_eq!(counts.block().await, "retry: 3000");
        counts
    }

    /// The next blank-line separated message.
    async fn block(&mut self) -> String {
        loop {
            if let Some(block) = self.blocks.pop_front() {
                return block;
            }
            let chunk = tokio::time::timeout(WAIT, self.body.next())
                .await
                .unwrap_or_else(|_| panic!("nothing within {WAIT:?}"))
                .expect("the stream ended")
                .expect("the stream broke");
            self.pending.extend_from_slice(&chunk);
            let text = String::from_utf8(self.pending.clone()).expect("UTF-8");
            let mut used = 0;
            while let Some(end) = text[used..].find("\n\n") {
                self.blocks.push_back(text[used..used + end].to_owned());
                used += end + 2;
            }
            self.pending.drain(..used);
        }
    }

    /// Waits for the server to end the stream, failing on any event before.
    async fn ended(&mut self) {
        if let Some(block) = self.blocks.pop_front() {
            panic!("an event instead of the end: {block:?}");
        }
        loop {
            match tokio::time::timeout(WAIT, self.body.next()).await {
                Err(_) => panic!("the stream did not end within {WAIT:?}"),
                Ok(None) => return,
                Ok(Some(Err(e))) => panic!("the stream broke instead of ending: {e:?}"),
                Ok(Some(Ok(chunk))) => {
                    let text = String::from_utf8_lossy(&chunk);
                    assert!(
                        text.trim().is_empty() || text.starts_with(':'),
                        "an event instead of the end: {text:?}"
                    );
                }
            }
        }
    }

    /// The data of the next `counts` event, skipping heartbeats.
    async fn next(&mut self) -> Value {
        loop {
            let block = self.block().await;
            if block.starts_with(':') {
                continue;
            }
            let data = block
                .strip_prefix("event: counts\ndata: ")
                .unwrap_or_else(|| panic!("not a counts event: {block:?}"));
            return serde_json::from_str(data).expect("JSON data");
        }
    }
}

#[tokio::test]
async fn the_counts_stream_refuses_who_is_not_staff() {
    let s = Server::with_config(&config("")).await;
    let user = Session::signup(&s, "visitor", crate::session::PASSWORD).await;
    s.get("/api/reports/live")
        .await
        .assert_error(403, "not_logged_in");
    user.get(&s, "/api/reports/live")
        .await
        .assert_error(403, "forbidden");
    let (_root, jan, _) = team(&s).await;
    jan.get(&s, "/api/reports/live?board=t")
        .await
        .assert_error(400, "invalid_query");
}

#[tokio::test]
async fn the_counts_stream_shares_the_cap_of_live_streams() {
    let s = Server::with_config(&config("max_streams_per_client = 1")).await;
    let (_root, jan, _) = team(&s).await;
    let ip = "192.0.2.40";
    let first = Counts::open(&s, &jan, ip).await;
    let r = s
        .send(
            jan.request(&s, reqwest::Method::GET, "/api/reports/live")
                .header("x-forwarded-for", ip),
        )
        .await;
    r.assert_error(429, "too_many_connections");
    assert_eq!(r.header("retry-after"), "5");
    // A public stream counts against the same cap.
    let r = s.send(from_get(&s, ip, "/api/live?board=t")).await;
    r.assert_error(429, "too_many_connections");
    drop(first);
    // Another client is not held back by this one.
    Counts::open(&s, &jan, "192.0.2.41").await;
}

fn from_get(s: &Server, ip: &str, path: &str) -> reqwest::RequestBuilder {
    s.client.get(s.url(path)).header("x-forwarded-for", ip)
}

#[tokio::test]
async fn the_counts_follow_reports_filed_and_handled_on_the_callers_boards_only() {
    let s = Server::with_config(&config("")).await;
    let (root, jan, ulla) = team(&s).await;
    let op = thread_from(&s, "192.0.2.1", "t", "a thread").await;
    let spam = reply_from(&s, "192.0.2.2", "t", op, "buy now").await;
    let other = reply_from(&s, "192.0.2.2", "t", op, "buy again").await;
    let there = thread_from(&s, "192.0.2.3", "u", "elsewhere").await;

    let mut t = Counts::open(&s, &jan, "192.0.2.50").await;
    let mut u = Counts::open(&s, &ulla, "192.0.2.51").await;
    let mut all = Counts::open(&s, &root, "192.0.2.52").await;
    // The first event is the caller's counts as they are.
    assert_eq!(t.next().await, json!({"counts": {"t": 0}, "total": 0}));
    assert_eq!(u.next().await, json!({"counts": {"u": 0}, "total": 0}));
    assert_eq!(
        all.next().await,
        json!({"counts": {"t": 0, "u": 0}, "total": 0})
    );

    // A report on /t/ reaches /t/'s janitor and the admin.
    let r = report_from(&s, "198.51.100.1", "t", spam, json!({"category": "spam"})).await;
    assert_eq!(r.status, 201, "{}", r.json);
    assert_eq!(t.next().await, json!({"counts": {"t": 1}, "total": 1}));
    assert_eq!(
        all.next().await,
        json!({"counts": {"t": 1, "u": 0}, "total": 1})
    );
    // A second report of the same post changes no count, so nothing is sent for it; the next
    // event is the next post reported.
    report_from(&s, "198.51.100.2", "t", spam, json!({"category": "rule"})).await;
    report_from(&s, "198.51.100.1", "t", other, json!({"category": "spam"})).await;
    assert_eq!(t.next().await, json!({"counts": {"t": 2}, "total": 2}));

    // /u/'s janitor heard nothing of /t/: the first thing it sees is its own board's report.
    report_from(&s, "198.51.100.1", "u", there, json!({"category": "other"})).await;
    assert_eq!(u.next().await, json!({"counts": {"u": 1}, "total": 1}));

    // Handling lowers the count: a dismissal, then a deletion from the queue.
    let r = jan
        .post(
            &s,
            &format!("/api/boards/t/reports/{other}"),
            json!({"action": "dismiss"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(t.next().await, json!({"counts": {"t": 1}, "total": 1}));
    let r = jan
        .post(
            &s,
            &format!("/api/boards/t/reports/{spam}"),
            json!({"action": "delete", "reason": "Spam"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(t.next().await, json!({"counts": {"t": 0}, "total": 0}));

    // A reported post deleted some other way leaves the count too: here its thread goes.
    report_from(&s, "198.51.100.3", "t", op, json!({"category": "rule"})).await;
    assert_eq!(t.next().await, json!({"counts": {"t": 1}, "total": 1}));
    let r = root
        .post(
            &s,
            &format!("/api/boards/t/posts/{op}/staff-delete"),
            json!({"scope": "post"}),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(t.next().await, json!({"counts": {"t": 0}, "total": 0}));

    // The admin's stream saw every change, ending with /u/'s report still open.
    let mut last = all.next().await;
    while last != json!({"counts": {"t": 0, "u": 1}, "total": 1}) {
        last = all.next().await;
    }
}

#[tokio::test]
async fn the_counts_stream_ends_when_its_session_or_role_no_longer_stands() {
    let s = Server::with_config(&config("")).await;
    let (root, jan, ulla) = team(&s).await;
    let op = thread_from(&s, "192.0.2.1", "t", "a thread").await;
    let mut demoted = Counts::open(&s, &jan, "192.0.2.60").await;
    let mut logged_out = Counts::open(&s, &ulla, "192.0.2.61").await;
    let mut admin = Counts::open(&s, &root, "192.0.2.62").await;
    demoted.next().await;
    logged_out.next().await;
    admin.next().await;

    // jan is no longer /t/'s janitor, and ulla logs out; then a report changes /t/'s count.
    crate::admin_boards::appoint(&s, &root, "jan", "user", &[]).await;
    let r = ulla.post(&s, "/auth/logout", json!({})).await;
    assert_eq!(r.status, 200, "{}", r.json);
    report_from(&s, "198.51.100.1", "t", op, json!({"category": "spam"})).await;

    // Their streams end instead of telling them; the admin's goes on.
    demoted.ended().await;
    logged_out.ended().await;
    assert_eq!(
        admin.next().await,
        json!({"counts": {"t": 1, "u": 0}, "total": 1})
    );
    // Opening again goes through the access check.
    jan.get(&s, "/api/reports/live")
        .await
        .assert_error(403, "forbidden");
    ulla.get(&s, "/api/reports/live")
        .await
        .assert_error(403, "not_logged_in");
}

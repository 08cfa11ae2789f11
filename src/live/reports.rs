//! The staff stream of report counts: the writer flips a signal, each subscriber reads its own
//! boards' counts and sends them when they differ from what it sent last.
//!
//! The writer never waits for a subscriber and never builds anything per subscriber: its
//! listener bumps one `watch` value. A `watch` keeps only the newest value, so changes that
//! come while a subscriber is reading (or while its client is slow to take bytes) fold into one
//! read; a subscriber also reads at most once per [`MIN_GAP`], so a flood of reports costs each
//! subscriber a few reads a second at most. A client that stops reading stalls only its own
//! stream, which the connection's write deadline then ends.
//!
//! A stream rests on the session (or token) and the account it was opened with: each read, and
//! each heartbeat, checks that they still stand as they did, and the stream ends when they do
//! not (logged out, role or boards changed, account disabled). The browser then reconnects
//! through the gate, which decides afresh.

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, StreamBody};
use hyper::body::Frame;
use hyper::header::{HeaderValue, CACHE_CONTROL, CONTENT_TYPE};
use serde_json::json;
use tokio::sync::watch;
use tokio::time::{interval_at, sleep_until, Instant, Interval, Sleep};

use crate::app::App;
use crate::auth::{Caller, Role};
use crate::error::{ApiError, ApiResult, ErrorKind};
use crate::http::request::query;
use crate::http::slots::{Slot, RETRY_AFTER_SECS};
use crate::http::Response;
use crate::storage::Reader;

/// A comment line every this often keeps proxies and clients from timing the stream out.
const HEARTBEAT: Duration = Duration::from_secs(20);
/// The shortest time between two reads of one subscriber's counts.
const MIN_GAP: Duration = Duration::from_millis(250);

/// Bumped by the writer's listener whenever a board's count of reported posts may have
/// changed; every report stream holds a receiver.
pub struct ReportSignal {
    tx: watch::Sender<u64>,
}

impl Default for ReportSignal {
    fn default() -> Self {
        ReportSignal {
            tx: watch::channel(0).0,
        }
    }
}

impl ReportSignal {
    /// Marks the counts as changed; never blocks, whatever the subscribers do.
    pub fn bump(&self) {
        self.tx.send_modify(|n| *n = n.wrapping_add(1));
    }

    fn subscribe(&self) -> watch::Receiver<u64> {
        self.tx.subscribe()
    }
}

/// Posts with open reports per board the caller looks after, as `GET /api/reports/counts`
/// answers them.
type Counts = BTreeMap<String, u64>;

/// What a stream's right to exist rests on: the account's role, boards and state.
#[derive(Debug, PartialEq)]
struct Standing {
    role: Role,
    boards: Vec<String>,
    disabled: bool,
}

/// The caller's standing now, or `None` when its session or token has ended or its account is
/// gone.
fn standing(r: &Reader, caller: &Caller, now_ms: u64) -> ApiResult<Option<Standing>> {
    let key = &caller.session;
    let live = r.session(key)?.is_some_and(|s| s.expires_ms > now_ms)
        || r.token(key)?.is_some_and(|t| t.expires_ms > now_ms);
    if !live {
        return Ok(None);
    }
    Ok(r.account(&caller.username)?.map(|a| Standing {
        role: a.role,
        boards: a.boards,
        disabled: a.disabled,
    }))
}

struct State {
    app: Arc<App>,
    caller: Caller,
    changed: watch::Receiver<u64>,
    closing: watch::Receiver<bool>,
    heartbeat: Interval,
    lifetime: Pin<Box<Sleep>>,
    _slot: Slot,
    /// What this stream sent last; `None` before the first event.
    sent: Option<Counts>,
    /// The caller's standing when the stream first read; a change ends the stream.
    opened: Option<Standing>,
    /// When the counts were last read, for [`MIN_GAP`].
    read_at: Instant,
    /// The opening `retry` line is still to send.
    opening: bool,
}

/// `GET /api/reports/live` → `text/event-stream` of `counts` events, each
/// `{"counts":{board: n}, "total": n}` for the boards the caller looks after (as
/// `GET /api/reports/counts`): the first at once, then one whenever they change. Any staff
/// role; shares `max_streams_per_client` and `stream_max_secs` with `/api/live`.
pub async fn subscribe_counts(
    app: Arc<App>,
    raw_query: Option<&str>,
    caller: &Caller,
    client: IpAddr,
) -> ApiResult<Response> {
    query(raw_query, &[])?;
    let Some(slot) = app.live_streams.try_take(client) else {
        let message = format!(
            "This address already follows {} live streams, the most one client may; close one \
             or try again later.",
            app.config.max_streams_per_client
        );
        return Err(ApiError::new(ErrorKind::TooManyConnections, message)
            .with_retry_after(RETRY_AFTER_SECS));
    };
    // Subscribed before the first read, so a change committed in between is not missed.
    let mut changed = app.report_signal.subscribe();
    changed.mark_unchanged();
    let lifetime = Instant::now() + Duration::from_secs(app.config.stream_max_secs);
    let state = State {
        closing: app.live.closing.subscribe(),
        lifetime: Box::pin(sleep_until(lifetime)),
        heartbeat: interval_at(Instant::now() + HEARTBEAT, HEARTBEAT),
        _slot: slot,
        app,
        caller: caller.clone(),
        changed,
        sent: None,
        opened: None,
        read_at: Instant::now(),
        opening: true,
    };
    let stream = futures_util::stream::unfold(state, next);
    let mut response = Response::new(StreamBody::new(stream).boxed());
    let h = response.headers_mut();
    h.insert(CONTENT_TYPE, HeaderValue::from_static("text/event-stream"));
    h.insert(CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert("x-accel-buffering", HeaderValue::from_static("no"));
    Ok(response)
}

type Item = Result<Frame<Bytes>, std::io::Error>;

async fn next(mut state: State) -> Option<(Item, State)> {
    if state.opening {
        state.opening = false;
        return Some((
            Ok(Frame::data(Bytes::from_static(b"retry: 3000\n\n"))),
            state,
        ));
    }
    loop {
        if *state.closing.borrow() {
            return None;
        }
        if state.sent.is_some() {
            tokio::select! {
                changed = state.changed.changed() => if changed.is_err() { return None },
                _ = state.heartbeat.tick() => {
                    let caller = state.caller.clone();
                    let now = crate::auth::gate::now_ms();
                    let now_standing = match state.app.read(move |r| standing(r, &caller, now)).await {
                        Ok(standing) => standing,
                        Err(e) => return Some((Err(std::io::Error::other(e.message)), state)),
                    };
                    if now_standing.is_none() || now_standing != state.opened {
                        return None;
                    }
                    return Some((Ok(Frame::data(Bytes::from_static(b": heartbeat\n\n"))), state));
                }
                _ = state.closing.changed() => return None,
                () = state.lifetime.as_mut() => return None,
            }
            tokio::select! {
                () = tokio::time::sleep_until(state.read_at + MIN_GAP) => {}
                _ = state.closing.changed() => return None,
                () = state.lifetime.as_mut() => return None,
            }
            // Whatever changed during the wait is covered by the read below.
            state.changed.mark_unchanged();
        }
        state.read_at = Instant::now();
        let caller = state.caller.clone();
        let now = crate::auth::gate::now_ms();
        let read = state.app.read(move |r| {
            let standing = standing(r, &caller, now)?;
            let counts = match &standing {
                Some(_) => Some(crate::api::reports::caller_counts(r, &caller)?),
                None => None,
            };
            Ok((standing, counts))
        });
        let (now_standing, counts) = match read.await {
            Ok((Some(standing), Some(counts))) => (standing, counts),
            Ok(_) => return None,
            Err(e) => return Some((Err(std::io::Error::other(e.message)), state)),
        };
        match &state.opened {
            None => state.opened = Some(now_standing),
            Some(opened) if *opened != now_standing => return None,
            Some(_) => {}
        }
        if state.sent.as_ref() != Some(&counts) {
            let bytes = frame(&counts);
            state.sent = Some(counts);
            return Some((Ok(Frame::data(bytes)), state));
        }
    }
}

/// One `counts` message: the event name and one `data` line.
fn frame(counts: &Counts) -> Bytes {
    let total: u64 = counts.values().sum();
    let data = json!({ "counts": counts, "total": total });
    Bytes::from(format!("event: counts\ndata: {data}\n\n"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_counts_message_is_one_event_with_the_total() {
        let cases: [(&[(&str, u64)], &str); 3] = [
            (&[], "event: counts\ndata: {\"counts\":{},\"total\":0}\n\n"),
            (
                &[("t", 2)],
                "event: counts\ndata: {\"counts\":{\"t\":2},\"total\":2}\n\n",
            ),
            (
                &[("u", 0), ("t", 3)],
                "event: counts\ndata: {\"counts\":{\"t\":3,\"u\":0},\"total\":3}\n\n",
            ),
        ];
        for (counts, expected) in cases {
            let counts: Counts = counts.iter().map(|(b, n)| ((*b).to_owned(), *n)).collect();
            assert_eq!(std::str::from_utf8(&frame(&counts)).unwrap(), expected);
        }
    }

    #[test]
    fn bumps_fold_into_one_change_for_a_subscriber() {
        let signal = ReportSignal::default();
        let mut rx = signal.subscribe();
        rx.mark_unchanged();
        assert!(!rx.has_changed().unwrap());
        for _ in 0..1000 {
            signal.bump();
        }
        assert!(rx.has_changed().unwrap());
        rx.mark_unchanged();
        assert!(!rx.has_changed().unwrap(), "a thousand bumps, one read");
    }
}
